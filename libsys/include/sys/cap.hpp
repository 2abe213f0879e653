// SPDX-License-Identifier: MIT
//
// Typed capability handles. A Cap<T> is a cptr in the calling thread's CSpace that names a
// capability of type T (abi::CapType); the type is part of the C++ type, so a TcbCap cannot go
// where an EndpointCap is expected and a bare integer never becomes a handle by accident.
//
// A handle is only a name: the kernel checks the real type on every invocation, so a handle
// that lies (made with the explicit constructor from a wrong cptr, or whose slot was changed
// since) fails with kInvalidCapability, as the raw call would. cap_cast asks the kernel first.
//
// The invocations on each type are member functions that forward to the raw-cptr functions of
// sys/invoke.hpp, which stay for code that needs them (the kernel's system tests pass wrong
// types on purpose). Arguments that name slots rather than capabilities (CNode indices and
// depths, a TCB's fault endpoint, which is a cptr in that thread's CSpace) stay integers.
#pragma once

#include <abi/object_type.hpp>
#include <abi/result.hpp>

#include <kstd/type_traits.hpp>

#include <stdint.h>

#include <sys/invoke.hpp>

namespace sys {

template <abi::CapType T>
class Cap;

using UntypedCap = Cap<abi::CapType::kUntyped>;
using CNodeCap = Cap<abi::CapType::kCNode>;
using TcbCap = Cap<abi::CapType::kTcb>;
using EndpointCap = Cap<abi::CapType::kEndpoint>;
using ReplyCap = Cap<abi::CapType::kReply>;
// 4 KiB and 2 MiB frames: the ABI gives both the one capability type kFrame (the size is an
// object property, abi::ObjectType::kFrame4K/kFrame2M), so one handle type covers both.
using FrameCap = Cap<abi::CapType::kFrame>;
using PageTableCap = Cap<abi::CapType::kPageTable>;
using PageDirectoryCap = Cap<abi::CapType::kPageDirectory>;
using PdptCap = Cap<abi::CapType::kPdpt>;
using Pml4Cap = Cap<abi::CapType::kPml4>;
using AsidControlCap = Cap<abi::CapType::kAsidControl>;
using AsidPoolCap = Cap<abi::CapType::kAsidPool>;
using IrqControlCap = Cap<abi::CapType::kIrqControl>;
using IrqHandlerCap = Cap<abi::CapType::kIrqHandler>;
using IoPortControlCap = Cap<abi::CapType::kIoPortControl>;
using IoPortCap = Cap<abi::CapType::kIoPort>;

// Paging structures below the PML4, which sys::table_map maps by type.
constexpr bool is_table_type(abi::CapType t) {
  return t == abi::CapType::kPageTable || t == abi::CapType::kPageDirectory ||
         t == abi::CapType::kPdpt;
}

template <abi::CapType T>
class Cap {
  // kNull is what an empty slot holds and kZombie never reaches user space: neither names
  // something a program could hold a handle to.
  static_assert(T != abi::CapType::kNull && T != abi::CapType::kZombie);

 public:
  static constexpr abi::CapType kType = T;

  // The null handle: cptr 0, the null slot, which every lookup fails on.
  constexpr Cap() = default;
  // Trusts the caller that `cptr` holds a T (the kernel still checks on use); cap_cast checks.
  constexpr explicit Cap(uint64_t cptr) : cptr_(cptr) {}

  constexpr uint64_t cptr() const { return cptr_; }
  constexpr bool is_null() const { return cptr_ == 0; }
  friend constexpr bool operator==(const Cap&, const Cap&) = default;

