// SPDX-License-Identifier: MIT
//
// Unit tests for ASID control and ASID pools: making pools from 4 KiB untyped (and every reason
// to refuse), assigning ASIDs to address spaces until a pool is full, and giving ASIDs back when
// an address space or a whole pool is destroyed.

// Released (ASID, PML4) pairs are compared as std::pair; print them when a check fails.
#define CATCH_CONFIG_ENABLE_PAIR_STRINGMAKER

#include "object/asid.hpp"

#include "../support/arch_stub.hpp"
#include "../support/arena.hpp"
#include "../support/catch_status.hpp"
#include "mem/phys.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

using abi::CapType;
using abi::Label;
using abi::ObjectType;
using abi::Status;
using keel::test::arch_log;
using keel::test::TestSystem;
using kernel::PhysAddr;

constexpr uint64_t kRoot = abi::kSlotInitCNode;
constexpr uint64_t kControl = abi::kSlotAsidControl;

struct Fixture {
  TestSystem sys;
  uint64_t big;

  Fixture() : big(sys.ram_untyped(22)) { arch_log().clear(); }

  uint64_t make(ObjectType type, uint64_t size_bits = 0, uint64_t from = 0) {
    uint64_t s = sys.next_free();
    REQUIRE(sys.retype(from == 0 ? big : from, type, size_bits, s) == Status::kOk);
    return s;
  }
  // A 4 KiB RAM untyped without children: what AsidControl wants.
  uint64_t small_untyped() { return make(ObjectType::kUntyped, 12); }

  Status make_pool(uint64_t ut, uint64_t dest) {
    return sys.invoke(kControl, Label::kAsidControlMakePool, {ut, kRoot, dest, 64}).status;
  }
  // Makes a pool and returns its slot.
  uint64_t pool() {
    uint64_t dest = sys.next_free();
    REQUIRE(make_pool(small_untyped(), dest) == Status::kOk);
    return dest;
  }
  Status assign(uint64_t pool_slot, uint64_t pml4) {
    return sys.invoke(pool_slot, Label::kAsidPoolAssign, {pml4}).status;
  }
  kernel::Cap& cap(uint64_t slot) { return sys.slot(slot)->cap; }
  uint64_t free_bytes(uint64_t ut) {
    auto r = sys.invoke(ut, Label::kUntypedDescribe, {});
    REQUIRE(r.ok());
    return r.words[3];
  }
};

using Release = std::pair<uint64_t, PhysAddr>;

TEST_CASE("asid control: making pools", "[asid]") {
  Fixture f;
  uint64_t ut = f.small_untyped();
  const PhysAddr base = f.cap(ut).object();
  // Dirty memory: the pool must come out empty all the same.
  std::memset(kernel::mem::phys_to<void>(base), 0xAA, 4096);
  uint64_t dest = f.sys.next_free();
  REQUIRE(f.make_pool(ut, dest) == Status::kOk);
  CHECK(f.cap(dest).type() == CapType::kAsidPool);
  CHECK(f.cap(dest).object() == base);
  CHECK(f.cap(dest).asid_pool_index() == 0);
  const auto* entries = kernel::mem::phys_to<uint64_t>(base);
  for (uint64_t i = 0; i < abi::kAsidPoolEntries; ++i) {
    CHECK(entries[i] == 0);
  }
  REQUIRE(f.sys.check_invariants() == nullptr);

  SECTION("the untyped is used up by it") {
    CHECK(f.free_bytes(ut) == 0);
    CHECK(f.sys.retype(ut, ObjectType::kEndpoint, 0, f.sys.next_free()) ==
          Status::kNotEnoughMemory);
    CHECK(f.make_pool(ut, f.sys.next_free()) == Status::kRevokeFirst);
  }

  SECTION("pools take consecutive indices; a freed index is reused") {
    uint64_t p1 = f.pool();
    uint64_t p2 = f.pool();
    CHECK(f.cap(p1).asid_pool_index() == 1);
    CHECK(f.cap(p2).asid_pool_index() == 2);
    REQUIRE(f.sys.del(p1) == Status::kOk);
    uint64_t again = f.pool();
    CHECK(f.cap(again).asid_pool_index() == 1);
  }

  SECTION("revoking the untyped removes the pool and frees its index") {
    REQUIRE(f.sys.revoke(ut) == Status::kOk);
    CHECK(f.sys.slot(dest)->empty());
    CHECK(f.free_bytes(ut) == 4096);
    uint64_t again = f.sys.next_free();
    REQUIRE(f.make_pool(ut, again) == Status::kOk);
    CHECK(f.cap(again).asid_pool_index() == 0);
  }

  SECTION("an untyped whose children are all gone can become a pool") {
    uint64_t other = f.small_untyped();
    uint64_t ep = f.make(ObjectType::kEndpoint, 0, other);
    REQUIRE(f.sys.del(ep) == Status::kOk);
    uint64_t p = f.sys.next_free();
    REQUIRE(f.make_pool(other, p) == Status::kOk);
    CHECK(f.cap(p).object() == f.cap(other).object());
  }
  REQUIRE(f.sys.check_invariants() == nullptr);
}

