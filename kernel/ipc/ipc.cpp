// SPDX-License-Identifier: MIT
#include "ipc/ipc.hpp"

#include <abi/fault.hpp>
#include <abi/registers.hpp>

#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include "core/log.hpp"
#include "core/sched.hpp"
#include "ipc/message.hpp"
#include "mem/phys.hpp"
#include "object/cspace.hpp"
#include "object/delete.hpp"
#include "object/derive.hpp"
#include "object/irq.hpp"
#include "object/mdb.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::MessageInfo;
using abi::Status;

constexpr uint64_t kOk = 0;

// --- message words and capabilities --------------------------------------------------------------

// Message words 0..n-1: the registers (get_mr and set_mr, written out), then the rest between
// the IPC buffers in one go.
void copy_words(const Tcb* from, const abi::IpcBuffer* fbuf, Tcb* to, abi::IpcBuffer* tbuf,
                uint64_t n) {
  static_assert(abi::kMessageRegisters == 4);
  const UserContext& s = from->context;
  UserContext& d = to->context;
  switch (kstd::min(n, abi::kMessageRegisters)) {
    case 4: d.r10 = s.r10; [[fallthrough]];
    case 3: d.r9 = s.r9; [[fallthrough]];
    case 2: d.r8 = s.r8; [[fallthrough]];
    case 1: d.rdx = s.rdx; [[fallthrough]];
    default: break;
  }
  if (n > abi::kMessageRegisters && fbuf != nullptr && tbuf != nullptr) {
    kstd::copy_words(&tbuf->msg[abi::kMessageRegisters], &fbuf->msg[abi::kMessageRegisters],
                     n - abi::kMessageRegisters);
  }
}

// The empty slot where `receiver` accepts a capability, or null.
Slot* receive_slot(Tcb* receiver, abi::IpcBuffer* rbuf) {
  if (rbuf == nullptr || rbuf->receive_depth == 0) {
    return nullptr;
  }
  const Cap& cspace = receiver->slots[kTcbCSpaceSlot].cap;
  auto node = resolve_cap(cspace, rbuf->receive_cnode);
  if (!node || node.value()->cap.type() != CapType::kCNode) {
    return nullptr;
  }
  auto slot = resolve_slot(node.value()->cap, rbuf->receive_index, rbuf->receive_depth);
  if (!slot || !slot.value()->empty()) {
    return nullptr;
  }
  return slot.value();
}

// Transfers up to `count` capabilities named in the sender's IPC buffer. A badged capability to
// the endpoint the message travels through arrives as its badge ("unwrapped"); any other goes
// into the receiver's single receive slot as a copy. Transfer stops at the first capability
// that cannot be delivered. Returns how many were delivered; `unwrapped` gets their bits.
uint64_t transfer_caps(Tcb* sender, abi::IpcBuffer* sbuf, Tcb* receiver, abi::IpcBuffer* rbuf,
                       const Endpoint* ep, uint64_t count, uint64_t* unwrapped) {
  *unwrapped = 0;
  if (sbuf == nullptr || rbuf == nullptr) {
    return 0;
  }
  const Cap& cspace = sender->slots[kTcbCSpaceSlot].cap;
  Slot* dest = receive_slot(receiver, rbuf);
  uint64_t done = 0;
  for (; done < count; ++done) {
    auto src = resolve_cap(cspace, sbuf->caps_or_badges[done]);
    if (!src || src.value()->empty()) {
      break;
    }
    const Cap& cap = src.value()->cap;
    if (ep != nullptr && cap.type() == CapType::kEndpoint &&
        cap.object() == mem::to_phys(ep) && cap.badge() != 0) {
      rbuf->caps_or_badges[done] = cap.badge();
      *unwrapped |= uint64_t{1} << done;
      continue;
    }
    auto derived = derive_cap(cap);
    if (dest == nullptr || !derived) {
      break;
    }
    mdb_insert_derived(src.value(), dest, derived.value());
    dest = nullptr;  // One receive slot per message.
  }
  return done;
}

// --- faults ------------------------------------------------------------------------------------

abi::KernelLabel fault_label(FaultKind k) {
  switch (k) {
    case FaultKind::kPageFault: return abi::KernelLabel::kPageFault;
    case FaultKind::kException: return abi::KernelLabel::kException;
    default: return abi::KernelLabel::kUnknownSyscall;
  }
}

