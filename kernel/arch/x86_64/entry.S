/* SPDX-License-Identifier: MIT */
/*
 * System call entry and the two ways back to user mode.
 *
 * A thread's registers live in its TCB (UserContext, object/tcb.hpp). On `syscall` the entry
 * below pushes them there itself: GS:24 holds the address just past the current thread's
 * UserContext, so pushing fills it in place. (Interrupts and exceptions from user mode do the
 * same through TSS.RSP0; see vectors.S.) Then it switches to the CPU's kernel stack and calls C,
 * which never returns: every exit goes through restore_user_sysret or restore_user_iret with
 * the context of whichever thread runs next.
 */
#include "gprs.h"

#define USER_CS (0x28 | 3)
#define USER_DS (0x20 | 3)
#define ENTRY_SYSCALL 0x100
#define SYSCALL_CALL -1		/* abi::Syscall::kCall */
#define SYSCALL_REPLY_RECV -2	/* abi::Syscall::kReplyRecv */

/* Saves the user registers into the current TCB and loads the kernel stack; RDI = the TCB. */
.macro SYSCALL_SAVE
	swapgs
	mov %rsp, %gs:16
	mov %gs:24, %rsp
	pushq $USER_DS
	pushq %gs:16
	pushq %r11
	pushq $USER_CS
	pushq %rcx
	pushq $0
	pushq $ENTRY_SYSCALL
	PUSH_GPRS
	mov %gs:32, %rdi
	mov %gs:8, %rsp
	xor %ebp, %ebp
.endm

	.text
/*
 * The entry LSTAR names. Call and ReplyRecv try the IPC fast path first; it returns only to
 * decline. (Without the fast path, or with fastpath=0 on the command line, LSTAR names
 * syscall_entry_general instead.)
 */
	.global syscall_entry
	.balign 16
syscall_entry:
	SYSCALL_SAVE
#if defined(KEEL_FASTPATH)
	cmp $SYSCALL_CALL, %rax
	je 1f
	cmp $SYSCALL_REPLY_RECV, %rax
	jne 2f
	call fastpath_reply_recv
	jmp 3f
1:	call fastpath_call
3:	mov %gs:32, %rdi
2:
#endif
	call syscall_from_user
	ud2

	.global syscall_entry_general
	.balign 16
syscall_entry_general:
	SYSCALL_SAVE
	call syscall_from_user
	ud2

/* restore_user_sysret(UserContext* ctx): RCX and R11 are clobbered (RIP and RFLAGS). */
	.global restore_user_sysret
	.balign 16
restore_user_sysret:
	mov %rdi, %rsp
	POP_GPRS
	mov 16(%rsp), %rcx	/* rip */
	mov 32(%rsp), %r11	/* rflags */
	mov 40(%rsp), %rsp	/* user rsp, last: nothing is read from the context after it */
	swapgs
	sysretq

/* restore_user_iret(UserContext* ctx): every register as saved. */
	.global restore_user_iret
	.balign 16
restore_user_iret:
	mov %rdi, %rsp
	POP_GPRS
	addq $16, %rsp
	swapgs
	iretq

/* run_idle(stack_top): the idle loop, on a fresh kernel stack with interrupts on. */
	.global run_idle
	.balign 16
run_idle:
	mov %rdi, %rsp
	xor %ebp, %ebp
1:	sti
	hlt
	cli
	jmp 1b
