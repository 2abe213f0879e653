// SPDX-License-Identifier: MIT
//
// TCB invocations.
#include <abi/invocation.hpp>
#include <abi/message.hpp>
#include <abi/registers.hpp>

#include "core/sched.hpp"
#include "ipc/ipc.hpp"
#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "object/asid.hpp"
#include "object/delete.hpp"
#include "object/derive.hpp"
#include "object/mdb.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::Label;
using abi::Status;

Tcb* tcb_of(const Slot* s) { return mem::phys_to<Tcb>(s->cap.object()); }

bool canonical(uint64_t v) {
  uint64_t top = v >> 47;
  return top == 0 || top == 0x1FFFF;
}

// Replaces the capability in a TCB slot with a copy of `src` (or empties it when src is null).
void set_slot(Slot* dest, Slot* src, const Cap& cap) {
  delete_slot(dest);
  if (src != nullptr) {
    mdb_insert_derived(src, dest, cap);
  }
}

abi::Result<void> configure(Tcb* t, Invocation& inv) {
  const uint64_t* a = inv.args;
  Slot* cspace = nullptr;
  Cap cspace_cap;
  if (a[1] != 0) {
    cspace = TRY(lookup_typed_arg(inv, a[1], CapType::kCNode));
    cspace_cap = TRY(derive_cap(cspace->cap));
    uint64_t data = a[2];
    if (data != 0) {
      uint64_t guard_bits = data & 63;
      uint64_t guard = data >> 6;
      if (!Cap::valid_guard(guard, guard_bits, cspace_cap.cnode_radix())) {
        return abi::err(Status::kInvalidArgument);
      }
      cspace_cap = Cap::cnode(cspace_cap.object(), cspace_cap.cnode_radix(), guard_bits, guard);
    }
  }
  Slot* vspace = nullptr;
  if (a[3] != 0) {
    vspace = TRY(lookup_typed_arg(inv, a[3], CapType::kPml4));
    if (!pml4_asid_live(vspace->cap)) {
      return abi::err(Status::kInvalidCapability);
    }
  }
  uint64_t buffer_vaddr = a[4];
  Slot* buffer = nullptr;
  if (a[5] != 0) {
    buffer = TRY(lookup_typed_arg(inv, a[5], CapType::kFrame));
    if (buffer->cap.frame_size() != 0 ||
        !buffer->cap.rights().has(Rights::kRead | Rights::kWrite)) {
      return abi::err(Status::kInvalidCapability);
    }
    if (buffer_vaddr % abi::kIpcBufferAlign != 0) {
      return abi::err(Status::kAlignmentError);
    }
    if (buffer_vaddr >= abi::kUserTop) {
      return abi::err(Status::kInvalidArgument);
    }
  }
  if (t == inv.caller) {
    return abi::err(Status::kIllegalOperation);  // The running thread's roots cannot change.
  }
  // Everything checked: now replace the thread's capabilities.
  t->fault_ep_cptr = a[0];
  set_slot(&t->slots[kTcbCSpaceSlot], cspace, cspace_cap);
  set_slot(&t->slots[kTcbVSpaceSlot], vspace, vspace != nullptr ? vspace->cap : Cap());
  set_slot(&t->slots[kTcbIpcBufferSlot], buffer,
           buffer != nullptr ? buffer->cap.without_mapping() : Cap());
  t->ipc_buffer_vaddr = buffer != nullptr ? buffer_vaddr : 0;
  return {};
}

abi::Result<uint8_t> priority_arg(Invocation& inv) {
  Slot* auth = TRY(lookup_typed_arg(inv, inv.args[0], CapType::kTcb));
  uint64_t prio = inv.args[1];
  if (prio > 255 || prio > tcb_of(auth)->mcp) {
    return abi::err(Status::kRangeError);
  }
  return static_cast<uint8_t>(prio);
}

void set_priority(Tcb* t, uint8_t prio) {
  Scheduler& s = this_scheduler();
  bool queued = t->in_ready_queue != 0;
  if (queued) {
    s.remove(t);
  }
  t->priority = prio;
  if (queued) {
    s.wake(t);
  }
}

uint64_t* register_slot(UserContext& c, uint64_t index) {
  switch (index) {
    case abi::kRegRip: return &c.rip;
    case abi::kRegRsp: return &c.rsp;
    case abi::kRegRflags: return &c.rflags;
    case abi::kRegRax: return &c.rax;
    case abi::kRegRbx: return &c.rbx;
    case abi::kRegRcx: return &c.rcx;
    case abi::kRegRdx: return &c.rdx;
    case abi::kRegRsi: return &c.rsi;
    case abi::kRegRdi: return &c.rdi;
    case abi::kRegRbp: return &c.rbp;
    case abi::kRegR8: return &c.r8;
    case abi::kRegR9: return &c.r9;
    case abi::kRegR10: return &c.r10;
    case abi::kRegR11: return &c.r11;
    case abi::kRegR12: return &c.r12;
    case abi::kRegR13: return &c.r13;
    case abi::kRegR14: return &c.r14;
    default: return &c.r15;
  }
}

