// SPDX-License-Identifier: MIT
//
// TLB maintenance. With PCIDs (the ASID is the PCID) switching address spaces keeps other
// spaces' translations, so an unmap in a space that is not loaded marks its ASID stale and the
// next switch to it flushes that PCID. Without PCIDs every switch flushes anyway.
#pragma once

#include <kstd/types.hpp>

namespace kernel::x86 {

void tlb_init(bool pcid);
bool tlb_pcid_enabled();

// The TLB may hold stale translations for `asid`: flush them before it is used again.
void tlb_mark_stale(uint64_t asid);

// Bit a: ASID a was marked stale. (Here so that the exit path can test it inline.)
inline uint64_t g_tlb_stale[4096 / 64];

// Returns whether `asid` was marked stale, clearing the mark.
[[gnu::always_inline]] inline bool tlb_take_stale(uint64_t asid) {
  uint64_t bit = uint64_t{1} << (asid % 64);
  bool was = (g_tlb_stale[asid / 64] & bit) != 0;
  g_tlb_stale[asid / 64] &= ~bit;
  return was;
}

// Drops the translation of `vaddr` in the address space rooted at `root` (ASID `asid`).
void tlb_flush_page(uint64_t asid, uint64_t root, uint64_t vaddr);

// Drops every translation of the address space rooted at `root`.
void tlb_flush_space(uint64_t asid, uint64_t root);

}  // namespace kernel::x86
