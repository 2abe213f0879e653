// SPDX-License-Identifier: MIT
#include "object/endpoint.hpp"

#include "core/sched.hpp"
#include "ipc/message.hpp"
#include "object/irq.hpp"
#include "object/tcb.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

void endpoint_append(Endpoint* ep, Tcb* t) {
  t->ep_next = nullptr;
  t->ep_prev = ep->tail;
  if (ep->tail != nullptr) {
    ep->tail->ep_next = t;
  } else {
    ep->head = t;
  }
  ep->tail = t;
}

void endpoint_remove(Endpoint* ep, Tcb* t) {
  if (t->ep_prev != nullptr) {
    t->ep_prev->ep_next = t->ep_next;
  } else {
    ep->head = t->ep_next;
  }
  if (t->ep_next != nullptr) {
    t->ep_next->ep_prev = t->ep_prev;
  } else {
    ep->tail = t->ep_prev;
  }
  t->ep_next = t->ep_prev = nullptr;
}

void endpoint_cancel_all(Endpoint* ep) {
  while (ep->head != nullptr) {
    Tcb* t = ep->head;
    endpoint_remove(ep, t);
    t->blocked_on = nullptr;
    if (t->fault != FaultKind::kNone) {
      // A thread that was delivering a fault has nobody left to handle it.
      t->fault = FaultKind::kNone;
      t->state = ThreadState::kInactive;
      continue;
    }
    set_error(t, abi::Status::kDeleted);
    this_scheduler().wake(t);
  }
  ep->state = EndpointState::kIdle;
  for (uint32_t line = 0; line < kIrqLines; ++line) {
    IrqLine* l = irq_line(line);
    if (l->endpoint == ep) {
      irq_unbind(l);
    }
  }
}

}  // namespace kernel
