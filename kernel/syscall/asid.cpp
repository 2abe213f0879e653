// SPDX-License-Identifier: MIT
//
// ASID control (make a pool) and ASID pool (assign an ASID to an address space) invocations.
#include <abi/invocation.hpp>

#include <kstd/string.hpp>

#include "mem/phys.hpp"
#include "object/asid.hpp"
#include "object/mdb.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

using abi::Status;

abi::Result<void> decode_asid_control(Slot*, Invocation& inv) {
  if (static_cast<abi::Label>(inv.label) != abi::Label::kAsidControlMakePool) {
    return abi::err(Status::kIllegalOperation);
  }
  Slot* ut = TRY(lookup_typed_arg(inv, inv.args[0], CapType::kUntyped));
  if (ut->cap.untyped_size_bits() != abi::kAsidPoolBits || ut->cap.untyped_is_device()) {
    return abi::err(Status::kInvalidCapability);
  }
  if (has_children(*ut)) {
    return abi::err(Status::kRevokeFirst);
  }
  Slot* root = TRY(lookup_typed_arg(inv, inv.args[1], CapType::kCNode));
  Slot* dest = TRY(lookup_slot_arg(root->cap, inv.args[2], inv.args[3]));
  if (!dest->empty()) {
    return abi::err(Status::kDeleteFirst);
  }
  uint64_t index = TRY(asid_free_pool_index());

  PhysAddr base = ut->cap.object();
  memset(mem::phys_to<void>(base), 0, sizeof(AsidPool));
  asid_install_pool(index, base);
  mdb_insert_new(ut, dest, Cap::asid_pool(base, index));
  ut->cap = ut->cap.with_untyped_watermark(sizeof(AsidPool));
  return {};
}

abi::Result<void> decode_asid_pool(Slot* target, Invocation& inv) {
  if (static_cast<abi::Label>(inv.label) != abi::Label::kAsidPoolAssign) {
    return abi::err(Status::kIllegalOperation);
  }
  Slot* vspace = TRY(lookup_typed_arg(inv, inv.args[0], CapType::kPml4));
  // Search the pools rather than trust the capability: its ASID may have gone with its pool.
  if (asid_of(vspace->cap.object())) {
    return abi::err(Status::kIllegalOperation);
  }
  uint64_t asid = TRY(asid_assign(target->cap.asid_pool_index(), vspace->cap.object()));
  vspace->cap = vspace->cap.with_pml4_asid(asid);
  return {};
}

}  // namespace kernel
