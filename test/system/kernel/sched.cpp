// SPDX-License-Identifier: MIT
//
// Scheduling: round robin within a priority, preemption by a higher priority, yield, and
// maximum controlled priorities.
#include "ktest.hpp"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

using abi::Status;

volatile uint64_t g_counters[4];
volatile uint64_t g_stop;

void spin(uint64_t index) {
  while (g_stop == 0) {
    g_counters[index] = g_counters[index] + 1;
  }
}

}  // namespace

KTEST(sched_two_busy_threads_at_one_priority_both_progress) {
  g_stop = 0;
  g_counters[0] = 0;
  g_counters[1] = 0;
  REQUIRE_OK(spawn(spin, 0, {100}));
  REQUIRE_OK(spawn(spin, 1, {100}));
  sleep_ticks(16);  // A quarter of a second: many time slices.
  uint64_t a = g_counters[0];
  uint64_t b = g_counters[1];
  g_stop = 1;
  note("busy threads counted %llu and %llu", static_cast<unsigned long long>(a),
       static_cast<unsigned long long>(b));
  CHECK(a > 0);
  CHECK(b > 0);
}

namespace {

volatile uint64_t g_high_ran;
volatile uint64_t g_low_saw_high;

void low_spinner(uint64_t) {
  // Never yields or blocks: only preemption lets anything else run on this CPU.
  for (uint64_t i = 0; i < 200000000 && g_high_ran == 0; ++i) {
    g_counters[2] = i;
  }
  g_low_saw_high = g_high_ran;
}

void high_waiter(uint64_t ep) {
  sys::Message m;
  (void)sys::recv(ep, m);
  g_high_ran = 1;
}

}  // namespace

KTEST(sched_higher_priority_preempts) {
  Env& e = env();
  g_high_ran = 0;
  g_low_saw_high = 0;
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  REQUIRE_OK(spawn(high_waiter, ep, {150}));
  // Let the high thread block, then start the spinner below it.
  REQUIRE_OK(sys::tcb_set_priority(e.tcb, e.tcb, 120));
  REQUIRE_OK(spawn(low_spinner, 0, {100}));
  // The root (120) sends from a sleep: while it sleeps the spinner runs; the send wakes the
  // high thread, which must preempt the spinner at once.
  sleep_ticks(2);
  CHECK(sys::send(ep, sys::Message::make(1, {})) == Status::kOk);
  sleep_ticks(2);
  CHECK(g_high_ran == 1);
  CHECK(g_low_saw_high == 1);
  REQUIRE_OK(sys::tcb_set_priority(e.tcb, e.tcb, 255));
}

KTEST(sched_priority_above_authority_is_refused) {
  Env& e = env();
  uint64_t tcb = make(abi::ObjectType::kTcb);
  CHECK_OK(sys::tcb_set_priority(tcb, e.tcb, 255));
  CHECK_ERR(sys::tcb_set_priority(tcb, e.tcb, 256), Status::kRangeError);
  // A thread whose MCP is 10 cannot raise anyone above 10.
  CHECK_OK(sys::tcb_set_mc_priority(tcb, e.tcb, 10));
  uint64_t other = make(abi::ObjectType::kTcb);
  CHECK_OK(sys::tcb_set_priority(other, tcb, 10));
  CHECK_ERR(sys::tcb_set_priority(other, tcb, 11), Status::kRangeError);
  CHECK_ERR(sys::tcb_set_mc_priority(other, tcb, 11), Status::kRangeError);
  CHECK_ERR(sys::tcb_set_priority(other, e.cnode, 5), Status::kInvalidCapability);
}

namespace {

void yielder(uint64_t index) {
  for (int i = 0; i < 50; ++i) {
    g_counters[index] = g_counters[index] + 1;
    sys::yield();
  }
}

}  // namespace

KTEST(sched_yield_alternates_equal_priorities) {
  Env& e = env();
  g_counters[0] = 0;
  g_counters[1] = 0;
  REQUIRE_OK(spawn(yielder, 0, {100}));
  REQUIRE_OK(spawn(yielder, 1, {100}));
  REQUIRE_OK(sys::tcb_set_priority(e.tcb, e.tcb, 99));  // Below both: they finish first.
  REQUIRE_OK(sys::tcb_set_priority(e.tcb, e.tcb, 255));
  CHECK(g_counters[0] == 50);
  CHECK(g_counters[1] == 50);
}

}  // namespace ktest