// The fault message of `t`, as words in abi/fault.hpp order. Returns the word count.
uint64_t fault_words(const Tcb* t, uint64_t* w) {
  const UserContext& c = t->context;
  switch (t->fault) {
    case FaultKind::kPageFault:
      w[abi::kPfAddress] = t->fault_address;
      w[abi::kPfAccess] = t->fault_code;
      w[abi::kPfIp] = c.rip;
      return abi::kPfLength;
    case FaultKind::kException:
      w[abi::kExVector] = t->fault_vector;
      w[abi::kExErrorCode] = t->fault_code;
      w[abi::kExIp] = c.rip;
      w[abi::kExSp] = c.rsp;
      w[abi::kExFlags] = c.rflags;
      return abi::kExLength;
    default:
      w[abi::kUsRax] = c.rax;
      w[abi::kUsRdi] = c.rdi;
      w[abi::kUsRsi] = c.rsi;
      w[abi::kUsRdx] = c.rdx;
      w[abi::kUsR10] = c.r10;
      w[abi::kUsR8] = c.r8;
      w[abi::kUsR9] = c.r9;
      w[abi::kUsIp] = c.rip;
      w[abi::kUsSp] = c.rsp;
      w[abi::kUsFlags] = c.rflags;
      return abi::kUsLength;
  }
}

bool user_address(uint64_t v) { return v < abi::kUserTop; }

// Applies the registers in a fault reply (words in fault-message order; words that are not
// registers are ignored). Returns false when a value is unacceptable.
bool apply_fault_reply(Tcb* target, Tcb* replier, abi::IpcBuffer* rbuf, uint64_t n) {
  UserContext c = target->context;
  auto word = [&](uint64_t i) { return get_mr(replier, rbuf, i); };
  switch (target->fault) {
    case FaultKind::kPageFault:
      if (n > abi::kPfIp) {
        c.rip = word(abi::kPfIp);
      }
      break;
    case FaultKind::kException:
      if (n > abi::kExIp) c.rip = word(abi::kExIp);
      if (n > abi::kExSp) c.rsp = word(abi::kExSp);
      if (n > abi::kExFlags) c.rflags = word(abi::kExFlags);
      break;
    default: {
      uint64_t* regs[] = {&c.rax, &c.rdi, &c.rsi, &c.rdx, &c.r10,
                          &c.r8,  &c.r9,  &c.rip, &c.rsp, &c.rflags};
      for (uint64_t i = 0; i < n && i < abi::kUsLength; ++i) {
        *regs[i] = word(i);
      }
      break;
    }
  }
  if (!user_address(c.rip) || !user_address(c.rsp)) {
    return false;
  }
  c.rflags = sanitise_rflags(c.rflags);
  if (c.vector == kEntrySyscall) {
    // It leaves through SYSRETQ, which takes RIP and RFLAGS from RCX and R11 (exit.hpp).
    c.rcx = c.rip;
    c.r11 = c.rflags;
  }
  target->context = c;
  return true;
}

void stop_faulted(Tcb* t, const char* why) {
  uint64_t w[abi::kUsLength];
  fault_words(t, w);
  LOG_WARN("thread %#llx stopped (%s): %s fault, ip %#llx, word0 %#llx",
           static_cast<unsigned long long>(t->id), why,
           t->fault == FaultKind::kPageFault ? "page"
           : t->fault == FaultKind::kException ? "exception" : "unknown-syscall",
           static_cast<unsigned long long>(t->context.rip),
           static_cast<unsigned long long>(w[0]));
  t->fault = FaultKind::kNone;
  t->state = ThreadState::kInactive;
  this_scheduler().remove(t);
}

// --- transfer ----------------------------------------------------------------------------------

// Moves the message of `sender` (a user message, or its pending fault) to `receiver`.
void do_transfer(Tcb* sender, Tcb* receiver, const Endpoint* ep, uint64_t badge, uint8_t flags) {
  abi::IpcBuffer* rbuf = ipc_buffer_of(receiver);
  if ((flags & kIpcIsFault) != 0) {
    uint64_t w[abi::kUsLength];
    uint64_t n = kstd::min(fault_words(sender, w), receivable_words(rbuf));
    for (uint64_t i = 0; i < n; ++i) {
      set_mr(receiver, rbuf, i, w[i]);
    }
    set_info(receiver, MessageInfo::make(static_cast<uint64_t>(fault_label(sender->fault)), n));
  } else {
    MessageInfo info = get_info(sender);
    abi::IpcBuffer* sbuf = ipc_buffer_of(sender);
    // A blocked sender's buffer may have gone since it sent: then only its registers remain.
    uint64_t n = kstd::min(info.length(), kstd::min(receivable_words(rbuf),
                                                    receivable_words(sbuf)));
    copy_words(sender, sbuf, receiver, rbuf, n);
    uint64_t caps = 0;
    uint64_t unwrapped = 0;
    if (info.extra_caps() != 0 && (flags & kIpcCanGrant) != 0) {
      caps = transfer_caps(sender, sbuf, receiver, rbuf, ep, info.extra_caps(), &unwrapped);
    }
    set_info(receiver, MessageInfo::make(info.label(), n, caps, unwrapped));
  }
  receiver->context.rdi = badge;
}

