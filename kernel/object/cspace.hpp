// SPDX-License-Identifier: MIT
//
// CSpace addressing. A CSpace is a tree of CNodes; a cptr names a slot by the bits it consumes
// from the top: at each CNode, first the guard (which must match), then radix bits of index.
//
// Errors (abi::Status):
//   kInvalidCapability  the root is not a CNode capability
//   kDepthMismatch      depth outside 1..64, a CNode needs more bits than are left, or bits are
//                       left but the slot reached holds something other than a CNode
//   kGuardMismatch      the cptr's bits do not match a CNode's guard
//   kEmptySlot          bits are left but the slot reached is empty
#pragma once

#include <abi/result.hpp>

#include <kstd/types.hpp>

#include "object/slot.hpp"

namespace kernel {

// Resolves exactly `depth` bits of `cptr` (the low `depth` bits, most significant first)
// starting at the CNode capability `root`. The slot may be empty.
abi::Result<Slot*> resolve_slot(const Cap& root, uint64_t cptr, uint64_t depth);

// Resolves a cptr naming a capability to invoke or to use as an argument: all 64 bits, but
// stopping early at a slot that holds anything other than a CNode. The slot may be empty (the
// caller decides whether that is kEmptySlot).
abi::Result<Slot*> resolve_cap(const Cap& root, uint64_t cptr);

}  // namespace kernel
