// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <stdarg.h>

#include "arch/x86_64/serial.hpp"
#include "lib/format.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

LogLevel g_level = LogLevel::kInfo;

constexpr size_t kLineMax = 320;

void vprint(const char* prefix, const char* fmt, va_list ap) {
  char line[kLineMax];
  size_t n = 0;
  for (const char* p = prefix; *p != '\0' && n < kLineMax - 1; ++p) {
    line[n++] = *p;
  }
  size_t want = vformat(line + n, kLineMax - n, fmt, ap);
  size_t room = kLineMax - n - 1;
  if (want > room) {
    // Mark the truncation so a cut-off message is never mistaken for a whole one.
    line[kLineMax - 4] = '.';
    line[kLineMax - 3] = '.';
    line[kLineMax - 2] = '.';
    want = room;
  }
  n += want;
  console_write(line, n);
}

}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
bool log_enabled(LogLevel level) { return level <= g_level; }

void console_write(const char* s, size_t n) { x86::console_serial().write(s, n); }

void log(LogLevel level, const char* fmt, ...) {
  if (!log_enabled(level)) {
    return;
  }
  static constexpr const char* kPrefix[] = {"[error] ", "[warn] ", "[info] ", "[debug] ",
                                            "[trace] "};
  va_list ap;
  va_start(ap, fmt);
  vprint(kPrefix[static_cast<int>(level)], fmt, ap);
  va_end(ap);
  console_write("\n", 1);
}

void kprint(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprint("", fmt, ap);
  va_end(ap);
}

}  // namespace kernel