TEST_CASE("asid control: errors", "[asid]") {
  Fixture f;
  uint64_t dest = f.sys.next_free();

  SECTION("not a 4 KiB non-device untyped") {
    CHECK(f.make_pool(f.make(ObjectType::kUntyped, 13), dest) == Status::kInvalidCapability);
    CHECK(f.make_pool(f.make(ObjectType::kUntyped, 11), dest) == Status::kInvalidCapability);
    CHECK(f.make_pool(f.big, dest) == Status::kInvalidCapability);
    CHECK(f.make_pool(f.make(ObjectType::kEndpoint), dest) == Status::kInvalidCapability);
    CHECK(f.make_pool(f.make(ObjectType::kFrame4K), dest) == Status::kInvalidCapability);
    CHECK(f.make_pool(kRoot, dest) == Status::kInvalidCapability);
    CHECK(f.make_pool(f.sys.next_free(), dest) == Status::kEmptySlot);
    // A device untyped of the right size.
    const abi::BootInfo& info = f.sys.info();
    uint64_t dev = 0;
    for (uint64_t n = 0; n < info.untyped_count && dev == 0; ++n) {
      if (info.untyped_list[n].is_device && info.untyped_list[n].size_bits >= 12) {
        dev = info.untyped.start + n;
      }
    }
    REQUIRE(dev != 0);
    uint64_t dev4k = f.make(ObjectType::kUntyped, 12, dev);
    REQUIRE(f.cap(dev4k).untyped_is_device());
    CHECK(f.make_pool(dev4k, dest) == Status::kInvalidCapability);
  }

  SECTION("an untyped with children") {
    uint64_t ut = f.small_untyped();
    f.make(ObjectType::kEndpoint, 0, ut);
    CHECK(f.make_pool(ut, dest) == Status::kRevokeFirst);
    uint64_t whole = f.small_untyped();
    f.make(ObjectType::kUntyped, 12, whole);
    CHECK(f.make_pool(whole, dest) == Status::kRevokeFirst);
  }

  SECTION("an occupied destination") {
    uint64_t ut = f.small_untyped();
    uint64_t taken = f.make(ObjectType::kEndpoint);
    CHECK(f.make_pool(ut, taken) == Status::kDeleteFirst);
    CHECK(f.make_pool(ut, ut) == Status::kDeleteFirst);
    CHECK(f.free_bytes(ut) == 4096);
  }

  SECTION("the destination root and slot") {
    uint64_t ut = f.small_untyped();
    uint64_t ep = f.make(ObjectType::kEndpoint);
    CHECK(f.sys.invoke(kControl, Label::kAsidControlMakePool, {ut, ep, dest, 64}).status ==
          Status::kInvalidCapability);
    CHECK(f.sys.invoke(kControl, Label::kAsidControlMakePool, {ut, kRoot, dest, 0}).status ==
          Status::kDepthMismatch);
    CHECK(f.sys.invoke(kControl, Label::kAsidControlMakePool, {ut, kRoot, 1ull << 63, 64}).status ==
          Status::kGuardMismatch);
  }

  SECTION("no ninth pool") {
    uint64_t uts = f.sys.next_free();
    for (int i = 0; i < 8; ++i) {
      f.sys.next_free();
    }
    REQUIRE(f.sys.retype(f.big, ObjectType::kUntyped, 12, uts, 9) == Status::kOk);
    for (uint64_t i = 0; i < abi::kAsidPools; ++i) {
      uint64_t p = f.sys.next_free();
      REQUIRE(f.make_pool(uts + i, p) == Status::kOk);
      CHECK(f.cap(p).asid_pool_index() == i);
    }
    CHECK(f.make_pool(uts + 8, dest) == Status::kNoSpace);
    CHECK(f.free_bytes(uts + 8) == 4096);
  }

  SECTION("message errors") {
    uint64_t ut = f.small_untyped();
    CHECK(f.sys.invoke(kControl, Label::kAsidControlMakePool, {ut, kRoot, dest}).status ==
          Status::kTruncatedMessage);
    CHECK(f.sys.invoke(kControl, Label::kAsidPoolAssign, {ut}).status == Status::kIllegalOperation);
    CHECK(f.sys.invoke(kControl, Label::kCNodeDelete, {ut, 64}).status ==
          Status::kIllegalOperation);
    CHECK(f.sys.invoke(kRoot, Label::kAsidControlMakePool, {ut, kRoot, dest, 64}).status ==
          Status::kIllegalOperation);
  }
  CHECK(f.sys.slot(dest)->empty());
  CHECK(kernel::asid_lookup(1) == 0);
  REQUIRE(f.sys.check_invariants() == nullptr);
}

