/* SPDX-License-Identifier: MIT */
/*
 * The kernel's virtual layout, shared by assembly, the linker script and C++.
 *
 *   0x0000000000000000 .. 0x00007FFFFFFFFFFF  user space (the top page is never mapped)
 *   0xFFFF800000000000 .. +512 GiB            direct map of physical memory
 *   0xFFFFFFFF80000000 .. -1                  kernel image (physical KERNEL_PHYS and up)
 */
#ifndef KEEL_ARCH_X86_64_LAYOUT_H
#define KEEL_ARCH_X86_64_LAYOUT_H

#define KERNEL_VMA 0xFFFFFFFF80000000
#define KERNEL_PHYS 0x100000
#define DIRECT_MAP_BASE 0xFFFF800000000000
#define DIRECT_MAP_SIZE 0x8000000000 /* 512 GiB: one PML4 slot */
#define KERNEL_STACK_SIZE 16384

#endif
