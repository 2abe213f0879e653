// SPDX-License-Identifier: MIT
//
// Allocators a program uses to manage what it was given: free slots in its CNode, and kernel
// objects carved out of its untyped memory. Neither needs a heap.
#pragma once

#include <abi/object_type.hpp>
#include <abi/result.hpp>

#include <stdint.h>

namespace sys {

// Hands out slots of one CNode (cptr `root`, slots addressed with full depth) from a range,
// taking freed slots back first.
class SlotAllocator {
 public:
  static constexpr uint64_t kMaxFree = 256;

  void init(uint64_t root, uint64_t first, uint64_t end);
  abi::Result<uint64_t> alloc();  // kNoSpace when the range is used up.
  void free(uint64_t slot);       // The slot must be empty (delete its capability first).
  uint64_t root() const { return root_; }
  // One past the highest slot ever handed out.
  uint64_t high_water() const { return next_; }
  uint64_t remaining() const { return end_ - next_ + free_count_; }

 private:
  uint64_t root_ = 0;
  uint64_t next_ = 0;
  uint64_t end_ = 0;
  uint64_t free_[kMaxFree] = {};
  uint64_t free_count_ = 0;
};

// Makes objects from a set of untyped capabilities (registered with add), mirroring the
// kernel's watermark so it knows where each one has room.
class ObjectAllocator {
 public:
  static constexpr uint64_t kMaxUntyped = 64;

  void init(SlotAllocator* slots) { slots_ = slots; }
  // Registers an untyped (cptr, size) with `used` bytes already taken.
  void add(uint64_t cptr, uint64_t size_bits, uint64_t used = 0);
  // Creates one object; returns the cptr of its capability. kNotEnoughMemory when no untyped
  // has room.
  abi::Result<uint64_t> alloc(abi::ObjectType type, uint64_t size_bits = 0);
  uint64_t free_bytes() const;

 private:
  struct Untyped {
    uint64_t cptr;
    uint64_t size_bits;
    uint64_t used;
  };
  SlotAllocator* slots_ = nullptr;
  Untyped untyped_[kMaxUntyped] = {};
  uint64_t count_ = 0;
};

}  // namespace sys
