// SPDX-License-Identifier: MIT
//
// Invocations on kernel objects, one function per row of abi/invocations.def. Each returns
// abi::Result: the value the kernel replied, or the abi::Status it failed with. The argument
// order and meaning follow the .def rows, which document every error. sys/cap.hpp offers the
// same invocations on typed capability handles; these raw forms take any cptr.
#pragma once

#include <abi/invocation.hpp>
#include <abi/object_type.hpp>
#include <abi/registers.hpp>
#include <abi/result.hpp>
#include <abi/rights.hpp>

#include <stdint.h>

#include <initializer_list>

namespace sys {

using abi::Result;
using abi::Status;

struct Reply {
  uint64_t length = 0;
  uint64_t words[abi::kRegisterCount + 5] = {};
};

// Calls `cptr` with `label` and `args`; on success returns the reply words.
Result<Reply> invoke(uint64_t cptr, abi::Label label, std::initializer_list<uint64_t> args);
Result<Reply> invoke(uint64_t cptr, abi::Label label, const uint64_t* args, uint64_t count);

// Shorthand: the status alone.
Result<void> invoke_void(uint64_t cptr, abi::Label label, std::initializer_list<uint64_t> args);

// --- CNode ---
inline Result<void> cnode_copy(uint64_t root, uint64_t dest, uint64_t dest_depth,
                               uint64_t src_root, uint64_t src, uint64_t src_depth,
                               uint8_t rights = abi::Rights::kAllBits) {
  return invoke_void(root, abi::Label::kCNodeCopy,
                     {dest, dest_depth, src_root, src, src_depth, rights});
}
inline Result<void> cnode_mint(uint64_t root, uint64_t dest, uint64_t dest_depth,
                               uint64_t src_root, uint64_t src, uint64_t src_depth,
                               uint8_t rights, uint64_t data) {
  return invoke_void(root, abi::Label::kCNodeMint,
                     {dest, dest_depth, src_root, src, src_depth, rights, data});
}
inline Result<void> cnode_move(uint64_t root, uint64_t dest, uint64_t dest_depth,
                               uint64_t src_root, uint64_t src, uint64_t src_depth) {
  return invoke_void(root, abi::Label::kCNodeMove, {dest, dest_depth, src_root, src, src_depth});
}
inline Result<void> cnode_mutate(uint64_t root, uint64_t dest, uint64_t dest_depth,
                                 uint64_t src_root, uint64_t src, uint64_t src_depth,
                                 uint64_t data) {
  return invoke_void(root, abi::Label::kCNodeMutate,
                     {dest, dest_depth, src_root, src, src_depth, data});
}
inline Result<void> cnode_delete(uint64_t root, uint64_t index, uint64_t depth) {
  return invoke_void(root, abi::Label::kCNodeDelete, {index, depth});
}
inline Result<void> cnode_revoke(uint64_t root, uint64_t index, uint64_t depth) {
  return invoke_void(root, abi::Label::kCNodeRevoke, {index, depth});
}
struct CapInfo {
  abi::CapType type;
  abi::Rights rights;
  uint64_t object;
  uint64_t data;          // The type-specific word: badge, guard...
  uint64_t mapped_vaddr;  // Frames and page tables: where mapped, or kNotMapped.

