// SPDX-License-Identifier: MIT
//
// Unit tests for the scheduler alone: plain Tcb structures on the heap, no capabilities. The
// randomized test runs the scheduler side by side with a reference made of per-priority FIFO
// queues, so that the bitmap and the intrusive lists are checked against something simple.
#include "core/sched.hpp"

#include "object/tcb.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <random>
#include <vector>

namespace {

using kernel::kPriorities;
using kernel::kTimeSliceTicks;
using kernel::Scheduler;
using kernel::Tcb;
using kernel::ThreadState;

// Owns the threads of one test; each starts inactive with a full time slice, as tcb_init leaves
// a new thread.
class Threads {
 public:
  Tcb* make(uint8_t priority) {
    auto t = std::make_unique<Tcb>();
    t->priority = priority;
    t->state = ThreadState::kInactive;
    t->time_slice = kTimeSliceTicks;
    t->id = threads_.size();
    threads_.push_back(std::move(t));
    return threads_.back().get();
  }
  size_t size() const { return threads_.size(); }
  Tcb* operator[](size_t i) const { return threads_[i].get(); }

 private:
  std::vector<std::unique_ptr<Tcb>> threads_;
};

// The thread stops being runnable, as when it blocks in IPC.
void block(Scheduler& s, Tcb* t) {
  t->state = ThreadState::kBlockedOnReceive;
  s.remove(t);
}

// Runs schedule() and returns who runs next.
Tcb* next(Scheduler& s) {
  s.schedule();
  return s.current();
}

// A scheduler initialised with its own idle thread.
struct Fixture {
  Tcb idle{};
  Scheduler s;
  Threads threads;

  Fixture() {
    idle.state = ThreadState::kIdle;
    s.init(&idle);
  }
};

}  // namespace

TEST_CASE("scheduler: the idle thread runs when nothing is runnable", "[sched]") {
  Fixture f;
  CHECK(f.s.current() == &f.idle);
  CHECK(f.s.idle() == &f.idle);
  CHECK(f.s.highest_ready() == nullptr);
  CHECK_FALSE(f.s.schedule());
  CHECK(f.s.current() == &f.idle);

  Tcb* a = f.threads.make(10);
  f.s.wake(a);
  CHECK(a->state == ThreadState::kRunnable);
  CHECK(f.s.highest_ready() == a);
  CHECK(f.s.schedule());
  CHECK(f.s.current() == a);
  CHECK(a->in_ready_queue == 0);

  block(f.s, a);
  CHECK(f.s.schedule());
  CHECK(f.s.current() == &f.idle);
  // Ticks charge nobody while idle.
  f.s.tick();
  CHECK_FALSE(f.s.schedule());
  CHECK(f.s.current() == &f.idle);
}

TEST_CASE("scheduler: the highest priority runs", "[sched]") {
  Fixture f;
  Tcb* low = f.threads.make(5);
  Tcb* mid = f.threads.make(10);
  Tcb* high = f.threads.make(200);
  f.s.wake(low);
  f.s.wake(high);
  f.s.wake(mid);
  CHECK(f.s.highest_ready() == high);
  CHECK(next(f.s) == high);
  // A runnable current thread that outranks everything keeps running.
  CHECK_FALSE(f.s.schedule());
  CHECK(f.s.current() == high);
  block(f.s, high);
  CHECK(next(f.s) == mid);
  block(f.s, mid);
  CHECK(next(f.s) == low);
  block(f.s, low);
  CHECK(next(f.s) == &f.idle);
}

TEST_CASE("scheduler: waking a higher priority preempts at the next schedule", "[sched]") {
  Fixture f;
  Tcb* low = f.threads.make(3);
  Tcb* high = f.threads.make(4);
  f.s.wake(low);
  REQUIRE(next(f.s) == low);
  // The same priority does not preempt.
  Tcb* peer = f.threads.make(3);
  f.s.wake(peer);
  CHECK_FALSE(f.s.schedule());
  CHECK(f.s.current() == low);
  f.s.wake(high);
  CHECK(f.s.schedule());
  CHECK(f.s.current() == high);
  CHECK(low->in_ready_queue == 1);
  CHECK(f.s.queue_contains(low));
}

