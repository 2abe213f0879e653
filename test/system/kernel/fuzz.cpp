// SPDX-License-Identifier: MIT
//
// The kernel must survive anything a user thread can do to it. A thread in its own address
// space and CSpace, holding a few capabilities (an untyped, its fault endpoint, a frame, its own
// CNode and address space, an ASID pool, an endpoint a helper thread serves, the TCB of a second
// process, IRQ and I/O port control, page tables), issues tens of thousands of system calls with
// random numbers, random registers and random invocation arguments. The root task handles its
// faults. Whatever becomes of the fuzzer, the kernel must still work afterwards.
//
// The seed and the number of calls are build options (-Dfuzz_seed, -Dfuzz_calls; see
// docs/testing.md), so a campaign can run many long seeds without slowing the normal suite.
#include <abi/fault.hpp>
#include <abi/syscall.hpp>

#include <kstd/utility.hpp>

#include "ktest.hpp"
#include "ktest_config.h"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

using abi::Status;

constexpr uint64_t kCalls = KTEST_FUZZ_CALLS;
constexpr uint64_t kSeed = KTEST_FUZZ_SEED;
constexpr uint64_t kDoneMagic = 0xD0E;  // An unknown system call number: "finished".

// xorshift64*: deterministic, so a failure can be reproduced.
uint64_t next(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

uint64_t pick(uint64_t& s, kstd::initializer_list<uint64_t> values) {
  return values.begin()[next(s) % values.size()];
}

// A plausible or absurd value, weighted towards values that reach deep into the decoders.
uint64_t arg(uint64_t& s) {
  switch (next(s) % 8) {
    case 0: return next(s);                 // Anything.
    case 1: return next(s) % 64;            // Small numbers: slots, types, counts, depths.
    case 2: return 64;                      // Full depth.
    case 3: return next(s) % 16;
    case 4: return pick(s, {0, 1, ~0ull, 0x7FFFFFFFF000, 0x800000000000, 0xFFFF800000000000});
    case 5: return 0x10000000 + (next(s) % 64) * 4096;  // Page-aligned user addresses.
    case 6: return abi::Rights::kAllBits & next(s);
    default: return next(s) % 300;
  }
}

// Badges on the timer's endpoint: the fuzzer's faults and the second process's arrive on the
// queue the root task waits on for ticks, so it answers each at once and still counts time.
constexpr uint64_t kFuzzerBadge = 0xF022;
constexpr uint64_t kVictimBadge = 0xF1C7;

// The fuzzer's CSpace (2^5 slots; random cptrs name slots 0..23).
enum FuzzSlot : uint64_t {
  kUntyped = 3, kHelperEp = 4, kFrame = 5, kOwnCNode = 6, kOwnPml4 = 7,
  kAsidPool = 8, kVictimTcb = 9, kVictimEp = 10, kIrqControl = 11, kIoPortControl = 12,
  kPageTable = 13, kPageDirectory = 14, kPdpt = 15, kHelperEpBadged = 16,
  kFault = 31,  // Out of the way of random cptrs, so that most runs keep it to the end.
};

// A server in the root task's address space, above the fuzzer's priority so it is always back
// in ReplyRecv when the fuzzer runs: Calls on kHelperEp return at once. Capabilities sent to it
// land in one slot and are deleted.
uint64_t g_helper_ep = 0;
uint64_t g_helper_slot = 0;

void helper(uint64_t) {
  sys::set_receive_slot(abi::kSlotInitCNode, g_helper_slot, 64);
  sys::Message m;
  (void)sys::recv(g_helper_ep, m);
  for (;;) {
    (void)sys::cnode_delete(abi::kSlotInitCNode, g_helper_slot, 64);
    m = sys::Message::make(m.label & 0xFFFF, {m.badge, m.length});
    (void)sys::reply_recv(g_helper_ep, m);
  }
}

// The second process: waits on an endpoint the fuzzer may send to (not Call: nothing would
// answer), taking capabilities into its own CNode and deleting them, and is the TCB the fuzzer
// configures, suspends, resumes and rewrites.
enum VictimSlot : uint64_t { kVictimOwnEp = 2, kVictimFault = 3, kVictimCNode = 4, kVictimReceive = 5 };

void victim(uint64_t) {
  sys::set_receive_slot(kVictimCNode, kVictimReceive, 64);
  for (;;) {
    sys::Message m;
    (void)sys::recv(kVictimOwnEp, m);
    (void)sys::cnode_delete(kVictimCNode, kVictimReceive, 64);
  }
}

void fuzzer(uint64_t seed) {
  uint64_t s = seed | 1;
  for (uint64_t i = 0; i < kCalls; ++i) {
    sys::Regs r{};
    r.cptr_or_badge = next(s) % 8 == 0 ? next(s) : next(s) % 24;
    constexpr uint64_t kLabels = sizeof(abi::kInvocations) / sizeof(abi::kInvocations[0]);
    uint64_t label = next(s) % 4 == 0 ? next(s) % 100
                                      : static_cast<uint64_t>(abi::kInvocations[next(s) % kLabels].label);
    uint64_t length = next(s) % 8 == 0 ? next(s) % 128 : next(s) % 8;
    r.info = abi::MessageInfo::make(label, length, next(s) % 4).word;
    if (next(s) % 16 == 0) {
      r.info = next(s);  // Any bits at all.
    }
    for (uint64_t& mr : r.mr) {
      mr = arg(s);
    }
    // Now and then new words, capabilities to send and a receive slot in the IPC buffer.
    if (next(s) % 4 == 0) {
      abi::IpcBuffer* buf = sys::ipc_buffer();
      for (uint64_t w = 4; w < 4 + next(s) % 16; ++w) {
        buf->msg[w] = arg(s);
      }
      for (uint64_t& c : buf->caps_or_badges) {
        c = next(s) % 8 == 0 ? arg(s) : next(s) % 24;
      }
      buf->receive_cnode = next(s) % 4 == 0 ? arg(s) : kOwnCNode;
      buf->receive_index = next(s) % 32;
      buf->receive_depth = pick(s, {0, 5, 64, arg(s)});
    }
    // Mostly Call (invocations), with every other system call and random numbers mixed in.
    uint64_t number;
    switch (next(s) % 16) {
      case 0: number = static_cast<uint64_t>(-1 - static_cast<int64_t>(next(s) % 12)); break;
      case 1: number = next(s) % 512; break;
      case 2: number = next(s); break;
      case 3: number = static_cast<uint64_t>(abi::Syscall::kNBRecv); break;
      case 4: number = static_cast<uint64_t>(abi::Syscall::kNBSend); break;
      default: number = static_cast<uint64_t>(abi::Syscall::kCall); break;
    }
    // Blocking calls on an endpoint nobody else uses would hang the fuzzer: keep them
    // non-blocking.
    if (number == static_cast<uint64_t>(abi::Syscall::kRecv) ||
        number == static_cast<uint64_t>(abi::Syscall::kSend) ||
        number == static_cast<uint64_t>(abi::Syscall::kReplyRecv)) {
      number = static_cast<uint64_t>(abi::Syscall::kNBRecv);
    }
    if (number == static_cast<uint64_t>(abi::Syscall::kDebugExit) ||
        number == static_cast<uint64_t>(abi::Syscall::kDebugPutChar) ||
        number == static_cast<uint64_t>(abi::Syscall::kDebugWrite)) {
      continue;  // These really do end the run or print.
    }
    (void)sys::raw_syscall_number(number, r);
  }
  sys::Regs done{};
  (void)sys::raw_syscall_number(kDoneMagic, done);
}

}  // namespace

