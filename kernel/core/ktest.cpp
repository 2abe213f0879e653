// SPDX-License-Identifier: MIT
#include "ktest.hpp"

#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include <abi/boot_info.hpp>
#include <abi/invocation.hpp>

#include "arch/x86_64/idt.hpp"
#include "arch/x86_64/paging.hpp"
#include "arch/x86_64/stacks.hpp"
#include "arch/x86_64/trap.hpp"
#include "lib/format.hpp"
#include "log.hpp"
#include "object/invariants.hpp"
#include "object/mdb.hpp"
#include "panic.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

extern "C" char __text_start[], __rodata_start[], __data_start[];

namespace kernel {

#if defined(KEEL_PROFILE_DEV)
namespace {

using ull = unsigned long long;

int g_test_number = 0;
int g_failures = 0;
uint64_t g_expected_vector = ~0ull;

void tap_plan(int count) { kprint("TAP version 13\n1..%d\n", count); }

void tap(bool ok, const char* what) {
  ++g_test_number;
  if (!ok) {
    ++g_failures;
  }
  kprint("%s %d - %s\n", ok ? "ok" : "not ok", g_test_number, what);
}

[[noreturn]] void tap_finish() {
  halt_machine(g_failures == 0 ? abi::TestVerdict::kPass : abi::TestVerdict::kFail);
}

// --- boot -------------------------------------------------------------------------------------

bool page_is(uint64_t vaddr, bool present, bool writable, bool executable) {
  x86::Translation t = x86::translate(x86::kernel_pml4_phys(), vaddr);
  if (!present) {
    return !t.present;
  }
  bool nx_checked = !x86::paging_features().nx || t.executable == executable;
  return t.present && t.writable == writable && nx_checked && !t.user;
}

bool modules_are_memory(const BootState& s) {
  for (const boot::Mb2Module& m : s.mb2.module_list()) {
    if (m.end <= m.start || m.start % 4096 != 0) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void test_boot(const BootState& s) {
  tap_plan(8);
  tap(s.mb2.tag_count > 0 && s.mb2.has_memory_map, "multiboot2 information parsed with a memory map");
  tap(s.mb2.command_line != nullptr && kstd::contains(s.mb2.command_line, "ktest=boot"),
      "command line passed through");
  tap(s.phys_map.invariants_hold(), "physical memory map is sorted, aligned and disjoint");

  // Free memory must equal what the firmware reported available minus everything the kernel
  // marked used inside it: recompute that independently from the regions.
  uint64_t free = s.phys_map.total(mem::RegionKind::kFree);
  uint64_t used = 0;
  for (const mem::PhysRegion& r : s.phys_map.regions()) {
    if (r.kind >= mem::RegionKind::kLowMemory) {
      used += r.size();
    }
  }
  kprint("# free %llu KiB, firmware-available %llu KiB, kernel/boot use %llu KiB\n",
         static_cast<ull>(free >> 10), static_cast<ull>(s.usable_reported >> 10),
         static_cast<ull>(used >> 10));
  tap(free > (16ull << 20) && free < s.usable_reported && free + used >= s.usable_reported,
      "free memory accounts for every used region");

  tap(s.mb2.module_count >= 1 && modules_are_memory(s), "boot modules present and page aligned");
  tap(page_is(reinterpret_cast<uint64_t>(__text_start), true, false, true) &&
          page_is(reinterpret_cast<uint64_t>(__rodata_start), true, false, false) &&
          page_is(reinterpret_cast<uint64_t>(__data_start), true, true, false),
      "kernel image mapped read-execute / read-only / read-write no-execute");
  tap(page_is(reinterpret_cast<uint64_t>(boot_stack_guard), false, false, false) &&
          page_is(0, false, false, false) && page_is(s.mbi_phys, false, false, false),
      "stack guard, page zero and the boot identity map are unmapped");
  x86::Translation dm = x86::translate(x86::kernel_pml4_phys(), DIRECT_MAP_BASE + s.mbi_phys);
  tap(dm.present && dm.phys == s.mbi_phys && !dm.executable == x86::paging_features().nx,
      "direct map translates to physical memory and is not executable");
  kprint("# kernel init took %llu TSC ticks\n",
         static_cast<ull>(s.tsc_at_init_done - s.tsc_at_entry));
  tap_finish();
}

// --- cspace -----------------------------------------------------------------------------------

// Bytes of the firmware's available ranges that the kernel left free, computed from the
// multiboot2 map and the regions the kernel marked used, without looking at untyped.
uint64_t available_minus_kept(const BootState& s, uint64_t limit) {
  uint64_t total = 0;
  for (const boot::Mb2MemoryRegion& r : s.mb2.regions()) {
    if (r.type != static_cast<uint32_t>(boot::Mb2MemoryType::kAvailable)) {
      continue;
    }
    uint64_t b = (r.base + 4095) & ~uint64_t{4095};
    uint64_t e = (r.base + r.length) & ~uint64_t{4095};
    e = e < limit ? e : limit;
    if (b >= e) {
      continue;
    }
    uint64_t bytes = e - b;
    for (const mem::PhysRegion& u : s.phys_map.regions()) {
      if (u.kind == mem::RegionKind::kFree || u.end <= b || u.base >= e) {
        continue;
      }
      uint64_t ob = u.base > b ? u.base : b;
      uint64_t oe = u.end < e ? u.end : e;
      bytes -= oe - ob;
    }
    total += bytes;
  }
  return total;
}

uint64_t invoke_root(const BootCSpace& cs, uint64_t cptr, abi::Label label,
                     kstd::initializer_list<uint64_t> args) {
  Invocation inv{};
  inv.cspace_root = cs.root_cnode;
  inv.label = static_cast<uint64_t>(label);
  inv.args = args.begin();
  inv.length = args.size();
  Slot* target = &cs.slots[cptr];
  auto r = invoke(target, inv);
  return r ? 0 : static_cast<uint64_t>(r.error());
}

[[noreturn]] void test_cspace(const BootState& s) {
  tap_plan(7);
  const BootCSpace& cs = s.cspace;
  const abi::BootInfo& info = *cs.info;
  tap(info.magic == abi::BootInfo::kMagic && info.version == abi::BootInfo::kVersion,
      "boot info carries its magic and version");

  bool types_ok = info.untyped.end - info.untyped.start == info.untyped_count;
  bool aligned = true;
  uint64_t ram = 0;
  uint64_t device = 0;
  for (uint64_t i = 0; i < info.untyped_count && types_ok; ++i) {
    const Cap& c = cs.slots[info.untyped.start + i].cap;
    const abi::UntypedDesc& d = info.untyped_list[i];
    types_ok = c.type() == CapType::kUntyped && c.object() == d.paddr &&
               c.untyped_size_bits() == d.size_bits && c.untyped_is_device() == d.is_device;
    aligned = aligned && (d.paddr & ((uint64_t{1} << d.size_bits) - 1)) == 0;
    (d.is_device ? device : ram) += uint64_t{1} << d.size_bits;
  }
  tap(types_ok && aligned, "untyped slots match the boot info list and are size-aligned");

  uint64_t expected = available_minus_kept(s, x86::direct_map_end());
  kprint("# untyped: %llu KiB of RAM in %llu capabilities, %llu MiB of device space\n",
         static_cast<ull>(ram >> 10), static_cast<ull>(info.untyped_count),
         static_cast<ull>(device >> 20));
  kprint("# firmware-available memory minus what the kernel keeps: %llu KiB (kernel took %llu "
         "KiB at boot)\n", static_cast<ull>(expected >> 10),
         static_cast<ull>(info.kernel_boot_bytes >> 10));
  tap(ram == info.ram_untyped_bytes && ram + cs.dropped_bytes == expected &&
          ram == s.phys_map.total(mem::RegionKind::kFree),
      "RAM untyped equals available memory minus what the kernel keeps");

  bool frames_ok = info.module_count == s.mb2.module_count;
  for (uint64_t m = 0; m < info.module_count && frames_ok; ++m) {
    const abi::BootModule& bm = info.modules[m];
    for (uint64_t slot = bm.frames.start; slot < bm.frames.end; ++slot) {
      const Cap& c = cs.slots[slot].cap;
      frames_ok = frames_ok && c.type() == CapType::kFrame &&
                  c.object() == bm.paddr + (slot - bm.frames.start) * 4096;
    }
  }
  tap(frames_ok, "every boot module is covered by frame capabilities");

  Slot* const arrays[] = {cs.slots};
  const uint64_t counts[] = {uint64_t{1} << info.root_cnode_radix};
  InvariantReport rep = check_slots(arrays, counts, 4096);
  if (!rep.ok) {
    kprint("# invariant broken: %s\n", rep.rule);
  }
  // Every slot from the first non-fixed one up to the empty range is used, none after it.
  uint64_t fixed_used = 0;
  for (uint64_t i = 0; i < abi::kFirstFreeFixedSlot; ++i) {
    fixed_used += cs.slots[i].empty() ? 0 : 1;
  }
  tap(rep.ok && rep.caps_checked == fixed_used + info.empty.start - abi::kFirstFreeFixedSlot,
      "derivation tree invariants hold, and the empty range is empty");

  // Retype through the real decoder, then revoke: the untyped must be whole again.
  uint64_t ut = info.untyped.start;
  while (cs.slots[ut].cap.untyped_is_device() || cs.slots[ut].cap.untyped_size_bits() < 16) {
    ++ut;
  }
  uint64_t free_slot = info.empty.start;
  uint64_t e1 = invoke_root(cs, ut, abi::Label::kUntypedRetype,
                            {uint64_t(abi::ObjectType::kEndpoint), 0, abi::kSlotInitCNode, 0, 0,
                             free_slot, 2});
  uint64_t e2 = invoke_root(cs, ut, abi::Label::kUntypedRetype,
                            {uint64_t(abi::ObjectType::kCNode), 4, abi::kSlotInitCNode, 0, 0,
                             free_slot + 2, 1});
  bool made = e1 == 0 && e2 == 0 && cs.slots[free_slot].cap.type() == CapType::kEndpoint &&
              cs.slots[free_slot + 2].cap.type() == CapType::kCNode;
  uint64_t e3 = invoke_root(cs, abi::kSlotInitCNode, abi::Label::kCNodeRevoke, {ut, 64});
  tap(made && e3 == 0 && cs.slots[free_slot].empty() && !has_children(cs.slots[ut]),
      "retype an endpoint and a CNode, then revoke the untyped");
  uint64_t e4 = invoke_root(cs, ut, abi::Label::kUntypedRetype,
                            {uint64_t(abi::ObjectType::kTcb), 0, abi::kSlotInitCNode, 0, 0,
                             free_slot, 300});
  tap(e4 == static_cast<uint64_t>(abi::Status::kRangeError), "bad retype count is refused");
  tap_finish();
}

// --- exceptions -------------------------------------------------------------------------------

void expected_exception_hook(const x86::TrapFrame& f) {
  bool ok = f.vector == g_expected_vector;
  char what[96];
  format(what, sizeof what, "kernel reported %s (expected %s) with a register dump",
         x86::exception_mnemonic(f.vector), x86::exception_mnemonic(g_expected_vector));
  tap(ok, what);
  tap_finish();
}

// Recurses until the stack runs into its guard page. The addition after the call keeps the
// compiler from turning the recursion into a loop.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) uint64_t overflow_stack(uint64_t depth) {
  volatile char pad[512];
  pad[0] = static_cast<char>(depth);
  return overflow_stack(depth + 1) + static_cast<uint64_t>(pad[0]);
}
#pragma GCC diagnostic pop

[[noreturn]] void test_exception(uint64_t vector) {
  tap_plan(1);
  g_expected_vector = vector;
  x86::set_kernel_exception_hook(expected_exception_hook);
  switch (vector) {
    case x86::kDivideError:
      // In assembly: the compiler may rewrite a C division whose divisor it cannot rule out
      // being zero into something that never divides.
      asm volatile("xor %%ecx, %%ecx\n\tdiv %%ecx" : : "a"(1), "d"(0) : "ecx");
      break;
    case x86::kInvalidOpcode: asm volatile("ud2"); break;
    case x86::kBreakpoint: asm volatile("int3"); break;
    case x86::kGeneralProtection: {
      volatile uint64_t* bad = reinterpret_cast<volatile uint64_t*>(0x8000000000000000ull);
      *bad = 1;
      break;
    }
    case x86::kPageFault: {
      volatile uint64_t* null = nullptr;
      asm volatile("" : "+r"(null));
      *null = 1;
      break;
    }
    case x86::kDoubleFault: (void)overflow_stack(0); break;
  }
  tap(false, "the exception was not raised");
  tap_finish();
}

}  // namespace

void run_ktest(const BootState& state) {
  const char* name = state.config.ktest;
  if (name[0] == '\0') {
    return;
  }
  LOG_INFO("running kernel self-test \"%s\"", name);
  struct {
    const char* name;
    uint64_t vector;
  } constexpr kExceptionTests[] = {
      {"exception-de", x86::kDivideError},   {"exception-ud", x86::kInvalidOpcode},
      {"exception-bp", x86::kBreakpoint},    {"exception-gp", x86::kGeneralProtection},
      {"exception-pf", x86::kPageFault},     {"exception-df", x86::kDoubleFault},
  };
  if (strcmp(name, "boot") == 0) {
    test_boot(state);
  }
  if (strcmp(name, "cspace") == 0) {
    test_cspace(state);
  }
  for (const auto& t : kExceptionTests) {
    if (strcmp(name, t.name) == 0) {
      test_exception(t.vector);
    }
  }
  if (strcmp(name, "panic") == 0) {
    // No plan: the harness checks the panic report itself.
    PANIC("deliberate panic for the panic self-test");
  }
  tap_plan(1);
  tap(false, "unknown kernel self-test name");
  tap_finish();
}

#else

void run_ktest(const BootState& state) {
  if (state.config.ktest[0] != '\0') {
    LOG_WARN("ktest=%s ignored: self-tests exist only in dev builds", state.config.ktest);
  }
}

#endif

}  // namespace kernel
