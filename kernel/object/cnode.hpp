// SPDX-License-Identifier: MIT
//
// A CNode is an array of 2^radix capability slots and nothing else; the CNode capability holds
// the radix and the guard.
#pragma once

#include <kstd/types.hpp>

#include "mem/phys.hpp"
#include "object/slot.hpp"

namespace kernel {

inline Slot* cnode_slots(const Cap& cnode) { return mem::phys_to<Slot>(cnode.object()); }

inline uint64_t cnode_slot_count(const Cap& cnode) { return uint64_t{1} << cnode.cnode_radix(); }

}  // namespace kernel
