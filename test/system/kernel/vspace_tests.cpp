// SPDX-License-Identifier: MIT
//
// Address spaces: frames mapped, remapped with fewer rights, unmapped and deleted; the
// execute right (NX); page tables, page directories and PDPTs; ASID control and pools; and the
// TLB (no translation outlives the mapping it came from). Whether memory is accessible is
// always checked by a separate thread with the root task as its fault handler, never by the
// root task itself, which has no fault handler and would stop the whole suite.
#include <abi/fault.hpp>
#include <abi/invocation.hpp>

#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

constexpr uint8_t kR = Rights::kRead;
constexpr uint8_t kRX = Rights::kRead | Rights::kExecute;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kLargePage = 2u << 20;

// Areas of the root task's address space that nothing else uses: no PDPT exists for them
// until a test makes one (and every table a test makes goes when its pool is revoked).
constexpr uint64_t kFarArea = 0x0000300000000000;
constexpr uint64_t kTopPdptArea = 0x00007F8000000000;  // The last PML4 entry of the user half.

constexpr uint64_t kAccessMask =
    abi::kAccessPresent | abi::kAccessWrite | abi::kAccessUser | abi::kAccessFetch;

// The mapping a frame or table capability records (CNodeDescribe's last word), and a PML4's
// ASID (its data word: bit 3 assigned, bits 15:4 the ASID).
bool is_mapped(uint64_t cap) { return describe(cap).mapped_vaddr != sys::CapInfo::kNotMapped; }
uint64_t mapped_vaddr(uint64_t cap) { return describe(cap).mapped_vaddr; }
uint64_t pml4_asid(uint64_t cap) {
  return (describe(cap).data >> 4) & 0xFFF;
}

bool cpu_has_nx() {
  uint32_t a, b, c, d;
  asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0u));
  if (a < 0x80000001u) {
    return false;
  }
  asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0u));
  return (d & (1u << 20)) != 0;
}

// Maps the PDPT and page directory that cover `vaddr` in the root task's address space (new
// ones, from the test's pool) and returns the directory's cptr.
abi::Result<uint64_t> make_directory(uint64_t vaddr) {
  Env& e = env();
  uint64_t pdpt = make(ObjectType::kPdpt);
  uint64_t pd = make(ObjectType::kPageDirectory);
  TRY(sys::table_map(CapType::kPdpt, pdpt, e.vspace, vaddr));
  TRY(sys::table_map(CapType::kPageDirectory, pd, e.vspace, vaddr));
  return pd;
}

// --- The accessor thread -----------------------------------------------------------------------

enum Op : uint64_t { kOpRead = 1, kOpWrite = 2, kOpExecute = 3 };

// Performs one access the root task asks for. One that faults blocks the thread until the root
// task, its fault handler, replies.
void perform_access(WorkerChannel& c) {
  uint64_t addr = c.target;
  switch (c.op) {
    case kOpRead:
      c.value = *reinterpret_cast<volatile uint64_t*>(addr);
      break;
    case kOpWrite:
      *reinterpret_cast<volatile uint64_t*>(addr) = c.value;
      break;
    case kOpExecute:
      reinterpret_cast<void (*)()>(addr)();
      break;
    default:
      break;
  }
}

WorkerChannel g_accesses;

// A worker thread that reads, writes and executes memory.
class Accessor : public Worker {
 public:
  bool start() { return Worker::start("accessor thread", g_accesses, perform_access); }

  // Whether a read or a write completes without a fault (an unexpected fault stops the thread).
  bool read(uint64_t addr, uint64_t* value = nullptr) {
    if (!finish(run(kOpRead, addr), "read", addr)) {
      return false;
    }
    if (value != nullptr) {
      *value = Worker::value();
    }
    return true;
  }
  bool write(uint64_t addr, uint64_t value) {
    return finish(run(kOpWrite, addr, value), "write", addr);
  }

 private:
  bool finish(const Outcome& o, const char* what, uint64_t addr) {
    if (o.done) {
      return true;
    }
    if (o.faulted) {
      note("%s of %#llx faulted: access %#llx", what, static_cast<unsigned long long>(addr),
           static_cast<unsigned long long>(o.fault.words[abi::kPfAccess]));
      stop();
    }
    return false;
  }
};

// Whether `o` is a page fault at `addr` with exactly the access bits `access` (of present,
// write, user and fetch).
bool page_fault(const Outcome& o, uint64_t addr, uint64_t access) {
  if (!o.faulted) {
    note("expected a page fault at %#llx, but the access %s", static_cast<unsigned long long>(addr),
         o.done ? "completed" : "neither completed nor faulted");
    return false;
  }
  const sys::Message& m = o.fault;
  uint64_t got = m.words[abi::kPfAccess] & kAccessMask;
  if (m.label != static_cast<uint64_t>(abi::KernelLabel::kPageFault) ||
      m.words[abi::kPfAddress] != addr || got != access) {
    note("fault label %#llx address %#llx access %#llx; want page fault at %#llx access %#llx",
         static_cast<unsigned long long>(m.label),
         static_cast<unsigned long long>(m.words[abi::kPfAddress]),
         static_cast<unsigned long long>(got), static_cast<unsigned long long>(addr),
         static_cast<unsigned long long>(access));
    return false;
  }
  return true;
}

