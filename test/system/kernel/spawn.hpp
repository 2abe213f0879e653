// SPDX-License-Identifier: MIT
//
// Helpers to start threads for tests: in the root task's own address space, or in a new one
// that is a copy of the root task's image (same code, fresh data), with its own CSpace.
#pragma once

#include <abi/result.hpp>

#include <stdint.h>

#include <sys/thread.hpp>

namespace ktest {

struct SpawnOptions {
  uint64_t priority = 100;
  uint64_t fault_endpoint = 0;  // cptr in the thread's CSpace.
};

// A thread in the root task's address space and CSpace running fn(arg).
abi::Result<sys::Thread> spawn(sys::Thread::Entry fn, uint64_t arg, const SpawnOptions& opts = {});

// A process: a new address space holding a copy of the root task's image, and a CSpace of
// 2^radix slots whose slot numbers are cptrs.
struct Process {
  uint64_t pml4;    // In the root CNode.
  uint64_t cnode;   // In the root CNode: the child's CSpace root.
  uint64_t tcb;     // In the root CNode.
};

// Copies a capability from the root CNode into slot `dest` of the process's CSpace.
abi::Result<void> give(const Process& p, uint64_t dest, uint64_t src,
                       uint8_t rights = abi::Rights::kAllBits, uint64_t badge = 0);

// Makes a process and starts fn(arg) in it at `priority`. In the child, `arg` names slots of
// its own CSpace (see give); its fault endpoint is slot `fault_ep` of its CSpace (0: none).
abi::Result<Process> spawn_process(sys::Thread::Entry fn, uint64_t arg, uint64_t priority,
                                   uint64_t radix = 6, uint64_t fault_ep = 0);

}  // namespace ktest
