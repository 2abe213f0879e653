// SPDX-License-Identifier: MIT
//
// Faults as messages: page faults resolved by a user-level pager, exceptions, unknown system
// calls emulated by a handler, and threads without a handler.
#include <abi/fault.hpp>

#include "ktest.hpp"
#include "spawn.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

using abi::Status;
using sys::Message;

volatile uint64_t g_value = 0;

void touch(uint64_t addr) {
  auto* p = reinterpret_cast<volatile uint64_t*>(addr);
  *p = 0x1234;
  g_value = *p + 1;
}

void divide(uint64_t) {
  volatile uint64_t zero = 0;
  uint64_t r;
  asm volatile("xor %%edx, %%edx\n\tdiv %1" : "=a"(r) : "r"(zero), "a"(uint64_t{7}) : "rdx");
  g_value = r;
}

void linux_getpid(uint64_t) {
  sys::Regs r{};
  uint64_t rax = sys::raw_syscall_number(39, r);  // getpid on Linux.
  g_value = rax;
}

}  // namespace

KTEST(fault_page_fault_resolved_by_handler) {
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t target = region(4096);
  g_value = 0;
  sys::Thread t = REQUIRE_OK(spawn(touch, target, {100, ep}));
  Message m;
  REQUIRE(sys::recv(ep, m) == Status::kOk);
  CHECK(m.label == static_cast<uint64_t>(abi::KernelLabel::kPageFault));
  CHECK(m.length == abi::kPfLength);
  CHECK(m.words[abi::kPfAddress] == target);
  CHECK((m.words[abi::kPfAccess] & abi::kAccessWrite) != 0);
  CHECK((m.words[abi::kPfAccess] & abi::kAccessPresent) == 0);
  CHECK((m.words[abi::kPfAccess] & abi::kAccessUser) != 0);
  // Map a page there and let the thread retry.
  REQUIRE_OK(e.vs.map_new(target, abi::Rights::kRead | abi::Rights::kWrite));
  Message resume = Message::make(abi::kFaultResume, {});
  CHECK(sys::reply(resume) == Status::kOk);
  sys::yield();
  for (int i = 0; i < 100 && g_value == 0; ++i) {
    (void)sys::tcb_set_priority(e.tcb, e.tcb, 50);  // Let it run.
    (void)sys::tcb_set_priority(e.tcb, e.tcb, 255);
  }
  CHECK(g_value == 0x1235);
  (void)t;
}

KTEST(fault_divide_error_reports_vector_0) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  REQUIRE_OK(spawn(divide, 0, {100, ep}));
  Message m;
  REQUIRE(sys::recv(ep, m) == Status::kOk);
  CHECK(m.label == static_cast<uint64_t>(abi::KernelLabel::kException));
  CHECK(m.words[abi::kExVector] == 0);
  // Stop it: the thread would only fault again.
  CHECK(sys::reply(Message::make(abi::kFaultStop, {})) == Status::kOk);
}

KTEST(fault_unknown_syscall_emulated_by_handler) {
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  g_value = 0;
  REQUIRE_OK(spawn(linux_getpid, 0, {100, ep}));
  Message m;
  REQUIRE(sys::recv(ep, m) == Status::kOk);
  CHECK(m.label == static_cast<uint64_t>(abi::KernelLabel::kUnknownSyscall));
  CHECK(m.length == abi::kUsLength);
  CHECK(m.words[abi::kUsRax] == 39);
  // Answer as Linux would: RAX is the result.
  CHECK(sys::reply(Message::make(abi::kFaultResume, {4242})) == Status::kOk);
  for (int i = 0; i < 100 && g_value == 0; ++i) {
    (void)sys::tcb_set_priority(e.tcb, e.tcb, 50);
    (void)sys::tcb_set_priority(e.tcb, e.tcb, 255);
  }
  CHECK(g_value == 4242);
}

}  // namespace ktest
