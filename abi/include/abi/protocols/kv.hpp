// SPDX-License-Identifier: MIT
//
// The key-value service (servers/kv): a small table of 64-bit keys and values in the server's
// memory. It starts empty, so a restarted server has forgotten everything.
#pragma once

#include <abi/protocol.hpp>

namespace abi::kv {

inline constexpr char kServiceName[] = "kv";
inline constexpr uint64_t kCapacity = 256;

// put(key, value) -> (). kNoSpace when the table is full.
inline constexpr Method kPut{0x201, "kv.put", 2, 2, 0, 0, 0, 0};
// get(key) -> (value). kNotFound for a key never put.
inline constexpr Method kGet{0x202, "kv.get", 1, 1, 0, 1, 1, 0};
// count() -> (entries).
inline constexpr Method kCount{0x203, "kv.count", 0, 0, 0, 1, 1, 0};
// crash() -> never answers: the server dereferences a null pointer (for the restart tests).
inline constexpr Method kCrash{0x2FF, "kv.crash", 0, 0, 0, 0, 0, 0};

}  // namespace abi::kv
