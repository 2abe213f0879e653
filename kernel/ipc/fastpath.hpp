// SPDX-License-Identifier: MIT
//
// The IPC fast path: Call and ReplyRecv with a short message (at most the four register words),
// no capabilities, a partner already waiting, and nothing unusual anywhere. It switches straight
// to the partner without touching the scheduler's queues. It never reports an error itself: at
// the first surprise it returns and the general path (syscall/dispatch.cpp) handles the call,
// with the same result. Built unless -Dfastpath=false; dev builds can also turn it off at boot
// with fastpath=0, so the conformance tests run both ways.
#pragma once

#include "object/tcb.hpp"

// Called by the system call entry (arch/x86_64/entry.S) for Call and ReplyRecv, before the
// general path. Each either completes the system call of `t`, the current thread, and leaves
// the kernel for the partner (never returning), or returns having changed nothing.
extern "C" void fastpath_call(kernel::Tcb* t);
extern "C" void fastpath_reply_recv(kernel::Tcb* t);

namespace kernel {

// Whether the fast path is in use (it is unless the command line said fastpath=0).
bool fastpath_enabled();
void set_fastpath_enabled(bool on);

}  // namespace kernel