constexpr uint64_t kReadMissing = abi::kAccessUser;
constexpr uint64_t kWriteReadOnly = abi::kAccessPresent | abi::kAccessWrite | abi::kAccessUser;
constexpr uint64_t kFetchNoExecute = abi::kAccessPresent | abi::kAccessFetch | abi::kAccessUser;

}  // namespace

// --- Frames: map, remap, unmap -----------------------------------------------------------------

KTEST(vspace_frame_map_read_write_and_alias) {
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t alias = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, alias, kDepth, kRoot, frame, kDepth));
  uint64_t va = region(kPage);
  uint64_t va2 = region(kPage);
  CHECK_OK(e.vs.map(frame, va, kRW));
  CHECK_OK(e.vs.map(alias, va2 + 3 * kPage, kRW));
  CHECK(is_mapped(frame));
  CHECK(mapped_vaddr(frame) == va);
  CHECK(mapped_vaddr(alias) == va2 + 3 * kPage);
  // A fresh frame reads as zero; what is written through one mapping shows through the other.
  uint64_t v = 1;
  CHECK(a.read(va + 8, &v));
  CHECK(v == 0);
  CHECK(a.write(va + 8, 0x5A5A1234));
  CHECK(a.read(va2 + 3 * kPage + 8, &v));
  CHECK(v == 0x5A5A1234);
  // Both capabilities name the same frame.
  CHECK(REQUIRE_OK(sys::frame_address(frame)) == REQUIRE_OK(sys::frame_address(alias)));
  CHECK(REQUIRE_OK(sys::frame_address(frame)) % kPage == 0);
}

KTEST(vspace_frame_map_argument_errors) {
  Env& e = env();
  uint64_t mapped = make(ObjectType::kFrame4K);
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t large = make(ObjectType::kFrame2M);
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t no_asid = make(ObjectType::kPml4);
  uint64_t va = region(kLargePage);
  REQUIRE_OK(e.vs.map(mapped, va, kRW));
  uint64_t free_va = va + kPage;  // A page table exists there, and nothing is mapped.

  // The address space.
  CHECK_ERR(sys::frame_map(frame, no_asid, free_va, kRW), Status::kInvalidCapability);
  CHECK_ERR(sys::frame_map(frame, ep, free_va, kRW), Status::kInvalidCapability);
  CHECK_ERR(sys::frame_map(frame, kRoot, free_va, kRW), Status::kInvalidCapability);
  CHECK_ERR(sys::frame_map(frame, slot(), free_va, kRW), Status::kEmptySlot);
  // Alignment to the frame's size.
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va + 0x800, kRW), Status::kAlignmentError);
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va + 8, kRW), Status::kAlignmentError);
  CHECK_ERR(sys::frame_map(large, e.vspace, va + kPage, kRW), Status::kAlignmentError);
  // Only the user half below kUserTop.
  for (uint64_t bad : {abi::kUserTop, uint64_t{0x0000800000000000}, uint64_t{0xFFFF800000000000},
                       uint64_t{0xFFFFFFFF80000000}, uint64_t{0xFFFFFFFFFFFFF000}}) {
    CHECK_ERR(sys::frame_map(frame, e.vspace, bad, kRW), Status::kInvalidArgument);
  }
  CHECK_ERR(sys::frame_map(large, e.vspace, 0x00007FFFFFE00000, kRW), Status::kInvalidArgument);
  // Rights: read is needed; only read, write and execute are map rights; one attribute bit.
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va, Rights::kWrite), Status::kInvalidArgument);
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va, 0), Status::kInvalidArgument);
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va, Rights::kExecute), Status::kInvalidArgument);
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va, kRW | Rights::kGrant),
            Status::kInvalidArgument);
  CHECK_ERR(sys::invoke_void(frame, abi::Label::kFrameMap, {e.vspace, free_va, 0x101, 0}),
            Status::kInvalidArgument);
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va, kRW, 2), Status::kInvalidArgument);
  CHECK_ERR(sys::frame_map(frame, e.vspace, free_va, kRW, uint64_t{1} << 63),
            Status::kInvalidArgument);
  // No page table there.
  CHECK_ERR(sys::frame_map(frame, e.vspace, kFarArea, kRW), Status::kFailedLookup);
  CHECK_ERR(sys::frame_map(large, e.vspace, kFarArea, kRW), Status::kFailedLookup);
  // Something already there.
  CHECK_ERR(sys::frame_map(frame, e.vspace, va, kRW), Status::kDeleteFirst);
  // A 2 MiB frame where a page table is.
  CHECK_ERR(sys::frame_map(large, e.vspace, va, kRW), Status::kDeleteFirst);
  // This capability already maps the frame elsewhere.
  CHECK_ERR(sys::frame_map(mapped, e.vspace, free_va, kRW), Status::kIllegalOperation);
  // None of it mapped anything.
  CHECK(!is_mapped(frame));
  CHECK(!is_mapped(large));
  CHECK(mapped_vaddr(mapped) == va);
  // The uncached attribute is accepted.
  CHECK_OK(sys::frame_map(frame, e.vspace, free_va, kRW, 1));
}

