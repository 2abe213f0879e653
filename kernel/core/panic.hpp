// SPDX-License-Identifier: MIT
//
// The kernel's last words. A panic names the file, line and function that raised it, prints a
// backtrace, and stops the machine (ending a QEMU test run with a failing verdict when the
// command line asked for qemu_debug_exit). Panics are for broken kernel invariants only: user
// input never reaches one.
#pragma once

#include <abi/debug.hpp>

#include <kstd/types.hpp>

namespace kernel {

[[noreturn]] void panic_at(const char* file, int line, const char* func, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// Stops this CPU for good after reporting `verdict` to QEMU when that is enabled.
[[noreturn]] void halt_machine(abi::TestVerdict verdict);

// Enables or disables the isa-debug-exit report in halt_machine.
void set_qemu_debug_exit(bool enabled);

// Prints return addresses by walking the frame-pointer chain from `rbp`, stopping at anything
// that does not look like a kernel stack frame.
void print_backtrace(uint64_t rbp);

}  // namespace kernel

#define PANIC(...) ::kernel::panic_at(__FILE__, __LINE__, __func__, __VA_ARGS__)

// Checks an internal invariant. Never use it to judge user input.
#define KASSERT(cond)                                \
  do {                                               \
    if (__builtin_expect(!(cond), 0)) {              \
      PANIC("assertion failed: %s", #cond);          \
    }                                                \
  } while (0)

#if defined(KEEL_DEBUG_ASSERTS)
#define DEBUG_ASSERT(cond) KASSERT(cond)
#else
#define DEBUG_ASSERT(cond) ((void)0)
#endif
