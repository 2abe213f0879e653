// SPDX-License-Identifier: MIT
//
// Unit tests for CSpace addressing: resolve_slot and resolve_cap called directly on CSpaces of
// one, two and three levels (made by retyping CNodes and minting guards), and the same lookups
// reached through invocations. Every error of cspace.hpp is provoked at the level where it
// arises, and guards are tried at both extremes (none, and radix + guard_bits == 64).
#include "object/cspace.hpp"

#include "../support/arena.hpp"
#include "../support/catch_status.hpp"
#include "object/cnode.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

namespace {

using abi::CapType;
using abi::Label;
using abi::ObjectType;
using abi::Rights;
using abi::Status;
using keel::test::TestSystem;
using kernel::Cap;
using kernel::Slot;

constexpr uint64_t kRoot = abi::kSlotInitCNode;
constexpr uint8_t kAll = Rights::kAllBits;

// The error of a resolution, or kOk when it found a slot.
template <typename R>
Status status_of(const R& r) {
  return r ? Status::kOk : r.error();
}

Slot* slot_in(const Cap& cnode, uint64_t index) {
  return &kernel::cnode_slots(cnode)[index];
}

// A three-level CSpace hanging off the root CNode:
//   L1 (radix 4) reached through a copy with an 8-bit guard 0x2A, consuming 12 bits;
//   L2 (radix 6) in L1 slot 7 with a 3-bit guard 5, consuming 9 bits;
//   L3 (radix 8) in L2 slot 33 without a guard, consuming 8 bits;
//   an endpoint in L3 slot 200 and one in L1 slot 3.
// `p1`, `p2` and `p3` are the cptrs of L1 slot 7, L2 slot 33 and L3 slot 200 at depths 12, 21
// and 29 relative to the guarded L1 capability in root slot `l1_guarded`.
struct ThreeLevels {
  uint64_t ut = 0;
  uint64_t l1 = 0;
  uint64_t l2 = 0;
  uint64_t l3 = 0;
  uint64_t l1_guarded = 0;
  uint64_t ep = 0;
  static constexpr uint64_t p1 = 0x2A << 4 | 7;
  static constexpr uint64_t p2 = p1 << 9 | 5 << 6 | 33;
  static constexpr uint64_t p3 = p2 << 8 | 200;

  explicit ThreeLevels(TestSystem& sys) {
    ut = sys.ram_untyped(20);
    l1 = sys.next_free();
    l2 = sys.next_free();
    l3 = sys.next_free();
    l1_guarded = sys.next_free();
    ep = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 4, l1) == Status::kOk);
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 6, l2) == Status::kOk);
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 8, l3) == Status::kOk);
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, ep) == Status::kOk);
    REQUIRE(sys.mint(l1_guarded, l1, kAll, abi::cnode_guard_data(0x2A, 8)) == Status::kOk);
    // L2 goes into L1 through the guarded capability, which is how a user would address it.
    REQUIRE(sys.invoke(l1_guarded, Label::kCNodeMint,
                       {p1, 12, kRoot, l2, 64, kAll, abi::cnode_guard_data(5, 3)})
                .status == Status::kOk);
    REQUIRE(sys.invoke(l1_guarded, Label::kCNodeCopy, {p2, 21, kRoot, l3, 64, kAll}).status ==
            Status::kOk);
    // The deepest endpoint is made in place: retype's (root, index, depth) names L3 via L1 and L2.
    REQUIRE(sys.invoke(ut, Label::kUntypedRetype,
                       {uint64_t(ObjectType::kEndpoint), 0, l1_guarded, p2, 21, 200, 1})
                .status == Status::kOk);
    REQUIRE(sys.invoke(l1_guarded, Label::kCNodeCopy, {0x2A << 4 | 3, 12, kRoot, ep, 64, kAll})
                .status == Status::kOk);
    REQUIRE(sys.check_invariants() == nullptr);
  }

  static Cap cap(TestSystem& sys, uint64_t slot) { return sys.slot(slot)->cap; }
};

