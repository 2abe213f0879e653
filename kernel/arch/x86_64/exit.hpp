// SPDX-License-Identifier: MIT
//
// The last steps out of the kernel to a user thread, inline so that the IPC fast path
// (ipc/fastpath.cpp) and the general exit (thread.cpp) share them without a call between.
#pragma once

#include <abi/registers.hpp>

#include "core/panic.hpp"
#include "cpu.hpp"
#include "cpu_local.hpp"
#include "fpu.hpp"
#include "object/tcb.hpp"
#include "tlb.hpp"

// The return instructions (entry.S), entered by a jump with RSP pointing at the UserContext.
extern "C" void restore_user_sysret();
extern "C" void restore_user_iret();

namespace kernel::x86 {

inline constexpr uint64_t kCr3NoFlush = 1ull << 63;

// Rewrites the I/O permission bitmap for `t` (thread.cpp).
void reload_io_ports(CpuLocal* cpu, Tcb* t);

// reload_io_ports, then the rest of leave_to_user (thread.cpp). Out of line and not returning,
// so that the callers of leave_to_user keep nothing live across a call.
[[noreturn]] void leave_to_user_reloading_io(CpuLocal* cpu, Tcb* t);

// Loads the address space with root `root` and ASID `asid` unless it is loaded already. (A root
// keeps its ASID while it is loaded: release_address_space leaves a space before its ASID can
// go to another.) With PCIDs the translations the TLB keeps for the ASID survive, unless an
// unmap marked it stale while it was not loaded.
[[gnu::always_inline]] inline void switch_address_space(CpuLocal* cpu, PhysAddr root,
                                                        uint64_t asid) {
  if (root != cpu->loaded_root) {
    uint64_t cr3 = root;
    if (cpu->pcid) {
      cr3 |= asid | (tlb_take_stale(asid) ? 0 : kCr3NoFlush);
    }
    write_cr3(cr3);
    cpu->loaded_root = root;
  }
}

// The return instruction. SYSRETQ is only for threads whose saved RIP came from their own
// SYSCALL (it faults in kernel mode on a non-canonical RIP); every other change of RIP also
// sets the entry to kEntryFullRestore or is checked to be a user address (ipc/ipc.cpp). SYSRETQ
// takes RIP and RFLAGS from RCX and R11, and for such a thread the saved RCX and R11 are its RIP
// and RFLAGS (the entry saved them there, as SYSCALL left them), so restoring the general
// registers loads them.
[[gnu::always_inline, noreturn]] inline void return_to_user(Tcb* t) {
  if (t->context.vector == kEntrySyscall) {
    DEBUG_ASSERT(t->context.rip <= abi::kUserTop);
    DEBUG_ASSERT(t->context.rcx == t->context.rip && t->context.r11 == t->context.rflags);
    asm volatile("lea %c1(%0), %%rsp\n\tjmp restore_user_sysret"
                 :
                 : "r"(t), "i"(offsetof(Tcb, context))
                 : "memory");
  } else {
    asm volatile("lea %c1(%0), %%rsp\n\tjmp restore_user_iret"
                 :
                 : "r"(t), "i"(offsetof(Tcb, context))
                 : "memory");
  }
  __builtin_unreachable();
}

// CR0.TS as `t` needs it, given `look` (below), then the return instruction.
[[gnu::always_inline, noreturn]] inline void set_fpu_trap_and_return(CpuLocal* cpu, Tcb* t,
                                                                      uint8_t look) {
  uint8_t fpu = look & (kExitHintFpu | kExitBusyTsClear);
  if (fpu == kExitHintFpu) {
    fpu_clear_ts(cpu);  // `t` owns the FPU registers.
  } else if (fpu == kExitBusyTsClear) {
    fpu_set_ts(cpu);  // The owner ran last.
  }
  return_to_user(t);
}

// Everything after the address space: the kernel stack for the next entry, FS base, the FPU
// trap, I/O permissions, then the return instruction.
[[gnu::always_inline, noreturn]] inline void leave_to_user(CpuLocal* cpu, Tcb* t) {
  // Where the CPU (interrupts) and the syscall entry save the registers next time.
  cpu->tss.rsp[0] = reinterpret_cast<uint64_t>(&t->context + 1);
  // Written whenever the thread changes: a thread can reset its own FS base by loading a
  // selector into FS, so the value another thread left there cannot be trusted. (A change to
  // the FS base of the thread that ran last forgets last_thread: arch::fs_base_changed.)
  if (cpu->last_thread != t) {
    wrmsr_from(kMsrFsBase, &t->fs_base);
    cpu->last_thread = t;
  }
  // CR0.TS must be set unless `t` owns the FPU registers, and the I/O bitmap must allow t's
  // ports and no others. Nothing to do for either when the bitmap allows nothing, TS is set and
  // `t` has neither ports nor the FPU: one test for the usual case (cpu_local.hpp). Threads
  // that take turns with the FPU only need TS flipped, here too.
  uint8_t look = t->exit_hint | cpu->exit_busy;
  if (look != 0) {
    // Some ports are allowed or `t` may have some: the bitmap is right if it is t's and no
    // port capability changed since it was made.
    if ((look & kExitBusyIo) != 0 && (cpu->io_dirty || cpu->last_io_thread != t)) {
      leave_to_user_reloading_io(cpu, t);
    }
    set_fpu_trap_and_return(cpu, t, look);
  }
  return_to_user(t);
}

// Leaves for `t`, already the current thread, whose address space the caller found live with
// root `root` (the IPC fast path).
[[gnu::always_inline, noreturn]] inline void fast_switch_to_user(CpuLocal* cpu, Tcb* t,
                                                                 PhysAddr root) {
  switch_address_space(cpu, root, t->slots[kTcbVSpaceSlot].cap.pml4_asid());
  leave_to_user(cpu, t);
}

}  // namespace kernel::x86
