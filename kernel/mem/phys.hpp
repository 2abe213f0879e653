// SPDX-License-Identifier: MIT
//
// Access to physical memory from kernel code. Capabilities name objects by physical address;
// the kernel reaches them through a fixed window: the direct map in the kernel, a host arena in
// the unit tests (which set g_phys_window so that the arena's bytes appear at chosen physical
// addresses).
#pragma once

#include <kstd/types.hpp>

#if defined(KEEL_KERNEL)
#include "arch/x86_64/layout.h"
#endif

namespace kernel::mem {

#if defined(KEEL_KERNEL)
inline constexpr uintptr_t kPhysWindow = DIRECT_MAP_BASE;
inline uintptr_t phys_window() { return kPhysWindow; }
#else
extern uintptr_t g_phys_window;
inline uintptr_t phys_window() { return g_phys_window; }
#endif

template <typename T>
inline T* phys_to(uint64_t phys) {
  return reinterpret_cast<T*>(phys + phys_window());
}

inline uint64_t to_phys(const void* p) { return reinterpret_cast<uintptr_t>(p) - phys_window(); }

}  // namespace kernel::mem
