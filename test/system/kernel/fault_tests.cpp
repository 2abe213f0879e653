// SPDX-License-Identifier: MIT
//
// Faults beyond the basics of faults.cpp: the handler's reply changing registers (skipping an
// instruction, single-stepping), threads that stop (no handler, a handler endpoint they cannot
// send to, kFaultStop, impossible registers in the reply, a handler that goes away), breakpoint
// and general protection exceptions, the access bits of page faults, a fault handled across
// address spaces, and a faulted thread's registers surviving suspend and resume.
//
// The faulting instructions live in small assembly routines with global labels, so the tests
// know the exact address each fault must report; a handler that skips the instruction lets the
// routine return normally.
#include <abi/fault.hpp>
#include <abi/registers.hpp>

#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"

#include <kstd/enforce.hpp>

extern "C" {
void fault_tests_ud2();   // ud2; ret
void fault_tests_int3();  // int3; ret
void fault_tests_hlt();   // hlt; ret (privileged: #GP)
void fault_tests_step();  // ud2; nop; ret
void fault_tests_keep_regs(uint64_t* out);
extern char fault_tests_keep_regs_site[];  // The ud2 inside fault_tests_keep_regs.
}

asm(R"(
  .pushsection .text.fault_tests, "ax", @progbits
  .globl fault_tests_ud2, fault_tests_int3, fault_tests_hlt, fault_tests_step
  .globl fault_tests_keep_regs, fault_tests_keep_regs_site
fault_tests_ud2:
  ud2
  ret
fault_tests_int3:
  int3
  ret
fault_tests_hlt:
  hlt
  ret
fault_tests_step:
  ud2
  nop
  ret
fault_tests_keep_regs:
  mov %rdi, %rax
  movabs $0x5151515151515151, %rsi
  movabs $0xD1D1D1D1D1D1D1D1, %rdi
  movabs $0xDDDDDDDDDDDDDDDD, %rdx
  movabs $0x8888888888888888, %r8
  movabs $0x9999999999999999, %r9
  movabs $0x1010101010101010, %r10
fault_tests_keep_regs_site:
  ud2
  mov %rsi, 0(%rax)
  mov %rdi, 8(%rax)
  mov %rdx, 16(%rax)
  mov %r8, 24(%rax)
  mov %r9, 32(%rax)
  mov %r10, 40(%rax)
  ret
  .popsection
)");

