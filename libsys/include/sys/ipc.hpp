// SPDX-License-Identifier: MIT
//
// Messages and IPC: a thread's IPC buffer, and Call / Send / Recv / Reply on endpoints.
//
// A Message holds a label and up to kMaxMessageWords words. Words 0..3 travel in registers and
// the rest in the calling thread's IPC buffer; these functions move them between the Message
// and the buffer, so callers never touch registers.
#pragma once

#include <abi/message.hpp>
#include <abi/status.hpp>

#include <stddef.h>
#include <stdint.h>

#include <initializer_list>

#include <sys/syscall.hpp>

namespace sys {

// The calling thread's IPC buffer (set up by the start-up code or thread creation).
abi::IpcBuffer* ipc_buffer();
void set_ipc_buffer(abi::IpcBuffer* buf);

struct Message {
  uint64_t label = 0;
  uint64_t length = 0;      // Words used.
  uint64_t extra_caps = 0;  // Capabilities sent (cptrs in caps[]) or received.
  uint64_t unwrapped = 0;   // Bits of caps that arrived as badges (in caps[]).
  uint64_t badge = 0;       // Of the capability the message came through (received messages).
  uint64_t words[abi::kMaxMessageWords] = {};
  uint64_t caps[abi::kMaxExtraCaps] = {};

  // The status of a failed system call or invocation: the label of the returned info when the
  // call itself failed. kOk for a delivered message.
  abi::Status status = abi::Status::kOk;

  static Message make(uint64_t label, std::initializer_list<uint64_t> words);
};

// Where a received capability goes: (cnode cptr, index, depth); depth 0 receives none.
void set_receive_slot(uint64_t cnode, uint64_t index, uint64_t depth);

// Each returns the kernel's status for the system call itself (lookup, rights, message size).
// Received messages, replies and the badge land in `msg`.
abi::Status call(uint64_t ep, Message& msg);
abi::Status send(uint64_t ep, const Message& msg);
abi::Status nb_send(uint64_t ep, const Message& msg);
abi::Status recv(uint64_t ep, Message& msg);
abi::Status nb_recv(uint64_t ep, Message& msg);
abi::Status reply(const Message& msg);
abi::Status reply_recv(uint64_t ep, Message& msg);

}  // namespace sys
