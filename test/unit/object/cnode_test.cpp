// SPDX-License-Identifier: MIT
//
// Unit tests for the CNode invocations (copy, mint, move, mutate, delete, revoke, describe):
// each success path and each documented error, the derivation rules (rights only shrink, a badge
// is set once, moves keep their place in the tree), what revoking badged and unbadged endpoint
// capabilities reaches, how deleting the last capability destroys an object (including CNodes
// and TCBs holding capabilities), deep, wide and cyclic structures.
#include "object/cnode.hpp"

#include "../support/arch_stub.hpp"
#include "../support/arena.hpp"
#include "../support/catch_status.hpp"
#include "mem/phys.hpp"
#include "object/endpoint.hpp"
#include "object/mdb.hpp"
#include "object/tcb.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using abi::CapType;
using abi::Label;
using abi::ObjectType;
using abi::Rights;
using abi::Status;
using keel::test::arch_log;
using keel::test::TestSystem;
using kernel::Cap;
using kernel::PhysAddr;
using kernel::Slot;

constexpr uint64_t kRoot = abi::kSlotInitCNode;
constexpr uint8_t kAll = Rights::kAllBits;
constexpr uint8_t kR = Rights::kRead;
constexpr uint8_t kW = Rights::kWrite;
constexpr uint8_t kG = Rights::kGrant;

struct Desc {
  CapType type;
  uint8_t rights;
  PhysAddr object;
  uint64_t word1;
};

// CNodeDescribe of (index, depth) below the CNode at cptr `cnode`.
Desc describe(TestSystem& sys, uint64_t index, uint64_t cnode = kRoot, uint64_t depth = 64) {
  auto r = sys.invoke(cnode, Label::kCNodeDescribe, {index, depth});
  REQUIRE(r.ok());
  REQUIRE(r.words.size() == 5);
  return {static_cast<CapType>(r.words[0]), static_cast<uint8_t>(r.words[1]), r.words[2],
          r.words[3]};
}

// A test system with one large RAM untyped to make objects from.
struct Fixture {
  TestSystem sys;
  uint64_t ut;

  Fixture() : ut(sys.ram_untyped(20)) { arch_log().clear(); }

  uint64_t make(ObjectType type, uint64_t size_bits = 0) {
    uint64_t s = sys.next_free();
    REQUIRE(sys.retype(ut, type, size_bits, s) == Status::kOk);
    return s;
  }
  // `count` consecutive free root slots.
  uint64_t slots(uint64_t count) {
    uint64_t first = sys.next_free();
    for (uint64_t i = 1; i < count; ++i) {
      sys.next_free();
    }
    return first;
  }
  Cap& cap(uint64_t slot) { return sys.slot(slot)->cap; }
  bool empty(uint64_t slot) { return sys.slot(slot)->empty(); }
  bool has_children(uint64_t slot) { return kernel::has_children(*sys.slot(slot)); }
  const char* invariants() { return sys.check_invariants(); }
};

kernel::Endpoint* endpoint_at(const Cap& cap) {
  return kernel::mem::phys_to<kernel::Endpoint>(cap.object());
}

kernel::Tcb* tcb_at(const Cap& cap) {
  return kernel::mem::phys_to<kernel::Tcb>(cap.object());
}

Slot* cnode_slot(const Cap& cnode, uint64_t index) {
  return &kernel::cnode_slots(cnode)[index];
}

// --- copy ---------------------------------------------------------------------------------------

TEST_CASE("cnode copy: same object, masked rights", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t c = f.sys.next_free();
  REQUIRE(f.sys.copy(c, ep) == Status::kOk);
  Desc d = describe(f.sys, c);
  CHECK(d.type == CapType::kEndpoint);
  CHECK(d.rights == kAll);
  CHECK(d.object == f.cap(ep).object());
  CHECK(d.word1 == 0);
  CHECK(f.has_children(ep));
  REQUIRE(f.invariants() == nullptr);

  SECTION("rights only shrink along a chain of copies") {
    uint64_t a = f.sys.next_free();
    uint64_t b = f.sys.next_free();
    uint64_t e = f.sys.next_free();
    REQUIRE(f.sys.copy(a, ep, kR | kW) == Status::kOk);
    REQUIRE(f.sys.copy(b, a, kAll) == Status::kOk);
    CHECK(describe(f.sys, b).rights == (kR | kW));
    REQUIRE(f.sys.copy(e, b, kW | kG) == Status::kOk);
    CHECK(describe(f.sys, e).rights == kW);
    uint64_t none = f.sys.next_free();
    REQUIRE(f.sys.copy(none, e, kR) == Status::kOk);
    CHECK(describe(f.sys, none).rights == 0);
  }

  SECTION("a read-only boot-info frame stays read-only") {
    uint64_t fr = f.sys.next_free();
    REQUIRE(f.sys.copy(fr, abi::kSlotBootInfoFrame, kAll) == Status::kOk);
    CHECK(describe(f.sys, fr).rights == kR);
    CHECK(describe(f.sys, fr).type == CapType::kFrame);
  }

  SECTION("rights bits beyond 0x1F are invalid arguments") {
    uint64_t d2 = f.sys.next_free();
    for (uint64_t bad : {uint64_t{0x20}, uint64_t{0x3F}, uint64_t{0xFF}, uint64_t{1} << 40}) {
      CHECK(f.sys.invoke(kRoot, Label::kCNodeCopy, {d2, 64, kRoot, ep, 64, bad}).status ==
            Status::kInvalidArgument);
      CHECK(f.sys.invoke(kRoot, Label::kCNodeMint, {d2, 64, kRoot, ep, 64, bad, 1}).status ==
            Status::kInvalidArgument);
    }
    CHECK(f.empty(d2));
  }
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode copy: objects that can and cannot be copied", "[cnode]") {
  Fixture f;
  uint64_t dest = f.sys.next_free();

  SECTION("TCB, CNode, frames and control capabilities copy") {
    for (uint64_t src :
         {f.make(ObjectType::kTcb), f.make(ObjectType::kCNode, 2), f.make(ObjectType::kFrame4K),
          f.make(ObjectType::kFrame2M), uint64_t{abi::kSlotAsidControl},
          uint64_t{abi::kSlotIrqControl}, uint64_t{abi::kSlotIoPortControl}}) {
      INFO("source slot " << src << " type " << abi::cap_type_name(f.cap(src).type()));
      REQUIRE(f.sys.copy(dest, src) == Status::kOk);
      CHECK(f.cap(dest) == f.cap(src));
      REQUIRE(f.invariants() == nullptr);
      REQUIRE(f.sys.del(dest) == Status::kOk);
    }
  }

  SECTION("a PML4 without an ASID cannot be copied (asid_test covers assigned ones)") {
    CHECK(f.sys.copy(dest, f.make(ObjectType::kPml4)) == Status::kIllegalOperation);
    CHECK(f.empty(dest));
  }

  SECTION("an untyped cannot be copied or minted") {
    CHECK(f.sys.copy(dest, f.ut) == Status::kIllegalOperation);
    CHECK(f.sys.mint(dest, f.ut, kAll, 0) == Status::kIllegalOperation);
    CHECK(f.empty(dest));
  }

  SECTION("unmapped page tables, directories and PDPTs cannot be copied") {
    for (ObjectType t : {ObjectType::kPageTable, ObjectType::kPageDirectory, ObjectType::kPdpt}) {
      uint64_t src = f.make(t);
      CHECK(f.sys.copy(dest, src) == Status::kIllegalOperation);
      CHECK(f.sys.mint(dest, src, kAll, 0) == Status::kIllegalOperation);
      CHECK(f.empty(dest));
    }
  }

  SECTION("a mapped page table copies with its mapping") {
    uint64_t pt = f.make(ObjectType::kPageTable);
    // The mapping itself is vspace_test's business: record one the way the map invocation
    // would (under an ASID that names no address space, so nothing is unmapped).
    f.cap(pt) = f.cap(pt).with_mapping(7, 1, 0x40000000);
    REQUIRE(f.sys.copy(dest, pt) == Status::kOk);
    CHECK(f.cap(dest).is_mapped());
    CHECK(f.cap(dest).mapped_vaddr() == 0x40000000);
    REQUIRE(f.sys.del(pt) == Status::kOk);
    REQUIRE(f.sys.del(dest) == Status::kOk);
    REQUIRE(f.invariants() == nullptr);
  }

  SECTION("a frame copy starts unmapped") {
    uint64_t fr = f.make(ObjectType::kFrame4K);
    f.cap(fr) = f.cap(fr).with_mapping(3, 1, 0x7000);
    REQUIRE(f.sys.copy(dest, fr) == Status::kOk);
    CHECK_FALSE(f.cap(dest).is_mapped());
    CHECK((describe(f.sys, dest).word1 & 8) == 0);
    CHECK(f.cap(fr).is_mapped());
    REQUIRE(f.sys.del(fr) == Status::kOk);
    REQUIRE(f.sys.del(dest) == Status::kOk);
    REQUIRE(f.invariants() == nullptr);
  }

  SECTION("a reply capability cannot be copied") {
    uint64_t tcb = f.make(ObjectType::kTcb);
    kernel::Tcb* t = tcb_at(f.cap(tcb));
    uint64_t reply = f.sys.next_free();
    // Replies are made by Call, which is not part of this layer: derive one the way it would.
    kernel::mdb_insert_derived(&t->slots[kernel::kTcbReplySlot], f.sys.slot(reply),
                               Cap::reply(f.cap(tcb).object(), false, true));
    REQUIRE(f.invariants() == nullptr);
    CHECK(f.sys.copy(dest, reply) == Status::kIllegalOperation);
    CHECK(f.sys.mint(dest, reply, kAll, 0) == Status::kIllegalOperation);
    CHECK(f.empty(dest));
    // Destroying the thread takes the reply capability with it.
    REQUIRE(f.sys.del(tcb) == Status::kOk);
    CHECK(f.empty(reply));
  }
  REQUIRE(f.invariants() == nullptr);
}

