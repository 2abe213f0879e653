// SPDX-License-Identifier: MIT
//
// The kernel's runtime configuration, read from the multiboot2 command line at boot. The
// command line is a list of space-separated `key=value` words; a bare `key` means `key=1`.
//
//   loglevel=error|warn|info|debug|trace   how much the kernel prints (default info)
//   qemu_debug_exit=0|1                    on halt or panic, end a QEMU run through its
//                                          isa-debug-exit device (test images set this)
//   ktest=<name>                           run a built-in kernel self-test (dev profile only)
//   fastpath=0|1                           use the IPC fast path (default 1; 0 sends every IPC
//                                          through the general path, for testing both)
//
// Unknown keys and bad values are reported and otherwise ignored, so a typo never stops a boot.
#pragma once

#include <kstd/types.hpp>

namespace kernel {

enum class LogLevel : uint8_t { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

const char* log_level_name(LogLevel level);

struct KernelConfig {
  static constexpr size_t kMaxTestName = 32;

  LogLevel log_level = LogLevel::kInfo;
  bool qemu_debug_exit = false;
  bool fastpath = true;
  char ktest[kMaxTestName] = {};  // Empty: no self-test.
};

struct ConfigProblem {
  static constexpr size_t kMaxWord = 48;

  char word[kMaxWord];  // The offending word, truncated and terminated.
  const char* what;     // "unknown option", "bad value", ...
};

// Parses `cmdline` (may be null) into `cfg`, starting from its current values. Records up to
// `max_problems` problems and returns how many there were in total.
size_t parse_kernel_config(const char* cmdline, KernelConfig* cfg, ConfigProblem* problems,
                           size_t max_problems);

}  // namespace kernel
