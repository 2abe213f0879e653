// SPDX-License-Identifier: MIT
#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include <sys/debug.hpp>
#include <sys/ipc.hpp>
#include <sys/syscall.hpp>

#include "lib/format.hpp"

#include <kstd/enforce.hpp>

namespace sys {

void debug_print(const char* s) {
  while (*s != '\0') {
    debug_putchar(*s++);
  }
}

void debug_write(const char* s, size_t n) {
  static_assert(kDebugWriteMax <= offsetof(abi::IpcBuffer, user_data));
  auto* buf = reinterpret_cast<char*>(ipc_buffer());
  if (buf == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      debug_putchar(s[i]);
    }
    return;
  }
  while (n > 0) {
    size_t piece = kstd::min(n, kDebugWriteMax);
    memcpy(buf, s, piece);
    debug_write_ipc_buffer(piece);
    s += piece;
    n -= piece;
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
