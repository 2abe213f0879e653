// SPDX-License-Identifier: MIT
//
// Address-space helpers: map frames anywhere in an address space, creating the page tables on
// the way from the program's untyped memory.
#pragma once

#include <abi/result.hpp>
#include <abi/rights.hpp>

#include <stdint.h>

#include <sys/alloc.hpp>

namespace sys {

class VSpace {
 public:
  void init(uint64_t pml4, ObjectAllocator* objects) {
    pml4_ = pml4;
    objects_ = objects;
  }
  uint64_t pml4() const { return pml4_; }

  // Maps the frame capability `frame` at `vaddr`, making missing page tables.
  abi::Result<void> map(uint64_t frame, uint64_t vaddr, uint8_t rights, uint64_t attributes = 0);

  // Makes a new 4 KiB frame and maps it at `vaddr`; returns the frame's cptr.
  abi::Result<uint64_t> map_new(uint64_t vaddr, uint8_t rights);

  // Maps `bytes` (rounded up to pages) of new memory at `vaddr`.
  abi::Result<void> map_new_range(uint64_t vaddr, uint64_t bytes, uint8_t rights);

 private:
  abi::Result<void> ensure_table(int level, uint64_t vaddr);

  uint64_t pml4_ = 0;
  ObjectAllocator* objects_ = nullptr;
};

}  // namespace sys