// --- mint ---------------------------------------------------------------------------------------

TEST_CASE("cnode mint: badges", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t b = f.sys.next_free();
  REQUIRE(f.sys.mint(b, ep, kR | kW, 0xBADE) == Status::kOk);
  Desc d = describe(f.sys, b);
  CHECK(d.type == CapType::kEndpoint);
  CHECK(d.rights == (kR | kW));
  CHECK(d.object == f.cap(ep).object());
  CHECK(d.word1 == 0xBADE);
  REQUIRE(f.invariants() == nullptr);

  SECTION("a badge is set once") {
    uint64_t again = f.sys.next_free();
    CHECK(f.sys.mint(again, b, kAll, 0x1234) == Status::kIllegalOperation);
    CHECK(f.sys.mint(again, b, kAll, 0xBADE) == Status::kIllegalOperation);
    CHECK(f.empty(again));
  }

  SECTION("minting with badge 0 is a plain copy") {
    uint64_t plain_badged = f.sys.next_free();
    REQUIRE(f.sys.mint(plain_badged, b, kAll, 0) == Status::kOk);
    CHECK(describe(f.sys, plain_badged).word1 == 0xBADE);
    CHECK(describe(f.sys, plain_badged).rights == (kR | kW));
    uint64_t plain = f.sys.next_free();
    REQUIRE(f.sys.mint(plain, ep, kR, 0) == Status::kOk);
    CHECK(describe(f.sys, plain).word1 == 0);
    // As a plain copy it is no parent: a copy of it survives its revocation.
    uint64_t child = f.sys.next_free();
    REQUIRE(f.sys.copy(child, plain) == Status::kOk);
    REQUIRE(f.sys.revoke(plain) == Status::kOk);
    CHECK_FALSE(f.empty(child));
    // The badged parent owns the badge-0 mint of its own capability.
    REQUIRE(f.sys.revoke(b) == Status::kOk);
    CHECK(f.empty(plain_badged));
    CHECK_FALSE(f.empty(plain));
  }

  SECTION("an unbadged copy can be badged") {
    uint64_t c = f.sys.next_free();
    uint64_t b2 = f.sys.next_free();
    REQUIRE(f.sys.copy(c, ep, kR) == Status::kOk);
    REQUIRE(f.sys.mint(b2, c, kAll, 77) == Status::kOk);
    CHECK(describe(f.sys, b2).word1 == 77);
    CHECK(describe(f.sys, b2).rights == kR);
  }

  SECTION("the largest badge") {
    uint64_t big = f.sys.next_free();
    REQUIRE(f.sys.mint(big, ep, kAll, ~uint64_t{0}) == Status::kOk);
    CHECK(describe(f.sys, big).word1 == ~uint64_t{0});
  }

  SECTION("non-zero data for a type without data is an invalid argument") {
    uint64_t dest = f.sys.next_free();
    for (uint64_t src : {f.make(ObjectType::kTcb), f.make(ObjectType::kFrame4K),
                         uint64_t{abi::kSlotAsidControl}}) {
      CHECK(f.sys.mint(dest, src, kAll, 1) == Status::kInvalidArgument);
      CHECK(f.empty(dest));
      REQUIRE(f.sys.mint(dest, src, kAll, 0) == Status::kOk);
      REQUIRE(f.sys.del(dest) == Status::kOk);
    }
  }
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode mint: CNode guards", "[cnode]") {
  Fixture f;
  uint64_t cn = f.make(ObjectType::kCNode, 4);
  uint64_t dest = f.sys.next_free();

  SECTION("a guard that fits") {
    REQUIRE(f.sys.mint(dest, cn, kR, abi::cnode_guard_data(0x15, 5)) == Status::kOk);
    Desc d = describe(f.sys, dest);
    CHECK(d.type == CapType::kCNode);
    CHECK(d.object == f.cap(cn).object());
    CHECK(d.rights == kR);
    CHECK(f.cap(dest).cnode_radix() == 4);
    CHECK(f.cap(dest).cnode_guard_bits() == 5);
    CHECK(f.cap(dest).cnode_guard() == 0x15);
    CHECK(d.word1 == (4 | 5 << 6 | 0x15 << 12));
  }

  SECTION("a guarded copy can be re-minted with another guard, and data 0 clears it") {
    uint64_t d2 = f.sys.next_free();
    REQUIRE(f.sys.mint(dest, cn, kAll, abi::cnode_guard_data(3, 2)) == Status::kOk);
    REQUIRE(f.sys.mint(d2, dest, kAll, 0) == Status::kOk);
    CHECK(f.cap(d2).cnode_guard_bits() == 0);
    CHECK(f.cap(d2).cnode_radix() == 4);
  }

  SECTION("guard bits up to 64 - radix, at most 52") {
    REQUIRE(f.sys.mint(dest, cn, kAll, abi::cnode_guard_data(0, 52)) == Status::kOk);
    CHECK(f.cap(dest).cnode_guard_bits() == 52);
    uint64_t big = f.make(ObjectType::kCNode, 13);
    uint64_t d2 = f.sys.next_free();
    CHECK(f.sys.mint(d2, big, kAll, abi::cnode_guard_data(0, 52)) == Status::kInvalidArgument);
    REQUIRE(f.sys.mint(d2, big, kAll, abi::cnode_guard_data(1, 51)) == Status::kOk);
    CHECK(f.cap(d2).cnode_guard_bits() + f.cap(d2).cnode_radix() == 64);
  }

  SECTION("bad guards") {
    // The guard does not fit in guard_bits.
    CHECK(f.sys.mint(dest, cn, kAll, abi::cnode_guard_data(4, 2)) == Status::kInvalidArgument);
    CHECK(f.sys.mint(dest, cn, kAll, abi::cnode_guard_data(1, 0)) == Status::kInvalidArgument);
    CHECK(f.sys.mint(dest, cn, kAll, abi::cnode_guard_data(uint64_t{1} << 52, 52)) ==
          Status::kInvalidArgument);
    // Guard and radix together over 64 bits.
    const uint64_t radix = f.cap(cn).cnode_radix();
    for (uint64_t bits : {65 - radix, uint64_t{63}}) {
      CHECK(f.sys.mint(dest, cn, kAll, bits) == Status::kInvalidArgument);
    }
    // A guard value beyond the 52 bits a capability stores, though guard_bits would allow it.
    CHECK(f.sys.mint(dest, cn, kAll, abi::cnode_guard_data(uint64_t{1} << 52, 60)) ==
          Status::kInvalidArgument);
    CHECK(f.empty(dest));
    // Up to 64 - radix guard bits are fine when the value fits.
    CHECK(f.sys.mint(dest, cn, kAll, abi::cnode_guard_data(5, 64 - radix)) == Status::kOk);
  }
  REQUIRE(f.invariants() == nullptr);
}

