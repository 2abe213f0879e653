// SPDX-License-Identifier: MIT
//
// kernel_main: the first C++ code, called by boot.S on the boot stack with paging on (boot
// tables), interrupts off, and the multiboot2 magic already checked.
#include <kstd/bit.hpp>
#include <kstd/types.hpp>

#include "arch/x86_64/apic.hpp"
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/fpu.hpp"
#include "arch/x86_64/gdt.hpp"
#include "arch/x86_64/idt.hpp"
#include "arch/x86_64/paging.hpp"
#include "arch/x86_64/serial.hpp"
#include "arch/x86_64/thread.hpp"
#include "boot/acpi.hpp"
#include "core/root_task.hpp"
#include "core/sched.hpp"
#include "ipc/fastpath.hpp"
#include "boot_report.hpp"
#include "boot_state.hpp"
#include "ktest.hpp"
#include "log.hpp"
#include "panic.hpp"

#include <kstd/enforce.hpp>

extern "C" uint64_t boot_tsc;
extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();
extern "C" char __kernel_phys_start[], __kernel_phys_end[];

namespace kernel {
namespace {

BootState g_boot;

// The largest boot information structure we accept; GRUB's are a few KiB.
constexpr uint32_t kMaxBootInfoSize = 1u << 20;

#if defined(KEEL_PROFILE_DEV)
constexpr const char* kProfile = "dev";
#elif defined(KEEL_PROFILE_STANDARD)
constexpr const char* kProfile = "standard";
#else
constexpr const char* kProfile = "hardened";
#endif

void parse_boot_info(const uint8_t* base, const char* when) {
  uint32_t total = boot::multiboot2_total_size({base, 8});
  if (total > kMaxBootInfoSize) {
    PANIC("multiboot2 information claims %u bytes (limit %u)", total, kMaxBootInfoSize);
  }
  auto parsed = boot::parse_multiboot2({base, total}, &g_boot.mb2);
  if (!parsed) {
    const boot::Mb2ParseError& e = parsed.error();
    PANIC("multiboot2 information rejected %s: %s (tag type %u at offset %u)", when,
          boot::mb2_error_name(e.code), e.tag_type, e.offset);
  }
}

void apply_command_line() {
  ConfigProblem problems[8];
  size_t n = parse_kernel_config(g_boot.mb2.command_line, &g_boot.config, problems, 8);
  set_log_level(g_boot.config.log_level);
  set_qemu_debug_exit(g_boot.config.qemu_debug_exit);
  set_fastpath_enabled(g_boot.config.fastpath);
  for (size_t i = 0; i < n && i < 8; ++i) {
    LOG_WARN("command line: %s: \"%s\" (ignored)", problems[i].what, problems[i].word);
  }
  if (n > 8) {
    LOG_WARN("command line: %zu more problems not shown", n - 8);
  }
}

mem::RegionKind kind_of(uint32_t mb2_type) {
  switch (static_cast<boot::Mb2MemoryType>(mb2_type)) {
    case boot::Mb2MemoryType::kAvailable: return mem::RegionKind::kFree;
    case boot::Mb2MemoryType::kAcpiReclaimable: return mem::RegionKind::kAcpiReclaimable;
    case boot::Mb2MemoryType::kBad: return mem::RegionKind::kBad;
    default: return mem::RegionKind::kFirmware;
  }
}

void mark(uint64_t base, uint64_t length, mem::RegionKind kind, const char* what) {
  if (auto r = g_boot.phys_map.add(base, length, kind); !r) {
    PANIC("cannot record %s [%#llx, +%#llx) in the physical memory map: %s", what,
          static_cast<unsigned long long>(base), static_cast<unsigned long long>(length),
          abi::status_name(r.error()));
  }
}

uint64_t cpu_phys_addr_bits() {
  if (x86::cpuid(0x80000000).eax >= 0x80000008) {
    return x86::cpuid(0x80000008).eax & 0xFF;
  }
  return 36;  // What CPUs without the leaf have.
}

Tcb* load_root_task();

// The initial CSpace: control capabilities, boot-info and module frames, then untyped for all
// memory still free (which is why this runs after every other boot allocation).
void build_boot_cspace() {
  static BootModuleSpec modules[abi::BootInfo::kMaxModules];
  size_t count = 0;
  for (const boot::Mb2Module& m : g_boot.mb2.module_list()) {
    if (count == abi::BootInfo::kMaxModules) {
      LOG_WARN("more than %zu boot modules: \"%s\" and later ones are ignored",
               abi::BootInfo::kMaxModules, m.string);
      break;
    }
    modules[count++] = {m.start, m.end - m.start, m.string};
  }
  // The kernel drives the local and I/O APICs itself; their registers never become device
  // untyped.
  static mem::PhysRegion kernel_devices[1 + boot::MadtInfo::kMaxIoApics];
  size_t device_count = 0;
  kernel_devices[device_count++] = {x86::lapic_phys(), x86::lapic_phys() + 0x1000,
                                    mem::RegionKind::kKernelData};
  for (size_t i = 0; i < x86::ioapic_count(); ++i) {
    kernel_devices[device_count++] = {x86::ioapic_phys(i), x86::ioapic_phys(i) + 0x1000,
                                      mem::RegionKind::kKernelData};
  }
  g_boot.phys_addr_bits = cpu_phys_addr_bits();
  BootCSpaceSpec spec;
  spec.modules = {modules, count};
  spec.phys_addr_bits = g_boot.phys_addr_bits;
  spec.ram_limit = x86::direct_map_end();
  spec.kernel_devices = {kernel_devices, device_count};
  spec.extra_slots = 1024;  // The root task's page tables and frames.
  auto cs = create_boot_cspace(g_boot.phys_map, spec);
  if (!cs) {
    PANIC("cannot create the initial CSpace: %s", abi::status_name(cs.error()));
  }
  g_boot.cspace = cs.value();
  g_boot.root_task = load_root_task();
  add_boot_untyped(g_boot.cspace, g_boot.phys_map, spec);
  const abi::BootInfo& info = *g_boot.cspace.info;
  LOG_INFO("initial CSpace: 2^%llu slots, %llu untyped (%llu KiB of RAM), %llu module frames, "
           "first free slot %llu",
           static_cast<unsigned long long>(info.root_cnode_radix),
           static_cast<unsigned long long>(info.untyped_count),
           static_cast<unsigned long long>(info.ram_untyped_bytes >> 10),
           static_cast<unsigned long long>(info.module_frames.end - info.module_frames.start),
           static_cast<unsigned long long>(info.empty.start));
  if (g_boot.cspace.dropped_bytes != 0) {
    LOG_WARN("%llu KiB of memory left out: the boot-info untyped list is full",
             static_cast<unsigned long long>(g_boot.cspace.dropped_bytes >> 10));
  }
}

Tcb* load_root_task() {
  if (g_boot.mb2.module_count == 0) {
    PANIC("no boot modules: the first module must be the root task");
  }
  const boot::Mb2Module& m = g_boot.mb2.modules[0];
  kstd::span<const uint8_t> image{static_cast<const uint8_t*>(x86::phys_to_virt(m.start)),
                                  m.end - m.start};
  auto t = create_root_task(g_boot.cspace, g_boot.phys_map, image, x86::direct_map_end());
  if (!t) {
    const RootTaskError& e = t.error();
    if (e.elf) {
      PANIC("root task \"%s\" refused: %s", m.string, elf::error_name(e.elf_error));
    }
    PANIC("cannot build the root task: %s", abi::status_name(e.status));
  }
  LOG_INFO("root task \"%s\": %u KiB image, entry %#llx", m.string, (m.end - m.start) / 1024,
           static_cast<unsigned long long>(t.value()->context.rip));
  return t.value();
}

void init_interrupts() {
  const boot::Mb2Rsdp& rsdp = g_boot.mb2.rsdp;
  static boot::MadtInfo madt;
  const boot::MadtInfo* found = nullptr;
  if (g_boot.mb2.has_rsdp && rsdp.checksum_ok) {
    auto r = boot::parse_madt(rsdp.rsdt_address, rsdp.revision >= 2 ? rsdp.xsdt_address : 0,
                              x86::direct_map_end());
    if (r) {
      madt = r.value();
      found = &madt;
    } else {
      LOG_WARN("ACPI: %s; assuming a standard PC", boot::acpi_error_name(r.error()));
    }
  } else {
    LOG_WARN("ACPI: no usable RSDP; assuming a standard PC");
  }
  x86::init_interrupt_controllers(found);
  if (found != nullptr) {
    LOG_INFO("interrupts: local APIC at %#llx, %zu I/O APIC(s), %u CPU(s) listed",
             static_cast<unsigned long long>(found->lapic_address), found->ioapic_count,
             found->cpu_count);
  }
}

void build_phys_map(uint64_t mbi_phys) {
  const boot::Multiboot2Info& mb2 = g_boot.mb2;
  if (!mb2.has_memory_map) {
    PANIC("the boot loader gave no memory map (multiboot2 tag 6)");
  }
  for (const boot::Mb2MemoryRegion& r : mb2.regions()) {
    if (auto res = g_boot.phys_map.add(r.base, r.length, kind_of(r.type)); !res) {
      LOG_WARN("memory map entry [%#llx, +%#llx) ignored: %s",
               static_cast<unsigned long long>(r.base), static_cast<unsigned long long>(r.length),
               abi::status_name(res.error()));
    }
  }
  g_boot.usable_reported = g_boot.phys_map.total(mem::RegionKind::kFree);
  mark(0, 1ull << 20, mem::RegionKind::kLowMemory, "low memory");
  uint64_t image = reinterpret_cast<uint64_t>(__kernel_phys_start);
  mark(image, reinterpret_cast<uint64_t>(__kernel_phys_end) - image,
       mem::RegionKind::kKernelImage, "the kernel image");
  mark(mbi_phys, mb2.total_size, mem::RegionKind::kBootInfo, "the boot information");
  for (const boot::Mb2Module& m : mb2.module_list()) {
    mark(m.start, m.end - m.start, mem::RegionKind::kModule, "a module");
  }
}

}  // namespace

BootState& boot_state() { return g_boot; }

// Runs the constructors of global objects (those the compiler does not initialise statically:
// defaults like the command line's log level and fast-path setting depend on them).
void run_constructors() {
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) {
    (*ctor)();
  }
}

