// SPDX-License-Identifier: MIT
//
// Reading and writing a thread's message: the message info in RSI, the badge in RDI, message
// registers 0..3 in RDX, R8, R9, R10, and the rest in the IPC buffer, which the kernel reaches
// through the thread's IPC buffer frame capability (never through user mappings).
#pragma once

#include <abi/message.hpp>
#include <abi/status.hpp>

#include <kstd/types.hpp>

#include "mem/phys.hpp"
#include "object/tcb.hpp"

namespace kernel {

// The thread's IPC buffer, or null when it has none (no frame capability configured).
inline abi::IpcBuffer* ipc_buffer_of(Tcb* t) {
  const Cap& frame = t->slots[kTcbIpcBufferSlot].cap;
  if (frame.type() != CapType::kFrame) {
    return nullptr;
  }
  return mem::phys_to<abi::IpcBuffer>(frame.object() + (t->ipc_buffer_vaddr & 0xFFF));
}

// Message register i of a thread (i < kMaxMessageWords). Registers for i < 4; the IPC buffer
// beyond (reads as 0 / writes are dropped when there is none).
uint64_t get_mr(Tcb* t, abi::IpcBuffer* buf, uint64_t i);
void set_mr(Tcb* t, abi::IpcBuffer* buf, uint64_t i, uint64_t v);

inline abi::MessageInfo get_info(const Tcb* t) { return {t->context.rsi}; }
inline void set_info(Tcb* t, abi::MessageInfo info) { t->context.rsi = info.word; }

// Completes the thread's system call with an error: the returned message info carries the
// status as its label and no words.
inline void set_error(Tcb* t, abi::Status s) {
  set_info(t, abi::MessageInfo::error(static_cast<uint64_t>(s)));
}

// How many words a thread can receive: all of them with an IPC buffer, the registers without.
inline uint64_t receivable_words(const abi::IpcBuffer* buf) {
  return buf != nullptr ? abi::kMaxMessageWords : abi::kMessageRegisters;
}

}  // namespace kernel
