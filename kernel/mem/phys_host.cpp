// SPDX-License-Identifier: MIT
//
// Host builds only: the physical window that the unit tests' arena sets up.
#include "phys.hpp"

namespace kernel::mem {

uintptr_t g_phys_window = 0;

}  // namespace kernel::mem
