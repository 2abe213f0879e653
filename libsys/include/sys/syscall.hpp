// SPDX-License-Identifier: MIT
//
// Raw system calls (abi/syscalls.def). One inline function per call; all take and return the
// registers the ABI defines, so the compiler keeps message registers in registers.
#pragma once

#include <abi/message.hpp>
#include <abi/syscall.hpp>

#include <stdint.h>

namespace sys {

// The registers a system call reads and writes.
struct Regs {
  uint64_t cptr_or_badge;  // RDI
  uint64_t info;           // RSI
  uint64_t mr[abi::kMessageRegisters];  // RDX, R8, R9, R10
};

// Any number, including ones the kernel does not know (tests of unknown system calls): returns
// RAX as the kernel (or a fault handler emulating the call) left it.
inline uint64_t raw_syscall_number(uint64_t number, Regs& r) {
  register uint64_t r8 asm("r8") = r.mr[1];
  register uint64_t r9 asm("r9") = r.mr[2];
  register uint64_t r10 asm("r10") = r.mr[3];
  uint64_t rax = number;
  asm volatile("syscall"
               : "+a"(rax), "+D"(r.cptr_or_badge), "+S"(r.info), "+d"(r.mr[0]), "+r"(r8),
                 "+r"(r9), "+r"(r10)
               :
               : "rcx", "r11", "memory");
  r.mr[1] = r8;
  r.mr[2] = r9;
  r.mr[3] = r10;
  return rax;
}

inline void raw_syscall(abi::Syscall number, Regs& r) {
  (void)raw_syscall_number(static_cast<uint64_t>(number), r);
}

inline void yield() {
  Regs r{};
  raw_syscall(abi::Syscall::kYield, r);
}

// Debug system calls (dev and standard kernels).
inline void debug_putchar(char c) {
  Regs r{static_cast<uint8_t>(c), 0, {}};
  raw_syscall(abi::Syscall::kDebugPutChar, r);
}

// Writes the first `n` bytes of the calling thread's IPC buffer (from its start) to the console.
inline void debug_write_ipc_buffer(uint64_t n) {
  Regs r{0, n, {}};
  raw_syscall(abi::Syscall::kDebugWrite, r);
}

[[noreturn]] inline void debug_exit(uint64_t verdict) {
  Regs r{verdict, 0, {}};
  raw_syscall(abi::Syscall::kDebugExit, r);
  for (;;) {
    asm volatile("pause");
  }
}

}  // namespace sys
