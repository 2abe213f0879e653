// SPDX-License-Identifier: MIT
//
// The kernel system-test suite, in the manner of sel4test: a root task that exercises every
// system call and invocation, positive and negative, and reports TAP on the console.
//
// A test is a function registered with KTEST. Each runs with a fresh environment: its objects
// come from a dedicated untyped region that is revoked afterwards (destroying every thread,
// endpoint and mapping the test made), and its slots and virtual addresses are reused.
#pragma once

#include <abi/boot_info.hpp>
#include <abi/invocation.hpp>
#include <abi/message.hpp>
#include <abi/rights.hpp>
#include <abi/status.hpp>

#include <stdint.h>

#include <sys/alloc.hpp>
#include <sys/debug.hpp>
#include <sys/invoke.hpp>
#include <sys/ipc.hpp>
#include <sys/thread.hpp>
#include <sys/vspace.hpp>

namespace ktest {

struct TestCase {
  const char* name;
  void (*fn)();
  TestCase* next;
};

void register_test(TestCase* t);

struct Registrar {
  explicit Registrar(TestCase* t) { register_test(t); }
};

#define KTEST(name)                                                       \
  static void ktest_fn_##name();                                          \
  static ::ktest::TestCase ktest_case_##name{#name, ktest_fn_##name, 0};  \
  static ::ktest::Registrar ktest_reg_##name{&ktest_case_##name};         \
  static void ktest_fn_##name()

// Records a failure (and keeps going); the test fails if any check failed.
void check_failed(const char* file, int line, const char* expr);
void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond)                                        \
  do {                                                     \
    if (!(cond)) {                                         \
      ::ktest::check_failed(__FILE__, __LINE__, #cond);    \
    }                                                      \
  } while (0)

// Checks that a Result failed with `status`.
#define CHECK_ERR(expr, status)                                                     \
  do {                                                                              \
    auto ktest_r_ = (expr);                                                         \
    if (ktest_r_.ok() || ktest_r_.error() != (status)) {                            \
      ::ktest::check_status_failed(__FILE__, __LINE__, #expr, ktest_r_.ok(),        \
                                   ktest_r_.ok() ? abi::Status::kOk : ktest_r_.error(), \
                                   status);                                         \
    }                                                                               \
  } while (0)

#define CHECK_OK(expr)                                                              \
  do {                                                                              \
    auto ktest_r_ = (expr);                                                         \
    if (!ktest_r_.ok()) {                                                           \
      ::ktest::check_status_failed(__FILE__, __LINE__, #expr, false, ktest_r_.error(), \
                                   abi::Status::kOk);                               \
    }                                                                               \
  } while (0)

// As CHECK_OK, and yields the value; on failure the test returns.
#define REQUIRE_OK(expr)                                                              \
  ({                                                                                  \
    auto&& ktest_r_ = (expr);                                                         \
    if (!ktest_r_.ok()) {                                                             \
      ::ktest::check_status_failed(__FILE__, __LINE__, #expr, false, ktest_r_.error(), \
                                   abi::Status::kOk);                                 \
      return;                                                                         \
    }                                                                                 \
    static_cast<decltype(ktest_r_)&&>(ktest_r_).value();                             \
  })

#define REQUIRE(cond)                                      \
  do {                                                     \
    if (!(cond)) {                                         \
      ::ktest::check_failed(__FILE__, __LINE__, #cond);    \
      return;                                              \
    }                                                      \
  } while (0)

void check_status_failed(const char* file, int line, const char* expr, bool was_ok,
                         abi::Status got, abi::Status want);

// --- The environment of the running test ---------------------------------------------------------

struct Env {
  const abi::BootInfo* boot;
  uint64_t cnode;            // The root CNode (cptr == slot number).
  uint64_t tcb;              // The root task's TCB.
  uint64_t vspace;           // The root task's PML4.
  sys::SlotAllocator slots;
  sys::ObjectAllocator objects;
  sys::VSpace vs;
  uint64_t region_next;      // Next free virtual address for test mappings.
};

Env& env();

// Sets up the environment of the root task started with `boot_info_vaddr` (once). Returns
// false when the RTC timer could not be set up.
bool env_init(uint64_t boot_info_vaddr);
// Fresh allocators and addresses for the next test.
void env_reset();
// Destroys everything the test made.
void env_clean_up();
// Checks failed since reset_failures().
int failures();
void reset_failures();

// Allocates an object or a slot; failing is a test failure (these never fail in a sane test).
uint64_t make(abi::ObjectType type, uint64_t size_bits = 0);
uint64_t slot();

// A fresh piece of virtual address space for the test (aligned to 2 MiB).
uint64_t region(uint64_t bytes);

// Busy-waits `ticks` periods of the user-level RTC timer (see timer.cpp).
void sleep_ticks(uint64_t ticks);

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}

}  // namespace ktest
