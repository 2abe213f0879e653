// SPDX-License-Identifier: MIT
#include "syscall/debug.hpp"

#include <abi/debug.hpp>
#include <abi/message.hpp>
#include <abi/syscall.hpp>

#include <kstd/utility.hpp>

#include "core/log.hpp"
#include "core/panic.hpp"
#include "ipc/message.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

bool handle_debug_syscall(Tcb* t, int64_t number) {
#if defined(KEEL_DEBUG_SYSCALLS)
  switch (static_cast<abi::Syscall>(number)) {
    case abi::Syscall::kDebugPutChar: {
      char c = static_cast<char>(t->context.rdi);
      console_write(&c, 1);
      break;
    }
    case abi::Syscall::kDebugWrite: {
      abi::IpcBuffer* buf = ipc_buffer_of(t);
      if (buf == nullptr) {
        set_error(t, abi::Status::kUnmappedBuffer);
        return true;
      }
      uint64_t n = kstd::min<uint64_t>(t->context.rsi, sizeof(abi::IpcBuffer));
      console_write(reinterpret_cast<const char*>(buf), n);
      break;
    }
    case abi::Syscall::kDebugNull: break;
    case abi::Syscall::kDebugExit:
      halt_machine(t->context.rdi == 0 ? abi::TestVerdict::kPass : abi::TestVerdict::kFail);
    default: return false;
  }
  set_info(t, abi::MessageInfo::make(0, 0));
  return true;
#else
  (void)t;
  (void)number;
  return false;
#endif
}

}  // namespace kernel
