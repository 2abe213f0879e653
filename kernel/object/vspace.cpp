// SPDX-License-Identifier: MIT
#include "object/vspace.hpp"

#include <abi/registers.hpp>
#include <abi/rights.hpp>

#include <kstd/string.hpp>

#include "arch/x86_64/pte.hpp"
#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "object/asid.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::Status;
namespace x86 = kernel::x86;

uint64_t* table_at(PhysAddr p) { return mem::phys_to<uint64_t>(p); }

// Level whose entry maps or links `cap`: 0 PT entry .. 3 PML4 entry.
int entry_level(const Cap& cap) {
  switch (cap.type()) {
    case CapType::kFrame: return cap.frame_size() == 0 ? 0 : 1;
    case CapType::kPageTable: return 1;
    case CapType::kPageDirectory: return 2;
    default: return 3;
  }
}

// Walks from `root` down to the table that holds the entry for `vaddr` at `level`. Errors:
// kFailedLookup when an intermediate table is missing, kDeleteFirst when a large page is in
// the way.
abi::Result<uint64_t*> walk_to(PhysAddr root, uint64_t vaddr, int level) {
  PhysAddr t = root;
  for (int l = 3; l > level; --l) {
    uint64_t e = table_at(t)[x86::pt_index(vaddr, l)];
    if ((e & x86::kPtePresent) == 0) {
      return abi::err(Status::kFailedLookup);
    }
    if ((e & x86::kPteHuge) != 0) {
      return abi::err(Status::kDeleteFirst);
    }
    t = e & x86::kPteAddrMask;
  }
  return &table_at(t)[x86::pt_index(vaddr, level)];
}

}  // namespace

bool mapping_live(const Cap& cap) {
  return cap.is_mapped() && asid_lookup(cap.mapped_asid()) != 0 &&
         asid_generation(cap.mapped_asid()) == cap.mapped_generation();
}

bool vspace_unmap(const Cap& cap) {
  if (!mapping_live(cap)) {
    return false;
  }
  PhysAddr root = asid_lookup(cap.mapped_asid());
  auto entry = walk_to(root, cap.mapped_vaddr(), entry_level(cap));
  if (!entry) {
    return false;  // The path above it is gone.
  }
  uint64_t* e = entry.value();
  bool huge_frame = cap.type() == CapType::kFrame && cap.frame_size() != 0;
  // Only an entry that still holds this object goes: the place may have been reused.
  if ((*e & x86::kPtePresent) == 0 || (*e & x86::kPteAddrMask) != cap.object() ||
      ((*e & x86::kPteHuge) != 0) != huge_frame) {
    return false;
  }
  *e = 0;
  if (cap.type() == CapType::kFrame) {
    arch::flush_page(cap.mapped_asid(), root, cap.mapped_vaddr());
  } else {
    arch::flush_space(cap.mapped_asid(), root);  // A whole table's worth went away.
  }
  return true;
}

abi::Result<FrameMapping> check_frame_map(const Cap& frame, const Cap& pml4, uint64_t vaddr,
                                          uint64_t rights, uint64_t attributes) {
  PhysAddr root = vspace_root(pml4);
  if (root == 0) {
    return abi::err(Status::kInvalidCapability);
  }
  uint64_t size = frame.frame_bytes();
  if (vaddr % size != 0) {
    return abi::err(Status::kAlignmentError);
  }
  constexpr uint64_t kMapRights = abi::Rights::kRead | abi::Rights::kWrite | abi::Rights::kExecute;
  if (vaddr >= abi::kUserTop || size > abi::kUserTop - vaddr || (rights & ~kMapRights) != 0 ||
      (rights & abi::Rights::kRead) == 0 || (attributes & ~uint64_t{1}) != 0) {
    return abi::err(Status::kInvalidArgument);
  }
  abi::Rights effective = frame.rights() & abi::Rights{static_cast<uint8_t>(rights)};
  if (!effective.has(abi::Rights::kRead)) {
    return abi::err(Status::kInvalidCapability);
  }
  bool remap = false;
  if (mapping_live(frame)) {
    if (frame.mapped_asid() != pml4.pml4_asid() || frame.mapped_vaddr() != vaddr) {
      return abi::err(Status::kIllegalOperation);
    }
    remap = true;
  }
  int level = frame.frame_size() == 0 ? 0 : 1;
  uint64_t* entry = TRY(walk_to(root, vaddr, level));
  uint64_t pte = frame.object() | x86::kPtePresent | x86::kPteUser;
  if (level == 1) {
    pte |= x86::kPteHuge;
  }
  if (effective.has(abi::Rights::kWrite)) {
    pte |= x86::kPteWrite;
  }
  if (!effective.has(abi::Rights::kExecute)) {
    pte |= x86::kPteNx;
  }
  if ((attributes & 1) != 0 || frame.frame_is_device()) {
    pte |= x86::kPteCacheDisable | x86::kPteWriteThrough;
  }
  bool occupied = (*entry & x86::kPtePresent) != 0;
  if (remap) {
    if (!occupied || (*entry & x86::kPteAddrMask) != frame.object()) {
      return abi::err(Status::kIllegalOperation);  // The recorded mapping is gone.
    }
  } else if (occupied) {
    return abi::err(Status::kDeleteFirst);
  }
  uint64_t asid = pml4.pml4_asid();
  return FrameMapping{root, asid, asid_generation(asid), vaddr, entry, pte, remap};
}

void perform_frame_map(Slot* frame, const FrameMapping& m) {
  // A remap that changes anything (rights, or the cache type, which the TLB keeps too) must not
  // leave the old translation behind.
  bool changed = m.remap && *m.entry != m.pte;
  *m.entry = m.pte;
  frame->cap = frame->cap.with_mapping(m.asid, m.generation, m.vaddr);
  if (changed) {
    arch::flush_page(m.asid, m.root, m.vaddr);
  }
}

void perform_unmap(Slot* slot) {
  Cap cap = slot->cap;
  if (!cap.is_mapped()) {
    return;
  }
  if (vspace_unmap(cap) && cap.type() != CapType::kFrame) {
    memset(table_at(cap.object()), 0, x86::kPageSize);
  }
  slot->cap = cap.without_mapping();
}

abi::Result<TableMapping> check_table_map(const Cap& table, const Cap& pml4, uint64_t vaddr) {
  PhysAddr root = vspace_root(pml4);
  if (root == 0) {
    return abi::err(Status::kInvalidCapability);
  }
  if (mapping_live(table)) {
    return abi::err(Status::kIllegalOperation);
  }
  if (vaddr >= abi::kUserTop) {
    return abi::err(Status::kInvalidArgument);
  }
  int level = entry_level(table);
  uint64_t span = uint64_t{1} << (12 + 9 * level);  // What the table covers.
  uint64_t base = vaddr & ~(span - 1);
  uint64_t* entry = TRY(walk_to(root, base, level));
  if ((*entry & x86::kPtePresent) != 0) {
    return abi::err(Status::kDeleteFirst);
  }
  uint64_t asid = pml4.pml4_asid();
  return TableMapping{asid, asid_generation(asid), base, entry};
}

void perform_table_map(Slot* table, const TableMapping& m) {
  *m.entry = table->cap.object() | x86::kPtePresent | x86::kPteWrite | x86::kPteUser;
  table->cap = table->cap.with_mapping(m.asid, m.generation, m.vaddr);
}

}  // namespace kernel
