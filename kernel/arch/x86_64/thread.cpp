// SPDX-License-Identifier: MIT
#include "thread.hpp"

#include <abi/registers.hpp>
#include <abi/syscall.hpp>

#include "apic.hpp"
#include "core/log.hpp"
#include "core/panic.hpp"
#include "core/sched.hpp"
#include "cpu.hpp"
#include "cpu_local.hpp"
#include "exit.hpp"
#include "fpu.hpp"
#include "gdt.hpp"
#include "idt.hpp"
#include "ipc/fastpath.hpp"
#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "object/asid.hpp"
#include "object/irq.hpp"
#include "object/vspace.hpp"
#include "paging.hpp"
#include "pte.hpp"
#include "stacks.hpp"
#include "syscall/dispatch.hpp"
#include "tlb.hpp"

#include <kstd/enforce.hpp>

extern "C" void syscall_entry();
extern "C" void syscall_entry_general();
extern "C" [[noreturn]] void run_idle(uint64_t stack_top);

namespace kernel {
namespace {

bool g_fastpath_enabled = true;

}  // namespace

Scheduler& this_scheduler() { return x86::this_cpu()->scheduler; }

bool fastpath_enabled() { return g_fastpath_enabled; }
void set_fastpath_enabled(bool on) { g_fastpath_enabled = on; }

}  // namespace kernel

namespace kernel::x86 {
namespace {

constexpr uint64_t kEferSceBit = 1;

CpuLocal g_cpu0;
Tcb g_idle0;  // Not an object: it has no capability and never leaves the kernel.

// FMASK: flags cleared on SYSCALL entry: IF, DF, TF, AC, NT.
constexpr uint64_t kSyscallMask = 0x200 | 0x400 | 0x100 | 0x40000 | 0x4000;

[[noreturn]] void enter_user(CpuLocal* cpu, Tcb* t) {
  const Cap& vs = t->slots[kTcbVSpaceSlot].cap;
  PhysAddr root = vspace_root(vs);
  if (root == 0) {
    // A thread without an address space faults at once, on the kernel's own tables.
    switch_address_space(cpu, kernel_pml4_phys(), 0);
  } else {
    switch_address_space(cpu, root, vs.pml4_asid());
  }
  leave_to_user(cpu, t);
}

void handle_interrupt(uint64_t vector) {
  if (vector == kTimerVector) {
    ++this_cpu()->ticks;
    lapic_eoi();
    this_scheduler().tick();
    return;
  }
  if (vector == kSpuriousVector) {
    return;  // No EOI for spurious interrupts.
  }
  if (vector >= kIrqVectorBase && vector < kIrqVectorBase + kIrqLines) {
    uint32_t line = static_cast<uint32_t>(vector - kIrqVectorBase);
    uint64_t stamp = rdtsc();
    set_irq_masked(line, true);
    lapic_eoi();
    irq_fire(line, stamp);
    return;
  }
  lapic_eoi();
  LOG_WARN("unexpected interrupt vector %llu", static_cast<unsigned long long>(vector));
}

}  // namespace

CpuLocal& boot_cpu() { return g_cpu0; }

void reload_io_ports(CpuLocal* cpu, Tcb* t) {
  IoRange wanted[kTcbIoPortSlots];
  uint32_t count = 0;
  for (size_t i = 0; i < kTcbIoPortSlots; ++i) {
    const Cap& c = t->slots[kTcbIoPortSlot0 + i].cap;
    if (c.type() == CapType::kIoPort) {
      wanted[count++] = {static_cast<uint16_t>(c.ioport_first()),
                         static_cast<uint16_t>(c.ioport_last())};
    }
  }
  // Threads of one driver usually hold the same ports: then the bitmap is already right.
  bool same = count == cpu->io_allowed_count;
  for (uint32_t i = 0; same && i < count; ++i) {
    same = wanted[i].first == cpu->io_allowed[i].first && wanted[i].last == cpu->io_allowed[i].last;
  }
  if (!same) {
    for (uint32_t i = 0; i < cpu->io_allowed_count; ++i) {
      io_bitmap_set(cpu, cpu->io_allowed[i].first, cpu->io_allowed[i].last, false);
    }
    for (uint32_t i = 0; i < count; ++i) {
      io_bitmap_set(cpu, wanted[i].first, wanted[i].last, true);
      cpu->io_allowed[i] = wanted[i];
    }
    cpu->io_allowed_count = count;
  }
  // A binding revoked elsewhere leaves the hint set until now.
  t->exit_hint = static_cast<uint8_t>((t->exit_hint & ~kExitHintIo) |
                                      (cpu->io_allowed_count != 0 ? kExitHintIo : 0));
  cpu->last_io_thread = t;
  cpu->io_dirty = false;
  update_io_busy(cpu);
}

void leave_to_user_reloading_io(CpuLocal* cpu, Tcb* t) {
  reload_io_ports(cpu, t);
  set_fpu_trap_and_return(cpu, t, t->exit_hint | cpu->exit_busy);
}

void init_threads() {
  CpuLocal* cpu = &g_cpu0;
  cpu->self = cpu;
  cpu->kernel_stack_top = reinterpret_cast<uint64_t>(boot_stack_top);
  cpu->id = 0;
  wrmsr(kMsrGsBase, reinterpret_cast<uint64_t>(cpu));
  wrmsr(kMsrKernelGsBase, 0);
  g_idle0.state = ThreadState::kIdle;
  g_idle0.id = 0;
  cpu->scheduler.init(&g_idle0);
  cpu->loaded_root = read_cr3() & kPteAddrMask;

  wrmsr(kMsrEfer, rdmsr(kMsrEfer) | kEferSceBit);
  // STAR: kernel CS in 47:32; SYSRET takes user CS = [63:48] + 16 and SS = [63:48] + 8.
  wrmsr(kMsrStar, (uint64_t{kUserCode32} << 48) | (uint64_t{kKernelCode} << 32));
  // The entry that tries the IPC fast path first, unless the command line turned it off.
  wrmsr(kMsrLstar, reinterpret_cast<uint64_t>(fastpath_enabled() ? &syscall_entry
                                                                  : &syscall_entry_general));
  wrmsr(kMsrFmask, kSyscallMask);

  bool pcid = paging_features().pcid;
  if (pcid) {
    write_cr4(read_cr4() | kCr4Pcide);
  }
  tlb_init(pcid);
  cpu->pcid = pcid;
  init_fpu();
}

void kernel_exit() {
  CpuLocal* cpu = this_cpu();
  Scheduler& s = cpu->scheduler;
  s.schedule();
  Tcb* t = s.current();
  if (t == s.idle()) {
    run_idle(cpu->kernel_stack_top);
  }
  enter_user(cpu, t);
}

void kernel_interrupt(const TrapFrame& frame) {
  handle_interrupt(frame.vector);
  Scheduler& s = this_scheduler();
  if (s.current() == s.idle() && s.highest_ready() != nullptr) {
    kernel_exit();  // Leaves the idle loop's stack behind for good.
  }
}

}  // namespace kernel::x86

