// SPDX-License-Identifier: MIT
#include "gdt.hpp"

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

// The TSS with its I/O permission bitmap right behind it (a set bit denies the port). The byte
// after the bitmap must be all ones.
struct alignas(16) TssBlock {
  Tss tss;
  uint8_t io_bitmap[kIoBitmapBytes + 1];
};

Gdt g_gdt;
TssBlock g_tss_block;
Tss& g_tss = g_tss_block.tss;

void set_tss_descriptor(Gdt& gdt, const TssBlock& block) {
  auto base = reinterpret_cast<uint64_t>(&block);
  uint64_t limit = sizeof(TssBlock) - 1;
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

  g_tss.ist[static_cast<int>(Ist::kDoubleFault) - 1] = ist_stack_top(Ist::kDoubleFault);
  g_tss.ist[static_cast<int>(Ist::kNmi) - 1] = ist_stack_top(Ist::kNmi);
  g_tss.ist[static_cast<int>(Ist::kMachineCheck) - 1] = ist_stack_top(Ist::kMachineCheck);
  g_tss.rsp[0] = reinterpret_cast<uint64_t>(boot_stack_top);
  g_tss.iomap_base = sizeof(Tss);
  for (uint8_t& b : g_tss_block.io_bitmap) {
    b = 0xFF;  // Every port denied until a thread with port capabilities runs.
  }
  set_tss_descriptor(g_gdt, g_tss_block);

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

void set_kernel_stack(uint64_t top) { g_tss.rsp[0] = top; }

void* tss_kernel_stack_slot() {
  // The field sits 4 bytes into the packed TSS: writers copy bytes rather than assume alignment.
  return reinterpret_cast<char*>(&g_tss) + offsetof(Tss, rsp);
}

void io_bitmap_set(uint32_t first, uint32_t last, bool allow) {
  for (uint32_t port = first; port <= last && port < kIoBitmapBytes * 8; ++port) {
    uint8_t bit = static_cast<uint8_t>(1u << (port % 8));
    if (allow) {
      g_tss_block.io_bitmap[port / 8] &= static_cast<uint8_t>(~bit);
    } else {
      g_tss_block.io_bitmap[port / 8] |= bit;
    }
  }
}

}  // namespace kernel::x86
