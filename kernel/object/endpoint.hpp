// SPDX-License-Identifier: MIT
//
// A synchronous IPC endpoint: one queue of threads, all waiting to send or all waiting to
// receive, plus the interrupts that arrived while nobody was receiving.
#pragma once

#include <abi/object_type.hpp>

#include <kstd/types.hpp>

namespace kernel {

struct Tcb;
struct IrqLine;

enum class EndpointState : uint8_t { kIdle = 0, kSending, kReceiving };

struct Endpoint {
  Tcb* head;
  Tcb* tail;
  IrqLine* irq_head;  // Interrupts waiting for a receiver, oldest first.
  IrqLine* irq_tail;
  EndpointState state;
};

static_assert(sizeof(Endpoint) <= (uint64_t{1} << abi::kEndpointBits));

// Appends / removes a thread (the endpoint's state is the caller's business).
void endpoint_append(Endpoint* ep, Tcb* t);
void endpoint_remove(Endpoint* ep, Tcb* t);

// Releases every thread queued on an endpoint that is being destroyed (their calls return
// kDeleted) and unbinds the interrupts that were delivered to it.
void endpoint_cancel_all(Endpoint* ep);

}  // namespace kernel
