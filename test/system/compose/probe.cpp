// SPDX-License-Identifier: MIT
//
// A minimal server for the root task's own tests: it reports what it was given through the
// kernel's debug console, then does what its name asks ("probe-crash" dereferences null,
// "probe-port" touches an I/O port it was not granted, "probe-mmio" reads the HPET through its
// MMIO grant and then touches the page after it, other "probe-mmio-..." servers read every page
// they were granted and stay up, others exit).
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

bool same_name(const char* a, const char* b) {
  for (; *a != '\0' && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

// QEMU's `pc` machine puts an HPET here (hw/timer/hpet.c). Its General Capabilities and ID
// register (offset 0) holds the vendor in bits 16-31 and the counter period in femtoseconds in
// bits 32-63, which the HPET specification bounds by 0x05F5E100 (100 ns). QEMU accepts only
// 4-byte accesses, so the two halves are read separately.
constexpr uint64_t kHpetBase = 0xFED00000;
constexpr uint32_t kHpetMaxPeriodFs = 0x05F5E100;

void report_mmio(const abi::ServerInfo& info) {
  for (uint64_t i = 0; i < info.mmio_count && i < abi::kManifestMaxPerServer; ++i) {
    const abi::MmioGrant& g = info.mmio[i];
    uint64_t pages = 0;
    for (uint64_t off = 0; off < g.size; off += 4096, ++pages) {
      (void)*reinterpret_cast<volatile uint32_t*>(g.vaddr + off);  // Mapped: no fault.
    }
    sys::debug_printf("probe '%s': MMIO %#llx+%#llx at %#llx, %llu pages read\n", info.name,
                      (unsigned long long)g.paddr, (unsigned long long)g.size,
                      (unsigned long long)g.vaddr, (unsigned long long)pages);
    if (g.paddr != kHpetBase) {
      continue;
    }
    auto* regs = reinterpret_cast<volatile uint32_t*>(g.vaddr);
    uint32_t id = regs[0];
    uint32_t period = regs[1];
    uint32_t vendor = id >> 16;
    if (vendor == 0 || vendor == 0xFFFF || period == 0 || period > kHpetMaxPeriodFs) {
      sys::debug_printf("probe '%s': HPET at %#llx: implausible capabilities %#x %#x\n",
                        info.name, (unsigned long long)g.vaddr, period, id);
    } else {
      sys::debug_printf("probe '%s': HPET at %#llx: vendor %#x, period %u fs, restart %llu\n",
                        info.name, (unsigned long long)g.vaddr, vendor, period,
                        (unsigned long long)info.restarts);
    }
  }
  if (info.mmio_count == 0) {
    sys::debug_printf("probe '%s': no MMIO grant in its server-info page\n", info.name);
  }
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
  if (starts_with(info->name, "probe-mmio")) {
    report_mmio(*info);
    if (same_name(info->name, "probe-mmio") && info->mmio_count != 0) {
      // The page after its grant lies in the MMIO window but is not the server's.
      const abi::MmioGrant& last = info->mmio[info->mmio_count - 1];
      (void)*reinterpret_cast<volatile uint32_t*>(last.vaddr + last.size);
    }
  }
  if (starts_with(info->name, "probe-a") || starts_with(info->name, "probe-mmio-")) {
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
