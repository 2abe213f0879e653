// SPDX-License-Identifier: MIT
#include "phys_map.hpp"

#include <kstd/bit.hpp>
#include <kstd/utility.hpp>

#include <kstd/enforce.hpp>

namespace kernel::mem {

const char* region_kind_name(RegionKind k) {
  switch (k) {
    case RegionKind::kFree: return "free";
    case RegionKind::kAcpiReclaimable: return "acpi-reclaimable";
    case RegionKind::kFirmware: return "firmware";
    case RegionKind::kBad: return "bad";
    case RegionKind::kLowMemory: return "low-memory";
    case RegionKind::kBootInfo: return "boot-info";
    case RegionKind::kModule: return "module";
    case RegionKind::kKernelImage: return "kernel-image";
    case RegionKind::kKernelData: return "kernel-data";
  }
  return "unknown";
}

abi::Result<void> PhysMap::add(uint64_t base, uint64_t length, RegionKind kind) {
  if (length == 0) {
    return {};
  }
  uint64_t end;
  if (!kstd::checked_add(base, length, &end) || base >= kPhysAddrLimit) {
    return abi::err(abi::Status::kRangeError);
  }
  // Nothing at or above the limit is memory; clip rather than reject so that a firmware entry
  // that merely overstates its end still counts.
  end = kstd::min(end, kPhysAddrLimit);
  if (kind == RegionKind::kFree) {
    uint64_t b = kstd::align_up(base, kPageSize);  // Cannot wrap: base < kPhysAddrLimit.
    uint64_t e = kstd::align_down(end, kPageSize);
    if (b >= e) {
      return {};
    }
    return paint(b, e, kind);
  }
  return paint(kstd::align_down(base, kPageSize), kstd::align_up(end, kPageSize), kind);
}

// Rebuilds the list into scratch_ with [base, end) painted as `kind` wherever `kind` outranks
// what is there, then merges neighbours and commits only if everything fit.
abi::Result<void> PhysMap::paint(uint64_t base, uint64_t end, RegionKind kind) {
  size_t n = 0;
  bool overflow = false;
  auto push = [&](uint64_t b, uint64_t e, RegionKind k) {
    if (b >= e) {
      return;
    }
    if (n > 0 && scratch_[n - 1].kind == k && scratch_[n - 1].end == b) {
      scratch_[n - 1].end = e;
      return;
    }
    if (n == kCapacity) {
      overflow = true;
      return;
    }
    scratch_[n++] = {b, e, k};
  };

  uint64_t cursor = base;  // Start of the part of [base, end) not yet emitted.
  for (size_t i = 0; i < count_; ++i) {
    const PhysRegion& r = regions_[i];
    if (r.end <= base || r.base >= end) {
      // Entirely outside. Before moving past `end`, emit the uncovered tail of the new range.
      if (r.base >= end && cursor < end) {
        push(cursor, end, kind);
        cursor = end;
      }
      push(r.base, r.end, r.kind);
      continue;
    }
    push(r.base, base, r.kind);             // Part of r before the new range.
    push(cursor, r.base, kind);             // Gap before r inside the new range.
    uint64_t ob = kstd::max(r.base, base);  // Overlap.
    uint64_t oe = kstd::min(r.end, end);
    push(ob, oe, kstd::max(r.kind, kind));
    cursor = oe;
    push(end, r.end, r.kind);  // Part of r after the new range.
  }
  push(cursor, end, kind);

  if (overflow) {
    return abi::err(abi::Status::kNoSpace);
  }
  for (size_t i = 0; i < n; ++i) {
    regions_[i] = scratch_[i];
  }
  count_ = n;
  return {};
}

abi::Result<uint64_t> PhysMap::allocate(uint64_t size, uint64_t align, uint64_t min_addr,
                                        uint64_t max_addr) {
  if (size == 0) {
    return abi::err(abi::Status::kInvalidArgument);
  }
  if (align < kPageSize || !kstd::has_single_bit(align)) {
    return abi::err(abi::Status::kAlignmentError);
  }
  uint64_t bytes;
  if (!kstd::checked_align_up(size, kPageSize, &bytes)) {
    return abi::err(abi::Status::kNotEnoughMemory);
  }
  for (size_t i = count_; i-- > 0;) {
    const PhysRegion& r = regions_[i];
    if (r.kind != RegionKind::kFree) {
      continue;
    }
    uint64_t lo = kstd::max(r.base, min_addr);
    uint64_t hi = kstd::min(r.end, max_addr);
    if (hi <= lo || hi - lo < bytes) {
      continue;
    }
    uint64_t place = kstd::align_down(hi - bytes, align);
    if (place < lo) {
      continue;
    }
    TRY(paint(place, place + bytes, RegionKind::kKernelData));
    return place;
  }
  return abi::err(abi::Status::kNotEnoughMemory);
}

uint64_t PhysMap::total(RegionKind kind) const {
  uint64_t sum = 0;
  for (size_t i = 0; i < count_; ++i) {
    if (regions_[i].kind == kind) {
      sum += regions_[i].size();
    }
  }
  return sum;
}

uint64_t PhysMap::highest_end(RegionKind kind) const {
  for (size_t i = count_; i-- > 0;) {
    if (regions_[i].kind == kind) {
      return regions_[i].end;
    }
  }
  return 0;
}

uint64_t PhysMap::highest_end() const { return count_ == 0 ? 0 : regions_[count_ - 1].end; }

uint64_t PhysMap::highest_memory_end() const {
  for (size_t i = count_; i-- > 0;) {
    if (is_memory(regions_[i].kind)) {
      return regions_[i].end;
    }
  }
  return 0;
}

bool PhysMap::invariants_hold() const {
  for (size_t i = 0; i < count_; ++i) {
    const PhysRegion& r = regions_[i];
    if (r.base >= r.end || !kstd::is_aligned(r.base, kPageSize) ||
        !kstd::is_aligned(r.end, kPageSize) || r.end > kPhysAddrLimit) {
      return false;
    }
    if (i > 0) {
      const PhysRegion& p = regions_[i - 1];
      if (p.end > r.base || (p.end == r.base && p.kind == r.kind)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace kernel::mem
