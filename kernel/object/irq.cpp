// SPDX-License-Identifier: MIT
#include "object/irq.hpp"

#include "ipc/ipc.hpp"
#include "object/endpoint.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

IrqLine g_lines[kIrqLines];

}  // namespace

IrqLine* irq_line(uint32_t line) {
  IrqLine* l = &g_lines[line];
  l->line = static_cast<uint8_t>(line);
  return l;
}

void irq_unqueue(IrqLine* l) {
  if (!l->pending) {
    return;
  }
  Endpoint* ep = l->endpoint;
  IrqLine** link = &ep->irq_head;
  IrqLine* prev = nullptr;
  while (*link != nullptr && *link != l) {
    prev = *link;
    link = &(*link)->next_pending;
  }
  if (*link == l) {
    *link = l->next_pending;
    if (ep->irq_tail == l) {
      ep->irq_tail = prev;
    }
  }
  l->next_pending = nullptr;
  l->pending = false;
}

void irq_unbind(IrqLine* l) {
  if (l->endpoint != nullptr) {
    irq_unqueue(l);
  }
  l->endpoint = nullptr;
  l->badge = 0;
}

void irq_fire(uint32_t line, uint64_t stamp) {
  if (line >= kIrqLines) {
    return;
  }
  IrqLine* l = irq_line(line);
  Endpoint* ep = l->endpoint;
  if (ep == nullptr || l->pending) {
    return;  // Nobody listens (the line stays masked), or the last one is still queued.
  }
  l->stamp = stamp;
  if (deliver_irq(ep, line, l->badge, stamp)) {
    return;
  }
  l->pending = true;
  l->next_pending = nullptr;
  if (ep->irq_tail != nullptr) {
    ep->irq_tail->next_pending = l;
  } else {
    ep->irq_head = l;
  }
  ep->irq_tail = l;
}

void irq_reset_for_test() {
  for (IrqLine& l : g_lines) {
    l = IrqLine{};
  }
}

}  // namespace kernel
