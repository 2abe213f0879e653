// SPDX-License-Identifier: MIT
//
// A thread control block. Its first bytes are a small array of capability slots, so that the
// capabilities a thread runs with (its CSpace and VSpace roots, its IPC buffer frame, its reply
// capabilities) take part in the derivation tree like any other: revoking the object a thread
// uses removes the thread's copy as well, and destroying the thread deletes them.
#pragma once

#include <abi/object_type.hpp>

#include <kstd/types.hpp>

#include "object/slot.hpp"

namespace kernel {

enum TcbSlot : size_t {
  kTcbCSpaceSlot = 0,     // CSpace root (a CNode capability).
  kTcbVSpaceSlot = 1,     // VSpace root (a PML4 capability).
  kTcbIpcBufferSlot = 2,  // The frame holding the IPC buffer.
  kTcbReplySlot = 3,      // The master reply capability: the root of this thread's replies.
  kTcbCallerSlot = 4,     // The reply capability from the last Call this thread received.
  kTcbSlotCount = 5,
};

enum class ThreadState : uint8_t {
  kInactive = 0,  // Never started, suspended, or stopped after a fault without a handler.
  kRunnable,
  kBlockedOnSend,
  kBlockedOnReceive,
  kBlockedOnReply,
};

struct Tcb {
  Slot slots[kTcbSlotCount];
  ThreadState state;
};

static_assert(sizeof(Tcb) <= (uint64_t{1} << abi::kTcbBits));
// Zombies (delete.cpp) treat a TCB as an array of kTcbSlotCount slots at its start.
static_assert(kTcbSlotCount * sizeof(Slot) <= sizeof(Tcb));

// Sets up a freshly zeroed TCB at physical address `self`: installs its master reply capability.
void tcb_init(PhysAddr self);

// Stops a thread that is being destroyed: takes it off every queue and cancels its IPC.
void tcb_finalise(Tcb* tcb);

}  // namespace kernel