// --- move and mutate ----------------------------------------------------------------------------

TEST_CASE("cnode move", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t b = f.sys.next_free();
  REQUIRE(f.sys.mint(b, ep, kR | kG, 42) == Status::kOk);
  uint64_t dest = f.sys.next_free();

  SECTION("the capability arrives unchanged and the source empties") {
    Cap before = f.cap(b);
    REQUIRE(f.sys.move(dest, b) == Status::kOk);
    CHECK(f.empty(b));
    CHECK(f.cap(dest) == before);
    Desc d = describe(f.sys, dest);
    CHECK(d.word1 == 42);
    CHECK(d.rights == (kR | kG));
  }

  SECTION("a moved child is still reached by revoking its parent") {
    REQUIRE(f.sys.move(dest, b) == Status::kOk);
    REQUIRE(f.sys.revoke(ep) == Status::kOk);
    CHECK(f.empty(dest));
    CHECK_FALSE(f.empty(ep));
  }

  SECTION("a moved parent still revokes its children") {
    uint64_t child = f.sys.next_free();
    REQUIRE(f.sys.copy(child, b) == Status::kOk);
    REQUIRE(f.sys.move(dest, b) == Status::kOk);
    REQUIRE(f.sys.revoke(dest) == Status::kOk);
    CHECK(f.empty(child));
    CHECK_FALSE(f.empty(dest));
  }

  SECTION("untyped capabilities move, and retype and revoke from their new slot") {
    REQUIRE(f.sys.move(dest, f.ut) == Status::kOk);
    CHECK(f.empty(f.ut));
    uint64_t obj = f.sys.next_free();
    REQUIRE(f.sys.retype(dest, ObjectType::kEndpoint, 0, obj) == Status::kOk);
    REQUIRE(f.sys.revoke(dest) == Status::kOk);
    CHECK(f.empty(obj));
    CHECK(f.empty(ep));
  }

  SECTION("errors") {
    uint64_t other = f.sys.next_free();
    CHECK(f.sys.move(dest, other) == Status::kEmptySlot);
    CHECK(f.sys.move(ep, b) == Status::kDeleteFirst);
    CHECK(f.sys.move(b, b) == Status::kDeleteFirst);
    CHECK(f.sys.invoke(kRoot, Label::kCNodeMove, {dest, 64, ep, b, 64}).status ==
          Status::kInvalidCapability);
    CHECK(f.sys.invoke(kRoot, Label::kCNodeMove, {dest, 0, kRoot, b, 64}).status ==
          Status::kDepthMismatch);
    CHECK(f.sys.invoke(kRoot, Label::kCNodeMove, {dest, 64, kRoot, b, 65}).status ==
          Status::kDepthMismatch);
    CHECK(f.empty(dest));
    CHECK(describe(f.sys, b).word1 == 42);
  }

  SECTION("a move into another CNode and back") {
    uint64_t cn = f.make(ObjectType::kCNode, 3);
    REQUIRE(f.sys.invoke(cn, Label::kCNodeMove, {5, 3, kRoot, b, 64}).status == Status::kOk);
    CHECK(f.empty(b));
    CHECK(cnode_slot(f.cap(cn), 5)->cap.badge() == 42);
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.invoke(kRoot, Label::kCNodeMove, {dest, 64, cn, 5, 3}).status == Status::kOk);
    CHECK(cnode_slot(f.cap(cn), 5)->empty());
    CHECK(f.cap(dest).badge() == 42);
  }
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode mutate", "[cnode]") {
  Fixture f;
  uint64_t dest = f.sys.next_free();

  SECTION("changes the guard of a CNode capability while moving it") {
    uint64_t cn = f.make(ObjectType::kCNode, 6);
    REQUIRE(f.sys.mutate(dest, cn, abi::cnode_guard_data(9, 4)) == Status::kOk);
    CHECK(f.empty(cn));
    CHECK(f.cap(dest).cnode_guard() == 9);
    CHECK(f.cap(dest).cnode_guard_bits() == 4);
    CHECK(f.cap(dest).cnode_radix() == 6);
    // The mutated capability is still the original: revoking the untyped finds it.
    REQUIRE(f.sys.revoke(f.ut) == Status::kOk);
    CHECK(f.empty(dest));
  }

  SECTION("bad guards change nothing") {
    uint64_t cn = f.make(ObjectType::kCNode, 13);
    Cap before = f.cap(cn);
    CHECK(f.sys.mutate(dest, cn, abi::cnode_guard_data(0, 52)) == Status::kInvalidArgument);
    CHECK(f.sys.mutate(dest, cn, abi::cnode_guard_data(2, 1)) == Status::kInvalidArgument);
    CHECK(f.sys.mutate(dest, cn, 53) == Status::kInvalidArgument);
    CHECK(f.cap(cn) == before);
    CHECK(f.empty(dest));
  }

  SECTION("data 0 is a plain move for every type") {
    uint64_t ep = f.make(ObjectType::kEndpoint);
    uint64_t b = f.sys.next_free();
    REQUIRE(f.sys.mint(b, ep, kAll, 5) == Status::kOk);
    REQUIRE(f.sys.mutate(dest, b, 0) == Status::kOk);
    CHECK(f.cap(dest).badge() == 5);
    uint64_t fr = f.make(ObjectType::kFrame4K);
    uint64_t d2 = f.sys.next_free();
    REQUIRE(f.sys.mutate(d2, fr, 0) == Status::kOk);
    CHECK(f.cap(d2).type() == CapType::kFrame);
  }

  SECTION("a badged endpoint capability cannot get another badge") {
    uint64_t ep = f.make(ObjectType::kEndpoint);
    uint64_t b = f.sys.next_free();
    REQUIRE(f.sys.mint(b, ep, kAll, 5) == Status::kOk);
    CHECK(f.sys.mutate(dest, b, 6) == Status::kIllegalOperation);
    CHECK(f.sys.mutate(dest, b, 5) == Status::kIllegalOperation);
    CHECK(f.cap(b).badge() == 5);
    CHECK(f.empty(dest));
  }

  SECTION("non-zero data for a type without data is an invalid argument") {
    uint64_t fr = f.make(ObjectType::kFrame4K);
    uint64_t tcb = f.make(ObjectType::kTcb);
    CHECK(f.sys.mutate(dest, fr, 1) == Status::kInvalidArgument);
    CHECK(f.sys.mutate(dest, tcb, 1) == Status::kInvalidArgument);
    CHECK(f.empty(dest));
  }

  SECTION("errors as move") {
    uint64_t cn = f.make(ObjectType::kCNode, 2);
    CHECK(f.sys.mutate(dest, f.sys.next_free(), 0) == Status::kEmptySlot);
    CHECK(f.sys.mutate(cn, cn, 0) == Status::kDeleteFirst);
    CHECK(f.sys.mutate(f.ut, cn, 0) == Status::kDeleteFirst);
  }
  REQUIRE(f.invariants() == nullptr);
}