namespace ktest {
namespace {

using abi::KernelLabel;

constexpr uint64_t kUd2Length = 2;
constexpr uint64_t kExceptionUd = 6;
constexpr uint64_t kExceptionDebug = 1;
constexpr uint64_t kExceptionBreakpoint = 3;
constexpr uint64_t kExceptionGp = 13;
constexpr uint64_t kTrapFlag = 0x100;

uint64_t addr(void (*fn)()) {
  return reinterpret_cast<uint64_t>(fn);
}

constexpr uint64_t kThreads = 4;
uint64_t g_site[kThreads];              // What thread i calls (or touches).
volatile uint64_t g_reached[kThreads];  // Set when thread i got past it.

void reset() {
  for (uint64_t i = 0; i < kThreads; ++i) {
    g_site[i] = 0;
    g_reached[i] = 0;
  }
}

// Calls the routine at g_site[i]; marks having come back.
void call_site(uint64_t i) {
  reinterpret_cast<void (*)()>(g_site[i])();
  g_reached[i] = 1;
}

void read_site(uint64_t i) {
  (void)*reinterpret_cast<volatile uint64_t*>(g_site[i]);
  g_reached[i] = 1;
}

void write_site(uint64_t i) {
  *reinterpret_cast<volatile uint64_t*>(g_site[i]) = 1;
  g_reached[i] = 1;
}

sys::Thread start(sys::Thread::Entry fn, uint64_t i, uint64_t site, uint64_t fault_ep) {
  g_site[i] = site;
  g_reached[i] = 0;
  return start_thread(fn, i, {100, fault_ep});
}

// Receives a fault message without blocking (the faulting thread has already run).
bool take_fault(uint64_t ep, Message& m, KernelLabel label) {
  Status s = sys::nb_recv(ep, m);
  if (s != Status::kOk) {
    check_status_failed(__FILE__, __LINE__, "nb_recv of a fault", false, s, Status::kOk);
    return false;
  }
  if (m.label != static_cast<uint64_t>(label)) {
    check_failed(__FILE__, __LINE__, "fault message label");
    return false;
  }
  return true;
}

// The exception reply that resumes the thread with the registers of `m`, rip moved by `skip`
// and the flags changed by `set` and `clear`.
Message resume_from(const Message& m, uint64_t skip, uint64_t set = 0, uint64_t clear = 0) {
  return Message::make(abi::kFaultResume, {m.words[abi::kExVector], m.words[abi::kExErrorCode],
                                           m.words[abi::kExIp] + skip, m.words[abi::kExSp],
                                           (m.words[abi::kExFlags] | set) & ~clear});
}

uint64_t rip_of(uint64_t tcb) {
  auto r = sys::tcb_read_registers(tcb, false);
  if (!r) {
    check_status_failed(__FILE__, __LINE__, "tcb_read_registers", false, r.error(), Status::kOk);
    return 0;
  }
  return r.value().r[abi::kRegRip];
}

}  // namespace

KTEST(fault_reply_with_a_new_rip_skips_the_faulting_instruction) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(call_site, 0, addr(fault_tests_ud2), ep);
  settle();
  Message m;
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.length == abi::kExLength);
  CHECK(m.words[abi::kExVector] == kExceptionUd);
  CHECK(m.words[abi::kExErrorCode] == 0);
  CHECK(m.words[abi::kExIp] == addr(fault_tests_ud2));
  CHECK(m.words[abi::kExSp] != 0 && m.words[abi::kExSp] < abi::kUserTop);
  CHECK((m.words[abi::kExFlags] & 0x200) != 0);  // Interrupts were on.
  CHECK(g_reached[0] == 0);
  CHECK_STATUS(sys::reply(resume_from(m, kUd2Length)), Status::kOk);
  settle();
  CHECK(g_reached[0] == 1);
  Message again;
  CHECK_STATUS(sys::nb_recv(ep, again), Status::kTimedOut);
}

KTEST(fault_reply_can_single_step_the_thread) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(call_site, 0, addr(fault_tests_step), ep);
  settle();
  Message m;
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.words[abi::kExIp] == addr(fault_tests_step));
  // Past the ud2 with the trap flag: one instruction (the nop) runs, then a debug trap.
  CHECK_STATUS(sys::reply(resume_from(m, kUd2Length, kTrapFlag)), Status::kOk);
  settle();
  CHECK(g_reached[0] == 0);
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.words[abi::kExVector] == kExceptionDebug);
  CHECK(m.words[abi::kExIp] == addr(fault_tests_step) + kUd2Length + 1);
  CHECK((m.words[abi::kExFlags] & kTrapFlag) != 0);
  CHECK_STATUS(sys::reply(resume_from(m, 0, 0, kTrapFlag)), Status::kOk);
  settle();
  CHECK(g_reached[0] == 1);
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
}

KTEST(fault_without_a_handler_stops_the_thread) {
  reset();
  sys::Thread t = start(call_site, 0, addr(fault_tests_ud2), 0);
  settle();
  CHECK(g_reached[0] == 0);
  // The stopped thread can still be examined: it stands at the faulting instruction.
  CHECK(rip_of(t.tcb()) == addr(fault_tests_ud2));
  // And it never runs again: time passes with the root blocked and nothing changes.
  sleep_ticks(2);
  settle();
  CHECK(g_reached[0] == 0);
  CHECK(rip_of(t.tcb()) == addr(fault_tests_ud2));
}

KTEST(fault_with_an_unusable_fault_endpoint_stops_the_thread) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  // No write right; an empty slot; a capability that is not an endpoint.
  uint64_t read_only = mint(ep, Rights::kRead | Rights::kGrant | Rights::kGrantReply);
  uint64_t empty = slot();
  sys::Thread t0 = start(call_site, 0, addr(fault_tests_ud2), read_only);
  sys::Thread t1 = start(call_site, 1, addr(fault_tests_ud2), empty);
  sys::Thread t2 = start(call_site, 2, addr(fault_tests_ud2), e.cnode);
  settle();
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
  for (uint64_t i = 0; i < 3; ++i) {
    CHECK(g_reached[i] == 0);
  }
  CHECK(rip_of(t0.tcb()) == addr(fault_tests_ud2));
  CHECK(rip_of(t1.tcb()) == addr(fault_tests_ud2));
  CHECK(rip_of(t2.tcb()) == addr(fault_tests_ud2));
}

