// SPDX-License-Identifier: MIT
#include "object/cspace.hpp"

#include "object/cnode.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

// The `count` bits of `cptr` that end `remaining` bits from the bottom (bits
// [remaining - count, remaining)); count and remaining may be 0 or 64.
uint64_t take_bits(uint64_t cptr, uint64_t remaining, uint64_t count) {
  if (count == 0) {
    return 0;
  }
  uint64_t shifted = cptr >> (remaining - count);
  return count == 64 ? shifted : shifted & ((uint64_t{1} << count) - 1);
}

enum class StopAt { kExactDepth, kFirstNonCNode };

abi::Result<Slot*> resolve(const Cap& root, uint64_t cptr, uint64_t depth, StopAt stop) {
  if (depth < 1 || depth > 64) {
    return abi::err(abi::Status::kDepthMismatch);
  }
  if (root.type() != CapType::kCNode) {
    return abi::err(abi::Status::kInvalidCapability);
  }
  Cap node = root;
  uint64_t remaining = depth;
  for (;;) {
    uint64_t guard_bits = node.cnode_guard_bits();
    uint64_t radix = node.cnode_radix();
    if (guard_bits + radix > remaining) {
      return abi::err(abi::Status::kDepthMismatch);
    }
    if (take_bits(cptr, remaining, guard_bits) != node.cnode_guard()) {
      return abi::err(abi::Status::kGuardMismatch);
    }
    remaining -= guard_bits;
    Slot* slot = &cnode_slots(node)[take_bits(cptr, remaining, radix)];
    remaining -= radix;
    if (remaining == 0) {
      return slot;
    }
    if (slot->cap.type() != CapType::kCNode) {
      if (stop == StopAt::kFirstNonCNode && !slot->empty()) {
        return slot;
      }
      return abi::err(slot->empty() ? abi::Status::kEmptySlot : abi::Status::kDepthMismatch);
    }
    node = slot->cap;
  }
}

}  // namespace

abi::Result<Slot*> resolve_slot(const Cap& root, uint64_t cptr, uint64_t depth) {
  return resolve(root, cptr, depth, StopAt::kExactDepth);
}

abi::Result<Slot*> resolve_cap(const Cap& root, uint64_t cptr) {
  // The usual layout first (the root task's and libsys's CSpaces): one CNode whose guard and
  // radix take all 64 bits. What resolve() does for it, without the loop.
  uint64_t radix = root.cnode_radix();
  if (root.type() == CapType::kCNode && root.cnode_guard_bits() + radix == 64) {
    if ((cptr >> radix) != root.cnode_guard()) {
      return abi::err(abi::Status::kGuardMismatch);
    }
    return &cnode_slots(root)[cptr & ((uint64_t{1} << radix) - 1)];
  }
  return resolve(root, cptr, 64, StopAt::kFirstNonCNode);
}

}  // namespace kernel
