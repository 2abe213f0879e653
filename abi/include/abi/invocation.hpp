// SPDX-License-Identifier: MIT
//
// Invocation labels, generated from invocations.def.
#pragma once

#include <abi/object_type.hpp>

#include <stdint.h>

namespace abi {

enum class Label : uint64_t {
#define KEEL_INVOCATION(label, name, cap, args) k##name = label,
#include <abi/invocations.def>
#undef KEEL_INVOCATION
};

struct InvocationInfo {
  Label label;
  const char* name;
  CapType cap_type;
  uint8_t arguments;
};

inline constexpr InvocationInfo kInvocations[] = {
#define KEEL_INVOCATION(label, name, cap, args) {Label::k##name, #name, CapType::cap, args},
#include <abi/invocations.def>
#undef KEEL_INVOCATION
};

// The row for `label`, or null when no invocation has that label.
constexpr const InvocationInfo* find_invocation(uint64_t label) {
  for (const InvocationInfo& i : kInvocations) {
    if (static_cast<uint64_t>(i.label) == label) {
      return &i;
    }
  }
  return nullptr;
}

// Data word layout for CNode guards in CNodeMint and CNodeMutate.
constexpr uint64_t cnode_guard_data(uint64_t guard, uint64_t guard_bits) {
  return guard << 6 | guard_bits;
}

}  // namespace abi
