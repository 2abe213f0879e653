// SPDX-License-Identifier: MIT
#include <kstd/utility.hpp>

#include <sys/ipc.hpp>
#include <sys/thread_block.hpp>

#include <abi/invocation.hpp>

#include <kstd/enforce.hpp>

namespace sys {
namespace {

using abi::MessageInfo;
using abi::Syscall;

// Loads `msg` into registers and the IPC buffer.
Regs load(uint64_t cptr, const Message& msg) {
  Regs r{};
  r.cptr_or_badge = cptr;
  uint64_t n = msg.length <= abi::kMaxMessageWords ? msg.length : abi::kMaxMessageWords + 1;
  r.info = MessageInfo::make(msg.label, n, msg.extra_caps).word;
  if (n > abi::kMaxMessageWords) {
    // Let the kernel refuse the oversized message; set the raw length it will check.
    r.info = (r.info & ~uint64_t{0x7F}) | (msg.length & 0x7F);
  }
  for (uint64_t i = 0; i < abi::kMessageRegisters && i < msg.length; ++i) {
    r.mr[i] = msg.words[i];
  }
  abi::IpcBuffer* buf = ipc_buffer();
  if (buf != nullptr) {
    for (uint64_t i = abi::kMessageRegisters; i < msg.length && i < abi::kMaxMessageWords; ++i) {
      buf->msg[i] = msg.words[i];
    }
    for (uint64_t i = 0; i < msg.extra_caps && i < abi::kMaxExtraCaps; ++i) {
      buf->caps_or_badges[i] = msg.caps[i];
    }
  }
  return r;
}

// Reads a returned info and message back from registers and the IPC buffer.
abi::Status store(const Regs& r, Message& msg) {
  MessageInfo info{r.info};
  if (info.is_error()) {
    msg.status = static_cast<abi::Status>(info.label());
    msg.length = 0;
    return msg.status;
  }
  msg.status = abi::Status::kOk;
  msg.label = info.label();
  msg.length = info.length();
  msg.extra_caps = info.extra_caps();
  msg.unwrapped = info.unwrapped();
  msg.badge = r.cptr_or_badge;
  for (uint64_t i = 0; i < abi::kMessageRegisters && i < msg.length; ++i) {
    msg.words[i] = r.mr[i];
  }
  abi::IpcBuffer* buf = ipc_buffer();
  if (buf != nullptr) {
    for (uint64_t i = abi::kMessageRegisters; i < msg.length; ++i) {
      msg.words[i] = buf->msg[i];
    }
    for (uint64_t i = 0; i < msg.extra_caps; ++i) {
      msg.caps[i] = buf->caps_or_badges[i];
    }
  }
  return abi::Status::kOk;
}

abi::Status status_of(const Regs& r) {
  MessageInfo info{r.info};
  return info.is_error() ? static_cast<abi::Status>(info.label()) : abi::Status::kOk;
}

}  // namespace

abi::IpcBuffer* ipc_buffer() { return thread_block()->ipc; }
void set_ipc_buffer(abi::IpcBuffer* buf) { thread_block()->ipc = buf; }

Message Message::make(uint64_t label, kstd::initializer_list<uint64_t> words) {
  Message m;
  m.label = label;
  for (uint64_t w : words) {
    m.words[m.length++] = w;
  }
  return m;
}

void set_receive_slot(uint64_t cnode, uint64_t index, uint64_t depth) {
  abi::IpcBuffer* buf = ipc_buffer();
  buf->receive_cnode = cnode;
  buf->receive_index = index;
  buf->receive_depth = depth;
}

abi::Status call(uint64_t ep, Message& msg) {
  Regs r = load(ep, msg);
  raw_syscall(Syscall::kCall, r);
  return store(r, msg);
}

abi::Status send(uint64_t ep, const Message& msg) {
  Regs r = load(ep, msg);
  raw_syscall(Syscall::kSend, r);
  return status_of(r);
}

abi::Status nb_send(uint64_t ep, const Message& msg) {
  Regs r = load(ep, msg);
  raw_syscall(Syscall::kNBSend, r);
  return status_of(r);
}

abi::Status recv(uint64_t ep, Message& msg) {
  Regs r{};
  r.cptr_or_badge = ep;
  raw_syscall(Syscall::kRecv, r);
  return store(r, msg);
}

abi::Status nb_recv(uint64_t ep, Message& msg) {
  Regs r{};
  r.cptr_or_badge = ep;
  raw_syscall(Syscall::kNBRecv, r);
  return store(r, msg);
}

abi::Status reply(const Message& msg) {
  Regs r = load(0, msg);
  raw_syscall(Syscall::kReply, r);
  return status_of(r);
}

abi::Status reply_recv(uint64_t ep, Message& msg) {
  Regs r = load(ep, msg);
  raw_syscall(Syscall::kReplyRecv, r);
  return store(r, msg);
}

void install_thread_block(ThreadBlock* block, uint64_t tcb, abi::IpcBuffer* ipc) {
  block->self = block;
  block->ipc = ipc;
  block->tcb = tcb;
  Regs r{};
  r.cptr_or_badge = tcb;
  r.info = MessageInfo::make(static_cast<uint64_t>(abi::Label::kTcbSetFsBase), 1).word;
  r.mr[0] = reinterpret_cast<uint64_t>(block);
  raw_syscall(Syscall::kCall, r);
}

}  // namespace sys
