// SPDX-License-Identifier: MIT
//
// A byte ring of N bytes (a power of two) for the console's output and input. Single-threaded:
// the console server has one thread, and interrupts reach it as messages.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace console {

template <size_t N>
class Ring {
  static_assert(N != 0 && (N & (N - 1)) == 0, "the ring's size must be a power of two");

 public:
  static constexpr size_t kCapacity = N;

  bool empty() const { return head_ == tail_; }
  bool full() const { return size() == N; }
  // The counters only grow; their difference is the fill, also across wrap-around.
  size_t size() const { return static_cast<size_t>(tail_ - head_); }
  size_t room() const { return N - size(); }

  // False (and nothing stored) when the ring is full.
  bool push(char c) {
    if (full()) {
      return false;
    }
    buf_[tail_++ & (N - 1)] = c;
    return true;
  }

  // The oldest byte. The ring must not be empty.
  char pop() { return buf_[head_++ & (N - 1)]; }

 private:
  char buf_[N] = {};
  uint64_t head_ = 0;  // Next to pop.
  uint64_t tail_ = 0;  // Next to push.
};

}  // namespace console
