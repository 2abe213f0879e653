// SPDX-License-Identifier: MIT
//
// Interrupts reaching user threads, and per-thread FPU/SSE state.
//
// Interrupts: the runner owns the RTC (timer.hpp), whose periodic interrupt arrives on the
// timer endpoint as a kernel message. The kernel masks the line when it delivers one and unmasks
// it on IrqHandlerAck; the device itself is acknowledged by reading RTC register C. Waiting is
// bounded by the TSC, calibrated against the RTC, so a missing interrupt fails a test instead of
// hanging the suite.
//
// FPU: threads load distinctive values into xmm0..xmm15, the x87 stack, MXCSR and the x87
// control word, let other threads that do the same run (by Yield, or by being preempted), and
// check that their own values are still there. Each load-wait-store sequence is one asm
// statement, so the compiler cannot put its own use of these registers in between.
#include <abi/fault.hpp>
#include <abi/invocation.hpp>

#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

// --- time --------------------------------------------------------------------------------------

uint64_t g_tsc_per_tick = 0;

// TSC ticks per RTC period, measured once.
uint64_t tsc_per_tick() {
  if (g_tsc_per_tick == 0) {
    sleep_ticks(2);  // Line up with the timer: the first interrupt may have been waiting.
    uint64_t t0 = rdtsc();
    sleep_ticks(4);
    g_tsc_per_tick = (rdtsc() - t0) / 4;
    note("TSC ticks per RTC period (1/%llu s): %llu", static_cast<unsigned long long>(kTimerHz),
         static_cast<unsigned long long>(g_tsc_per_tick));
  }
  return g_tsc_per_tick;
}

void spin_tsc(uint64_t ticks) {
  uint64_t end = rdtsc() + ticks;
  while (rdtsc() < end) {
    asm volatile("pause");
  }
}

// --- interrupts ----------------------------------------------------------------------------------

// Acknowledges the RTC itself (not the kernel's line): reading register C lowers its interrupt
// request so that the next period raises a fresh one. The root thread has the ports bound.
void rtc_device_ack() {
  uint8_t v;
  asm volatile("outb %0, %1" : : "a"(static_cast<uint8_t>(0x8C)), "Nd"(uint16_t{0x70}));
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(uint16_t{0x71}));
  (void)v;
}

// Polls the timer endpoint for up to `ticks` TSC ticks.
bool poll_timer(Message& m, uint64_t ticks) {
  uint64_t end = rdtsc() + ticks;
  do {
    if (sys::nb_recv(timer_endpoint(), m) == Status::kOk) {
      return true;
    }
  } while (rdtsc() < end);
  return false;
}

bool is_rtc_interrupt(const Message& m) {
  return m.status == Status::kOk && m.label == static_cast<uint64_t>(abi::KernelLabel::kIrq) &&
         m.length == abi::kIrqLength && m.words[0] == kRtcIrq && m.badge == kTimerBadge &&
         m.extra_caps == 0;
}

}  // namespace

KTEST(irq_delivered_as_a_message_and_masked_until_acknowledged) {
  REQUIRE(timer_endpoint() != 0);
  uint64_t period = tsc_per_tick();
  REQUIRE(period > 0);
  // The timer was acknowledged last: the next interrupt is at most a period away.
  Message m;
  REQUIRE(poll_timer(m, 4 * period));
  CHECK(m.label == static_cast<uint64_t>(abi::KernelLabel::kIrq));
  CHECK(m.length == abi::kIrqLength);
  CHECK(m.words[0] == 8);
  CHECK(m.badge == kTimerBadge);
  // The device is acknowledged but the kernel's line is not: several periods pass in silence.
  rtc_device_ack();
  spin_tsc(4 * period);
  CHECK_STATUS(sys::nb_recv(timer_endpoint(), m), Status::kTimedOut);
  // Acknowledged at the kernel (then at the device, which raised its request meanwhile): the
  // next period's interrupt arrives.
  CHECK_OK(sys::irq_handler_ack(timer_irq_handler()));
  rtc_device_ack();
  bool again = poll_timer(m, 4 * period);
  CHECK(again);
  CHECK(!again || is_rtc_interrupt(m));
  // One that arrives while nobody receives waits on the endpoint, once: the line is masked
  // behind it.
  timer_ack();
  spin_tsc(3 * period);
  CHECK_STATUS(sys::nb_recv(timer_endpoint(), m), Status::kOk);
  CHECK(is_rtc_interrupt(m));
  CHECK_STATUS(sys::nb_recv(timer_endpoint(), m), Status::kTimedOut);
  timer_ack();  // Leave the timer running for the tests that follow.
}

