// SPDX-License-Identifier: MIT
//
// x86_64 four-level paging: entry bits, CPU paging features, and the kernel's own address
// space (a direct map of physical memory plus the kernel image mapped with per-section rights).
#pragma once

#include <abi/result.hpp>

#include <kstd/types.hpp>

#include "layout.h"
#include "pte.hpp"

namespace kernel::mem {
class PhysMap;
}

namespace kernel::x86 {

struct PagingFeatures {
  bool nx = false;        // Execute-disable (EFER.NXE set by boot.S when present).
  bool gb_pages = false;  // 1 GiB pages in the PDPT.
  bool pcid = false;      // Process-context identifiers (CR4.PCIDE).
  bool invpcid = false;
};

const PagingFeatures& paging_features();

// The NX bit when the CPU has it, else 0, so that callers can always OR it in.
uint64_t nx_bit();

// Physical to kernel-virtual through the direct map.
inline void* phys_to_virt(uint64_t phys) {
  return reinterpret_cast<void*>(DIRECT_MAP_BASE + phys);
}

// Builds the kernel page tables from memory taken out of `map`, switches CR3 to them and
// drops the boot identity map. Direct-maps [0, max(4 GiB, highest memory)) up to 512 GiB
// (the first 4 GiB always, for device registers); memory above that is left out and the number
// of bytes left out is returned. Must run on the boot page tables.
abi::Result<uint64_t> init_kernel_paging(mem::PhysMap& map);

// Physical address of the kernel's PML4; its upper half is shared by every address space.
uint64_t kernel_pml4_phys();

// End of the direct-mapped physical range.
uint64_t direct_map_end();

// The leaf translation of `vaddr` in the tables rooted at `pml4_phys`, with the rights that all
// levels together grant.
struct Translation {
  bool present = false;
  uint64_t phys = 0;
  uint64_t page_size = 0;
  bool writable = false;
  bool user = false;
  bool executable = false;
  bool global = false;
};
Translation translate(uint64_t pml4_phys, uint64_t vaddr);

}  // namespace kernel::x86
