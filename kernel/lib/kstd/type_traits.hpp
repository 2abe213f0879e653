// SPDX-License-Identifier: MIT
//
// The approved subset of <type_traits> and <concepts>. Header-only in libstdc++, so the same
// names work freestanding and on the host.
#pragma once

#include <concepts>
#include <type_traits>

namespace kstd {

using std::conditional_t;
using std::decay_t;
using std::enable_if_t;
using std::integral_constant;
using std::is_enum_v;
using std::is_integral_v;
using std::is_pointer_v;
using std::is_same_v;
using std::is_signed_v;
using std::is_standard_layout_v;
using std::is_trivially_copyable_v;
using std::is_trivially_destructible_v;
using std::is_unsigned_v;
using std::make_unsigned_t;
using std::remove_cvref_t;
using std::remove_reference_t;
using std::underlying_type_t;

using std::convertible_to;
using std::integral;
using std::same_as;
using std::unsigned_integral;

template <typename E>
  requires std::is_enum_v<E>
constexpr std::underlying_type_t<E> to_underlying(E e) {
  return static_cast<std::underlying_type_t<E>>(e);
}

}  // namespace kstd
