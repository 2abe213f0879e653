// SPDX-License-Identifier: MIT
#include "panic.hpp"

#include <stdarg.h>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/qemu.hpp"
#include "arch/x86_64/stacks.hpp"
#include "lib/format.hpp"
#include "log.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

bool g_qemu_debug_exit = false;
bool g_panicking = false;

}  // namespace

void set_qemu_debug_exit(bool enabled) { g_qemu_debug_exit = enabled; }

void halt_machine(abi::TestVerdict verdict) {
  x86::cli();
  if (g_qemu_debug_exit) {
    x86::qemu_debug_exit(static_cast<uint32_t>(verdict));
  }
  for (;;) {
    x86::hlt();
  }
}

void print_backtrace(uint64_t rbp) {
  kprint("backtrace:\n");
  for (int depth = 0; depth < 24; ++depth) {
    // A frame is two words: saved rbp, return address. Both must lie on a kernel stack.
    if (rbp % 8 != 0 || !x86::on_kernel_stack(rbp, 16)) {
      break;
    }
    auto* frame = reinterpret_cast<const uint64_t*>(rbp);
    if (frame[1] == 0) {
      break;
    }
    kprint("  #%d %p\n", depth, reinterpret_cast<void*>(frame[1]));
    if (frame[0] <= rbp) {
      break;  // Frames grow upward as we unwind; anything else is corruption or the end.
    }
    rbp = frame[0];
  }
}

void panic_at(const char* file, int line, const char* func, const char* fmt, ...) {
  x86::cli();
  if (g_panicking) {
    // A panic while panicking: say so and stop without trying anything clever.
    kprint("\n*** nested KERNEL PANIC at %s:%d ***\n", file, line);
    halt_machine(abi::TestVerdict::kFail);
  }
  g_panicking = true;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vformat(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kprint("\n*** KERNEL PANIC at %s:%d in %s(): %s ***\n", file, line, func, msg);
  print_backtrace(reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
  kprint("system halted\n");
  halt_machine(abi::TestVerdict::kFail);
}

}  // namespace kernel
