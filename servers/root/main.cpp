// SPDX-License-Identifier: MIT
//
// The root task: the first user program, started by the kernel with every initial capability.
// It composes the system from the boot archive (the boot module named "archive", made by
// keel-image): it checks the archive and the manifest in it, starts the servers in dependency
// order with the capabilities the manifest grants them, and then supervises them: every
// server's faults and exits come to it, and it applies the server's restart policy.
#include <abi/boot_info.hpp>
#include <abi/fault.hpp>
#include <abi/protocols/supervisor.hpp>

#include <stdarg.h>

#include <sys/cap.hpp>
#include <sys/debug.hpp>
#include <sys/invoke.hpp>
#include <sys/ipc.hpp>
#include <sys/port_io.hpp>
#include <sys/thread_block.hpp>

#include "archive.hpp"
#include "lib/format.hpp"
#include "root.hpp"
#include "server.hpp"

#include <kstd/enforce.hpp>

namespace root {

void log(const char* fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  size_t n = kernel::vformat(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n > sizeof line - 2) {
    n = sizeof line - 2;
  }
  line[n] = '\n';
  line[n + 1] = '\0';
  sys::debug_printf("root: %s", line);
}

namespace {

sys::ThreadBlock g_main_block;
Context g_ctx;
uint64_t g_ticks = 0;
sys::IrqHandlerCap g_rtc_irq;
bool g_timer_on = false;

const char* policy_name(abi::RestartPolicy p) {
  switch (p) {
    case abi::RestartPolicy::kNever: return "never";
    case abi::RestartPolicy::kOnCrash: return "on-crash";
    case abi::RestartPolicy::kAlways: return "always";
  }
  return "?";
}

// --- The timer -------------------------------------------------------------------------------

using sys::cmos_read;
using sys::cmos_write;

// The initial capabilities the timer needs (abi/boot_info.hpp).
constexpr sys::CNodeCap kInitCNode{abi::kSlotInitCNode};
constexpr sys::TcbCap kInitTcb{abi::kSlotInitTcb};
constexpr sys::IrqControlCap kIrqControl{abi::kSlotIrqControl};
constexpr sys::IoPortControlCap kIoPortControl{abi::kSlotIoPortControl};

// Takes the RTC's line and ports, its interrupts arriving on the supervisor endpoint.
bool timer_init(Context& ctx) {
  auto irq = ctx.slots.alloc();
  auto port = ctx.slots.alloc();
  auto badged = ctx.slots.alloc();
  if (!irq || !port || !badged) {
    return false;
  }
  // What the invocations below put in the slots, once they succeed.
  const sys::IrqHandlerCap handler(irq.value());
  const sys::IoPortCap ports(port.value());
  const sys::EndpointCap timer_ep(badged.value());
  if (!kIrqControl.get(kRtcIrq, kInitCNode, irq.value(), 64) ||
      !kInitCNode.mint(badged.value(), 64, kInitCNode, ctx.supervisor_ep, 64, abi::Rights::kWrite,
                       kTimerBadge) ||
      !handler.set_endpoint(timer_ep) ||
      !kIoPortControl.issue(kRtcFirstPort, kRtcLastPort, kInitCNode, port.value(), 64) ||
      !kInitTcb.bind_ioport(0, ports)) {
    return false;
  }
  g_rtc_irq = handler;
  // Rate 10: 32768 >> 9 = 64 Hz, while the periodic interrupt is enabled (register B bit 6).
  cmos_write(0x0A, static_cast<uint8_t>((cmos_read(0x0A) & 0xF0) | 10));
  return true;
}

void timer_enable(bool on) {
  if (on == g_timer_on) {
    return;
  }
  uint8_t b = cmos_read(0x0B);
  cmos_write(0x0B, static_cast<uint8_t>(on ? b | 0x40 : b & ~0x40));
  (void)cmos_read(0x0C);  // Clears a pending interrupt.
  g_timer_on = on;
}

// --- Starting --------------------------------------------------------------------------------

bool init_context(Context& ctx, const abi::BootInfo* boot) {
  ctx.boot = boot;
  ctx.slots.init(abi::kSlotInitCNode, boot->empty.start, boot->empty.end);
  ctx.objects.init(&ctx.slots);
  for (uint64_t i = 0; i < boot->untyped_count; ++i) {
    if (boot->untyped_list[i].is_device == 0) {
      ctx.objects.add(boot->untyped.start + i, boot->untyped_list[i].size_bits);
    }
  }
  ctx.vspace.init(abi::kSlotInitVSpace, &ctx.objects);
  auto ep = ctx.objects.alloc(abi::ObjectType::kEndpoint);
  if (!ep) {
    return false;
  }
  ctx.supervisor_ep = ep.value();
  // The scratch page's tables, made once: fill() maps and unmaps a frame there.
  auto probe = ctx.vspace.map_new(kScratchVaddr, abi::Rights::kRead);
  return probe && sys::frame_unmap(probe.value());
}

bool same_name(const char* a, const char* b) {
  for (; *a != '\0' && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

// Maps the archive module and returns its bytes, or null when there is none.
const uint8_t* map_archive(Context& ctx, uint64_t& size) {
  const abi::BootInfo& b = *ctx.boot;
  for (uint64_t m = 0; m < b.module_count && m < abi::BootInfo::kMaxModules; ++m) {
    const abi::BootModule& mod = b.modules[m];
    if (!same_name(mod.name, "archive")) {
      continue;
    }
    for (uint64_t f = mod.frames.start; f < mod.frames.end; ++f) {
      uint64_t va = kArchiveVaddr + (f - mod.frames.start) * 4096;
      if (!ctx.vspace.map(f, va, abi::Rights::kRead)) {
        log("could not map the boot archive");
        return nullptr;
      }
    }
    size = (mod.frames.end - mod.frames.start) * 4096;
    if (mod.size < size) {
      size = mod.size;
    }
    return reinterpret_cast<const uint8_t*>(kArchiveVaddr);
  }
  return nullptr;
}

// Whether every service `s` requires comes from a running server; names the first that does
// not.
bool dependencies_up(const Context& ctx, const Server& s) {
  const abi::ServerRecord& rec = *s.record;
  for (uint32_t r = 0; r < rec.required_count; ++r) {
    const Server& p = ctx.servers[ctx.plan.provider[rec.required[r]]];
    if (p.state != ServerState::kRunning) {
      log("server '%s' not started: it requires '%s' from '%s', which is not running", rec.name,
          ctx.plan.manifest->services[rec.required[r]], p.record->name);
      return false;
    }
  }
  return true;
}

void start_all(Context& ctx, const uint8_t* archive) {
  for (uint32_t pos = 0; pos < ctx.plan.server_count; ++pos) {
    Server& s = ctx.servers[ctx.plan.order[pos]];
    Diagnostic diag;
    if (!check_digest(archive, s.binary.entry, diag)) {
      log("server '%s' not started: %s", s.record->name, diag.text);
      continue;
    }
    if (!dependencies_up(ctx, s)) {
      continue;
    }
    if (auto r = prepare_server(ctx, s); !r) {
      // The specific cause, when there is one, was logged just before.
      log("server '%s' not started: %s", s.record->name, abi::status_name(r.error()));
      continue;
    }
    if (!start_server(ctx, s)) {
      continue;
    }
    log("started '%s' (%s, priority %u, %llu KiB)", s.record->name, s.binary.name,
        s.record->priority, static_cast<unsigned long long>(s.record->memory >> 10));
  }
}

// --- Supervising -----------------------------------------------------------------------------

void describe_fault(const Server& s, const sys::Message& m) {
  const char* name = s.record->name;
  switch (static_cast<abi::KernelLabel>(m.label)) {
    case abi::KernelLabel::kPageFault: {
      uint64_t access = m.words[abi::kPfAccess];
      log("server '%s' faulted: page fault at %#llx (%s, %s) at ip %#llx", name,
          static_cast<unsigned long long>(m.words[abi::kPfAddress]),
          (access & abi::kAccessFetch) != 0   ? "fetch"
          : (access & abi::kAccessWrite) != 0 ? "write"
                                              : "read",
          (access & abi::kAccessPresent) != 0 ? "protection" : "not mapped",
          static_cast<unsigned long long>(m.words[abi::kPfIp]));
      break;
    }
    case abi::KernelLabel::kException: {
      uint64_t vector = m.words[abi::kExVector];
      log("server '%s' faulted: exception %llu%s (error code %#llx) at ip %#llx", name,
          static_cast<unsigned long long>(vector),
          vector == 13 ? " (general protection: a privileged instruction or an I/O port it was "
                         "not granted)"
          : vector == 6 ? " (invalid opcode)"
          : vector == 0 ? " (divide error)"
                        : "",
          static_cast<unsigned long long>(m.words[abi::kExErrorCode]),
          static_cast<unsigned long long>(m.words[abi::kExIp]));
      break;
    }
    case abi::KernelLabel::kUnknownSyscall:
      log("server '%s' faulted: unknown system call %lld at ip %#llx", name,
          static_cast<long long>(m.words[abi::kUsRax]),
          static_cast<unsigned long long>(m.words[abi::kUsIp]));
      break;
    default:
      log("server '%s' stopped: message %#llx", name, static_cast<unsigned long long>(m.label));
      break;
  }
}

void schedule_restart(Context& ctx, Server& s) {
  const abi::ServerRecord& rec = *s.record;
  if (s.restarts >= rec.restart_limit) {
    log("server '%s': restart limit (%u) reached; it stays down", rec.name, rec.restart_limit);
    retire_server(ctx, s);
    return;
  }
  s.state = ServerState::kRestartPending;
  s.restart_due = g_ticks + (uint64_t{rec.backoff_ms} * kTimerHz + 999) / 1000;
  if (rec.backoff_ms != 0) {
    log("server '%s' restarts in %u ms", rec.name, rec.backoff_ms);
  }
}

void run_due_restarts(Context& ctx) {
  bool pending = false;
  for (uint32_t i = 0; i < ctx.plan.server_count; ++i) {
    Server& s = ctx.servers[i];
    if (s.state != ServerState::kRestartPending) {
      continue;
    }
    if (s.restart_due > g_ticks) {
      pending = true;
      continue;
    }
    ++s.restarts;
    if (!dependencies_up(ctx, s)) {
      retire_server(ctx, s);
    } else if (start_server(ctx, s)) {
      log("restarted '%s' (restart %u of %u)", s.record->name, s.restarts,
          s.record->restart_limit);
    } else {
      retire_server(ctx, s);
    }
  }
  timer_enable(pending);
}

// A server faulted (or said it exits): log, clear away the instance, apply the policy.
void server_stopped(Context& ctx, Server& s, const sys::Message& m) {
  const abi::ServerRecord& rec = *s.record;
  bool exited = m.label == abi::supervisor::kExit.label;
  if (exited) {
    log("server '%s' exited with code %lld", rec.name, static_cast<long long>(m.words[0]));
  } else {
    describe_fault(s, m);
  }
  stop_server(ctx, s);
  bool restart = rec.restart == abi::RestartPolicy::kAlways ||
                 (rec.restart == abi::RestartPolicy::kOnCrash && !exited);
  if (!restart) {
    log("server '%s' is not restarted (restart policy %s)%s", rec.name, policy_name(rec.restart),
        rec.provides_count != 0 ? "; its clients get errors" : "");
    retire_server(ctx, s);
    return;
  }
  schedule_restart(ctx, s);
}

[[noreturn]] void supervise(Context& ctx) {
  for (;;) {
    run_due_restarts(ctx);
    sys::Message m;
    abi::Status st = sys::recv(ctx.supervisor_ep, m);
    if (st != abi::Status::kOk) {
      log("receive on the supervisor endpoint failed: %s", abi::status_name(st));
      continue;
    }
    if (m.badge == kTimerBadge) {
      ++g_ticks;
      (void)cmos_read(0x0C);
      (void)g_rtc_irq.ack();
      continue;
    }
    uint64_t index = m.badge - kSupervisorBadgeBase;
    if (m.badge < kSupervisorBadgeBase || index >= ctx.plan.server_count) {
      log("message with unknown badge %#llx ignored", static_cast<unsigned long long>(m.badge));
      continue;
    }
    Server& s = ctx.servers[index];
    if (s.state != ServerState::kRunning) {
      continue;  // A late message from an instance already cleared away.
    }
    server_stopped(ctx, s, m);
  }
}

}  // namespace
}  // namespace root

int main(uint64_t boot_info_vaddr) {
  using namespace root;
  auto* boot = reinterpret_cast<const abi::BootInfo*>(boot_info_vaddr);
  sys::install_thread_block(&g_main_block, abi::kSlotInitTcb,
                            reinterpret_cast<abi::IpcBuffer*>(abi::kRootIpcBufferVaddr));
  log("started; %llu untyped (%llu KiB of RAM), %llu modules, slots %llu..%llu free",
      static_cast<unsigned long long>(boot->untyped_count),
      static_cast<unsigned long long>(boot->ram_untyped_bytes >> 10),
      static_cast<unsigned long long>(boot->module_count),
      static_cast<unsigned long long>(boot->empty.start),
      static_cast<unsigned long long>(boot->empty.end));
  Context& ctx = g_ctx;
  uint64_t size = 0;
  const uint8_t* archive = nullptr;
  if (!init_context(ctx, boot)) {
    log("could not set up its own allocators; stopping");
  } else if ((archive = map_archive(ctx, size)) == nullptr) {
    log("no boot archive; nothing to start");
  } else {
    Diagnostic diag;
    if (!check_archive(archive, size, diag) || !make_plan(archive, ctx.plan, diag)) {
      log("refusing the boot archive: %s", diag.text);
    } else if (!timer_init(ctx)) {
      log("could not take the real-time clock for itself; stopping");
    } else {
      for (uint32_t i = 0; i < ctx.plan.server_count; ++i) {
        Server& s = ctx.servers[i];
        s.index = i;
        s.record = &ctx.plan.servers[i];
        s.binary = ctx.plan.binaries[i];
        s.state = ServerState::kNotStarted;
      }
      log("boot archive checked: %u servers, %u services", ctx.plan.server_count,
          ctx.plan.manifest->service_count);
      start_all(ctx, archive);
      supervise(ctx);
    }
  }
  (void)sys::tcb_suspend(abi::kSlotInitTcb);
  return 0;
}
