// SPDX-License-Identifier: MIT
//
// A capability: 16 bytes naming an object, its type, the rights it conveys and one word of
// type-specific data. Capabilities live in slots (slot.hpp) and are copied by value; nothing
// here touches the objects themselves.
//
// Word 0: [7:0] type, [15:8] rights, [63:16] object physical address >> 4 (objects are at least
//         16-byte aligned, so 48 bits reach 2^52).
// Word 1: by type:
//   untyped     [5:0] size_bits, [6] device, [63:8] watermark (bytes used) >> 4
//   cnode       [5:0] radix, [11:6] guard_bits, [63:12] guard
//   endpoint    badge (0: unbadged)
//   reply       [0] master (the TCB's own), [1] can_grant
//   frame       [1:0] size (0: 4 KiB, 1: 2 MiB), [2] device, [3] mapped, [15:4] ASID,
//               [50:16] mapped virtual address >> 12, [62:51] ASID generation
//   page tables [3] mapped, [15:4] ASID, [50:16] mapped virtual address >> 12,
//               [62:51] ASID generation
//   pml4        [3] has ASID, [15:4] ASID
//   asid pool   [2:0] pool index
//   irq handler [7:0] IRQ line
//   ioport      [15:0] first port, [31:16] last port
//   zombie      [7:0] container kind (zombie.hpp), [63:8] slots left to delete
#pragma once

#include <abi/object_type.hpp>
#include <abi/rights.hpp>

#include <kstd/types.hpp>

namespace kernel {

using abi::CapType;
using abi::Rights;
using PhysAddr = uint64_t;

class Cap {
 public:
  constexpr Cap() = default;

  static constexpr Cap make(CapType type, Rights rights, PhysAddr object, uint64_t word1) {
    Cap c;
    c.w0_ = static_cast<uint64_t>(type) | uint64_t{rights.bits} << 8 | (object >> 4) << 16;
    c.w1_ = word1;
    return c;
  }

  constexpr CapType type() const { return static_cast<CapType>(w0_ & 0xFF); }
  constexpr bool is_null() const { return type() == CapType::kNull; }
  // Whether the capability has type `t` and every right in `r` (one comparison of word 0).
  constexpr bool is(CapType t, uint8_t r) const {
    uint64_t want = static_cast<uint64_t>(t) | uint64_t{r} << 8;
    return (w0_ & (0xFF | uint64_t{r} << 8)) == want;
  }
  constexpr Rights rights() const { return Rights{static_cast<uint8_t>(w0_ >> 8)}; }
  constexpr PhysAddr object() const { return (w0_ >> 16) << 4; }
  constexpr uint64_t word0() const { return w0_; }
  constexpr uint64_t word1() const { return w1_; }

  constexpr Cap with_rights(Rights r) const {
    Cap c = *this;
    c.w0_ = (w0_ & ~uint64_t{0xFF00}) | uint64_t{r.bits} << 8;
    return c;
  }
  constexpr Cap with_word1(uint64_t w) const {
    Cap c = *this;
    c.w1_ = w;
    return c;
  }

  constexpr bool operator==(const Cap&) const = default;

  // --- untyped ---
  static constexpr Cap untyped(PhysAddr base, uint64_t size_bits, bool device) {
    return make(CapType::kUntyped, Rights::all(), base, size_bits | uint64_t{device} << 6);
  }
  constexpr uint64_t untyped_size_bits() const { return w1_ & 0x3F; }
  constexpr bool untyped_is_device() const { return (w1_ >> 6) & 1; }
  constexpr uint64_t untyped_watermark() const { return (w1_ >> 8) << 4; }
  constexpr Cap with_untyped_watermark(uint64_t bytes) const {
    return with_word1((w1_ & 0xFF) | (bytes >> 4) << 8);
  }

  // --- cnode ---
  static constexpr Cap cnode(PhysAddr base, uint64_t radix, uint64_t guard_bits, uint64_t guard) {
    return make(CapType::kCNode, Rights::all(), base, radix | guard_bits << 6 | guard << 12);
  }
  constexpr uint64_t cnode_radix() const { return w1_ & 0x3F; }
  constexpr uint64_t cnode_guard_bits() const { return (w1_ >> 6) & 0x3F; }
  constexpr uint64_t cnode_guard() const { return w1_ >> 12; }
  // A guard may span up to 63 bits of a cptr, but its value is stored in 52 bits.
  static constexpr uint64_t kMaxGuardBits = 63;
  static constexpr uint64_t kGuardValueBits = 52;

  // Whether (guard, guard_bits) is a valid guard for a CNode of `radix`.
  static constexpr bool valid_guard(uint64_t guard, uint64_t guard_bits, uint64_t radix) {
    return guard_bits <= kMaxGuardBits && guard_bits + radix <= 64 &&
           (guard >> guard_bits) == 0 && (guard >> kGuardValueBits) == 0;
  }

