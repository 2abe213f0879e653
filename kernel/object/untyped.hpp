// SPDX-License-Identifier: MIT
//
// Untyped memory and retype. The decoder (syscall/untyped.cpp) checks everything and builds a
// RetypePlan; performing it cannot fail.
#pragma once

#include <abi/object_type.hpp>

#include <kstd/types.hpp>

#include "object/slot.hpp"

namespace kernel {

struct RetypePlan {
  abi::ObjectType type;
  uint64_t size_bits;     // As given (the radix for CNodes, the size for untyped).
  uint64_t object_bits;   // Size of each object.
  PhysAddr first;         // Address of the first object, aligned to its size.
  uint64_t count;
  Slot* dest;             // dest[0..count) are empty.
  uint64_t new_watermark; // Bytes of the untyped in use afterwards.
};

// Creates the objects, zeroing their memory (except device memory), and places their
// capabilities in the destination slots as children of the untyped capability in `untyped`.
void untyped_retype(Slot* untyped, const RetypePlan& plan);

// Creates one object of `type` at `base` (zeroed unless device) and returns its capability.
Cap create_object(abi::ObjectType type, PhysAddr base, uint64_t size_bits, bool device);

}  // namespace kernel