extern "C" [[noreturn]] void kernel_main(uint32_t magic, uint32_t mbi_phys) {
  (void)magic;  // Checked by boot.S.
  run_constructors();
  g_boot.tsc_at_entry = boot_tsc;
  g_boot.mbi_phys = mbi_phys;
  x86::console_serial().init(x86::Serial::kCom1);
  x86::init_gdt();
  x86::init_idt();
  kprint("\nKeel " KEEL_VERSION " (%s profile) starting\n", kProfile);

  // First pass through the boot identity map, to learn the memory map and the command line.
  parse_boot_info(reinterpret_cast<const uint8_t*>(uintptr_t{mbi_phys}), "at boot");
  apply_command_line();
  build_phys_map(mbi_phys);

  auto paging = x86::init_kernel_paging(g_boot.phys_map);
  if (!paging) {
    PANIC("cannot build the kernel page tables: %s", abi::status_name(paging.error()));
  }
  g_boot.memory_not_mapped = paging.value();
  // The identity map is gone: parse again through the direct map so every pointer stays valid.
  parse_boot_info(static_cast<const uint8_t*>(x86::phys_to_virt(mbi_phys)), "after paging");

  report_multiboot2(g_boot.mb2);
  init_interrupts();
  x86::init_threads();
  LOG_INFO("FPU: %s, %llu bytes of state per thread", x86::fpu_mode(),
           static_cast<unsigned long long>(x86::fpu_state_size()));
  build_boot_cspace();
  report_phys_map(g_boot.phys_map);
  if (g_boot.memory_not_mapped != 0) {
    LOG_WARN("%llu MiB of memory above the 512 GiB direct map is not used",
             static_cast<unsigned long long>(g_boot.memory_not_mapped >> 20));
  }
  const x86::PagingFeatures& pf = x86::paging_features();
  LOG_INFO("paging: NX %s, 1 GiB pages %s, PCID %s", pf.nx ? "yes" : "no",
           pf.gb_pages ? "yes" : "no", pf.pcid ? "yes" : "no");

  g_boot.tsc_at_init_done = x86::rdtsc();
  LOG_INFO("kernel initialised in %llu TSC ticks",
           static_cast<unsigned long long>(g_boot.tsc_at_init_done - g_boot.tsc_at_entry));

  run_ktest(g_boot);

  x86::start_timer();
  LOG_INFO("timer: %llu Hz, local APIC timer at %llu ticks/s",
           static_cast<unsigned long long>(x86::kTimerHz),
           static_cast<unsigned long long>(x86::lapic_timer_ticks_per_second()));
  this_scheduler().wake(g_boot.root_task);
  x86::kernel_exit();
}

}  // namespace kernel
