// SPDX-License-Identifier: MIT
#include <sys/alloc.hpp>
#include <sys/invoke.hpp>

#include <kstd/enforce.hpp>

namespace sys {

void SlotAllocator::init(uint64_t root, uint64_t first, uint64_t end) {
  root_ = root;
  next_ = first;
  end_ = end;
  free_count_ = 0;
}

abi::Result<uint64_t> SlotAllocator::alloc() {
  if (free_count_ > 0) {
    return free_[--free_count_];
  }
  if (next_ >= end_) {
    return abi::err(Status::kNoSpace);
  }
  return next_++;
}

void SlotAllocator::free(uint64_t slot) {
  if (free_count_ < kMaxFree) {
    free_[free_count_++] = slot;
  }
}

void ObjectAllocator::add(uint64_t cptr, uint64_t size_bits, uint64_t used) {
  if (count_ < kMaxUntyped) {
    untyped_[count_++] = {cptr, size_bits, used};
  }
}

abi::Result<uint64_t> ObjectAllocator::alloc(abi::ObjectType type, uint64_t size_bits) {
  uint64_t bits = abi::object_size_bits(type, size_bits);
  uint64_t size = uint64_t{1} << bits;
  for (uint64_t i = 0; i < count_; ++i) {
    Untyped& u = untyped_[i];
    if (bits > u.size_bits) {
      continue;
    }
    uint64_t start = (u.used + size - 1) & ~(size - 1);
    if (start + size > (uint64_t{1} << u.size_bits)) {
      continue;
    }
    uint64_t slot = TRY(slots_->alloc());
    auto r = untyped_retype(u.cptr, type, size_bits, slots_->root(), 0, 0, slot, 1);
    if (!r) {
      slots_->free(slot);
      return abi::err(r.error());
    }
    u.used = start + size;
    return slot;
  }
  return abi::err(Status::kNotEnoughMemory);
}

uint64_t ObjectAllocator::free_bytes() const {
  uint64_t total = 0;
  for (uint64_t i = 0; i < count_; ++i) {
    total += (uint64_t{1} << untyped_[i].size_bits) - untyped_[i].used;
  }
  return total;
}

}  // namespace sys
