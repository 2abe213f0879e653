// SPDX-License-Identifier: MIT
//
// What a copy of a capability is. Used by CNode copy and mint and by capability transfer in
// IPC, so both follow the same rules.
#pragma once

#include <abi/result.hpp>

#include "object/cap.hpp"

namespace kernel {

// The capability a copy of `cap` would be. Errors (kIllegalOperation): untyped (one capability
// per region: move it, or retype it smaller), reply (one-shot, one thread's), an unmapped page
// table, page directory or PDPT (two copies could map it twice), a PML4 without a live ASID,
// null and zombie.
// A frame copy starts unmapped.
abi::Result<Cap> derive_cap(const Cap& cap);

}  // namespace kernel