// `caller` made a Call (or faulted) that `receiver` has taken: the receiver gets the one-shot
// reply capability, the caller waits for the answer.
void setup_reply(Tcb* caller, Tcb* receiver, bool can_grant) {
  Slot* slot = &receiver->slots[kTcbCallerSlot];
  delete_slot(slot);  // An unanswered earlier caller is released with kDeleted.
  PhysAddr caller_phys = mem::to_phys(caller);
  mdb_insert_derived(&caller->slots[kTcbReplySlot], slot,
                     Cap::reply(caller_phys, false, can_grant));
  caller->state = ThreadState::kBlockedOnReply;
  this_scheduler().remove(caller);
}

void block(Tcb* t, Endpoint* ep, ThreadState state, EndpointState ep_state) {
  t->state = state;
  t->blocked_on = ep;
  this_scheduler().remove(t);
  endpoint_append(ep, t);
  ep->state = ep_state;
}

Tcb* take_head(Endpoint* ep) {
  Tcb* t = ep->head;
  endpoint_remove(ep, t);
  t->blocked_on = nullptr;
  return t;
}

void deliver_irq_to(Tcb* t, uint32_t line, uint64_t badge, uint64_t stamp) {
  abi::IpcBuffer* buf = ipc_buffer_of(t);
  set_mr(t, buf, 0, line);
  set_mr(t, buf, 1, stamp);
  set_info(t, MessageInfo::make(static_cast<uint64_t>(abi::KernelLabel::kIrq), abi::kIrqLength));
  t->context.rdi = badge;
}

// A thread whose system call is cancelled returns kCancelled from it. A thread stopped by a
// fault was not in a system call: its registers stay as they were, and it runs the faulting
// instruction again when resumed.
void cancelled_result(Tcb* t) {
  if (t->fault == FaultKind::kNone) {
    set_error(t, Status::kCancelled);
  }
}

}  // namespace

uint64_t sanitise_rflags(uint64_t rflags) {
  // Keep the arithmetic flags, direction, trap (single-step debugging) and alignment check;
  // interrupts stay enabled and I/O privilege stays 0.
  constexpr uint64_t kUserMask = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 |
                                 0x40000;
  return (rflags & kUserMask) | 0x200 | 0x2;
}

abi::Result<void> check_outgoing(Tcb* t, bool can_grant) {
  MessageInfo info = get_info(t);
  if (info.length() > abi::kMaxMessageWords) {
    return abi::err(Status::kInvalidMessage);
  }
  if (info.extra_caps() > 0 && !can_grant) {
    return abi::err(Status::kInvalidCapability);
  }
  if ((info.length() > abi::kMessageRegisters || info.extra_caps() > 0) &&
      ipc_buffer_of(t) == nullptr) {
    return abi::err(Status::kUnmappedBuffer);
  }
  return {};
}

abi::Result<void> send_ipc(Tcb* t, Endpoint* ep, const SendOptions& opts) {
  uint8_t flags = static_cast<uint8_t>((opts.is_call ? kIpcIsCall : 0) |
                                       (opts.can_grant ? kIpcCanGrant : 0) |
                                       (t->fault != FaultKind::kNone ? kIpcIsFault : 0));
  if (ep->state == EndpointState::kReceiving) {
    Tcb* r = take_head(ep);
    if (ep->head == nullptr) {
      ep->state = EndpointState::kIdle;
    }
    do_transfer(t, r, ep, opts.badge, flags);
    if ((flags & (kIpcIsCall | kIpcIsFault)) != 0) {
      setup_reply(t, r, (r->ipc_flags & kIpcCanGrant) != 0);
      this_scheduler().wake(r, true);
    } else {
      set_info(t, MessageInfo::make(kOk, 0));
      this_scheduler().wake(r, false);
    }
    return {};
  }
  if (opts.blocking == Blocking::kNo) {
    return abi::err(Status::kTimedOut);
  }
  t->ipc_badge = opts.badge;
  t->ipc_flags = flags;
  block(t, ep, ThreadState::kBlockedOnSend, EndpointState::kSending);
  return {};
}

