// SPDX-License-Identifier: MIT
#include "object/mdb.hpp"

#include "object/object_region.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

bool same_region_as(const Cap& a, const Cap& b) {
  switch (a.type()) {
    case CapType::kUntyped: {
      Region ra = cap_region(a);
      Region rb = cap_region(b);
      if (rb.size == 0) {
        return false;
      }
      return rb.base >= ra.base && rb.base - ra.base <= ra.size &&
             rb.size <= ra.size - (rb.base - ra.base);
    }
    case CapType::kEndpoint:
    case CapType::kTcb:
    case CapType::kReply:
    case CapType::kPageTable:
    case CapType::kPageDirectory:
    case CapType::kPdpt:
    case CapType::kPml4:
    case CapType::kAsidPool:
      return b.type() == a.type() && b.object() == a.object();
    case CapType::kCNode:
      return b.type() == CapType::kCNode && b.object() == a.object() &&
             b.cnode_radix() == a.cnode_radix();
    case CapType::kFrame:
      return b.type() == CapType::kFrame && b.object() == a.object() &&
             b.frame_size() == a.frame_size() && b.frame_is_device() == a.frame_is_device();
    case CapType::kAsidControl: return b.type() == CapType::kAsidControl;
    case CapType::kIrqControl:
      return b.type() == CapType::kIrqControl || b.type() == CapType::kIrqHandler;
    case CapType::kIrqHandler: return b.type() == CapType::kIrqHandler && b.irq() == a.irq();
    case CapType::kIoPortControl:
      return b.type() == CapType::kIoPortControl || b.type() == CapType::kIoPort;
    case CapType::kIoPort:
      return b.type() == CapType::kIoPort && b.ioport_first() == a.ioport_first() &&
             b.ioport_last() == a.ioport_last();
    case CapType::kNull:
    case CapType::kZombie: return false;
  }
  return false;
}

bool same_object_as(const Cap& a, const Cap& b) {
  if (a.type() == CapType::kUntyped) {
    return false;
  }
  if (a.type() == CapType::kIrqControl && b.type() == CapType::kIrqHandler) {
    return false;
  }
  if (a.type() == CapType::kIoPortControl && b.type() == CapType::kIoPort) {
    return false;
  }
  return same_region_as(a, b);
}

bool is_parent_of(const Slot& a, const Slot& b) {
  if (!a.revocable() || !same_region_as(a.cap, b.cap)) {
    return false;
  }
  if (a.cap.type() == CapType::kEndpoint) {
    // An unbadged endpoint capability is the parent of every capability to the endpoint; a
    // badged one only of the copies of its badge made after it.
    uint64_t badge = a.cap.badge();
    return badge == 0 || (badge == b.cap.badge() && !b.first_badged());
  }
  return true;
}

bool has_children(const Slot& s) {
  const Slot* n = s.next();
  return n != nullptr && is_parent_of(s, *n);
}

bool is_final(const Slot& s) {
  const Slot* p = s.prev();
  const Slot* n = s.next();
  return !(p != nullptr && same_object_as(p->cap, s.cap)) &&
         !(n != nullptr && same_object_as(n->cap, s.cap));
}

bool is_revocable(const Cap& derived, const Cap& src) {
  switch (derived.type()) {
    case CapType::kEndpoint: return derived.badge() != src.badge();
    case CapType::kUntyped: return true;
    case CapType::kIrqHandler: return src.type() == CapType::kIrqControl;
    case CapType::kIoPort: return src.type() == CapType::kIoPortControl;
    default: return false;
  }
}

namespace {

void link_after(Slot* src, Slot* dest) {
  Slot* next = src->next();
  dest->set_prev(src);
  dest->set_next(next);
  if (next != nullptr) {
    next->set_prev(dest);
  }
  src->set_next(dest);
}

}  // namespace

void mdb_insert_derived(Slot* src, Slot* dest, const Cap& cap) {
  dest->clear();
  dest->cap = cap;
  bool revocable = is_revocable(cap, src->cap);
  dest->set_revocable(revocable);
  dest->set_first_badged(revocable);
  link_after(src, dest);
}

void mdb_insert_new(Slot* parent, Slot* dest, const Cap& cap) {
  dest->clear();
  dest->cap = cap;
  dest->set_revocable(true);
  dest->set_first_badged(true);
  link_after(parent, dest);
}

void mdb_insert_root(Slot* s, const Cap& cap, bool revocable) {
  s->clear();
  s->cap = cap;
  s->set_revocable(revocable);
  s->set_first_badged(revocable);
}

void mdb_move(Slot* src, Slot* dest, const Cap& cap) {
  Slot* prev = src->prev();
  Slot* next = src->next();
  bool revocable = src->revocable();
  bool first_badged = src->first_badged();
  dest->clear();
  dest->cap = cap;
  dest->set_prev(prev);
  dest->set_next(next);
  dest->set_revocable(revocable);
  dest->set_first_badged(first_badged);
  if (prev != nullptr) {
    prev->set_next(dest);
  }
  if (next != nullptr) {
    next->set_prev(dest);
  }
  src->clear();
}

void mdb_remove(Slot* s) {
  Slot* prev = s->prev();
  Slot* next = s->next();
  if (prev != nullptr) {
    prev->set_next(next);
  }
  if (next != nullptr) {
    next->set_prev(prev);
    // When the removed capability was the first of its badge, the next one inherits that role,
    // so copies of it do not become children of an earlier capability with the same badge.
    // (Inheriting it when the next capability is unrelated is harmless: the flag only matters
    // between endpoint capabilities with equal badges.)
    if (s->first_badged()) {
      next->set_first_badged(true);
    }
  }
  s->clear();
}

}  // namespace kernel
