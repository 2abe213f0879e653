// SPDX-License-Identifier: MIT
#include "object/delete.hpp"

#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "object/asid.hpp"
#include "object/cnode.hpp"
#include "ipc/ipc.hpp"
#include "object/endpoint.hpp"
#include "object/irq.hpp"
#include "object/mdb.hpp"
#include "object/tcb.hpp"
#include "object/vspace.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

enum ZombieKind : uint64_t { kZombieCNode = 0, kZombieTcb = 1 };

bool is_container(const Cap& cap) {
  return cap.type() == CapType::kCNode || cap.type() == CapType::kTcb;
}

// Object clean-up that happens whether or not the capability is the last one.
void finalise_any(const Cap& cap) {
  switch (cap.type()) {
    case CapType::kFrame:
      vspace_unmap(cap);  // Each frame capability records its own mapping.
      break;
    case CapType::kReply:
      if (!cap.reply_is_master()) {
        reply_cap_deleted(mem::phys_to<Tcb>(cap.object()));
      }
      break;
    case CapType::kIoPort: arch::io_ports_changed(nullptr); break;
    default: break;
  }
}

// Destroys a non-container object whose last capability is going away.
void finalise_last(const Cap& cap) {
  switch (cap.type()) {
    case CapType::kEndpoint: endpoint_cancel_all(mem::phys_to<Endpoint>(cap.object())); break;
    case CapType::kPageTable:
    case CapType::kPageDirectory:
    case CapType::kPdpt: vspace_unmap(cap); break;
    case CapType::kPml4:
      // The last capability may record a stale ASID (or none): release whatever ASID names
      // this address space now.
      if (auto asid = asid_of(cap.object()); asid) {
        asid_release(asid.value(), cap.object());
      }
      break;
    case CapType::kAsidPool: asid_remove_pool(cap.asid_pool_index()); break;
    case CapType::kIrqHandler: {
      IrqLine* l = irq_line(static_cast<uint32_t>(cap.irq()));
      irq_unbind(l);
      arch::mask_irq(l->line, true);
      l->has_handler = false;
      break;
    }
    default: break;
  }
}

// Turns the last capability to a container, in `slot`, into a zombie whose back link is
// `parent`. The slot leaves the derivation tree now: nothing may derive from a dying object.
void make_zombie(Slot* slot, Slot* parent) {
  Cap cap = slot->cap;
  uint64_t kind = kZombieCNode;
  uint64_t count = 0;
  if (cap.type() == CapType::kTcb) {
    Tcb* tcb = mem::phys_to<Tcb>(cap.object());
    tcb_finalise(tcb);
    // Reply capabilities elsewhere that lead back to this thread must go before it does.
    revoke_slot(&tcb->slots[kTcbReplySlot]);
    kind = kZombieTcb;
    count = kTcbSlotCount;
  } else {
    count = cnode_slot_count(cap);
  }
  mdb_remove(slot);
  slot->cap = Cap::zombie(cap.object(), kind, count);
  slot->set_prev(parent);
}

// Deletes a capability that either is not the last one or is the last one to a non-container.
void delete_leaf(Slot* slot) {
  finalise_any(slot->cap);
  if (is_final(*slot)) {
    finalise_last(slot->cap);
  }
  mdb_remove(slot);
}

// Runs the zombie chain started at `root` until it is gone.
void reduce_zombies(Slot* root) {
  Slot* current = root;
  while (current != nullptr) {
    Cap z = current->cap;
    uint64_t left = z.zombie_left();
    if (left == 0) {
      Slot* parent = current->prev();
      current->clear();
      current = parent;
      continue;
    }
    current->cap = z.with_zombie_left(left - 1);
    Slot* target = &mem::phys_to<Slot>(z.object())[left - 1];
    // An empty slot needs nothing; a zombie is an ancestor in this very chain (the container
    // holds a capability to an object still being destroyed) and is finished by its own turn.
    if (target->empty() || target->cap.type() == CapType::kZombie) {
      continue;
    }
    if (is_container(target->cap) && is_final(*target)) {
      make_zombie(target, current);
      current = target;
      continue;
    }
    delete_leaf(target);
  }
}

}  // namespace

void delete_slot(Slot* slot) {
  if (slot->empty()) {
    return;
  }
  if (slot->cap.type() == CapType::kZombie) {
    return;  // Already being destroyed by a chain further up.
  }
  if (is_container(slot->cap) && is_final(*slot)) {
    make_zombie(slot, nullptr);
    reduce_zombies(slot);
    return;
  }
  delete_leaf(slot);
}

void revoke_slot(Slot* slot) {
  while (!slot->empty() && has_children(*slot)) {
    delete_slot(slot->next());
  }
}

}  // namespace kernel