TEST_CASE("scheduler: round robin within a priority by time slice", "[sched]") {
  Fixture f;
  Tcb* a = f.threads.make(7);
  Tcb* b = f.threads.make(7);
  Tcb* c = f.threads.make(7);
  f.s.wake(a);
  f.s.wake(b);
  f.s.wake(c);
  REQUIRE(next(f.s) == a);
  const std::array<Tcb*, 3> order{a, b, c};
  for (int round = 0; round < 9; ++round) {
    Tcb* running = order[round % 3];
    REQUIRE(f.s.current() == running);
    // Every tick but the last of the slice leaves the thread running.
    for (uint32_t i = 1; i < kTimeSliceTicks; ++i) {
      f.s.tick();
      CHECK_FALSE(f.s.schedule());
      CHECK(f.s.current() == running);
    }
    f.s.tick();
    CHECK(f.s.schedule());
    CHECK(f.s.current() == order[(round + 1) % 3]);
    // The slice is full again for its next turn, and it waits at the tail.
    CHECK(running->time_slice == kTimeSliceTicks);
    CHECK(running->in_ready_queue == 1);
    CHECK(running->sched_next == nullptr);
  }
}

TEST_CASE("scheduler: a thread alone at its priority keeps running when its slice ends",
          "[sched]") {
  Fixture f;
  Tcb* a = f.threads.make(7);
  Tcb* lower = f.threads.make(6);
  f.s.wake(a);
  f.s.wake(lower);
  REQUIRE(next(f.s) == a);
  for (uint32_t i = 0; i < 3 * kTimeSliceTicks; ++i) {
    f.s.tick();
    CHECK_FALSE(f.s.schedule());
    CHECK(f.s.current() == a);
  }
  CHECK(a->in_ready_queue == 0);
  CHECK(f.s.highest_ready() == lower);
}

TEST_CASE("scheduler: yield_current sends the thread behind its peers", "[sched]") {
  Fixture f;
  Tcb* a = f.threads.make(9);
  Tcb* b = f.threads.make(9);
  Tcb* c = f.threads.make(9);
  f.s.wake(a);
  f.s.wake(b);
  f.s.wake(c);
  REQUIRE(next(f.s) == a);
  f.s.yield_current();
  CHECK(f.s.schedule());
  CHECK(f.s.current() == b);
  // a is now behind c.
  CHECK(c->sched_next == a);
  CHECK(a->sched_next == nullptr);
  f.s.yield_current();
  CHECK(next(f.s) == c);
  f.s.yield_current();
  CHECK(next(f.s) == a);

  SECTION("a yield is forgotten once schedule has run") {
    CHECK_FALSE(f.s.schedule());
    CHECK(f.s.current() == a);
  }
  SECTION("yielding with only lower priorities ready keeps the thread") {
    block(f.s, a);
    REQUIRE(next(f.s) == b);
    block(f.s, b);
    REQUIRE(next(f.s) == c);
    Tcb* low = f.threads.make(1);
    f.s.wake(low);
    f.s.yield_current();
    CHECK_FALSE(f.s.schedule());
    CHECK(f.s.current() == c);
    CHECK(c->in_ready_queue == 0);
    CHECK(f.s.highest_ready() == low);
  }
  SECTION("yielding alone keeps the thread") {
    block(f.s, b);
    block(f.s, c);
    f.s.yield_current();
    CHECK_FALSE(f.s.schedule());
    CHECK(f.s.current() == a);
    CHECK(f.s.highest_ready() == nullptr);
  }
}

TEST_CASE("scheduler: a preempted thread goes to the head, a yielding one to the tail", "[sched]") {
  Fixture f;
  Tcb* a = f.threads.make(5);
  Tcb* b = f.threads.make(5);
  Tcb* c = f.threads.make(5);
  Tcb* high = f.threads.make(50);
  f.s.wake(a);
  f.s.wake(b);
  f.s.wake(c);
  REQUIRE(next(f.s) == a);

  // Preempted: a resumes before b and c once the higher priority blocks.
  f.s.wake(high);
  REQUIRE(next(f.s) == high);
  CHECK(a->sched_prev == nullptr);
  CHECK(a->sched_next == b);
  block(f.s, high);
  CHECK(next(f.s) == a);

  // Yielded while a higher priority woke: a goes behind its peers.
  f.s.wake(high);
  f.s.yield_current();
  REQUIRE(next(f.s) == high);
  CHECK(c->sched_next == a);
  block(f.s, high);
  CHECK(next(f.s) == b);

  // A slice that ran out counts as a yield.
  for (uint32_t i = 0; i < kTimeSliceTicks; ++i) {
    f.s.tick();
  }
  f.s.wake(high);
  REQUIRE(next(f.s) == high);
  CHECK(a->sched_next == b);
  CHECK(b->sched_next == nullptr);
}