namespace {

struct IrqSeen {
  volatile uint64_t done;
  volatile Status status;
  volatile uint64_t label, length, word0, badge;
};
IrqSeen g_irq_seen;

void irq_waiter(uint64_t ep) {
  Message m;
  Status s = sys::recv(ep, m);
  g_irq_seen.status = s;
  g_irq_seen.label = m.label;
  g_irq_seen.length = m.length;
  g_irq_seen.word0 = m.words[0];
  g_irq_seen.badge = m.badge;
  g_irq_seen.done = 1;
}

}  // namespace

KTEST(irq_wakes_a_thread_blocked_on_the_endpoint) {
  Env& e = env();
  REQUIRE(timer_endpoint() != 0);
  uint64_t period = tsc_per_tick();
  // Take the next interrupt and keep the line masked, so that none is queued when the thread
  // starts waiting: the next one must go straight to it.
  Message m;
  REQUIRE(poll_timer(m, 4 * period));
  g_irq_seen.done = 0;
  g_irq_seen.label = 0;
  REQUIRE_OK(spawn(irq_waiter, timer_endpoint(), {200, 0}));
  REQUIRE_OK(sys::tcb_set_priority(e.tcb, e.tcb, 1));  // It blocks in Recv.
  REQUIRE_OK(sys::tcb_set_priority(e.tcb, e.tcb, 100));
  CHECK(g_irq_seen.done == 0);
  timer_ack();
  // Below the waiter now: the interrupt makes it runnable and it preempts the root at once.
  uint64_t end = rdtsc() + 4 * period;
  while (g_irq_seen.done == 0 && rdtsc() < end) {
  }
  REQUIRE_OK(sys::tcb_set_priority(e.tcb, e.tcb, 255));
  CHECK(g_irq_seen.done == 1);
  CHECK(g_irq_seen.status == Status::kOk);
  CHECK(g_irq_seen.label == static_cast<uint64_t>(abi::KernelLabel::kIrq));
  CHECK(g_irq_seen.length == abi::kIrqLength);
  CHECK(g_irq_seen.word0 == kRtcIrq);
  CHECK(g_irq_seen.badge == kTimerBadge);
  timer_ack();
}

// --- FPU and SSE state ---------------------------------------------------------------------------

