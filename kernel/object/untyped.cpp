// SPDX-License-Identifier: MIT
#include "object/untyped.hpp"

#include <kstd/string.hpp>

#include "mem/phys.hpp"
#include "object/arch_hooks.hpp"
#include "object/mdb.hpp"
#include "object/tcb.hpp"

#include <kstd/enforce.hpp>

namespace kernel {

Cap create_object(abi::ObjectType type, PhysAddr base, uint64_t size_bits, bool device) {
  using abi::ObjectType;
  uint64_t bytes = uint64_t{1} << abi::object_size_bits(type, size_bits);
  // Untyped children are not touched: their memory is zeroed when objects are made from it.
  // Device memory is never written by the kernel.
  if (type != ObjectType::kUntyped && !device) {
    memset(mem::phys_to<void>(base), 0, bytes);
  }
  switch (type) {
    case ObjectType::kUntyped: return Cap::untyped(base, size_bits, device);
    case ObjectType::kTcb: tcb_init(base); return Cap::tcb(base);
    case ObjectType::kEndpoint: return Cap::endpoint(base, Rights::all(), 0);
    case ObjectType::kCNode: return Cap::cnode(base, size_bits, 0, 0);
    case ObjectType::kFrame4K: return Cap::frame(base, Rights::all(), 0, device);
    case ObjectType::kFrame2M: return Cap::frame(base, Rights::all(), 1, device);
    case ObjectType::kPageTable: return Cap::table(CapType::kPageTable, base);
    case ObjectType::kPageDirectory: return Cap::table(CapType::kPageDirectory, base);
    case ObjectType::kPdpt: return Cap::table(CapType::kPdpt, base);
    case ObjectType::kPml4: arch::init_pml4(base); return Cap::table(CapType::kPml4, base);
    case ObjectType::kAsidPool: return Cap();  // Only AsidControl makes pools.
  }
  return Cap();
}

void untyped_retype(Slot* untyped, const RetypePlan& plan) {
  bool device = untyped->cap.untyped_is_device();
  for (uint64_t i = 0; i < plan.count; ++i) {
    PhysAddr base = plan.first + (i << plan.object_bits);
    Cap cap = create_object(plan.type, base, plan.size_bits, device);
    mdb_insert_new(untyped, &plan.dest[i], cap);
  }
  untyped->cap = untyped->cap.with_untyped_watermark(plan.new_watermark);
}

}  // namespace kernel
