// SPDX-License-Identifier: MIT
//
// A small printf-style formatter for kernel messages. It never allocates, never reads past the
// output buffer, and always terminates the output. Supported: %d %i %u %x %X %o %p %s %c %%,
// the flags '-', '0' and '#' (which always prefixes 0x, even to zero), a field width (also '*'), a precision for %s (also '*'), and the length
// modifiers hh h l ll z j t. %p is always 0x and 16 hex digits. Widths and precisions are clamped
// to 1024. Unknown conversions are copied through so that mistakes are visible.
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace kernel {

// Formats into buf (capacity cap, cap may be 0). Returns the length the full output would have,
// like vsnprintf, so callers can detect truncation.
size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap);

size_t format(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace kernel
