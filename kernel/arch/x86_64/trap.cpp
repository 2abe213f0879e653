// SPDX-License-Identifier: MIT
#include "trap.hpp"

#include "core/log.hpp"
#include "core/panic.hpp"
#include "cpu.hpp"
#include "idt.hpp"
#include "thread.hpp"

#include <kstd/enforce.hpp>

namespace kernel::x86 {
namespace {

KernelExceptionHook g_hook = nullptr;

void print_page_fault_details(const TrapFrame& f) {
  uint64_t e = f.error_code;
  kprint("  error code %#llx: %s %s %s%s%s\n", static_cast<unsigned long long>(e),
         (e & 1) != 0 ? "protection-violation" : "not-present",
         (e & 2) != 0 ? "write" : ((e & 16) != 0 ? "instruction-fetch" : "read"),
         (e & 4) != 0 ? "user" : "supervisor", (e & 8) != 0 ? " reserved-bit" : "",
         (e & 32) != 0 ? " protection-key" : "");
  kprint("  faulting address (CR2) %p\n", reinterpret_cast<void*>(read_cr2()));
}

[[noreturn]] void kernel_exception(const TrapFrame& f) {
  print_trap_report(f);
  print_backtrace(f.rbp);
  if (g_hook != nullptr) {
    g_hook(f);
  }
  kprint("system halted\n");
  halt_machine(abi::TestVerdict::kFail);
}

}  // namespace

void set_kernel_exception_hook(KernelExceptionHook hook) { g_hook = hook; }

void print_trap_report(const TrapFrame& f) {
  kprint("\n*** CPU EXCEPTION %s (%s, vector %llu) in %s mode ***\n",
         exception_mnemonic(f.vector), exception_name(f.vector),
         static_cast<unsigned long long>(f.vector), f.from_user() ? "user" : "kernel");
  if (f.vector == kPageFault) {
    print_page_fault_details(f);
  } else {
    kprint("  error code %#llx\n", static_cast<unsigned long long>(f.error_code));
  }
  auto p = [](uint64_t v) { return reinterpret_cast<void*>(v); };
  kprint("  RIP %p  CS %#06llx  RFLAGS %p\n", p(f.rip), static_cast<unsigned long long>(f.cs),
         p(f.rflags));
  kprint("  RSP %p  SS %#06llx\n", p(f.rsp), static_cast<unsigned long long>(f.ss));
  kprint("  RAX %p  RBX %p  RCX %p\n", p(f.rax), p(f.rbx), p(f.rcx));
  kprint("  RDX %p  RSI %p  RDI %p\n", p(f.rdx), p(f.rsi), p(f.rdi));
  kprint("  RBP %p  R8  %p  R9  %p\n", p(f.rbp), p(f.r8), p(f.r9));
  kprint("  R10 %p  R11 %p  R12 %p\n", p(f.r10), p(f.r11), p(f.r12));
  kprint("  R13 %p  R14 %p  R15 %p\n", p(f.r13), p(f.r14), p(f.r15));
  kprint("  CR0 %p  CR3 %p  CR4 %p\n", p(read_cr0()), p(read_cr3()), p(read_cr4()));
}

}  // namespace kernel::x86

extern "C" void trap_dispatch(kernel::x86::TrapFrame* frame) {
  using namespace kernel::x86;
  if (frame->vector < kFirstExternal) {
    if (!frame->from_user()) {
      kernel_exception(*frame);
    }
    // User-mode traps go to trap_from_user; reaching here means the entry code is broken.
    PANIC("user-mode exception %s on the kernel path", exception_mnemonic(frame->vector));
  }
  kernel_interrupt(*frame);
}
