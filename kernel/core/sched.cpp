// SPDX-License-Identifier: MIT
#include "core/sched.hpp"

#include <kstd/bit.hpp>

#include <kstd/enforce.hpp>

namespace kernel {

void Scheduler::init(Tcb* idle) {
  *this = Scheduler();
  idle_ = idle;
  current_ = idle;
}

void Scheduler::enqueue(Tcb* t, bool at_head) {
  uint32_t p = t->priority;
  t->in_ready_queue = 1;
  if (head_[p] == nullptr) {
    t->sched_next = t->sched_prev = nullptr;
    head_[p] = tail_[p] = t;
    bitmap_[p / 64] |= uint64_t{1} << (p % 64);
    summary_ |= 1u << (p / 64);
  } else if (at_head) {
    t->sched_prev = nullptr;
    t->sched_next = head_[p];
    head_[p]->sched_prev = t;
    head_[p] = t;
  } else {
    t->sched_next = nullptr;
    t->sched_prev = tail_[p];
    tail_[p]->sched_next = t;
    tail_[p] = t;
  }
}

void Scheduler::dequeue(Tcb* t) {
  uint32_t p = t->priority;
  if (t->sched_prev != nullptr) {
    t->sched_prev->sched_next = t->sched_next;
  } else {
    head_[p] = t->sched_next;
  }
  if (t->sched_next != nullptr) {
    t->sched_next->sched_prev = t->sched_prev;
  } else {
    tail_[p] = t->sched_prev;
  }
  if (head_[p] == nullptr) {
    bitmap_[p / 64] &= ~(uint64_t{1} << (p % 64));
    if (bitmap_[p / 64] == 0) {
      summary_ &= ~(1u << (p / 64));
    }
  }
  t->sched_next = t->sched_prev = nullptr;
  t->in_ready_queue = 0;
}

bool Scheduler::queue_contains(const Tcb* t) const {
  for (const Tcb* q = head_[t->priority]; q != nullptr; q = q->sched_next) {
    if (q == t) {
      return true;
    }
  }
  return false;
}

void Scheduler::wake(Tcb* t, bool prefer) {
  t->state = ThreadState::kRunnable;
  if (t == current_ || t->in_ready_queue) {
    return;
  }
  enqueue(t, false);
  if (prefer && (preferred_ == nullptr || t->priority > preferred_->priority)) {
    preferred_ = t;
  }
}

void Scheduler::remove(Tcb* t) {
  if (t->in_ready_queue) {
    dequeue(t);
  }
  if (preferred_ == t) {
    preferred_ = nullptr;
  }
}

void Scheduler::tick() {
  Tcb* c = current_;
  if (c == idle_) {
    return;
  }
  if (c->time_slice > 1) {
    --c->time_slice;
    return;
  }
  c->time_slice = kTimeSliceTicks;
  yield_ = true;
}

bool Scheduler::schedule() {
  Tcb* cur = current_;
  bool keep = cur != idle_ && cur->state == ThreadState::kRunnable;
  Tcb* best = highest_ready();
  Tcb* preferred = preferred_;
  preferred_ = nullptr;
  bool yielded = yield_;
  yield_ = false;

  if (keep && !yielded && (best == nullptr || best->priority <= cur->priority)) {
    return false;
  }
  if (keep) {
    // A thread preempted by a higher priority runs again first; one whose slice ran out or that
    // yielded goes behind its peers.
    enqueue(cur, !yielded);
    if (best == nullptr || cur->priority > best->priority) {
      best = cur;
    }
  }
  Tcb* next = best;
  if (preferred != nullptr && preferred->in_ready_queue && next != nullptr &&
      preferred->priority == next->priority) {
    next = preferred;
  }
  if (next == nullptr) {
    next = idle_;
  } else {
    dequeue(next);
  }
  current_ = next;
  return next != cur;
}

}  // namespace kernel
