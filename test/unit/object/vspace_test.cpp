// SPDX-License-Identifier: MIT
//
// Unit tests for address-space objects through their invocations: ASID pools, mapping paging
// structures and frames into a PML4, and the x86_64 entries that result, read back from the
// arena that stands in for physical memory. The architecture hooks are recording doubles, so
// what the hardware side does (clearing the parent entry, TLB flushes) shows up in arch_log().
#include <abi/registers.hpp>

#include "../support/arch_stub.hpp"
#include "../support/arena.hpp"
#include "arch/x86_64/pte.hpp"
#include "mem/phys.hpp"
#include "object/asid.hpp"
#include "object/tcb.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
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
namespace x86 = kernel::x86;

constexpr uint64_t kP = x86::kPtePresent;
constexpr uint64_t kW = x86::kPteWrite;
constexpr uint64_t kU = x86::kPteUser;
constexpr uint64_t kNx = x86::kPteNx;
constexpr uint64_t kPs = x86::kPteHuge;
constexpr uint64_t kUncached = x86::kPteCacheDisable | x86::kPteWriteThrough;
constexpr uint64_t kLink = kP | kW | kU;  // How a table is linked into its parent.

constexpr uint8_t kR = Rights::kRead;
constexpr uint8_t kWr = Rights::kWrite;
constexpr uint8_t kX = Rights::kExecute;

constexpr uint64_t kVaddr = 0x0000123456789000;  // Different indices at every level.

// Paging structures covering one address: PDPT, page directory and page table slots.
struct Tables {
  uint64_t pdpt = 0;
  uint64_t pd = 0;
  uint64_t pt = 0;
};

// A test system with an ASID pool (made through the boot ASID control) and one address space.
class Space {
 public:
  TestSystem sys;
  uint64_t pool = 0;
  uint64_t pml4 = 0;

  Space() {
    ut_ = sys.ram_untyped(22);
    pool = make_pool();
    pml4 = new_space();
  }

  uint64_t make(ObjectType type, uint64_t size_bits = 0) {
    uint64_t slot = sys.next_free();
    REQUIRE(sys.retype(ut_, type, size_bits, slot) == Status::kOk);
    return slot;
  }

  uint64_t make_pool() {
    uint64_t ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
    uint64_t slot = sys.next_free();
    REQUIRE(sys.invoke(abi::kSlotAsidControl, Label::kAsidControlMakePool,
                       {ut, abi::kSlotInitCNode, slot, 64})
                .ok());
    return slot;
  }

  // A PML4 with an ASID from `pool_slot`.
  uint64_t new_space(uint64_t pool_slot = 0) {
    uint64_t slot = make(ObjectType::kPml4);
    REQUIRE(sys.invoke(pool_slot != 0 ? pool_slot : pool, Label::kAsidPoolAssign, {slot}).ok());
    return slot;
  }

  const Cap& cap(uint64_t slot) const { return sys.slot(slot)->cap; }
  uint64_t phys(uint64_t slot) const { return cap(slot).object(); }
  uint64_t* table(uint64_t slot) const { return kernel::mem::phys_to<uint64_t>(phys(slot)); }
  uint64_t asid(uint64_t vspace) const { return cap(vspace).pml4_asid(); }

  // The entry for `vaddr` in the table at `slot`, which is at `level` (0 PT .. 3 PML4).
  uint64_t entry(uint64_t slot, uint64_t vaddr, int level) const {
    return table(slot)[x86::pt_index(vaddr, level)];
  }

  Status map_frame(uint64_t frame, uint64_t vaddr, uint64_t rights, uint64_t attributes = 0,
                   uint64_t vspace = 0) {
    return sys
        .invoke(frame, Label::kFrameMap, {vspace != 0 ? vspace : pml4, vaddr, rights, attributes})
        .status;
  }

  Status map_table(uint64_t table_slot, uint64_t vaddr, uint64_t vspace = 0) {
    Label label = Label::kPdptMap;
    if (cap(table_slot).type() == CapType::kPageTable) {
      label = Label::kPageTableMap;
    } else if (cap(table_slot).type() == CapType::kPageDirectory) {
      label = Label::kPageDirectoryMap;
    }
    return sys.invoke(table_slot, label, {vspace != 0 ? vspace : pml4, vaddr}).status;
  }