// Badges are set only by mint: mutate refuses to badge an endpoint capability (as seL4 does),
// and refuses data on types that have none.
TEST_CASE("cnode mutate: does not badge endpoints", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t c = f.sys.next_free();
  REQUIRE(f.sys.copy(c, ep) == Status::kOk);
  uint64_t dest = f.sys.next_free();
  CHECK(f.sys.mutate(dest, c, 0x77) == Status::kIllegalOperation);
  CHECK(f.empty(dest));
  CHECK(f.cap(c).badge() == 0);
  uint64_t tcb = f.make(ObjectType::kTcb);
  CHECK(f.sys.mutate(dest, tcb, 1) == Status::kInvalidArgument);
  CHECK(f.sys.mutate(dest, c, 0) == Status::kOk);
  REQUIRE(f.invariants() == nullptr);
}

// --- describe -----------------------------------------------------------------------------------

TEST_CASE("cnode describe: type, rights, object and word 1", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t b = f.sys.next_free();
  REQUIRE(f.sys.mint(b, ep, kW | kG, 99) == Status::kOk);
  Desc d = describe(f.sys, b);
  CHECK(d.type == CapType::kEndpoint);
  CHECK(d.rights == (kW | kG));
  CHECK(d.object == f.cap(ep).object());
  CHECK(d.word1 == 99);

  Desc u = describe(f.sys, f.ut);
  CHECK(u.type == CapType::kUntyped);
  CHECK(u.object == f.cap(f.ut).object());
  CHECK(u.word1 == f.cap(f.ut).word1());
  CHECK((u.word1 & 0x3F) == f.cap(f.ut).untyped_size_bits());

  Desc r = describe(f.sys, kRoot);
  CHECK(r.type == CapType::kCNode);
  CHECK(r.object == f.sys.root().object());
  CHECK(r.word1 == f.sys.root().word1());

  Desc e = describe(f.sys, f.sys.next_free());
  CHECK(e.type == CapType::kNull);
  CHECK(e.rights == 0);
  CHECK(e.object == 0);
  CHECK(e.word1 == 0);

  CHECK(describe(f.sys, abi::kSlotAsidControl).type == CapType::kAsidControl);
  CHECK(describe(f.sys, abi::kSlotIrqControl).type == CapType::kIrqControl);
  CHECK(describe(f.sys, abi::kSlotIoPortControl).type == CapType::kIoPortControl);
  CHECK(f.sys.invoke(kRoot, Label::kCNodeDescribe, {b, 0}).status == Status::kDepthMismatch);
  REQUIRE(f.invariants() == nullptr);
}

// --- message-level errors -----------------------------------------------------------------------

