// SPDX-License-Identifier: MIT
//
// The capability derivation tree (see slot.hpp for its representation). These functions only
// link and compare; destroying objects is delete.hpp's business.
//
// Invariants (checked by the unit tests' invariant walker):
//   - prev/next links are consistent, and only non-empty slots are linked;
//   - all capabilities to one object are adjacent in the list;
//   - a child follows its parent, and a parent's descendants are contiguous after it.
#pragma once

#include "object/slot.hpp"

namespace kernel {

// True when both capabilities refer to the same memory region or the same non-memory object
// (for untyped: `b` lies inside `a`).
bool same_region_as(const Cap& a, const Cap& b);

// True when both capabilities refer to the same object (never true for untyped: each region
// has exactly one untyped capability).
bool same_object_as(const Cap& a, const Cap& b);

// True when the capability in `b` is a child of the one in `a` (b must follow a directly or
// lie in a's subtree).
bool is_parent_of(const Slot& a, const Slot& b);

// True when the capability in `s` has at least one child.
bool has_children(const Slot& s);

// True when no other capability refers to the object of the capability in `s`.
bool is_final(const Slot& s);

// Whether a capability derived from `src` as `derived` may itself have children.
bool is_revocable(const Cap& derived, const Cap& src);

// Places `cap` in the empty slot `dest` as a child of (or sibling after) the capability in
// `src`: dest is linked right after src.
void mdb_insert_derived(Slot* src, Slot* dest, const Cap& cap);

// Places a capability to a newly created object in `dest`, as a child of the untyped in `parent`.
void mdb_insert_new(Slot* parent, Slot* dest, const Cap& cap);

// Makes `s` a tree of its own (no links), as for capabilities the kernel makes at boot.
void mdb_insert_root(Slot* s, const Cap& cap, bool revocable);

// Moves the capability in `src` to the empty slot `dest`, keeping its place in the tree, and
// replaces it with `cap` (normally the same capability). `src` is left empty.
void mdb_move(Slot* src, Slot* dest, const Cap& cap);

// Unlinks `s` from the tree and empties it. No object is finalised.
void mdb_remove(Slot* s);

}  // namespace kernel
