// SPDX-License-Identifier: MIT
#include "arch_stub.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "core/log.hpp"
#include "core/sched.hpp"
#include "object/arch_hooks.hpp"
#include "object/tcb.hpp"
#include "syscall/debug.hpp"

namespace keel::test {
namespace {

kernel::Tcb g_idle;
kernel::Scheduler g_scheduler;

}  // namespace

ArchLog& arch_log() {
  static ArchLog log;
  return log;
}

kernel::Scheduler& test_scheduler() { return g_scheduler; }

void reset_test_scheduler() {
  g_idle = kernel::Tcb{};
  g_idle.state = kernel::ThreadState::kIdle;
  g_scheduler.init(&g_idle);
}

}  // namespace keel::test

namespace kernel {

Scheduler& this_scheduler() { return keel::test::test_scheduler(); }

void log(LogLevel, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  keel::test::arch_log().log_lines.emplace_back(buf);
}

bool handle_debug_syscall(Tcb* t, int64_t number) {
  if (number == -9) {  // DebugPutChar: recorded so tests can read it.
    keel::test::arch_log().console.push_back(static_cast<char>(t->context.rdi));
    t->context.rsi = 0;
    return true;
  }
  return false;
}

}  // namespace kernel

namespace kernel::arch {

void init_pml4(PhysAddr pml4) { keel::test::arch_log().pml4_inits.push_back(pml4); }


void release_address_space(uint64_t asid, PhysAddr pml4) {
  keel::test::arch_log().releases.push_back({asid, pml4});
}

void flush_page(uint64_t, PhysAddr, uint64_t vaddr) {
  keel::test::arch_log().page_flushes.push_back(vaddr);
}

void flush_space(uint64_t asid, PhysAddr root) {
  keel::test::arch_log().space_flushes.push_back({asid, root});
}

void init_user_context(UserContext* c) {
  c->cs = 0x2B;
  c->ss = 0x23;
  c->rflags = 0x202;
}

void thread_destroyed(Tcb*) { ++keel::test::arch_log().threads_destroyed; }

void fs_base_changed(Tcb*) {}
void io_ports_changed(Tcb*) { ++keel::test::arch_log().io_port_changes; }

void mask_irq(uint32_t line, bool masked) {
  keel::test::arch_log().irq_masks.push_back({line, masked});
}

}  // namespace kernel::arch
