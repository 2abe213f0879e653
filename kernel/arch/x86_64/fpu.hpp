// SPDX-License-Identifier: MIT
//
// User FPU and vector state. The kernel never touches x87/SSE/AVX registers itself
// (-mgeneral-regs-only), so user state survives kernel entries; between threads it is switched
// lazily: CR0.TS is set whenever the running thread does not own the FPU registers, and its
// first FPU instruction traps (#NM) to swap them. XSAVE is used where the CPU has it, FXSAVE
// otherwise.
#pragma once

#include <kstd/types.hpp>

#include "cpu.hpp"
#include "cpu_local.hpp"
#include "object/tcb.hpp"

namespace kernel::x86 {

// Enables SSE (and XSAVE with every state component that fits a TCB's save area) on this CPU.
void init_fpu();

// Handles #NM for `t`: saves the previous owner's registers and loads (or initialises) t's.
void fpu_take(Tcb* t);

// Clears CR0.TS for the FPU owner, which is about to run.
[[gnu::always_inline]] inline void fpu_clear_ts(CpuLocal* cpu) {
  asm volatile("clts");
  cpu->exit_busy |= kExitBusyTsClear;
}

// Sets CR0.TS for a thread that is not the FPU owner, about to run.
[[gnu::always_inline]] inline void fpu_set_ts(CpuLocal* cpu) {
  write_cr0(cpu->cr0_ts);
  cpu->exit_busy &= static_cast<uint8_t>(~kExitBusyTsClear);
}

// `t` is going away: its registers no longer need saving.
void fpu_forget(Tcb* t);

// For the boot report.
const char* fpu_mode();
uint64_t fpu_state_size();

}  // namespace kernel::x86
