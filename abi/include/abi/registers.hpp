// SPDX-License-Identifier: MIT
//
// The order of registers in TCB ReadRegisters / WriteRegisters.
#pragma once

#include <stdint.h>

namespace abi {

enum RegisterIndex : uint64_t {
  kRegRip = 0,
  kRegRsp = 1,
  kRegRflags = 2,
  kRegRax = 3,
  kRegRbx = 4,
  kRegRcx = 5,
  kRegRdx = 6,
  kRegRsi = 7,
  kRegRdi = 8,
  kRegRbp = 9,
  kRegR8 = 10,
  kRegR9 = 11,
  kRegR10 = 12,
  kRegR11 = 13,
  kRegR12 = 14,
  kRegR13 = 15,
  kRegR14 = 16,
  kRegR15 = 17,
  kRegFsBase = 18,
  kRegisterCount = 19,
};

// The first address user mappings may not reach: the last page below the canonical hole stays
// unmapped, so that a syscall at the very top cannot return to a non-canonical address.
inline constexpr uint64_t kUserTop = 0x00007FFFFFFFF000;

}  // namespace abi
