// SPDX-License-Identifier: MIT
#include "arena.hpp"

#include <sys/mman.h>

#include <stdexcept>

#include "mem/phys.hpp"
#include "arch_stub.hpp"
#include "object/asid.hpp"
#include "object/irq.hpp"
#include "object/cnode.hpp"
#include "object/cspace.hpp"
#include "object/invariants.hpp"
#include "object/tcb.hpp"

namespace keel::test {

HostArena::HostArena(uint64_t size, PhysAddr phys_base) : base_(phys_base), size_(size) {
  memory_ = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory_ == MAP_FAILED) {
    throw std::runtime_error("HostArena: mmap failed");
  }
  kernel::mem::g_phys_window = reinterpret_cast<uintptr_t>(memory_) - phys_base;
}

HostArena::~HostArena() {
  munmap(memory_, size_);
  kernel::mem::g_phys_window = 0;
}

TestSystem::TestSystem(uint64_t arena_bytes, uint64_t phys_bits) : arena_(arena_bytes) {
  kernel::asid_reset_for_test();
  kernel::irq_reset_for_test();
  reset_test_scheduler();
  arch_log().clear();
  if (!map_.add(arena_.base(), arena_.size(), kernel::mem::RegionKind::kFree)) {
    throw std::runtime_error("TestSystem: phys map");
  }
  kernel::BootCSpaceSpec spec;
  spec.phys_addr_bits = phys_bits;
  auto cs = kernel::create_boot_cspace(map_, spec);
  if (!cs) {
    throw std::runtime_error("TestSystem: create_boot_cspace failed");
  }
  cs_ = cs.value();
  kernel::add_boot_untyped(cs_, map_, spec);
  next_free_ = cs_.info->empty.start;
}

TestSystem::~TestSystem() { kernel::asid_reset_for_test(); }

uint64_t TestSystem::ram_untyped(uint64_t min_bits) const {
  const abi::BootInfo& i = info();
  uint64_t best = 0;
  uint64_t best_bits = 0;
  for (uint64_t n = 0; n < i.untyped_count; ++n) {
    const abi::UntypedDesc& d = i.untyped_list[n];
    if (!d.is_device && d.size_bits >= min_bits && d.size_bits > best_bits) {
      best = i.untyped.start + n;
      best_bits = d.size_bits;
    }
  }
  if (best == 0) {
    throw std::runtime_error("TestSystem: no RAM untyped that large");
  }
  return best;
}

TestSystem::Reply TestSystem::invoke(uint64_t target, uint64_t label,
                                     const std::vector<uint64_t>& args) {
  auto slot = kernel::resolve_cap(root(), target);
  if (!slot) {
    return {slot.error(), {}};
  }
  if (slot.value()->empty()) {
    return {abi::Status::kEmptySlot, {}};
  }
  kernel::Invocation inv{};
  inv.cspace_root = root();
  inv.label = label;
  inv.args = args.data();
  inv.length = args.size();
  auto r = kernel::invoke(slot.value(), inv);
  if (!r) {
    return {r.error(), {}};
  }
  return {abi::Status::kOk, std::vector<uint64_t>(inv.reply, inv.reply + inv.reply_length)};
}

TestSystem::Reply TestSystem::invoke(uint64_t target, abi::Label label,
                                     std::initializer_list<uint64_t> args) {
  return invoke(target, static_cast<uint64_t>(label), std::vector<uint64_t>(args));
}

abi::Status TestSystem::retype(uint64_t untyped, abi::ObjectType type, uint64_t size_bits,
                               uint64_t dest, uint64_t count) {
  return invoke(untyped, abi::Label::kUntypedRetype,
                {static_cast<uint64_t>(type), size_bits, abi::kSlotInitCNode, 0, 0, dest, count})
      .status;
}

abi::Status TestSystem::copy(uint64_t dest, uint64_t src, uint8_t rights) {
  return invoke(abi::kSlotInitCNode, abi::Label::kCNodeCopy,
                {dest, 64, abi::kSlotInitCNode, src, 64, rights})
      .status;
}

abi::Status TestSystem::mint(uint64_t dest, uint64_t src, uint8_t rights, uint64_t data) {
  return invoke(abi::kSlotInitCNode, abi::Label::kCNodeMint,
                {dest, 64, abi::kSlotInitCNode, src, 64, rights, data})
      .status;
}

abi::Status TestSystem::move(uint64_t dest, uint64_t src) {
  return invoke(abi::kSlotInitCNode, abi::Label::kCNodeMove,
                {dest, 64, abi::kSlotInitCNode, src, 64})
      .status;
}

abi::Status TestSystem::mutate(uint64_t dest, uint64_t src, uint64_t data) {
  return invoke(abi::kSlotInitCNode, abi::Label::kCNodeMutate,
                {dest, 64, abi::kSlotInitCNode, src, 64, data})
      .status;
}

abi::Status TestSystem::del(uint64_t index) {
  return invoke(abi::kSlotInitCNode, abi::Label::kCNodeDelete, {index, 64}).status;
}

abi::Status TestSystem::revoke(uint64_t index) {
  return invoke(abi::kSlotInitCNode, abi::Label::kCNodeRevoke, {index, 64}).status;
}

const char* TestSystem::check_invariants() const {
  std::vector<Slot*> arrays{cs_.slots};
  std::vector<uint64_t> counts{slot_count()};
  for (uint64_t i = 0; i < slot_count(); ++i) {
    const Cap& c = cs_.slots[i].cap;
    if (c.type() == abi::CapType::kCNode && c.object() != cs_.root_cnode.object()) {
      arrays.push_back(kernel::cnode_slots(c));
      counts.push_back(kernel::cnode_slot_count(c));
    } else if (c.type() == abi::CapType::kTcb) {
      arrays.push_back(kernel::mem::phys_to<kernel::Tcb>(c.object())->slots);
      counts.push_back(kernel::kTcbSlotCount);
    }
  }
  auto r = kernel::check_slots({arrays.data(), arrays.size()}, {counts.data(), counts.size()},
                               1u << 20);
  return r.ok ? nullptr : r.rule;
}

}  // namespace keel::test
