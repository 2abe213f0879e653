// SPDX-License-Identifier: MIT
//
// A thread control block: 4 KiB, made by retype. Its first bytes are capability slots, so the
// capabilities a thread runs with (its CSpace and VSpace roots, its IPC buffer frame, its reply
// capabilities, its I/O port bindings) take part in the derivation tree like any other:
// revoking an object a thread uses removes the thread's copy too, and destroying the thread
// deletes them. Then come the saved user registers, scheduling and IPC state, and the FPU/vector
// register area.
#pragma once

#include <abi/object_type.hpp>

#include <kstd/types.hpp>

#include "object/slot.hpp"

namespace kernel {

enum TcbSlot : size_t {
  kTcbCSpaceSlot = 0,     // CSpace root (a CNode capability).
  kTcbVSpaceSlot = 1,     // VSpace root (a PML4 capability).
  kTcbIpcBufferSlot = 2,  // The frame holding the IPC buffer.
  kTcbReplySlot = 3,      // The master reply capability: the root of this thread's replies.
  kTcbCallerSlot = 4,     // The reply capability from the last Call this thread received.
  kTcbIoPortSlot0 = 5,    // I/O port bindings 0..3.
  kTcbIoPortSlots = 4,
  kTcbSlotCount = 9,
};

enum class ThreadState : uint8_t {
  kInactive = 0,      // Never started, suspended, or stopped after a fault without a handler.
  kRunnable,          // Ready to run or running.
  kBlockedOnSend,     // Queued on an endpoint with a message (or a fault) to send.
  kBlockedOnReceive,  // Queued on an endpoint waiting for a message.
  kBlockedOnReply,    // Waiting for the answer to a Call or a fault.
  kIdle,              // A CPU's idle thread.
};

// The user registers, saved on every kernel entry. The layout is what the entry code builds
// (kernel/arch/x86_64/entry.S): the CPU pushes ss..rip (TSS.RSP0 points just past this
// structure in the current thread's TCB), the stub the vector and error code, then the general
// registers.
struct UserContext {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector;  // How the thread last entered: kEntrySyscall, or an interrupt vector.
  uint64_t error_code;
  uint64_t rip, cs, rflags, rsp, ss;
};
static_assert(sizeof(UserContext) == 22 * 8);

// UserContext::vector for a thread that entered through `syscall`: it may leave through
// `sysret`, which clobbers RCX and R11 (the ABI says so).
inline constexpr uint64_t kEntrySyscall = 0x100;
// A thread whose registers were written from outside: it must leave through `iretq`.
inline constexpr uint64_t kEntryFullRestore = 0x101;

// What a thread blocked on an endpoint is doing there.
enum IpcFlags : uint8_t {
  kIpcIsCall = 1,          // The send is a Call: the sender waits for a reply.
  kIpcCanGrant = 2,        // The capability used had the grant right (a blocked receiver's:
                           // its reply capability may then carry capabilities back).
  kIpcIsFault = 8,         // The message is a fault the kernel sends on the thread's behalf.
};

enum class FaultKind : uint8_t { kNone = 0, kPageFault, kException, kUnknownSyscall };

struct Endpoint;

struct Tcb {
  Slot slots[kTcbSlotCount];
  UserContext context;

  // Scheduling. A runnable thread other than the current one is in its CPU's ready queue.
  Tcb* sched_next;
  Tcb* sched_prev;
  uint8_t priority;
  uint8_t mcp;  // Maximum controlled priority: the highest it may give itself or others.
  ThreadState state;
  uint8_t in_ready_queue;
  uint32_t time_slice;  // Timer ticks left.

  // IPC.
  Tcb* ep_next;
  Tcb* ep_prev;
  Endpoint* blocked_on;  // While blocked on send or receive.
  uint64_t ipc_badge;    // Badge of the capability a blocked sender used.
  uint8_t ipc_flags;     // IpcFlags of a blocked sender.
  uint8_t ipc_error;     // abi::Status to report when woken by an error (kDeleted).
  uint8_t exit_hint;     // Zero when the architecture's exit path has nothing to check for this
                         // thread in particular (x86: no I/O port bound, not the FPU owner).
  uint8_t padding0;
  uint32_t padding1;
  uint64_t ipc_buffer_vaddr;
  uint64_t fault_ep_cptr;
  uint64_t fs_base;

  // The pending fault, while it waits to be delivered or answered.
  FaultKind fault;
  uint8_t padding2[7];
  uint64_t fault_address;  // CR2 for page faults.
  uint64_t fault_code;     // Error code for page faults and exceptions.
  uint64_t fault_vector;

  uint64_t fpu_used;  // The thread has touched the FPU since it was created.
  uint64_t id;        // For logs: the TCB's physical address.
};

inline constexpr size_t kFpuAreaOffset = 1024;
inline constexpr size_t kFpuAreaSize = (size_t{1} << abi::kTcbBits) - kFpuAreaOffset;

static_assert(sizeof(Tcb) <= kFpuAreaOffset, "the FPU area follows the TCB structure");
static_assert(offsetof(Tcb, slots) == 0, "zombies treat a TCB as an array of slots");

// The FPU/vector save area of a TCB (64-byte aligned, for XSAVE).
inline uint8_t* tcb_fpu_area(Tcb* tcb) {
  return reinterpret_cast<uint8_t*>(tcb) + kFpuAreaOffset;
}

// Sets up a freshly zeroed TCB at physical address `self`: master reply capability, default
// registers (user segments, interrupts on), priority 0, inactive.
void tcb_init(PhysAddr self);

// Stops a thread that is being destroyed: takes it off every queue and cancels its IPC.
void tcb_finalise(Tcb* tcb);

}  // namespace kernel
