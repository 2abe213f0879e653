/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 entry. GRUB jumps to _start in 32-bit protected mode with paging off, EAX holding
 * the multiboot2 magic and EBX the physical address of the boot information (BIOS and UEFI
 * alike: without an EFI entry tag GRUB exits boot services and enters here). This file checks
 * the CPU, builds boot page tables (the first 4 GiB identity mapped, and the kernel's 2 GiB
 * window at -2 GiB), enters long mode and calls kernel_main on the kernel stack. The kernel
 * replaces these tables with its own as soon as it knows the memory map.
 */
#include "layout.h"

#define PHYS(sym) ((sym) - KERNEL_VMA)

#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_BOOT_MAGIC 0x36d76289

#define COM1 0x3F8

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Module alignment tag: page-aligned modules can be handed to user space as frames. */
	.short 6, 0
	.long 8
	/* End tag. */
	.short 0, 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	/* Timestamp first, so that the boot-time report covers all of the kernel's work. */
	mov %eax, %ebp
	rdtsc
	mov %eax, PHYS(boot_tsc)
	mov %edx, PHYS(boot_tsc) + 4

	cmp $MB2_BOOT_MAGIC, %ebp
	jne .Lbad_magic
	mov %ebx, %esi

	/* Zero .bss: it holds the page tables and the stack, and C++ expects zeroed globals. */
	mov $PHYS(__bss_start), %edi
	mov $PHYS(__bss_end), %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	mov %ebp, PHYS(boot_magic)
	mov %esi, PHYS(boot_mbi)
	mov $PHYS(boot_stack_top), %esp

	/* Long mode is required; NX is used when present. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb .Lno_long_mode
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx
	jz .Lno_long_mode
	mov %edx, %ebx

	/* Four page directories of 2 MiB pages identity-map the first 4 GiB. */
	mov $PHYS(boot_pd), %edi
	mov $0x83, %eax /* present | writable | 2 MiB page */
	mov $2048, %ecx
1:	mov %eax, (%edi)
	movl $0, 4(%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	mov $PHYS(boot_pdpt_low), %edi
	mov $PHYS(boot_pd) + 3, %eax
	mov %eax, 0(%edi)
	add $0x1000, %eax
	mov %eax, 8(%edi)
	add $0x1000, %eax
	mov %eax, 16(%edi)
	add $0x1000, %eax
	mov %eax, 24(%edi)

	/* -2 GiB maps physical 0..2 GiB, which contains the kernel image. */
	mov $PHYS(boot_pdpt_high), %edi
	movl $PHYS(boot_pd) + 3, 510 * 8(%edi)
	movl $PHYS(boot_pd) + 0x1000 + 3, 511 * 8(%edi)

	mov $PHYS(boot_pml4), %edi
	movl $PHYS(boot_pdpt_low) + 3, 0(%edi)
	movl $PHYS(boot_pdpt_high) + 3, 511 * 8(%edi)

	/* PAE, then CR3, then EFER.LME (and NXE), then paging with write protection. */
	mov %cr4, %eax
	or $(1 << 5), %eax
	mov %eax, %cr4
	mov $PHYS(boot_pml4), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $(1 << 8), %eax
	test $(1 << 20), %ebx
	jz 2f
	or $(1 << 11), %eax
2:	wrmsr
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16) | 1), %eax
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_entry

.Lbad_magic:
	mov $msg_bad_magic, %esi
	jmp .Lfatal32
.Lno_long_mode:
	mov $msg_no_long_mode, %esi
.Lfatal32:
	/* Polled output on COM1: nothing else exists yet. */
	mov $COM1 + 5, %dx
3:	in %dx, %al
	test $0x20, %al
	jz 3b
	lodsb
	test %al, %al
	jz 4f
	mov $COM1, %dx
	out %al, %dx
	jmp .Lfatal32
4:	cli
	hlt
	jmp 4b

	.code64
long_mode_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	movabs $higher_half_entry, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF /* 64-bit code, ring 0 */
	.quad 0x00CF92000000FFFF /* data, ring 0 */
boot_gdt_ptr:
	.word boot_gdt_ptr - boot_gdt - 1
	.long boot_gdt
msg_bad_magic:
	.asciz "keel: not started by a multiboot2 loader (bad magic in EAX); halting\r\n"
msg_no_long_mode:
	.asciz "keel: this CPU does not support 64-bit long mode; halting\r\n"

	.text
higher_half_entry:
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp
	mov boot_magic(%rip), %edi
	mov boot_mbi(%rip), %esi
	call kernel_main
5:	cli
	hlt
	jmp 5b

	.data
	.balign 8
	.global boot_tsc
boot_tsc:
	.quad 0
boot_magic:
	.long 0
boot_mbi:
	.long 0

	/*
	 * The boot stack gets its own page-aligned section with an unmapped guard page below it
	 * once the kernel's own page tables are in place: an overflow then faults instead of
	 * silently corrupting .bss.
	 */
	.section .bss.stack, "aw", @nobits
	.balign 4096
	.global boot_stack_guard
boot_stack_guard:
	.skip 4096
	.global boot_stack_bottom
boot_stack_bottom:
	.skip KERNEL_STACK_SIZE
	.global boot_stack_top
boot_stack_top:

	.section .bss.boot_page_tables, "aw", @nobits
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_pd:
	.skip 4 * 4096
