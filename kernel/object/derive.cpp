// SPDX-License-Identifier: MIT
#include "object/derive.hpp"

#include "object/asid.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

abi::Result<Cap> derive_cap(const Cap& cap) {
  switch (cap.type()) {
    case CapType::kUntyped:
    case CapType::kReply:
    case CapType::kZombie:
    case CapType::kNull: return abi::err(abi::Status::kIllegalOperation);
    case CapType::kPageTable:
    case CapType::kPageDirectory:
    case CapType::kPdpt:
      if (!cap.is_mapped()) {
        return abi::err(abi::Status::kIllegalOperation);
      }
      return cap;
    case CapType::kPml4:
      // The ASID is recorded in the capability it was assigned through; a copy made before
      // that (or after its pool went away) would never learn of a new one.
      if (!pml4_asid_live(cap)) {
        return abi::err(abi::Status::kIllegalOperation);
      }
      return cap;
    case CapType::kFrame: return cap.without_mapping();
    default: return cap;
  }
}

}  // namespace kernel
