// SPDX-License-Identifier: MIT
#include "object/endpoint.hpp"

#include "object/tcb.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

void endpoint_cancel_all(Endpoint* ep) {
  ep->head = nullptr;
  ep->tail = nullptr;
  ep->state = EndpointState::kIdle;
}

}  // namespace kernel
