// SPDX-License-Identifier: MIT
#include "tlb.hpp"

#include "cpu.hpp"
#include "pte.hpp"

#include <kstd/enforce.hpp>

namespace kernel::x86 {
namespace {

bool g_pcid = false;

bool is_current(uint64_t root) { return (read_cr3() & kPteAddrMask) == root; }

}  // namespace

void tlb_init(bool pcid) { g_pcid = pcid; }
bool tlb_pcid_enabled() { return g_pcid; }

void tlb_mark_stale(uint64_t asid) { g_tlb_stale[asid / 64] |= uint64_t{1} << (asid % 64); }

void tlb_flush_page(uint64_t asid, uint64_t root, uint64_t vaddr) {
  if (is_current(root)) {
    invlpg(vaddr);
  } else if (g_pcid) {
    tlb_mark_stale(asid);
  }
}

void tlb_flush_space(uint64_t asid, uint64_t root) {
  if (is_current(root)) {
    write_cr3(read_cr3() & ~(1ull << 63));  // Reload without "no flush": drops this PCID's.
  } else if (g_pcid) {
    tlb_mark_stale(asid);
  }
}

}  // namespace kernel::x86
