// SPDX-License-Identifier: MIT
//
// Per-CPU data, reached through GS while in the kernel (SWAPGS on every entry from user mode).
// The first words are read by the entry code at fixed offsets.
#pragma once

#include <kstd/types.hpp>

#include "core/sched.hpp"
#include "gdt.hpp"
#include "object/tcb.hpp"

namespace kernel::x86 {

struct IoRange {
  uint16_t first;
  uint16_t last;
};

// leave_to_user tests the OR of two bytes, Tcb::exit_hint and CpuLocal::exit_busy, and looks
// closer only when it is not zero. The bits are distinct except for I/O, where either side
// means the same: look at the I/O bitmap.
//
// Bits of Tcb::exit_hint: about the thread.
inline constexpr uint8_t kExitHintIo = 1;   // Some I/O port slot may hold a capability.
inline constexpr uint8_t kExitHintFpu = 2;  // It owns the FPU registers: CR0.TS must be clear.
// Bits of CpuLocal::exit_busy: about the CPU.
inline constexpr uint8_t kExitBusyIo = 1;       // The I/O bitmap allows ports or is out of date.
inline constexpr uint8_t kExitBusyTsClear = 4;  // CR0.TS is clear (for the FPU owner).

struct CpuLocal {
  CpuLocal* self;             // gs:0
  uint64_t kernel_stack_top;  // gs:8   where C code runs after a user entry
  uint64_t user_rsp_scratch;  // gs:16  user RSP during syscall entry
  uint32_t tss_align;         // Puts TSS.RSP0 at gs:32, 8-byte aligned.
  // This CPU's TSS, here so that the entry code finds RSP0 (just past the current thread's
  // UserContext) at gs:32 and leaving for another thread stores it once. The I/O permission
  // bitmap follows it (a set bit denies the port; the byte after the bitmap must be all ones).
  Tss tss;
  uint8_t io_bitmap[kIoBitmapBytes + 1];

  uint32_t id;
  bool pcid;                    // CR3 carries the ASID as PCID.
  uint8_t exit_busy;            // ExitBusy bits.
  bool io_dirty;                // A port capability changed: recompute before leaving.
  uint64_t cr0_ts;              // CR0 with TS set, as leaving for a non-owner of the FPU sets it.
  Scheduler scheduler;
  Tcb* fpu_owner;               // Whose registers the FPU holds; CR0.TS is set for others.
  Tcb* last_io_thread;          // Whose port ranges the I/O bitmap allows.
  IoRange io_allowed[kTcbIoPortSlots];
  uint32_t io_allowed_count;
  PhysAddr loaded_root;         // The PML4 in CR3.
  Tcb* last_thread;             // The last user thread this CPU ran (FS base is its).
  uint64_t ticks;
};

inline constexpr size_t kCpuSelf = 0;
inline constexpr size_t kCpuKernelStack = 8;
inline constexpr size_t kCpuUserRsp = 16;
inline constexpr size_t kCpuTssRsp0 = 32;

static_assert(kExitHintIo == kExitBusyIo);
static_assert(offsetof(CpuLocal, kernel_stack_top) == kCpuKernelStack);
static_assert(offsetof(CpuLocal, user_rsp_scratch) == kCpuUserRsp);
static_assert(offsetof(CpuLocal, tss) + offsetof(Tss, rsp) == kCpuTssRsp0);

inline CpuLocal* this_cpu() {
  CpuLocal* c;
  asm volatile("mov %%gs:0, %0" : "=r"(c));
  return c;
}

// CPU 0's area (GS points to it once init_threads has run; init_gdt fills in its TSS first).
CpuLocal& boot_cpu();

// Recomputes kExitBusyIo after a change to the I/O port state it summarises.
inline void update_io_busy(CpuLocal* cpu) {
  cpu->exit_busy = static_cast<uint8_t>(
      (cpu->exit_busy & ~kExitBusyIo) |
      (cpu->io_dirty || cpu->io_allowed_count != 0 ? kExitBusyIo : 0));
}

}  // namespace kernel::x86