TEST_CASE("cnode invocations: truncated messages and illegal labels", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t dest = f.sys.next_free();

  SECTION("every CNode label needs all its arguments") {
    for (const abi::InvocationInfo& i : abi::kInvocations) {
      if (i.cap_type != CapType::kCNode) {
        continue;
      }
      INFO(i.name);
      for (uint64_t n = 0; n < i.arguments; ++n) {
        std::vector<uint64_t> args(n, 0);
        CHECK(f.sys.invoke(kRoot, static_cast<uint64_t>(i.label), args).status ==
              Status::kTruncatedMessage);
      }
    }
    // Extra words are ignored.
    REQUIRE(f.sys.invoke(kRoot, Label::kCNodeCopy, {dest, 64, kRoot, ep, 64, kAll, 5, 6}).status ==
            Status::kOk);
  }

  SECTION("unknown labels and labels of other types") {
    for (uint64_t label :
         {uint64_t{0}, uint64_t{8}, uint64_t{15}, uint64_t{18}, uint64_t{1000}, ~uint64_t{0},
          uint64_t(Label::kUntypedRetype), uint64_t(Label::kUntypedDescribe),
          uint64_t(Label::kAsidPoolAssign), uint64_t(Label::kAsidControlMakePool)}) {
      INFO("label " << label);
      CHECK(f.sys.invoke(kRoot, label, std::vector<uint64_t>(8, 0)).status ==
            Status::kIllegalOperation);
    }
  }

  SECTION("CNode labels on capabilities that are not CNodes") {
    for (uint64_t target : {ep, f.ut, uint64_t{abi::kSlotAsidControl}}) {
      CHECK(f.sys.invoke(target, Label::kCNodeCopy, {dest, 64, kRoot, ep, 64, kAll}).status ==
            Status::kIllegalOperation);
      CHECK(f.sys.invoke(target, Label::kCNodeDelete, {ep, 64}).status ==
            Status::kIllegalOperation);
    }
  }
  CHECK_FALSE(f.empty(ep));
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode invocations: source and destination errors", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t other = f.make(ObjectType::kEndpoint);
  uint64_t dest = f.sys.next_free();
  uint64_t empty = f.sys.next_free();

  for (Label l : {Label::kCNodeCopy, Label::kCNodeMint}) {
    INFO(static_cast<uint64_t>(l));
    auto run = [&](uint64_t d, uint64_t root, uint64_t s) {
      return f.sys.invoke(kRoot, l, {d, 64, root, s, 64, kAll, 0}).status;
    };
    CHECK(run(other, kRoot, ep) == Status::kDeleteFirst);
    CHECK(run(ep, kRoot, ep) == Status::kDeleteFirst);
    CHECK(run(dest, kRoot, empty) == Status::kEmptySlot);
    CHECK(run(dest, ep, ep) == Status::kInvalidCapability);
    CHECK(run(dest, f.ut, ep) == Status::kInvalidCapability);
    CHECK(run(dest, empty, ep) == Status::kEmptySlot);
    CHECK(f.sys.invoke(kRoot, l, {dest, 0, kRoot, ep, 64, kAll, 0}).status ==
          Status::kDepthMismatch);
    CHECK(f.sys.invoke(kRoot, l, {dest, 64, kRoot, ep, 0, kAll, 0}).status ==
          Status::kDepthMismatch);
    CHECK(f.sys.invoke(kRoot, l, {dest, 64, kRoot, ep | uint64_t{1} << 50, 64, kAll, 0}).status ==
          Status::kGuardMismatch);
    CHECK(f.empty(dest));
  }
  // Deleting or revoking an empty slot succeeds and does nothing.
  CHECK(f.sys.del(empty) == Status::kOk);
  CHECK(f.sys.revoke(empty) == Status::kOk);
  CHECK(f.sys.invoke(kRoot, Label::kCNodeDelete, {ep, 65}).status == Status::kDepthMismatch);
  CHECK(f.sys.invoke(kRoot, Label::kCNodeRevoke, {ep, 0}).status == Status::kDepthMismatch);
  CHECK_FALSE(f.empty(ep));
  REQUIRE(f.invariants() == nullptr);
}

// --- revoke and badges --------------------------------------------------------------------------

TEST_CASE("cnode revoke: endpoint badges", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t copy = f.sys.next_free();
  uint64_t b1 = f.sys.next_free();
  uint64_t b2 = f.sys.next_free();
  uint64_t b1_copy = f.sys.next_free();
  uint64_t b1_plain_mint = f.sys.next_free();
  uint64_t b1_again = f.sys.next_free();
  uint64_t b3_from_copy = f.sys.next_free();
  REQUIRE(f.sys.copy(copy, ep) == Status::kOk);
  REQUIRE(f.sys.mint(b1, ep, kAll, 1) == Status::kOk);
  REQUIRE(f.sys.mint(b2, ep, kAll, 2) == Status::kOk);
  REQUIRE(f.sys.copy(b1_copy, b1) == Status::kOk);
  REQUIRE(f.sys.mint(b1_plain_mint, b1, kR, 0) == Status::kOk);
  // A second, independent mint of the same badge.
  REQUIRE(f.sys.mint(b1_again, ep, kAll, 1) == Status::kOk);
  REQUIRE(f.sys.mint(b3_from_copy, copy, kAll, 3) == Status::kOk);
  REQUIRE(f.invariants() == nullptr);

  SECTION("revoking a badged capability deletes only its own copies") {
    REQUIRE(f.sys.revoke(b1) == Status::kOk);
    CHECK(f.empty(b1_copy));
    CHECK(f.empty(b1_plain_mint));
    for (uint64_t s : {ep, copy, b1, b2, b1_again, b3_from_copy}) {
      CHECK_FALSE(f.empty(s));
    }
  }

  SECTION("revoking the other mint of the same badge leaves the first one's copies") {
    REQUIRE(f.sys.revoke(b1_again) == Status::kOk);
    for (uint64_t s : {ep, copy, b1, b2, b1_copy, b1_plain_mint, b1_again, b3_from_copy}) {
      CHECK_FALSE(f.empty(s));
    }
  }

  SECTION("revoking an unbadged copy deletes nothing") {
    REQUIRE(f.sys.revoke(copy) == Status::kOk);
    for (uint64_t s : {ep, copy, b1, b2, b1_copy, b1_plain_mint, b1_again, b3_from_copy}) {
      CHECK_FALSE(f.empty(s));
    }
  }

  SECTION("revoking the unbadged original deletes every copy and mint") {
    REQUIRE(f.sys.revoke(ep) == Status::kOk);
    for (uint64_t s : {copy, b1, b2, b1_copy, b1_plain_mint, b1_again, b3_from_copy}) {
      CHECK(f.empty(s));
    }
    CHECK_FALSE(f.empty(ep));
    CHECK_FALSE(f.has_children(ep));
  }

  SECTION("copies of a deleted badged capability stay reachable from the original") {
    REQUIRE(f.sys.del(b1) == Status::kOk);
    CHECK_FALSE(f.empty(b1_copy));
    REQUIRE(f.sys.revoke(b1_again) == Status::kOk);
    CHECK_FALSE(f.empty(b1_copy));
    REQUIRE(f.sys.revoke(ep) == Status::kOk);
    CHECK(f.empty(b1_copy));
    CHECK(f.empty(b1_plain_mint));
  }

  SECTION("revoking the untyped removes everything, original included") {
    REQUIRE(f.sys.revoke(f.ut) == Status::kOk);
    for (uint64_t s : {ep, copy, b1, b2, b1_copy, b1_plain_mint, b1_again, b3_from_copy}) {
      CHECK(f.empty(s));
    }
  }
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode revoke: two mints of one badge are independent", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t first = f.sys.next_free();
  uint64_t first_copy = f.sys.next_free();
  uint64_t second = f.sys.next_free();
  REQUIRE(f.sys.mint(first, ep, kAll, 6) == Status::kOk);
  REQUIRE(f.sys.copy(first_copy, first) == Status::kOk);
  // Minted from the original, the second lands right before the first in the tree.
  REQUIRE(f.sys.mint(second, ep, kAll, 6) == Status::kOk);
  REQUIRE(f.sys.revoke(second) == Status::kOk);
  CHECK_FALSE(f.empty(first));
  CHECK_FALSE(f.empty(first_copy));
  REQUIRE(f.sys.revoke(first) == Status::kOk);
  CHECK(f.empty(first_copy));
  CHECK_FALSE(f.empty(second));
  REQUIRE(f.invariants() == nullptr);
}