KTEST(vspace_frame_map_through_capability_without_read_is_refused) {
  Env& e = env();
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t wo = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, wo, kDepth, kRoot, frame, kDepth, Rights::kWrite));
  uint64_t va = region(kPage);
  REQUIRE_OK(e.vs.map(frame, va, kRW));
  REQUIRE_OK(sys::frame_unmap(frame));
  CHECK_ERR(sys::frame_map(wo, e.vspace, va, kRW), Status::kInvalidCapability);
  CHECK(!is_mapped(wo));
}

KTEST(vspace_frame_mapping_limited_by_capability_rights) {
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t ro = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, ro, kDepth, kRoot, frame, kDepth, kR));
  uint64_t va = region(kPage);
  // Asking for read-write through a read-only capability maps it read-only.
  CHECK_OK(e.vs.map(ro, va, kRW));
  CHECK(a.read(va));
  CHECK(page_fault(a.run(kOpWrite, va, 1), va, kWriteReadOnly));
  a.stop();
}

KTEST(vspace_remap_with_fewer_rights_takes_effect_at_once) {
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t va = region(kPage);
  REQUIRE_OK(e.vs.map(frame, va, kRW));
  // The write leaves a writable translation in the TLB...
  CHECK(a.write(va, 1));
  // ...which the remap must not leave behind.
  CHECK_OK(sys::frame_map(frame, e.vspace, va, kR));
  CHECK(mapped_vaddr(frame) == va);
  CHECK(a.read(va));
  Outcome o = a.run(kOpWrite, va, 2);
  CHECK(page_fault(o, va, kWriteReadOnly));
  if (o.faulted) {
    CHECK(o.fault.words[abi::kPfIp] > reinterpret_cast<uint64_t>(&perform_access));
  }
  // Remapping with write again lets the faulting write complete.
  CHECK_OK(sys::frame_map(frame, e.vspace, va, kRW));
  CHECK(a.resume().done);
  uint64_t v = 0;
  CHECK(a.read(va, &v));
  CHECK(v == 2);
}

KTEST(vspace_no_execute_honoured) {
  Env& e = env();
  if (!cpu_has_nx()) {
    note("the CPU has no NX bit: every readable page is executable; nothing to check");
    return;
  }
  Accessor a;
  REQUIRE(a.start());
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t va = region(kPage);
  REQUIRE_OK(e.vs.map(frame, va, kRW));
  CHECK(a.write(va, 0xC3));  // `ret`.
  CHECK(page_fault(a.run(kOpExecute, va), va, kFetchNoExecute));
  // Read and execute: the call returns.
  CHECK_OK(sys::frame_map(frame, e.vspace, va, kRX));
  CHECK(a.resume().done);
  // Taking execute away again is immediate too.
  CHECK_OK(sys::frame_map(frame, e.vspace, va, kR));
  CHECK(page_fault(a.run(kOpExecute, va), va, kFetchNoExecute));
  a.stop();
  // A capability without execute cannot map executable code.
  Accessor b;
  REQUIRE(b.start());
  uint64_t nx_cap = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, nx_cap, kDepth, kRoot, frame, kDepth, kRW));
  REQUIRE_OK(sys::frame_unmap(frame));
  CHECK_OK(sys::frame_map(nx_cap, e.vspace, va, kRX));
  CHECK(page_fault(b.run(kOpExecute, va), va, kFetchNoExecute));
  b.stop();
}

KTEST(vspace_unmap_leaves_no_stale_translation) {
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t va = region(kPage);
  REQUIRE_OK(e.vs.map(frame, va, kRW));
  CHECK(a.write(va, 77));
  CHECK_OK(sys::frame_unmap(frame));
  CHECK(!is_mapped(frame));
  CHECK(page_fault(a.run(kOpRead, va), va, kReadMissing));
  // Unmapping again is harmless; mapping back lets the read complete with the old contents.
  CHECK_OK(sys::frame_unmap(frame));
  CHECK_OK(sys::frame_map(frame, e.vspace, va, kRW));
  CHECK(a.resume().done);
  CHECK(a.value() == 77);
  // Unmapped, the capability may map the frame somewhere else.
  CHECK_OK(sys::frame_unmap(frame));
  uint64_t other = va + 5 * kPage;
  CHECK_OK(e.vs.map(frame, other, kRW));
  uint64_t v = 0;
  CHECK(a.read(other, &v));
  CHECK(v == 77);
}

KTEST(vspace_unmap_through_another_capability_does_nothing) {
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t va = region(kPage);
  REQUIRE_OK(e.vs.map(frame, va, kRW));
  // A copy made of a mapped capability is unmapped and unmaps nothing.
  uint64_t copy = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, frame, kDepth));
  CHECK(!is_mapped(copy));
  CHECK_OK(sys::frame_unmap(copy));
  CHECK(a.read(va));
  // Deleting that copy, which is not the last capability, leaves the mapping alone too.
  CHECK_OK(sys::cnode_delete(kRoot, copy, kDepth));
  CHECK(a.read(va));
  CHECK(is_mapped(frame));
}

