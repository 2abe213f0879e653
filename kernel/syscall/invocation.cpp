// SPDX-License-Identifier: MIT
#include "syscall/invocation.hpp"

#include "object/cspace.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

abi::Result<Slot*> lookup_cap_arg(const Invocation& inv, uint64_t cptr) {
  Slot* slot = TRY(resolve_cap(inv.cspace_root, cptr));
  if (slot->empty()) {
    return abi::err(abi::Status::kEmptySlot);
  }
  return slot;
}

abi::Result<Slot*> lookup_typed_arg(const Invocation& inv, uint64_t cptr, CapType type) {
  Slot* slot = TRY(lookup_cap_arg(inv, cptr));
  if (slot->cap.type() != type) {
    return abi::err(abi::Status::kInvalidCapability);
  }
  return slot;
}

abi::Result<Slot*> lookup_slot_arg(const Cap& root, uint64_t index, uint64_t depth) {
  return resolve_slot(root, index, depth);
}

abi::Result<void> invoke(Slot* target, Invocation& inv) {
  const abi::InvocationInfo* info = abi::find_invocation(inv.label);
  if (info == nullptr || info->cap_type != target->cap.type()) {
    return abi::err(abi::Status::kIllegalOperation);
  }
  if (inv.length < info->arguments) {
    return abi::err(abi::Status::kTruncatedMessage);
  }
  inv.reply_length = 0;
  switch (target->cap.type()) {
    case CapType::kCNode: return decode_cnode(target, inv);
    case CapType::kUntyped: return decode_untyped(target, inv);
    case CapType::kAsidControl: return decode_asid_control(target, inv);
    case CapType::kAsidPool: return decode_asid_pool(target, inv);
    case CapType::kTcb: return decode_tcb(target, inv);
    case CapType::kFrame: return decode_frame(target, inv);
    case CapType::kPageTable:
    case CapType::kPageDirectory:
    case CapType::kPdpt: return decode_table(target, inv);
    case CapType::kIrqControl: return decode_irq_control(target, inv);
    case CapType::kIrqHandler: return decode_irq_handler(target, inv);
    case CapType::kIoPortControl: return decode_ioport_control(target, inv);
    default: return abi::err(abi::Status::kIllegalOperation);
  }
}

}  // namespace kernel