  // --- endpoint ---
  static constexpr Cap endpoint(PhysAddr base, Rights rights, uint64_t badge) {
    return make(CapType::kEndpoint, rights, base, badge);
  }
  constexpr uint64_t badge() const { return w1_; }

  // --- tcb ---
  static constexpr Cap tcb(PhysAddr base) { return make(CapType::kTcb, Rights::all(), base, 0); }

  // --- reply ---
  static constexpr Cap reply(PhysAddr tcb, bool master, bool can_grant) {
    return make(CapType::kReply, Rights::all(), tcb,
                uint64_t{master} | uint64_t{can_grant} << 1);
  }
  constexpr bool reply_is_master() const { return w1_ & 1; }
  constexpr bool reply_can_grant() const { return (w1_ >> 1) & 1; }

  // --- frames and page tables ---
  static constexpr Cap frame(PhysAddr base, Rights rights, uint64_t size, bool device) {
    return make(CapType::kFrame, rights, base, size | uint64_t{device} << 2);
  }
  static constexpr Cap table(CapType type, PhysAddr base) {
    return make(type, Rights::all(), base, 0);
  }
  constexpr uint64_t frame_size() const { return w1_ & 3; }  // 0: 4 KiB, 1: 2 MiB.
  constexpr uint64_t frame_bytes() const { return frame_size() == 0 ? 4096 : 2u << 20; }
  constexpr bool frame_is_device() const { return (w1_ >> 2) & 1; }
  constexpr bool is_mapped() const { return (w1_ >> 3) & 1; }
  constexpr uint64_t mapped_asid() const { return (w1_ >> 4) & 0xFFF; }
  constexpr uint64_t mapped_vaddr() const { return ((w1_ >> 16) & kVpnMask) << 12; }
  // Which assignment of the ASID the mapping was made under: an ASID given to a new address
  // space gets a new generation, so a capability whose address space is gone cannot touch the
  // mappings of the next one.
  constexpr uint64_t mapped_generation() const { return (w1_ >> 51) & 0xFFF; }
  constexpr Cap with_mapping(uint64_t asid, uint64_t generation, uint64_t vaddr) const {
    return with_word1((w1_ & 7) | 1u << 3 | (asid & 0xFFF) << 4 |
                      ((vaddr >> 12) & kVpnMask) << 16 | (generation & 0xFFF) << 51);
  }
  static constexpr uint64_t kVpnMask = (uint64_t{1} << 35) - 1;  // User addresses < 2^47.
  constexpr Cap without_mapping() const { return with_word1(w1_ & 7); }

  // --- pml4 ---
  constexpr bool pml4_has_asid() const { return is_mapped(); }
  constexpr uint64_t pml4_asid() const { return mapped_asid(); }
  constexpr Cap with_pml4_asid(uint64_t asid) const {
    return with_word1(1u << 3 | (asid & 0xFFF) << 4);
  }

  // --- asid control and pools ---
  static constexpr Cap asid_control() { return make(CapType::kAsidControl, Rights::all(), 0, 0); }
  static constexpr Cap asid_pool(PhysAddr base, uint64_t index) {
    return make(CapType::kAsidPool, Rights::all(), base, index);
  }
  constexpr uint64_t asid_pool_index() const { return w1_ & 7; }

  // --- irq and io ports ---
  static constexpr Cap irq_control() { return make(CapType::kIrqControl, Rights::all(), 0, 0); }
  static constexpr Cap irq_handler(uint64_t irq) {
    return make(CapType::kIrqHandler, Rights::all(), 0, irq & 0xFF);
  }
  constexpr uint64_t irq() const { return w1_ & 0xFF; }
  static constexpr Cap ioport_control() {
    return make(CapType::kIoPortControl, Rights::all(), 0, 0);
  }
  static constexpr Cap ioport(uint64_t first, uint64_t last) {
    return make(CapType::kIoPort, Rights::all(), 0, (first & 0xFFFF) | (last & 0xFFFF) << 16);
  }
  constexpr uint64_t ioport_first() const { return w1_ & 0xFFFF; }
  constexpr uint64_t ioport_last() const { return (w1_ >> 16) & 0xFFFF; }

  // --- zombie ---
  static constexpr Cap zombie(PhysAddr container, uint64_t kind, uint64_t left) {
    return make(CapType::kZombie, Rights::none(), container, (kind & 0xFF) | left << 8);
  }
  constexpr uint64_t zombie_kind() const { return w1_ & 0xFF; }
  constexpr uint64_t zombie_left() const { return w1_ >> 8; }
  constexpr Cap with_zombie_left(uint64_t left) const {
    return with_word1((w1_ & 0xFF) | left << 8);
  }

 private:
  uint64_t w0_ = 0;
  uint64_t w1_ = 0;
};

static_assert(sizeof(Cap) == 16);

}  // namespace kernel