KTEST(fuzz_random_system_calls_do_not_hurt_the_kernel) {
  Env& e = env();
  uint64_t ut = make(abi::ObjectType::kUntyped, 18);
  uint64_t frame = make(abi::ObjectType::kFrame4K);
  g_helper_ep = make(abi::ObjectType::kEndpoint);
  g_helper_slot = slot();
  uint64_t victim_ep = make(abi::ObjectType::kEndpoint);
  constexpr uint8_t kFaultRights = abi::Rights::kWrite | abi::Rights::kGrantReply;
  REQUIRE_OK(spawn(helper, 0, {.priority = 95}));
  // The second process, above the fuzzer's priority so that it is back in its receive whenever
  // the fuzzer runs (and its faults are stopped at once).
  Process v = REQUIRE_OK(spawn_process(victim, 0, 92, 3, kVictimFault));
  REQUIRE_OK(give(v, kVictimOwnEp, victim_ep));
  REQUIRE_OK(give(v, kVictimFault, timer_endpoint_object(), kFaultRights, kVictimBadge));
  REQUIRE_OK(give(v, kVictimCNode, v.cnode));
  // The fuzzer's CSpace (FuzzSlot): slot 1 its TCB (spawn_process) is deleted at once, so it
  // cannot simply suspend itself on the first lucky call.
  Process p = REQUIRE_OK(spawn_process(fuzzer, kSeed, 90, 5, kFault));
  REQUIRE_OK(sys::cnode_delete(p.cnode, 1, 64));
  REQUIRE_OK(give(p, kFault, timer_endpoint_object(), kFaultRights, kFuzzerBadge));
  // Untyped capabilities cannot be copied: move it over.
  REQUIRE_OK(sys::cnode_move(p.cnode, kUntyped, 64, e.cnode, ut, 64));
  REQUIRE_OK(give(p, kHelperEp, g_helper_ep));
  REQUIRE_OK(give(p, kHelperEpBadged, g_helper_ep, abi::Rights::kAllBits, 0x42));
  REQUIRE_OK(give(p, kFrame, frame));
  REQUIRE_OK(give(p, kOwnCNode, p.cnode));
  REQUIRE_OK(give(p, kOwnPml4, p.pml4));
  REQUIRE_OK(give(p, kAsidPool, abi::kSlotInitAsidPool));
  REQUIRE_OK(give(p, kVictimTcb, v.tcb));
  REQUIRE_OK(give(p, kVictimEp, victim_ep, abi::Rights::kWrite | abi::Rights::kGrant));
  REQUIRE_OK(give(p, kIrqControl, abi::kSlotIrqControl));
  REQUIRE_OK(give(p, kIoPortControl, abi::kSlotIoPortControl));
  // Unmapped paging structures cannot be copied either.
  for (auto [dest, type] : {kstd::pair{kPageTable, abi::ObjectType::kPageTable},
                            kstd::pair{kPageDirectory, abi::ObjectType::kPageDirectory},
                            kstd::pair{kPdpt, abi::ObjectType::kPdpt}}) {
    REQUIRE_OK(sys::cnode_move(p.cnode, dest, 64, e.cnode, make(type), 64));
  }

  // Handle its faults (and any message it sends to the fault endpoint) until it says it is
  // done, it stops (two quiet seconds: it may delete its own fault endpoint), or far more
  // messages than it has calls arrive (the second process rewritten to fault in a loop).
  uint64_t faults = 0;
  bool done = false;
  for (uint64_t quiet = 0; quiet < 2 * kTimerHz && !done && faults < 4 * kCalls + 10000;) {
    sys::Message m;
    if (sys::recv(timer_endpoint(), m) != Status::kOk) {
      CHECK(!"receive on the timer endpoint");
      break;
    }
    if (m.label == static_cast<uint64_t>(abi::KernelLabel::kIrq) && m.badge == kTimerBadge) {
      timer_ack();
      ++quiet;
      continue;
    }
    quiet = 0;
    ++faults;
    if (m.badge == kFuzzerBadge &&
        m.label == static_cast<uint64_t>(abi::KernelLabel::kUnknownSyscall) &&
        m.words[abi::kUsRax] == kDoneMagic) {
      done = true;
      break;
    }
    // The second process is stopped at its first fault; the fuzzer goes on after each.
    uint64_t verdict = m.badge == kVictimBadge ? abi::kFaultStop : abi::kFaultResume;
    (void)sys::reply(sys::Message::make(verdict, {}));
  }
  note("fuzzer (seed %#llx, %llu calls): %s after %llu messages handled",
       static_cast<unsigned long long>(kSeed), static_cast<unsigned long long>(kCalls),
       done ? "finished" : "stopped or still running", static_cast<unsigned long long>(faults));
  // Whatever happened to it, the kernel still answers.
  uint64_t probe = make(abi::ObjectType::kEndpoint);
  CHECK(probe != 0);
  CHECK_OK(sys::cnode_describe(e.cnode, probe, 64));
}

}  // namespace ktest