KTEST(fault_reply_labelled_stop_leaves_the_thread_stopped_until_resumed) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  sys::Thread t = start(call_site, 0, addr(fault_tests_ud2), ep);
  settle();
  Message m;
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  // Registers in a stop reply are ignored.
  CHECK_STATUS(
      sys::reply(Message::make(abi::kFaultStop, {kExceptionUd, 0, addr(fault_tests_ud2) + 2})),
      Status::kOk);
  settle();
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
  CHECK(rip_of(t.tcb()) == addr(fault_tests_ud2));
  // A thread that went on and ended must not be resumed: it would spin in its exit loop.
  REQUIRE(g_reached[0] == 0);
  // Resumed, it runs the faulting instruction again and faults again.
  CHECK_OK(sys::tcb_resume(t.tcb()));
  settle();
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.words[abi::kExIp] == addr(fault_tests_ud2));
  CHECK_STATUS(sys::reply(resume_from(m, kUd2Length)), Status::kOk);
  settle();
  CHECK(g_reached[0] == 1);
}

KTEST(fault_reply_with_impossible_registers_stops_the_thread) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  sys::Thread t[3];
  for (uint64_t i = 0; i < 3; ++i) {
    t[i] = start(call_site, i, addr(fault_tests_ud2), ep);
  }
  settle();
  // A kernel address, the first address past user space, and a stack pointer past it.
  for (uint64_t i = 0; i < 3; ++i) {
    Message m;
    REQUIRE(take_fault(ep, m, KernelLabel::kException));
    Message r = resume_from(m, 0);
    if (i == 0) {
      r.words[abi::kExIp] = 0xFFFFFFFF80001000;
    } else if (i == 1) {
      r.words[abi::kExIp] = abi::kUserTop;
    } else {
      r.words[abi::kExSp] = abi::kUserTop + 0x100;
    }
    CHECK_STATUS(sys::reply(r), Status::kOk);
  }
  settle();
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
  for (uint64_t i = 0; i < 3; ++i) {
    CHECK(g_reached[i] == 0);
    // None of the refused registers were taken.
    auto regs = sys::tcb_read_registers(t[i].tcb(), false);
    REQUIRE(regs.ok());
    CHECK(regs.value().r[abi::kRegRip] == addr(fault_tests_ud2));
    CHECK(regs.value().r[abi::kRegRsp] < abi::kUserTop);
  }
}

KTEST(fault_int3_from_user_mode_is_a_breakpoint_exception) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t badged = mint(ep, Rights::kAllBits, 0xFA);
  start(call_site, 0, addr(fault_tests_int3), badged);
  settle();
  Message m;
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.badge == 0xFA);  // The fault came through the thread's badged capability.
  CHECK(m.words[abi::kExVector] == kExceptionBreakpoint);
  CHECK(m.words[abi::kExErrorCode] == 0);
  // A trap: the instruction pointer is already past the one-byte int3.
  CHECK(m.words[abi::kExIp] == addr(fault_tests_int3) + 1);
  CHECK_STATUS(sys::reply(Message::make(abi::kFaultResume, {})), Status::kOk);
  settle();
  CHECK(g_reached[0] == 1);
}

KTEST(fault_privileged_instruction_is_a_general_protection_exception) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(call_site, 0, addr(fault_tests_hlt), ep);
  settle();
  Message m;
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.words[abi::kExVector] == kExceptionGp);
  CHECK(m.words[abi::kExErrorCode] == 0);
  CHECK(m.words[abi::kExIp] == addr(fault_tests_hlt));
  // Skip the one-byte hlt.
  CHECK_STATUS(sys::reply(resume_from(m, 1)), Status::kOk);
  settle();
  CHECK(g_reached[0] == 1);
}

