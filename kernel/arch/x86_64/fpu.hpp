// SPDX-License-Identifier: MIT
//
// User FPU and vector state. The kernel never touches x87/SSE/AVX registers itself
// (-mgeneral-regs-only), so user state survives kernel entries; between threads it is switched
// lazily: CR0.TS is set whenever the running thread does not own the FPU registers, and its
// first FPU instruction traps (#NM) to swap them. XSAVE is used where the CPU has it, FXSAVE
// otherwise.
#pragma once

#include <kstd/types.hpp>

#include "object/tcb.hpp"

namespace kernel::x86 {

// Enables SSE (and XSAVE with every state component that fits a TCB's save area) on this CPU.
void init_fpu();

// Handles #NM for `t`: saves the previous owner's registers and loads (or initialises) t's.
void fpu_take(Tcb* t);

// Sets or clears CR0.TS for the thread about to run.
void fpu_prepare(Tcb* t);

// `t` is going away: its registers no longer need saving.
void fpu_forget(Tcb* t);

// For the boot report.
const char* fpu_mode();
uint64_t fpu_state_size();

}  // namespace kernel::x86
