// SPDX-License-Identifier: MIT
//
// What the portable object layer needs from the architecture. The kernel implements these in
// arch/x86_64; the unit tests supply recording doubles.
#pragma once

#include <kstd/types.hpp>

#include "object/cap.hpp"

namespace kernel::arch {

// Prepares a zeroed PML4 at `pml4`: shares the kernel half of the address space.
void init_pml4(PhysAddr pml4);

// Removes the mapping a frame or page-table capability records (is_mapped()), if the address
// space and entry still hold it, and flushes the TLB for it.
void unmap_cap(const Cap& cap);

// An address space is being destroyed or loses its ASID: no CPU may keep using its root or its
// TLB entries.
void release_address_space(uint64_t asid, PhysAddr pml4);

}  // namespace kernel::arch
