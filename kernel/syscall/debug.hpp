// SPDX-License-Identifier: MIT
//
// Debug system calls (dev and standard profiles): console output and ending a QEMU run.
#pragma once

#include "object/tcb.hpp"

namespace kernel {

// Handles debug system call `number` for `t`. Returns false when this build has none, so the
// call is an unknown system call like any other.
bool handle_debug_syscall(Tcb* t, int64_t number);

}  // namespace kernel
