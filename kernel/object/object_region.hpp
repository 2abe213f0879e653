// SPDX-License-Identifier: MIT
//
// The physical memory an object occupies, as seen from its capability.
#pragma once

#include <kstd/types.hpp>

#include "object/cap.hpp"

namespace kernel {

struct Region {
  PhysAddr base;
  uint64_t size;  // 0: the capability names no memory (control caps, IRQ handlers, ports).
};

// The memory behind a capability. Reply capabilities name a TCB but own no memory of their own,
// so they have no region; zombies are internal and have none either.
Region cap_region(const Cap& cap);

}  // namespace kernel