  Status unmap(uint64_t slot) {
    Label label = Label::kFrameUnmap;
    switch (cap(slot).type()) {
      case CapType::kPageTable:
        label = Label::kPageTableUnmap;
        break;
      case CapType::kPageDirectory:
        label = Label::kPageDirectoryUnmap;
        break;
      case CapType::kPdpt:
        label = Label::kPdptUnmap;
        break;
      default:
        break;
    }
    return sys.invoke(slot, label, {}).status;
  }

  // Makes and maps the tables down to `level` (2: PDPT, 1: PD too, 0: PT too) for `vaddr`.
  Tables tables_for(uint64_t vaddr, int level = 0, uint64_t vspace = 0) {
    Tables t;
    t.pdpt = make(ObjectType::kPdpt);
    REQUIRE(map_table(t.pdpt, vaddr, vspace) == Status::kOk);
    if (level <= 1) {
      t.pd = make(ObjectType::kPageDirectory);
      REQUIRE(map_table(t.pd, vaddr, vspace) == Status::kOk);
    }
    if (level <= 0) {
      t.pt = make(ObjectType::kPageTable);
      REQUIRE(map_table(t.pt, vaddr, vspace) == Status::kOk);
    }
    return t;
  }

  uint64_t copy(uint64_t src, uint8_t rights) {
    uint64_t slot = sys.next_free();
    REQUIRE(sys.copy(slot, src, rights) == Status::kOk);
    return slot;
  }

  // Whether any present entry in the user half of `vspace` (or every table below it) points at
  // physical address `object`.
  bool reachable(uint64_t object, uint64_t vspace = 0) const {
    return reachable_from(phys(vspace != 0 ? vspace : pml4), 3, object);
  }

  static bool reachable_from(uint64_t table_phys, int level, uint64_t object) {
    const uint64_t* t = kernel::mem::phys_to<uint64_t>(table_phys);
    size_t entries = level == 3 ? 256 : 512;  // The kernel half is not ours to look at.
    for (size_t i = 0; i < entries; ++i) {
      uint64_t e = t[i];
      if ((e & kP) == 0) {
        continue;
      }
      uint64_t target = e & x86::kPteAddrMask;
      if (target == object) {
        return true;
      }
      bool leaf = level == 0 || (e & x86::kPteHuge) != 0;
      if (!leaf && reachable_from(target, level - 1, object)) {
        return true;
      }
    }
    return false;
  }

 private:
  uint64_t ut_ = 0;
};

std::vector<uint64_t> snapshot(const uint64_t* table) {
  return {table, table + 512};
}

bool all_zero(const uint64_t* table) {
  return std::all_of(table, table + 512, [](uint64_t e) { return e == 0; });
}

}  // namespace

// --- ASIDs -------------------------------------------------------------------------------------

