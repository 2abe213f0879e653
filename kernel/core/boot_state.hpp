// SPDX-License-Identifier: MIT
//
// Everything the boot path learned, in one place, for the parts of the kernel that start after
// it (and for the boot self-test).
#pragma once

#include "boot/multiboot2.hpp"
#include "config.hpp"
#include "core/boot_cspace.hpp"
#include "object/tcb.hpp"
#include "mem/phys_map.hpp"

namespace kernel {

struct BootState {
  uint64_t tsc_at_entry = 0;
  uint64_t tsc_at_init_done = 0;
  uint64_t mbi_phys = 0;
  uint64_t memory_not_mapped = 0;  // Bytes of RAM beyond the direct map, left unused.
  uint64_t usable_reported = 0;    // Sum of the firmware's "available" ranges, in whole pages.
  KernelConfig config;
  boot::Multiboot2Info mb2;  // Parsed through the direct map: its pointers stay valid.
  mem::PhysMap phys_map;
  BootCSpace cspace;
  Tcb* root_task = nullptr;
  uint64_t phys_addr_bits = 0;
};

BootState& boot_state();

}  // namespace kernel
