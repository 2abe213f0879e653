// SPDX-License-Identifier: MIT
#include "object/tcb.hpp"

#include "core/sched.hpp"
#include "ipc/ipc.hpp"
#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "object/mdb.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

void tcb_init(PhysAddr self) {
  Tcb* tcb = mem::phys_to<Tcb>(self);
  tcb->state = ThreadState::kInactive;
  tcb->time_slice = kTimeSliceTicks;
  tcb->id = self;
  arch::init_user_context(&tcb->context);
  tcb->context.vector = kEntryFullRestore;
  mdb_insert_root(&tcb->slots[kTcbReplySlot], Cap::reply(self, true, true), true);
}

void tcb_finalise(Tcb* tcb) {
  cancel_ipc(tcb);
  arch::thread_destroyed(tcb);
}

}  // namespace kernel
