// SPDX-License-Identifier: MIT
#include "gdt.hpp"

#include "cpu_local.hpp"
#include "stacks.hpp"

#include <kstd/enforce.hpp>

namespace kernel::x86 {
namespace {

constexpr uint64_t kCode64 = 0x00AF9A000000FFFF;  // Present, ring 0, execute/read, long mode.
constexpr uint64_t kData = 0x00CF92000000FFFF;    // Present, ring 0, read/write.
constexpr uint64_t kUser = uint64_t{3} << 45;     // DPL 3.

struct alignas(16) Gdt {
  uint64_t entries[8];
};

struct [[gnu::packed]] DescriptorPointer {
  uint16_t limit;
  uint64_t base;
};

Gdt g_gdt;

// The TSS and its I/O permission bitmap live in the CPU's CpuLocal (cpu_local.hpp).
void set_tss_descriptor(Gdt& gdt, const CpuLocal& cpu) {
  auto base = reinterpret_cast<uint64_t>(&cpu.tss);
  uint64_t limit = sizeof(Tss) + sizeof(cpu.io_bitmap) - 1;
  uint64_t low = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (uint64_t{0x89} << 40) |
                 (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
  gdt.entries[kTssSelector / 8] = low;
  gdt.entries[kTssSelector / 8 + 1] = base >> 32;
}

}  // namespace

void init_gdt() {
  g_gdt.entries[0] = 0;
  g_gdt.entries[kKernelCode / 8] = kCode64;
  g_gdt.entries[kKernelData / 8] = kData;
  g_gdt.entries[kUserCode32 / 8] = 0x00CFFA000000FFFF;  // 32-bit code, ring 3 (never used).
  g_gdt.entries[(kUserData & ~3) / 8] = kData | kUser;
  g_gdt.entries[(kUserCode & ~3) / 8] = kCode64 | kUser;

  CpuLocal& cpu = boot_cpu();
  Tss& tss = cpu.tss;
  tss.ist[static_cast<int>(Ist::kDoubleFault) - 1] = ist_stack_top(Ist::kDoubleFault);
  tss.ist[static_cast<int>(Ist::kNmi) - 1] = ist_stack_top(Ist::kNmi);
  tss.ist[static_cast<int>(Ist::kMachineCheck) - 1] = ist_stack_top(Ist::kMachineCheck);
  tss.rsp[0] = reinterpret_cast<uint64_t>(boot_stack_top);
  tss.iomap_base = sizeof(Tss);
  for (uint8_t& b : cpu.io_bitmap) {
    b = 0xFF;  // Every port denied until a thread with port capabilities runs.
  }
  set_tss_descriptor(g_gdt, cpu);

  DescriptorPointer ptr{sizeof(g_gdt) - 1, reinterpret_cast<uint64_t>(&g_gdt)};
  asm volatile(
      "lgdt %0\n"
      "mov %w2, %%ds\n"
      "mov %w2, %%es\n"
      "mov %w2, %%ss\n"
      "xor %%eax, %%eax\n"
      "mov %%ax, %%fs\n"
      "mov %%ax, %%gs\n"
      // Reload CS with a far return: push the selector and the target, then lretq.
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      :
      : "m"(ptr), "i"(kKernelCode), "r"(static_cast<uint64_t>(kKernelData))
      : "rax", "memory");
  asm volatile("ltr %w0" : : "r"(kTssSelector));
}

void io_bitmap_set(CpuLocal* cpu, uint32_t first, uint32_t last, bool allow) {
  for (uint32_t port = first; port <= last && port < kIoBitmapBytes * 8; ++port) {
    uint8_t bit = static_cast<uint8_t>(1u << (port % 8));
    if (allow) {
      cpu->io_bitmap[port / 8] &= static_cast<uint8_t>(~bit);
    } else {
      cpu->io_bitmap[port / 8] |= bit;
    }
  }
}

}  // namespace kernel::x86
