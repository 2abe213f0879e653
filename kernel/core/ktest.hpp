// SPDX-License-Identifier: MIT
//
// Built-in kernel self-tests for system tests that must run before any user program exists
// (boot checks, deliberate CPU exceptions, a deliberate panic). Selected with `ktest=<name>` on
// the command line; they report TAP on the console and end the QEMU run. Compiled only into dev
// builds: other profiles ignore the option.
//
//   boot          checks the parsed boot information, memory map and kernel page tables
//   exception-de  divide error      exception-ud  invalid opcode   exception-bp  breakpoint
//   exception-gp  general protection (non-canonical access)
//   exception-pf  page fault (write to address 0)
//   exception-df  double fault (kernel stack overflow into the guard page)
//   panic         a kernel panic
#pragma once

#include "boot_state.hpp"

namespace kernel {

// Runs the configured self-test, if any. Tests that complete end the QEMU run and do not
// return; an unknown test name fails the run.
void run_ktest(const BootState& state);

}  // namespace kernel