KTEST(fault_page_fault_access_bits) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t unmapped = region(4096);
  uint64_t data = region(4096);
  uint64_t read_only = region(4096);
  REQUIRE_OK(e.vs.map_new(data, Rights::kRead | Rights::kWrite));
  REQUIRE_OK(e.vs.map_new(read_only, Rights::kRead));
  *reinterpret_cast<volatile uint8_t*>(data) = 0xC3;  // ret: fine code, were it executable.
  struct Case {
    sys::Thread::Entry fn;
    uint64_t site;
    uint64_t want;  // PageFaultAccess bits besides kAccessUser.
  };
  const Case cases[] = {
      {call_site, unmapped, abi::kAccessFetch},                               // Fetch, not present.
      {call_site, data, abi::kAccessFetch | abi::kAccessPresent},             // Fetch, no execute.
      {read_site, unmapped + 8, 0},                                           // Read, not present.
      {write_site, read_only + 16, abi::kAccessWrite | abi::kAccessPresent},  // Write, read-only.
  };
  for (uint64_t i = 0; i < 4; ++i) {
    start(cases[i].fn, i, cases[i].site, ep);
    settle();
    Message m;
    REQUIRE(take_fault(ep, m, KernelLabel::kPageFault));
    CHECK(m.length == abi::kPfLength);
    CHECK(m.words[abi::kPfAddress] == cases[i].site);
    uint64_t access = m.words[abi::kPfAccess];
    constexpr uint64_t kKnown = abi::kAccessPresent | abi::kAccessWrite | abi::kAccessFetch;
    if ((access & kKnown) != cases[i].want || (access & abi::kAccessUser) == 0) {
      note("case %llu: access %#llx, want %#llx | user", static_cast<unsigned long long>(i),
           static_cast<unsigned long long>(access), static_cast<unsigned long long>(cases[i].want));
      CHECK((access & kKnown) == cases[i].want && (access & abi::kAccessUser) != 0);
    }
    // An instruction fetch faults at the instruction itself.
    if ((cases[i].want & abi::kAccessFetch) != 0) {
      CHECK(m.words[abi::kPfIp] == cases[i].site);
    } else {
      CHECK(m.words[abi::kPfIp] != cases[i].site);
    }
    CHECK_STATUS(sys::reply(Message::make(abi::kFaultStop, {})), Status::kOk);
    settle();
    CHECK(g_reached[i] == 0);
  }
}

KTEST(fault_pending_when_its_handler_endpoint_is_deleted_leaves_the_thread_stopped) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  sys::Thread t = start(call_site, 0, addr(fault_tests_ud2), ep);
  settle();
  // The fault waits to be received; the endpoint goes away under it.
  CHECK_OK(sys::cnode_delete(e.cnode, ep, 64));
  settle();
  CHECK(g_reached[0] == 0);
  CHECK(rip_of(t.tcb()) == addr(fault_tests_ud2));
}

namespace {

volatile uint64_t g_call_status;
volatile uint64_t g_call_label;

void call_once(uint64_t ep) {
  Message m = Message::make(0x51, {});
  g_call_status = static_cast<uint64_t>(sys::call(ep, m));
  g_call_label = m.label;
}

}  // namespace

KTEST(fault_handler_that_takes_another_call_leaves_the_faulted_thread_stopped) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  sys::Thread t = start(call_site, 0, addr(fault_tests_ud2), ep);
  settle();
  g_call_status = 0xFFFF;
  REQUIRE_OK(spawn(call_once, ep, {100, 0}));
  settle();
  Message m;
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  // Taking the Call drops the reply capability of the fault: nobody can resume the thread now.
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK(m.label == 0x51);
  CHECK_STATUS(sys::reply(Message::make(0x52, {})), Status::kOk);
  settle();
  CHECK(g_call_status == 0 && g_call_label == 0x52);
  CHECK(g_reached[0] == 0);
  CHECK(rip_of(t.tcb()) == addr(fault_tests_ud2));
  CHECK_STATUS(sys::reply(Message::make(abi::kFaultResume, {})), Status::kNoReplyTarget);
}

namespace {

void process_faulter(uint64_t) {
  fault_tests_ud2();
}

}  // namespace

