// SPDX-License-Identifier: MIT
//
// IRQ control, IRQ handler and I/O port control invocations.
#include <abi/invocation.hpp>

#include "object/arch_hooks.hpp"
#include "object/endpoint.hpp"
#include "object/irq.hpp"
#include "object/mdb.hpp"
#include "mem/phys.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

using abi::Label;
using abi::Status;

namespace {

// Lines the kernel keeps: none among the I/O APIC inputs today (its timer is the local APIC's).
bool line_available(uint64_t line) { return line < kIrqLines; }

// Ports the kernel drives itself: the legacy PICs and the PIT.
bool ports_available(uint64_t first, uint64_t last) {
  struct Range {
    uint64_t first, last;
  };
  constexpr Range kKernelPorts[] = {{0x20, 0x21}, {0x40, 0x43}, {0xA0, 0xA1}};
  for (const Range& r : kKernelPorts) {
    if (first <= r.last && r.first <= last) {
      return false;
    }
  }
  return true;
}

abi::Result<Slot*> empty_dest(Invocation& inv, const uint64_t* a) {
  Slot* root = TRY(lookup_typed_arg(inv, a[0], CapType::kCNode));
  Slot* dest = TRY(lookup_slot_arg(root->cap, a[1], a[2]));
  if (!dest->empty()) {
    return abi::err(Status::kDeleteFirst);
  }
  return dest;
}

}  // namespace

abi::Result<void> decode_irq_control(Slot* target, Invocation& inv) {
  if (static_cast<Label>(inv.label) != Label::kIrqControlGet) {
    return abi::err(Status::kIllegalOperation);
  }
  uint64_t line = inv.args[0];
  if (!line_available(line)) {
    return abi::err(Status::kRangeError);
  }
  Slot* dest = TRY(empty_dest(inv, inv.args + 1));
  IrqLine* l = irq_line(static_cast<uint32_t>(line));
  if (l->has_handler) {
    return abi::err(Status::kRevokeFirst);
  }
  l->has_handler = true;
  mdb_insert_derived(target, dest, Cap::irq_handler(line));
  return {};
}

abi::Result<void> decode_irq_handler(Slot* target, Invocation& inv) {
  IrqLine* l = irq_line(static_cast<uint32_t>(target->cap.irq()));
  switch (static_cast<Label>(inv.label)) {
    case Label::kIrqHandlerAck: arch::mask_irq(l->line, false); return {};
    case Label::kIrqHandlerSetEndpoint: {
      Slot* ep = TRY(lookup_typed_arg(inv, inv.args[0], CapType::kEndpoint));
      if (!ep->cap.rights().has(Rights::kWrite)) {
        return abi::err(Status::kInvalidCapability);
      }
      irq_unbind(l);
      l->endpoint = mem::phys_to<Endpoint>(ep->cap.object());
      l->badge = ep->cap.badge();
      arch::mask_irq(l->line, false);
      return {};
    }
    case Label::kIrqHandlerClear:
      irq_unbind(l);
      arch::mask_irq(l->line, true);
      return {};
    default: return abi::err(Status::kIllegalOperation);
  }
}

abi::Result<void> decode_ioport_control(Slot* target, Invocation& inv) {
  if (static_cast<Label>(inv.label) != Label::kIoPortControlIssue) {
    return abi::err(Status::kIllegalOperation);
  }
  uint64_t first = inv.args[0];
  uint64_t last = inv.args[1];
  if (last < first || last > 0xFFFF || !ports_available(first, last)) {
    return abi::err(Status::kRangeError);
  }
  Slot* dest = TRY(empty_dest(inv, inv.args + 2));
  mdb_insert_derived(target, dest, Cap::ioport(first, last));
  return {};
}

}  // namespace kernel
