// SPDX-License-Identifier: MIT
//
// x86_64 page-table entry bits. Constants only, so portable code that builds page tables (the
// address-space objects) can use them on the host too.
#pragma once

#include <kstd/types.hpp>

namespace kernel::x86 {

inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteWrite = 1ull << 1;
inline constexpr uint64_t kPteUser = 1ull << 2;
inline constexpr uint64_t kPteWriteThrough = 1ull << 3;
inline constexpr uint64_t kPteCacheDisable = 1ull << 4;
inline constexpr uint64_t kPteAccessed = 1ull << 5;
inline constexpr uint64_t kPteDirty = 1ull << 6;
inline constexpr uint64_t kPteHuge = 1ull << 7;  // 2 MiB in a PD, 1 GiB in a PDPT.
inline constexpr uint64_t kPteGlobal = 1ull << 8;
inline constexpr uint64_t kPteNx = 1ull << 63;
inline constexpr uint64_t kPteAddrMask = 0x000FFFFFFFFFF000ull;

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kLargePageSize = 2ull << 20;
inline constexpr uint64_t kHugePageSize = 1ull << 30;
inline constexpr size_t kEntriesPerTable = 512;

// Index of `vaddr` in a table at `level` (0: PT, 1: PD, 2: PDPT, 3: PML4).
constexpr size_t pt_index(uint64_t vaddr, int level) { return (vaddr >> (12 + 9 * level)) & 511; }

}  // namespace kernel::x86