namespace {

// One thread's vector and x87 state: what it loads, and what it finds afterwards.
struct alignas(16) FpuState {
  uint64_t xmm[32];  // xmm0..xmm15, two words each.
  int64_t x87[8];    // Integers, loaded with fild and stored with fistp: exact.
  uint32_t mxcsr;
  uint16_t fcw;
};

void fill(FpuState& s, uint64_t who, uint64_t round) {
  for (uint64_t k = 0; k < 32; ++k) {
    s.xmm[k] = (who + 1) << 56 | round << 16 | k;
  }
  for (uint64_t k = 0; k < 8; ++k) {
    s.x87[k] = static_cast<int64_t>((who + 1) * 1000000 + round * 100 + k) * (k % 2 ? -1 : 1);
  }
  // Rounding modes differ per thread: round down, up, toward zero (exceptions stay masked).
  s.mxcsr = 0x1F80 | static_cast<uint32_t>(((who % 3) + 1) << 13);
  s.fcw = static_cast<uint16_t>(0x37F | (((who % 3) + 1) << 10));
}

bool same(const FpuState& a, const FpuState& b) {
  for (uint64_t k = 0; k < 32; ++k) {
    if (a.xmm[k] != b.xmm[k]) {
      return false;
    }
  }
  for (uint64_t k = 0; k < 8; ++k) {
    if (a.x87[k] != b.x87[k]) {
      return false;
    }
  }
  return a.mxcsr == b.mxcsr && a.fcw == b.fcw;
}

#define FPU_LOAD                                                                     \
  "ldmxcsr 320(%[in])\n\t"                                                           \
  "fldcw 324(%[in])\n\t"                                                             \
  "movdqa 0(%[in]), %%xmm0\n\tmovdqa 16(%[in]), %%xmm1\n\t"                          \
  "movdqa 32(%[in]), %%xmm2\n\tmovdqa 48(%[in]), %%xmm3\n\t"                         \
  "movdqa 64(%[in]), %%xmm4\n\tmovdqa 80(%[in]), %%xmm5\n\t"                         \
  "movdqa 96(%[in]), %%xmm6\n\tmovdqa 112(%[in]), %%xmm7\n\t"                        \
  "movdqa 128(%[in]), %%xmm8\n\tmovdqa 144(%[in]), %%xmm9\n\t"                       \
  "movdqa 160(%[in]), %%xmm10\n\tmovdqa 176(%[in]), %%xmm11\n\t"                     \
  "movdqa 192(%[in]), %%xmm12\n\tmovdqa 208(%[in]), %%xmm13\n\t"                     \
  "movdqa 224(%[in]), %%xmm14\n\tmovdqa 240(%[in]), %%xmm15\n\t"                     \
  "fildq 256(%[in])\n\tfildq 264(%[in])\n\tfildq 272(%[in])\n\tfildq 280(%[in])\n\t" \
  "fildq 288(%[in])\n\tfildq 296(%[in])\n\tfildq 304(%[in])\n\tfildq 312(%[in])\n\t"

// The last value loaded is on top of the x87 stack: store in reverse order.
#define FPU_STORE                                                                            \
  "fistpq 312(%[out])\n\tfistpq 304(%[out])\n\tfistpq 296(%[out])\n\tfistpq 288(%[out])\n\t" \
  "fistpq 280(%[out])\n\tfistpq 272(%[out])\n\tfistpq 264(%[out])\n\tfistpq 256(%[out])\n\t" \
  "movdqa %%xmm0, 0(%[out])\n\tmovdqa %%xmm1, 16(%[out])\n\t"                                \
  "movdqa %%xmm2, 32(%[out])\n\tmovdqa %%xmm3, 48(%[out])\n\t"                               \
  "movdqa %%xmm4, 64(%[out])\n\tmovdqa %%xmm5, 80(%[out])\n\t"                               \
  "movdqa %%xmm6, 96(%[out])\n\tmovdqa %%xmm7, 112(%[out])\n\t"                              \
  "movdqa %%xmm8, 128(%[out])\n\tmovdqa %%xmm9, 144(%[out])\n\t"                             \
  "movdqa %%xmm10, 160(%[out])\n\tmovdqa %%xmm11, 176(%[out])\n\t"                           \
  "movdqa %%xmm12, 192(%[out])\n\tmovdqa %%xmm13, 208(%[out])\n\t"                           \
  "movdqa %%xmm14, 224(%[out])\n\tmovdqa %%xmm15, 240(%[out])\n\t"                           \
  "stmxcsr 320(%[out])\n\t"                                                                  \
  "fnstcw 324(%[out])\n\t"                                                                   \
  "ldmxcsr %[mxcsr_default]\n\t"                                                             \
  "fldcw %[fcw_default]\n\t"

#define FPU_CLOBBERS                                                                         \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",   \
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)", "st(2)", "st(3)", "st(4)", \
      "st(5)", "st(6)", "st(7)", "memory"

