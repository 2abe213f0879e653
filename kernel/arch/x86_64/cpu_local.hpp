// SPDX-License-Identifier: MIT
//
// Per-CPU data, reached through GS while in the kernel (SWAPGS on every entry from user mode).
// The first words are read by the entry code at fixed offsets.
#pragma once

#include <kstd/types.hpp>

#include "core/sched.hpp"
#include "object/tcb.hpp"

namespace kernel::x86 {

struct IoRange {
  uint16_t first;
  uint16_t last;
};

struct CpuLocal;

// What the entry code reads and writes at fixed GS offsets.
struct CpuEntryArea {
  CpuLocal* self;             // gs:0
  uint64_t kernel_stack_top;  // gs:8   where C code runs after a user entry
  uint64_t user_rsp_scratch;  // gs:16  user RSP during syscall entry
  uint64_t context_end;       // gs:24  just past the current thread's UserContext
  Tcb* current;               // gs:32
};

struct CpuLocal {
  CpuEntryArea entry;  // First: GS points here.
  uint32_t id;
  bool pcid;                    // CR3 carries the ASID as PCID.
  void* tss_rsp0;               // This CPU's TSS.RSP0 (unaligned: the TSS is packed).
  Scheduler scheduler;
  Tcb* fpu_owner;               // Whose registers the FPU holds; CR0.TS is set for others.
  bool ts_set;
  Tcb* last_io_thread;          // Whose port ranges the I/O bitmap allows.
  IoRange io_allowed[kTcbIoPortSlots];
  uint32_t io_allowed_count;
  bool io_dirty;                // A port capability changed: recompute before leaving.
  uint64_t loaded_cr3;
  uint64_t loaded_fs_base;
  Tcb* last_thread;             // The last user thread this CPU ran.
  uint64_t ticks;
};

inline constexpr size_t kCpuSelf = 0;
inline constexpr size_t kCpuKernelStack = 8;
inline constexpr size_t kCpuUserRsp = 16;
inline constexpr size_t kCpuContextEnd = 24;
inline constexpr size_t kCpuCurrent = 32;

static_assert(offsetof(CpuEntryArea, kernel_stack_top) == kCpuKernelStack);
static_assert(offsetof(CpuEntryArea, user_rsp_scratch) == kCpuUserRsp);
static_assert(offsetof(CpuEntryArea, context_end) == kCpuContextEnd);
static_assert(offsetof(CpuEntryArea, current) == kCpuCurrent);

inline CpuLocal* this_cpu() {
  CpuLocal* c;
  asm volatile("mov %%gs:0, %0" : "=r"(c));
  return c;
}

// Sets up CPU 0's area and loads it into GS (and KERNEL_GS_BASE, which SWAPGS exchanges).
void init_cpu_local();

}  // namespace kernel::x86
