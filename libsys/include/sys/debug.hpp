// SPDX-License-Identifier: MIT
//
// Console output through the kernel's debug system calls (dev and standard kernels). Servers
// normally log through the console server; tests and early code use these.
#pragma once

#include <stdarg.h>
#include <stdint.h>

namespace sys {

void debug_print(const char* s);
void debug_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug_vprintf(const char* fmt, va_list ap);

}  // namespace sys
