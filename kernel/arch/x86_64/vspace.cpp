// SPDX-License-Identifier: MIT
//
// The architecture side of address-space objects: new PML4s share the kernel half, and
// mapping capabilities are unmapped by walking the tables of the ASID they recorded.
#include <kstd/string.hpp>

#include "cpu.hpp"
#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "object/asid.hpp"
#include "paging.hpp"

#include <kstd/enforce.hpp>

namespace kernel::arch {
namespace {

uint64_t* table(PhysAddr p) { return mem::phys_to<uint64_t>(p); }

// The entry that maps (or links) `cap` in the address space rooted at `root`, or null when the
// path to it is gone.
uint64_t* entry_for(PhysAddr root, const Cap& cap) {
  uint64_t vaddr = cap.mapped_vaddr();
  int level;  // 3: PML4 entry, 2: PDPT entry, 1: PD entry, 0: PT entry.
  switch (cap.type()) {
    case CapType::kFrame: level = cap.frame_size() == 0 ? 0 : 1; break;
    case CapType::kPageTable: level = 1; break;
    case CapType::kPageDirectory: level = 2; break;
    case CapType::kPdpt: level = 3; break;
    default: return nullptr;
  }
  PhysAddr t = root;
  for (int l = 3; l > level; --l) {
    uint64_t e = table(t)[(vaddr >> (12 + 9 * l)) & 511];
    if ((e & x86::kPtePresent) == 0 || (e & x86::kPteHuge) != 0) {
      return nullptr;
    }
    t = e & x86::kPteAddrMask;
  }
  return &table(t)[(vaddr >> (12 + 9 * level)) & 511];
}

}  // namespace

void init_pml4(PhysAddr pml4) {
  const uint64_t* kernel = table(x86::kernel_pml4_phys());
  memcpy(table(pml4) + 256, kernel + 256, 256 * sizeof(uint64_t));
}

void unmap_cap(const Cap& cap) {
  PhysAddr root = asid_lookup(cap.mapped_asid());
  if (root == 0) {
    return;  // The address space is gone, and its mappings with it.
  }
  uint64_t* e = entry_for(root, cap);
  // Only clear the entry if it still points at this object: the slot may have been remapped.
  if (e == nullptr || (*e & x86::kPtePresent) == 0 || (*e & x86::kPteAddrMask) != cap.object()) {
    return;
  }
  *e = 0;
  if ((x86::read_cr3() & x86::kPteAddrMask) == root) {
    if (cap.type() == CapType::kFrame) {
      x86::invlpg(cap.mapped_vaddr());
    } else {
      x86::write_cr3(x86::read_cr3());  // A whole table's worth of translations went away.
    }
  }
}

void release_address_space(uint64_t, PhysAddr pml4) {
  // Without PCIDs the next CR3 load flushes the space's entries; the only hazard is the space
  // being the current one.
  if ((x86::read_cr3() & x86::kPteAddrMask) == pml4) {
    x86::write_cr3(x86::kernel_pml4_phys());
  }
}

}  // namespace kernel::arch
