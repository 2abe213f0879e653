// SPDX-License-Identifier: MIT
#include <sys/invoke.hpp>
#include <sys/vspace.hpp>

#include <kstd/enforce.hpp>

namespace sys {
namespace {

struct Level {
  abi::ObjectType object;
  abi::CapType cap;
};

// Index 0: page table (covers 2 MiB) .. 2: PDPT (covers 512 GiB).
constexpr Level kLevels[] = {
    {abi::ObjectType::kPageTable, abi::CapType::kPageTable},
    {abi::ObjectType::kPageDirectory, abi::CapType::kPageDirectory},
    {abi::ObjectType::kPdpt, abi::CapType::kPdpt},
};

}  // namespace

// Maps a table of `level` covering vaddr, first its parents if they are missing. A table that
// is already there is fine (kDeleteFirst).
abi::Result<void> VSpace::ensure_table(int level, uint64_t vaddr) {
  uint64_t table = TRY(objects_->alloc(kLevels[level].object));
  for (;;) {
    auto r = table_map(kLevels[level].cap, table, pml4_, vaddr);
    if (r) {
      return keep_ != nullptr ? keep_(keep_context_, table) : abi::Result<void>{};
    }
    if (r.error() == Status::kDeleteFirst) {
      return {};
    }
    if (r.error() != Status::kFailedLookup || level == 2) {
      return abi::err(r.error());
    }
    TRY(ensure_table(level + 1, vaddr));
  }
}

abi::Result<void> VSpace::map(uint64_t frame, uint64_t vaddr, uint8_t rights,
                              uint64_t attributes) {
  for (;;) {
    auto r = frame_map(frame, pml4_, vaddr, rights, attributes);
    if (r || r.error() != Status::kFailedLookup) {
      return r;
    }
    TRY(ensure_table(0, vaddr));
  }
}

abi::Result<uint64_t> VSpace::map_new(uint64_t vaddr, uint8_t rights) {
  uint64_t frame = TRY(objects_->alloc(abi::ObjectType::kFrame4K));
  TRY(map(frame, vaddr, rights));
  return frame;
}

abi::Result<void> VSpace::map_new_range(uint64_t vaddr, uint64_t bytes, uint8_t rights) {
  for (uint64_t off = 0; off < bytes; off += 4096) {
    TRY(map_new(vaddr + off, rights));
  }
  return {};
}

}  // namespace sys