void suspend(Tcb* t) {
  cancel_ipc(t);
  t->state = ThreadState::kInactive;
  this_scheduler().remove(t);
}

abi::Result<void> check_resumable(const Tcb* t) {
  if (t->state == ThreadState::kInactive &&
      (t->slots[kTcbCSpaceSlot].empty() || t->slots[kTcbVSpaceSlot].empty())) {
    return abi::err(Status::kIllegalOperation);
  }
  return {};
}

abi::Result<void> resume(Tcb* t) {
  TRY(check_resumable(t));
  if (t->state == ThreadState::kInactive) {
    this_scheduler().wake(t);
  }
  return {};
}

abi::Result<void> read_registers(Tcb* t, Invocation& inv) {
  uint64_t count = inv.args[1];
  if (count == 0 || count > abi::kRegisterCount || count > Invocation::kMaxReplyWords) {
    return abi::err(Status::kRangeError);
  }
  if (t == inv.caller) {
    return abi::err(Status::kIllegalOperation);
  }
  if (inv.args[0] != 0) {
    suspend(t);
  }
  for (uint64_t i = 0; i < count; ++i) {
    inv.reply[i] = i == abi::kRegFsBase ? t->fs_base : *register_slot(t->context, i);
  }
  inv.reply_length = count;
  return {};
}

abi::Result<void> write_registers(Tcb* t, Invocation& inv) {
  uint64_t count = inv.args[1];
  if (count == 0 || count > abi::kRegisterCount) {
    return abi::err(Status::kRangeError);
  }
  if (inv.length < 2 + count) {
    return abi::err(Status::kTruncatedMessage);
  }
  if (t == inv.caller) {
    return abi::err(Status::kIllegalOperation);
  }
  const uint64_t* v = inv.args + 2;
  if ((count > abi::kRegRip && v[abi::kRegRip] >= abi::kUserTop) ||
      (count > abi::kRegRsp && v[abi::kRegRsp] >= abi::kUserTop) ||
      (count > abi::kRegFsBase && !canonical(v[abi::kRegFsBase]))) {
    return abi::err(Status::kInvalidArgument);
  }
  if (inv.args[0] != 0) {
    TRY(check_resumable(t));  // Fail before anything is written.
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (i == abi::kRegFsBase) {
      t->fs_base = v[i];
    } else {
      *register_slot(t->context, i) = v[i];
    }
  }
  arch::fs_base_changed(t);
  t->context.rflags = sanitise_rflags(t->context.rflags);
  t->context.vector = kEntryFullRestore;  // RCX and R11 matter now: leave through iretq.
  if (inv.args[0] != 0) {
    TRY(resume(t));
  }
  return {};
}

abi::Result<void> bind_ioport(Tcb* t, Invocation& inv) {
  uint64_t index = inv.args[0];
  if (index >= kTcbIoPortSlots) {
    return abi::err(Status::kRangeError);
  }
  Slot* src = nullptr;
  if (inv.args[1] != 0) {
    src = TRY(lookup_typed_arg(inv, inv.args[1], CapType::kIoPort));
  }
  set_slot(&t->slots[kTcbIoPortSlot0 + index], src, src != nullptr ? src->cap : Cap());
  arch::io_ports_changed(t);
  return {};
}

}  // namespace

abi::Result<void> decode_tcb(Slot* target, Invocation& inv) {
  Tcb* t = tcb_of(target);
  switch (static_cast<Label>(inv.label)) {
    case Label::kTcbConfigure: return configure(t, inv);
    case Label::kTcbSetPriority: {
      uint8_t prio = TRY(priority_arg(inv));
      set_priority(t, prio);
      return {};
    }
    case Label::kTcbSetMcPriority: {
      uint8_t mcp = TRY(priority_arg(inv));
      t->mcp = mcp;
      return {};
    }
    case Label::kTcbReadRegisters: return read_registers(t, inv);
    case Label::kTcbWriteRegisters: return write_registers(t, inv);
    case Label::kTcbResume: return resume(t);
    case Label::kTcbSuspend: suspend(t); return {};
    case Label::kTcbSetFsBase:
      if (!canonical(inv.args[0])) {
        return abi::err(Status::kInvalidArgument);
      }
      t->fs_base = inv.args[0];
      arch::fs_base_changed(t);
      return {};
    case Label::kTcbBindIoPort: return bind_ioport(t, inv);
    default: return abi::err(Status::kIllegalOperation);
  }
}

}  // namespace kernel