TEST_CASE("cspace: single-level lookups in the root CNode", "[cspace]") {
  TestSystem sys;
  const Cap& root = sys.root();
  REQUIRE(root.cnode_radix() == sys.info().root_cnode_radix);
  REQUIRE(root.cnode_guard_bits() + root.cnode_radix() == 64);

  SECTION("a slot number is a cptr of depth 64") {
    for (uint64_t i : {uint64_t{0}, uint64_t{kRoot}, uint64_t{17}, sys.slot_count() - 1}) {
      auto r = kernel::resolve_slot(root, i, 64);
      REQUIRE(r);
      CHECK(r.value() == sys.slot(i));
      auto c = kernel::resolve_cap(root, i);
      REQUIRE(c);
      CHECK(c.value() == sys.slot(i));
    }
  }

  SECTION("resolve_slot returns empty slots, resolve_cap too when no bits are left") {
    uint64_t free_slot = sys.next_free();
    REQUIRE(sys.slot(free_slot)->empty());
    auto r = kernel::resolve_slot(root, free_slot, 64);
    REQUIRE(r);
    CHECK(r.value() == sys.slot(free_slot));
    auto c = kernel::resolve_cap(root, free_slot);
    REQUIRE(c);
    CHECK(c.value()->empty());
  }

  SECTION("depth outside 1..64 is a depth mismatch") {
    CHECK(status_of(kernel::resolve_slot(root, 5, 0)) == Status::kDepthMismatch);
    CHECK(status_of(kernel::resolve_slot(root, 5, 65)) == Status::kDepthMismatch);
    CHECK(status_of(kernel::resolve_slot(root, 5, ~uint64_t{0})) == Status::kDepthMismatch);
  }

  SECTION("a depth smaller than guard plus radix is a depth mismatch") {
    CHECK(status_of(kernel::resolve_slot(root, 5, 63)) == Status::kDepthMismatch);
    CHECK(status_of(kernel::resolve_slot(root, 5, 12)) == Status::kDepthMismatch);
    CHECK(status_of(kernel::resolve_slot(root, 5, 1)) == Status::kDepthMismatch);
  }

  SECTION("any bit above the radix breaks the root's zero guard") {
    for (uint64_t bit = root.cnode_radix(); bit < 64; ++bit) {
      INFO("bit " << bit);
      CHECK(status_of(kernel::resolve_slot(root, uint64_t{1} << bit | 5, 64)) ==
            Status::kGuardMismatch);
      CHECK(status_of(kernel::resolve_cap(root, uint64_t{1} << bit | 5)) == Status::kGuardMismatch);
    }
  }

  SECTION("a root that is not a CNode is an invalid capability") {
    uint64_t ut = sys.ram_untyped(20);
    uint64_t ep = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, ep) == Status::kOk);
    for (const Cap& bad : {sys.slot(ep)->cap, sys.slot(ut)->cap, Cap()}) {
      CHECK(status_of(kernel::resolve_slot(bad, 0, 64)) == Status::kInvalidCapability);
      CHECK(status_of(kernel::resolve_cap(bad, 0)) == Status::kInvalidCapability);
    }
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("cspace: three-level CSpace resolved directly", "[cspace]") {
  TestSystem sys;
  ThreeLevels t(sys);
  const Cap l1g = ThreeLevels::cap(sys, t.l1_guarded);
  const Cap l1 = ThreeLevels::cap(sys, t.l1);
  const Cap l2 = ThreeLevels::cap(sys, t.l2);
  const Cap l3 = ThreeLevels::cap(sys, t.l3);
  REQUIRE(l1g.cnode_guard_bits() == 8);
  REQUIRE(l1g.cnode_guard() == 0x2A);
  Slot* l1_slot7 = slot_in(l1, 7);
  Slot* l2_slot33 = slot_in(l2, 33);
  Slot* l3_slot200 = slot_in(l3, 200);
  REQUIRE(l1_slot7->cap.type() == CapType::kCNode);
  REQUIRE(l1_slot7->cap.cnode_guard_bits() == 3);
  REQUIRE(l2_slot33->cap.type() == CapType::kCNode);
  REQUIRE(l3_slot200->cap.type() == CapType::kEndpoint);

  SECTION("exact depths stop at each level, even on a CNode capability") {
    auto a = kernel::resolve_slot(l1g, t.p1, 12);
    REQUIRE(a);
    CHECK(a.value() == l1_slot7);
    auto b = kernel::resolve_slot(l1g, t.p2, 21);
    REQUIRE(b);
    CHECK(b.value() == l2_slot33);
    auto c = kernel::resolve_slot(l1g, t.p3, 29);
    REQUIRE(c);
    CHECK(c.value() == l3_slot200);
    // Bits above the depth are ignored.
    auto d = kernel::resolve_slot(l1g, t.p3 | ~uint64_t{0} << 29, 29);
    REQUIRE(d);
    CHECK(d.value() == l3_slot200);
  }

  SECTION("every slot of the last level is reachable, empty ones included") {
    for (uint64_t i = 0; i < 256; ++i) {
      auto r = kernel::resolve_slot(l1g, t.p2 << 8 | i, 29);
      REQUIRE(r);
      CHECK(r.value() == slot_in(l3, i));
    }
  }

  SECTION("the unguarded original capability addresses L1 with 4 bits") {
    auto r = kernel::resolve_slot(l1, 7 << 9 | 5 << 6 | 33, 13);
    REQUIRE(r);
    CHECK(r.value() == l2_slot33);
    // Through the unguarded original the guard's top bits are read as an index instead (2: an
    // empty slot of L1).
    CHECK(status_of(kernel::resolve_slot(l1, t.p2, 21)) == Status::kEmptySlot);
  }

  SECTION("guard mismatches at the first and second level") {
    CHECK(status_of(kernel::resolve_slot(l1g, t.p3 ^ uint64_t{1} << 28, 29)) ==
          Status::kGuardMismatch);
    CHECK(status_of(kernel::resolve_slot(l1g, t.p3 ^ uint64_t{1} << 21, 29)) ==
          Status::kGuardMismatch);
    // L2's guard is 3 bits at [14, 17) of p3.
    for (uint64_t bit = 14; bit < 17; ++bit) {
      CHECK(status_of(kernel::resolve_slot(l1g, t.p3 ^ uint64_t{1} << bit, 29)) ==
            Status::kGuardMismatch);
    }
    // A guard mismatch is found even when the depth would only reach the guard's CNode.
    CHECK(status_of(kernel::resolve_slot(l1g, t.p1 ^ 0x80, 12)) == Status::kGuardMismatch);
  }

  SECTION("depth mismatches: too few bits for the next CNode") {
    CHECK(status_of(kernel::resolve_slot(l1g, t.p1, 11)) == Status::kDepthMismatch);
    // 18 bits: L1 takes 12, L2 needs 9 but only 6 are left.
    CHECK(status_of(kernel::resolve_slot(l1g, t.p2 >> 3, 18)) == Status::kDepthMismatch);
    // 26 bits: L1 and L2 take 21, L3 needs 8 but only 5 are left.
    CHECK(status_of(kernel::resolve_slot(l1g, t.p3 >> 3, 26)) == Status::kDepthMismatch);
  }

  SECTION("depth mismatch: bits left at a slot that is not a CNode") {
    CHECK(status_of(kernel::resolve_slot(l1g, t.p3 << 4, 33)) == Status::kDepthMismatch);
    CHECK(status_of(kernel::resolve_slot(l1g, (0x2A << 4 | 3) << 20, 32)) ==
          Status::kDepthMismatch);
  }

  SECTION("empty slot: bits left at an empty slot") {
    CHECK(status_of(kernel::resolve_slot(l1g, (0x2A << 4 | 8) << 4, 16)) == Status::kEmptySlot);
    CHECK(status_of(kernel::resolve_slot(l1g, (t.p3 + 1) << 1, 30)) == Status::kEmptySlot);
  }

  SECTION("resolve_cap stops at the first capability that is not a CNode") {
    // 29 bits of path at the top of the cptr; whatever follows is ignored.
    for (uint64_t low : {uint64_t{0}, uint64_t{1}, (uint64_t{1} << 35) - 1}) {
      auto r = kernel::resolve_cap(l1g, t.p3 << 35 | low);
      REQUIRE(r);
      CHECK(r.value() == l3_slot200);
    }
    auto shallow = kernel::resolve_cap(l1g, uint64_t{0x2A << 4 | 3} << 52 | 0xABCDEF);
    REQUIRE(shallow);
    CHECK(shallow.value()->cap.type() == CapType::kEndpoint);
    CHECK(shallow.value() == slot_in(l1, 3));
    // An empty slot with bits left is an error for resolve_cap as well.
    CHECK(status_of(kernel::resolve_cap(l1g, (t.p3 + 1) << 35)) == Status::kEmptySlot);
    CHECK(status_of(kernel::resolve_cap(l1g, (t.p3 ^ 1 << 16) << 35)) == Status::kGuardMismatch);
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("cspace: resolve_cap needs every CNode on the way to fit the bits left", "[cspace]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(20);
  uint64_t outer = sys.next_free();
  uint64_t inner = sys.next_free();
  uint64_t outer_g = sys.next_free();
  REQUIRE(sys.retype(ut, ObjectType::kCNode, 4, outer) == Status::kOk);
  REQUIRE(sys.retype(ut, ObjectType::kCNode, 6, inner) == Status::kOk);
  // outer consumes 4 + 8 = 12 bits; inner with a 52-bit guard would need 58 of the 52 left.
  REQUIRE(sys.mint(outer_g, outer, kAll, abi::cnode_guard_data(0, 8)) == Status::kOk);
  REQUIRE(sys.invoke(outer_g, Label::kCNodeMint,
                     {1, 12, kRoot, inner, 64, kAll, abi::cnode_guard_data(0, 52)})
              .status == Status::kOk);
  const Cap og = sys.slot(outer_g)->cap;
  CHECK(status_of(kernel::resolve_cap(og, uint64_t{1} << 52)) == Status::kDepthMismatch);
  // With exactly 12 bits the CNode capability itself is the answer.
  auto r = kernel::resolve_slot(og, 1, 12);
  REQUIRE(r);
  CHECK(r.value()->cap.type() == CapType::kCNode);
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("cspace: guards of zero and of maximal size", "[cspace]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(22);

  SECTION("a 12-bit CNode with the largest guard, 52 bits all ones") {
    uint64_t cn = sys.next_free();
    uint64_t g = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 12, cn) == Status::kOk);
    const uint64_t guard = (uint64_t{1} << 52) - 1;
    REQUIRE(sys.mint(g, cn, kAll, abi::cnode_guard_data(guard, 52)) == Status::kOk);
    const Cap cap = sys.slot(g)->cap;
    REQUIRE(cap.cnode_guard_bits() == 52);
    REQUIRE(cap.cnode_guard() == guard);
    const uint64_t cptr = guard << 12 | 77;
    auto r = kernel::resolve_slot(cap, cptr, 64);
    REQUIRE(r);
    CHECK(r.value() == slot_in(cap, 77));
    auto c = kernel::resolve_cap(cap, cptr);
    REQUIRE(c);
    CHECK(c.value() == slot_in(cap, 77));
    CHECK(status_of(kernel::resolve_slot(cap, cptr ^ uint64_t{1} << 12, 64)) ==
          Status::kGuardMismatch);
    CHECK(status_of(kernel::resolve_slot(cap, cptr ^ uint64_t{1} << 63, 64)) ==
          Status::kGuardMismatch);
    CHECK(status_of(kernel::resolve_slot(cap, cptr >> 1, 63)) == Status::kDepthMismatch);
    // Through an invocation: describe slot 77 of it by the full 64-bit cptr.
    auto d = sys.invoke(g, Label::kCNodeDescribe, {cptr, 64});
    REQUIRE(d.ok());
    CHECK(d.words[0] == uint64_t(CapType::kNull));
  }

  SECTION("a 16-bit CNode with a 48-bit guard fills 64 bits too") {
    uint64_t cn = sys.next_free();
    uint64_t g = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 16, cn) == Status::kOk);
    const uint64_t guard = 0x8000'0000'0001;
    REQUIRE(sys.mint(g, cn, kAll, abi::cnode_guard_data(guard, 48)) == Status::kOk);
    const Cap cap = sys.slot(g)->cap;
    auto r = kernel::resolve_slot(cap, guard << 16 | 0xFFFF, 64);
    REQUIRE(r);
    CHECK(r.value() == slot_in(cap, 0xFFFF));
    CHECK(status_of(kernel::resolve_slot(cap, 0xFFFF, 64)) == Status::kGuardMismatch);
  }

  SECTION("guard bits of zero value still consume bits") {
    uint64_t cn = sys.next_free();
    uint64_t g = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 3, cn) == Status::kOk);
    REQUIRE(sys.mint(g, cn, kAll, abi::cnode_guard_data(0, 5)) == Status::kOk);
    const Cap cap = sys.slot(g)->cap;
    auto r = kernel::resolve_slot(cap, 6, 8);
    REQUIRE(r);
    CHECK(r.value() == slot_in(cap, 6));
    CHECK(status_of(kernel::resolve_slot(cap, 1 << 7 | 6, 8)) == Status::kGuardMismatch);
    CHECK(status_of(kernel::resolve_slot(cap, 6, 3)) == Status::kDepthMismatch);
    // The original has no guard: 3 bits reach the same slot.
    auto o = kernel::resolve_slot(sys.slot(cn)->cap, 6, 3);
    REQUIRE(o);
    CHECK(o.value() == slot_in(cap, 6));
  }

  SECTION("a guard of zero bits: chains of unguarded CNodes") {
    uint64_t a = sys.next_free();
    uint64_t b = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 2, a) == Status::kOk);
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 2, b) == Status::kOk);
    REQUIRE(sys.invoke(a, Label::kCNodeCopy, {1, 2, kRoot, b, 64, kAll}).status == Status::kOk);
    REQUIRE(sys.invoke(b, Label::kCNodeCopy, {2, 2, kRoot, a, 64, kAll}).status == Status::kOk);
    // a[1] -> b, b[2] -> a: a cyclic CSpace resolves as far as the depth says.
    const Cap ca = sys.slot(a)->cap;
    auto r = kernel::resolve_slot(ca, 0b01'10'01'10'11, 10);
    REQUIRE(r);
    CHECK(r.value() == slot_in(ca, 3));
    // resolve_cap keeps going round the cycle until the 64 bits run out.
    auto c = kernel::resolve_cap(ca, 0x6666'6666'6666'6666);
    REQUIRE(c);
    CHECK(c.value() == slot_in(sys.slot(b)->cap, 2));
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("cspace: lookups through invocations", "[cspace]") {
  TestSystem sys;
  ThreeLevels t(sys);

  SECTION("describe at each depth below a guarded CNode") {
    auto a = sys.invoke(t.l1_guarded, Label::kCNodeDescribe, {t.p1, 12});
    REQUIRE(a.ok());
    CHECK(a.words[0] == uint64_t(CapType::kCNode));
    CHECK(a.words[2] == sys.slot(t.l2)->cap.object());
    auto b = sys.invoke(t.l1_guarded, Label::kCNodeDescribe, {t.p3, 29});
    REQUIRE(b.ok());
    CHECK(b.words[0] == uint64_t(CapType::kEndpoint));
  }

  SECTION("describe reports each lookup error") {
    auto st = [&](uint64_t index, uint64_t depth) {
      return sys.invoke(t.l1_guarded, Label::kCNodeDescribe, {index, depth}).status;
    };
    CHECK(st(t.p3, 0) == Status::kDepthMismatch);
    CHECK(st(t.p3, 65) == Status::kDepthMismatch);
    CHECK(st(t.p3, 11) == Status::kDepthMismatch);
    CHECK(st(t.p3 << 1, 30) == Status::kDepthMismatch);
    CHECK(st(t.p3 ^ uint64_t{1} << 28, 29) == Status::kGuardMismatch);
    CHECK(st((t.p3 + 1) << 1, 30) == Status::kEmptySlot);
  }

  SECTION("a copy reaches its source through src_root, index and depth") {
    uint64_t dest = sys.next_free();
    REQUIRE(sys.invoke(kRoot, Label::kCNodeCopy, {dest, 64, t.l1_guarded, t.p3, 29, Rights::kRead})
                .status == Status::kOk);
    CHECK(sys.slot(dest)->cap.type() == CapType::kEndpoint);
    CHECK(sys.slot(dest)->cap.object() == slot_in(sys.slot(t.l3)->cap, 200)->cap.object());
    CHECK(sys.slot(dest)->cap.rights() == Rights{Rights::kRead});
    REQUIRE(sys.check_invariants() == nullptr);
  }

  SECTION("cptr arguments are resolved with 64 bits from the caller's root") {
    uint64_t dest = sys.next_free();
    // src_root names an endpoint, an empty slot, and a cptr that breaks the root's guard.
    CHECK(sys.invoke(kRoot, Label::kCNodeCopy, {dest, 64, t.ep, 0, 64, kAll}).status ==
          Status::kInvalidCapability);
    CHECK(sys.invoke(kRoot, Label::kCNodeCopy, {dest, 64, sys.next_free(), 0, 64, kAll}).status ==
          Status::kEmptySlot);
    CHECK(
        sys.invoke(kRoot, Label::kCNodeCopy, {dest, 64, kRoot | uint64_t{1} << 40, t.ep, 64, kAll})
            .status == Status::kGuardMismatch);
    CHECK(sys.slot(dest)->empty());
  }

  SECTION("the invoked cptr itself is looked up the same way") {
    CHECK(sys.invoke(kRoot | uint64_t{1} << 63, Label::kCNodeDescribe, {0, 64}).status ==
          Status::kGuardMismatch);
    CHECK(sys.invoke(sys.next_free(), Label::kCNodeDescribe, {0, 64}).status == Status::kEmptySlot);
  }

  SECTION("the destination of a copy is resolved exactly") {
    uint64_t deep_empty = t.p2 << 8 | 201;
    CHECK(sys.invoke(t.l1_guarded, Label::kCNodeCopy, {deep_empty >> 1, 28, kRoot, t.ep, 64, kAll})
              .status == Status::kDepthMismatch);
    REQUIRE(sys.invoke(t.l1_guarded, Label::kCNodeCopy, {deep_empty, 29, kRoot, t.ep, 64, kAll})
                .status == Status::kOk);
    CHECK(slot_in(sys.slot(t.l3)->cap, 201)->cap.type() == CapType::kEndpoint);
    REQUIRE(sys.check_invariants() == nullptr);
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

}  // namespace