TEST_CASE("vspace: ASID pools hand out ASIDs to address spaces", "[vspace][asid]") {
  Space s;
  // Pool 0 never hands out ASID 0, the kernel's.
  CHECK(s.cap(s.pml4).pml4_has_asid());
  CHECK(s.asid(s.pml4) == 1);
  CHECK(kernel::asid_lookup(1) == s.phys(s.pml4));
  uint64_t second = s.new_space();
  CHECK(s.asid(second) == 2);
  CHECK(s.cap(s.pool).asid_pool_index() == 0);

  uint64_t pool1 = s.make_pool();
  CHECK(s.cap(pool1).asid_pool_index() == 1);
  uint64_t third = s.new_space(pool1);
  CHECK(s.asid(third) == abi::kAsidPoolEntries);
  CHECK(kernel::asid_lookup(abi::kAsidPoolEntries) == s.phys(third));

  // An address space keeps the ASID it has.
  CHECK(s.sys.invoke(pool1, Label::kAsidPoolAssign, {second}).status == Status::kIllegalOperation);
  CHECK(s.asid(second) == 2);
  CHECK(s.sys.invoke(pool1, Label::kAsidPoolAssign, {s.pool}).status == Status::kInvalidCapability);
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: AsidControlMakePool errors", "[vspace][asid]") {
  Space s;
  uint64_t dest = s.sys.next_free();
  auto make_pool = [&](uint64_t ut, uint64_t slot) {
    return s.sys
        .invoke(abi::kSlotAsidControl, Label::kAsidControlMakePool,
                {ut, abi::kSlotInitCNode, slot, 64})
        .status;
  };
  SECTION("an untyped of the wrong size") {
    CHECK(make_pool(s.make(ObjectType::kUntyped, 13), dest) == Status::kInvalidCapability);
  }
  SECTION("not an untyped") {
    CHECK(make_pool(s.make(ObjectType::kEndpoint), dest) == Status::kInvalidCapability);
  }
  SECTION("an untyped with children") {
    uint64_t ut = s.make(ObjectType::kUntyped, 12);
    REQUIRE(s.sys.retype(ut, ObjectType::kEndpoint, 0, s.sys.next_free()) == Status::kOk);
    CHECK(make_pool(ut, dest) == Status::kRevokeFirst);
  }
  SECTION("an occupied destination") {
    CHECK(make_pool(s.make(ObjectType::kUntyped, 12), s.pml4) == Status::kDeleteFirst);
  }
  SECTION("every pool exists") {
    for (uint64_t i = 1; i < abi::kAsidPools; ++i) {
      s.make_pool();
    }
    CHECK(make_pool(s.make(ObjectType::kUntyped, 12), dest) == Status::kNoSpace);
  }
  CHECK(s.sys.slot(dest)->empty());
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: a full pool assigns no more ASIDs", "[vspace][asid]") {
  Space s;
  uint64_t pool1 = s.make_pool();
  // Pool 1 has all 512 entries to give.
  uint64_t first = s.sys.next_free();
  for (uint64_t i = 0; i < abi::kAsidPoolEntries; ++i) {
    s.sys.next_free();
  }
  uint64_t ut = s.make(ObjectType::kUntyped, 21);
  REQUIRE(s.sys.retype(ut, ObjectType::kPml4, 0, first, 256) == Status::kOk);
  uint64_t ut2 = s.make(ObjectType::kUntyped, 21);
  REQUIRE(s.sys.retype(ut2, ObjectType::kPml4, 0, first + 256, 256) == Status::kOk);
  for (uint64_t i = 0; i < abi::kAsidPoolEntries; ++i) {
    REQUIRE(s.sys.invoke(pool1, Label::kAsidPoolAssign, {first + i}).ok());
    REQUIRE(s.asid(first + i) == abi::kAsidPoolEntries + i);
  }
  uint64_t extra = s.make(ObjectType::kPml4);
  CHECK(s.sys.invoke(pool1, Label::kAsidPoolAssign, {extra}).status == Status::kNoSpace);
  CHECK_FALSE(s.cap(extra).pml4_has_asid());
  // Freeing one makes room again, and the same ASID comes back.
  REQUIRE(s.sys.del(first + 7) == Status::kOk);
  CHECK(s.sys.invoke(pool1, Label::kAsidPoolAssign, {extra}).ok());
  CHECK(s.asid(extra) == abi::kAsidPoolEntries + 7);
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: destroying a PML4 or its pool releases the ASID", "[vspace][asid]") {
  Space s;
  uint64_t other = s.new_space();
  uint64_t frame = s.make(ObjectType::kFrame4K);
  s.tables_for(kVaddr, 0, other);
  arch_log().releases.clear();

  SECTION("the PML4") {
    uint64_t asid = s.asid(other);
    uint64_t phys = s.phys(other);
    REQUIRE(s.sys.del(other) == Status::kOk);
    REQUIRE(arch_log().releases.size() == 1);
    CHECK(arch_log().releases[0] == std::make_pair(asid, phys));
    CHECK(kernel::asid_lookup(asid) == 0);
    // The next address space gets it.
    CHECK(s.asid(s.new_space()) == asid);
  }
  SECTION("the pool") {
    REQUIRE(s.sys.del(s.pool) == Status::kOk);
    CHECK(arch_log().releases.size() == 2);
    CHECK(kernel::asid_lookup(s.asid(s.pml4)) == 0);
    // The PML4 capabilities remain but name no address space any more.
    CHECK(s.map_frame(frame, kVaddr, kR, 0, other) == Status::kInvalidCapability);
    CHECK(s.map_table(s.make(ObjectType::kPdpt), 0x1000, s.pml4) == Status::kInvalidCapability);
    // Deleting them later releases nothing twice.
    arch_log().releases.clear();
    REQUIRE(s.sys.del(other) == Status::kOk);
    CHECK(arch_log().releases.empty());
  }
  CHECK(s.sys.check_invariants() == nullptr);
}

// --- mapping -----------------------------------------------------------------------------------

