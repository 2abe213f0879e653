// SPDX-License-Identifier: MIT
//
// Bit manipulation and alignment helpers. Alignments are always powers of two.
#pragma once

#include <bit>
#include <stdint.h>

namespace kstd {

using std::bit_cast;
using std::bit_ceil;
using std::bit_floor;
using std::bit_width;
using std::countl_zero;
using std::countr_zero;
using std::has_single_bit;
using std::popcount;

constexpr uint64_t align_down(uint64_t v, uint64_t align) { return v & ~(align - 1); }

// Rounds up; the caller must know that v + align - 1 does not overflow, or use
// checked_align_up.
constexpr uint64_t align_up(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

constexpr bool is_aligned(uint64_t v, uint64_t align) { return (v & (align - 1)) == 0; }

// Rounds up, reporting overflow instead of wrapping to zero.
constexpr bool checked_align_up(uint64_t v, uint64_t align, uint64_t* out) {
  uint64_t r = (v + align - 1) & ~(align - 1);
  if (r < v) {
    return false;
  }
  *out = r;
  return true;
}

// a + b, reporting overflow.
constexpr bool checked_add(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

}  // namespace kstd
