// SPDX-License-Identifier: MIT
#include "object/object_region.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

Region cap_region(const Cap& cap) {
  switch (cap.type()) {
    case CapType::kUntyped: return {cap.object(), uint64_t{1} << cap.untyped_size_bits()};
    case CapType::kCNode:
      return {cap.object(), uint64_t{1} << (cap.cnode_radix() + abi::kSlotBits)};
    case CapType::kTcb: return {cap.object(), uint64_t{1} << abi::kTcbBits};
    case CapType::kEndpoint: return {cap.object(), uint64_t{1} << abi::kEndpointBits};
    case CapType::kFrame: return {cap.object(), cap.frame_bytes()};
    case CapType::kPageTable:
    case CapType::kPageDirectory:
    case CapType::kPdpt:
    case CapType::kPml4:
    case CapType::kAsidPool: return {cap.object(), uint64_t{1} << abi::kPageBits};
    case CapType::kNull:
    case CapType::kReply:
    case CapType::kAsidControl:
    case CapType::kIrqControl:
    case CapType::kIrqHandler:
    case CapType::kIoPortControl:
    case CapType::kIoPort:
    case CapType::kZombie: return {0, 0};
  }
  return {0, 0};
}

}  // namespace kernel
