// SPDX-License-Identifier: MIT
#include "object/asid.hpp"

#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

AsidPool* (&g_pools)[abi::kAsidPools] = g_asid_pools;

AsidPool* pool(uint64_t index) { return g_pools[index]; }

}  // namespace

abi::Result<uint64_t> asid_free_pool_index() {
  for (uint64_t i = 0; i < abi::kAsidPools; ++i) {
    if (g_pools[i] == nullptr) {
      return i;
    }
  }
  return abi::err(abi::Status::kNoSpace);
}

void asid_install_pool(uint64_t index, PhysAddr p) {
  g_pools[index] = mem::phys_to<AsidPool>(p);
}

void asid_remove_pool(uint64_t index) {
  AsidPool* p = pool(index);
  if (p == nullptr) {
    return;
  }
  for (uint64_t i = 0; i < abi::kAsidPoolEntries; ++i) {
    PhysAddr pml4 = p->entry[i] & ~kAsidGenerationMask;
    if (pml4 != 0) {
      arch::release_address_space(index << kAsidBitsLow | i, pml4);
    }
  }
  g_pools[index] = nullptr;
}

abi::Result<uint64_t> asid_assign(uint64_t pool_index, PhysAddr pml4) {
  AsidPool* p = pool(pool_index);
  if (p == nullptr) {
    return abi::err(abi::Status::kNoSpace);
  }
  for (uint64_t i = 0; i < abi::kAsidPoolEntries; ++i) {
    if (pool_index == 0 && i == 0) {
      continue;  // ASID 0 is the kernel's.
    }
    if ((p->entry[i] & ~kAsidGenerationMask) == 0) {
      uint64_t generation = (p->entry[i] + 1) & kAsidGenerationMask;
      p->entry[i] = pml4 | generation;
      return pool_index << kAsidBitsLow | i;
    }
  }
  return abi::err(abi::Status::kNoSpace);
}

void asid_release(uint64_t asid, PhysAddr pml4) {
  uint64_t* e = asid_entry(asid);
  if (e == nullptr || (*e & ~kAsidGenerationMask) != pml4) {
    return;
  }
  *e &= kAsidGenerationMask;  // Free, but the generation carries on.
  arch::release_address_space(asid, pml4);
}

abi::Result<uint64_t> asid_of(PhysAddr pml4) {
  for (uint64_t index = 0; index < abi::kAsidPools; ++index) {
    AsidPool* p = pool(index);
    if (p == nullptr) {
      continue;
    }
    for (uint64_t i = 0; i < abi::kAsidPoolEntries; ++i) {
      if ((p->entry[i] & ~kAsidGenerationMask) == pml4) {
        return index << kAsidBitsLow | i;
      }
    }
  }
  return abi::err(abi::Status::kNotFound);
}

void asid_reset_for_test() {
  for (AsidPool*& p : g_pools) {
    p = nullptr;
  }
}

}  // namespace kernel
