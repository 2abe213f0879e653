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
  // Called with each page table the VSpace makes and maps, so that the owner can put the
  // capability where it wants it (the root task moves a server's tables into that server's
  // CNode). Without one, the table capabilities stay where the allocator put them.
  using KeepTable = abi::Result<void> (*)(void* context, uint64_t table);

  void init(uint64_t pml4, ObjectAllocator* objects, KeepTable keep = nullptr,
            void* keep_context = nullptr) {
    pml4_ = pml4;
    objects_ = objects;
    keep_ = keep;
    keep_context_ = keep_context;
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
  KeepTable keep_ = nullptr;
  void* keep_context_ = nullptr;
};

}  // namespace sys
