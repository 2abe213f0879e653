// SPDX-License-Identifier: MIT
//
// The server runtime (sys/server.hpp): main() for programs that define server_main.
#include <abi/protocols/console.hpp>
#include <abi/protocols/supervisor.hpp>

#include <sys/debug.hpp>
#include <sys/invoke.hpp>
#include <sys/log.hpp>
#include <sys/server.hpp>
#include <sys/text.hpp>
#include <sys/thread_block.hpp>

#include <kstd/enforce.hpp>

namespace sys {
namespace {

constexpr uint64_t kPage = 4096;

ThreadBlock g_main_block;
const abi::ServerInfo* g_info = nullptr;
SlotAllocator g_slots;
ObjectAllocator g_objects;
VSpace g_vspace;
uint64_t g_heap_next = abi::kServerHeapBase;
EndpointCap g_console;  // The console service's endpoint, or null.

[[noreturn]] void stop() {
  for (;;) {
    (void)kSelfTcb.suspend();
  }
}

// The log sink for servers granted "console". Should the console fail (say, while it restarts
// after a crash), the text goes to the kernel's console instead of being lost.
void console_write(const char* text, size_t n) {
  uint64_t words[abi::console::kMaxTextWords];
  auto used = encode_text(text, n, words, abi::console::kMaxTextWords);
  if (used && rpc::call(g_console, abi::console::kWrite, rpc::Words(words, used.value()))) {
    return;
  }
  debug_log_sink().write(text, n);
}

void console_flush() { (void)rpc::call(g_console, abi::console::kFlush); }

// Registers the untyped budget, starting each where the kernel's watermark is (after a restart
// the root task may hand over memory that was used before).
void add_untyped(const abi::ServerInfo& info) {
  for (uint64_t i = 0; i < info.untyped_count; ++i) {
    const abi::UntypedGrant& g = info.untyped[i];
    auto d = untyped_describe(g.cptr);
    if (!d) {
      log("untyped %llu (cptr %llu) is unusable: %s", static_cast<unsigned long long>(i),
          static_cast<unsigned long long>(g.cptr), abi::status_name(d.error()));
      continue;
    }
    uint64_t size = uint64_t{1} << d->size_bits;
    g_objects.add(g.cptr, d->size_bits, size - d->free_bytes);
  }
}

}  // namespace

const abi::ServerInfo& server_info() { return *g_info; }

abi::Result<EndpointCap> service(const char* name, Need need) {
  auto r = find_service(*g_info, name);
  if (!r) {
    if (need == Need::kRequired) {
      log("service \"%s\" was not granted (check the manifest's requires list)", name);
    }
    return abi::err(r.error());
  }
  return EndpointCap(r.value());
}

abi::Result<IoPortCap> port_grant(uint16_t first, uint16_t last) {
  for (uint64_t i = 0; i < g_info->port_count; ++i) {
    const abi::PortGrant& g = g_info->ports[i];
    if (g.first <= first && last <= g.last) {
      return IoPortCap(g.cptr);
    }
  }
  return abi::err(abi::Status::kNotFound);
}

abi::Result<IrqHandlerCap> irq_grant(uint32_t line) {
  for (uint64_t i = 0; i < g_info->irq_count; ++i) {
    if (g_info->irqs[i].line == line) {
      return IrqHandlerCap(g_info->irqs[i].cptr);
    }
  }
  return abi::err(abi::Status::kNotFound);
}

SlotAllocator& slots() { return g_slots; }
ObjectAllocator& objects() { return g_objects; }
VSpace& vspace() { return g_vspace; }

abi::Result<void*> map_memory(uint64_t bytes) {
  uint64_t size = (bytes + kPage - 1) & ~(kPage - 1);
  if (bytes == 0 || size < bytes || size > abi::kServerHeapEnd - g_heap_next) {
    return abi::err(abi::Status::kNoSpace);
  }
  // The range is taken even if mapping fails half-way, so that no later call meets the pages
  // that did get mapped.
  uint64_t base = g_heap_next;
  g_heap_next += size;
  TRY(g_vspace.map_new_range(base, size, abi::Rights::kRead | abi::Rights::kWrite));
  return reinterpret_cast<void*>(base);
}

void exit(int code) {
  const uint64_t words[] = {static_cast<uint64_t>(static_cast<int64_t>(code))};
  auto r = rpc::send(kSupervisor, abi::supervisor::kExit, words);
  if (!r) {
    log("could not report the exit to the root task: %s", abi::status_name(r.error()));
  }
  stop();
}

}  // namespace sys

int main(uint64_t info_vaddr) {
  using namespace sys;
  // First, because every system call with a message needs the IPC buffer it names.
  install_thread_block(&g_main_block, abi::kServerSlotTcb,
                       reinterpret_cast<abi::IpcBuffer*>(abi::kServerIpcBufferVaddr));
  const auto* info = reinterpret_cast<const abi::ServerInfo*>(info_vaddr);
  const char* problem = info == nullptr ? "no server-info page (RDI was 0)"
                                        : server_info_problem(*info);
  if (problem != nullptr) {
#if defined(KEEL_DEBUG_SYSCALLS)
    debug_printf("server runtime: cannot start: %s (page at %#llx", problem,
                 static_cast<unsigned long long>(info_vaddr));
    if (info != nullptr) {
      debug_printf(", magic %#llx, version %llu; this runtime expects magic %#llx, version %llu",
                   static_cast<unsigned long long>(info->magic),
                   static_cast<unsigned long long>(info->version),
                   static_cast<unsigned long long>(abi::ServerInfo::kMagic),
                   static_cast<unsigned long long>(abi::ServerInfo::kVersion));
    }
    debug_print(")\n");
#endif
    stop();
  }
  g_info = info;
  set_log_name(info->name);
  g_slots.init(abi::kServerSlotCNode, info->free_slots.start, info->free_slots.end);
  g_objects.init(&g_slots);
  add_untyped(*info);
  g_vspace.init(abi::kServerSlotVSpace, &g_objects);
  if (auto console = service(abi::console::kServiceName, Need::kOptional)) {
    g_console = console.value();
    set_log_sink({console_write, console_flush});
  }
  sys::exit(server_main(*info));
}
