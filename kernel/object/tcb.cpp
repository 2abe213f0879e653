// SPDX-License-Identifier: MIT
#include "object/tcb.hpp"

#include "mem/phys.hpp"
#include "object/mdb.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

void tcb_init(PhysAddr self) {
  Tcb* tcb = mem::phys_to<Tcb>(self);
  tcb->state = ThreadState::kInactive;
  mdb_insert_root(&tcb->slots[kTcbReplySlot], Cap::reply(self, true, true), true);
}

void tcb_finalise(Tcb* tcb) { tcb->state = ThreadState::kInactive; }

}  // namespace kernel