TEST_CASE("vspace: paging structures link into each other", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  CHECK(s.entry(s.pml4, kVaddr, 3) == (s.phys(t.pdpt) | kLink));
  CHECK(s.entry(t.pdpt, kVaddr, 2) == (s.phys(t.pd) | kLink));
  CHECK(s.entry(t.pd, kVaddr, 1) == (s.phys(t.pt) | kLink));
  // Exactly one entry in each.
  for (uint64_t slot : {s.pml4, t.pdpt, t.pd, t.pt}) {
    const uint64_t* table = s.table(slot);
    CHECK(std::count_if(table, table + 512, [](uint64_t e) { return e != 0; }) ==
          (slot == t.pt ? 0 : 1));
  }
  // The capabilities record where they went (the address aligned down to what they cover).
  CHECK(s.cap(t.pt).is_mapped());
  CHECK(s.cap(t.pt).mapped_asid() == s.asid(s.pml4));
  CHECK(s.cap(t.pt).mapped_vaddr() == (kVaddr & ~((uint64_t{1} << 21) - 1)));
  CHECK(s.cap(t.pd).mapped_vaddr() == (kVaddr & ~((uint64_t{1} << 30) - 1)));
  CHECK(s.cap(t.pdpt).mapped_vaddr() == (kVaddr & ~((uint64_t{1} << 39) - 1)));
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: frame entries carry rights and attributes", "[vspace]") {
  struct Row {
    uint64_t rights;
    uint64_t attributes;
    uint64_t bits;
  };
  const Row row = GENERATE(Row{kR, 0, kP | kU | kNx}, Row{kR | kWr, 0, kP | kU | kW | kNx},
                           Row{kR | kX, 0, kP | kU}, Row{kR | kWr | kX, 0, kP | kU | kW},
                           Row{kR, 1, kP | kU | kNx | kUncached},
                           Row{kR | kWr | kX, 1, kP | kU | kW | kUncached});
  INFO("rights " << row.rights << " attributes " << row.attributes);
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  REQUIRE(s.map_frame(frame, kVaddr, row.rights, row.attributes) == Status::kOk);
  CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | row.bits));
  CHECK(s.cap(frame).is_mapped());
  CHECK(s.cap(frame).mapped_asid() == s.asid(s.pml4));
  CHECK(s.cap(frame).mapped_vaddr() == kVaddr);
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: a frame capability's rights limit its mapping", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  SECTION("read-only capability") {
    REQUIRE(s.map_frame(s.copy(frame, kR), kVaddr, kR | kWr | kX) == Status::kOk);
    CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kNx));
  }
  SECTION("read-write capability") {
    REQUIRE(s.map_frame(s.copy(frame, kR | kWr), kVaddr, kR | kWr | kX) == Status::kOk);
    CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kW | kNx));
  }
  SECTION("capability without read") {
    CHECK(s.map_frame(s.copy(frame, kWr | kX), kVaddr, kR | kWr) == Status::kInvalidCapability);
    CHECK(s.entry(t.pt, kVaddr, 0) == 0);
  }
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: device frames are mapped uncached", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  const abi::BootInfo& info = s.sys.info();
  uint64_t device_ut = 0;
  for (uint64_t n = 0; n < info.untyped_count; ++n) {
    if (info.untyped_list[n].is_device != 0 && info.untyped_list[n].size_bits >= 12) {
      device_ut = info.untyped.start + n;
      break;
    }
  }
  REQUIRE(device_ut != 0);
  uint64_t frame = s.sys.next_free();
  REQUIRE(s.sys.retype(device_ut, ObjectType::kFrame4K, 0, frame) == Status::kOk);
  REQUIRE(s.map_frame(frame, kVaddr, kR | kWr) == Status::kOk);
  CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kW | kNx | kUncached));
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: 2 MiB frames go into the page directory with PS set", "[vspace]") {
  Space s;
  constexpr uint64_t kLarge = 0x0000123456600000;  // 2 MiB aligned.
  Tables t = s.tables_for(kLarge, 1);
  uint64_t frame = s.make(ObjectType::kFrame2M);
  REQUIRE(s.phys(frame) % (2u << 20) == 0);
  REQUIRE(s.map_frame(frame, kLarge, kR | kWr) == Status::kOk);
  CHECK(s.entry(t.pd, kLarge, 1) == (s.phys(frame) | kP | kU | kW | kNx | kPs));
  CHECK(s.cap(frame).mapped_vaddr() == kLarge);

  SECTION("a page table cannot go where the large page is") {
    CHECK(s.map_table(s.make(ObjectType::kPageTable), kLarge) == Status::kDeleteFirst);
  }
  SECTION("a 4 KiB frame cannot go inside the large page") {
    CHECK(s.map_frame(s.make(ObjectType::kFrame4K), kLarge + 0x3000, kR) == Status::kDeleteFirst);
  }
  SECTION("alignment") {
    uint64_t other = s.make(ObjectType::kFrame2M);
    CHECK(s.map_frame(other, kLarge + 0x1000, kR) == Status::kAlignmentError);
    CHECK(s.map_frame(other, kLarge + 0x100000, kR) == Status::kAlignmentError);
  }
  SECTION("the last 2 MiB below the user top do not fit") {
    constexpr uint64_t kLast = 0x00007FFFFFE00000;
    s.tables_for(kLast, 1);
    CHECK(s.map_frame(s.make(ObjectType::kFrame2M), kLast, kR) == Status::kInvalidArgument);
  }
  CHECK(s.entry(t.pd, kLarge, 1) == (s.phys(frame) | kP | kU | kW | kNx | kPs));
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: mapping a frame again at its place changes its rights", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  REQUIRE(s.map_frame(frame, kVaddr, kR | kWr | kX) == Status::kOk);
  arch_log().page_flushes.clear();

  SECTION("fewer rights: write goes and the TLB is flushed") {
    REQUIRE(s.map_frame(frame, kVaddr, kR | kX) == Status::kOk);
    CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU));
    CHECK(arch_log().page_flushes == std::vector<uint64_t>{kVaddr});
  }
  SECTION("fewer rights: execute goes and the TLB is flushed") {
    REQUIRE(s.map_frame(frame, kVaddr, kR | kWr) == Status::kOk);
    CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kW | kNx));
    CHECK(arch_log().page_flushes == std::vector<uint64_t>{kVaddr});
  }
  SECTION("the same rights again need no flush") {
    REQUIRE(s.map_frame(frame, kVaddr, kR | kWr | kX) == Status::kOk);
    CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kW));
    CHECK(arch_log().page_flushes.empty());
  }
  SECTION("more rights after fewer") {
    REQUIRE(s.map_frame(frame, kVaddr, kR) == Status::kOk);
    REQUIRE(s.map_frame(frame, kVaddr, kR | kWr) == Status::kOk);
    CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kW | kNx));
  }
  SECTION("somewhere else is refused while mapped") {
    CHECK(s.map_frame(frame, kVaddr + 0x1000, kR) == Status::kIllegalOperation);
    uint64_t other = s.new_space();
    s.tables_for(kVaddr, 0, other);
    CHECK(s.map_frame(frame, kVaddr, kR, 0, other) == Status::kIllegalOperation);
    CHECK(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kW));
  }
  CHECK(s.cap(frame).mapped_vaddr() == kVaddr);
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: FrameMap errors change nothing", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  uint64_t occupant = s.make(ObjectType::kFrame4K);
  REQUIRE(s.map_frame(occupant, kVaddr + 0x1000, kR) == Status::kOk);
  const std::vector<uint64_t> pt_before = snapshot(s.table(t.pt));
  const std::vector<uint64_t> pml4_before = snapshot(s.table(s.pml4));
  Status expected = Status::kOk;
  Status got = Status::kOk;

  SECTION("misaligned address") {
    got = s.map_frame(frame, kVaddr + 0x800, kR);
    expected = Status::kAlignmentError;
  }
  SECTION("at the user top") {
    got = s.map_frame(frame, abi::kUserTop, kR);
    expected = Status::kInvalidArgument;
  }
  SECTION("in the kernel half") {
    got = s.map_frame(frame, 0xFFFF800000000000, kR);
    expected = Status::kInvalidArgument;
  }
  SECTION("rights without read") {
    got = s.map_frame(frame, kVaddr, kWr);
    expected = Status::kInvalidArgument;
  }
  SECTION("rights that are not mapping rights") {
    got = s.map_frame(frame, kVaddr, kR | Rights::kGrant);
    expected = Status::kInvalidArgument;
  }
  SECTION("unknown attribute bits") {
    got = s.map_frame(frame, kVaddr, kR, 2);
    expected = Status::kInvalidArgument;
  }
  SECTION("no page table there") {
    got = s.map_frame(frame, kVaddr + (uint64_t{1} << 21), kR);
    expected = Status::kFailedLookup;
  }
  SECTION("no page directory there") {
    got = s.map_frame(frame, kVaddr + (uint64_t{1} << 30), kR);
    expected = Status::kFailedLookup;
  }
  SECTION("no PDPT there") {
    got = s.map_frame(frame, kVaddr + (uint64_t{1} << 39), kR);
    expected = Status::kFailedLookup;
  }
  SECTION("something is mapped there") {
    got = s.map_frame(frame, kVaddr + 0x1000, kR);
    expected = Status::kDeleteFirst;
  }
  SECTION("a copy of the capability that is mapped there") {
    got = s.map_frame(s.copy(occupant, Rights::kAllBits), kVaddr + 0x1000, kR);
    expected = Status::kDeleteFirst;
  }
  SECTION("a PML4 without an ASID") {
    got = s.map_frame(frame, kVaddr, kR, 0, s.make(ObjectType::kPml4));
    expected = Status::kInvalidCapability;
  }
  SECTION("not a PML4") {
    got = s.map_frame(frame, kVaddr, kR, 0, t.pd);
    expected = Status::kInvalidCapability;
  }
  SECTION("too few arguments") {
    got = s.sys.invoke(frame, Label::kFrameMap, {s.pml4, kVaddr, kR}).status;
    expected = Status::kTruncatedMessage;
  }
  CHECK(got == expected);
  CHECK(snapshot(s.table(t.pt)) == pt_before);
  CHECK(snapshot(s.table(s.pml4)) == pml4_before);
  CHECK_FALSE(s.cap(frame).is_mapped());
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: table map errors change nothing", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  const std::vector<uint64_t> pd_before = snapshot(s.table(t.pd));
  const std::vector<uint64_t> pml4_before = snapshot(s.table(s.pml4));
  uint64_t pt = s.make(ObjectType::kPageTable);
  Status expected = Status::kOk;
  Status got = Status::kOk;

  SECTION("no page directory for a page table") {
    got = s.map_table(pt, kVaddr + (uint64_t{1} << 30));
    expected = Status::kFailedLookup;
  }
  SECTION("no PDPT for a page directory") {
    got = s.map_table(s.make(ObjectType::kPageDirectory), kVaddr + (uint64_t{1} << 39));
    expected = Status::kFailedLookup;
  }
  SECTION("a page table is there already") {
    got = s.map_table(pt, kVaddr + 0x5000);  // The same 2 MiB.
    expected = Status::kDeleteFirst;
  }
  SECTION("a PDPT is there already") {
    got = s.map_table(s.make(ObjectType::kPdpt), kVaddr);
    expected = Status::kDeleteFirst;
  }
  SECTION("the table is mapped elsewhere") {
    got = s.map_table(t.pt, kVaddr + (uint64_t{1} << 21));
    expected = Status::kIllegalOperation;
  }
  SECTION("at the user top") {
    got = s.map_table(pt, abi::kUserTop);
    expected = Status::kInvalidArgument;
  }
  SECTION("a PML4 without an ASID") {
    got = s.map_table(pt, kVaddr, s.make(ObjectType::kPml4));
    expected = Status::kInvalidCapability;
  }
  SECTION("the label of another table type") {
    got = s.sys.invoke(pt, Label::kPageDirectoryMap, {s.pml4, kVaddr}).status;
    expected = Status::kIllegalOperation;
  }
  CHECK(got == expected);
  CHECK(snapshot(s.table(t.pd)) == pd_before);
  CHECK(snapshot(s.table(s.pml4)) == pml4_before);
  CHECK_FALSE(s.cap(pt).is_mapped());
  CHECK(s.sys.check_invariants() == nullptr);
}