KTEST(vspace_deleting_mapped_frame_capability_unmaps_it) {
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t keep = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, keep, kDepth, kRoot, frame, kDepth));
  uint64_t va = region(kPage);
  REQUIRE_OK(e.vs.map(frame, va, kRW));
  CHECK(a.read(va));
  // Not the last capability to the frame, but the one that maps it.
  CHECK_OK(sys::cnode_delete(kRoot, frame, kDepth));
  CHECK(page_fault(a.run(kOpRead, va), va, kReadMissing));
  a.stop();
  // And the last capability of a mapped frame.
  Accessor b;
  REQUIRE(b.start());
  uint64_t va2 = va + kPage;
  REQUIRE_OK(e.vs.map(keep, va2, kRW));
  CHECK(b.read(va2));
  CHECK_OK(sys::cnode_delete(kRoot, keep, kDepth));
  CHECK(page_fault(b.run(kOpRead, va2), va2, kReadMissing));
  b.stop();
}

KTEST(vspace_frame_mapped_in_one_space_cannot_map_in_another) {
  Env& e = env();
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t va = region(kPage);
  REQUIRE_OK(e.vs.map(frame, va, kRW));
  uint64_t pml4 = make(ObjectType::kPml4);
  REQUIRE_OK(sys::asid_pool_assign(abi::kSlotInitAsidPool, pml4));
  sys::VSpace other;
  other.init(pml4, &e.objects);
  CHECK_ERR(other.map(frame, va, kRW), Status::kIllegalOperation);
  // A copy can.
  uint64_t copy = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, frame, kDepth));
  CHECK_OK(other.map(copy, va, kRW));
  CHECK(pml4_asid(pml4) != pml4_asid(e.vspace));
  CHECK(((describe(copy).data >> 4) & 0xFFF) == pml4_asid(pml4));
}

KTEST(vspace_large_frame_map) {
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t area = kFarArea;
  REQUIRE_OK(make_directory(area));
  uint64_t large = make(ObjectType::kFrame2M);
  CHECK(REQUIRE_OK(sys::frame_address(large)) % kLargePage == 0);
  CHECK_OK(sys::frame_map(large, e.vspace, area, kRW));
  CHECK(a.write(area, 1));
  CHECK(a.write(area + kLargePage - 8, 2));
  uint64_t v = 0;
  CHECK(a.read(area + kLargePage - 8, &v));
  CHECK(v == 2);
  // A 4 KiB frame or a page table inside a 2 MiB mapping has no place.
  uint64_t small = make(ObjectType::kFrame4K);
  uint64_t pt = make(ObjectType::kPageTable);
  CHECK_ERR(sys::frame_map(small, e.vspace, area + kPage, kRW), Status::kDeleteFirst);
  CHECK_ERR(sys::table_map(CapType::kPageTable, pt, e.vspace, area), Status::kDeleteFirst);
  // Unmapping it takes all 2 MiB away.
  CHECK_OK(sys::frame_unmap(large));
  CHECK(page_fault(a.run(kOpRead, area + kLargePage - 8), area + kLargePage - 8, kReadMissing));
  a.stop();
}

KTEST(vspace_highest_user_page) {
  // The last mappable page is the one below kUserTop; the tables for it are in the last PML4
  // entry of the user half.
  Env& e = env();
  Accessor a;
  REQUIRE(a.start());
  uint64_t top = abi::kUserTop - kPage;
  uint64_t pdpt = make(ObjectType::kPdpt);
  uint64_t pd = make(ObjectType::kPageDirectory);
  uint64_t pt = make(ObjectType::kPageTable);
  CHECK_OK(sys::table_map(CapType::kPdpt, pdpt, e.vspace, top));
  CHECK_OK(sys::table_map(CapType::kPageDirectory, pd, e.vspace, top));
  CHECK_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, top));
  CHECK(mapped_vaddr(pdpt) == kTopPdptArea);
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t next = make(ObjectType::kFrame4K);
  CHECK_ERR(sys::frame_map(next, e.vspace, abi::kUserTop, kRW), Status::kInvalidArgument);
  CHECK_OK(sys::frame_map(frame, e.vspace, top, kRW));
  CHECK(a.write(abi::kUserTop - 8, 0x70F));
  uint64_t v = 0;
  CHECK(a.read(abi::kUserTop - 8, &v));
  CHECK(v == 0x70F);
}

// --- Page tables, directories, PDPTs -----------------------------------------------------------

