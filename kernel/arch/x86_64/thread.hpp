// SPDX-License-Identifier: MIT
//
// Running threads on x86_64: entering the kernel from user mode, and leaving it for the thread
// the scheduler picks (loading its address space, TSS stack, FS base, FPU and I/O port state).
#pragma once

#include "object/tcb.hpp"
#include "trap_frame.hpp"

namespace kernel::x86 {

// Prepares this CPU for user threads: per-CPU area, SYSCALL MSRs, the idle thread.
void init_threads();

// Leaves the kernel: schedules, then returns to the chosen thread's user registers or idles.
[[noreturn]] void kernel_exit();

// An interrupt (not an exception) taken in kernel mode, which only happens while idling.
void kernel_interrupt(const TrapFrame& frame);

}  // namespace kernel::x86
