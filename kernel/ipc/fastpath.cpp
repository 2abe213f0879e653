// SPDX-License-Identifier: MIT
//
// Written for speed: every helper is inlined, the checks come first and each one can only
// bail out, and the commit that follows cannot fail. What it does must equal what the general
// path does for the same call; the system tests run both ways (fastpath=0 on the command line).
//
// It is built without a frame pointer and may use every register without saving it
// (kernel/meson.build): the system call entry that calls it keeps nothing in registers.
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

// Whether `root` is a CNode capability whose guard and radix take all 64 bits of a cptr (how the
// root task and libsys lay out CSpaces) and whose guard `cptr` matches. Then resolve_cap finds
// the slot in one level, and so does this: `*slot`.
FASTPATH_INLINE bool single_level_slot(const Cap& root, uint64_t cptr, Slot** slot) {
  uint64_t w1 = root.word1();
  // guard_bits + radix == 64, tested modulo 64: both are below 64 and the radix is at least 1.
  DEBUG_ASSERT(root.type() != CapType::kCNode || root.cnode_radix() >= abi::kMinCNodeRadix);
  if (root.type() != CapType::kCNode || ((w1 + (w1 >> 6)) & 63) != 0) {
    return false;
  }
  uint64_t high = cptr >> (w1 & 63);
  *slot = &cnode_slots(root)[cptr ^ (high << (w1 & 63))];
  return high == root.cnode_guard();
}

// A message the fast path can carry: registers only, no capabilities (and not the error bit,
// which user space never sets on purpose).
FASTPATH_INLINE bool short_message(uint64_t info) {
  return (info & (abi::MessageInfo::kErrorBit | (3u << 7) | 0x7F)) <= abi::kMessageRegisters;
}

// Whether the address space of `t` can be entered as it is; then `*root` is its PML4. What
// vspace_root() says, written out so that it compiles to a handful of instructions.
FASTPATH_INLINE bool live_root(const Tcb* t, PhysAddr* root) {
  const Cap& vs = t->slots[kTcbVSpaceSlot].cap;
  if (vs.type() != CapType::kPml4 || !vs.pml4_has_asid()) {
    return false;
  }
  uint64_t asid = vs.pml4_asid();
  const AsidPool* pool = g_asid_pools[(asid >> kAsidBitsLow) & (abi::kAsidPools - 1)];
  if (pool == nullptr) {
    return false;
  }
  uint64_t entry = pool->entry[asid & (abi::kAsidPoolEntries - 1)];
  *root = vs.object();
  return ((entry ^ *root) & ~kAsidGenerationMask) == 0;
}

// The message registers and the message info the receiver sees: label and length, with the
// capability fields cleared, since no capability travels here (short_message has made sure
// the error bit and the count of extra capabilities are clear already).
FASTPATH_INLINE void copy_registers(const Tcb* from, Tcb* to, uint64_t badge) {
  constexpr uint64_t kKeep = ~(uint64_t{0x1F} << 7);
  to->context.rsi = from->context.rsi & kKeep;
  to->context.rdi = badge;
  to->context.rdx = from->context.rdx;
  to->context.r8 = from->context.r8;
  to->context.r9 = from->context.r9;
  to->context.r10 = from->context.r10;
}

// What setup_reply does when the receiver holds no reply capability: the reply capability goes
// into `dest` (empty), right after the caller's master slot, as mdb_insert_derived puts it. It
// is never revocable or first-badged, so its links carry no flags; it names what the master
// names (the caller's TCB) with all rights, so its first word is the master's.
FASTPATH_INLINE void link_reply(Slot* master, Slot* dest, bool can_grant) {
  DEBUG_ASSERT(master->cap == Cap::reply(master->cap.object(), true, master->cap.reply_can_grant()));
  uintptr_t master_next = master->mdb.next_bits();  // The next slot, and the master's flag.
  auto* next = reinterpret_cast<Slot*>(master_next & ~Slot::kFlagMask);
  dest->cap = master->cap.with_word1(Cap::reply(0, false, can_grant).word1());
  dest->mdb.set_prev_bits(reinterpret_cast<uintptr_t>(master));
  dest->mdb.set_next_bits(reinterpret_cast<uintptr_t>(next));
  if (next != nullptr) {
    next->set_prev(dest);
  }
  master->mdb.set_next_bits(reinterpret_cast<uintptr_t>(dest) | (master_next & Slot::kFlagMask));
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
  if (!short_message(t->context.rsi)) {
    return;
  }
  Slot* slot;
  if (!single_level_slot(t->slots[kTcbCSpaceSlot].cap, t->context.rdi, &slot)) {
    return;
  }
  const Cap ep_cap = slot->cap;
  if (!ep_cap.is(CapType::kEndpoint, Rights::kWrite | Rights::kGrantReply)) {
    return;
  }
  auto* ep = mem::phys_to<Endpoint>(ep_cap.object());
  if (ep->state != EndpointState::kReceiving) {
    return;
  }
  Tcb* dest = ep->head;
  // The receiver must outrank or match the caller (otherwise the scheduler decides), be able to
  // run, and have no unanswered caller to release first.
  PhysAddr root;
  if (!live_root(dest, &root) || dest->priority < t->priority || dest->fault != FaultKind::kNone ||
      !dest->slots[kTcbCallerSlot].empty()) {
    return;
  }
  // Committed: nothing below can fail.
  Tcb* next_waiter = dest->ep_next;
  ep->head = next_waiter;
  if (next_waiter == nullptr) [[likely]] {  // Most servers wait alone.
    ep->tail = nullptr;
    ep->state = EndpointState::kIdle;
  } else {
    next_waiter->ep_prev = nullptr;
  }
  dest->ep_next = nullptr;
  dest->blocked_on = nullptr;
  copy_registers(t, dest, ep_cap.badge());
  link_reply(&t->slots[kTcbReplySlot], &dest->slots[kTcbCallerSlot],
             (dest->ipc_flags & kIpcCanGrant) != 0);
  t->state = ThreadState::kBlockedOnReply;
  dest->state = ThreadState::kRunnable;
  x86::CpuLocal* cpu = x86::this_cpu();
  cpu->scheduler.set_current(dest);
  x86::fast_switch_to_user(cpu, dest, root);
}

extern "C" void fastpath_reply_recv(Tcb* t) {
  Slot* reply = &t->slots[kTcbCallerSlot];
  if (!short_message(t->context.rsi) || reply->empty()) {
    return;
  }
  Slot* slot;
  if (!single_level_slot(t->slots[kTcbCSpaceSlot].cap, t->context.rdi, &slot)) {
    return;
  }
  const Cap ep_cap = slot->cap;
  if (!ep_cap.is(CapType::kEndpoint, Rights::kRead)) {
    return;
  }
  auto* ep = mem::phys_to<Endpoint>(ep_cap.object());
  if (ep->state == EndpointState::kSending || ep->irq_head != nullptr) {
    return;
  }
  Tcb* caller = mem::phys_to<Tcb>(reply->cap.object());
  // The caller must be the best thread to run once this one blocks.
  x86::CpuLocal* cpu = x86::this_cpu();
  PhysAddr root;
  if (!live_root(caller, &root) || caller->state != ThreadState::kBlockedOnReply ||
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
