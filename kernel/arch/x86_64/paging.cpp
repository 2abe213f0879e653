// SPDX-License-Identifier: MIT
#include "paging.hpp"

#include <kstd/bit.hpp>
#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include "core/log.hpp"
#include "cpu.hpp"
#include "mem/phys_map.hpp"
#include "stacks.hpp"

#include <kstd/enforce.hpp>

extern "C" char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern "C" char __data_start[], __bss_end[];

namespace kernel::x86 {
namespace {

PagingFeatures g_features;
uint64_t g_nx = 0;
uint64_t g_kernel_pml4 = 0;
uint64_t g_direct_map_end = 0;

constexpr size_t kPml4DirectMap = (DIRECT_MAP_BASE >> 39) & 511;
constexpr size_t kPml4Image = (KERNEL_VMA >> 39) & 511;
constexpr size_t kPdptImage = (KERNEL_VMA >> 30) & 511;

// While the boot tables are live, page tables are reached through the identity map of the
// first 4 GiB, so all of them are allocated below 4 GiB.
constexpr uint64_t kBootAllocLimit = 4ull << 30;

uint64_t* boot_table(uint64_t phys) { return reinterpret_cast<uint64_t*>(phys); }

abi::Result<uint64_t> alloc_table(mem::PhysMap& map) {
  uint64_t phys = TRY(map.allocate(kPageSize, kPageSize, 1ull << 20, kBootAllocLimit));
  memset(boot_table(phys), 0, kPageSize);
  return phys;
}

void detect_features() {
  auto ext = cpuid(0x80000001);
  g_features.nx = (ext.edx & (1u << 20)) != 0;
  g_features.gb_pages = (ext.edx & (1u << 26)) != 0;
  auto basic = cpuid(1);
  g_features.pcid = (basic.ecx & (1u << 17)) != 0;
  auto leaf7 = cpuid(7, 0);
  g_features.invpcid = (leaf7.ebx & (1u << 10)) != 0;
  g_nx = g_features.nx ? kPteNx : 0;
}

// True when [base, base + size) holds any memory (as opposed to only device space), which
// decides whether the direct map caches it.
bool holds_memory(const mem::PhysMap& map, uint64_t base, uint64_t size) {
  for (const mem::PhysRegion& r : map.regions()) {
    if (r.end <= base || r.base >= base + size) {
      continue;
    }
    if (mem::PhysMap::is_memory(r.kind)) {
      return true;
    }
  }
  return false;
}

uint64_t cache_bits(const mem::PhysMap& map, uint64_t base, uint64_t size) {
  return holds_memory(map, base, size) ? 0 : (kPteCacheDisable | kPteWriteThrough);
}

abi::Result<void> build_direct_map(mem::PhysMap& map, uint64_t pml4, uint64_t end) {
  uint64_t pdpt = TRY(alloc_table(map));
  boot_table(pml4)[kPml4DirectMap] = pdpt | kPtePresent | kPteWrite;
  const uint64_t leaf = kPtePresent | kPteWrite | kPteGlobal | g_nx;
  for (uint64_t gib = 0; gib * kHugePageSize < end; ++gib) {
    uint64_t base = gib * kHugePageSize;
    // A 1 GiB page when the CPU has them and every 2 MiB of the GiB wants the same caching.
    bool uniform = true;
    uint64_t first = cache_bits(map, base, kLargePageSize);
    for (size_t i = 1; i < kEntriesPerTable && uniform; ++i) {
      uniform = cache_bits(map, base + i * kLargePageSize, kLargePageSize) == first;
    }
    if (g_features.gb_pages && uniform) {
      boot_table(pdpt)[gib] = base | leaf | kPteHuge | first;
      continue;
    }
    uint64_t pd = TRY(alloc_table(map));
    boot_table(pdpt)[gib] = pd | kPtePresent | kPteWrite;
    for (size_t i = 0; i < kEntriesPerTable; ++i) {
      uint64_t b = base + i * kLargePageSize;
      boot_table(pd)[i] = b | leaf | kPteHuge | cache_bits(map, b, kLargePageSize);
    }
  }
  return {};
}

abi::Result<void> build_image_map(mem::PhysMap& map, uint64_t pml4) {
  uint64_t pdpt = TRY(alloc_table(map));
  uint64_t pd = TRY(alloc_table(map));
  boot_table(pml4)[kPml4Image] = pdpt | kPtePresent | kPteWrite;
  boot_table(pdpt)[kPdptImage] = pd | kPtePresent | kPteWrite;

  auto va = [](const char* sym) { return reinterpret_cast<uint64_t>(sym); };
  const uint64_t guard = va(boot_stack_guard);
  for (uint64_t v = va(__text_start); v < va(__bss_end); v += kPageSize) {
    uint64_t flags = kPtePresent | kPteGlobal;
    if (v >= va(__text_start) && v < va(__text_end)) {
      // Code: read and execute.
    } else if (v >= va(__rodata_start) && v < va(__rodata_end)) {
      flags |= g_nx;
    } else {
      flags |= kPteWrite | g_nx;
    }
    if (v == guard) {
      continue;  // The page below the boot stack stays unmapped to catch overflows.
    }
    size_t pd_index = (v >> 21) & 511;
    if ((boot_table(pd)[pd_index] & kPtePresent) == 0) {
      uint64_t pt = TRY(alloc_table(map));
      boot_table(pd)[pd_index] = pt | kPtePresent | kPteWrite;
    }
    uint64_t pt = boot_table(pd)[pd_index] & kPteAddrMask;
    boot_table(pt)[(v >> 12) & 511] = (v - KERNEL_VMA) | flags;
  }
  return {};
}

}  // namespace

const PagingFeatures& paging_features() { return g_features; }
uint64_t nx_bit() { return g_nx; }
uint64_t kernel_pml4_phys() { return g_kernel_pml4; }
uint64_t direct_map_end() { return g_direct_map_end; }

abi::Result<uint64_t> init_kernel_paging(mem::PhysMap& map) {
  detect_features();
  uint64_t end = kstd::max(map.highest_memory_end(), uint64_t{4} << 30);
  uint64_t left_out = 0;
  if (end > DIRECT_MAP_SIZE) {
    left_out = end - DIRECT_MAP_SIZE;
    end = DIRECT_MAP_SIZE;
  }
  end = kstd::align_up(end, kHugePageSize);

  uint64_t pml4 = TRY(alloc_table(map));
  TRY(build_direct_map(map, pml4, end));
  TRY(build_image_map(map, pml4));
  g_kernel_pml4 = pml4;
  g_direct_map_end = end;

  write_cr3(pml4);
  // Global pages survive CR3 switches; the kernel half is identical in every address space.
  write_cr4(read_cr4() | kCr4Pge);
  return left_out;
}

Translation translate(uint64_t pml4_phys, uint64_t vaddr) {
  Translation t;
  uint64_t table = pml4_phys;
  bool writable = true;
  bool user = true;
  bool executable = true;
  for (int level = 3; level >= 0; --level) {
    size_t index = (vaddr >> (12 + 9 * level)) & 511;
    uint64_t entry = static_cast<const uint64_t*>(phys_to_virt(table))[index];
    if ((entry & kPtePresent) == 0) {
      return t;
    }
    writable = writable && (entry & kPteWrite) != 0;
    user = user && (entry & kPteUser) != 0;
    executable = executable && (entry & kPteNx) == 0;
    bool leaf = level == 0 || (level <= 2 && level >= 1 && (entry & kPteHuge) != 0);
    if (leaf) {
      uint64_t size = 1ull << (12 + 9 * level);
      t.present = true;
      t.page_size = size;
      t.phys = (entry & kPteAddrMask & ~(size - 1)) | (vaddr & (size - 1));
      t.writable = writable;
      t.user = user;
      t.executable = executable;
      t.global = (entry & kPteGlobal) != 0;
      return t;
    }
    table = entry & kPteAddrMask;
  }
  return t;
}

}  // namespace kernel::x86