KTEST(fault_in_another_address_space_reaches_its_handler) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  // The fault endpoint is looked up in the process's own CSpace, where it is slot 3.
  Process p = REQUIRE_OK(spawn_process(process_faulter, 0, 100, 6, 3));
  REQUIRE_OK(give(p, 3, ep, Rights::kWrite, 0x3));
  settle();
  Message m;
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.badge == 0x3);
  CHECK(m.words[abi::kExVector] == kExceptionUd);
  CHECK(m.words[abi::kExIp] == addr(fault_tests_ud2));  // The image is the root task's.
  CHECK_STATUS(sys::reply(Message::make(abi::kFaultStop, {})), Status::kOk);
  settle();
  auto regs = sys::tcb_read_registers(p.tcb, false);
  REQUIRE(regs.ok());
  CHECK(regs.value().r[abi::kRegRip] == addr(fault_tests_ud2));
}

namespace {

uint64_t g_regs_out[6];

void keep_regs(uint64_t) {
  fault_tests_keep_regs(g_regs_out);
  g_reached[0] = 1;
}

constexpr uint64_t kKept[6] = {0x5151515151515151, 0xD1D1D1D1D1D1D1D1, 0xDDDDDDDDDDDDDDDD,
                               0x8888888888888888, 0x9999999999999999, 0x1010101010101010};

// Suspends a thread that faulted in fault_tests_keep_regs (its fault delivered or not), checks
// the registers it will resume with, resumes it, lets it fault again and skips the faulting
// instruction: the routine then stores the registers it sees.
void check_suspend_keeps_registers(bool handler_took_fault) {
  reset();
  for (uint64_t& r : g_regs_out) {
    r = 0;
  }
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  g_site[0] = 0;
  sys::Thread t = REQUIRE_OK(spawn(keep_regs, 0, {100, ep}));
  settle();
  Message m;
  if (handler_took_fault) {
    REQUIRE(take_fault(ep, m, KernelLabel::kException));
  }
  REQUIRE(g_reached[0] == 0);
  CHECK_OK(sys::tcb_suspend(t.tcb()));
  auto regs = sys::tcb_read_registers(t.tcb(), false);
  REQUIRE(regs.ok());
  const sys::Registers& r = regs.value();
  CHECK(r.r[abi::kRegRip] == reinterpret_cast<uint64_t>(fault_tests_keep_regs_site));
  const uint64_t got[6] = {r.r[abi::kRegRsi], r.r[abi::kRegRdi], r.r[abi::kRegRdx],
                           r.r[abi::kRegR8],  r.r[abi::kRegR9],  r.r[abi::kRegR10]};
  const char* names[6] = {"rsi", "rdi", "rdx", "r8", "r9", "r10"};
  for (int i = 0; i < 6; ++i) {
    if (got[i] != kKept[i]) {
      note("suspended faulted thread: %s is %#llx, was %#llx", names[i],
           static_cast<unsigned long long>(got[i]), static_cast<unsigned long long>(kKept[i]));
      CHECK(got[i] == kKept[i]);
    }
  }
  CHECK_OK(sys::tcb_resume(t.tcb()));
  settle();
  REQUIRE(take_fault(ep, m, KernelLabel::kException));
  CHECK(m.words[abi::kExIp] == reinterpret_cast<uint64_t>(fault_tests_keep_regs_site));
  CHECK_STATUS(sys::reply(resume_from(m, kUd2Length)), Status::kOk);
  settle();
  REQUIRE(g_reached[0] == 1);
  for (int i = 0; i < 6; ++i) {
    if (g_regs_out[i] != kKept[i]) {
      note("resumed thread saw %s = %#llx, had %#llx", names[i],
           static_cast<unsigned long long>(g_regs_out[i]),
           static_cast<unsigned long long>(kKept[i]));
      CHECK(g_regs_out[i] == kKept[i]);
    }
  }
}

}  // namespace

KTEST(fault_suspending_a_thread_whose_fault_waits_to_be_received_keeps_its_registers) {
  check_suspend_keeps_registers(false);
}

KTEST(fault_suspending_a_thread_whose_fault_waits_for_its_reply_keeps_its_registers) {
  check_suspend_keeps_registers(true);
}

}  // namespace ktest
