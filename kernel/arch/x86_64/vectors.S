/* SPDX-License-Identifier: MIT */
/*
 * Entry stubs for all 256 interrupt vectors. Each stub makes the stack uniform (a zero error
 * code where the CPU pushes none, then the vector number) and jumps to trap_common, which saves
 * the general registers.
 *
 * From user mode the CPU has switched to TSS.RSP0, which points just past the current thread's
 * UserContext in its TCB, so all of this lands in the TCB; trap_common then moves to the
 * kernel stack and calls trap_from_user, which never returns. From kernel mode (a kernel bug,
 * or an interrupt while the CPU idles) the frame is a TrapFrame on the kernel stack and
 * trap_dispatch returns to the interrupted code.
 */
#include "gprs.h"

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERROR_CODE(n) ((n) == 8 || ((n) >= 10 && (n) <= 14) || (n) == 17 || (n) == 21 || (n) == 29 || (n) == 30)

	.text
	.balign 16
.macro VECTOR n
	.balign 16
vector_\n:
	.if HAS_ERROR_CODE(\n) == 0
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
.endm

.altmacro
.macro VECTORS from, to
	VECTOR %(\from)
	.if \to - \from
	VECTORS %(\from + 1), \to
	.endif
.endm

	VECTORS 0, 63
	VECTORS 64, 127
	VECTORS 128, 191
	VECTORS 192, 255

trap_common:
	/* Entered from user mode: switch to the kernel's GS base (the per-CPU area). */
	testb $3, 24(%rsp)
	jz 1f
	swapgs
1:	PUSH_GPRS
	cld
	mov %rsp, %rdi
	testb $3, 144(%rsp)	/* CS: after 15 registers, vector, error code, RIP */
	jz 3f
	mov %gs:8, %rsp
	xor %ebp, %ebp
	call trap_from_user
	ud2
3:	call trap_dispatch
	.global trap_return
trap_return:
	POP_GPRS
	addq $16, %rsp
	testb $3, 8(%rsp)
	jz 2f
	swapgs
2:	iretq

	.section .rodata
	.balign 8
	.global trap_vector_table
trap_vector_table:
.macro VECTOR_ADDR n
	.quad vector_\n
.endm
.macro VECTOR_ADDRS from, to
	VECTOR_ADDR %(\from)
	.if \to - \from
	VECTOR_ADDRS %(\from + 1), \to
	.endif
.endm
	VECTOR_ADDRS 0, 63
	VECTOR_ADDRS 64, 127
	VECTOR_ADDRS 128, 191
	VECTOR_ADDRS 192, 255
