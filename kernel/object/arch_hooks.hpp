// SPDX-License-Identifier: MIT
//
// What the portable object layer needs from the architecture. The kernel implements these in
// arch/x86_64; the unit tests supply recording doubles.
#pragma once

#include <kstd/types.hpp>

#include "object/cap.hpp"

namespace kernel {
struct Tcb;
struct UserContext;
}  // namespace kernel

namespace kernel::arch {

// Fills in a new thread's registers: user code and data segments, interrupts enabled.
void init_user_context(UserContext* context);

// A thread is being destroyed: forget it wherever the CPU state refers to it (FPU owner).
void thread_destroyed(Tcb* tcb);

// The FS base of `tcb` changed: load it before the thread next runs.
void fs_base_changed(Tcb* tcb);

// The I/O port bindings of `tcb` changed (null: some port capability went away somewhere):
// recompute the permission bitmap before the next exit to user mode.
void io_ports_changed(Tcb* tcb);

// Masks / unmasks an interrupt line at the interrupt controller.
void mask_irq(uint32_t line, bool masked);

// Prepares a zeroed PML4 at `pml4`: shares the kernel half of the address space.
void init_pml4(PhysAddr pml4);

// The translation of `vaddr` in the address space (asid, root) changed or went away: no CPU may
// keep using the old one.
void flush_page(uint64_t asid, PhysAddr root, uint64_t vaddr);

// A page table, directory or PDPT was taken out of the address space (asid, root): drop every
// translation of that space.
void flush_space(uint64_t asid, PhysAddr root);

// An address space is being destroyed or loses its ASID: no CPU may keep using its root or its
// TLB entries.
void release_address_space(uint64_t asid, PhysAddr pml4);

}  // namespace kernel::arch
