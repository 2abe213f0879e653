// SPDX-License-Identifier: MIT
//
// The in-VM benchmark suite, in the manner of sel4bench: a root task that times system calls,
// IPC, context switches, interrupt delivery and object operations with the TSC, and prints one
// JSON object per metric on the console. Under QEMU with -icount shift=0,sleep=off the TSC counts
// guest instructions, so the figures are instruction counts and repeat exactly (scripts/bench).
//
// IPC is timed as sel4bench does: the client reads the TSC right before Call and the server
// right after its receive returns (Call, one way); the server right before ReplyRecv and the
// client right after Call returns (ReplyRecv, one way). Every figure has the cost of two
// back-to-back TSC reads subtracted.
#include <abi/debug.hpp>
#include <abi/fault.hpp>
#include <abi/syscall.hpp>

#include <sys/debug.hpp>
#include <sys/invoke.hpp>
#include <sys/ipc.hpp>
#include <sys/syscall.hpp>

#include "helpers.hpp"
#include "lib/format.hpp"
#include "ktest.hpp"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace {

using abi::ObjectType;
using abi::Syscall;
using ktest::env;
using ktest::make;

constexpr uint64_t kWarmup = 16;
constexpr uint64_t kIterations = 256;
constexpr uint64_t kRuns = kWarmup + kIterations;
constexpr uint64_t kShared = 0x0000003000000000;  // The page client and server share.
constexpr uint64_t kBenchPriority = 100;

inline uint64_t tsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return (uint64_t{hi} << 32) | lo;
}

uint64_t g_overhead = 0;  // Cost of two back-to-back TSC reads.

// --- statistics ------------------------------------------------------------------------------

uint64_t isqrt(uint64_t v) {
  uint64_t r = 0;
  for (uint64_t bit = uint64_t{1} << 62; bit != 0; bit >>= 2) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
  }
  return r;
}

// Prints {"metric", min, median, mean, stddev, n} for samples[kWarmup..count).
void report(const char* metric, uint64_t* samples, uint64_t count) {
  uint64_t* s = samples + kWarmup;
  uint64_t n = count - kWarmup;
  for (uint64_t i = 0; i < n; ++i) {
    s[i] = s[i] > g_overhead ? s[i] - g_overhead : 0;
  }
  for (uint64_t i = 1; i < n; ++i) {  // Insertion sort: n is small.
    uint64_t v = s[i];
    uint64_t j = i;
    for (; j > 0 && s[j - 1] > v; --j) {
      s[j] = s[j - 1];
    }
    s[j] = v;
  }
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    sum += s[i];
  }
  uint64_t mean = sum / n;
  uint64_t var = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t d = s[i] > mean ? s[i] - mean : mean - s[i];
    var += d * d;
  }
  sys::debug_printf(
      "{\"metric\":\"%s\",\"min\":%llu,\"median\":%llu,\"mean\":%llu,\"stddev\":%llu,\"n\":%llu}\n",
      metric, static_cast<unsigned long long>(s[0]), static_cast<unsigned long long>(s[n / 2]),
      static_cast<unsigned long long>(mean), static_cast<unsigned long long>(isqrt(var / n)),
      static_cast<unsigned long long>(n));
}

void measure_overhead() {
  uint64_t best = ~uint64_t{0};
  for (int i = 0; i < 1000; ++i) {
    uint64_t a = tsc();
    uint64_t b = tsc();
    best = b - a < best ? b - a : best;
  }
  g_overhead = best;
}

// --- system calls ----------------------------------------------------------------------------

uint64_t g_samples[kRuns];

void bench_null_syscall() {
  for (uint64_t i = 0; i < kRuns; ++i) {
    sys::Regs r{};
    uint64_t t0 = tsc();
    sys::raw_syscall(Syscall::kDebugNull, r);
    g_samples[i] = tsc() - t0;
  }
  report("null_syscall", g_samples, kRuns);
  for (uint64_t i = 0; i < kRuns; ++i) {
    uint64_t t0 = tsc();
    sys::yield();
    g_samples[i] = tsc() - t0;
  }
  report("yield_alone", g_samples, kRuns);
}

// --- IPC -------------------------------------------------------------------------------------

// Timestamps the two sides leave in the shared page.
struct Shared {
  uint64_t t0[kRuns];  // Client, before Call.
  uint64_t t1[kRuns];  // Server, after its receive returned.
  uint64_t t2[kRuns];  // Server, before ReplyRecv.
  uint64_t t3[kRuns];  // Client, after Call returned.
  uint64_t done;
};
static_assert(sizeof(Shared) <= 4 * 4096);
constexpr uint64_t kSharedPages = (sizeof(Shared) + 4095) / 4096;

Shared* shared() { return reinterpret_cast<Shared*>(kShared); }