TEST_CASE("scheduler: wake with prefer wins within its priority", "[sched]") {
  Fixture f;
  Tcb* caller = f.threads.make(5);
  Tcb* b = f.threads.make(5);
  Tcb* c = f.threads.make(5);
  Tcb* server = f.threads.make(5);
  f.s.wake(caller);
  f.s.wake(b);
  f.s.wake(c);
  REQUIRE(next(f.s) == caller);

  SECTION("the partner runs at once when the current thread blocks") {
    f.s.wake(server, true);
    block(f.s, caller);
    CHECK(next(f.s) == server);
    // The others keep their order.
    block(f.s, server);
    CHECK(next(f.s) == b);
    block(f.s, b);
    CHECK(next(f.s) == c);
  }
  SECTION("a higher priority still wins over the preferred thread") {
    Tcb* high = f.threads.make(6);
    f.s.wake(high);
    f.s.wake(server, true);
    block(f.s, caller);
    CHECK(next(f.s) == high);
  }
  SECTION("preference lasts for one schedule only") {
    f.s.wake(server, true);
    CHECK_FALSE(f.s.schedule());  // The caller did not block: it keeps the CPU.
    f.s.yield_current();
    CHECK(next(f.s) == b);
  }
  SECTION("a removed thread loses its preference") {
    f.s.wake(server, true);
    block(f.s, server);
    block(f.s, caller);
    CHECK(next(f.s) == b);
  }
  SECTION("of two preferred threads the higher priority is kept") {
    Tcb* high = f.threads.make(6);
    f.s.wake(server, true);
    f.s.wake(high, true);
    block(f.s, caller);
    CHECK(next(f.s) == high);
  }
  SECTION("of two preferred threads of one priority the first is kept") {
    f.s.wake(server, true);
    f.s.wake(f.threads.make(5), true);
    block(f.s, caller);
    CHECK(next(f.s) == server);
  }
}

TEST_CASE("scheduler: wake is idempotent and remove takes a thread off its queue", "[sched]") {
  Fixture f;
  Tcb* a = f.threads.make(4);
  Tcb* b = f.threads.make(4);
  Tcb* c = f.threads.make(4);
  Tcb* d = f.threads.make(2);
  for (Tcb* t : {a, b, c, d}) {
    f.s.wake(t);
  }
  // Waking a queued thread again does not queue it twice or move it.
  f.s.wake(a);
  CHECK(a->sched_next == b);
  CHECK(c->sched_next == nullptr);

  SECTION("from the middle") {
    f.s.remove(b);
    CHECK(a->sched_next == c);
    CHECK(c->sched_prev == a);
  }
  SECTION("from the head") {
    f.s.remove(a);
    CHECK(f.s.highest_ready() == b);
    CHECK(b->sched_prev == nullptr);
  }
  SECTION("from the tail") {
    f.s.remove(c);
    CHECK(b->sched_next == nullptr);
    f.s.wake(c);
    CHECK(b->sched_next == c);
  }
  SECTION("the last of a priority clears it") {
    f.s.remove(a);
    f.s.remove(b);
    f.s.remove(c);
    CHECK(f.s.highest_ready() == d);
    f.s.remove(d);
    CHECK(f.s.highest_ready() == nullptr);
    CHECK(next(f.s) == &f.idle);
  }
  SECTION("removing a thread that is not queued changes nothing") {
    Tcb* other = f.threads.make(4);
    f.s.remove(other);
    CHECK(f.s.highest_ready() == a);
    CHECK(c->sched_next == nullptr);
  }
  for (size_t i = 0; i < f.threads.size(); ++i) {
    Tcb* t = f.threads[i];
    CHECK(f.s.queue_contains(t) == (t->in_ready_queue != 0));
  }
}

TEST_CASE("scheduler: waking the current thread does not queue it", "[sched]") {
  Fixture f;
  Tcb* a = f.threads.make(4);
  f.s.wake(a);
  REQUIRE(next(f.s) == a);
  // Blocked and woken again within one kernel entry: it simply goes on running.
  a->state = ThreadState::kBlockedOnSend;
  f.s.wake(a);
  CHECK(a->state == ThreadState::kRunnable);
  CHECK(a->in_ready_queue == 0);
  CHECK_FALSE(f.s.schedule());
  CHECK(f.s.current() == a);
}

