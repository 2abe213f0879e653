// SPDX-License-Identifier: MIT
//
// The kernel's picture of physical memory at boot: a sorted list of page-aligned,
// non-overlapping regions, each with a kind. Firmware reports free memory, the boot code marks
// what is already in use (kernel image, modules, boot information, boot-time kernel data), and
// what remains free later becomes untyped memory. Portable and unit-tested on the host.
#pragma once

#include <abi/result.hpp>

#include <kstd/span.hpp>
#include <kstd/types.hpp>

namespace kernel::mem {

inline constexpr uint64_t kPageSize = 4096;

// Physical addresses at or above this are never memory (x86_64 allows at most 52 bits).
inline constexpr uint64_t kPhysAddrLimit = uint64_t{1} << 52;

// Region kinds in increasing rank: where two claims overlap, the higher rank wins. Free memory
// therefore never overrides anything, and what the kernel uses overrides firmware claims (a
// boot loader that put a module in reserved memory has already used that memory).
enum class RegionKind : uint8_t {
  kFree = 0,
  kAcpiReclaimable = 1,  // ACPI tables; could be freed after they are parsed.
  kFirmware = 2,         // Reserved, ACPI NVS, or an unknown firmware type.
  kBad = 3,              // Memory the firmware reports as defective.
  kLowMemory = 4,        // The first MiB: real-mode structures, BIOS data, EBDA.
  kBootInfo = 5,         // The multiboot2 information structure.
  kModule = 6,           // A boot module.
  kKernelImage = 7,      // The kernel's own code and data.
  kKernelData = 8,       // Allocated by the kernel at boot (page tables, boot structures).
};

const char* region_kind_name(RegionKind k);

struct PhysRegion {
  uint64_t base;  // Inclusive, page aligned.
  uint64_t end;   // Exclusive, page aligned, > base.
  RegionKind kind;

  uint64_t size() const { return end - base; }
};

class PhysMap {
 public:
  static constexpr size_t kCapacity = 384;

  // Records [base, base + length) as `kind`. Free ranges shrink inward to whole pages (a partial
  // page cannot be handed out); every other kind grows outward (a partial page is in use).
  // Overlaps resolve by rank. Errors, leaving the map unchanged:
  //   kRangeError  the range wraps around or starts beyond kPhysAddrLimit
  //   kNoSpace     the result would need more than kCapacity regions
  // A free range that shrinks to nothing, or a zero length, is accepted and changes nothing.
  abi::Result<void> add(uint64_t base, uint64_t length, RegionKind kind);

  // Takes `size` bytes (rounded up to pages) of free memory aligned to `align` (a power of two,
  // at least a page) that lie entirely in [min_addr, max_addr), choosing the highest such place,
  // and marks them kKernelData. Errors: kAlignmentError for a bad alignment, kInvalidArgument
  // for a zero size, kNotEnoughMemory when nothing fits, kNoSpace as for add().
  abi::Result<uint64_t> allocate(uint64_t size, uint64_t align, uint64_t min_addr,
                                 uint64_t max_addr);

  // Total bytes of the given kind.
  uint64_t total(RegionKind kind) const;

  // One past the highest byte of any region of the given kind, or 0.
  uint64_t highest_end(RegionKind kind) const;

  // One past the highest byte of any region, whatever its kind, or 0.
  uint64_t highest_end() const;

  // One past the highest byte of memory: any region except firmware and bad ones (firmware
  // reserves address space, such as device windows, that is not memory). 0 when there is none.
  uint64_t highest_memory_end() const;

  // True for kinds that are memory, as opposed to address space the firmware reserves.
  static bool is_memory(RegionKind kind) {
    return kind != RegionKind::kFirmware && kind != RegionKind::kBad;
  }

  kstd::span<const PhysRegion> regions() const { return {regions_, count_}; }

  // Checks the representation invariants: sorted, non-empty, page aligned, non-overlapping,
  // adjacent regions of one kind merged. Used by tests and paranoid builds.
  bool invariants_hold() const;

 private:
  abi::Result<void> paint(uint64_t base, uint64_t end, RegionKind kind);

  PhysRegion regions_[kCapacity] = {};
  size_t count_ = 0;
  PhysRegion scratch_[kCapacity] = {};
};

}  // namespace kernel::mem