// --- delete and destruction ---------------------------------------------------------------------

TEST_CASE("cnode delete: the last capability destroys the object", "[cnode]") {
  Fixture f;

  SECTION("an endpoint") {
    uint64_t ep = f.make(ObjectType::kEndpoint);
    uint64_t c = f.sys.next_free();
    REQUIRE(f.sys.copy(c, ep) == Status::kOk);
    kernel::Endpoint* e = endpoint_at(f.cap(ep));
    // Pretend a sender is queued: destruction must release the queue.
    e->state = kernel::EndpointState::kSending;
    REQUIRE(f.sys.del(ep) == Status::kOk);
    CHECK(f.empty(ep));
    CHECK(e->state == kernel::EndpointState::kSending);
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.del(c) == Status::kOk);
    CHECK(e->state == kernel::EndpointState::kIdle);
    CHECK_FALSE(f.has_children(f.ut));
  }

  SECTION("a CNode deletes its contents; their objects' other capabilities remain") {
    uint64_t cn = f.make(ObjectType::kCNode, 4);
    uint64_t ep = f.make(ObjectType::kEndpoint);
    const Cap node = f.cap(cn);
    // A copy of a root endpoint, a badged mint, and an endpoint whose only capability is inside.
    REQUIRE(f.sys.invoke(cn, Label::kCNodeCopy, {3, 4, kRoot, ep, 64, kAll}).status == Status::kOk);
    REQUIRE(f.sys.invoke(cn, Label::kCNodeMint, {4, 4, kRoot, ep, 64, kAll, 8}).status ==
            Status::kOk);
    REQUIRE(f.sys
                .invoke(f.ut, Label::kUntypedRetype,
                        {uint64_t(ObjectType::kEndpoint), 0, cn, 0, 0, 9, 1})
                .status == Status::kOk);
    kernel::Endpoint* inner = endpoint_at(cnode_slot(node, 9)->cap);
    inner->state = kernel::EndpointState::kReceiving;
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.del(cn) == Status::kOk);
    CHECK(f.empty(cn));
    for (uint64_t i = 0; i < 16; ++i) {
      CHECK(cnode_slot(node, i)->empty());
    }
    CHECK(inner->state == kernel::EndpointState::kIdle);
    CHECK_FALSE(f.empty(ep));
    CHECK_FALSE(f.has_children(ep));
    REQUIRE(f.invariants() == nullptr);
  }

  SECTION("a CNode copy is not the last capability") {
    uint64_t cn = f.make(ObjectType::kCNode, 2);
    uint64_t ep = f.make(ObjectType::kEndpoint);
    uint64_t c = f.sys.next_free();
    REQUIRE(f.sys.copy(c, cn) == Status::kOk);
    REQUIRE(f.sys.invoke(cn, Label::kCNodeCopy, {1, 2, kRoot, ep, 64, kAll}).status == Status::kOk);
    REQUIRE(f.sys.del(cn) == Status::kOk);
    CHECK_FALSE(cnode_slot(f.cap(c), 1)->empty());
    REQUIRE(f.sys.del(c) == Status::kOk);
    CHECK_FALSE(f.has_children(ep));
  }

  SECTION("a TCB deletes the capabilities in its slots and its replies") {
    uint64_t tcb = f.make(ObjectType::kTcb);
    uint64_t cn = f.make(ObjectType::kCNode, 2);
    uint64_t ep = f.make(ObjectType::kEndpoint);
    uint64_t fr = f.make(ObjectType::kFrame4K);
    uint64_t reply = f.sys.next_free();
    kernel::Tcb* t = tcb_at(f.cap(tcb));
    REQUIRE(t->slots[kernel::kTcbReplySlot].cap.type() == CapType::kReply);
    // TCB configuration is not part of this layer: place capabilities the way it would. The
    // CSpace slot receives the only capability to a CNode that holds a copy of an endpoint.
    REQUIRE(f.sys.invoke(cn, Label::kCNodeCopy, {2, 2, kRoot, ep, 64, kAll}).status == Status::kOk);
    const Cap node = f.cap(cn);
    kernel::mdb_move(f.sys.slot(cn), &t->slots[kernel::kTcbCSpaceSlot], node);
    kernel::mdb_insert_derived(f.sys.slot(fr), &t->slots[kernel::kTcbIpcBufferSlot], f.cap(fr));
    kernel::mdb_insert_derived(&t->slots[kernel::kTcbReplySlot], f.sys.slot(reply),
                               Cap::reply(f.cap(tcb).object(), false, true));
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.del(tcb) == Status::kOk);
    for (const Slot& s : t->slots) {
      CHECK(s.empty());
    }
    CHECK(cnode_slot(node, 2)->empty());
    CHECK(f.empty(reply));
    CHECK_FALSE(f.empty(ep));
    CHECK_FALSE(f.empty(fr));
    CHECK_FALSE(f.has_children(ep));
    CHECK_FALSE(f.has_children(fr));
    REQUIRE(f.invariants() == nullptr);
  }
  REQUIRE(f.invariants() == nullptr);
}

// --- deep, wide and cyclic structures -----------------------------------------------------------