TEST_CASE("scheduler: the bitmap covers all 256 priorities", "[sched]") {
  Fixture f;
  for (uint32_t p = 0; p < kPriorities; ++p) {
    f.threads.make(static_cast<uint8_t>(p));
  }
  // Woken in a scrambled order, each new priority above the others takes the lead.
  std::vector<uint32_t> order(kPriorities);
  for (uint32_t p = 0; p < kPriorities; ++p) {
    order[p] = (p * 97) % kPriorities;
  }
  uint32_t top = 0;
  for (uint32_t p : order) {
    f.s.wake(f.threads[p]);
    top = std::max(top, p);
    CHECK(f.s.highest_ready() == f.threads[top]);
  }
  // Running and blocking them one by one goes down through every priority, across the word
  // boundaries of the bitmap.
  for (uint32_t p = kPriorities; p-- > 0;) {
    INFO("priority " << p);
    REQUIRE(next(f.s) == f.threads[p]);
    block(f.s, f.threads[p]);
  }
  CHECK(next(f.s) == &f.idle);
  // Removing from the queues directly, lowest first, leaves the highest in front each time.
  for (uint32_t p = 0; p < kPriorities; ++p) {
    f.s.wake(f.threads[p]);
  }
  for (uint32_t p = 0; p < kPriorities; ++p) {
    CHECK(f.s.highest_ready() == f.threads[kPriorities - 1]);
    f.s.remove(f.threads[p]);
  }
  CHECK(f.s.highest_ready() == nullptr);
}

namespace {

// The scheduler's rules written out over std::deque, one FIFO per priority, with a linear
// search for the highest. Slower and simpler than the real thing, which is the point.
class Reference {
 public:
  Reference(Tcb* idle, size_t threads) : idle_(idle), current_(idle), slice_(threads, 0) {}

  Tcb* current() const { return current_; }

  Tcb* highest() const {
    for (uint32_t p = kPriorities; p-- > 0;) {
      if (!q_[p].empty()) {
        return q_[p].front();
      }
    }
    return nullptr;
  }

  bool queued(const Tcb* t) const {
    const auto& q = q_[t->priority];
    return std::find(q.begin(), q.end(), t) != q.end();
  }

  const std::deque<Tcb*>& queue(uint32_t p) const { return q_[p]; }

  void wake(Tcb* t, bool prefer) {
    set_runnable(t, true);
    if (t == current_ || queued(t)) {
      return;
    }
    q_[t->priority].push_back(t);
    if (prefer && (preferred_ == nullptr || t->priority > preferred_->priority)) {
      preferred_ = t;
    }
  }

  void remove(Tcb* t) {
    auto& q = q_[t->priority];
    q.erase(std::remove(q.begin(), q.end(), t), q.end());
    if (preferred_ == t) {
      preferred_ = nullptr;
    }
  }

  void set_runnable(Tcb* t, bool runnable) {
    runnable_.erase(std::remove(runnable_.begin(), runnable_.end(), t), runnable_.end());
    if (runnable) {
      runnable_.push_back(t);
    }
  }
  bool runnable(const Tcb* t) const {
    return std::find(runnable_.begin(), runnable_.end(), t) != runnable_.end();
  }

  void tick(size_t index) {
    if (current_ == idle_) {
      return;
    }
    if (slice_[index] + 1 < kTimeSliceTicks) {
      ++slice_[index];
      return;
    }
    slice_[index] = 0;
    yield_ = true;
  }

  void yield() { yield_ = true; }

  bool schedule() {
    Tcb* cur = current_;
    bool keep = cur != idle_ && runnable(cur);
    Tcb* best = highest();
    Tcb* preferred = preferred_;
    preferred_ = nullptr;
    bool yielded = yield_;
    yield_ = false;
    if (keep && !yielded && (best == nullptr || best->priority <= cur->priority)) {
      return false;
    }
    if (keep) {
      if (yielded) {
        q_[cur->priority].push_back(cur);
      } else {
        q_[cur->priority].push_front(cur);
      }
      if (best == nullptr || cur->priority > best->priority) {
        best = cur;
      }
    }
    Tcb* next = best;
    if (preferred != nullptr && queued(preferred) && next != nullptr &&
        preferred->priority == next->priority) {
      next = preferred;
    }
    if (next == nullptr) {
      next = idle_;
    } else {
      remove(next);
    }
    current_ = next;
    return next != cur;
  }

