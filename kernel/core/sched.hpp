// SPDX-License-Identifier: MIT
//
// The scheduler of one CPU: 256 fixed priorities, round robin within a priority, and an O(1)
// bitmap of non-empty ready queues. Threads other than the current one that are runnable sit in
// a ready queue; the current thread does not. Portable: the kernel keeps one per CPU, the unit
// tests drive one directly.
//
// The kernel is not preemptible: a kernel entry may wake threads and block the current one, and
// on the way out schedule() picks who runs next.
#pragma once

#include <kstd/types.hpp>

#include "object/tcb.hpp"

namespace kernel {

inline constexpr uint32_t kPriorities = 256;
inline constexpr uint32_t kTimeSliceTicks = 2;

class Scheduler {
 public:
  // `idle` runs when nothing else can; it starts as the current thread.
  void init(Tcb* idle);

  Tcb* current() const { return current_; }
  Tcb* idle() const { return idle_; }

  // Makes `t` runnable and queues it (at the tail). If it outranks the current thread it will
  // run at the next schedule(); `prefer` asks that it also win against threads of its own
  // priority (a direct switch, used when an IPC partner wakes while the current thread blocks).
  void wake(Tcb* t, bool prefer = false);

  // Takes a thread that stops being runnable (blocked, suspended, destroyed) off the queues.
  void remove(Tcb* t);

  // The current thread gives up the rest of its time slice.
  void yield_current() { yield_ = true; }

  // A timer tick: charges the current thread; when its slice runs out it goes to the back.
  void tick();

  // Chooses the thread to run and makes it current. Returns true when that changed.
  bool schedule();

  // For the kernel's own use when it starts the first thread.
  void set_current(Tcb* t) { current_ = t; }

  // The first thread of the highest non-empty ready queue, or null.
  Tcb* highest_ready() const {
    if (summary_ == 0) {
      return nullptr;
    }
    uint32_t w = 31 - __builtin_clz(summary_);
    return head_[w * 64 + 63 - __builtin_clzll(bitmap_[w])];
  }

  // Whether a ready thread outranks priority `p` (the IPC fast path's test).
  bool ready_above(uint32_t p) const {
    if (summary_ == 0) {
      return false;
    }
    uint32_t w = 31 - __builtin_clz(summary_);
    return w * 64 + 63 - __builtin_clzll(bitmap_[w]) > p;
  }

  // For tests and the invariant checker.
  bool queue_contains(const Tcb* t) const;

 private:
  void enqueue(Tcb* t, bool at_head);
  void dequeue(Tcb* t);

  Tcb* head_[kPriorities] = {};
  Tcb* tail_[kPriorities] = {};
  uint64_t bitmap_[kPriorities / 64] = {};  // Bit p: queue p is not empty.
  uint32_t summary_ = 0;                      // Bit w: bitmap_[w] is not zero.
  Tcb* current_ = nullptr;
  Tcb* idle_ = nullptr;
  Tcb* preferred_ = nullptr;
  bool yield_ = false;
};

// The scheduler of the CPU the caller runs on.
Scheduler& this_scheduler();

}  // namespace kernel
