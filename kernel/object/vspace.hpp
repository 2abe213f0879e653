// SPDX-License-Identifier: MIT
//
// Address spaces: mapping frames and page tables into a PML4, as invocations on their
// capabilities. The capability records where it is mapped (ASID and address), so unmapping and
// destroying know what to remove; the entry is only cleared if it still points at the object.
// The kernel half of every PML4 is shared and never reachable from here: user mappings stay
// below abi::kUserTop.
#pragma once

#include <abi/result.hpp>

#include <kstd/types.hpp>

#include "object/asid.hpp"
#include "object/slot.hpp"

namespace kernel {

// The PML4 behind a capability that names a live address space with an ASID, or 0.
inline PhysAddr vspace_root(const Cap& pml4) {
  return pml4.type() == CapType::kPml4 && pml4_asid_live(pml4) ? pml4.object() : 0;
}

// Whether the mapping a frame or table capability records still exists in a live address space
// (same ASID assignment); a capability whose address space went away counts as unmapped.
bool mapping_live(const Cap& cap);

// Removes the mapping `cap` records, if its address space is live and the entry still points at
// the object, and flushes the TLB. Returns whether an entry was removed.
bool vspace_unmap(const Cap& cap);

struct FrameMapping {
  PhysAddr root;     // PML4.
  uint64_t asid;
  uint64_t generation;
  uint64_t vaddr;
  uint64_t* entry;   // The PT entry (4 KiB) or PD entry (2 MiB) to write.
  uint64_t pte;      // What to write.
  bool remap;        // The capability already maps this place: only the rights change.
};

// Checks a FrameMap request; nothing changes. Errors as documented for FrameMap.
abi::Result<FrameMapping> check_frame_map(const Cap& frame, const Cap& pml4, uint64_t vaddr,
                                          uint64_t rights, uint64_t attributes);
void perform_frame_map(Slot* frame, const FrameMapping& m);

// Unmaps what the capability in `slot` maps (if anything) and records it unmapped. A page
// table that was really unmapped is cleared as well, so that mappings inside it cannot reappear
// elsewhere; one whose recorded mapping was stale (another capability unmapped it) is left
// alone, as it may be in use somewhere else.
void perform_unmap(Slot* slot);

struct TableMapping {
  uint64_t asid;
  uint64_t generation;
  uint64_t vaddr;    // Aligned down to what the table covers.
  uint64_t* entry;   // The parent entry to write.
};

// Checks mapping a page table, page directory or PDPT (by the capability's type).
abi::Result<TableMapping> check_table_map(const Cap& table, const Cap& pml4, uint64_t vaddr);
void perform_table_map(Slot* table, const TableMapping& m);

}  // namespace kernel
