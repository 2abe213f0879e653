// SPDX-License-Identifier: MIT
//
// Written for speed: every helper is inlined, the checks come first and each one can only
// bail out, and the commit that follows cannot fail. What it does must equal what the general
// path does for the same call; the system tests run both ways (fastpath=0 on the command line).
//
// Nothing on the way out calls a function that returns (the rare cases leave through
// leave_to_user_slow), so the success path needs no stack frame of its own.
#include "ipc/fastpath.hpp"

#include <abi/message.hpp>

#include "arch/x86_64/exit.hpp"
#include "core/sched.hpp"
#include "mem/phys.hpp"
#include "object/asid.hpp"
#include "object/cnode.hpp"
#include "object/endpoint.hpp"

#include <kstd/enforce.hpp>

#define FASTPATH_INLINE [[gnu::always_inline]] inline

namespace kernel {
namespace {

bool g_enabled = true;

// Whether `root` is a CNode capability whose guard and radix take all 64 bits of a cptr (how
// the root task and libsys lay out CSpaces) and whose guard `cptr` matches. Then the slot is
// `cnode_slots(root)[cptr & mask]`.
FASTPATH_INLINE bool single_level_match(const Cap& root, uint64_t cptr) {
  uint64_t radix = root.cnode_radix();
  return root.type() == CapType::kCNode && root.cnode_guard_bits() + radix == 64 &&
         (cptr >> radix) == root.cnode_guard();
}

FASTPATH_INLINE Slot* single_level_slot(const Cap& root, uint64_t cptr) {
  return &cnode_slots(root)[cptr & ~(~uint64_t{0} << root.cnode_radix())];
}

// A message the fast path can carry: registers only, no capabilities (and not the error bit,
// which user space never sets on purpose).
FASTPATH_INLINE bool short_message(uint64_t info) {
  return (info & (abi::MessageInfo::kErrorBit | (3u << 7) | 0x7F)) <= abi::kMessageRegisters;
}

// The PML4 to load for `t`, or 0 when its address space cannot be entered as it is: what
// vspace_root() says, written out so that it compiles to a handful of instructions.
FASTPATH_INLINE PhysAddr live_root(const Tcb* t) {
  const Cap& vs = t->slots[kTcbVSpaceSlot].cap;
  if (vs.type() != CapType::kPml4 || !vs.pml4_has_asid()) {
    return 0;
  }
  uint64_t asid = vs.pml4_asid();
  PhysAddr pool = g_asid_pools[(asid >> kAsidBitsLow) & (abi::kAsidPools - 1)];
  if (pool == 0) {
    return 0;
  }
  uint64_t entry = mem::phys_to<AsidPool>(pool)->entry[asid & (abi::kAsidPoolEntries - 1)];
  return ((entry ^ vs.object()) & ~kAsidGenerationMask) == 0 ? vs.object() : 0;
}

// The message registers and the message info the receiver sees (label and length; the caps
// fields are zero, since no capability travels here).
FASTPATH_INLINE void copy_registers(const Tcb* from, Tcb* to, uint64_t badge) {
  constexpr uint64_t kKeep = ~(abi::MessageInfo::kErrorBit | (uint64_t{0x1F} << 7));
  to->context.rsi = from->context.rsi & kKeep;
  to->context.rdi = badge;
  to->context.rdx = from->context.rdx;
  to->context.r8 = from->context.r8;
  to->context.r9 = from->context.r9;
  to->context.r10 = from->context.r10;
}

// What mdb_insert_derived does for a reply capability (never revocable, never first-badged,
// so the new node has no flags), inline: `dest` goes right after the caller's master slot.
FASTPATH_INLINE void link_reply(Slot* master, Slot* dest, const Cap& cap) {
  Slot* next = master->next();
  dest->cap = cap;
  dest->mdb.set_prev_bits(reinterpret_cast<uintptr_t>(master));
  dest->mdb.set_next_bits(reinterpret_cast<uintptr_t>(next));
  if (next != nullptr) {
    next->set_prev(dest);
  }
  master->set_next(dest);
}

// What mdb_remove does for a reply capability (it has no first-badged flag to pass on).
FASTPATH_INLINE void unlink_reply(Slot* s) {
  Slot* prev = s->prev();
  Slot* next = s->next();
  if (prev != nullptr) {
    prev->set_next(next);
  }
  if (next != nullptr) {
    next->set_prev(prev);
  }
  s->clear();
}

}  // namespace
}  // namespace kernel