struct IpcJob {
  uint64_t ep;          // Endpoint cptr (in the thread's CSpace).
  uint64_t done_ep;     // Where the client says it finished (root CSpace; 0 in a process).
  uint64_t words;
  bool fpu;
};
IpcJob g_job;

void touch_fpu() { asm volatile("movq %0, %%xmm0" : : "r"(uint64_t{1}) : "xmm0"); }

// The server: answers kRuns Calls with ReplyRecv, stamping each side. Used in the root's address
// space (arg: the endpoint) and in a process (its slot 2), where the job arrives in the first
// message.
void server(uint64_t ep) {
  sys::Regs r{};
  r.cptr_or_badge = ep;
  uint64_t words = g_job.words;
  if (g_job.fpu) {
    touch_fpu();
  }
  sys::raw_syscall(Syscall::kRecv, r);
  Shared* s = shared();
  uint64_t t2 = 0;
  for (uint64_t i = 0; i < kRuns; ++i) {
    uint64_t t1 = tsc();
    s->t1[i] = t1;
    if (i > 0) {
      s->t2[i - 1] = t2;
    }
    r.cptr_or_badge = ep;
    r.info = abi::MessageInfo::make(0, words).word;
    t2 = tsc();
    sys::raw_syscall(Syscall::kReplyRecv, r);
  }
}

void client(uint64_t ep) {
  sys::Regs r{};
  uint64_t words = g_job.words;
  if (g_job.fpu) {
    touch_fpu();
  }
  Shared* s = shared();
  for (uint64_t i = 0; i < kRuns; ++i) {
    r.cptr_or_badge = ep;
    r.info = abi::MessageInfo::make(1, words).word;
    uint64_t t0 = tsc();
    sys::raw_syscall(Syscall::kCall, r);
    uint64_t t3 = tsc();
    s->t0[i] = t0;
    s->t3[i] = t3;
  }
  // The server's last stamp before ReplyRecv is still in its register: the last round does
  // not count for ReplyRecv.
  s->done = 1;
  (void)sys::send(g_job.done_ep, sys::Message::make(0, {}));
}

// Maps the shared pages into the root task (and, for a process, into its address space).
void map_shared(const ktest::Process* p) {
  ktest::Env& e = env();
  sys::VSpace child;
  if (p != nullptr) {
    child.init(p->pml4, &e.objects);
  }
  for (uint64_t i = 0; i < kSharedPages; ++i) {
    uint64_t frame = make(ObjectType::kFrame4K);
    (void)e.vs.map(frame, kShared + i * 4096, abi::Rights::kRead | abi::Rights::kWrite);
    if (p != nullptr) {
      uint64_t copy = ktest::slot();
      (void)sys::cnode_copy(e.cnode, copy, 64, e.cnode, frame, 64);
      (void)child.map(copy, kShared + i * 4096, abi::Rights::kRead | abi::Rights::kWrite);
    }
  }
}

void report_ipc(const char* name_call, const char* name_reply) {
  Shared* s = shared();
  for (uint64_t i = 0; i < kRuns; ++i) {
    g_samples[i] = s->t1[i] - s->t0[i];
  }
  report(name_call, g_samples, kRuns);
  for (uint64_t i = 0; i + 1 < kRuns; ++i) {
    g_samples[i] = s->t3[i] - s->t2[i];
  }
  report(name_reply, g_samples, kRuns - 1);
}

void bench_ipc(bool two_spaces, uint64_t words, bool fpu) {
  ktest::Env& e = env();
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t done = make(ObjectType::kEndpoint);
  g_job = {ep, done, words, fpu};
  if (two_spaces) {
    // The process gets the job through its copy of the root task's data (made at spawn), the
    // endpoint in its slot 2.
    g_job.ep = 2;
    auto p = ktest::spawn_process(server, 2, kBenchPriority);
    if (!p) {
      ktest::check_failed(__FILE__, __LINE__, "spawn_process for the IPC server");
      return;
    }
    (void)ktest::give(p.value(), 2, ep);
    map_shared(&p.value());
  } else {
    map_shared(nullptr);
    (void)ktest::spawn(server, ep, {kBenchPriority, 0});
  }
  g_job.ep = ep;
  (void)ktest::spawn(client, ep, {kBenchPriority, 0});
  sys::Message m;
  (void)sys::recv(done, m);
  char call[48];
  char reply[48];
  kernel::format(call, sizeof call, "ipc_call_%s_%lluw%s", two_spaces ? "2as" : "1as",
                 static_cast<unsigned long long>(words), fpu ? "_fpu" : "");
  kernel::format(reply, sizeof reply, "ipc_replyrecv_%s_%lluw%s", two_spaces ? "2as" : "1as",
                 static_cast<unsigned long long>(words), fpu ? "_fpu" : "");
  report_ipc(call, reply);
  (void)e;
}

// --- Send, Yield ------------------------------------------------------------------------------

