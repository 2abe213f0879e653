// SPDX-License-Identifier: MIT
//
// Deleting capabilities and destroying objects.
//
// Deleting a capability that is not the last one to its object only unlinks it. Deleting the
// last one destroys the object: a thread is stopped and leaves every queue, an endpoint releases
// its waiters, a mapped frame or page table is unmapped, an address space gives up its ASID,
// and a CNode or TCB deletes the capabilities it holds.
//
// Those nested deletions can cascade (a CNode holding the last capability to another CNode,
// and so on), so they run without recursion: the slot holding the last capability to a
// container becomes a zombie that counts down the container's slots, and a nested container
// becomes a zombie in its own slot, linked back to the zombie that found it. The kernel stack
// therefore stays flat however deep or cyclic the structure is.
#pragma once

#include "object/slot.hpp"

namespace kernel {

// Deletes the capability in `slot` (nothing happens for an empty slot).
void delete_slot(Slot* slot);

// Deletes every descendant of the capability in `slot`; the capability itself stays. If the
// slot itself disappears in the process (it lived in a CNode that was destroyed), revoke stops.
void revoke_slot(Slot* slot);

}  // namespace kernel
