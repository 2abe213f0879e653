// SPDX-License-Identifier: MIT
//
// Helpers that many test files share: a status check for system calls, the root CNode's
// coordinates, letting other threads run, making and describing capabilities, bounded waits,
// busy threads, and worker threads that perform operations for the root task as their fault
// handler.
#pragma once

#include <abi/object_type.hpp>
#include <abi/rights.hpp>
#include <abi/status.hpp>

#include <sys/invoke.hpp>
#include <sys/ipc.hpp>
#include <sys/thread.hpp>

#include "ktest.hpp"
#include "spawn.hpp"

#include <stdint.h>

// Checks that a system call returned `want`, naming both statuses when it did not.
#define CHECK_STATUS(expr, want)                                                              \
  do {                                                                                        \
    ::abi::Status ktest_s_ = (expr);                                                          \
    if (ktest_s_ != (want)) {                                                                 \
      ::ktest::check_status_failed(__FILE__, __LINE__, #expr, ktest_s_ == ::abi::Status::kOk, \
                                   ktest_s_, (want));                                         \
    }                                                                                         \
  } while (0)

namespace ktest {

// The ABI and libsys names that every test file uses.
using abi::CapType;
using abi::ObjectType;
using abi::Rights;
using abi::Status;
using sys::Message;

// --- Constants -----------------------------------------------------------------------------------

// The root CNode, in which slot numbers are cptrs when resolved with all 64 bits.
inline constexpr uint64_t kRoot = abi::kSlotInitCNode;
inline constexpr uint64_t kDepth = 64;

// Every right, and read-write.
inline constexpr uint8_t kAll = abi::Rights::kAllBits;
inline constexpr uint8_t kRW = abi::Rights::kRead | abi::Rights::kWrite;

// --- Scheduling ----------------------------------------------------------------------------------

// Lets every thread above priority `low` run until it blocks or ends: the root drops to `low`
// and gets the processor back (at 255) only when none of them can run.
void settle(uint64_t low = 1);

// Spawns fn(arg) as spawn() does; a failure is recorded and gives an empty thread.
sys::Thread start_thread(sys::Thread::Entry fn, uint64_t arg, const SpawnOptions& opts = {});

// --- Capabilities --------------------------------------------------------------------------------

// A copy of the capability in root slot `src` with `rights` and `badge`, in a fresh root slot.
uint64_t mint(uint64_t src, uint8_t rights, uint64_t badge = 0);

// Describes a slot; a failed describe is a test failure and reads as an empty slot.
sys::CapInfo describe(uint64_t index, uint64_t root = kRoot, uint64_t depth = kDepth);

// Whether a slot is empty (or could not be described).
bool is_empty(uint64_t index, uint64_t root = kRoot, uint64_t depth = kDepth);

// Sends every invocation of `type` to `cptr` with one argument too few: each must be refused as
// truncated before it looks at anything.
void check_truncated(abi::CapType type, uint64_t cptr);

// --- Bounded waits -------------------------------------------------------------------------------

// Receives on `ep` for at most `ticks` timer periods, so that a thread that never sends cannot
// hang the suite. False also when the receive fails for any other reason than nobody sending.
bool recv_within(uint64_t ep, sys::Message& m, uint64_t ticks);

// Sleeps until `flag` is non-zero, for at most `ticks` timer periods.
bool wait_flag(volatile uint64_t& flag, uint64_t ticks);

// --- Busy threads --------------------------------------------------------------------------------

// Counters of busy threads, whose progress shows whether the threads still exist.
inline constexpr uint64_t kSpinners = 4;
extern volatile uint64_t g_spin_count[kSpinners];

// A busy thread counting in g_spin_count[index]. It stops by itself after many iterations so that
// a thread the kernel failed to destroy cannot run forever.
void spinner(uint64_t index);

// Whether counter `index` moves while the root task sleeps (and lower priorities run).
bool advances(uint64_t index);

// --- Worker threads ------------------------------------------------------------------------------

// What the root task and a worker thread share: one request at a time, numbered.
struct WorkerChannel {
  volatile uint64_t req;     // The number of the latest request.
  volatile uint64_t ack;     // The number of the latest request carried out.
  volatile uint64_t op;      // What to do, as the worker's perform function understands it.
  volatile uint64_t target;  // Where: an I/O port, an address.
  volatile uint64_t value;   // A value to write, or the value read.
  void (*perform)(WorkerChannel& c);
};

// How a request to a worker ended.
struct Outcome {
  bool done = false;     // It completed.
  bool faulted = false;  // It faulted; `fault` is the message and the thread waits for a reply.
  sys::Message fault;
};

// A thread that carries out operations the root task asks for (through a WorkerChannel), with the
// root task as its fault handler, so that an operation that faults is seen instead of stopping
// the suite.
class Worker {
 public:
  // Starts the thread at priority 100, carrying out requests on `c` with `perform`. It has not
  // run yet when this returns (the root task's priority is higher). `name` is for notes.
  bool start(const char* name, WorkerChannel& c, void (*perform)(WorkerChannel& c));

  uint64_t tcb() const { return tcb_; }

  // The channel's value word: what the last operation read.
  uint64_t value() const { return ch_->value; }

  // Asks for one operation and waits (at most half a second) until it completes or faults.
  Outcome run(uint64_t op, uint64_t target, uint64_t value = 0);

  // After a fault: resume the thread (it retries the operation) and wait for the outcome.
  Outcome resume();

  // After a fault: leave the thread stopped (it would only fault again).
  void stop();

 private:
  void wait(Outcome& o);

  const char* name_ = "worker";
  WorkerChannel* ch_ = nullptr;
  uint64_t ep_ = 0;
  uint64_t tcb_ = 0;
  bool blocked_ = false;
  bool dead_ = false;
};

}  // namespace ktest
