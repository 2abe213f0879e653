// SPDX-License-Identifier: MIT
//
// Address-space identifiers. An ASID names a PML4 for the lifetime of its assignment; mapping
// capabilities record the ASID they were mapped under, so a stale capability (its address space
// destroyed) is recognised as unmapped. On x86_64 the ASID is also the PCID.
//
// ASIDs are 12 bits: pool index (3 bits) and entry (9 bits). The kernel keeps only the table of
// 8 pool pointers; pools are 4 KiB objects made from untyped memory by AsidControl. ASID 0 is the
// kernel's and is never assigned.
#pragma once

#include <abi/result.hpp>

#include <kstd/types.hpp>

#include "mem/phys.hpp"
#include "object/cap.hpp"

namespace kernel {

// Each entry: the PML4's address (0: free) with the ASID's generation in the low 12 bits,
// which counts assignments so that mappings made under an earlier one can be told apart.
struct AsidPool {
  uint64_t entry[abi::kAsidPoolEntries];
};
inline constexpr uint64_t kAsidGenerationMask = 0xFFF;
static_assert(sizeof(AsidPool) == (uint64_t{1} << abi::kAsidPoolBits));

inline constexpr uint64_t kAsidBitsLow = 9;

// The index of the first pool slot that is free, or kNoSpace.
abi::Result<uint64_t> asid_free_pool_index();

// Installs a zeroed pool object at `pool` as pool `index`.
void asid_install_pool(uint64_t index, PhysAddr pool);

// Removes pool `index` (its capability is being destroyed); every address space in it loses its
// ASID.
void asid_remove_pool(uint64_t index);

// The pool table: the 8 pools, through the physical memory window (null: none). Visible here so
// that the lookups below inline into the IPC fast path.
inline AsidPool* g_asid_pools[abi::kAsidPools];

// The pool entry of `asid`, or null when its pool does not exist.
inline uint64_t* asid_entry(uint64_t asid) {
  AsidPool* pool = g_asid_pools[(asid >> kAsidBitsLow) & (abi::kAsidPools - 1)];
  return pool == nullptr ? nullptr : &pool->entry[asid & (abi::kAsidPoolEntries - 1)];
}

// The PML4 assigned `asid`, or 0.
inline PhysAddr asid_lookup(uint64_t asid) {
  uint64_t* e = asid_entry(asid);
  return e == nullptr ? 0 : *e & ~kAsidGenerationMask;
}

// The generation of `asid`'s current (or last) assignment.
inline uint64_t asid_generation(uint64_t asid) {
  uint64_t* e = asid_entry(asid);
  return e == nullptr ? 0 : *e & kAsidGenerationMask;
}

// Assigns the pool's first free ASID to `pml4`. Errors: kNoSpace when the pool is full.
abi::Result<uint64_t> asid_assign(uint64_t pool_index, PhysAddr pml4);

// Releases `asid` if it still names `pml4`.
void asid_release(uint64_t asid, PhysAddr pml4);

// The ASID currently naming `pml4`, found by searching every pool (capabilities may record a
// stale one after a pool went away), or kNotFound.
abi::Result<uint64_t> asid_of(PhysAddr pml4);

// Whether a PML4 capability's recorded ASID is live, i.e. still names its address space.
inline bool pml4_asid_live(const Cap& pml4) {
  return pml4.pml4_has_asid() && asid_lookup(pml4.pml4_asid()) == pml4.object();
}

// For unit tests: forgets every pool.
void asid_reset_for_test();

}  // namespace kernel
