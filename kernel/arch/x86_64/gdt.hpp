// SPDX-License-Identifier: MIT
//
// The GDT and TSS. Long mode ignores segmentation except for privilege levels, so the GDT
// holds the few descriptors that SYSCALL/SYSRET and interrupts require, in the order SYSRET
// demands, plus the TSS that names the ring-0 stack and the interrupt stacks.
#pragma once

#include <kstd/types.hpp>

namespace kernel::x86 {

// Selectors. SYSRET loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8, so the user
// data segment must sit directly below the user code segment.
inline constexpr uint16_t kKernelCode = 0x08;
inline constexpr uint16_t kKernelData = 0x10;
inline constexpr uint16_t kUserCode32 = 0x18;  // Unused, but SYSRET's arithmetic needs it.
inline constexpr uint16_t kUserData = 0x20 | 3;
inline constexpr uint16_t kUserCode = 0x28 | 3;
inline constexpr uint16_t kTssSelector = 0x30;

// RSP0 is the stack the CPU switches to when an interrupt arrives from user mode: the kernel
// points it just past the current thread's saved registers, so the CPU saves them in the TCB.
struct [[gnu::packed]] Tss {
  uint32_t reserved0;
  uint64_t rsp[3];  // Stack for a switch to ring 0..2; only rsp[0] is used.
  uint64_t reserved1;
  uint64_t ist[7];  // Interrupt stack table; index 1..7 in an IDT gate selects one.
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;  // Offset of the I/O permission bitmap from the TSS base.
};
static_assert(sizeof(Tss) == 104);

// Loads this CPU's GDT and TSS and reloads every segment register.
void init_gdt();

inline constexpr uint32_t kIoBitmapBytes = 65536 / 8;

struct CpuLocal;

// Allows or denies user-mode access to ports [first, last] on `cpu`.
void io_bitmap_set(CpuLocal* cpu, uint32_t first, uint32_t last, bool allow);

}  // namespace kernel::x86
