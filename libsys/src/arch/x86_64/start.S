/* SPDX-License-Identifier: MIT */
/*
 * Program entry. The kernel (for the root task) or the root task (for servers) starts a user
 * program here with RSP at the top of its stack, 16-byte aligned, and RDI holding the program's
 * start argument (the boot-info address for the root task). No return address is pushed.
 */
	.section .text.start, "ax"
	.global _start
_start:
	xor %ebp, %ebp
	and $-16, %rsp
	call sys_start
1:	ud2
	jmp 1b

/*
 * sys_thread_entry: threads made by sys::Thread start here with RDI = entry function and
 * RSI = argument on an empty stack; align it and call sys_thread_main, which never returns.
 */
	.text
	.global sys_thread_entry
sys_thread_entry:
	xor %ebp, %ebp
	and $-16, %rsp
	call sys_thread_main
2:	ud2
	jmp 2b
