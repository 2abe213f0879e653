// SPDX-License-Identifier: MIT
//
// Capability rights. A derived capability never has more rights than its source.
//
//   read         endpoint: receive; frame: map readable
//   write        endpoint: send; frame: map writable
//   grant        endpoint: send capabilities along with a message
//   grant_reply  endpoint: Call (the receiver gets a reply capability)
//   execute      frame: map executable
#pragma once

#include <stdint.h>

namespace abi {

struct Rights {
  uint8_t bits;

  static constexpr uint8_t kRead = 1u << 0;
  static constexpr uint8_t kWrite = 1u << 1;
  static constexpr uint8_t kGrant = 1u << 2;
  static constexpr uint8_t kGrantReply = 1u << 3;
  static constexpr uint8_t kExecute = 1u << 4;
  static constexpr uint8_t kAllBits = 0x1F;

  static constexpr Rights all() { return {kAllBits}; }
  static constexpr Rights none() { return {0}; }

  constexpr bool has(uint8_t r) const { return (bits & r) == r; }
  constexpr Rights operator&(Rights o) const { return {static_cast<uint8_t>(bits & o.bits)}; }
  constexpr bool operator==(const Rights&) const = default;
  // True when every right in this set is also in `o`.
  constexpr bool subset_of(Rights o) const { return (bits & ~o.bits) == 0; }
};

static_assert(sizeof(Rights) == 1);

}  // namespace abi
