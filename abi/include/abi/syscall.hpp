// SPDX-License-Identifier: MIT
//
// System call numbers, generated from syscalls.def.
#pragma once

#include <stdint.h>

namespace abi {

enum class Syscall : int64_t {
#define KEEL_SYSCALL(number, name, debug) k##name = number,
#include <abi/syscalls.def>
#undef KEEL_SYSCALL
};

inline constexpr int64_t kFirstSyscall = -12;  // The most negative number in use.

}  // namespace abi
