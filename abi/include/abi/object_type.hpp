// SPDX-License-Identifier: MIT
//
// Capability and object types. CapType names what a capability refers to; ObjectType names
// what Untyped::retype can create. Values never change once published.
#pragma once

#include <stdint.h>

namespace abi {

enum class CapType : uint8_t {
  kNull = 0,
  kUntyped = 1,
  kCNode = 2,
  kTcb = 3,
  kEndpoint = 4,
  kReply = 5,
  kFrame = 6,
  kPageTable = 7,
  kPageDirectory = 8,
  kPdpt = 9,
  kPml4 = 10,
  kAsidControl = 11,
  kAsidPool = 12,
  kIrqControl = 13,
  kIrqHandler = 14,
  kIoPortControl = 15,
  kIoPort = 16,
  kZombie = 17,  // Internal: an object being destroyed. Never visible to user space.
};

inline constexpr uint8_t kCapTypeCount = 18;

enum class ObjectType : uint64_t {
  kUntyped = 0,        // size_bits: kMinUntypedBits..kMaxUntypedBits.
  kTcb = 1,            // kTcbBits.
  kEndpoint = 2,       // kEndpointBits.
  kCNode = 3,          // size_bits is the radix: 2^radix slots of kSlotBits each.
  kFrame4K = 4,        // 4 KiB frame.
  kFrame2M = 5,        // 2 MiB frame.
  kPageTable = 6,      // Maps 2 MiB with 4 KiB entries.
  kPageDirectory = 7,  // Maps 1 GiB with 2 MiB entries.
  kPdpt = 8,           // Maps 512 GiB with 1 GiB entries.
  kPml4 = 9,           // An address space root.
  kAsidPool = 10,      // Holds 512 address-space identifiers; made by AsidControl::make_pool.
};

inline constexpr uint64_t kObjectTypeCount = 11;

inline constexpr uint64_t kSlotBits = 5;  // A capability slot is 32 bytes.
inline constexpr uint64_t kTcbBits = 12;
inline constexpr uint64_t kEndpointBits = 6;
inline constexpr uint64_t kPageBits = 12;
inline constexpr uint64_t kLargePageBits = 21;
inline constexpr uint64_t kMinUntypedBits = 4;
inline constexpr uint64_t kMaxUntypedBits = 47;
inline constexpr uint64_t kMinCNodeRadix = 1;
inline constexpr uint64_t kMaxCNodeRadix = 24;
inline constexpr uint64_t kAsidPoolBits = 12;
inline constexpr uint64_t kAsidPoolEntries = 512;  // ASIDs per pool.
inline constexpr uint64_t kAsidPools = 8;          // Pools per machine: ASIDs are 12 bits.

// The size in bits of an object of `type` created with `size_bits` (only meaningful for the
// variable-sized types), or 0 for an unknown type.
constexpr uint64_t object_size_bits(ObjectType type, uint64_t size_bits) {
  switch (type) {
    case ObjectType::kUntyped: return size_bits;
    case ObjectType::kTcb: return kTcbBits;
    case ObjectType::kEndpoint: return kEndpointBits;
    case ObjectType::kCNode: return size_bits + kSlotBits;
    case ObjectType::kFrame4K: return kPageBits;
    case ObjectType::kFrame2M: return kLargePageBits;
    case ObjectType::kPageTable:
    case ObjectType::kPageDirectory:
    case ObjectType::kPdpt:
    case ObjectType::kPml4:
    case ObjectType::kAsidPool: return kPageBits;
  }
  return 0;
}

constexpr const char* cap_type_name(CapType t) {
  switch (t) {
    case CapType::kNull: return "null";
    case CapType::kUntyped: return "untyped";
    case CapType::kCNode: return "cnode";
    case CapType::kTcb: return "tcb";
    case CapType::kEndpoint: return "endpoint";
    case CapType::kReply: return "reply";
    case CapType::kFrame: return "frame";
    case CapType::kPageTable: return "page-table";
    case CapType::kPageDirectory: return "page-directory";
    case CapType::kPdpt: return "pdpt";
    case CapType::kPml4: return "pml4";
    case CapType::kAsidControl: return "asid-control";
    case CapType::kAsidPool: return "asid-pool";
    case CapType::kIrqControl: return "irq-control";
    case CapType::kIrqHandler: return "irq-handler";
    case CapType::kIoPortControl: return "ioport-control";
    case CapType::kIoPort: return "ioport";
    case CapType::kZombie: return "zombie";
  }
  return "unknown";
}

}  // namespace abi
