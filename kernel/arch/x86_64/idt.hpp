// SPDX-License-Identifier: MIT
//
// The interrupt descriptor table: one gate per vector, all pointing at the stubs in vectors.S.
#pragma once

#include "stacks.hpp"

#include <kstd/types.hpp>

namespace kernel::x86 {

// CPU exception vectors.
enum Vector : uint8_t {
  kDivideError = 0,
  kDebug = 1,
  kNmi = 2,
  kBreakpoint = 3,
  kOverflow = 4,
  kBoundRange = 5,
  kInvalidOpcode = 6,
  kDeviceNotAvailable = 7,
  kDoubleFault = 8,
  kInvalidTss = 10,
  kSegmentNotPresent = 11,
  kStackFault = 12,
  kGeneralProtection = 13,
  kPageFault = 14,
  kX87Fault = 16,
  kAlignmentCheck = 17,
  kMachineCheck = 18,
  kSimdFault = 19,
  kVirtualization = 20,
  kControlProtection = 21,
  kFirstExternal = 32,
};

// Installs gates for all 256 vectors and loads the IDT on this CPU.
void init_idt();

// Loads the already-built IDT on another CPU.
void load_idt();

// Makes `vector` reachable from user mode with INT n (DPL 3), for breakpoints and the like.
void set_gate_user_callable(uint8_t vector, bool callable);

// Short mnemonic ("#PF") and a description ("page fault") for an exception vector.
const char* exception_mnemonic(uint64_t vector);
const char* exception_name(uint64_t vector);

}  // namespace kernel::x86
