// SPDX-License-Identifier: MIT
//
// Unit tests for untyped memory: retype into every object type (alignment, zeroing, consecutive
// destination slots, counts up to 256), every documented retype error, the watermark (reset when
// the last child goes, reported by UntypedDescribe), child untyped, and device untyped, which may
// only become frames and untyped and are never written.
#include "../support/arch_stub.hpp"
#include "../support/arena.hpp"
#include "../support/catch_status.hpp"
#include "mem/phys.hpp"
#include "object/cnode.hpp"
#include "object/mdb.hpp"
#include "object/tcb.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

using abi::CapType;
using abi::Label;
using abi::ObjectType;
using abi::Status;
using keel::test::arch_log;
using keel::test::TestSystem;
using kernel::Cap;
using kernel::PhysAddr;
using kernel::Slot;

constexpr uint64_t kRoot = abi::kSlotInitCNode;

struct UntypedInfo {
  PhysAddr paddr;
  uint64_t size_bits;
  bool device;
  uint64_t free;
};

UntypedInfo describe_untyped(TestSystem& sys, uint64_t ut) {
  auto r = sys.invoke(ut, Label::kUntypedDescribe, {});
  REQUIRE(r.ok());
  REQUIRE(r.words.size() == 4);
  return {r.words[0], r.words[1], r.words[2] != 0, r.words[3]};
}

struct Desc {
  CapType type;
  uint8_t rights;
  PhysAddr object;
  uint64_t word1;
};

Desc describe(TestSystem& sys, uint64_t slot) {
  auto r = sys.invoke(kRoot, Label::kCNodeDescribe, {slot, 64});
  REQUIRE(r.ok());
  return {static_cast<CapType>(r.words[0]), static_cast<uint8_t>(r.words[1]), r.words[2],
          r.words[3]};
}

// Retype with every argument spelled out.
Status retype_args(TestSystem& sys, uint64_t ut, uint64_t type, uint64_t size_bits, uint64_t root,
                   uint64_t index, uint64_t depth, uint64_t offset, uint64_t count) {
  return sys.invoke(ut, Label::kUntypedRetype, {type, size_bits, root, index, depth, offset, count})
      .status;
}

bool all_bytes(PhysAddr p, uint64_t n, uint8_t value) {
  const uint8_t* b = kernel::mem::phys_to<uint8_t>(p);
  for (uint64_t i = 0; i < n; ++i) {
    if (b[i] != value) {
      return false;
    }
  }
  return true;
}

// `count` consecutive free root slots.
uint64_t free_slots(TestSystem& sys, uint64_t count) {
  uint64_t first = sys.next_free();
  for (uint64_t i = 1; i < count; ++i) {
    sys.next_free();
  }
  return first;
}

// The slot of the first device untyped at least 2^min_bits large.
uint64_t device_untyped(TestSystem& sys, uint64_t min_bits) {
  const abi::BootInfo& i = sys.info();
  for (uint64_t n = 0; n < i.untyped_count; ++n) {
    if (i.untyped_list[n].is_device && i.untyped_list[n].size_bits >= min_bits) {
      return i.untyped.start + n;
    }
  }
  FAIL("no device untyped that large");
  return 0;
}

CapType cap_type_of(ObjectType t) {
  switch (t) {
    case ObjectType::kUntyped:
      return CapType::kUntyped;
    case ObjectType::kTcb:
      return CapType::kTcb;
    case ObjectType::kEndpoint:
      return CapType::kEndpoint;
    case ObjectType::kCNode:
      return CapType::kCNode;
    case ObjectType::kFrame4K:
    case ObjectType::kFrame2M:
      return CapType::kFrame;
    case ObjectType::kPageTable:
      return CapType::kPageTable;
    case ObjectType::kPageDirectory:
      return CapType::kPageDirectory;
    case ObjectType::kPdpt:
      return CapType::kPdpt;
    case ObjectType::kPml4:
      return CapType::kPml4;
    case ObjectType::kAsidPool:
      return CapType::kAsidPool;
  }
  return CapType::kNull;
}

struct TypeCase {
  ObjectType type;
  uint64_t size_bits;
};

