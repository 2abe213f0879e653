// SPDX-License-Identifier: MIT
//
// The register frame that vectors.S builds on the stack for every exception and interrupt:
// general registers pushed by the stub, then the vector and error code, then what the CPU
// pushed. Its layout is shared with the assembly; the static_asserts pin it.
#pragma once

#include <kstd/types.hpp>

#include <stddef.h>

namespace kernel::x86 {

struct TrapFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector;
  uint64_t error_code;  // Zero for vectors without one.
  uint64_t rip, cs, rflags, rsp, ss;

  bool from_user() const { return (cs & 3) == 3; }
};

static_assert(sizeof(TrapFrame) == 22 * 8);
static_assert(offsetof(TrapFrame, vector) == 15 * 8);
static_assert(offsetof(TrapFrame, rip) == 17 * 8);

}  // namespace kernel::x86