static_assert(offsetof(FpuState, x87) == 256);
static_assert(offsetof(FpuState, mxcsr) == 320);
static_assert(offsetof(FpuState, fcw) == 324);

const uint32_t kMxcsrDefault = 0x1F80;
const uint16_t kFcwDefault = 0x37F;

// Loads `in`, yields, stores into `out`.
void fpu_round_yield(const FpuState& in, FpuState& out) {
  uint64_t rax = static_cast<uint64_t>(abi::Syscall::kYield);
  asm volatile(FPU_LOAD "syscall\n\t" FPU_STORE
               : "+a"(rax)
               : [in] "r"(&in), [out] "r"(&out), [mxcsr_default] "m"(kMxcsrDefault),
                 [fcw_default] "m"(kFcwDefault)
               : "rcx", "r11", "rdi", "rsi", "rdx", "r8", "r9", "r10", FPU_CLOBBERS);
}

// Loads `in`, spins until *watch changes, *stop is set or the TSC passes `deadline`, stores into
// `out`. Nothing but preemption lets the watched value change meanwhile.
void fpu_round_spin(const FpuState& in, FpuState& out, const volatile uint64_t* watch,
                    const volatile uint64_t* stop, uint64_t deadline) {
  uint64_t snapshot = *watch;
  asm volatile(FPU_LOAD
               "1:\n\t"
               "cmp %[snapshot], (%[watch])\n\t"
               "jne 2f\n\t"
               "cmpq $0, (%[stop])\n\t"
               "jne 2f\n\t"
               "rdtsc\n\t"
               "shl $32, %%rdx\n\t"
               "or %%rdx, %%rax\n\t"
               "cmp %[deadline], %%rax\n\t"
               "jb 1b\n\t"
               "2:\n\t" FPU_STORE
               :
               : [in] "r"(&in), [out] "r"(&out), [watch] "r"(watch), [stop] "r"(stop),
                 [snapshot] "r"(snapshot), [deadline] "r"(deadline),
                 [mxcsr_default] "m"(kMxcsrDefault), [fcw_default] "m"(kFcwDefault)
               : "rax", "rdx", FPU_CLOBBERS);
}

constexpr uint64_t kFpuThreads = 2;

struct FpuLog {
  volatile uint64_t rounds;    // Rounds completed.
  volatile uint64_t bad;       // Rounds whose state came back wrong.
  volatile uint64_t switched;  // Spin rounds ended by the other thread running.
  volatile uint64_t done;
};
FpuLog g_fpu[kFpuThreads];
volatile uint64_t g_fpu_rounds;
volatile uint64_t g_fpu_deadline_ticks;

void reset_fpu_logs(uint64_t rounds) {
  for (FpuLog& l : g_fpu) {
    l.rounds = 0;
    l.bad = 0;
    l.switched = 0;
    l.done = 0;
  }
  g_fpu_rounds = rounds;
}

void fpu_yielder(uint64_t who) {
  FpuState in;
  FpuState out;
  for (uint64_t round = 0; round < g_fpu_rounds; ++round) {
    fill(in, who, round);
    fpu_round_yield(in, out);
    if (!same(in, out)) {
      g_fpu[who].bad = g_fpu[who].bad + 1;
    }
    g_fpu[who].rounds = round + 1;
  }
  g_fpu[who].done = 1;
}

void fpu_spinner(uint64_t who) {
  FpuState in;
  FpuState out;
  uint64_t other = 1 - who;
  for (uint64_t round = 0; round < g_fpu_rounds; ++round) {
    fill(in, who, round);
    // Count first: the other thread, waiting inside its own round, sees that this one ran.
    g_fpu[who].rounds = round + 1;
    uint64_t seen = g_fpu[other].rounds;
    fpu_round_spin(in, out, &g_fpu[other].rounds, &g_fpu[other].done,
                   rdtsc() + g_fpu_deadline_ticks);
    if (g_fpu[other].rounds != seen) {
      g_fpu[who].switched = g_fpu[who].switched + 1;
    }
    if (!same(in, out)) {
      g_fpu[who].bad = g_fpu[who].bad + 1;
    }
  }
  g_fpu[who].done = 1;
}