volatile uint64_t g_stamp = 0;    // The last "before" stamp a thread left for the other.
uint64_t g_sample_count = 0;

// Send to a receiver already waiting (at a higher priority, so it runs at once): the sender
// stamps before Send, the receiver after its Recv returns.
void send_receiver(uint64_t ep) {
  sys::Regs r{};
  for (uint64_t i = 0; i < kRuns; ++i) {
    r.cptr_or_badge = ep;
    sys::raw_syscall(Syscall::kRecv, r);
    g_samples[i] = tsc() - g_stamp;
  }
}

void bench_send() {
  uint64_t ep = make(ObjectType::kEndpoint);
  (void)ktest::spawn(send_receiver, ep, {kBenchPriority + 1, 0});
  // The root task (priority 255) would keep the processor: run the sender below the receiver.
  (void)sys::tcb_set_priority(env().tcb, env().tcb, kBenchPriority);
  sys::Regs r{};
  for (uint64_t i = 0; i < kRuns; ++i) {
    r.cptr_or_badge = ep;
    r.info = abi::MessageInfo::make(0, 0).word;
    g_stamp = tsc();
    sys::raw_syscall(Syscall::kSend, r);
  }
  (void)sys::tcb_set_priority(env().tcb, env().tcb, 255);
  report("send_waiting_receiver", g_samples, kRuns);
}

// Two threads of one priority hand the processor to each other with Yield. Each sample runs
// from one thread's stamp before Yield to the other's after its own Yield returned.
void yielder(uint64_t done_ep) {
  for (;;) {
    g_stamp = tsc();
    sys::yield();
    uint64_t now = tsc();
    if (g_sample_count < kRuns) {
      g_samples[g_sample_count++] = now - g_stamp;
    } else if (done_ep != 0) {
      (void)sys::send(done_ep, sys::Message::make(0, {}));
      return;
    }
  }
}

void bench_yield_switch() {
  uint64_t done = make(ObjectType::kEndpoint);
  g_sample_count = 0;
  auto a = ktest::spawn(yielder, done, {kBenchPriority, 0});
  auto b = ktest::spawn(yielder, 0, {kBenchPriority, 0});
  sys::Message m;
  (void)sys::recv(done, m);
  if (b) {
    (void)sys::tcb_suspend(b.value().tcb());
  }
  (void)a;
  report("yield_switch", g_samples, kRuns);
}

// --- Interrupts ------------------------------------------------------------------------------

// The interrupt source: COM1's transmitter-empty interrupt (IRQ 4), which the UART raises as
// soon as it is enabled while the transmitter is idle. The kernel writes COM1 by polling and
// never enables its interrupts.
constexpr uint16_t kCom1 = 0x3F8;
constexpr uint16_t kUartIer = kCom1 + 1;
constexpr uint16_t kUartIir = kCom1 + 2;
constexpr uint64_t kCom1Irq = 4;

