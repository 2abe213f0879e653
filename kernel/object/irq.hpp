// SPDX-License-Identifier: MIT
//
// Interrupt lines as the kernel tracks them: a fixed table, one entry per I/O APIC input (not
// kernel objects: IRQ handler capabilities name a line number). A line bound to an endpoint
// delivers each interrupt as a message with the binding's badge; the kernel masks the line
// until the driver acknowledges through its handler capability.
#pragma once

#include <kstd/types.hpp>

namespace kernel {

struct Endpoint;

inline constexpr uint32_t kIrqLines = 24;

struct IrqLine {
  Endpoint* endpoint;  // Null: not bound.
  uint64_t badge;
  IrqLine* next_pending;
  uint8_t line;
  bool has_handler;  // An IRQ handler capability exists.
  bool pending;      // Queued on the endpoint, waiting for a receiver.
  uint64_t stamp;    // Time-stamp counter when the kernel took the last interrupt.
};

IrqLine* irq_line(uint32_t line);

// An interrupt arrived on `line` (already masked by the architecture code) at time-stamp
// counter value `stamp`.
void irq_fire(uint32_t line, uint64_t stamp);

// Removes a pending interrupt from its endpoint's queue, if it is on one.
void irq_unqueue(IrqLine* l);

// Unbinds a line (its handler capability went away, or Clear was invoked).
void irq_unbind(IrqLine* l);

// For unit tests.
void irq_reset_for_test();

}  // namespace kernel
