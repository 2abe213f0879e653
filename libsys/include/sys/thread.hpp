// SPDX-License-Identifier: MIT
//
// Threads in the calling program's own address space: a TCB, a stack, an IPC buffer and a
// thread block, all from the program's allocators.
#pragma once

#include <abi/result.hpp>

#include <stdint.h>

#include <sys/alloc.hpp>
#include <sys/thread_block.hpp>
#include <sys/vspace.hpp>

namespace sys {

struct ThreadOptions {
  uint64_t priority = 100;
  uint64_t authority = 0;      // A TCB whose maximum controlled priority allows `priority`.
  uint64_t fault_endpoint = 0; // cptr in the CSpace, or 0 for none.
  uint64_t cspace = 0;         // CSpace root cptr (the creator's).
  uint64_t stack_pages = 4;
};

class Thread {
 public:
  using Entry = void (*)(uint64_t arg);

  // Makes a thread whose stack and IPC buffer live at `region` (stack_pages pages of stack, then
  // one page for the IPC buffer and thread block). It starts when start() is called.
  static abi::Result<Thread> create(ObjectAllocator& objects, VSpace& vspace, uint64_t region,
                                    const ThreadOptions& opts);

  abi::Result<void> start(Entry entry, uint64_t arg);

  uint64_t tcb() const { return tcb_; }
  ThreadBlock* block() const { return block_; }

  // The size of the address range create() uses.
  static uint64_t region_size(uint64_t stack_pages) { return (stack_pages + 1) * 4096; }

 private:
  uint64_t tcb_ = 0;
  uint64_t stack_top_ = 0;
  ThreadBlock* block_ = nullptr;
};

}  // namespace sys
