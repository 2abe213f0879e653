// SPDX-License-Identifier: MIT
//
// Messages the kernel sends: faults (to a thread's fault endpoint, as a Call, so the handler
// gets a reply capability) and interrupts (to the endpoint an IRQ handler is bound to, as a
// Send). Their labels lie above every label a user would pick; the badge tells the receiver which
// capability the message came through.
#pragma once

#include <stdint.h>

namespace abi {

inline constexpr uint64_t kKernelLabelBase = uint64_t{1} << 50;

enum class KernelLabel : uint64_t {
  kPageFault = kKernelLabelBase + 1,
  kException = kKernelLabelBase + 2,
  kUnknownSyscall = kKernelLabelBase + 3,
  kIrq = kKernelLabelBase + 16,
};

// Page fault: MR0 address, MR1 access (PageFaultAccess bits), MR2 instruction pointer.
enum PageFaultWord : uint64_t { kPfAddress = 0, kPfAccess = 1, kPfIp = 2, kPfLength = 3 };
enum PageFaultAccess : uint64_t {
  kAccessPresent = 1,  // The page was mapped (a protection violation, not a missing page).
  kAccessWrite = 2,
  kAccessUser = 4,
  kAccessFetch = 16,
};

// CPU exception: vector, error code, instruction pointer, stack pointer, flags.
enum ExceptionWord : uint64_t {
  kExVector = 0,
  kExErrorCode = 1,
  kExIp = 2,
  kExSp = 3,
  kExFlags = 4,
  kExLength = 5,
};

// Unknown system call: every register a system call could use, so a user-level server (the
// POSIX personality) can emulate it. The instruction pointer is already past the syscall.
enum UnknownSyscallWord : uint64_t {
  kUsRax = 0,
  kUsRdi = 1,
  kUsRsi = 2,
  kUsRdx = 3,
  kUsR10 = 4,
  kUsR8 = 5,
  kUsR9 = 6,
  kUsIp = 7,
  kUsSp = 8,
  kUsFlags = 9,
  kUsLength = 10,
};

// Interrupt: MR0 is the IRQ line, MR1 the time-stamp counter when the kernel took the
// interrupt (for latency measurements; the TSC counts instructions under QEMU's icount).
inline constexpr uint64_t kIrqLength = 2;

// Replying to a fault: label kFaultResume resumes the thread; the reply's words, if any,
// replace its registers in the order of the fault message (for an unknown system call, RAX
// first: its result). Label kFaultStop leaves the thread stopped.
inline constexpr uint64_t kFaultResume = 0;
inline constexpr uint64_t kFaultStop = 1;

}  // namespace abi
