// SPDX-License-Identifier: MIT
//
// Decoding invocations. A decoder checks every argument and every slot it will touch, and
// returns an error without changing anything when one is wrong; only then does it call the
// perform function of the object (kernel/object/), which cannot fail. A half-applied
// invocation is therefore impossible by construction.
#pragma once

#include <abi/invocation.hpp>
#include <abi/result.hpp>

#include <kstd/types.hpp>

#include "object/slot.hpp"

namespace kernel {

struct Tcb;

struct Invocation {
  static constexpr size_t kMaxReplyWords = 24;

  Tcb* caller = nullptr;  // The invoking thread (null in unit tests that have none).
  Cap cspace_root;        // The invoker's CSpace root, for cptr arguments.
  uint64_t label;        // The method.
  const uint64_t* args;  // Message words.
  size_t length;         // Number of message words available.
  uint64_t reply[kMaxReplyWords] = {};
  size_t reply_length = 0;
};

// Invokes the capability in `target` (already resolved and non-empty).
abi::Result<void> invoke(Slot* target, Invocation& inv);

// Per-object decoders, called by invoke() after the label is known to suit the capability type
// and the message to hold the label's arguments.
abi::Result<void> decode_cnode(Slot* target, Invocation& inv);
abi::Result<void> decode_untyped(Slot* target, Invocation& inv);
abi::Result<void> decode_asid_control(Slot* target, Invocation& inv);
abi::Result<void> decode_asid_pool(Slot* target, Invocation& inv);
abi::Result<void> decode_tcb(Slot* target, Invocation& inv);
abi::Result<void> decode_frame(Slot* target, Invocation& inv);
abi::Result<void> decode_table(Slot* target, Invocation& inv);
abi::Result<void> decode_irq_control(Slot* target, Invocation& inv);
abi::Result<void> decode_irq_handler(Slot* target, Invocation& inv);
abi::Result<void> decode_ioport_control(Slot* target, Invocation& inv);

// Helpers shared by the decoders.

// A cptr argument: resolved in the invoker's CSpace; the slot must hold a capability.
abi::Result<Slot*> lookup_cap_arg(const Invocation& inv, uint64_t cptr);

// A cptr argument that must name a capability of `type`.
abi::Result<Slot*> lookup_typed_arg(const Invocation& inv, uint64_t cptr, CapType type);

// An (index, depth) pair relative to the CNode capability `root`.
abi::Result<Slot*> lookup_slot_arg(const Cap& root, uint64_t index, uint64_t depth);

}  // namespace kernel
