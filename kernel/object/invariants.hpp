// SPDX-License-Identifier: MIT
//
// Paranoid checks of the capability structures, for unit tests and dev-profile self-tests.
// They walk memory the caller names and report the first broken rule; they change nothing.
#pragma once

#include <kstd/span.hpp>
#include <kstd/types.hpp>

#include "object/slot.hpp"

namespace kernel {

struct InvariantReport {
  bool ok = true;
  const char* rule = nullptr;   // The first rule found broken.
  const Slot* slot = nullptr;   // Where.
  uint64_t slots_checked = 0;
  uint64_t caps_checked = 0;
};

// Checks every slot in `slots`:
//   - an empty slot has no links; no slot holds a zombie;
//   - links are mutual (next->prev == self, prev->next == self) and never reach an empty slot;
//   - following next from any slot ends (no cycle) within `limit` steps;
//   - capabilities to one object are adjacent: walking a list, an object seen before the
//     current run never appears again (checked for the first `limit` capabilities of a list);
//   - a capability's region lies inside any untyped that is its parent.
InvariantReport check_slots(kstd::span<Slot* const> slot_arrays,
                            kstd::span<const uint64_t> counts, uint64_t limit);

}  // namespace kernel
