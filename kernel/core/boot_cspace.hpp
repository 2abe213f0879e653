// SPDX-License-Identifier: MIT
//
// Builds the root task's initial CSpace: one CNode holding the control capabilities, frames for
// the boot-info pages and the boot modules, and untyped capabilities for all remaining free
// memory (in maximal aligned power-of-two blocks) and for the physical address space that
// firmware leaves to devices. Portable, so the unit tests can run it over a host arena.
#pragma once

#include <abi/boot_info.hpp>
#include <abi/result.hpp>

#include <kstd/span.hpp>
#include <kstd/types.hpp>

#include "mem/phys_map.hpp"
#include "object/cap.hpp"
#include "object/slot.hpp"

namespace kernel {

struct BootModuleSpec {
  PhysAddr paddr;  // Page aligned.
  uint64_t size;
  const char* name;
};

struct BootCSpaceSpec {
  kstd::span<const BootModuleSpec> modules;
  uint64_t phys_addr_bits = 36;  // Device untyped stop here.
  uint64_t ram_limit = 0;        // RAM at or above this is not usable by the kernel (0: none).
  // Device ranges the kernel keeps for itself (local APIC, I/O APIC): never device untyped.
  // Any order; at most 16.
  kstd::span<const mem::PhysRegion> kernel_devices;
  uint64_t extra_slots = 0;      // Reserved for the caller (the root task's image frames).
};

struct BootCSpace {
  Cap root_cnode;            // Copy of the capability in abi::kSlotInitCNode.
  Slot* slots;               // The root CNode's slots.
  abi::BootInfo* info;       // Through the kernel's window.
  PhysAddr info_phys;        // First boot-info page.
  uint64_t next_free;        // First slot not yet used.
  uint64_t dropped_bytes;    // Memory left out because the boot-info untyped list was full.
};

// Allocates the root CNode and the boot-info pages from `map` (they become kernel data), fills
// the fixed slots, the boot-info frames and the module frames. Untyped capabilities are added
// later by add_boot_untyped, after every other boot allocation. Errors: kNotEnoughMemory,
// kRangeError (too many modules).
abi::Result<BootCSpace> create_boot_cspace(mem::PhysMap& map, const BootCSpaceSpec& spec);

// Places `cap` in the next free slot as the root of its own derivation tree; returns the slot
// number.
uint64_t boot_cspace_append(BootCSpace& cs, const Cap& cap);

// Turns what is left free in `map` into untyped capabilities, followed by device untyped, and
// finishes the boot-info page (untyped list, empty range, totals).
void add_boot_untyped(BootCSpace& cs, const mem::PhysMap& map, const BootCSpaceSpec& spec);

}  // namespace kernel