KTEST(vspace_table_map_errors) {
  Env& e = env();
  uint64_t pdpt = make(ObjectType::kPdpt);
  uint64_t pd = make(ObjectType::kPageDirectory);
  uint64_t pt = make(ObjectType::kPageTable);
  uint64_t pdpt2 = make(ObjectType::kPdpt);
  uint64_t pd2 = make(ObjectType::kPageDirectory);
  uint64_t pt2 = make(ObjectType::kPageTable);
  uint64_t no_asid = make(ObjectType::kPml4);
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t base = kFarArea;
  // Parents first: nothing covers the far area yet.
  CHECK_ERR(sys::table_map(CapType::kPageTable, pt, e.vspace, base), Status::kFailedLookup);
  CHECK_ERR(sys::table_map(CapType::kPageDirectory, pd, e.vspace, base), Status::kFailedLookup);
  // The address space.
  CHECK_ERR(sys::table_map(CapType::kPdpt, pdpt, no_asid, base), Status::kInvalidCapability);
  CHECK_ERR(sys::table_map(CapType::kPdpt, pdpt, ep, base), Status::kInvalidCapability);
  CHECK_ERR(sys::table_map(CapType::kPageTable, pt, pdpt, base), Status::kInvalidCapability);
  // The user half only.
  for (uint64_t bad : {abi::kUserTop, uint64_t{0x0000800000000000}, uint64_t{0xFFFF800000000000},
                       uint64_t{0xFFFFFFFF80000000}}) {
    CHECK_ERR(sys::table_map(CapType::kPdpt, pdpt, e.vspace, bad), Status::kInvalidArgument);
    CHECK_ERR(sys::table_map(CapType::kPageDirectory, pd, e.vspace, bad), Status::kInvalidArgument);
    CHECK_ERR(sys::table_map(CapType::kPageTable, pt, e.vspace, bad), Status::kInvalidArgument);
  }
  CHECK(!is_mapped(pdpt));
  // In order; an unaligned address means the table covering it.
  CHECK_OK(sys::table_map(CapType::kPdpt, pdpt, e.vspace, base + 0x12345678));
  CHECK(mapped_vaddr(pdpt) == base);
  CHECK_OK(sys::table_map(CapType::kPageDirectory, pd, e.vspace, base + (3ull << 30) + 0x1234));
  CHECK(mapped_vaddr(pd) == base + (3ull << 30));
  CHECK_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, base + (3ull << 30) + 0x345678));
  CHECK(mapped_vaddr(pt) == base + (3ull << 30) + (1ull << 21));
  // Something already there.
  CHECK_ERR(sys::table_map(CapType::kPdpt, pdpt2, e.vspace, base), Status::kDeleteFirst);
  CHECK_ERR(sys::table_map(CapType::kPageDirectory, pd2, e.vspace, base + (3ull << 30)),
            Status::kDeleteFirst);
  CHECK_ERR(sys::table_map(CapType::kPageTable, pt2, e.vspace, base + (3ull << 30) + (1u << 21)),
            Status::kDeleteFirst);
  // A table that is mapped cannot be mapped again, even where nothing is.
  CHECK_ERR(sys::table_map(CapType::kPageTable, pt, e.vspace, base + (3ull << 30)),
            Status::kIllegalOperation);
  CHECK_ERR(sys::table_map(CapType::kPageDirectory, pd, e.vspace, base + (4ull << 30)),
            Status::kIllegalOperation);
  CHECK_ERR(sys::table_map(CapType::kPdpt, pdpt, e.vspace, base + (1ull << 39)),
            Status::kIllegalOperation);
  // Once unmapped, it can go elsewhere.
  CHECK_OK(sys::table_unmap(CapType::kPageTable, pt));
  CHECK(!is_mapped(pt));
  CHECK_OK(sys::table_unmap(CapType::kPageTable, pt));
  CHECK_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, base + (3ull << 30)));
  CHECK(mapped_vaddr(pt) == base + (3ull << 30));
}

KTEST(vspace_unmapping_tables_makes_frames_inaccessible) {
  Env& e = env();
  uint64_t area = kFarArea + (5ull << 30);
  uint64_t pd = REQUIRE_OK(make_directory(area));
  uint64_t pt = make(ObjectType::kPageTable);
  REQUIRE_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, area));
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t va = area + 3 * kPage;
  REQUIRE_OK(sys::frame_map(frame, e.vspace, va, kRW));

  // The page table.
  Accessor a;
  REQUIRE(a.start());
  CHECK(a.write(va, 99));
  CHECK_OK(sys::table_unmap(CapType::kPageTable, pt));
  CHECK(page_fault(a.run(kOpRead, va), va, kReadMissing));
  // Mapped back, the table is empty: the frame must be mapped again as well.
  CHECK_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, area));
  CHECK_OK(sys::frame_unmap(frame));
  CHECK_OK(sys::frame_map(frame, e.vspace, va, kRW));
  CHECK(a.resume().done);
  CHECK(a.value() == 99);

  // The page directory above it.
  CHECK_OK(sys::table_unmap(CapType::kPageDirectory, pd));
  CHECK(page_fault(a.run(kOpRead, va), va, kReadMissing));
  a.stop();
}

KTEST(vspace_deleting_mapped_page_table_unmaps_it) {
  Env& e = env();
  uint64_t area = kFarArea + (7ull << 30);
  REQUIRE_OK(make_directory(area));
  uint64_t pt = make(ObjectType::kPageTable);
  REQUIRE_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, area));
  uint64_t frame = make(ObjectType::kFrame4K);
  REQUIRE_OK(sys::frame_map(frame, e.vspace, area, kRW));
  Accessor a;
  REQUIRE(a.start());
  CHECK(a.read(area));
  CHECK_OK(sys::cnode_delete(kRoot, pt, kDepth));
  CHECK(page_fault(a.run(kOpRead, area), area, kReadMissing));
  a.stop();
  // Its place is free for another table.
  uint64_t pt2 = make(ObjectType::kPageTable);
  CHECK_OK(sys::table_map(CapType::kPageTable, pt2, e.vspace, area));
}