using namespace kernel;
using namespace kernel::x86;

// entry.S tests the system call number for the fast path with these values.
static_assert(static_cast<int64_t>(abi::Syscall::kCall) == -1);
static_assert(static_cast<int64_t>(abi::Syscall::kReplyRecv) == -2);
// And finds the TCB from the address of its UserContext.
static_assert(offsetof(Tcb, context) == 288);

extern "C" [[noreturn]] void syscall_from_user(Tcb* t) {
  handle_syscall(t);
  kernel_exit();
}

extern "C" [[noreturn]] void trap_from_user(UserContext* ctx) {
  Tcb* t = this_scheduler().current();
  if (ctx != &t->context) {
    // Vectors with their own interrupt stack (NMI, double fault, machine check) save the user
    // registers there rather than in the TCB.
    t->context = *ctx;
  }
  uint64_t vector = ctx->vector;
  if (vector >= kFirstExternal) {
    handle_interrupt(vector);
  } else if (vector == kDeviceNotAvailable) {
    fpu_take(t);
  } else if (vector == kNmi) {
    LOG_WARN("NMI while a user thread ran; ignored");
  } else if (vector == kMachineCheck || vector == kDoubleFault) {
    PANIC("%s while a user thread ran", exception_mnemonic(vector));
  } else if (vector == kPageFault) {
    handle_user_fault(t, FaultKind::kPageFault, vector, ctx->error_code, read_cr2());
  } else {
    handle_user_fault(t, FaultKind::kException, vector, ctx->error_code, 0);
  }
  kernel_exit();
}

namespace kernel::arch {

void init_user_context(UserContext* c) {
  c->cs = kUserCode;
  c->ss = kUserData;
  c->rflags = 0x202;
}

void thread_destroyed(Tcb* t) {
  fpu_forget(t);
  CpuLocal* cpu = this_cpu();
  if (cpu->last_thread == t) {
    cpu->last_thread = nullptr;
  }
  if (cpu->last_io_thread == t) {
    cpu->last_io_thread = nullptr;
    cpu->io_dirty = true;
    update_io_busy(cpu);
  }
}

void fs_base_changed(Tcb* t) {
  // leave_to_user writes FS base only when the thread changes.
  CpuLocal* cpu = this_cpu();
  if (cpu->last_thread == t) {
    cpu->last_thread = nullptr;
  }
}

void io_ports_changed(Tcb* t) {
  if (t != nullptr) {
    bool bound = false;
    for (size_t i = 0; i < kTcbIoPortSlots; ++i) {
      bound |= t->slots[kTcbIoPortSlot0 + i].cap.type() == CapType::kIoPort;
    }
    t->exit_hint = static_cast<uint8_t>((t->exit_hint & ~kExitHintIo) | (bound ? kExitHintIo : 0));
  }
  CpuLocal* cpu = this_cpu();
  cpu->io_dirty = true;
  update_io_busy(cpu);
}

void mask_irq(uint32_t line, bool masked) { set_irq_masked(line, masked); }

}  // namespace kernel::arch