 private:
  Tcb* idle_;
  Tcb* current_;
  Tcb* preferred_ = nullptr;
  bool yield_ = false;
  std::deque<Tcb*> q_[kPriorities];
  std::vector<Tcb*> runnable_;
  std::vector<uint32_t> slice_;  // Ticks used of the current slice.
};

}  // namespace

TEST_CASE("scheduler: random operations agree with per-priority FIFO queues", "[sched]") {
  Fixture f;
  constexpr size_t kThreads = 24;
  // Fixed priorities at the bitmap's word edges, random ones for the rest.
  const std::array<uint8_t, 8> edges{0, 63, 64, 127, 128, 191, 192, 255};
  std::mt19937_64 rng(0x5c4ed);  // Fixed seed so that a failure can be reproduced.
  for (size_t i = 0; i < kThreads; ++i) {
    f.threads.make(i < edges.size() ? edges[i] : static_cast<uint8_t>(rng() % kPriorities));
  }
  Reference ref(&f.idle, kThreads);
  auto index_of = [&](const Tcb* t) {
    for (size_t i = 0; i < kThreads; ++i) {
      if (f.threads[i] == t) {
        return i;
      }
    }
    return kThreads;
  };

  size_t switches = 0;
  std::array<bool, kPriorities> ran{};
  for (int op = 0; op < 20000; ++op) {
    Tcb* t = f.threads[rng() % kThreads];
    int kind = static_cast<int>(rng() % 100);
    INFO("operation " << op << " kind " << kind << " thread " << t->id);
    if (kind < 20) {
      bool prefer = rng() % 4 == 0;
      f.s.wake(t, prefer);
      ref.wake(t, prefer);
    } else if (kind < 50) {
      // Mostly the current thread blocks, as in IPC; sometimes another one is suspended.
      if (kind < 42 && f.s.current() != &f.idle) {
        t = f.s.current();
      }
      t->state = ThreadState::kBlockedOnReceive;
      f.s.remove(t);
      ref.set_runnable(t, false);
      ref.remove(t);
    } else if (kind < 55) {
      // What TcbSetPriority does: requeue a queued thread at its new priority.
      if (t != f.s.current()) {
        bool queued = t->in_ready_queue != 0;
        f.s.remove(t);
        ref.remove(t);
        t->priority = static_cast<uint8_t>(rng() % kPriorities);
        if (queued) {
          f.s.wake(t);
          ref.wake(t, false);
        }
      }
    } else if (kind < 65) {
      size_t cur = index_of(f.s.current());
      f.s.tick();
      if (cur < kThreads) {
        ref.tick(cur);
      }
    } else if (kind < 72) {
      f.s.yield_current();
      ref.yield();
    } else {
      bool changed = f.s.schedule();
      REQUIRE(changed == ref.schedule());
      if (changed) {
        ++switches;
      }
      if (f.s.current() != &f.idle) {
        ran[f.s.current()->priority] = true;
      }
    }

    REQUIRE(f.s.current() == ref.current());
    REQUIRE(f.s.highest_ready() == ref.highest());
    for (size_t i = 0; i < kThreads; ++i) {
      Tcb* u = f.threads[i];
      REQUIRE((u->in_ready_queue != 0) == ref.queued(u));
    }
    if (op % 64 == 0) {
      // The intrusive lists hold exactly the reference queues, in order.
      for (uint32_t p = 0; p < kPriorities; ++p) {
        const auto& q = ref.queue(p);
        for (size_t i = 0; i < q.size(); ++i) {
          REQUIRE(q[i]->sched_prev == (i == 0 ? nullptr : q[i - 1]));
          REQUIRE(q[i]->sched_next == (i + 1 == q.size() ? nullptr : q[i + 1]));
          REQUIRE(f.s.queue_contains(q[i]));
        }
      }
    }
  }
  // The run did exercise the scheduler: many switches, and threads ran at priorities in every
  // word of the bitmap.
  CHECK(switches > 1000);
  for (uint32_t w = 0; w < kPriorities / 64; ++w) {
    INFO("bitmap word " << w);
    CHECK(std::any_of(ran.begin() + w * 64, ran.begin() + (w + 1) * 64, [](bool b) { return b; }));
  }
}