using namespace kernel;

extern "C" void fastpath_call(Tcb* t) {
  const Cap& cspace = t->slots[kTcbCSpaceSlot].cap;
  uint64_t cptr = t->context.rdi;
  if (!short_message(t->context.rsi) || !single_level_match(cspace, cptr)) {
    return;
  }
  const Cap ep_cap = single_level_slot(cspace, cptr)->cap;
  if (ep_cap.type() != CapType::kEndpoint ||
      !ep_cap.rights().has(Rights::kWrite | Rights::kGrantReply)) {
    return;
  }
  auto* ep = mem::phys_to<Endpoint>(ep_cap.object());
  if (ep->state != EndpointState::kReceiving) {
    return;
  }
  Tcb* dest = ep->head;
  // The receiver must outrank or match the caller (otherwise the scheduler decides), be able to
  // run, and have no unanswered caller to release first.
  PhysAddr root = live_root(dest);
  if (root == 0 || dest->priority < t->priority || dest->fault != FaultKind::kNone ||
      !dest->slots[kTcbCallerSlot].empty()) {
    return;
  }
  // Committed: nothing below can fail.
  Tcb* next_waiter = dest->ep_next;
  ep->head = next_waiter;
  if (next_waiter == nullptr) {
    ep->tail = nullptr;
    ep->state = EndpointState::kIdle;
  } else {
    next_waiter->ep_prev = nullptr;
  }
  dest->ep_next = nullptr;
  dest->blocked_on = nullptr;
  copy_registers(t, dest, ep_cap.badge());
  link_reply(&t->slots[kTcbReplySlot], &dest->slots[kTcbCallerSlot],
             Cap::reply(mem::to_phys(t), false, (dest->ipc_flags & kIpcCanGrant) != 0));
  t->state = ThreadState::kBlockedOnReply;
  dest->state = ThreadState::kRunnable;
  x86::CpuLocal* cpu = x86::this_cpu();
  cpu->scheduler.set_current(dest);
  x86::fast_switch_to_user(cpu, dest, root);
}

extern "C" void fastpath_reply_recv(Tcb* t) {
  const Cap& cspace = t->slots[kTcbCSpaceSlot].cap;
  uint64_t cptr = t->context.rdi;
  Slot* reply = &t->slots[kTcbCallerSlot];
  if (!short_message(t->context.rsi) || reply->empty() || !single_level_match(cspace, cptr)) {
    return;
  }
  const Cap ep_cap = single_level_slot(cspace, cptr)->cap;
  if (ep_cap.type() != CapType::kEndpoint || !ep_cap.rights().has(Rights::kRead)) {
    return;
  }
  auto* ep = mem::phys_to<Endpoint>(ep_cap.object());
  if (ep->state == EndpointState::kSending || ep->irq_head != nullptr) {
    return;
  }
  Tcb* caller = mem::phys_to<Tcb>(reply->cap.object());
  // The caller must be the best thread to run once this one blocks.
  x86::CpuLocal* cpu = x86::this_cpu();
  PhysAddr root = live_root(caller);
  if (root == 0 || caller->state != ThreadState::kBlockedOnReply ||
      caller->fault != FaultKind::kNone || cpu->scheduler.ready_above(caller->priority)) {
    return;
  }
  // Committed: this thread waits on the endpoint, the reply goes to the caller.
  t->state = ThreadState::kBlockedOnReceive;
  t->blocked_on = ep;
  t->ipc_flags = ep_cap.rights().has(Rights::kGrant) ? kIpcCanGrant : 0;
  // endpoint_append, inline.
  Tcb* last = ep->tail;
  t->ep_next = nullptr;
  t->ep_prev = last;
  if (last != nullptr) {
    last->ep_next = t;
  } else {
    ep->head = t;
  }
  ep->tail = t;
  ep->state = EndpointState::kReceiving;
  unlink_reply(reply);
  copy_registers(t, caller, 0);
  caller->state = ThreadState::kRunnable;
  cpu->scheduler.set_current(caller);
  x86::fast_switch_to_user(cpu, caller, root);
}

namespace kernel {

bool fastpath_enabled() { return g_enabled; }
void set_fastpath_enabled(bool on) { g_enabled = on; }

}  // namespace kernel
