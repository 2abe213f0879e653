// SPDX-License-Identifier: MIT
//
// Exception and interrupt dispatch. Exceptions raised by kernel code are kernel bugs: they are
// reported with a full register dump and stop the machine. (User-mode exceptions become fault
// messages once threads exist.)
#pragma once

#include "trap_frame.hpp"

namespace kernel::x86 {

// Prints the register dump for an exception, naming the vector and, for a page fault, the
// faulting address and access.
void print_trap_report(const TrapFrame& frame);

// A self-test hook called for kernel-mode exceptions after the report is printed. It returns
// only if the test did not expect this exception, in which case the machine halts as usual.
using KernelExceptionHook = void (*)(const TrapFrame& frame);
void set_kernel_exception_hook(KernelExceptionHook hook);

}  // namespace kernel::x86

extern "C" void trap_dispatch(kernel::x86::TrapFrame* frame);