// --- unmapping and deletion ----------------------------------------------------------------------

TEST_CASE("vspace: FrameUnmap removes the entry and flushes it", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  REQUIRE(s.map_frame(frame, kVaddr, kR) == Status::kOk);
  arch_log().page_flushes.clear();
  REQUIRE(s.unmap(frame) == Status::kOk);
  CHECK(s.entry(t.pt, kVaddr, 0) == 0);
  CHECK(arch_log().page_flushes == std::vector<uint64_t>{kVaddr});
  CHECK_FALSE(s.cap(frame).is_mapped());
  // Unmapping what is not mapped does nothing.
  REQUIRE(s.unmap(frame) == Status::kOk);
  CHECK(arch_log().page_flushes.size() == 1);
  // The frame may go elsewhere now.
  CHECK(s.map_frame(frame, kVaddr + 0x2000, kR) == Status::kOk);

  auto r = s.sys.invoke(frame, Label::kFrameAddress, {});
  REQUIRE(r.ok());
  CHECK(r.words == std::vector<uint64_t>{s.phys(frame)});
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: unmapping a table clears it", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  REQUIRE(s.map_frame(frame, kVaddr, kR) == Status::kOk);
  arch_log().space_flushes.clear();

  const int level = GENERATE(0, 1, 2);  // Page table, page directory, PDPT.
  uint64_t table = level == 0 ? t.pt : level == 1 ? t.pd : t.pdpt;
  INFO("table level " << level);
  REQUIRE_FALSE(all_zero(s.table(table)));
  REQUIRE(s.unmap(table) == Status::kOk);
  CHECK(all_zero(s.table(table)));
  CHECK_FALSE(s.cap(table).is_mapped());
  CHECK_FALSE(s.reachable(s.phys(table)));
  CHECK(arch_log().space_flushes.size() == 1);
  // Unmapped, it can be mapped again, here into another address space.
  uint64_t other = s.new_space();
  if (level < 2) {
    s.tables_for(kVaddr, level + 1, other);
  }
  CHECK(s.map_table(table, kVaddr, other) == Status::kOk);
  CHECK(s.cap(table).mapped_asid() == s.asid(other));
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: deleting mapped capabilities unmaps them", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  uint64_t copy = s.copy(frame, Rights::kAllBits);
  REQUIRE(s.map_frame(copy, kVaddr, kR) == Status::kOk);
  const uint64_t frame_phys = s.phys(frame);

  SECTION("an unmapped frame capability") {
    // Its mapped child stays, and so does the mapping.
    REQUIRE(s.sys.del(frame) == Status::kOk);
    CHECK(s.reachable(frame_phys));
    CHECK(s.cap(copy).is_mapped());
  }
  SECTION("the mapped frame capability") {
    REQUIRE(s.sys.del(copy) == Status::kOk);
    CHECK_FALSE(s.reachable(frame_phys));
  }
  SECTION("the page table") {
    uint64_t object = s.phys(t.pt);
    REQUIRE(s.sys.del(t.pt) == Status::kOk);
    CHECK_FALSE(s.reachable(object));
  }
  SECTION("the page directory") {
    uint64_t object = s.phys(t.pd);
    REQUIRE(s.sys.del(t.pd) == Status::kOk);
    CHECK_FALSE(s.reachable(object));
  }
  SECTION("the PDPT") {
    uint64_t object = s.phys(t.pdpt);
    REQUIRE(s.sys.del(t.pdpt) == Status::kOk);
    CHECK_FALSE(s.reachable(object));
  }
  SECTION("a copy of a mapped table is not the last capability") {
    uint64_t pt_copy = s.copy(t.pt, Rights::kAllBits);
    CHECK(s.cap(pt_copy).is_mapped());
    REQUIRE(s.sys.del(pt_copy) == Status::kOk);
    CHECK(s.reachable(s.phys(t.pt)));
  }
  SECTION("an unmapped table cannot be copied") {
    uint64_t pt = s.make(ObjectType::kPageTable);
    CHECK(s.sys.copy(s.sys.next_free(), pt) == Status::kIllegalOperation);
  }
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: revoking the untyped unmaps everything made from it", "[vspace]") {
  Space s;
  uint64_t ut = s.make(ObjectType::kUntyped, 16);
  auto from_ut = [&](ObjectType type) {
    uint64_t slot = s.sys.next_free();
    REQUIRE(s.sys.retype(ut, type, 0, slot) == Status::kOk);
    return slot;
  };
  uint64_t pdpt = from_ut(ObjectType::kPdpt);
  uint64_t pd = from_ut(ObjectType::kPageDirectory);
  uint64_t pt = from_ut(ObjectType::kPageTable);
  uint64_t frame = from_ut(ObjectType::kFrame4K);
  REQUIRE(s.map_table(pdpt, kVaddr) == Status::kOk);
  REQUIRE(s.map_table(pd, kVaddr) == Status::kOk);
  REQUIRE(s.map_table(pt, kVaddr) == Status::kOk);
  REQUIRE(s.map_frame(frame, kVaddr, kR) == Status::kOk);
  std::vector<uint64_t> objects{s.phys(pdpt), s.phys(pd), s.phys(pt), s.phys(frame)};
  REQUIRE(s.sys.revoke(ut) == Status::kOk);
  for (uint64_t object : objects) {
    CHECK_FALSE(s.reachable(object));
  }
  CHECK(s.sys.check_invariants() == nullptr);
}

