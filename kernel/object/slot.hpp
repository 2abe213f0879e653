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

#include <kstd/type_traits.hpp>
#include <kstd/types.hpp>

#include "object/cap.hpp"

namespace kernel {

// The tree links of a slot, with the two flags in their low bits (slots are 32-byte aligned).
class MdbNode {
 public:
  uintptr_t prev_bits() const { return prev_; }
  uintptr_t next_bits() const { return next_; }
  void set_prev_bits(uintptr_t v) { prev_ = v; }
  void set_next_bits(uintptr_t v) { next_ = v; }

 private:
  uintptr_t prev_ = 0;
  uintptr_t next_ = 0;
};

struct Slot {
  Cap cap;
  MdbNode mdb;

  Slot* prev() const { return reinterpret_cast<Slot*>(mdb.prev_bits() & ~kFlagMask); }
  Slot* next() const { return reinterpret_cast<Slot*>(mdb.next_bits() & ~kFlagMask); }
  bool revocable() const { return (mdb.prev_bits() & kRevocable) != 0; }
  bool first_badged() const { return (mdb.next_bits() & kFirstBadged) != 0; }

  void set_prev(Slot* s) {
    mdb.set_prev_bits(reinterpret_cast<uintptr_t>(s) | (mdb.prev_bits() & kFlagMask));
  }
  void set_next(Slot* s) {
    mdb.set_next_bits(reinterpret_cast<uintptr_t>(s) | (mdb.next_bits() & kFlagMask));
  }
  void set_revocable(bool v) {
    mdb.set_prev_bits((mdb.prev_bits() & ~kRevocable) | (v ? kRevocable : 0));
  }
  void set_first_badged(bool v) {
    mdb.set_next_bits((mdb.next_bits() & ~kFirstBadged) | (v ? kFirstBadged : 0));
  }

  bool empty() const { return cap.is_null(); }

  // Resets to an empty slot with no tree links.
  void clear() {
    cap = Cap();
    mdb = MdbNode();
  }

  static constexpr uintptr_t kRevocable = 1;
  static constexpr uintptr_t kFirstBadged = 1;
  static constexpr uintptr_t kFlagMask = 31;
};

static_assert(sizeof(Slot) == 32);
static_assert(kstd::is_standard_layout_v<Slot>);

}  // namespace kernel
