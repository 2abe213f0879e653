// SPDX-License-Identifier: MIT
//
// Untyped invocations: retype and describe.
#include <abi/invocation.hpp>

#include <kstd/bit.hpp>

#include "object/cnode.hpp"
#include "object/mdb.hpp"
#include "object/untyped.hpp"
#include "syscall/invocation.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::ObjectType;
using abi::Status;

constexpr uint64_t kMaxRetypeCount = 256;

abi::Result<void> check_size_bits(ObjectType type, uint64_t size_bits) {
  switch (type) {
    case ObjectType::kUntyped:
      if (size_bits < abi::kMinUntypedBits || size_bits > abi::kMaxUntypedBits) {
        return abi::err(Status::kRangeError);
      }
      return {};
    case ObjectType::kCNode:
      if (size_bits < abi::kMinCNodeRadix || size_bits > abi::kMaxCNodeRadix) {
        return abi::err(Status::kRangeError);
      }
      return {};
    default: return {};  // Fixed-size objects ignore size_bits.
  }
}

// The CNode that receives the new capabilities: the CNode at (index, depth) below `root`, or
// `root` itself when depth is 0.
abi::Result<Cap> destination_cnode(const Invocation& inv, uint64_t root_cptr, uint64_t index,
                                   uint64_t depth) {
  Slot* root = TRY(lookup_typed_arg(inv, root_cptr, CapType::kCNode));
  if (depth == 0) {
    return root->cap;
  }
  Slot* node = TRY(lookup_slot_arg(root->cap, index, depth));
  if (node->empty()) {
    return abi::err(Status::kEmptySlot);
  }
  if (node->cap.type() != CapType::kCNode) {
    return abi::err(Status::kInvalidCapability);
  }
  return node->cap;
}

abi::Result<RetypePlan> plan_retype(const Slot* untyped, const Invocation& inv) {
  const Cap& ut = untyped->cap;
  if (inv.args[0] >= abi::kObjectTypeCount || inv.args[0] == uint64_t(ObjectType::kAsidPool)) {
    return abi::err(Status::kInvalidArgument);
  }
  auto type = static_cast<ObjectType>(inv.args[0]);
  uint64_t size_bits = inv.args[1];
  TRY(check_size_bits(type, size_bits));
  bool device_ok = type == ObjectType::kUntyped || type == ObjectType::kFrame4K ||
                   type == ObjectType::kFrame2M;
  if (ut.untyped_is_device() && !device_ok) {
    return abi::err(Status::kInvalidArgument);  // Device memory only becomes frames.
  }
  Cap dest_node = TRY(destination_cnode(inv, inv.args[2], inv.args[3], inv.args[4]));
  uint64_t offset = inv.args[5];
  uint64_t count = inv.args[6];
  uint64_t slots = cnode_slot_count(dest_node);
  if (count == 0 || count > kMaxRetypeCount || offset >= slots || count > slots - offset) {
    return abi::err(Status::kRangeError);
  }
  Slot* dest = &cnode_slots(dest_node)[offset];
  for (uint64_t i = 0; i < count; ++i) {
    if (!dest[i].empty()) {
      return abi::err(Status::kDeleteFirst);
    }
  }
  uint64_t object_bits = abi::object_size_bits(type, size_bits);
  uint64_t ut_bits = ut.untyped_size_bits();
  if (object_bits > ut_bits) {
    return abi::err(Status::kNotEnoughMemory);
  }
  // An untyped without children has nothing in it any more: start again from the bottom.
  uint64_t used = has_children(*untyped) ? ut.untyped_watermark() : 0;
  uint64_t start = kstd::align_up(used, uint64_t{1} << object_bits);  // <= 2^47: no overflow.
  uint64_t size = uint64_t{1} << ut_bits;
  uint64_t bytes = count << object_bits;
  if (start > size || bytes > size - start) {
    return abi::err(Status::kNotEnoughMemory);
  }
  return RetypePlan{type, size_bits, object_bits, ut.object() + start, count, dest,
                    start + bytes};
}

}  // namespace

abi::Result<void> decode_untyped(Slot* target, Invocation& inv) {
  switch (static_cast<abi::Label>(inv.label)) {
    case abi::Label::kUntypedRetype: {
      RetypePlan plan = TRY(plan_retype(target, inv));
      untyped_retype(target, plan);
      return {};
    }
    case abi::Label::kUntypedDescribe: {
      const Cap& ut = target->cap;
      uint64_t size = uint64_t{1} << ut.untyped_size_bits();
      uint64_t used = has_children(*target) ? ut.untyped_watermark() : 0;
      inv.reply[0] = ut.object();
      inv.reply[1] = ut.untyped_size_bits();
      inv.reply[2] = ut.untyped_is_device();
      inv.reply[3] = size - used;
      inv.reply_length = 4;
      return {};
    }
    default: return abi::err(Status::kIllegalOperation);
  }
}

}  // namespace kernel
