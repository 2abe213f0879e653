// SPDX-License-Identifier: MIT
//
// The kernel's fixed stacks: the boot stack (which becomes CPU 0's kernel stack) and the
// interrupt stacks that the TSS switches to for faults that must work even when the current
// stack is broken (double fault, NMI, machine check).
#pragma once

#include <kstd/types.hpp>

namespace kernel::x86 {

inline constexpr size_t kIstStackSize = 8192;

enum class Ist : uint8_t {
  kNone = 0,
  kDoubleFault = 1,
  kNmi = 2,
  kMachineCheck = 3,
};
inline constexpr size_t kIstCount = 3;

// Top (highest address) of an IST stack, 16-byte aligned.
uint64_t ist_stack_top(Ist which);

// True when [addr, addr + len) lies inside one of the kernel's stacks.
bool on_kernel_stack(uint64_t addr, uint64_t len);

}  // namespace kernel::x86

extern "C" char boot_stack_guard[];
extern "C" char boot_stack_bottom[];
extern "C" char boot_stack_top[];
