// SPDX-License-Identifier: MIT
#include "stacks.hpp"

#include <kstd/enforce.hpp>

namespace kernel::x86 {
namespace {

alignas(16) char g_ist_stacks[kIstCount][kIstStackSize];

bool inside(uint64_t addr, uint64_t len, uint64_t lo, uint64_t hi) {
  return addr >= lo && addr <= hi && len <= hi - addr;
}

}  // namespace

uint64_t ist_stack_top(Ist which) {
  auto index = static_cast<size_t>(which) - 1;
  return reinterpret_cast<uint64_t>(&g_ist_stacks[index][kIstStackSize]);
}

bool on_kernel_stack(uint64_t addr, uint64_t len) {
  if (inside(addr, len, reinterpret_cast<uint64_t>(boot_stack_bottom),
             reinterpret_cast<uint64_t>(boot_stack_top))) {
    return true;
  }
  for (size_t i = 0; i < kIstCount; ++i) {
    auto lo = reinterpret_cast<uint64_t>(&g_ist_stacks[i][0]);
    if (inside(addr, len, lo, lo + kIstStackSize)) {
      return true;
    }
  }
  return false;
}

}  // namespace kernel::x86