KTEST(vspace_unmap_through_stale_table_copy_keeps_live_table) {
  // A copy of a mapped page table capability records the same mapping. Once the table has been
  // unmapped through the original and mapped somewhere else, the copy's record is stale:
  // unmapping through it must leave the table's live mapping, and the frames in it, alone.
  Env& e = env();
  uint64_t area = kFarArea + (9ull << 30);
  REQUIRE_OK(make_directory(area));
  uint64_t pt = make(ObjectType::kPageTable);
  REQUIRE_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, area));
  uint64_t copy = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, pt, kDepth));
  CHECK(mapped_vaddr(copy) == area);
  REQUIRE_OK(sys::table_unmap(CapType::kPageTable, pt));
  uint64_t live = area + kLargePage;
  REQUIRE_OK(sys::table_map(CapType::kPageTable, pt, e.vspace, live));
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t untouched = make(ObjectType::kFrame4K);
  REQUIRE_OK(sys::frame_map(frame, e.vspace, live, kRW));
  REQUIRE_OK(sys::frame_map(untouched, e.vspace, live + kPage, kRW));
  Accessor a;
  REQUIRE(a.start());
  CHECK(a.write(live, 5));
  (void)sys::table_unmap(CapType::kPageTable, copy);
  // The table still holds both frames: the kernel finds the first one in the way of another,
  // and the second, never touched (so never in the TLB), is still readable.
  uint64_t other = make(ObjectType::kFrame4K);
  CHECK_ERR(sys::frame_map(other, e.vspace, live, kRW), Status::kDeleteFirst);
  CHECK(a.read(live + kPage));
  uint64_t v = 0;
  CHECK(a.read(live, &v));
  CHECK(v == 5);
}

KTEST(vspace_stale_frame_capability_leaves_reused_asid_alone) {
  // A frame capability records (ASID, address). After its address space is destroyed and the
  // ASID given to a new one, unmapping through the old capability must not touch the new space,
  // even where that maps the same frame at the same address through another capability
  // ("Unmaps the frame if this capability mapped it").
  Env& e = env();
  constexpr uint64_t kX = 0x0000000900000000;
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t copy = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, frame, kDepth));
  uint64_t old_space = make(ObjectType::kPml4);
  REQUIRE_OK(sys::asid_pool_assign(abi::kSlotInitAsidPool, old_space));
  sys::VSpace a;
  a.init(old_space, &e.objects);
  REQUIRE_OK(a.map(frame, kX, kRW));
  uint64_t asid = pml4_asid(old_space);
  REQUIRE_OK(sys::cnode_delete(kRoot, old_space, kDepth));
  uint64_t new_space = make(ObjectType::kPml4);
  REQUIRE_OK(sys::asid_pool_assign(abi::kSlotInitAsidPool, new_space));
  if (pml4_asid(new_space) != asid) {
    note("the ASID was not reused (%llu, then %llu): nothing to check",
         static_cast<unsigned long long>(asid),
         static_cast<unsigned long long>(pml4_asid(new_space)));
    return;
  }
  sys::VSpace b;
  b.init(new_space, &e.objects);
  REQUIRE_OK(b.map(copy, kX, kRW));
  CHECK_OK(sys::frame_unmap(frame));
  CHECK(!is_mapped(frame));
  // The new space's mapping is still there: another frame cannot take its place.
  uint64_t other = make(ObjectType::kFrame4K);
  CHECK_ERR(sys::frame_map(other, new_space, kX, kRW), Status::kDeleteFirst);
  CHECK(is_mapped(copy));
}

// --- ASIDs -------------------------------------------------------------------------------------

KTEST(vspace_asid_make_pool_errors) {
  uint64_t ctl = abi::kSlotAsidControl;
  uint64_t ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
  uint64_t big = make(ObjectType::kUntyped, abi::kAsidPoolBits + 1);
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  // Only a 4 KiB RAM untyped without children will do.
  CHECK_ERR(sys::asid_control_make_pool(ctl, big, kRoot, dest, kDepth), Status::kInvalidCapability);
  CHECK_ERR(sys::asid_control_make_pool(ctl, ep, kRoot, dest, kDepth), Status::kInvalidCapability);
  CHECK_ERR(sys::asid_control_make_pool(ctl, slot(), kRoot, dest, kDepth), Status::kEmptySlot);
  uint64_t parent = make(ObjectType::kUntyped, abi::kAsidPoolBits + 1);
  uint64_t busy = slot();
  REQUIRE_OK(
      sys::untyped_retype(parent, ObjectType::kUntyped, abi::kAsidPoolBits, kRoot, 0, 0, busy, 1));
  uint64_t child = slot();
  REQUIRE_OK(sys::untyped_retype(busy, ObjectType::kEndpoint, 0, kRoot, 0, 0, child, 1));
  CHECK_ERR(sys::asid_control_make_pool(ctl, busy, kRoot, dest, kDepth), Status::kRevokeFirst);
  const abi::BootInfo* b = env().boot;
  for (uint64_t i = 0; i < b->untyped_count; ++i) {
    if (b->untyped_list[i].is_device != 0 && b->untyped_list[i].size_bits >= abi::kAsidPoolBits) {
      uint64_t dev = slot();
      REQUIRE_OK(sys::untyped_retype(b->untyped.start + i, ObjectType::kUntyped, abi::kAsidPoolBits,
                                     kRoot, 0, 0, dev, 1));
      CHECK_ERR(sys::asid_control_make_pool(ctl, dev, kRoot, dest, kDepth),
                Status::kInvalidCapability);
      break;
    }
  }
  // The destination.
  CHECK_ERR(sys::asid_control_make_pool(ctl, ut, kRoot, ep, kDepth), Status::kDeleteFirst);
  CHECK_ERR(sys::asid_control_make_pool(ctl, ut, ep, dest, kDepth), Status::kInvalidCapability);
  CHECK_ERR(sys::asid_control_make_pool(ctl, ut, kRoot, dest, 0), Status::kDepthMismatch);
  CHECK(describe(dest).type == CapType::kNull);
  // And then it works, once: the untyped now has a child.
  CHECK_OK(sys::asid_control_make_pool(ctl, ut, kRoot, dest, kDepth));
  CHECK(describe(dest).type == CapType::kAsidPool);
  CHECK_ERR(sys::asid_control_make_pool(ctl, ut, kRoot, slot(), kDepth), Status::kRevokeFirst);
}

