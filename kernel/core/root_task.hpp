// SPDX-License-Identifier: MIT
//
// Making the root task: the first user program, loaded from the first boot module. The kernel
// checks the ELF image, builds an address space (ASID pool 0, a PML4, page tables), copies the
// segments into fresh frames (W^X as the headers say), maps the boot-info pages read-only, an
// IPC buffer and a stack, and creates the thread with every initial capability in its CNode.
// All of it comes from memory the kernel takes at boot, before untyped memory is handed out.
#pragma once

#include <abi/result.hpp>

#include <kstd/span.hpp>

#include "core/boot_cspace.hpp"
#include "lib/elf.hpp"
#include "mem/phys_map.hpp"
#include "object/tcb.hpp"

namespace kernel {

struct RootTaskError {
  bool elf;               // true: the ELF image was refused (elf_error says why).
  elf::Error elf_error;
  abi::Status status;     // Otherwise: what ran out.
};

// Builds the root task from `image` (the module's bytes) and returns its (inactive) TCB.
abi::Result<Tcb*, RootTaskError> create_root_task(BootCSpace& cs, mem::PhysMap& map,
                                                  kstd::span<const uint8_t> image,
                                                  uint64_t ram_limit);

}  // namespace kernel
