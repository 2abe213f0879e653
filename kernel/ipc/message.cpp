// SPDX-License-Identifier: MIT
#include "ipc/message.hpp"

#include "mem/phys.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

uint64_t get_mr(Tcb* t, abi::IpcBuffer* buf, uint64_t i) {
  switch (i) {
    case 0: return t->context.rdx;
    case 1: return t->context.r8;
    case 2: return t->context.r9;
    case 3: return t->context.r10;
    default: return buf != nullptr ? buf->msg[i] : 0;
  }
}

void set_mr(Tcb* t, abi::IpcBuffer* buf, uint64_t i, uint64_t v) {
  switch (i) {
    case 0: t->context.rdx = v; break;
    case 1: t->context.r8 = v; break;
    case 2: t->context.r9 = v; break;
    case 3: t->context.r10 = v; break;
    default:
      if (buf != nullptr) {
        buf->msg[i] = v;
      }
      break;
  }
}

}  // namespace kernel