KTEST(vspace_asid_pool_assign) {
  Env& e = env();
  uint64_t ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
  uint64_t pool = slot();
  REQUIRE_OK(sys::asid_control_make_pool(abi::kSlotAsidControl, ut, kRoot, pool, kDepth));
  uint64_t pml4 = make(ObjectType::kPml4);
  CHECK_ERR(sys::asid_pool_assign(pool, make(ObjectType::kFrame4K)), Status::kInvalidCapability);
  CHECK_ERR(sys::asid_pool_assign(pool, make(ObjectType::kPdpt)), Status::kInvalidCapability);
  CHECK_ERR(sys::asid_pool_assign(pool, slot()), Status::kEmptySlot);
  CHECK((describe(pml4).data & 8) == 0);
  CHECK_OK(sys::asid_pool_assign(pool, pml4));
  CHECK((describe(pml4).data & 8) != 0);
  // Once only, from any pool.
  CHECK_ERR(sys::asid_pool_assign(pool, pml4), Status::kIllegalOperation);
  CHECK_ERR(sys::asid_pool_assign(abi::kSlotInitAsidPool, pml4), Status::kIllegalOperation);
  CHECK_ERR(sys::asid_pool_assign(pool, e.vspace), Status::kIllegalOperation);
  // The address space is usable: tables and frames map into it.
  uint64_t pdpt = make(ObjectType::kPdpt);
  CHECK_OK(sys::table_map(CapType::kPdpt, pdpt, pml4, 0x400000));
  // Without its pool, the ASID is gone and the space with it.
  REQUIRE_OK(sys::cnode_delete(kRoot, pool, kDepth));
  uint64_t pd = make(ObjectType::kPageDirectory);
  CHECK_ERR(sys::table_map(CapType::kPageDirectory, pd, pml4, 0x400000),
            Status::kInvalidCapability);
  CHECK_ERR(sys::frame_map(make(ObjectType::kFrame4K), pml4, 0x400000, kRW),
            Status::kInvalidCapability);
}

KTEST(vspace_asid_pool_full) {
  constexpr uint64_t kEntries = abi::kAsidPoolEntries;
  uint64_t ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
  uint64_t pool = slot();
  REQUIRE_OK(sys::asid_control_make_pool(abi::kSlotAsidControl, ut, kRoot, pool, kDepth));
  // kEntries + 1 address spaces in consecutive root slots.
  uint64_t mem = make(ObjectType::kUntyped, 22);
  uint64_t first = slot();
  for (uint64_t i = 1; i <= kEntries; ++i) {
    REQUIRE(slot() == first + i);
  }
  for (uint64_t i = 0; i <= kEntries; i += 256) {
    uint64_t n = kEntries + 1 - i < 256 ? kEntries + 1 - i : 256;
    REQUIRE_OK(sys::untyped_retype(mem, ObjectType::kPml4, 0, kRoot, 0, 0, first + i, n));
  }
  uint64_t refused = 0;
  for (uint64_t i = 0; i < kEntries; ++i) {
    refused += sys::asid_pool_assign(pool, first + i).ok() ? 0 : 1;
  }
  CHECK(refused == 0);
  CHECK_ERR(sys::asid_pool_assign(pool, first + kEntries), Status::kNoSpace);
  CHECK((describe(first + kEntries).data & 8) == 0);
  // With one address space gone, its ASID is free again.
  REQUIRE_OK(sys::cnode_delete(kRoot, first + 7, kDepth));
  CHECK_OK(sys::asid_pool_assign(pool, first + kEntries));
  CHECK((describe(first + kEntries).data & 8) != 0);
}

KTEST(vspace_asid_control_runs_out_of_pools) {
  // There are abi::kAsidPools pools in all; pool 0 is the root task's.
  uint64_t made = 0;
  uint64_t last = 0;
  Status final_status = Status::kOk;
  for (uint64_t i = 0; i < abi::kAsidPools; ++i) {
    uint64_t ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
    uint64_t dest = slot();
    auto r = sys::asid_control_make_pool(abi::kSlotAsidControl, ut, kRoot, dest, kDepth);
    if (!r) {
      final_status = r.error();
      break;
    }
    ++made;
    last = dest;
  }
  note("made %llu pools", static_cast<unsigned long long>(made));
  CHECK(made >= 1 && made < abi::kAsidPools);
  CHECK(final_status == Status::kNoSpace);
  // Deleting a pool frees its place.
  REQUIRE(last != 0);
  REQUIRE_OK(sys::cnode_delete(kRoot, last, kDepth));
  uint64_t ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
  CHECK_OK(sys::asid_control_make_pool(abi::kSlotAsidControl, ut, kRoot, slot(), kDepth));
}

