// SPDX-License-Identifier: MIT
//
// The kernel must survive anything a user thread can do to it. A thread in its own address
// space and CSpace, holding a few capabilities (an untyped, its fault endpoint, a frame, its own
// CNode and address space, an ASID pool), issues tens of thousands of system calls with random numbers,
// random registers and random invocation arguments. The root task handles its faults. Whatever
// becomes of the fuzzer, the kernel must still work afterwards.
#include <abi/fault.hpp>
#include <abi/syscall.hpp>

#include <kstd/utility.hpp>

#include "ktest.hpp"
#include "spawn.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

using abi::Status;

constexpr uint64_t kCalls = 30000;
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
  uint64_t fault_ep = make(abi::ObjectType::kEndpoint);
  uint64_t ut = make(abi::ObjectType::kUntyped, 18);
  uint64_t frame = make(abi::ObjectType::kFrame4K);
  // The fuzzer's CSpace: slot 1 its TCB (spawn_process), 2 the fault endpoint, then things to
  // play with. Its own CNode and PML4 capabilities let it poke at its own CSpace and address
  // space.
  Process p = REQUIRE_OK(spawn_process(fuzzer, 0x5EED1234, 90, 5, 2));
  // Without its own TCB capability it cannot simply suspend itself on the first lucky call.
  REQUIRE_OK(sys::cnode_delete(p.cnode, 1, 64));
  REQUIRE_OK(give(p, 2, fault_ep));
  // Untyped capabilities cannot be copied: move it over.
  REQUIRE_OK(sys::cnode_move(p.cnode, 3, 64, e.cnode, ut, 64));
  // Slot 4 stays empty: an endpoint nobody serves would leave the fuzzer blocked in its first
  // Call. IPC gets exercised through the fault endpoint, which the root task answers.
  REQUIRE_OK(give(p, 5, frame));
  REQUIRE_OK(give(p, 6, p.cnode));
  REQUIRE_OK(give(p, 7, p.pml4));
  REQUIRE_OK(give(p, 8, abi::kSlotInitAsidPool));

  // Handle its faults (and any message it sends to the fault endpoint) until it says it is
  // done, it stops, or time runs out.
  uint64_t faults = 0;
  bool done = false;
  // It may delete its own fault endpoint and stop; give up after two quiet seconds.
  for (int quiet = 0; quiet < 128 && !done;) {
    sys::Message m;
    bool any = false;
    while (sys::nb_recv(fault_ep, m) == Status::kOk) {
      any = true;
      ++faults;
      if (m.label == static_cast<uint64_t>(abi::KernelLabel::kUnknownSyscall) &&
          m.words[abi::kUsRax] == kDoneMagic) {
        done = true;
        break;
      }
      (void)sys::reply(sys::Message::make(abi::kFaultResume, {}));
    }
    quiet = any ? 0 : quiet + 1;
    if (!done) {
      sleep_ticks(1);
    }
  }
  note("fuzzer: %s after %llu faults handled", done ? "finished" : "stopped or still running",
       static_cast<unsigned long long>(faults));
  // Whatever happened to it, the kernel still answers.
  uint64_t probe = make(abi::ObjectType::kEndpoint);
  CHECK(probe != 0);
  CHECK_OK(sys::cnode_describe(e.cnode, probe, 64));
  (void)p;
}

}  // namespace ktest
