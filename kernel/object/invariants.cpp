// SPDX-License-Identifier: MIT
#include "object/invariants.hpp"

#include "object/mdb.hpp"
#include "object/object_region.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

bool fail(InvariantReport& r, const char* rule, const Slot* s) {
  r.ok = false;
  r.rule = rule;
  r.slot = s;
  return false;
}

bool check_links(InvariantReport& r, const Slot& s) {
  if (s.empty()) {
    if (s.prev() != nullptr || s.next() != nullptr) {
      return fail(r, "empty slot has links", &s);
    }
    return true;
  }
  ++r.caps_checked;
  if (s.cap.type() == CapType::kZombie) {
    return fail(r, "zombie outside a deletion", &s);
  }
  if (s.next() != nullptr && (s.next()->prev() != &s || s.next()->empty())) {
    return fail(r, "next link not mutual or to an empty slot", &s);
  }
  if (s.prev() != nullptr && (s.prev()->next() != &s || s.prev()->empty())) {
    return fail(r, "prev link not mutual or to an empty slot", &s);
  }
  if (s.prev() != nullptr && s.prev()->cap.type() == CapType::kUntyped &&
      is_parent_of(*s.prev(), s)) {
    Region p = cap_region(s.prev()->cap);
    Region c = cap_region(s.cap);
    if (c.base < p.base || c.base + c.size > p.base + p.size) {
      return fail(r, "child outside its untyped parent", &s);
    }
  }
  return true;
}

// From a list head, walks forward checking termination and object adjacency.
bool check_list(InvariantReport& r, const Slot* head, uint64_t limit) {
  uint64_t steps = 0;
  for (const Slot* a = head; a != nullptr; a = a->next()) {
    if (++steps > limit) {
      return fail(r, "list too long or cyclic", head);
    }
    // Adjacency: if the next slot is not the same object, no later slot may be.
    const Slot* n = a->next();
    if (n == nullptr || same_object_as(a->cap, n->cap)) {
      continue;
    }
    uint64_t look = 0;
    for (const Slot* b = n; b != nullptr && look < limit; b = b->next(), ++look) {
      if (same_object_as(a->cap, b->cap)) {
        return fail(r, "capabilities to one object are not adjacent", b);
      }
    }
  }
  return true;
}

}  // namespace

InvariantReport check_slots(kstd::span<Slot* const> slot_arrays,
                            kstd::span<const uint64_t> counts, uint64_t limit) {
  InvariantReport r;
  for (size_t a = 0; a < slot_arrays.size(); ++a) {
    for (uint64_t i = 0; i < counts[a]; ++i) {
      const Slot& s = slot_arrays[a][i];
      ++r.slots_checked;
      if (!check_links(r, s)) {
        return r;
      }
      if (!s.empty() && s.prev() == nullptr && !check_list(r, &s, limit)) {
        return r;
      }
    }
  }
  return r;
}

}  // namespace kernel