  // --- CNode (indices and depths as in invoke.hpp) ---
  Result<void> copy(uint64_t dest, uint64_t dest_depth, CNodeCap src_root, uint64_t src,
                    uint64_t src_depth, uint8_t rights = abi::Rights::kAllBits) const
      requires(T == abi::CapType::kCNode) {
    return cnode_copy(cptr_, dest, dest_depth, src_root.cptr(), src, src_depth, rights);
  }
  Result<void> mint(uint64_t dest, uint64_t dest_depth, CNodeCap src_root, uint64_t src,
                    uint64_t src_depth, uint8_t rights, uint64_t data) const
      requires(T == abi::CapType::kCNode) {
    return cnode_mint(cptr_, dest, dest_depth, src_root.cptr(), src, src_depth, rights, data);
  }
  Result<void> move(uint64_t dest, uint64_t dest_depth, CNodeCap src_root, uint64_t src,
                    uint64_t src_depth) const requires(T == abi::CapType::kCNode) {
    return cnode_move(cptr_, dest, dest_depth, src_root.cptr(), src, src_depth);
  }
  Result<void> delete_slot(uint64_t index, uint64_t depth) const
      requires(T == abi::CapType::kCNode) {
    return cnode_delete(cptr_, index, depth);
  }
  Result<void> revoke(uint64_t index, uint64_t depth) const requires(T == abi::CapType::kCNode) {
    return cnode_revoke(cptr_, index, depth);
  }
  Result<CapInfo> describe(uint64_t index, uint64_t depth) const
      requires(T == abi::CapType::kCNode) {
    return cnode_describe(cptr_, index, depth);
  }

  // --- Untyped ---
  Result<void> retype(abi::ObjectType type, uint64_t size_bits, CNodeCap root, uint64_t index,
                      uint64_t depth, uint64_t offset, uint64_t count) const
      requires(T == abi::CapType::kUntyped) {
    return untyped_retype(cptr_, type, size_bits, root.cptr(), index, depth, offset, count);
  }
  Result<UntypedInfo> describe() const requires(T == abi::CapType::kUntyped) {
    return untyped_describe(cptr_);
  }

  // --- TCB ---
  // A null cspace, vspace or ipc_frame leaves that part unchanged; `fault_ep` is a cptr in the
  // thread's own CSpace (looked up when a fault happens), hence an integer.
  Result<void> configure(uint64_t fault_ep, CNodeCap cspace, uint64_t cspace_data, Pml4Cap vspace,
                         uint64_t ipc_vaddr, FrameCap ipc_frame) const
      requires(T == abi::CapType::kTcb) {
    return tcb_configure(cptr_, fault_ep, cspace.cptr(), cspace_data, vspace.cptr(), ipc_vaddr,
                         ipc_frame.cptr());
  }
  Result<void> set_priority(TcbCap authority, uint64_t priority) const
      requires(T == abi::CapType::kTcb) {
    return tcb_set_priority(cptr_, authority.cptr(), priority);
  }
  Result<void> set_mc_priority(TcbCap authority, uint64_t mcp) const
      requires(T == abi::CapType::kTcb) {
    return tcb_set_mc_priority(cptr_, authority.cptr(), mcp);
  }
  Result<Registers> read_registers(bool suspend) const requires(T == abi::CapType::kTcb) {
    return tcb_read_registers(cptr_, suspend);
  }
  Result<void> write_registers(bool resume, const Registers& regs,
                               uint64_t count = abi::kRegisterCount) const
      requires(T == abi::CapType::kTcb) {
    return tcb_write_registers(cptr_, resume, regs, count);
  }
  Result<void> resume() const requires(T == abi::CapType::kTcb) { return tcb_resume(cptr_); }
  Result<void> suspend() const requires(T == abi::CapType::kTcb) { return tcb_suspend(cptr_); }
  Result<void> set_fs_base(uint64_t base) const requires(T == abi::CapType::kTcb) {
    return tcb_set_fs_base(cptr_, base);
  }
  Result<void> bind_ioport(uint64_t index, IoPortCap ioport) const
      requires(T == abi::CapType::kTcb) {
    return tcb_bind_ioport(cptr_, index, ioport.cptr());
  }

