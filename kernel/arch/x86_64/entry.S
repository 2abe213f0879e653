/* SPDX-License-Identifier: MIT */
/*
 * System call entry and the two ways back to user mode.
 *
 * A thread's registers live in its TCB (UserContext, object/tcb.hpp). On `syscall` the entry
 * below pushes them there itself: TSS.RSP0, which the CPU's per-CPU area holds at GS:32, is the
 * address just past the current thread's UserContext, so pushing fills it in place. (Interrupts
 * and exceptions from user mode do the same through TSS.RSP0; see vectors.S.) Then it switches
 * to the CPU's kernel stack and calls C, which never returns: every exit goes through
 * restore_user_sysret or restore_user_iret with the context of whichever thread runs next.
 */
#include "gprs.h"

#define ENTRY_SYSCALL 0x100
#define TCB_CONTEXT 288		/* offsetof(kernel::Tcb, context), checked in thread.cpp */
#define SYSCALL_CALL -1		/* abi::Syscall::kCall */
#define SYSCALL_REPLY_RECV -2	/* abi::Syscall::kReplyRecv */

/*
 * Saves the user registers into the current TCB and loads the kernel stack; RDI = the TCB. RBP
 * still holds the user's value (the fast path leaves it alone; C code with frame pointers wants
 * it zero, to end the chain).
 * CS and SS are not stored: they hold the user selectors from init_user_context, which is all a
 * thread in 64-bit mode can run with and what interrupt entries store too. Nor is the error code,
 * which only exceptions have. RCX and R11 hold RIP and RFLAGS, saved twice: return_to_user
 * (exit.hpp) counts on it.
 */
.macro SYSCALL_SAVE
	swapgs
	mov %rsp, %gs:16
	mov %gs:32, %rsp
	sub $8, %rsp		/* past ss */
	pushq %gs:16		/* rsp */
	pushq %r11		/* rflags */
	mov %rcx, -16(%rsp)	/* rip, past cs */
	sub $24, %rsp		/* past cs, rip and the error code */
	pushq $ENTRY_SYSCALL
	PUSH_GPRS
	lea -TCB_CONTEXT(%rsp), %rdi
	mov %gs:8, %rsp
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
	sub $TCB_CONTEXT + 22 * 8, %rdi
2:
#endif
	xor %ebp, %ebp
	call syscall_from_user
	ud2

	.global syscall_entry_general
	.balign 16
syscall_entry_general:
	SYSCALL_SAVE
	xor %ebp, %ebp
	call syscall_from_user
	ud2

/*
 * Jumped to (exit.hpp) with RSP = the UserContext of a thread that entered through `syscall`:
 * its saved RCX and R11 are the RIP and RFLAGS to return to.
 */
	.global restore_user_sysret
	.balign 16
restore_user_sysret:
	POP_GPRS
	mov 40(%rsp), %rsp	/* user rsp, last: nothing is read from the context after it */
	swapgs
	sysretq

/* Jumped to with RSP = a UserContext: every register as saved. */
	.global restore_user_iret
	.balign 16
restore_user_iret:
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
