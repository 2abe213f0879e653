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

extern "C" [[noreturn]] void restore_user_sysret(kernel::UserContext* ctx);
extern "C" [[noreturn]] void restore_user_iret(kernel::UserContext* ctx);

namespace kernel::x86 {

inline constexpr uint64_t kCr3NoFlush = 1ull << 63;

// Rewrites the I/O permission bitmap for `t` (thread.cpp).
void reload_io_ports(CpuLocal* cpu, Tcb* t);

// The CR3 value for the live address space with root `root` and ASID `asid`.
[[gnu::always_inline]] inline uint64_t cr3_for(CpuLocal* cpu, PhysAddr root, uint64_t asid) {
  if (!cpu->pcid) {
    return root;
  }
  return root | asid | (tlb_take_stale(asid) ? 0 : kCr3NoFlush);
}

[[gnu::always_inline]] inline void load_cr3(CpuLocal* cpu, uint64_t cr3) {
  if ((cr3 & ~kCr3NoFlush) != (cpu->loaded_cr3 & ~kCr3NoFlush)) {
    write_cr3(cr3);
    cpu->loaded_cr3 = cr3;
  }
}

// The rest of leave_to_user when the FPU trap or the I/O bitmap must change (thread.cpp).
[[noreturn]] void leave_to_user_slow(CpuLocal* cpu, Tcb* t);

// The return instruction. SYSRETQ is only for threads whose saved RIP came from their own
// SYSCALL (it faults in kernel mode on a non-canonical RIP); every other change of RIP also
// sets the entry to kEntryFullRestore or is checked to be a user address (ipc/ipc.cpp).
[[gnu::always_inline, noreturn]] inline void return_to_user(Tcb* t) {
  if (t->context.vector == kEntrySyscall) {
    DEBUG_ASSERT(t->context.rip <= abi::kUserTop);
    restore_user_sysret(&t->context);
  }
  restore_user_iret(&t->context);
}

// Everything after the address space: the kernel stack for the next entry, FS base, the FPU
// trap, I/O permissions, then the return instruction.
[[gnu::always_inline, noreturn]] inline void leave_to_user(CpuLocal* cpu, Tcb* t) {
  uint64_t context_end = reinterpret_cast<uint64_t>(&t->context + 1);
  __builtin_memcpy(cpu->tss_rsp0, &context_end, sizeof context_end);
  cpu->entry.context_end = context_end;
  cpu->entry.current = t;
  // Written whenever the thread changes: a thread can reset its own FS base by loading a
  // selector into FS, so the value another thread left there cannot be trusted.
  if (cpu->last_thread != t || cpu->loaded_fs_base != t->fs_base) {
    wrmsr(kMsrFsBase, t->fs_base);
    cpu->loaded_fs_base = t->fs_base;
    cpu->last_thread = t;
  }
  // CR0.TS must be set unless `t` owns the FPU registers. The I/O bitmap needs no change when
  // it already belongs to `t`, or when it allows nothing and `t` has no ports bound.
  if ((cpu->fpu_owner != t) != cpu->ts_set || cpu->io_dirty ||
      (cpu->last_io_thread != t && (cpu->io_allowed_count != 0 || t->io_port_hint != 0))) {
    leave_to_user_slow(cpu, t);
  }
  return_to_user(t);
}

// Leaves for `t`, already the current thread, whose address space the caller found live with
// root `root` (the IPC fast path).
[[gnu::always_inline, noreturn]] inline void fast_switch_to_user(CpuLocal* cpu, Tcb* t,
                                                                 PhysAddr root) {
  load_cr3(cpu, cr3_for(cpu, root, t->slots[kTcbVSpaceSlot].cap.pml4_asid()));
  leave_to_user(cpu, t);
}

}  // namespace kernel::x86