TEST_CASE("asid pool: assigning ASIDs", "[asid]") {
  Fixture f;
  uint64_t pool0 = f.pool();
  uint64_t vs = f.make(ObjectType::kPml4);
  REQUIRE(f.assign(pool0, vs) == Status::kOk);
  CHECK(f.cap(vs).pml4_has_asid());
  CHECK(f.cap(vs).pml4_asid() == 1);  // ASID 0 is the kernel's.
  CHECK(kernel::asid_lookup(1) == f.cap(vs).object());
  CHECK(kernel::asid_lookup(0) == 0);
  REQUIRE(f.sys.check_invariants() == nullptr);

  SECTION("an address space gets one ASID") {
    CHECK(f.assign(pool0, vs) == Status::kIllegalOperation);
    uint64_t pool1 = f.pool();
    CHECK(f.assign(pool1, vs) == Status::kIllegalOperation);
    CHECK(f.cap(vs).pml4_asid() == 1);
    CHECK(kernel::asid_lookup(2) == 0);
    CHECK(kernel::asid_lookup(512) == 0);
  }

  SECTION("a copy made after assignment carries the ASID") {
    uint64_t c = f.sys.next_free();
    REQUIRE(f.sys.copy(c, vs) == Status::kOk);
    CHECK(f.cap(c).pml4_asid() == 1);
    CHECK(f.assign(pool0, c) == Status::kIllegalOperation);
  }

  SECTION("only PML4s") {
    for (ObjectType t :
         {ObjectType::kPdpt, ObjectType::kEndpoint, ObjectType::kFrame4K, ObjectType::kCNode}) {
      CHECK(f.assign(pool0, f.make(t, 3)) == Status::kInvalidCapability);
    }
    CHECK(f.assign(pool0, pool0) == Status::kInvalidCapability);
    CHECK(f.assign(pool0, f.sys.next_free()) == Status::kEmptySlot);
    CHECK(f.sys.invoke(pool0, Label::kAsidPoolAssign, {}).status == Status::kTruncatedMessage);
    CHECK(f.sys.invoke(pool0, Label::kAsidControlMakePool, {vs, kRoot, vs, 64}).status ==
          Status::kIllegalOperation);
  }
  REQUIRE(f.sys.check_invariants() == nullptr);
}

// Fills `pool` with fresh PML4s until it refuses; returns the ASIDs handed out in order.
std::vector<uint64_t> fill_pool(Fixture& f, uint64_t pool, uint64_t expect) {
  uint64_t first = f.sys.next_free();
  for (uint64_t i = 1; i < expect + 1; ++i) {
    f.sys.next_free();
  }
  // 256 at a time (the retype limit), into consecutive root slots.
  for (uint64_t done = 0; done < expect + 1; done += 256) {
    uint64_t n = expect + 1 - done < 256 ? expect + 1 - done : 256;
    REQUIRE(f.sys.retype(f.big, ObjectType::kPml4, 0, first + done, n) == Status::kOk);
  }
  std::vector<uint64_t> asids;
  for (uint64_t i = 0; i < expect; ++i) {
    Status s = f.assign(pool, first + i);
    if (s != Status::kOk) {
      REQUIRE(s == Status::kOk);
    }
    asids.push_back(f.cap(first + i).pml4_asid());
  }
  CHECK(f.assign(pool, first + expect) == Status::kNoSpace);
  CHECK_FALSE(f.cap(first + expect).pml4_has_asid());
  return asids;
}