const TypeCase kEveryType[] = {
    {ObjectType::kUntyped, 4}, {ObjectType::kUntyped, 12},  {ObjectType::kUntyped, 21},
    {ObjectType::kCNode, 1},   {ObjectType::kCNode, 4},     {ObjectType::kCNode, 12},
    {ObjectType::kTcb, 0},     {ObjectType::kEndpoint, 0},  {ObjectType::kFrame4K, 0},
    {ObjectType::kFrame2M, 0}, {ObjectType::kPageTable, 0}, {ObjectType::kPageDirectory, 0},
    {ObjectType::kPdpt, 0},    {ObjectType::kPml4, 0},
};

TEST_CASE("untyped retype: every object type, aligned and zeroed", "[untyped]") {
  TestSystem sys;
  uint64_t big = sys.ram_untyped(23);
  uint64_t pool = sys.next_free();
  REQUIRE(sys.retype(big, ObjectType::kUntyped, 23, pool) == Status::kOk);
  const PhysAddr base = sys.slot(pool)->cap.object();
  const uint64_t pool_bytes = uint64_t{1} << 23;

  for (const TypeCase& c : kEveryType) {
    const uint64_t bits = abi::object_size_bits(c.type, c.size_bits);
    INFO("type " << uint64_t(c.type) << " size_bits " << c.size_bits);
    arch_log().clear();
    // Start from a clean untyped whose memory is all 0xAA, and put a 16-byte untyped first so
    // the object has to be aligned up past it.
    REQUIRE(sys.revoke(pool) == Status::kOk);
    std::memset(kernel::mem::phys_to<void>(base), 0xAA, pool_bytes);
    uint64_t pad = sys.next_free();
    REQUIRE(sys.retype(pool, ObjectType::kUntyped, 4, pad) == Status::kOk);
    uint64_t obj = sys.next_free();
    REQUIRE(sys.retype(pool, c.type, c.size_bits, obj) == Status::kOk);
    REQUIRE(sys.check_invariants() == nullptr);

    Desc d = describe(sys, obj);
    CHECK(d.type == cap_type_of(c.type));
    CHECK(d.object % (uint64_t{1} << bits) == 0);
    // The 16-byte untyped at the bottom pushes every object (all are at least 16 bytes) up to
    // its own size.
    CHECK(d.object == base + (uint64_t{1} << bits));
    CHECK(describe_untyped(sys, pool).free ==
          pool_bytes - (d.object - base) - (uint64_t{1} << bits));
    const uint64_t bytes = uint64_t{1} << bits;
    switch (c.type) {
      case ObjectType::kUntyped: {
        // An untyped child is not touched; what is made from it is zeroed.
        CHECK(describe_untyped(sys, obj).free == bytes);
        CHECK(describe_untyped(sys, obj).size_bits == c.size_bits);
        CHECK_FALSE(describe_untyped(sys, obj).device);
        if (c.size_bits >= abi::kEndpointBits) {
          uint64_t ep = sys.next_free();
          REQUIRE(sys.retype(obj, ObjectType::kEndpoint, 0, ep) == Status::kOk);
          CHECK(all_bytes(d.object, uint64_t{1} << abi::kEndpointBits, 0));
        }
        break;
      }
      case ObjectType::kTcb: {
        // Slots are empty except the master reply capability that tcb_init installs, the FPU
        // area is zero, and the thread starts inactive with user segments and no IPC buffer.
        const uint64_t reply_off = kernel::kTcbReplySlot * sizeof(kernel::Slot);
        CHECK(all_bytes(d.object, reply_off, 0));
        const uint64_t after = reply_off + sizeof(kernel::Slot);
        const uint64_t slots_end = kernel::kTcbSlotCount * sizeof(kernel::Slot);
        CHECK(all_bytes(d.object + after, slots_end - after, 0));
        CHECK(all_bytes(d.object + kernel::kFpuAreaOffset, bytes - kernel::kFpuAreaOffset, 0));
        const kernel::Tcb* t = kernel::mem::phys_to<kernel::Tcb>(d.object);
        CHECK(t->slots[kernel::kTcbReplySlot].cap.type() == CapType::kReply);
        CHECK(t->state == kernel::ThreadState::kInactive);
        CHECK(t->context.rax == 0);
        CHECK(t->context.cs == 0x2B);
        CHECK(t->ipc_buffer_vaddr == 0);
        CHECK(t->fault_ep_cptr == 0);
        break;
      }
      case ObjectType::kCNode:
        CHECK(all_bytes(d.object, bytes, 0));
        CHECK(sys.slot(obj)->cap.cnode_radix() == c.size_bits);
        CHECK(sys.slot(obj)->cap.cnode_guard_bits() == 0);
        break;
      case ObjectType::kPml4:
        CHECK(all_bytes(d.object, bytes, 0));
        REQUIRE(arch_log().pml4_inits.size() == 1);
        CHECK(arch_log().pml4_inits[0] == d.object);
        CHECK_FALSE(sys.slot(obj)->cap.pml4_has_asid());
        break;
      case ObjectType::kFrame4K:
      case ObjectType::kFrame2M:
        CHECK(all_bytes(d.object, bytes, 0));
        CHECK(d.rights == abi::Rights::kAllBits);
        CHECK(sys.slot(obj)->cap.frame_bytes() == bytes);
        CHECK_FALSE(sys.slot(obj)->cap.frame_is_device());
        CHECK_FALSE(sys.slot(obj)->cap.is_mapped());
        break;
      default:
        CHECK(all_bytes(d.object, bytes, 0));
        break;
    }
    if (c.type != ObjectType::kPml4) {
      CHECK(arch_log().pml4_inits.empty());
    }
    // The 0xAA beyond the object was not touched.
    CHECK(all_bytes(d.object + bytes, 64, 0xAA));
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("untyped retype: consecutive destination slots, up to 256", "[untyped]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(22);

  SECTION("256 endpoints in the root CNode") {
    uint64_t first = free_slots(sys, 256);
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, first, 256) == Status::kOk);
    const PhysAddr base = describe(sys, first).object;
    for (uint64_t i = 0; i < 256; ++i) {
      Desc d = describe(sys, first + i);
      CHECK(d.type == CapType::kEndpoint);
      CHECK(d.object == base + i * 64);
    }
    CHECK(sys.slot(first + 256)->empty());
    CHECK(describe_untyped(sys, ut).free ==
          (uint64_t{1} << sys.slot(ut)->cap.untyped_size_bits()) - 256 * 64);
  }

  SECTION("frames into the middle of another CNode, addressed by (root, index, depth)") {
    uint64_t cn = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 9, cn) == Status::kOk);
    REQUIRE(retype_args(sys, ut, uint64_t(ObjectType::kFrame4K), 0, kRoot, cn, 64, 100, 256) ==
            Status::kOk);
    const Cap node = sys.slot(cn)->cap;
    const Slot* s = kernel::cnode_slots(node);
    CHECK(s[99].empty());
    CHECK(s[356].empty());
    for (uint64_t i = 0; i < 256; ++i) {
      REQUIRE(s[100 + i].cap.type() == CapType::kFrame);
      CHECK(s[100 + i].cap.object() == s[100].cap.object() + i * 4096);
      CHECK(s[100 + i].cap.object() % 4096 == 0);
    }
    // The same CNode named directly by its cptr (depth 0: the root argument itself).
    REQUIRE(retype_args(sys, ut, uint64_t(ObjectType::kEndpoint), 0, cn, 0, 0, 511, 1) ==
            Status::kOk);
    CHECK(s[511].cap.type() == CapType::kEndpoint);
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("untyped retype: argument errors", "[untyped]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(20);
  uint64_t dest = sys.next_free();
  const uint64_t free_before = describe_untyped(sys, ut).free;
  auto raw = [&](uint64_t type, uint64_t size_bits, uint64_t offset, uint64_t count) {
    return retype_args(sys, ut, type, size_bits, kRoot, 0, 0, offset, count);
  };
  const uint64_t ep_type = uint64_t(ObjectType::kEndpoint);

  SECTION("unknown types and ASID pools are invalid arguments") {
    for (uint64_t t : {abi::kObjectTypeCount, abi::kObjectTypeCount + 1, uint64_t{1} << 63,
                       ~uint64_t{0}, uint64_t(ObjectType::kAsidPool)}) {
      CHECK(raw(t, 12, dest, 1) == Status::kInvalidArgument);
    }
  }

  SECTION("untyped sizes outside 4..47") {
    for (uint64_t bits : {uint64_t{0}, uint64_t{3}, uint64_t{48}, uint64_t{63}, ~uint64_t{0}}) {
      CHECK(raw(uint64_t(ObjectType::kUntyped), bits, dest, 1) == Status::kRangeError);
    }
    // In range but larger than the untyped.
    CHECK(raw(uint64_t(ObjectType::kUntyped), 47, dest, 1) == Status::kNotEnoughMemory);
  }

  SECTION("CNode radix outside 1..24") {
    for (uint64_t radix : {uint64_t{0}, uint64_t{25}, uint64_t{64}}) {
      CHECK(raw(uint64_t(ObjectType::kCNode), radix, dest, 1) == Status::kRangeError);
    }
    CHECK(raw(uint64_t(ObjectType::kCNode), 24, dest, 1) == Status::kNotEnoughMemory);
  }

  SECTION("fixed-size types ignore size_bits") {
    REQUIRE(raw(ep_type, 63, dest, 1) == Status::kOk);
    CHECK(describe(sys, dest).type == CapType::kEndpoint);
    REQUIRE(sys.del(dest) == Status::kOk);
  }

  SECTION("counts of 0 and over 256") {
    CHECK(raw(ep_type, 0, dest, 0) == Status::kRangeError);
    CHECK(raw(ep_type, 0, dest, 257) == Status::kRangeError);
    CHECK(raw(ep_type, 0, dest, ~uint64_t{0}) == Status::kRangeError);
  }

  SECTION("slots beyond the CNode") {
    const uint64_t n = sys.slot_count();
    CHECK(raw(ep_type, 0, n - 1, 2) == Status::kRangeError);
    CHECK(raw(ep_type, 0, n, 1) == Status::kRangeError);
    CHECK(raw(ep_type, 0, n - 100, 101) == Status::kRangeError);
    CHECK(raw(ep_type, 0, ~uint64_t{0}, 1) == Status::kRangeError);
    CHECK(raw(ep_type, 0, ~uint64_t{0} - 2, 4) == Status::kRangeError);
    uint64_t cn = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 2, cn) == Status::kOk);
    CHECK(retype_args(sys, ut, ep_type, 0, cn, 0, 0, 2, 3) == Status::kRangeError);
    REQUIRE(retype_args(sys, ut, ep_type, 0, cn, 0, 0, 1, 3) == Status::kOk);
    REQUIRE(sys.revoke(ut) == Status::kOk);
  }

  SECTION("an occupied destination slot: nothing is created") {
    uint64_t first = free_slots(sys, 4);
    uint64_t blocker = first + 3;
    REQUIRE(sys.copy(blocker, abi::kSlotAsidControl) == Status::kOk);
    CHECK(sys.retype(ut, ObjectType::kEndpoint, 0, first, 4) == Status::kDeleteFirst);
    for (uint64_t i = 0; i < 3; ++i) {
      CHECK(sys.slot(first + i)->empty());
    }
    CHECK(sys.retype(ut, ObjectType::kEndpoint, 0, blocker, 1) == Status::kDeleteFirst);
    REQUIRE(sys.del(blocker) == Status::kOk);
  }

  SECTION("the destination CNode argument") {
    uint64_t ep = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, ep) == Status::kOk);
    uint64_t empty = sys.next_free();
    // root is not a CNode, or empty.
    CHECK(retype_args(sys, ut, ep_type, 0, ep, 0, 0, 0, 1) == Status::kInvalidCapability);
    CHECK(retype_args(sys, ut, ep_type, 0, empty, 0, 0, 0, 1) == Status::kEmptySlot);
    // (index, depth) below the root names an endpoint, an empty slot, or does not resolve.
    CHECK(retype_args(sys, ut, ep_type, 0, kRoot, ep, 64, 0, 1) == Status::kInvalidCapability);
    CHECK(retype_args(sys, ut, ep_type, 0, kRoot, empty, 64, 0, 1) == Status::kEmptySlot);
    CHECK(retype_args(sys, ut, ep_type, 0, kRoot, empty, 63, 0, 1) == Status::kDepthMismatch);
    CHECK(retype_args(sys, ut, ep_type, 0, kRoot, empty, 65, 0, 1) == Status::kDepthMismatch);
    CHECK(retype_args(sys, ut, ep_type, 0, kRoot, uint64_t{1} << 62, 64, 0, 1) ==
          Status::kGuardMismatch);
    REQUIRE(sys.del(ep) == Status::kOk);
  }

  SECTION("message errors") {
    CHECK(sys.invoke(ut, Label::kUntypedRetype, {ep_type, 0, kRoot, 0, 0, dest}).status ==
          Status::kTruncatedMessage);
    CHECK(sys.invoke(ut, Label::kCNodeCopy, {dest, 64, kRoot, ut, 64, 31}).status ==
          Status::kIllegalOperation);
    CHECK(sys.invoke(ut, 99, std::vector<uint64_t>(7, 0)).status == Status::kIllegalOperation);
    CHECK(sys.invoke(kRoot, Label::kUntypedRetype, {ep_type, 0, kRoot, 0, 0, dest, 1}).status ==
          Status::kIllegalOperation);
  }
  CHECK(sys.slot(dest)->empty());
  CHECK(describe_untyped(sys, ut).free == free_before);
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("untyped retype: running out of memory", "[untyped]") {
  TestSystem sys;
  uint64_t big = sys.ram_untyped(20);
  uint64_t ut = sys.next_free();
  REQUIRE(sys.retype(big, ObjectType::kUntyped, 12, ut) == Status::kOk);
  uint64_t first = free_slots(sys, 70);

  SECTION("objects bigger than the untyped") {
    CHECK(sys.retype(ut, ObjectType::kUntyped, 13, first) == Status::kNotEnoughMemory);
    CHECK(sys.retype(ut, ObjectType::kCNode, 8, first) == Status::kNotEnoughMemory);
    CHECK(sys.retype(ut, ObjectType::kFrame2M, 0, first) == Status::kNotEnoughMemory);
    // Exactly its size is fine.
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 7, first) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == 0);
  }

  SECTION("too many at once creates nothing") {
    CHECK(sys.retype(ut, ObjectType::kEndpoint, 0, first, 65) == Status::kNotEnoughMemory);
    for (uint64_t i = 0; i < 65; ++i) {
      CHECK(sys.slot(first + i)->empty());
    }
    CHECK(describe_untyped(sys, ut).free == 4096);
  }

  SECTION("retype until exhausted, then revoke and use it all again") {
    for (uint64_t i = 0; i < 64; ++i) {
      REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, first + i) == Status::kOk);
      CHECK(describe_untyped(sys, ut).free == 4096 - 64 * (i + 1));
    }
    CHECK(sys.retype(ut, ObjectType::kEndpoint, 0, first + 64) == Status::kNotEnoughMemory);
    CHECK(sys.retype(ut, ObjectType::kUntyped, 4, first + 64) == Status::kNotEnoughMemory);
    REQUIRE(sys.check_invariants() == nullptr);
    REQUIRE(sys.revoke(ut) == Status::kOk);
    for (uint64_t i = 0; i < 64; ++i) {
      CHECK(sys.slot(first + i)->empty());
    }
    CHECK(describe_untyped(sys, ut).free == 4096);
    REQUIRE(sys.retype(ut, ObjectType::kUntyped, 12, first) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == 0);
  }

  SECTION("alignment padding counts as used") {
    REQUIRE(sys.retype(ut, ObjectType::kUntyped, 4, first) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == 4096 - 16);
    // 2 KiB objects: the first starts at 2 KiB, so only one fits.
    REQUIRE(sys.retype(ut, ObjectType::kCNode, 6, first + 1) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == 0);
    CHECK(sys.retype(ut, ObjectType::kUntyped, 4, first + 2) == Status::kNotEnoughMemory);
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("untyped watermark: reset when the last child goes", "[untyped]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(20);
  const UntypedInfo fresh = describe_untyped(sys, ut);
  const uint64_t size = uint64_t{1} << fresh.size_bits;
  CHECK(fresh.free == size);
  CHECK(fresh.paddr == sys.slot(ut)->cap.object());
  CHECK_FALSE(fresh.device);

  SECTION("deleting every child one by one") {
    uint64_t a = sys.next_free();
    uint64_t b = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, a) == Status::kOk);
    REQUIRE(sys.retype(ut, ObjectType::kTcb, 0, b) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == size - 2 * 4096);
    REQUIRE(sys.del(a) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == size - 2 * 4096);
    REQUIRE(sys.del(b) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == size);
    // The next object starts at the bottom again.
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, a) == Status::kOk);
    CHECK(describe(sys, a).object == fresh.paddr);
  }

  SECTION("copies keep the memory in use after the original goes") {
    uint64_t a = sys.next_free();
    uint64_t c = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, a) == Status::kOk);
    REQUIRE(sys.copy(c, a) == Status::kOk);
    REQUIRE(sys.del(a) == Status::kOk);
    CHECK(describe_untyped(sys, ut).free == size - 64);
    uint64_t next = sys.next_free();
    REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, next) == Status::kOk);
    CHECK(describe(sys, next).object == fresh.paddr + 64);
    REQUIRE(sys.revoke(ut) == Status::kOk);
    CHECK(sys.slot(c)->empty());
    CHECK(describe_untyped(sys, ut).free == size);
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("untyped children", "[untyped]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(20);
  uint64_t kids = free_slots(sys, 2);
  REQUIRE(sys.retype(ut, ObjectType::kUntyped, 14, kids, 2) == Status::kOk);
  uint64_t c1 = kids;
  uint64_t c2 = kids + 1;
  const uint64_t size = uint64_t{1} << describe_untyped(sys, ut).size_bits;
  const uint64_t used = 2 << 14;
  CHECK(describe_untyped(sys, ut).free == size - used);
  CHECK(describe_untyped(sys, c1).free == 1 << 14);
  CHECK(describe_untyped(sys, c2).paddr == describe_untyped(sys, c1).paddr + (1 << 14));
  uint64_t e1 = sys.next_free();
  uint64_t e2 = sys.next_free();
  uint64_t e3 = sys.next_free();
  REQUIRE(sys.retype(c1, ObjectType::kEndpoint, 0, e1) == Status::kOk);
  REQUIRE(sys.retype(c2, ObjectType::kEndpoint, 0, e2) == Status::kOk);
  REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, e3) == Status::kOk);
  CHECK(describe(sys, e3).object == describe_untyped(sys, ut).paddr + used);
  REQUIRE(sys.check_invariants() == nullptr);

  SECTION("a child is revoked on its own") {
    REQUIRE(sys.revoke(c1) == Status::kOk);
    CHECK(sys.slot(e1)->empty());
    CHECK_FALSE(sys.slot(e2)->empty());
    CHECK_FALSE(sys.slot(e3)->empty());
    CHECK(describe_untyped(sys, c1).free == 1 << 14);
    CHECK(describe_untyped(sys, c2).free == (1 << 14) - 64);
    CHECK(describe_untyped(sys, ut).free == size - used - 64);
    // And can be used again from its bottom.
    REQUIRE(sys.retype(c1, ObjectType::kUntyped, 14, e1) == Status::kOk);
  }

  SECTION("deleting a child untyped with children leaves them, still under the parent") {
    REQUIRE(sys.del(c2) == Status::kOk);
    CHECK(sys.slot(c2)->empty());
    CHECK_FALSE(sys.slot(e2)->empty());
    REQUIRE(sys.check_invariants() == nullptr);
    // The parent's memory stays in use and revoking it reaches the orphans.
    CHECK(describe_untyped(sys, ut).free == size - used - 64);
    REQUIRE(sys.revoke(ut) == Status::kOk);
    for (uint64_t s : {c1, e1, e2, e3}) {
      CHECK(sys.slot(s)->empty());
    }
    CHECK(describe_untyped(sys, ut).free == size);
  }

  SECTION("deleting the parent untyped leaves its children") {
    REQUIRE(sys.del(ut) == Status::kOk);
    CHECK(sys.slot(ut)->empty());
    for (uint64_t s : {c1, c2, e1, e2, e3}) {
      CHECK_FALSE(sys.slot(s)->empty());
    }
    REQUIRE(sys.check_invariants() == nullptr);
    REQUIRE(sys.revoke(c2) == Status::kOk);
    CHECK(sys.slot(e2)->empty());
  }

  SECTION("revoking the parent removes the children and their objects") {
    REQUIRE(sys.revoke(ut) == Status::kOk);
    for (uint64_t s : {c1, c2, e1, e2, e3}) {
      CHECK(sys.slot(s)->empty());
    }
    CHECK(describe_untyped(sys, ut).free == size);
    REQUIRE(sys.retype(ut, ObjectType::kUntyped, describe_untyped(sys, ut).size_bits, c1) ==
            Status::kOk);
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

TEST_CASE("untyped: device memory", "[untyped]") {
  TestSystem sys;
  uint64_t dev = device_untyped(sys, 22);
  const UntypedInfo info = describe_untyped(sys, dev);
  REQUIRE(info.device);
  // Device memory lies outside the host arena: any write the kernel made would fault.
  REQUIRE_FALSE(sys.arena().contains(info.paddr, 1));
  uint64_t dest = sys.next_free();

  SECTION("frames") {
    REQUIRE(sys.retype(dev, ObjectType::kFrame4K, 0, dest) == Status::kOk);
    CHECK(sys.slot(dest)->cap.frame_is_device());
    CHECK(describe(sys, dest).word1 == 4);  // 4 KiB, device.
    uint64_t large = sys.next_free();
    REQUIRE(sys.retype(dev, ObjectType::kFrame2M, 0, large) == Status::kOk);
    CHECK(sys.slot(large)->cap.frame_is_device());
    CHECK(sys.slot(large)->cap.frame_bytes() == 2u << 20);
    CHECK(describe(sys, large).object % (2u << 20) == 0);
    uint64_t many = free_slots(sys, 256);
    REQUIRE(sys.retype(dev, ObjectType::kFrame4K, 0, many, 256) == Status::kOk);
    // Device frames copy, and revoking the untyped removes them.
    uint64_t c = sys.next_free();
    REQUIRE(sys.copy(c, dest) == Status::kOk);
    REQUIRE(sys.revoke(dev) == Status::kOk);
    CHECK(sys.slot(c)->empty());
    CHECK(sys.slot(many + 255)->empty());
  }

  SECTION("child untyped stay device memory") {
    REQUIRE(sys.retype(dev, ObjectType::kUntyped, 21, dest) == Status::kOk);
    CHECK(describe_untyped(sys, dest).device);
    CHECK(sys.slot(dest)->cap.untyped_is_device());
    uint64_t fr = sys.next_free();
    REQUIRE(sys.retype(dest, ObjectType::kFrame4K, 0, fr) == Status::kOk);
    CHECK(sys.slot(fr)->cap.frame_is_device());
    CHECK(sys.retype(dest, ObjectType::kEndpoint, 0, sys.next_free()) == Status::kInvalidArgument);
  }

  SECTION("nothing else") {
    for (ObjectType t :
         {ObjectType::kCNode, ObjectType::kTcb, ObjectType::kEndpoint, ObjectType::kPageTable,
          ObjectType::kPageDirectory, ObjectType::kPdpt, ObjectType::kPml4}) {
      INFO("type " << uint64_t(t));
      CHECK(sys.retype(dev, t, 4, dest) == Status::kInvalidArgument);
    }
    CHECK(sys.slot(dest)->empty());
    CHECK(describe_untyped(sys, dev).free == uint64_t{1} << info.size_bits);
  }
  REQUIRE(sys.check_invariants() == nullptr);
}

}  // namespace
