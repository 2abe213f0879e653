// SPDX-License-Identifier: MIT
//
// System call dispatch (abi/syscalls.def). Portable: the architecture's entry code saves the
// thread's registers into its TCB and calls handle_syscall; the unit tests call it directly.
#pragma once

#include "object/tcb.hpp"

namespace kernel {

// Handles the system call of thread `t` (its number in RAX). Results land in t's registers; if
// t blocks, its results come when it is woken.
void handle_syscall(Tcb* t);

// A user exception (not a system call) in thread `t`: a page fault at `address` with
// `error_code`, or another CPU exception.
void handle_user_fault(Tcb* t, FaultKind kind, uint64_t vector, uint64_t error_code,
                       uint64_t address);

}  // namespace kernel