TEST_CASE("asid pool: full pools", "[asid]") {
  Fixture f;

  SECTION("pool 0 holds 511 (ASID 0 is reserved)") {
    uint64_t p = f.pool();
    std::vector<uint64_t> asids = fill_pool(f, p, 511);
    for (uint64_t i = 0; i < 511; ++i) {
      CHECK(asids[i] == i + 1);
    }
  }

  SECTION("other pools hold 512") {
    f.pool();
    uint64_t p = f.pool();
    std::vector<uint64_t> asids = fill_pool(f, p, 512);
    for (uint64_t i = 0; i < 512; ++i) {
      CHECK(asids[i] == 512 + i);
    }
    CHECK(kernel::asid_lookup(1023) != 0);
  }

  SECTION("the last pool, index 7") {
    for (int i = 0; i < 7; ++i) {
      f.pool();
    }
    uint64_t p = f.pool();
    REQUIRE(f.cap(p).asid_pool_index() == 7);
    std::vector<uint64_t> asids = fill_pool(f, p, 512);
    CHECK(asids.front() == 7 * 512);
    CHECK(asids.back() == 4095);
  }
  REQUIRE(f.sys.check_invariants() == nullptr);
}

TEST_CASE("asid: destroying an address space releases its ASID", "[asid]") {
  Fixture f;
  uint64_t pool = f.pool();
  uint64_t vs = f.make(ObjectType::kPml4);
  const PhysAddr obj = f.cap(vs).object();
  REQUIRE(f.assign(pool, vs) == Status::kOk);
  const uint64_t asid = f.cap(vs).pml4_asid();

  SECTION("deleting the last capability") {
    uint64_t c = f.sys.next_free();
    REQUIRE(f.sys.copy(c, vs) == Status::kOk);
    REQUIRE(f.sys.del(vs) == Status::kOk);
    CHECK(arch_log().releases.empty());
    CHECK(kernel::asid_lookup(asid) == obj);
    REQUIRE(f.sys.del(c) == Status::kOk);
    REQUIRE(arch_log().releases.size() == 1);
    CHECK(arch_log().releases[0] == Release{asid, obj});
    CHECK(kernel::asid_lookup(asid) == 0);
    // The ASID is free again.
    uint64_t next = f.make(ObjectType::kPml4);
    REQUIRE(f.assign(pool, next) == Status::kOk);
    CHECK(f.cap(next).pml4_asid() == asid);
  }

  SECTION("revoking the untyped it came from") {
    REQUIRE(f.sys.revoke(f.big) == Status::kOk);
    CHECK(f.sys.slot(vs)->empty());
    // The pool goes too (it is made from the same untyped); whichever goes first, the ASID is
    // released exactly once.
    CHECK(arch_log().releases == std::vector<Release>{{asid, obj}});
    CHECK(f.sys.slot(pool)->empty());
    CHECK(kernel::asid_lookup(asid) == 0);
  }

  SECTION("an address space without an ASID releases nothing") {
    uint64_t bare = f.make(ObjectType::kPml4);
    REQUIRE(f.sys.del(bare) == Status::kOk);
    CHECK(arch_log().releases.empty());
    CHECK(kernel::asid_lookup(asid) == obj);
  }
  REQUIRE(f.sys.check_invariants() == nullptr);
}

