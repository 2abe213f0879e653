// SPDX-License-Identifier: MIT
//
// A capability slot: the capability and its node in the derivation tree (the "mapping
// database", as seL4 calls it). The tree is stored as one doubly linked list in depth-first
// order: every capability is followed by its descendants. Whether the next capability is a
// child is decided by comparing the two (mdb.hpp), using two flags kept here:
//
//   revocable     this capability may have children (object caps fresh from retype, untyped,
//                 newly badged endpoint caps, IRQ handlers made by IRQ control)
//   first_badged  this is the first capability with its badge: it is a child of the unbadged
//                 capability, not a sibling of other capabilities with the same badge
//
// Slots are 32 bytes and 32-byte aligned, so the flags sit in the low bits of the links.
#pragma once

#include <kstd/types.hpp>

#include "object/cap.hpp"

namespace kernel {

class Slot {
 public:
  Cap cap;

  Slot* prev() const { return reinterpret_cast<Slot*>(prev_ & ~kFlagMask); }
  Slot* next() const { return reinterpret_cast<Slot*>(next_ & ~kFlagMask); }
  bool revocable() const { return (prev_ & kRevocable) != 0; }
  bool first_badged() const { return (next_ & kFirstBadged) != 0; }

  void set_prev(Slot* s) { prev_ = reinterpret_cast<uintptr_t>(s) | (prev_ & kFlagMask); }
  void set_next(Slot* s) { next_ = reinterpret_cast<uintptr_t>(s) | (next_ & kFlagMask); }
  void set_revocable(bool v) { prev_ = (prev_ & ~kRevocable) | (v ? kRevocable : 0); }
  void set_first_badged(bool v) { next_ = (next_ & ~kFirstBadged) | (v ? kFirstBadged : 0); }

  bool empty() const { return cap.is_null(); }

  // Resets to an empty slot with no tree links.
  void clear() {
    cap = Cap();
    prev_ = 0;
    next_ = 0;
  }

 private:
  static constexpr uintptr_t kRevocable = 1;
  static constexpr uintptr_t kFirstBadged = 1;
  static constexpr uintptr_t kFlagMask = 31;

  uintptr_t prev_ = 0;
  uintptr_t next_ = 0;
};

static_assert(sizeof(Slot) == 32);

}  // namespace kernel