TEST_CASE("cnode revoke: a chain of 200 copies each made from the last", "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t badged = f.sys.next_free();
  REQUIRE(f.sys.mint(badged, ep, kAll, 5) == Status::kOk);
  uint64_t plain = f.slots(200);
  uint64_t chain = f.slots(200);
  uint64_t prev_plain = ep;
  uint64_t prev_badged = badged;
  for (uint64_t i = 0; i < 200; ++i) {
    REQUIRE(f.sys.copy(plain + i, prev_plain) == Status::kOk);
    REQUIRE(f.sys.copy(chain + i, prev_badged) == Status::kOk);
    prev_plain = plain + i;
    prev_badged = chain + i;
  }
  REQUIRE(f.invariants() == nullptr);
  // Copies are never parents: revoking one in the middle deletes nothing.
  REQUIRE(f.sys.revoke(plain + 100) == Status::kOk);
  REQUIRE(f.sys.revoke(chain + 100) == Status::kOk);
  CHECK_FALSE(f.empty(plain + 199));
  CHECK_FALSE(f.empty(chain + 199));
  // Deleting from the middle keeps the rest reachable.
  REQUIRE(f.sys.del(chain + 50) == Status::kOk);
  REQUIRE(f.sys.del(plain + 50) == Status::kOk);
  REQUIRE(f.invariants() == nullptr);

  REQUIRE(f.sys.revoke(badged) == Status::kOk);
  for (uint64_t i = 0; i < 200; ++i) {
    CHECK(f.empty(chain + i));
    CHECK(f.empty(plain + i) == (i == 50));
  }
  REQUIRE(f.invariants() == nullptr);
  REQUIRE(f.sys.revoke(ep) == Status::kOk);
  for (uint64_t i = 0; i < 200; ++i) {
    CHECK(f.empty(plain + i));
  }
  CHECK(f.empty(badged));
  CHECK_FALSE(f.has_children(ep));
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode revoke: a chain of untyped each retyped from the last", "[cnode]") {
  Fixture f;
  uint64_t top_bits = f.cap(f.ut).untyped_size_bits();
  uint64_t levels = top_bits - abi::kMinUntypedBits;
  uint64_t first = f.slots(levels);
  uint64_t parent = f.ut;
  for (uint64_t i = 0; i < levels; ++i) {
    REQUIRE(f.sys.retype(parent, ObjectType::kUntyped, top_bits - 1 - i, first + i) == Status::kOk);
    parent = first + i;
  }
  uint64_t ep_parent = first + levels - 7;  // 2^10 bytes: room for an endpoint.
  uint64_t ep = f.sys.next_free();
  REQUIRE(f.sys.retype(ep_parent, ObjectType::kEndpoint, 0, ep) == Status::kOk);
  REQUIRE(f.invariants() == nullptr);
  REQUIRE(f.sys.revoke(first + 2) == Status::kOk);
  CHECK_FALSE(f.empty(first + 2));
  for (uint64_t i = 3; i < levels; ++i) {
    CHECK(f.empty(first + i));
  }
  CHECK(f.empty(ep));
  REQUIRE(f.invariants() == nullptr);
  REQUIRE(f.sys.revoke(f.ut) == Status::kOk);
  CHECK(f.empty(first));
  CHECK_FALSE(f.has_children(f.ut));
  REQUIRE(f.invariants() == nullptr);
}

// Builds a chain of `depth` radix-1 CNodes, each holding the only capability to the next in slot
// 0, and returns the root slot holding the only capability to the first. `last_node` receives
// the deepest CNode's capability.
uint64_t build_nested_cnodes(Fixture& f, uint64_t depth, Cap* last_node) {
  uint64_t a = f.sys.next_free();
  uint64_t b = f.sys.next_free();
  REQUIRE(f.sys.retype(f.ut, ObjectType::kCNode, 1, a) == Status::kOk);
  *last_node = f.cap(a);
  for (uint64_t i = 1; i < depth; ++i) {
    REQUIRE(f.sys.retype(f.ut, ObjectType::kCNode, 1, b) == Status::kOk);
    Status s = f.sys.invoke(b, Label::kCNodeMove, {0, 1, kRoot, a, 64}).status;
    if (s != Status::kOk) {
      REQUIRE(s == Status::kOk);
    }
    uint64_t t = a;
    a = b;
    b = t;
  }
  // Walk down through the slot-0 capabilities to be sure the chain is what the test thinks.
  uint64_t length = 1;
  for (const Slot* s = cnode_slot(f.cap(a), 0); !s->empty(); s = cnode_slot(s->cap, 0)) {
    ++length;
  }
  REQUIRE(length == depth);
  return a;
}

TEST_CASE("cnode delete: 50 nested CNodes, each holding the only capability to the next",
          "[cnode]") {
  Fixture f;
  uint64_t ep = f.make(ObjectType::kEndpoint);
  Cap deepest;
  std::vector<PhysAddr> nodes;
  // Every level also holds a copy of an outside endpoint in slot 1 (the deepest one gets an
  // endpoint whose only capability is there).
  uint64_t a = f.sys.next_free();
  uint64_t b = f.sys.next_free();
  REQUIRE(f.sys.retype(f.ut, ObjectType::kCNode, 1, a) == Status::kOk);
  deepest = f.cap(a);
  nodes.push_back(deepest.object());
  REQUIRE(
      f.sys.invoke(f.ut, Label::kUntypedRetype, {uint64_t(ObjectType::kEndpoint), 0, a, 0, 0, 1, 1})
          .status == Status::kOk);
  kernel::Endpoint* inner = endpoint_at(cnode_slot(deepest, 1)->cap);
  inner->state = kernel::EndpointState::kSending;
  for (uint64_t i = 1; i < 50; ++i) {
    REQUIRE(f.sys.retype(f.ut, ObjectType::kCNode, 1, b) == Status::kOk);
    nodes.push_back(f.cap(b).object());
    REQUIRE(f.sys.invoke(b, Label::kCNodeCopy, {1, 1, kRoot, ep, 64, kAll}).status == Status::kOk);
    REQUIRE(f.sys.invoke(b, Label::kCNodeMove, {0, 1, kRoot, a, 64}).status == Status::kOk);
    uint64_t t = a;
    a = b;
    b = t;
  }
  REQUIRE(f.invariants() == nullptr);
  // The whole chain is addressable: 50 levels of 1 bit each, then slot 1 of the deepest.
  auto r = f.sys.invoke(a, Label::kCNodeDescribe, {uint64_t{1}, 50});
  REQUIRE(r.ok());
  CHECK(r.words[0] == uint64_t(CapType::kEndpoint));

  REQUIRE(f.sys.del(a) == Status::kOk);
  CHECK(f.empty(a));
  for (PhysAddr n : nodes) {
    const Slot* s = kernel::mem::phys_to<Slot>(n);
    CHECK(s[0].empty());
    CHECK(s[1].empty());
  }
  CHECK(inner->state == kernel::EndpointState::kIdle);
  CHECK_FALSE(f.empty(ep));
  CHECK_FALSE(f.has_children(ep));
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode delete: 100000 nested CNodes do not exhaust the stack", "[cnode][slow]") {
  Fixture f;
  Cap deepest;
  uint64_t top = build_nested_cnodes(f, 100000, &deepest);
  // No invariant check here: its adjacency rule is quadratic in the length of a list, and the
  // untyped now heads a list of 100000 distinct objects.
  REQUIRE(f.sys.del(top) == Status::kOk);
  CHECK(f.empty(top));
  CHECK(cnode_slot(deepest, 0)->empty());
  // Nothing made from the untyped is left.
  CHECK_FALSE(f.has_children(f.ut));
  auto d = f.sys.invoke(f.ut, Label::kUntypedDescribe, {});
  REQUIRE(d.ok());
  CHECK(d.words[3] == uint64_t{1} << f.cap(f.ut).untyped_size_bits());
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode revoke: 100000 nested CNodes made from one untyped", "[cnode][slow]") {
  Fixture f;
  Cap deepest;
  uint64_t top = build_nested_cnodes(f, 100000, &deepest);
  REQUIRE(f.sys.revoke(f.ut) == Status::kOk);
  CHECK(f.empty(top));
  CHECK_FALSE(f.has_children(f.ut));
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode revoke: 1000 children of one untyped and of one endpoint", "[cnode]") {
  Fixture f;
  uint64_t wide = f.make(ObjectType::kCNode, 10);
  const Cap w = f.cap(wide);

  SECTION("1000 objects from one untyped") {
    uint64_t child = f.make(ObjectType::kUntyped, 20);
    for (uint64_t k = 0; k < 4; ++k) {
      REQUIRE(f.sys
                  .invoke(child, Label::kUntypedRetype,
                          {uint64_t(ObjectType::kEndpoint), 0, wide, 0, 0, k * 250, 250})
                  .status == Status::kOk);
    }
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.revoke(child) == Status::kOk);
    for (uint64_t i = 0; i < 1024; ++i) {
      CHECK(cnode_slot(w, i)->empty());
    }
    CHECK_FALSE(f.empty(wide));
    CHECK_FALSE(f.has_children(child));
  }

  SECTION("1000 copies and mints of one endpoint") {
    uint64_t ep = f.make(ObjectType::kEndpoint);
    for (uint64_t i = 0; i < 1000; ++i) {
      Status s =
          i % 2 == 0
              ? f.sys.invoke(wide, Label::kCNodeCopy, {i, 10, kRoot, ep, 64, kAll}).status
              : f.sys.invoke(wide, Label::kCNodeMint, {i, 10, kRoot, ep, 64, kAll, i}).status;
      if (s != Status::kOk) {
        REQUIRE(s == Status::kOk);
      }
    }
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.revoke(ep) == Status::kOk);
    for (uint64_t i = 0; i < 1024; ++i) {
      CHECK(cnode_slot(w, i)->empty());
    }
    CHECK_FALSE(f.empty(ep));
    CHECK_FALSE(f.has_children(ep));
  }
  REQUIRE(f.invariants() == nullptr);
}