TEST_CASE("asid: destroying a pool releases all its address spaces", "[asid]") {
  Fixture f;
  uint64_t pool0 = f.pool();
  uint64_t pool1 = f.pool();
  std::vector<uint64_t> spaces;
  std::vector<Release> expected;
  for (int i = 0; i < 3; ++i) {
    uint64_t vs = f.make(ObjectType::kPml4);
    REQUIRE(f.assign(pool0, vs) == Status::kOk);
    spaces.push_back(vs);
    expected.push_back({f.cap(vs).pml4_asid(), f.cap(vs).object()});
  }
  uint64_t other = f.make(ObjectType::kPml4);
  REQUIRE(f.assign(pool1, other) == Status::kOk);
  uint64_t copy = f.sys.next_free();
  REQUIRE(f.sys.copy(copy, pool0) == Status::kOk);
  REQUIRE(f.sys.check_invariants() == nullptr);

  // A copy keeps the pool alive.
  REQUIRE(f.sys.del(pool0) == Status::kOk);
  CHECK(arch_log().releases.empty());
  uint64_t vs4 = f.make(ObjectType::kPml4);
  REQUIRE(f.assign(copy, vs4) == Status::kOk);
  expected.push_back({f.cap(vs4).pml4_asid(), f.cap(vs4).object()});
  spaces.push_back(vs4);

  REQUIRE(f.sys.del(copy) == Status::kOk);
  CHECK(arch_log().releases == expected);
  for (const Release& r : expected) {
    CHECK(kernel::asid_lookup(r.first) == 0);
  }
  CHECK(kernel::asid_lookup(f.cap(other).pml4_asid()) == f.cap(other).object());
  arch_log().clear();

  // A new pool takes index 0 again. An address space whose ASID went with the old pool can take
  // a new one (its capability's stale ASID does not count); destroying the others releases
  // nothing that now belongs to someone else.
  uint64_t fresh = f.pool();
  REQUIRE(f.cap(fresh).asid_pool_index() == 0);
  uint64_t newcomer = f.make(ObjectType::kPml4);
  REQUIRE(f.assign(fresh, newcomer) == Status::kOk);
  REQUIRE(f.cap(newcomer).pml4_asid() == expected[0].first);
  REQUIRE(f.assign(fresh, spaces[0]) == Status::kOk);
  const uint64_t reassigned = f.cap(spaces[0]).pml4_asid();
  CHECK(reassigned != expected[0].first);
  CHECK(kernel::asid_lookup(reassigned) == f.cap(spaces[0]).object());
  for (size_t i = 1; i < spaces.size(); ++i) {
    REQUIRE(f.sys.del(spaces[i]) == Status::kOk);
  }
  CHECK(arch_log().releases.empty());
  CHECK(kernel::asid_lookup(expected[0].first) == f.cap(newcomer).object());
  const PhysAddr first = f.cap(spaces[0]).object();
  REQUIRE(f.sys.del(spaces[0]) == Status::kOk);
  CHECK(arch_log().releases == std::vector<Release>{{reassigned, first}});
  REQUIRE(f.sys.check_invariants() == nullptr);
}

// A PML4 capability copied before the address space has an ASID would never learn of the ASID
// given later through another capability (it is recorded in the capability used for Assign), so
// such copies are refused, as in seL4. Once assigned, copies carry the ASID and the last one to
// go releases it.
TEST_CASE("asid: an address space without an ASID cannot be copied", "[asid]") {
  Fixture f;
  uint64_t pool = f.pool();
  uint64_t vs = f.make(ObjectType::kPml4);
  const PhysAddr obj = f.cap(vs).object();
  uint64_t early = f.sys.next_free();
  CHECK(f.sys.copy(early, vs) == Status::kIllegalOperation);
  REQUIRE(f.assign(pool, vs) == Status::kOk);
  const uint64_t asid = f.cap(vs).pml4_asid();
  uint64_t late = f.sys.next_free();
  REQUIRE(f.sys.copy(late, vs) == Status::kOk);
  CHECK(f.cap(late).pml4_asid() == asid);
  CHECK(f.assign(pool, late) == Status::kIllegalOperation);
  REQUIRE(f.sys.del(vs) == Status::kOk);
  CHECK(kernel::asid_lookup(asid) == obj);  // The copy keeps the address space alive.
  REQUIRE(f.sys.del(late) == Status::kOk);
  CHECK(kernel::asid_lookup(asid) == 0);
  CHECK(arch_log().releases == std::vector<Release>{{asid, obj}});
  REQUIRE(f.sys.check_invariants() == nullptr);
}

}  // namespace