TEST_CASE("vspace: TcbConfigure needs a PML4 with an ASID", "[vspace]") {
  Space s;
  uint64_t tcb = s.make(ObjectType::kTcb);
  uint64_t no_asid = s.make(ObjectType::kPml4);
  CHECK(
      s.sys.invoke(tcb, Label::kTcbConfigure, {0, abi::kSlotInitCNode, 0, no_asid, 0, 0}).status ==
      Status::kInvalidCapability);
  CHECK(s.sys.invoke(tcb, Label::kTcbConfigure, {0, abi::kSlotInitCNode, 0, s.pml4, 0, 0}).ok());
  CHECK(s.sys.check_invariants() == nullptr);
}

// --- regressions -------------------------------------------------------------------------------

// x86 keeps the cache type (PCD/PWT) with the translation, so a remap that changes only the
// attributes must flush too (it once flushed only when write or execute was taken away).
TEST_CASE("vspace: remapping with other cache attributes flushes the TLB", "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  REQUIRE(s.map_frame(frame, kVaddr, kR | kWr) == Status::kOk);
  arch_log().page_flushes.clear();
  REQUIRE(s.map_frame(frame, kVaddr, kR | kWr, 1) == Status::kOk);
  REQUIRE(s.entry(t.pt, kVaddr, 0) == (s.phys(frame) | kP | kU | kW | kNx | kUncached));
  CHECK(arch_log().page_flushes == std::vector<uint64_t>{kVaddr});
}