namespace {

// Runs in a child process: reads and increments the word at `addr`, then reports what it read
// through the endpoint in its slot 2.
void touch_and_report(uint64_t addr) {
  auto* p = reinterpret_cast<volatile uint64_t*>(addr);
  uint64_t v = *p;
  *p = v + 1;
  (void)sys::send(2, sys::Message::make(0x7E, {v}));
}

}  // namespace

KTEST(vspace_reused_asid_sees_no_old_translations) {
  // Process A maps a page at X and touches it; A and its address space are destroyed; process
  // B gets a new address space, most likely with A's ASID, and X unmapped. B must fault at X:
  // with PCIDs a stale translation tagged with the reused ASID would let it read A's page.
  Env& e = env();
  constexpr uint64_t kX = 0x0000000900000000;
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t frame = make(ObjectType::kFrame4K);

  Process a = REQUIRE_OK(spawn_process(touch_and_report, kX, 100, 6, 2));
  REQUIRE_OK(give(a, 2, ep));
  sys::VSpace a_space;
  a_space.init(a.pml4, &e.objects);
  REQUIRE_OK(a_space.map(frame, kX, kRW));
  sys::Message m;
  REQUIRE(recv_within(ep, m, 16));
  CHECK(m.label == 0x7E);
  CHECK(m.words[0] == 0);
  uint64_t asid_a = pml4_asid(a.pml4);
  // Every capability to A's thread (the root task's and A's own, in its slot 1) goes, which
  // destroys the thread and its copy of the PML4 capability; then the last PML4 capability.
  REQUIRE_OK(sys::cnode_delete(a.cnode, 1, kDepth));
  REQUIRE_OK(sys::cnode_delete(kRoot, a.tcb, kDepth));
  REQUIRE_OK(sys::cnode_delete(kRoot, a.pml4, kDepth));

  Process b = REQUIRE_OK(spawn_process(touch_and_report, kX, 100, 6, 2));
  REQUIRE_OK(give(b, 2, ep));
  uint64_t asid_b = pml4_asid(b.pml4);
  if (asid_a != asid_b) {
    note("the new address space got ASID %llu, not %llu: a weaker check",
         static_cast<unsigned long long>(asid_b), static_cast<unsigned long long>(asid_a));
  }
  REQUIRE(recv_within(ep, m, 16));
  CHECK(m.label == static_cast<uint64_t>(abi::KernelLabel::kPageFault));
  CHECK(m.words[abi::kPfAddress] == kX);
  CHECK((m.words[abi::kPfAccess] & abi::kAccessPresent) == 0);
  if (m.label == static_cast<uint64_t>(abi::KernelLabel::kPageFault)) {
    CHECK(sys::reply(sys::Message::make(abi::kFaultStop, {})) == Status::kOk);
  }
}

// --- Labels ------------------------------------------------------------------------------------

KTEST(vspace_wrong_labels_and_truncated_messages) {
  Env& e = env();
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t pt = make(ObjectType::kPageTable);
  uint64_t pd = make(ObjectType::kPageDirectory);
  uint64_t pdpt = make(ObjectType::kPdpt);
  check_truncated(CapType::kFrame, frame);
  check_truncated(CapType::kPageTable, pt);
  check_truncated(CapType::kPageDirectory, pd);
  check_truncated(CapType::kPdpt, pdpt);
  check_truncated(CapType::kAsidControl, abi::kSlotAsidControl);
  check_truncated(CapType::kAsidPool, abi::kSlotInitAsidPool);
  // Each table type answers only its own labels; frames answer no table labels.
  uint64_t area = kFarArea;
  CHECK_ERR(sys::table_map(CapType::kPageTable, pdpt, e.vspace, area), Status::kIllegalOperation);
  CHECK_ERR(sys::table_map(CapType::kPdpt, pd, e.vspace, area), Status::kIllegalOperation);
  CHECK_ERR(sys::table_map(CapType::kPageDirectory, pt, e.vspace, area), Status::kIllegalOperation);
  CHECK_ERR(sys::table_map(CapType::kPageTable, frame, e.vspace, area), Status::kIllegalOperation);
  CHECK_ERR(sys::frame_map(pt, e.vspace, area, kRW), Status::kIllegalOperation);
  CHECK_ERR(sys::frame_address(pt), Status::kIllegalOperation);
  CHECK_ERR(sys::frame_unmap(e.vspace), Status::kIllegalOperation);
  // A PML4 has no invocations at all.
  CHECK_ERR(sys::table_map(CapType::kPdpt, e.vspace, e.vspace, area), Status::kIllegalOperation);
  CHECK_ERR(sys::asid_pool_assign(abi::kSlotAsidControl, make(ObjectType::kPml4)),
            Status::kIllegalOperation);
  CHECK_ERR(sys::asid_control_make_pool(abi::kSlotInitAsidPool, 0, kRoot, slot(), kDepth),
            Status::kIllegalOperation);
  CHECK(!is_mapped(pdpt));
}

}  // namespace ktest