  static constexpr uint64_t kNotMapped = ~uint64_t{0};
};
Result<CapInfo> cnode_describe(uint64_t root, uint64_t index, uint64_t depth);

// --- Untyped ---
inline Result<void> untyped_retype(uint64_t ut, abi::ObjectType type, uint64_t size_bits,
                                   uint64_t root, uint64_t index, uint64_t depth,
                                   uint64_t offset, uint64_t count) {
  return invoke_void(ut, abi::Label::kUntypedRetype,
                     {static_cast<uint64_t>(type), size_bits, root, index, depth, offset, count});
}
struct UntypedInfo {
  uint64_t paddr;
  uint64_t size_bits;
  bool device;
  uint64_t free_bytes;
};
Result<UntypedInfo> untyped_describe(uint64_t ut);

// --- ASIDs ---
inline Result<void> asid_control_make_pool(uint64_t ctl, uint64_t ut, uint64_t root,
                                           uint64_t index, uint64_t depth) {
  return invoke_void(ctl, abi::Label::kAsidControlMakePool, {ut, root, index, depth});
}
inline Result<void> asid_pool_assign(uint64_t pool, uint64_t pml4) {
  return invoke_void(pool, abi::Label::kAsidPoolAssign, {pml4});
}

// --- TCB ---
inline Result<void> tcb_configure(uint64_t tcb, uint64_t fault_ep, uint64_t cspace,
                                  uint64_t cspace_data, uint64_t vspace, uint64_t ipc_vaddr,
                                  uint64_t ipc_frame) {
  return invoke_void(tcb, abi::Label::kTcbConfigure,
                     {fault_ep, cspace, cspace_data, vspace, ipc_vaddr, ipc_frame});
}
inline Result<void> tcb_set_priority(uint64_t tcb, uint64_t authority, uint64_t priority) {
  return invoke_void(tcb, abi::Label::kTcbSetPriority, {authority, priority});
}
inline Result<void> tcb_set_mc_priority(uint64_t tcb, uint64_t authority, uint64_t mcp) {
  return invoke_void(tcb, abi::Label::kTcbSetMcPriority, {authority, mcp});
}
struct Registers {
  uint64_t r[abi::kRegisterCount];
};
Result<Registers> tcb_read_registers(uint64_t tcb, bool suspend);
Result<void> tcb_write_registers(uint64_t tcb, bool resume, const Registers& regs,
                                 uint64_t count = abi::kRegisterCount);
inline Result<void> tcb_resume(uint64_t tcb) {
  return invoke_void(tcb, abi::Label::kTcbResume, {});
}
inline Result<void> tcb_suspend(uint64_t tcb) {
  return invoke_void(tcb, abi::Label::kTcbSuspend, {});
}
inline Result<void> tcb_set_fs_base(uint64_t tcb, uint64_t base) {
  return invoke_void(tcb, abi::Label::kTcbSetFsBase, {base});
}
inline Result<void> tcb_bind_ioport(uint64_t tcb, uint64_t index, uint64_t ioport) {
  return invoke_void(tcb, abi::Label::kTcbBindIoPort, {index, ioport});
}

// --- Address spaces ---
inline Result<void> frame_map(uint64_t frame, uint64_t vspace, uint64_t vaddr, uint8_t rights,
                              uint64_t attributes = 0) {
  return invoke_void(frame, abi::Label::kFrameMap, {vspace, vaddr, rights, attributes});
}
inline Result<void> frame_unmap(uint64_t frame) {
  return invoke_void(frame, abi::Label::kFrameUnmap, {});
}
Result<uint64_t> frame_address(uint64_t frame);
// Maps a page table, page directory or PDPT (by `type`) covering vaddr.
Result<void> table_map(abi::CapType type, uint64_t table, uint64_t vspace, uint64_t vaddr);
Result<void> table_unmap(abi::CapType type, uint64_t table);

// --- Interrupts and I/O ports ---
inline Result<void> irq_control_get(uint64_t ctl, uint64_t irq, uint64_t root, uint64_t index,
                                    uint64_t depth) {
  return invoke_void(ctl, abi::Label::kIrqControlGet, {irq, root, index, depth});
}
inline Result<void> irq_handler_ack(uint64_t handler) {
  return invoke_void(handler, abi::Label::kIrqHandlerAck, {});
}
inline Result<void> irq_handler_set_endpoint(uint64_t handler, uint64_t ep) {
  return invoke_void(handler, abi::Label::kIrqHandlerSetEndpoint, {ep});
}
inline Result<void> irq_handler_clear(uint64_t handler) {
  return invoke_void(handler, abi::Label::kIrqHandlerClear, {});
}
inline Result<void> ioport_control_issue(uint64_t ctl, uint64_t first, uint64_t last,
                                         uint64_t root, uint64_t index, uint64_t depth) {
  return invoke_void(ctl, abi::Label::kIoPortControlIssue, {first, last, root, index, depth});
}

}  // namespace sys