// Table capabilities can be copied while mapped, and the copy records the same mapping.
// PageTableUnmap through one copy lets the table be mapped somewhere else through the other,
// after which the first copy's record is stale. Unmapping through the stale copy must find
// nothing to do: it once zeroed the table anyway, removing the live mappings inside it.
TEST_CASE("vspace: unmapping through a stale table capability keeps the live mappings",
          "[vspace]") {
  Space s;
  Tables t = s.tables_for(kVaddr);
  uint64_t stale = s.copy(t.pt, Rights::kAllBits);
  REQUIRE(s.cap(stale).is_mapped());
  REQUIRE(s.unmap(t.pt) == Status::kOk);
  REQUIRE(s.entry(t.pd, kVaddr, 1) == 0);
  // The table goes to the next 2 MiB, with a frame in it.
  constexpr uint64_t kElsewhere = kVaddr + (uint64_t{1} << 21);
  REQUIRE(s.map_table(t.pt, kElsewhere) == Status::kOk);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  REQUIRE(s.map_frame(frame, kElsewhere, kR) == Status::kOk);
  const uint64_t live = s.entry(t.pt, kElsewhere, 0);
  REQUIRE(live == (s.phys(frame) | kP | kU | kNx));

  s.unmap(stale);
  CHECK(s.cap(frame).is_mapped());
  CHECK(s.entry(t.pd, kElsewhere, 1) == (s.phys(t.pt) | kLink));
  CHECK(s.entry(t.pt, kElsewhere, 0) == live);
}

