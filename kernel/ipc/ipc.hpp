// SPDX-License-Identifier: MIT
//
// The IPC state machine: send, receive, call, reply, fault delivery and cancellation, on
// threads and endpoints. Portable: the unit tests run it on TCBs in a host arena.
//
// Every function here acts for a thread `t` whose registers hold the system call's arguments
// (message info, message registers) and receive its results. When `t` blocks, its state and
// queue change and the scheduler picks someone else on the way out of the kernel; when a
// partner wakes, it becomes runnable with its results already in its registers.
#pragma once

#include <abi/message.hpp>
#include <abi/result.hpp>

#include <kstd/types.hpp>

#include "object/endpoint.hpp"
#include "object/tcb.hpp"

namespace kernel {

enum class Blocking { kNo, kYes };

struct SendOptions {
  uint64_t badge;
  bool can_grant;  // The capability used has the grant right: capabilities may go along.
  bool is_call;
  Blocking blocking;
};

// Checks a message `t` is about to send: its length, its capability count, and that words
// beyond the registers have an IPC buffer to come from. Errors: kInvalidMessage,
// kUnmappedBuffer, kInvalidCapability (capabilities without grant).
abi::Result<void> check_outgoing(Tcb* t, bool can_grant);

// Sends `t`'s message on `ep`. Without a waiting receiver: blocks (or, non-blocking, returns
// kTimedOut). A Call leaves `t` waiting for the reply.
abi::Result<void> send_ipc(Tcb* t, Endpoint* ep, const SendOptions& opts);

// Receives on `ep` for `t`. Without a waiting sender or pending interrupt: blocks (or returns
// kTimedOut). `can_grant`: the receiver's capability has the grant right, so the reply
// capability it gets for a Call may carry capabilities back (as in seL4).
abi::Result<void> receive_ipc(Tcb* t, Endpoint* ep, Blocking blocking, bool can_grant);

// Replies with `t`'s message to the thread whose Call `t` received. Errors: kNoReplyTarget.
abi::Result<void> reply_ipc(Tcb* t);

// Sends the fault recorded in `t` to its fault endpoint (looked up in its own CSpace) as a
// Call. Without a usable fault endpoint the thread stops and the event is logged.
void send_fault(Tcb* t);

// Stops whatever IPC `t` is blocked in (it is being suspended or destroyed). A thread that was
// blocked on send or receive returns kCancelled when it runs again.
void cancel_ipc(Tcb* t);

// A reply capability to `t` is being deleted without a reply: a Call returns kDeleted, a
// faulted thread stays stopped.
void reply_cap_deleted(Tcb* t);

// The flags a user may have: arithmetic flags, direction, trap and alignment check, with
// interrupts forced on and I/O privilege 0.
uint64_t sanitise_rflags(uint64_t rflags);

// Delivers an interrupt message to a receiver that is waiting on `ep`, if there is one.
// Returns false when none is waiting.
bool deliver_irq(Endpoint* ep, uint32_t line, uint64_t badge, uint64_t stamp);

}  // namespace kernel