// The root's own round: loads its state, lowers its priority to 1 so that every other thread
// runs (with raw TcbSetPriority invocations, which need only registers), raises it again, and
// stores. Returns true when the state survived.
bool root_round(uint64_t seed) {
  Env& e = env();
  FpuState in;
  FpuState out;
  fill(in, seed, 0);
  const uint64_t tcb = e.tcb;
  const uint64_t info =
      abi::MessageInfo::make(static_cast<uint64_t>(abi::Label::kTcbSetPriority), 2).word;
  asm volatile(FPU_LOAD
               "mov %[tcb], %%rdi\n\tmov %[info], %%rsi\n\tmov %[tcb], %%rdx\n\t"
               "mov $1, %%r8\n\tmov $-1, %%rax\n\tsyscall\n\t"
               "mov %[tcb], %%rdi\n\tmov %[info], %%rsi\n\tmov %[tcb], %%rdx\n\t"
               "mov $255, %%r8\n\tmov $-1, %%rax\n\tsyscall\n\t" FPU_STORE
               :
               : [in] "r"(&in), [out] "r"(&out), [tcb] "m"(tcb), [info] "m"(info),
                 [mxcsr_default] "m"(kMxcsrDefault), [fcw_default] "m"(kFcwDefault)
               : "rax", "rcx", "r11", "rdi", "rsi", "rdx", "r8", "r9", "r10", FPU_CLOBBERS);
  return same(in, out);
}

}  // namespace

KTEST(fpu_sse_and_x87_state_is_per_thread_across_yields) {
  reset_fpu_logs(200);
  for (uint64_t who = 0; who < kFpuThreads; ++who) {
    REQUIRE_OK(spawn(fpu_yielder, who, {100, 0}));
  }
  // The root keeps state of its own in the registers while the threads run to the end.
  CHECK(root_round(7));
  for (uint64_t who = 0; who < kFpuThreads; ++who) {
    CHECK(g_fpu[who].done == 1);
    CHECK(g_fpu[who].rounds == 200);
    if (g_fpu[who].bad != 0) {
      note("thread %llu: %llu of 200 rounds lost state", static_cast<unsigned long long>(who),
           static_cast<unsigned long long>(g_fpu[who].bad));
      CHECK(g_fpu[who].bad == 0);
    }
  }
}

KTEST(fpu_sse_and_x87_state_is_per_thread_across_preemption) {
  uint64_t period = tsc_per_tick();
  REQUIRE(period > 0);
  // Each round waits for the other thread to be scheduled, which takes a time slice; a round
  // that sees nothing for 8 RTC periods gives up.
  g_fpu_deadline_ticks = 8 * period;
  constexpr uint64_t kRounds = 6;
  reset_fpu_logs(kRounds);
  for (uint64_t who = 0; who < kFpuThreads; ++who) {
    REQUIRE_OK(spawn(fpu_spinner, who, {100, 0}));
  }
  settle(99);
  note("preempted mid-round: %llu and %llu of %llu rounds",
       static_cast<unsigned long long>(g_fpu[0].switched),
       static_cast<unsigned long long>(g_fpu[1].switched),
       static_cast<unsigned long long>(kRounds));
  for (uint64_t who = 0; who < kFpuThreads; ++who) {
    CHECK(g_fpu[who].done == 1);
    // Each was preempted with its values live at least once: the test did test something.
    CHECK(g_fpu[who].switched > 0);
    CHECK(g_fpu[who].bad == 0);
  }
}

}  // namespace ktest
