// SPDX-License-Identifier: MIT
//
// Console output through the kernel's debug system calls (dev and standard kernels). Servers
// normally log through the console server; tests and early code use these.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace sys {

void debug_print(const char* s);
// Writes `n` bytes with one system call per piece of kDebugWriteMax bytes, so that a line does
// not interleave with other console output. The pieces pass through the start of the calling
// thread's IPC buffer (its message words; the receive slot fields stay untouched): call it only
// with the thread block installed, and not between filling the buffer and a system call.
inline constexpr size_t kDebugWriteMax = 512;
void debug_write(const char* s, size_t n);
void debug_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug_vprintf(const char* fmt, va_list ap);

}  // namespace sys