void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
uint8_t inb(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

struct IrqJob {
  uint64_t ep;
  uint64_t handler;
  uint64_t port;
  uint64_t done;
};
IrqJob g_irq;
uint64_t g_irq_stamps[kRuns];  // The kernel's stamp (message word 1) of each interrupt.

// Waits for the interrupt, stamps, quietens the UART and acknowledges, kRuns times.
void irq_thread(uint64_t) {
  sys::Regs r{};
  for (uint64_t i = 0; i < kRuns; ++i) {
    r.cptr_or_badge = g_irq.ep;
    sys::raw_syscall(Syscall::kRecv, r);
    uint64_t now = tsc();
    g_samples[i] = now - g_stamp;
    g_irq_stamps[i] = now - r.mr[1];
    outb(kUartIer, 0);
    (void)inb(kUartIir);
    (void)sys::irq_handler_ack(g_irq.handler);
  }
}

// Raises the interrupt kRuns times, stamping just before.
void irq_trigger(uint64_t) {
  for (uint64_t i = 0; i < kRuns; ++i) {
    g_stamp = tsc();
    outb(kUartIer, 0x02);
  }
  (void)sys::send(g_irq.done, sys::Message::make(0, {}));
}

void bench_irq() {
  ktest::Env& e = env();
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t handler = ktest::slot();
  uint64_t port = ktest::slot();
  g_irq = {ep, handler, port, make(ObjectType::kEndpoint)};
  if (!sys::irq_control_get(abi::kSlotIrqControl, kCom1Irq, e.cnode, handler, 64) ||
      !sys::irq_handler_set_endpoint(handler, ep) ||
      !sys::ioport_control_issue(abi::kSlotIoPortControl, kCom1, kCom1 + 7, e.cnode, port, 64)) {
    ktest::check_failed(__FILE__, __LINE__, "IRQ 4 handler and COM1's port capability");
    return;
  }
  auto h = ktest::spawn(irq_thread, 0, {kBenchPriority + 1, 0});
  auto t = ktest::spawn(irq_trigger, 0, {kBenchPriority, 0});
  if (!h || !t || !sys::tcb_bind_ioport(h.value().tcb(), 0, port) ||
      !sys::tcb_bind_ioport(t.value().tcb(), 0, port)) {
    ktest::check_failed(__FILE__, __LINE__, "starting the interrupt threads");
    return;
  }
  sys::Message m;
  (void)sys::recv(g_irq.done, m);
  (void)sys::irq_handler_clear(handler);
  report("irq_to_user", g_samples, kRuns);
  for (uint64_t i = 0; i < kRuns; ++i) {
    g_samples[i] = g_irq_stamps[i];
  }
  report("irq_kernel_stamp_to_user", g_samples, kRuns);
}

// --- Objects and mappings --------------------------------------------------------------------

void bench_map_unmap() {
  ktest::Env& e = env();
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t vaddr = ktest::region(4096);
  // The first mapping makes the page tables; the timed ones find them there.
  (void)e.vs.map(frame, vaddr, abi::Rights::kRead | abi::Rights::kWrite);
  (void)sys::frame_unmap(frame);
  uint64_t unmap_samples[kRuns];
  for (uint64_t i = 0; i < kRuns; ++i) {
    uint64_t t0 = tsc();
    (void)sys::frame_map(frame, e.vspace, vaddr, abi::Rights::kRead | abi::Rights::kWrite);
    uint64_t t1 = tsc();
    (void)sys::frame_unmap(frame);
    uint64_t t2 = tsc();
    g_samples[i] = t1 - t0;
    unmap_samples[i] = t2 - t1;
  }
  report("map_4k", g_samples, kRuns);
  report("unmap_4k", unmap_samples, kRuns);
}

void bench_retype_delete() {
  ktest::Env& e = env();
  uint64_t ut = make(ObjectType::kUntyped, 16);
  uint64_t dest = ktest::slot();
  for (uint64_t i = 0; i < kRuns; ++i) {
    uint64_t t0 = tsc();
    (void)sys::untyped_retype(ut, ObjectType::kEndpoint, 0, e.cnode, 0, 0, dest, 1);
    (void)sys::cnode_delete(e.cnode, dest, 64);
    g_samples[i] = tsc() - t0;
  }
  report("retype_delete_endpoint", g_samples, kRuns);
}

// Thread creation as a program does it with libsys (TCB, stack and IPC buffer frames, mapping,
// configuration, registers, resume) until the new thread runs its first instruction.
constexpr uint64_t kThreadRuns = kWarmup + 64;

void first_instruction(uint64_t slot) {
  g_samples[slot] = tsc() - g_stamp;
}

void bench_thread_create() {
  ktest::Env& e = env();
  // Run below the new threads so that each one runs as soon as it is resumed.
  (void)sys::tcb_set_priority(e.tcb, e.tcb, kBenchPriority);
  for (uint64_t i = 0; i < kThreadRuns; ++i) {
    g_stamp = tsc();
    if (!ktest::spawn(first_instruction, i, {kBenchPriority + 1, 0})) {
      ktest::check_failed(__FILE__, __LINE__, "spawn of a new thread");
      break;
    }
  }
  (void)sys::tcb_set_priority(e.tcb, e.tcb, 255);
  report("thread_create_to_first_instruction", g_samples, kThreadRuns);
}

}  // namespace

int main(uint64_t boot_info_vaddr) {
  bool timer = ktest::env_init(boot_info_vaddr);
  measure_overhead();
  sys::debug_printf("# benchmarks: TSC-read overhead %llu\n",
                    static_cast<unsigned long long>(g_overhead));
  auto run = [](void (*fn)()) {
    ktest::env_reset();
    fn();
    ktest::env_clean_up();
  };
  run(bench_null_syscall);
  struct IpcCase {
    bool two_spaces;
    uint64_t words;
    bool fpu;
  };
  static constexpr IpcCase kCases[] = {
      {true, 0, false},   {false, 0, false},  {false, 0, true},  {true, 4, false},
      {true, 10, false},  {true, 64, false},  {false, 4, false}, {false, 10, false},
      {false, 64, false},
  };
  for (const IpcCase& c : kCases) {
    ktest::env_reset();
    bench_ipc(c.two_spaces, c.words, c.fpu);
    ktest::env_clean_up();
  }
  run(bench_send);
  run(bench_yield_switch);
  run(bench_irq);
  run(bench_map_unmap);
  run(bench_retype_delete);
  run(bench_thread_create);
  (void)timer;
  sys::debug_printf("# benchmarks: done\n");
  sys::debug_exit(static_cast<uint64_t>(ktest::failures() == 0 ? abi::TestVerdict::kPass
                                                                : abi::TestVerdict::kFail));
}
