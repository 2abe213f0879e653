// SPDX-License-Identifier: MIT
//
// IPC cost: round trips between the root task and a server in another address space (a Call
// answered by ReplyRecv), measured with the TSC and reported as a TAP comment. There is no
// timing assertion (emulated and loaded machines vary too much); the test only insists that
// every round trip worked.
#include "ktest.hpp"
#include "spawn.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

using abi::MessageInfo;
using abi::Syscall;

constexpr uint64_t kWarmUp = 100;
constexpr uint64_t kRounds = 1000;

// The server: answers every Call with label 1 and word 0 plus one. Raw system calls, so that
// the loop costs what the kernel costs; it ends (blocked in ReplyRecv) after enough rounds.
void bench_server(uint64_t ep) {
  sys::Regs r{ep, 0, {}};
  sys::raw_syscall(Syscall::kRecv, r);
  for (uint64_t i = 0; i < kWarmUp + kRounds + 1; ++i) {
    r.cptr_or_badge = ep;
    r.info = MessageInfo::make(1, 1).word;
    r.mr[0] += 1;
    sys::raw_syscall(Syscall::kReplyRecv, r);
  }
}

uint64_t g_samples[kRounds];

void sort(uint64_t* v, uint64_t n) {
  for (uint64_t i = 1; i < n; ++i) {
    uint64_t x = v[i];
    uint64_t j = i;
    for (; j > 0 && v[j - 1] > x; --j) {
      v[j] = v[j - 1];
    }
    v[j] = x;
  }
}

// One round trip; true when the reply is the one the server must give.
bool round_trip(uint64_t ep, uint64_t value, uint64_t* ticks) {
  sys::Regs r{ep, MessageInfo::make(7, 1).word, {value}};
  uint64_t t0 = rdtsc();
  sys::raw_syscall(Syscall::kCall, r);
  uint64_t t1 = rdtsc();
  *ticks = t1 - t0;
  MessageInfo info{r.info};
  return !info.is_error() && info.label() == 1 && info.length() == 1 && r.mr[0] == value + 1;
}

}  // namespace

KTEST(ipc_bench_round_trip_between_address_spaces) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  // Below the root, so the server runs only when the root waits for it.
  Process p = REQUIRE_OK(spawn_process(bench_server, 2, 200));
  REQUIRE_OK(give(p, 2, ep, abi::Rights::kRead));
  uint64_t good = 0;
  uint64_t ticks = 0;
  for (uint64_t i = 0; i < kWarmUp; ++i) {
    good += round_trip(ep, i * 3, &ticks) ? 1 : 0;
  }
  REQUIRE(good == kWarmUp);
  good = 0;
  for (uint64_t i = 0; i < kRounds; ++i) {
    good += round_trip(ep, 1000 + i * 7, &g_samples[i]) ? 1 : 0;
  }
  CHECK(good == kRounds);
  sort(g_samples, kRounds);
  note("ipc round trip (Call + ReplyRecv), two address spaces: min %llu, median %llu TSC ticks",
       static_cast<unsigned long long>(g_samples[0]),
       static_cast<unsigned long long>(g_samples[kRounds / 2]));
}

}  // namespace ktest