  // --- Frames and paging structures ---
  Result<void> map(Pml4Cap vspace, uint64_t vaddr, uint8_t rights, uint64_t attributes = 0) const
      requires(T == abi::CapType::kFrame) {
    return frame_map(cptr_, vspace.cptr(), vaddr, rights, attributes);
  }
  Result<uint64_t> address() const requires(T == abi::CapType::kFrame) {
    return frame_address(cptr_);
  }
  Result<void> map(Pml4Cap vspace, uint64_t vaddr) const requires(is_table_type(T)) {
    return table_map(T, cptr_, vspace.cptr(), vaddr);
  }
  Result<void> unmap() const requires(T == abi::CapType::kFrame || is_table_type(T)) {
    if constexpr (T == abi::CapType::kFrame) {
      return frame_unmap(cptr_);
    } else {
      return table_unmap(T, cptr_);
    }
  }

  // --- ASIDs ---
  Result<void> make_pool(UntypedCap ut, CNodeCap root, uint64_t index, uint64_t depth) const
      requires(T == abi::CapType::kAsidControl) {
    return asid_control_make_pool(cptr_, ut.cptr(), root.cptr(), index, depth);
  }
  Result<void> assign(Pml4Cap pml4) const requires(T == abi::CapType::kAsidPool) {
    return asid_pool_assign(cptr_, pml4.cptr());
  }

  // --- Interrupts and I/O ports ---
  Result<void> get(uint64_t irq, CNodeCap root, uint64_t index, uint64_t depth) const
      requires(T == abi::CapType::kIrqControl) {
    return irq_control_get(cptr_, irq, root.cptr(), index, depth);
  }
  Result<void> ack() const requires(T == abi::CapType::kIrqHandler) {
    return irq_handler_ack(cptr_);
  }
  Result<void> set_endpoint(EndpointCap ep) const requires(T == abi::CapType::kIrqHandler) {
    return irq_handler_set_endpoint(cptr_, ep.cptr());
  }
  Result<void> clear() const requires(T == abi::CapType::kIrqHandler) {
    return irq_handler_clear(cptr_);
  }
  Result<void> issue(uint64_t first, uint64_t last, CNodeCap root, uint64_t index,
                     uint64_t depth) const requires(T == abi::CapType::kIoPortControl) {
    return ioport_control_issue(cptr_, first, last, root.cptr(), index, depth);
  }

 private:
  uint64_t cptr_ = 0;
};

// Whether a slot described as `info` holds a capability of type `want`: kEmptySlot when it
// holds nothing, kInvalidCapability when it holds another type. No system call, so host tests
// cover it; cap_cast asks the kernel for the CapInfo.
inline Result<void> check_cap_type(const CapInfo& info, abi::CapType want) {
  if (info.type == abi::CapType::kNull) {
    return abi::err(Status::kEmptySlot);
  }
  if (info.type != want) {
    return abi::err(Status::kInvalidCapability);
  }
  return {};
}

// The capability at `cptr` as a Cap<T>, after asking the kernel what the slot holds.
// `root` must be the calling thread's CSpace root (a server's abi::kServerSlotCNode, the root
// task's abi::kSlotInitCNode), in which cptrs resolve with all 64 bits. Errors: those of
// check_cap_type, and the lookup's (kFailedLookup, kGuardMismatch, ...) when `cptr` does not
// resolve.
template <abi::CapType T>
Result<Cap<T>> cap_cast(CNodeCap root, uint64_t cptr) {
  CapInfo info = TRY(root.describe(cptr, 64));
  TRY(check_cap_type(info, T));
  return Cap<T>(cptr);
}

// cap_cast<EndpointCap>(...) reads better than cap_cast<abi::CapType::kEndpoint>(...).
template <typename C>
  requires kstd::is_same_v<C, Cap<C::kType>>
Result<C> cap_cast(CNodeCap root, uint64_t cptr) {
  return cap_cast<C::kType>(root, cptr);
}

}  // namespace sys
