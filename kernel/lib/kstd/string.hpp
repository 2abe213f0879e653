// SPDX-License-Identifier: MIT
//
// The C string and memory functions. The kernel provides its own definitions
// (kernel/lib/string.cpp); host builds use the C library's.
#pragma once

#include <stddef.h>
#include <stdint.h>

#if defined(KEEL_KERNEL) || defined(KEEL_USER)
extern "C" {
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
}
#else
#include <string.h>
#endif

namespace kstd {

// Copies `n` 64-bit words between buffers that do not overlap: in the kernel one string
// instruction that moves a word at a time (IPC copies message words).
inline void copy_words(uint64_t* dst, const uint64_t* src, size_t n) {
#if defined(KEEL_KERNEL)
  asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
  memcpy(dst, src, n * sizeof(uint64_t));
#endif
}

// Length of s, reading at most max bytes: safe on strings that may lack a terminator.
inline size_t strnlen(const char* s, size_t max) {
  size_t n = 0;
  while (n < max && s[n] != '\0') {
    ++n;
  }
  return n;
}

// True when a and b (a of length a_len, not necessarily terminated) are equal strings.
inline bool str_equal(const char* a, size_t a_len, const char* b) {
  size_t b_len = strlen(b);
  return a_len == b_len && memcmp(a, b, a_len) == 0;
}

// True when `needle` occurs in `haystack` (both terminated).
inline bool contains(const char* haystack, const char* needle) {
  size_t n = strlen(needle);
  for (const char* p = haystack; *p != '\0'; ++p) {
    if (strncmp(p, needle, n) == 0) {
      return true;
    }
  }
  return n == 0;
}

}  // namespace kstd
