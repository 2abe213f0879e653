// SPDX-License-Identifier: MIT
#include "format.hpp"

#include <kstd/types.hpp>

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

// Appends to a bounded buffer, counting what would have been written.
class Sink {
 public:
  Sink(char* buf, size_t cap) : buf_(buf), cap_(cap) {}

  void put(char c) {
    if (cap_ != 0 && len_ + 1 < cap_) {
      buf_[len_] = c;
    }
    ++len_;
  }

  void repeat(char c, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      put(c);
    }
  }

  void finish() {
    if (cap_ != 0) {
      buf_[len_ < cap_ ? len_ : cap_ - 1] = '\0';
    }
  }

  size_t length() const { return len_; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

// Field widths and precisions beyond this are clamped: no kernel message needs more, and an
// absurd value (INT_MIN from a '*' argument) must not make the formatter pad for ever.
constexpr int kMaxField = 1024;

struct Spec {
  bool left = false;
  bool zero = false;
  bool alt = false;
  size_t width = 0;
  int precision = -1;
};

void emit_padded(Sink& out, const Spec& spec, const char* text, size_t len) {
  size_t pad = spec.width > len ? spec.width - len : 0;
  if (!spec.left) {
    out.repeat(' ', pad);
  }
  for (size_t i = 0; i < len; ++i) {
    out.put(text[i]);
  }
  if (spec.left) {
    out.repeat(' ', pad);
  }
}

void emit_number(Sink& out, const Spec& spec, uint64_t value, bool negative, unsigned base,
                 bool upper, const char* prefix) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = digits[value % base];
    value /= base;
  } while (value != 0);

  size_t prefix_len = 0;
  while (prefix[prefix_len] != '\0') {
    ++prefix_len;
  }
  size_t body = n + prefix_len + (negative ? 1 : 0);
  size_t pad = spec.width > body ? spec.width - body : 0;

  if (!spec.left && !spec.zero) {
    out.repeat(' ', pad);
  }
  if (negative) {
    out.put('-');
  }
  for (size_t i = 0; i < prefix_len; ++i) {
    out.put(prefix[i]);
  }
  if (!spec.left && spec.zero) {
    out.repeat('0', pad);
  }
  while (n > 0) {
    out.put(tmp[--n]);
  }
  if (spec.left) {
    out.repeat(' ', pad);
  }
}

enum class Length { kInt, kChar, kShort, kLong, kLongLong, kSize };

uint64_t fetch_unsigned(va_list& ap, Length len) {
  switch (len) {
    case Length::kChar: return static_cast<unsigned char>(va_arg(ap, unsigned int));
    case Length::kShort: return static_cast<unsigned short>(va_arg(ap, unsigned int));
    case Length::kInt: return va_arg(ap, unsigned int);
    case Length::kLong: return va_arg(ap, unsigned long);
    case Length::kLongLong: return va_arg(ap, unsigned long long);
    case Length::kSize: return va_arg(ap, size_t);
  }
  return 0;
}

int64_t fetch_signed(va_list& ap, Length len) {
  switch (len) {
    case Length::kChar: return static_cast<signed char>(va_arg(ap, int));
    case Length::kShort: return static_cast<short>(va_arg(ap, int));
    case Length::kInt: return va_arg(ap, int);
    case Length::kLong: return va_arg(ap, long);
    case Length::kLongLong: return va_arg(ap, long long);
    case Length::kSize: return va_arg(ap, ptrdiff_t);
  }
  return 0;
}

}  // namespace

size_t vformat(char* buf, size_t cap, const char* fmt, va_list ap_in) {
  Sink out(buf, cap);
  va_list ap;
  va_copy(ap, ap_in);

  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      out.put(*p);
      continue;
    }
    const char* start = p++;
    Spec spec;
    for (;; ++p) {
      if (*p == '-') {
        spec.left = true;
      } else if (*p == '#') {
        spec.alt = true;
      } else if (*p == '0') {
        spec.zero = true;
      } else {
        break;
      }
    }
    if (*p == '*') {
      int w = va_arg(ap, int);
      if (w < 0) {
        spec.left = true;
        w = w < -kMaxField ? kMaxField : -w;
      }
      spec.width = static_cast<size_t>(w < kMaxField ? w : kMaxField);
      ++p;
    } else {
      while (*p >= '0' && *p <= '9') {
        if (spec.width < kMaxField) {
          spec.width = spec.width * 10 + static_cast<size_t>(*p - '0');
        }
        ++p;
      }
      spec.width = spec.width < kMaxField ? spec.width : kMaxField;
    }
    if (*p == '.') {
      ++p;
      spec.precision = 0;
      if (*p == '*') {
        spec.precision = va_arg(ap, int);  // Negative means none, as in C.
        ++p;
      } else {
        while (*p >= '0' && *p <= '9') {
          if (spec.precision < kMaxField) {
            spec.precision = spec.precision * 10 + (*p - '0');
          }
          ++p;
        }
      }
    }
    Length len = Length::kInt;
    if (*p == 'h') {
      len = Length::kShort;
      if (*++p == 'h') {
        len = Length::kChar;
        ++p;
      }
    } else if (*p == 'l') {
      len = Length::kLong;
      if (*++p == 'l') {
        len = Length::kLongLong;
        ++p;
      }
    } else if (*p == 'z' || *p == 'j' || *p == 't') {
      len = *p == 'j' ? Length::kLongLong : Length::kSize;
      ++p;
    }

    switch (*p) {
      case 'd':
      case 'i': {
        int64_t v = fetch_signed(ap, len);
        uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        emit_number(out, spec, mag, v < 0, 10, false, "");
        break;
      }
      case 'u': emit_number(out, spec, fetch_unsigned(ap, len), false, 10, false, ""); break;
      case 'x':
        emit_number(out, spec, fetch_unsigned(ap, len), false, 16, false, spec.alt ? "0x" : "");
        break;
      case 'X':
        emit_number(out, spec, fetch_unsigned(ap, len), false, 16, true, spec.alt ? "0X" : "");
        break;
      case 'o': emit_number(out, spec, fetch_unsigned(ap, len), false, 8, false, ""); break;
      case 'p': {
        // Always 0x and 16 digits, so that addresses line up; width and '-' pad the whole.
        char text[18] = {'0', 'x'};
        uint64_t v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
        for (int i = 17; i >= 2; --i, v >>= 4) {
          text[i] = "0123456789abcdef"[v & 15];
        }
        emit_padded(out, spec, text, sizeof text);
        break;
      }
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (s == nullptr) {
          s = "(null)";
        }
        size_t n = 0;
        while (s[n] != '\0' && (spec.precision < 0 || n < static_cast<size_t>(spec.precision))) {
          ++n;
        }
        emit_padded(out, spec, s, n);
        break;
      }
      case 'c': {
        char c = static_cast<char>(va_arg(ap, int));
        emit_padded(out, spec, &c, 1);
        break;
      }
      case '%': out.put('%'); break;
      default:
        // Copy the malformed directive through verbatim; stop at the end of the string.
        for (const char* q = start; q <= p && *q != '\0'; ++q) {
          out.put(*q);
        }
        if (*p == '\0') {
          --p;
        }
        break;
    }
  }
  va_end(ap);
  out.finish();
  return out.length();
}

size_t format(char* buf, size_t cap, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = vformat(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

}  // namespace kernel
