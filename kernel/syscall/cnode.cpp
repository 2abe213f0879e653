// SPDX-License-Identifier: MIT
//
// CNode invocations: copy, mint, move, mutate, delete, revoke, describe.
#include <abi/invocation.hpp>

#include "object/cspace.hpp"
#include "object/delete.hpp"
#include "object/derive.hpp"
#include "object/mdb.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::Label;
using abi::Status;

// Applies the badge or guard in `data` to `cap`. `minting` is false for mutate, which may only
// change CNode guards.
abi::Result<Cap> apply_data(const Cap& cap, uint64_t data, bool minting) {
  switch (cap.type()) {
    case CapType::kEndpoint:
      if (data == 0) {
        return cap;
      }
      if (!minting || cap.badge() != 0) {
        return abi::err(Status::kIllegalOperation);  // A badge is set once, by mint.
      }
      return cap.with_word1(data);
    case CapType::kCNode: {
      uint64_t guard_bits = data & 63;
      uint64_t guard = data >> 6;
      if (!Cap::valid_guard(guard, guard_bits, cap.cnode_radix())) {
        return abi::err(Status::kInvalidArgument);
      }
      return Cap::cnode(cap.object(), cap.cnode_radix(), guard_bits, guard)
          .with_rights(cap.rights());
    }
    default:
      if (data != 0) {
        return abi::err(Status::kInvalidArgument);  // Nothing to badge.
      }
      return cap;
  }
}

struct SlotPair {
  Slot* dest;
  Slot* src;
};

// Arguments 0..4 of copy, mint, move and mutate: an empty destination relative to the invoked
// CNode and a full source relative to another.
abi::Result<SlotPair> lookup_pair(const Slot* target, const Invocation& inv) {
  Slot* dest = TRY(lookup_slot_arg(target->cap, inv.args[0], inv.args[1]));
  Slot* src_root = TRY(lookup_typed_arg(inv, inv.args[2], CapType::kCNode));
  Slot* src = TRY(lookup_slot_arg(src_root->cap, inv.args[3], inv.args[4]));
  if (src->empty()) {
    return abi::err(Status::kEmptySlot);
  }
  if (!dest->empty()) {
    return abi::err(Status::kDeleteFirst);
  }
  return SlotPair{dest, src};
}

abi::Result<Rights> rights_arg(uint64_t word) {
  if ((word & ~uint64_t{Rights::kAllBits}) != 0) {
    return abi::err(Status::kInvalidArgument);
  }
  return Rights{static_cast<uint8_t>(word)};
}

abi::Result<void> copy_or_mint(const Slot* target, const Invocation& inv, bool minting) {
  SlotPair p = TRY(lookup_pair(target, inv));
  Rights mask = TRY(rights_arg(inv.args[5]));
  Cap cap = TRY(derive_cap(p.src->cap));
  cap = cap.with_rights(cap.rights() & mask);
  if (minting) {
    cap = TRY(apply_data(cap, inv.args[6], true));
  }
  mdb_insert_derived(p.src, p.dest, cap);
  return {};
}

abi::Result<void> move_or_mutate(const Slot* target, const Invocation& inv, bool mutating) {
  SlotPair p = TRY(lookup_pair(target, inv));
  Cap cap = p.src->cap;
  if (cap.type() == CapType::kZombie) {
    return abi::err(Status::kIllegalOperation);
  }
  if (mutating) {
    cap = TRY(apply_data(cap, inv.args[5], false));
  }
  mdb_move(p.src, p.dest, cap);
  return {};
}

}  // namespace

abi::Result<void> decode_cnode(Slot* target, Invocation& inv) {
  switch (static_cast<Label>(inv.label)) {
    case Label::kCNodeCopy: return copy_or_mint(target, inv, false);
    case Label::kCNodeMint: return copy_or_mint(target, inv, true);
    case Label::kCNodeMove: return move_or_mutate(target, inv, false);
    case Label::kCNodeMutate: return move_or_mutate(target, inv, true);
    case Label::kCNodeDelete: {
      Slot* slot = TRY(lookup_slot_arg(target->cap, inv.args[0], inv.args[1]));
      delete_slot(slot);
      return {};
    }
    case Label::kCNodeRevoke: {
      Slot* slot = TRY(lookup_slot_arg(target->cap, inv.args[0], inv.args[1]));
      revoke_slot(slot);
      return {};
    }
    case Label::kCNodeDescribe: {
      Slot* slot = TRY(lookup_slot_arg(target->cap, inv.args[0], inv.args[1]));
      const Cap& c = slot->cap;
      inv.reply[0] = static_cast<uint64_t>(c.type());
      inv.reply[1] = c.rights().bits;
      inv.reply[2] = c.object();
      inv.reply[3] = c.word1();
      bool maps = c.type() == CapType::kFrame || c.type() == CapType::kPageTable ||
                  c.type() == CapType::kPageDirectory || c.type() == CapType::kPdpt;
      inv.reply[4] = maps && c.is_mapped() ? c.mapped_vaddr() : ~uint64_t{0};
      inv.reply_length = 5;
      return {};
    }
    default: return abi::err(Status::kIllegalOperation);
  }
}

}  // namespace kernel
