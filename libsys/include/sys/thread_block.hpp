// SPDX-License-Identifier: MIT
//
// Per-thread data of programs built with libsys, reached through the FS base: the IPC buffer
// above all, which every system call with more than four words needs.
#pragma once

#include <abi/message.hpp>

#include <stdint.h>

namespace sys {

struct ThreadBlock {
  ThreadBlock* self;     // FS:0, as the x86_64 TLS ABI expects.
  abi::IpcBuffer* ipc;   // FS:8.
  uint64_t tcb;          // The thread's own TCB cptr (0 if unknown).
  void* user;            // For the program.
};

inline ThreadBlock* thread_block() {
  ThreadBlock* b;
  asm volatile("mov %%fs:0, %0" : "=r"(b));
  return b;
}

// Makes `block` the calling thread's (sets its FS base through its own TCB capability `tcb`).
// Uses only registers, so it works before the thread has an IPC buffer set up.
void install_thread_block(ThreadBlock* block, uint64_t tcb, abi::IpcBuffer* ipc);

}  // namespace sys