TEST_CASE("cnode: cyclic CNode structures", "[cnode]") {
  Fixture f;
  uint64_t child = f.make(ObjectType::kUntyped, 16);
  uint64_t ep = f.make(ObjectType::kEndpoint);
  uint64_t full = uint64_t{1} << 16;
  auto free_bytes = [&]() {
    auto d = f.sys.invoke(child, Label::kUntypedDescribe, {});
    REQUIRE(d.ok());
    return d.words[3];
  };
  // Nothing leaked: the whole untyped can be retyped again.
  auto check_reclaimed = [&]() {
    CHECK(free_bytes() == full);
    uint64_t again = f.sys.next_free();
    REQUIRE(f.sys.retype(child, ObjectType::kUntyped, 16, again) == Status::kOk);
    REQUIRE(f.invariants() == nullptr);
  };

  SECTION("a CNode holding the only other capability to itself") {
    uint64_t x = f.sys.next_free();
    REQUIRE(f.sys.retype(child, ObjectType::kCNode, 3, x) == Status::kOk);
    const Cap node = f.cap(x);
    REQUIRE(f.sys.invoke(x, Label::kCNodeCopy, {0, 3, kRoot, x, 64, kAll}).status == Status::kOk);
    REQUIRE(f.sys.invoke(x, Label::kCNodeCopy, {1, 3, kRoot, ep, 64, kAll}).status == Status::kOk);
    REQUIRE(f.invariants() == nullptr);
    // Not the last capability: the CNode and what it holds survive, unreachable.
    REQUIRE(f.sys.del(x) == Status::kOk);
    CHECK(cnode_slot(node, 0)->cap.object() == node.object());
    CHECK_FALSE(cnode_slot(node, 1)->empty());
    CHECK(f.has_children(ep));
    CHECK(free_bytes() < full);
    REQUIRE(f.invariants() == nullptr);
    // Revoking the untyped reclaims it.
    REQUIRE(f.sys.revoke(child) == Status::kOk);
    CHECK(cnode_slot(node, 0)->empty());
    CHECK(cnode_slot(node, 1)->empty());
    CHECK_FALSE(f.has_children(ep));
    check_reclaimed();
  }

  SECTION("two CNodes holding capabilities to each other") {
    uint64_t x = f.sys.next_free();
    uint64_t y = f.sys.next_free();
    REQUIRE(f.sys.retype(child, ObjectType::kCNode, 2, x) == Status::kOk);
    REQUIRE(f.sys.retype(child, ObjectType::kCNode, 2, y) == Status::kOk);
    const Cap nx = f.cap(x);
    const Cap ny = f.cap(y);
    REQUIRE(f.sys.invoke(x, Label::kCNodeCopy, {0, 2, kRoot, y, 64, kAll}).status == Status::kOk);
    REQUIRE(f.sys.invoke(y, Label::kCNodeCopy, {0, 2, kRoot, x, 64, kAll}).status == Status::kOk);
    REQUIRE(f.sys.invoke(y, Label::kCNodeMint, {3, 2, kRoot, ep, 64, kAll, 4}).status ==
            Status::kOk);
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.del(x) == Status::kOk);
    REQUIRE(f.sys.del(y) == Status::kOk);
    CHECK(cnode_slot(nx, 0)->cap.object() == ny.object());
    CHECK(cnode_slot(ny, 0)->cap.object() == nx.object());
    CHECK(f.has_children(ep));
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.revoke(child) == Status::kOk);
    CHECK(cnode_slot(nx, 0)->empty());
    CHECK(cnode_slot(ny, 0)->empty());
    CHECK(cnode_slot(ny, 3)->empty());
    CHECK_FALSE(f.has_children(ep));
    check_reclaimed();
  }

  SECTION("an untyped moved into a CNode made from it: revoking it destroys its own slot") {
    uint64_t x = f.sys.next_free();
    REQUIRE(f.sys.retype(child, ObjectType::kCNode, 2, x) == Status::kOk);
    const Cap nx = f.cap(x);
    REQUIRE(f.sys.invoke(x, Label::kCNodeMove, {1, 2, kRoot, child, 64}).status == Status::kOk);
    REQUIRE(f.invariants() == nullptr);
    REQUIRE(f.sys.invoke(x, Label::kCNodeRevoke, {1, 2}).status == Status::kOk);
    CHECK(f.empty(x));
    CHECK(cnode_slot(nx, 1)->empty());
    // The untyped went with the CNode: nothing of either is left.
    CHECK(f.empty(child));
  }
  REQUIRE(f.invariants() == nullptr);
}

}  // namespace
