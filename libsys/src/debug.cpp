// SPDX-License-Identifier: MIT
#include <sys/debug.hpp>
#include <sys/syscall.hpp>

#include "lib/format.hpp"

#include <kstd/enforce.hpp>

namespace sys {

void debug_print(const char* s) {
  while (*s != '\0') {
    debug_putchar(*s++);
  }
}

void debug_vprintf(const char* fmt, va_list ap) {
  char buf[512];
  kernel::vformat(buf, sizeof buf, fmt, ap);
  debug_print(buf);
}

void debug_printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  debug_vprintf(fmt, ap);
  va_end(ap);
}

}  // namespace sys
