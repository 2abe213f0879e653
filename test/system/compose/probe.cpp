// SPDX-License-Identifier: MIT
//
// A minimal server for the root task's own tests: it reports what it was given through the
// kernel's debug console, then does what its name asks ("probe-crash" dereferences null,
// "probe-port" touches an I/O port it was not granted, others exit).
#include <abi/server.hpp>
#include <abi/protocols/supervisor.hpp>

#include <sys/debug.hpp>
#include <sys/invoke.hpp>
#include <sys/ipc.hpp>
#include <sys/thread_block.hpp>

#include <kstd/enforce.hpp>

namespace {
sys::ThreadBlock g_block;

bool starts_with(const char* s, const char* p) {
  for (; *p != '\0'; ++s, ++p) {
    if (*s != *p) return false;
  }
  return true;
}
}  // namespace

int main(uint64_t info_vaddr) {
  auto* info = reinterpret_cast<const abi::ServerInfo*>(info_vaddr);
  sys::install_thread_block(&g_block, abi::kServerSlotTcb,
                            reinterpret_cast<abi::IpcBuffer*>(abi::kServerIpcBufferVaddr));
  sys::debug_printf("probe '%s': started (restart %llu), %llu services, %llu untyped, %llu KiB\n",
                    info->name, (unsigned long long)info->restarts,
                    (unsigned long long)info->service_count, (unsigned long long)info->untyped_count,
                    (unsigned long long)(info->memory_budget >> 10));
  if (starts_with(info->name, "probe-crash")) {
    *reinterpret_cast<volatile uint64_t*>(0) = 1;
  }
  if (starts_with(info->name, "probe-port")) {
    asm volatile("outb %%al, $0x80" : : "a"(0));
  }
  if (starts_with(info->name, "probe-a")) {
    for (;;) {  // Serves nothing, but stays up.
      sys::Message in;
      (void)sys::recv(abi::kServerSlotEndpoint, in);
    }
  }
  sys::Message m = sys::Message::make(abi::supervisor::kExit.label, {7});
  (void)sys::send(abi::kServerSlotSupervisor, m);
  (void)sys::tcb_suspend(abi::kServerSlotTcb);
  return 0;
}
