// SPDX-License-Identifier: MIT
//
// Logging for user programs. log() writes each line of its text as "[<name>] line\n"; print()
// writes text exactly as formatted (TAP output, which must start at the beginning of a line).
// Both format with the kernel's printf-style formatter (kernel/lib/format.hpp) and hand the
// result to the current sink in pieces of at most kLogPiece bytes.
//
// The default sink is the kernel's debug console (dev and standard kernels; other kernels have
// no debug system calls, and the default sink drops the text). The server runtime
// (sys/server.hpp) names the log after the server and switches to the console service when
// the server was granted "console"; the console server logs into its own buffer.
#pragma once

#include <abi/protocols/console.hpp>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace sys {

// The largest piece a sink is handed: what one console.write carries.
inline constexpr size_t kLogPiece = abi::console::kMaxBytes;
// Formatted text beyond this many bytes is cut and ends in "...".
inline constexpr size_t kLogTextMax = 1024;

struct LogSink {
  void (*write)(const char* text, size_t n);  // n <= kLogPiece.
  void (*flush)();                            // May be null: nothing to flush.
};

// The kernel debug console (dropping the text on kernels without the debug system calls).
LogSink debug_log_sink();

// Where log() and print() write from now on.
void set_log_sink(LogSink sink);
// The name log() puts in front of each line (not copied: the string must stay). Null or "":
// no prefix.
void set_log_name(const char* name);

void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void vlog(const char* fmt, va_list ap);
void print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void vprint(const char* fmt, va_list ap);
// Returns once everything logged so far has left the sink (console.flush).
void log_flush();

// Formats into `buf` (capacity `cap`, always terminated) as log() does; returns the length the
// whole text would have, like vsnprintf.
size_t format(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap);

// --- The layout, separate from any sink so that host tests run it -----------------------------

struct PieceWriter {
  void (*write)(void* context, const char* text, size_t n);
  void* context;
};

// Writes `text` (n bytes) as lines "[name] line\n", in pieces of at most kLogPiece bytes that
// end at line ends where the lines allow. A newline at the end of `text` ends the last line
// rather than starting an empty one; empty text gives one empty line.
void write_log_lines(const char* name, const char* text, size_t n, PieceWriter out);

// Writes `text` unchanged, in pieces of at most kLogPiece bytes.
void write_pieces(const char* text, size_t n, PieceWriter out);

}  // namespace sys
