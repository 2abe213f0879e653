// SPDX-License-Identifier: MIT
#include <kstd/string.hpp>

#include <sys/debug.hpp>
#include <sys/log.hpp>

#include "lib/format.hpp"

#include <kstd/enforce.hpp>

namespace sys {
namespace {

void debug_sink_write(const char* text, size_t n) {
#if defined(KEEL_DEBUG_SYSCALLS)
  debug_write(text, n);
#else
  (void)text;
  (void)n;
#endif
}

LogSink g_sink = {debug_sink_write, nullptr};
const char* g_name = nullptr;

void to_sink(void*, const char* text, size_t n) { g_sink.write(text, n); }

// Formats into `buf`; text that does not fit is cut and marked. Returns the length.
size_t format_text(char (&buf)[kLogTextMax], const char* fmt, va_list ap) {
  size_t n = kernel::vformat(buf, sizeof buf, fmt, ap);
  if (n >= sizeof buf) {
    n = sizeof buf - 1;
    memcpy(buf + n - 3, "...", 3);
  }
  return n;
}

}  // namespace

LogSink debug_log_sink() { return {debug_sink_write, nullptr}; }

void set_log_sink(LogSink sink) { g_sink = sink; }

void set_log_name(const char* name) { g_name = name; }

void vlog(const char* fmt, va_list ap) {
  char buf[kLogTextMax];
  size_t n = format_text(buf, fmt, ap);
  write_log_lines(g_name, buf, n, {to_sink, nullptr});
}

void log(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(fmt, ap);
  va_end(ap);
}

void vprint(const char* fmt, va_list ap) {
  char buf[kLogTextMax];
  size_t n = format_text(buf, fmt, ap);
  write_pieces(buf, n, {to_sink, nullptr});
}

void print(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprint(fmt, ap);
  va_end(ap);
}

size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap) {
  return kernel::vformat(buf, cap, fmt, ap);
}

size_t format(char* buf, size_t cap, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = kernel::vformat(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

void log_flush() {
  if (g_sink.flush != nullptr) {
    g_sink.flush();
  }
}

}  // namespace sys
