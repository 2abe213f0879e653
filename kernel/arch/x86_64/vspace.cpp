// SPDX-License-Identifier: MIT
//
// The architecture side of address-space objects: new PML4s share the kernel half; TLB flushes
// after the portable code (object/vspace.cpp) changed a mapping; leaving a dying address space.
#include <kstd/string.hpp>

#include "cpu.hpp"
#include "cpu_local.hpp"
#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "paging.hpp"
#include "tlb.hpp"

#include <kstd/enforce.hpp>

namespace kernel::arch {

void init_pml4(PhysAddr pml4) {
  const uint64_t* kernel = mem::phys_to<uint64_t>(x86::kernel_pml4_phys());
  memcpy(mem::phys_to<uint64_t>(pml4) + 256, kernel + 256, 256 * sizeof(uint64_t));
}

void flush_page(uint64_t asid, PhysAddr root, uint64_t vaddr) {
  x86::tlb_flush_page(asid, root, vaddr);
}

void flush_space(uint64_t asid, PhysAddr root) { x86::tlb_flush_space(asid, root); }

void release_address_space(uint64_t asid, PhysAddr pml4) {
  // The space may be the loaded one (its last thread deleted it): leave it now. Its ASID may
  // be given to another space, which must not see these translations.
  if ((x86::read_cr3() & x86::kPteAddrMask) == pml4) {
    x86::write_cr3(x86::kernel_pml4_phys());
    x86::this_cpu()->loaded_root = x86::kernel_pml4_phys();
  }
  if (x86::tlb_pcid_enabled()) {
    x86::tlb_mark_stale(asid);
  }
}

}  // namespace kernel::arch
