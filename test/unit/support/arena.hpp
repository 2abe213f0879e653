// SPDX-License-Identifier: MIT
//
// Test support: a host arena standing in for physical memory, and a small system built on it
// the way the kernel builds the root task's CSpace at boot.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include <abi/boot_info.hpp>
#include <abi/invocation.hpp>
#include <abi/result.hpp>

#include "core/boot_cspace.hpp"
#include "mem/phys_map.hpp"
#include "object/slot.hpp"
#include "syscall/invocation.hpp"

namespace keel::test {

using kernel::Cap;
using kernel::PhysAddr;
using kernel::Slot;

// Maps `size` bytes of zeroed host memory so that physical address `phys_base` is its first
// byte (kernel::mem::phys_to works on it). One arena at a time.
class HostArena {
 public:
  explicit HostArena(uint64_t size, PhysAddr phys_base = 0x40000000);
  ~HostArena();
  HostArena(const HostArena&) = delete;
  HostArena& operator=(const HostArena&) = delete;

  PhysAddr base() const { return base_; }
  uint64_t size() const { return size_; }
  bool contains(PhysAddr p, uint64_t len) const {
    return p >= base_ && len <= size_ && p - base_ <= size_ - len;
  }

 private:
  void* memory_;
  PhysAddr base_;
  uint64_t size_;
};

// A root CNode, the boot control capabilities and untyped for the rest of the arena, made by
// the kernel's own boot code (create_boot_cspace/add_boot_untyped), plus helpers to invoke
// capabilities as a thread with this CSpace would.
class TestSystem {
 public:
  // arena_bytes of "RAM" starting at 1 GiB; device space up to 2^phys_bits.
  explicit TestSystem(uint64_t arena_bytes = 64u << 20, uint64_t phys_bits = 36);
  ~TestSystem();

  HostArena& arena() { return arena_; }
  const abi::BootInfo& info() const { return *cs_.info; }
  const Cap& root() const { return cs_.root_cnode; }
  Slot* slot(uint64_t index) const { return &cs_.slots[index]; }
  uint64_t slot_count() const { return uint64_t{1} << cs_.info->root_cnode_radix; }

  // The first untyped that is RAM, at least 2^min_bits large.
  uint64_t ram_untyped(uint64_t min_bits = 12) const;
  // First free slot (after boot) and a fresh free slot each call.
  uint64_t next_free() { return next_free_++; }

  struct Reply {
    abi::Status status;
    std::vector<uint64_t> words;
    bool ok() const { return status == abi::Status::kOk; }
  };
  // Invokes the capability at cptr `target` (resolved like the kernel resolves an invoked cptr)
  // with `label` and `args`.
  Reply invoke(uint64_t target, abi::Label label, std::initializer_list<uint64_t> args);
  Reply invoke(uint64_t target, uint64_t label, const std::vector<uint64_t>& args);

  // Convenience wrappers over invoke for the common operations, on the root CNode with depth 64.
  abi::Status retype(uint64_t untyped, abi::ObjectType type, uint64_t size_bits, uint64_t dest,
                     uint64_t count = 1);
  abi::Status copy(uint64_t dest, uint64_t src, uint8_t rights = abi::Rights::kAllBits);
  abi::Status mint(uint64_t dest, uint64_t src, uint8_t rights, uint64_t data);
  abi::Status move(uint64_t dest, uint64_t src);
  abi::Status mutate(uint64_t dest, uint64_t src, uint64_t data);
  abi::Status del(uint64_t index);
  abi::Status revoke(uint64_t index);

  // Runs the kernel's invariant checker over the root CNode and every CNode and TCB whose
  // capability is reachable from it (one level), returning the failed rule or null.
  const char* check_invariants() const;

 private:
  HostArena arena_;
  kernel::mem::PhysMap map_;
  kernel::BootCSpace cs_;
  uint64_t next_free_;
};

}  // namespace keel::test