// A frame capability records the ASID it was mapped under. When that address space dies and the
// ASID goes to a new one, the stale capability must not touch the new space's mappings even at
// the same address and of the same frame (the ASID's generation tells them apart).
TEST_CASE("vspace: a stale frame capability leaves a reused ASID alone", "[vspace]") {
  Space s;
  uint64_t first = s.new_space();
  const uint64_t asid = s.asid(first);
  s.tables_for(kVaddr, 0, first);
  uint64_t frame = s.make(ObjectType::kFrame4K);
  uint64_t copy = s.copy(frame, Rights::kAllBits);
  REQUIRE(s.map_frame(frame, kVaddr, kR, 0, first) == Status::kOk);
  REQUIRE(s.sys.del(first) == Status::kOk);  // The address space dies; its ASID is free.
  uint64_t second = s.new_space();
  REQUIRE(s.asid(second) == asid);  // The same ASID again.
  Tables t2 = s.tables_for(kVaddr, 0, second);
  REQUIRE(s.map_frame(copy, kVaddr, kR, 0, second) == Status::kOk);
  // The old capability looks mapped at the same place, but under an earlier assignment.
  CHECK(s.cap(frame).is_mapped());
  REQUIRE(s.unmap(frame) == Status::kOk);
  CHECK(s.entry(t2.pt, kVaddr, 0) != 0);
  CHECK(s.cap(copy).is_mapped());
  // And it may be mapped again now that it knows it is not.
  CHECK_FALSE(s.cap(frame).is_mapped());
  CHECK(s.sys.check_invariants() == nullptr);
}
