// SPDX-License-Identifier: MIT
//
// A synchronous IPC endpoint: a queue of threads waiting to send or to receive.
#pragma once

#include <abi/object_type.hpp>

#include <kstd/types.hpp>

namespace kernel {

struct Tcb;

enum class EndpointState : uint8_t { kIdle = 0, kSending, kReceiving };

struct Endpoint {
  Tcb* head;
  Tcb* tail;
  EndpointState state;
};

static_assert(sizeof(Endpoint) <= (uint64_t{1} << abi::kEndpointBits));

// Releases every thread queued on an endpoint that is being destroyed; each sees kDeleted.
void endpoint_cancel_all(Endpoint* ep);

}  // namespace kernel
