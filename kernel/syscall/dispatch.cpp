// SPDX-License-Identifier: MIT
#include "syscall/dispatch.hpp"

#include <abi/message.hpp>
#include <abi/syscall.hpp>

#include "core/sched.hpp"
#include "ipc/ipc.hpp"
#include "ipc/message.hpp"
#include "mem/phys.hpp"
#include "object/cspace.hpp"
#include "syscall/debug.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::MessageInfo;
using abi::Status;
using abi::Syscall;

// The capability a system call names in RDI.
abi::Result<Slot*> lookup_target(Tcb* t) {
  Slot* slot = TRY(resolve_cap(t->slots[kTcbCSpaceSlot].cap, t->context.rdi));
  if (slot->empty()) {
    return abi::err(Status::kEmptySlot);
  }
  return slot;
}

abi::Result<Endpoint*> endpoint_with(const Slot* slot, uint8_t rights) {
  if (slot->cap.type() != CapType::kEndpoint || !slot->cap.rights().has(rights)) {
    return abi::err(Status::kInvalidCapability);
  }
  return mem::phys_to<Endpoint>(slot->cap.object());
}

// A Call on anything but an endpoint: an invocation, answered at once.
abi::Result<void> do_invocation(Tcb* t, Slot* target) {
  MessageInfo info = get_info(t);
  if (info.length() > abi::kMaxMessageWords) {
    return abi::err(Status::kInvalidMessage);
  }
  abi::IpcBuffer* buf = ipc_buffer_of(t);
  if (info.length() > abi::kMessageRegisters && buf == nullptr) {
    return abi::err(Status::kUnmappedBuffer);
  }
  uint64_t args[abi::kMaxMessageWords];
  for (uint64_t i = 0; i < info.length(); ++i) {
    args[i] = get_mr(t, buf, i);
  }
  Invocation inv{};
  inv.caller = t;
  inv.cspace_root = t->slots[kTcbCSpaceSlot].cap;
  inv.label = info.label();
  inv.args = args;
  inv.length = info.length();
  TRY(invoke(target, inv));
  uint64_t n = inv.reply_length;
  if (n > abi::kMessageRegisters && buf == nullptr) {
    n = abi::kMessageRegisters;  // Without an IPC buffer only the registers come back.
  }
  for (uint64_t i = 0; i < n; ++i) {
    set_mr(t, buf, i, inv.reply[i]);
  }
  set_info(t, MessageInfo::make(0, n));
  return {};
}

abi::Result<void> do_call(Tcb* t) {
  Slot* target = TRY(lookup_target(t));
  if (target->cap.type() != CapType::kEndpoint) {
    return do_invocation(t, target);
  }
  Endpoint* ep = TRY(endpoint_with(target, Rights::kWrite | Rights::kGrantReply));
  bool grant = target->cap.rights().has(Rights::kGrant);
  TRY(check_outgoing(t, grant));
  return send_ipc(t, ep, {target->cap.badge(), grant, true, Blocking::kYes});
}

abi::Result<void> do_send(Tcb* t, Blocking blocking) {
  Slot* target = TRY(lookup_target(t));
  Endpoint* ep = TRY(endpoint_with(target, Rights::kWrite));
  bool grant = target->cap.rights().has(Rights::kGrant);
  TRY(check_outgoing(t, grant));
  return send_ipc(t, ep, {target->cap.badge(), grant, false, blocking});
}

abi::Result<void> do_recv(Tcb* t, Blocking blocking) {
  Slot* target = TRY(lookup_target(t));
  Endpoint* ep = TRY(endpoint_with(target, Rights::kRead));
  return receive_ipc(t, ep, blocking, target->cap.rights().has(Rights::kGrant));
}

abi::Result<void> do_reply(Tcb* t) {
  const Slot& caller = t->slots[kTcbCallerSlot];
  if (caller.empty()) {
    return abi::err(Status::kNoReplyTarget);
  }
  TRY(check_outgoing(t, caller.cap.reply_can_grant()));
  TRY(reply_ipc(t));
  set_info(t, MessageInfo::make(0, 0));
  return {};
}

abi::Result<void> do_reply_recv(Tcb* t) {
  Slot* target = TRY(lookup_target(t));
  Endpoint* ep = TRY(endpoint_with(target, Rights::kRead));
  const Slot& caller = t->slots[kTcbCallerSlot];
  if (!caller.empty()) {
    TRY(check_outgoing(t, caller.cap.reply_can_grant()));
    TRY(reply_ipc(t));
  }
  return receive_ipc(t, ep, Blocking::kYes, target->cap.rights().has(Rights::kGrant));
}

void unknown_syscall(Tcb* t) {
  t->fault = FaultKind::kUnknownSyscall;
  send_fault(t);
}

abi::Result<void> dispatch(Tcb* t, int64_t number) {
  switch (static_cast<Syscall>(number)) {
    case Syscall::kCall: return do_call(t);
    case Syscall::kReplyRecv: return do_reply_recv(t);
    case Syscall::kSend: return do_send(t, Blocking::kYes);
    case Syscall::kNBSend: return do_send(t, Blocking::kNo);
    case Syscall::kRecv: return do_recv(t, Blocking::kYes);
    case Syscall::kNBRecv: return do_recv(t, Blocking::kNo);
    case Syscall::kReply: return do_reply(t);
    case Syscall::kYield:
      this_scheduler().yield_current();
      set_info(t, MessageInfo::make(0, 0));
      return {};
    case Syscall::kDebugPutChar:
    case Syscall::kDebugExit:
    case Syscall::kDebugWrite:
    case Syscall::kDebugNull:
      if (!handle_debug_syscall(t, number)) {
        unknown_syscall(t);
      }
      return {};
  }
  unknown_syscall(t);
  return {};
}

}  // namespace

void handle_syscall(Tcb* t) {
  auto r = dispatch(t, static_cast<int64_t>(t->context.rax));
  if (!r) {
    set_error(t, r.error());
  }
}

void handle_user_fault(Tcb* t, FaultKind kind, uint64_t vector, uint64_t error_code,
                       uint64_t address) {
  t->fault = kind;
  t->fault_vector = vector;
  t->fault_code = error_code;
  t->fault_address = address;
  send_fault(t);
}

}  // namespace kernel