abi::Result<void> receive_ipc(Tcb* t, Endpoint* ep, Blocking blocking, bool can_grant) {
  if (IrqLine* l = ep->irq_head; l != nullptr) {
    irq_unqueue(l);
    deliver_irq_to(t, l->line, l->badge, l->stamp);
    return {};
  }
  if (ep->state == EndpointState::kSending) {
    Tcb* s = take_head(ep);
    if (ep->head == nullptr) {
      ep->state = EndpointState::kIdle;
    }
    do_transfer(s, t, ep, s->ipc_badge, s->ipc_flags);
    if ((s->ipc_flags & (kIpcIsCall | kIpcIsFault)) != 0) {
      setup_reply(s, t, can_grant);
    } else {
      set_info(s, MessageInfo::make(kOk, 0));
      this_scheduler().wake(s, false);
    }
    return {};
  }
  if (blocking == Blocking::kNo) {
    return abi::err(Status::kTimedOut);
  }
  t->ipc_flags = can_grant ? kIpcCanGrant : 0;  // Kept for the reply capability it may get.
  block(t, ep, ThreadState::kBlockedOnReceive, EndpointState::kReceiving);
  return {};
}

abi::Result<void> reply_ipc(Tcb* t) {
  Slot* slot = &t->slots[kTcbCallerSlot];
  if (slot->empty()) {
    return abi::err(Status::kNoReplyTarget);
  }
  Tcb* caller = mem::phys_to<Tcb>(slot->cap.object());
  bool can_grant = slot->cap.reply_can_grant();
  if (caller->fault != FaultKind::kNone) {
    MessageInfo info = get_info(t);
    bool resume = info.label() == abi::kFaultResume &&
                  apply_fault_reply(caller, t, ipc_buffer_of(t), info.length());
    mdb_remove(slot);
    if (!resume) {
      stop_faulted(caller, info.label() == abi::kFaultStop ? "its fault handler stopped it"
                                                           : "bad registers in fault reply");
      return {};
    }
    caller->fault = FaultKind::kNone;
    this_scheduler().wake(caller);
    return {};
  }
  do_transfer(t, caller, nullptr, 0, can_grant ? kIpcCanGrant : 0);
  mdb_remove(slot);
  this_scheduler().wake(caller);
  return {};
}

void send_fault(Tcb* t) {
  const Cap& cspace = t->slots[kTcbCSpaceSlot].cap;
  auto slot = resolve_cap(cspace, t->fault_ep_cptr);
  if (t->fault_ep_cptr == 0 || !slot || slot.value()->cap.type() != CapType::kEndpoint ||
      !slot.value()->cap.rights().has(Rights::kWrite)) {
    stop_faulted(t, "no fault handler");
    return;
  }
  const Cap& cap = slot.value()->cap;
  SendOptions opts{cap.badge(), false, true, Blocking::kYes};
  (void)send_ipc(t, mem::phys_to<Endpoint>(cap.object()), opts);
}

void cancel_ipc(Tcb* t) {
  switch (t->state) {
    case ThreadState::kBlockedOnSend:
    case ThreadState::kBlockedOnReceive: {
      Endpoint* ep = t->blocked_on;
      endpoint_remove(ep, t);
      if (ep->head == nullptr) {
        ep->state = EndpointState::kIdle;
      }
      t->blocked_on = nullptr;
      cancelled_result(t);
      break;
    }
    case ThreadState::kBlockedOnReply:
      // Whoever holds the reply capability loses it; the caller is not woken by that.
      t->state = ThreadState::kInactive;
      revoke_slot(&t->slots[kTcbReplySlot]);
      cancelled_result(t);
      break;
    default: break;
  }
  t->fault = FaultKind::kNone;
  t->state = ThreadState::kInactive;
  this_scheduler().remove(t);
}

void reply_cap_deleted(Tcb* t) {
  if (t->state != ThreadState::kBlockedOnReply) {
    return;
  }
  if (t->fault != FaultKind::kNone) {
    stop_faulted(t, "its fault handler went away");
    return;
  }
  set_error(t, Status::kDeleted);
  this_scheduler().wake(t);
}

bool deliver_irq(Endpoint* ep, uint32_t line, uint64_t badge, uint64_t stamp) {
  if (ep->state != EndpointState::kReceiving) {
    return false;
  }
  Tcb* r = take_head(ep);
  if (ep->head == nullptr) {
    ep->state = EndpointState::kIdle;
  }
  deliver_irq_to(r, line, badge, stamp);
  this_scheduler().wake(r, false);
  return true;
}

}  // namespace kernel
