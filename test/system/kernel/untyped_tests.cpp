// SPDX-License-Identifier: MIT
//
// Untyped invocations: retype of every object type, the limits on sizes, counts and
// destination slots, running out of memory and getting all of it back, describe, and device
// untyped that only become frames. Tests carve a child untyped from the pool so that
// exhausting it leaves the pool alone.
#include <abi/invocation.hpp>

#include "helpers.hpp"
#include "ktest.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

// Retypes one object into a fresh root-CNode slot and returns the slot (0 on failure, which
// is recorded).
uint64_t retype_one(uint64_t ut, ObjectType type, uint64_t size_bits = 0) {
  uint64_t s = slot();
  auto r = sys::untyped_retype(ut, type, size_bits, kRoot, 0, 0, s, 1);
  if (!r) {
    check_status_failed(__FILE__, __LINE__, "untyped_retype", false, r.error(), Status::kOk);
    return 0;
  }
  return s;
}

uint64_t free_bytes(uint64_t ut) {
  auto r = sys::untyped_describe(ut);
  if (!r) {
    check_status_failed(__FILE__, __LINE__, "untyped_describe", false, r.error(), Status::kOk);
    return 0;
  }
  return r.value().free_bytes;
}

// The boot information's first device untyped of at least `bits`, as (cptr, descriptor), or
// cptr 0 when there is none.
struct Device {
  uint64_t cptr;
  abi::UntypedDesc desc;
};

Device find_device_untyped(uint64_t bits) {
  const abi::BootInfo* b = env().boot;
  for (uint64_t i = 0; i < b->untyped_count; ++i) {
    const abi::UntypedDesc& d = b->untyped_list[i];
    if (d.is_device != 0 && d.size_bits >= bits) {
      return Device{b->untyped.start + i, d};
    }
  }
  return Device{0, {}};
}

}  // namespace

KTEST(untyped_retype_every_object_type) {
  uint64_t ut = make(ObjectType::kUntyped, 23);  // Room for a 2 MiB frame and the rest.
  struct Case {
    ObjectType type;
    uint64_t size_bits;
    CapType cap;
  };
  const Case cases[] = {
      {ObjectType::kFrame2M, 0, CapType::kFrame},
      {ObjectType::kUntyped, 12, CapType::kUntyped},
      {ObjectType::kTcb, 0, CapType::kTcb},
      {ObjectType::kEndpoint, 0, CapType::kEndpoint},
      {ObjectType::kCNode, 4, CapType::kCNode},
      {ObjectType::kFrame4K, 0, CapType::kFrame},
      {ObjectType::kPageTable, 0, CapType::kPageTable},
      {ObjectType::kPageDirectory, 0, CapType::kPageDirectory},
      {ObjectType::kPdpt, 0, CapType::kPdpt},
      {ObjectType::kPml4, 0, CapType::kPml4},
  };
  for (const Case& c : cases) {
    uint64_t s = retype_one(ut, c.type, c.size_bits);
    if (s == 0) {
      note("type %llu", static_cast<unsigned long long>(c.type));
      continue;
    }
    sys::CapInfo info = describe(s);
    if (info.type != c.cap) {
      note("type %llu became %s", static_cast<unsigned long long>(c.type),
           abi::cap_type_name(info.type));
      CHECK(info.type == c.cap);
    }
    // Objects are aligned to their size.
    uint64_t align = uint64_t{1} << abi::object_size_bits(c.type, c.size_bits);
    CHECK(info.object % align == 0);
  }
  // The 2 MiB frame reports its address like any frame.
  uint64_t big = retype_one(ut, ObjectType::kFrame2M);
  if (big != 0) {
    uint64_t paddr = REQUIRE_OK(sys::frame_address(big));
    CHECK(paddr % (2u << 20) == 0);
  }
}

KTEST(untyped_retype_unknown_type_and_asid_pool_refused) {
  uint64_t ut = make(ObjectType::kUntyped, 14);
  uint64_t s = slot();
  // ASID pools only come from ASID control.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kAsidPool, 0, kRoot, 0, 0, s, 1),
            Status::kInvalidArgument);
  for (uint64_t type : {abi::kObjectTypeCount, uint64_t{12}, uint64_t{1000}, ~uint64_t{0}}) {
    CHECK_ERR(sys::untyped_retype(ut, static_cast<ObjectType>(type), 0, kRoot, 0, 0, s, 1),
              Status::kInvalidArgument);
  }
  CHECK(is_empty(s));
  CHECK(free_bytes(ut) == (uint64_t{1} << 14));
}

KTEST(untyped_retype_size_bits_ranges) {
  uint64_t ut = make(ObjectType::kUntyped, 16);
  uint64_t s = slot();
  CHECK_ERR(
      sys::untyped_retype(ut, ObjectType::kUntyped, abi::kMinUntypedBits - 1, kRoot, 0, 0, s, 1),
      Status::kRangeError);
  CHECK_ERR(
      sys::untyped_retype(ut, ObjectType::kUntyped, abi::kMaxUntypedBits + 1, kRoot, 0, 0, s, 1),
      Status::kRangeError);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kUntyped, 64, kRoot, 0, 0, s, 1),
            Status::kRangeError);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kCNode, abi::kMinCNodeRadix - 1, kRoot, 0, 0, s, 1),
            Status::kRangeError);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kCNode, abi::kMaxCNodeRadix + 1, kRoot, 0, 0, s, 1),
            Status::kRangeError);
  CHECK(is_empty(s));
  // The largest untyped size is in range, but does not fit in 64 KiB.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kUntyped, abi::kMaxUntypedBits, kRoot, 0, 0, s, 1),
            Status::kNotEnoughMemory);
  // The smallest of each is fine; fixed-size objects ignore size_bits.
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kUntyped, abi::kMinUntypedBits, kRoot, 0, 0, s, 1));
  CHECK(describe(s).type == CapType::kUntyped);
  uint64_t c = slot();
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kCNode, abi::kMinCNodeRadix, kRoot, 0, 0, c, 1));
  CHECK(describe(c).type == CapType::kCNode);
  uint64_t e = slot();
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kEndpoint, 63, kRoot, 0, 0, e, 1));
  CHECK(describe(e).type == CapType::kEndpoint);
}

KTEST(untyped_retype_count_and_offset_limits) {
  uint64_t ut = make(ObjectType::kUntyped, 16);
  uint64_t node = make(ObjectType::kCNode, 8);  // 256 slots.
  auto retype = [&](uint64_t offset, uint64_t count) {
    return sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, node, kDepth, offset, count);
  };
  CHECK_ERR(retype(0, 0), Status::kRangeError);
  CHECK_ERR(retype(0, 257), Status::kRangeError);
  CHECK_ERR(retype(256, 1), Status::kRangeError);
  CHECK_ERR(retype(~uint64_t{0}, 1), Status::kRangeError);
  CHECK_ERR(retype(250, 7), Status::kRangeError);
  CHECK_ERR(retype(1, ~uint64_t{0}), Status::kRangeError);
  // With depth 0 the root CNode itself receives them: its size is the limit.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, 0, 0,
                                uint64_t{1} << env().boot->root_cnode_radix, 1),
            Status::kRangeError);
  CHECK(free_bytes(ut) == (uint64_t{1} << 16));
  // Exactly up to the end of the CNode.
  CHECK_OK(retype(250, 6));
  CHECK(describe(255, node, 8).type == CapType::kEndpoint);
  CHECK(describe(250, node, 8).type == CapType::kEndpoint);
  CHECK(is_empty(249, node, 8));
  // The maximum count fills a whole 256-slot CNode.
  uint64_t full = make(ObjectType::kCNode, 8);
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, full, kDepth, 0, 256));
  CHECK(describe(0, full, 8).type == CapType::kEndpoint);
  CHECK(describe(255, full, 8).type == CapType::kEndpoint);
  // Each is a distinct object, laid out one after another.
  CHECK(describe(1, full, 8).object == describe(0, full, 8).object + 64);
}

KTEST(untyped_retype_destination_errors) {
  uint64_t ut = make(ObjectType::kUntyped, 16);
  uint64_t node = make(ObjectType::kCNode, 3);
  uint64_t ep = make(ObjectType::kEndpoint);
  REQUIRE_OK(sys::cnode_copy(node, 2, 3, kRoot, ep, kDepth));
  // One occupied slot in the range refuses the whole retype, and creates nothing.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, node, kDepth, 0, 4),
            Status::kDeleteFirst);
  CHECK(is_empty(0, node, 3));
  CHECK(is_empty(1, node, 3));
  CHECK(free_bytes(ut) == (uint64_t{1} << 16));
  // The root must be a CNode, and (index, depth) must name one.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, ep, 0, 0, 0, 1),
            Status::kInvalidCapability);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, ep, kDepth, 0, 1),
            Status::kInvalidCapability);
  uint64_t empty = slot();
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, empty, kDepth, 0, 1),
            Status::kEmptySlot);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, empty, 0, 0, 0, 1),
            Status::kEmptySlot);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, node, 65, 0, 1),
            Status::kDepthMismatch);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, node | (uint64_t{1} << 63),
                                kDepth, 0, 1),
            Status::kGuardMismatch);
  CHECK(free_bytes(ut) == (uint64_t{1} << 16));
  // Objects land in the CNode named by (index, depth).
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kTcb, 0, kRoot, node, kDepth, 3, 2));
  CHECK(describe(3, node, 3).type == CapType::kTcb);
  CHECK(describe(4, node, 3).type == CapType::kTcb);
}

KTEST(untyped_not_enough_memory_then_full_reuse_after_revoke) {
  constexpr uint64_t kBits = 16;
  constexpr uint64_t kFrames = (uint64_t{1} << kBits) / 4096;
  uint64_t ut = make(ObjectType::kUntyped, kBits);
  uint64_t node = make(ObjectType::kCNode, 5);
  // An object bigger than the whole untyped never fits.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kFrame2M, 0, kRoot, node, kDepth, 0, 1),
            Status::kNotEnoughMemory);
  // More objects in one go than fit: nothing is created.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, node, kDepth, 0, kFrames + 1),
            Status::kNotEnoughMemory);
  CHECK(is_empty(0, node, 5));
  for (uint64_t i = 0; i < kFrames; ++i) {
    CHECK_OK(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, node, kDepth, i, 1));
  }
  CHECK(free_bytes(ut) == 0);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, node, kDepth, kFrames, 1),
            Status::kNotEnoughMemory);
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, node, kDepth, kFrames, 1),
            Status::kNotEnoughMemory);
  // Revoking gives back all of it, at the same addresses.
  uint64_t first = describe(0, node, 5).object;
  CHECK_OK(sys::cnode_revoke(kRoot, ut, kDepth));
  CHECK(is_empty(0, node, 5));
  CHECK(free_bytes(ut) == (uint64_t{1} << kBits));
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, node, kDepth, 0, kFrames));
  CHECK(describe(0, node, 5).object == first);
  CHECK(free_bytes(ut) == 0);
}

KTEST(untyped_reset_when_last_child_deleted) {
  // Not only revoke: once every child is gone, by any means, the memory is free again.
  uint64_t ut = make(ObjectType::kUntyped, 14);
  uint64_t node = make(ObjectType::kCNode, 3);
  REQUIRE_OK(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, node, kDepth, 0, 4));
  CHECK(free_bytes(ut) == 0);
  CHECK_OK(sys::cnode_delete(node, 0, 3));
  CHECK_OK(sys::cnode_delete(node, 1, 3));
  CHECK_OK(sys::cnode_delete(node, 2, 3));
  // One child left: still full.
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, node, kDepth, 0, 1),
            Status::kNotEnoughMemory);
  CHECK_OK(sys::cnode_delete(node, 3, 3));
  CHECK(free_bytes(ut) == (uint64_t{1} << 14));
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kFrame4K, 0, kRoot, node, kDepth, 0, 4));
}

KTEST(untyped_objects_aligned_to_their_size) {
  uint64_t ut = make(ObjectType::kUntyped, 16);
  sys::UntypedInfo info = REQUIRE_OK(sys::untyped_describe(ut));
  uint64_t ep = retype_one(ut, ObjectType::kEndpoint);
  CHECK(describe(ep).object == info.paddr);
  CHECK(free_bytes(ut) == (uint64_t{1} << 16) - 64);
  // A frame after a 64-byte endpoint starts at the next 4 KiB boundary.
  uint64_t frame = retype_one(ut, ObjectType::kFrame4K);
  CHECK(REQUIRE_OK(sys::frame_address(frame)) == info.paddr + 4096);
  CHECK(free_bytes(ut) == (uint64_t{1} << 16) - 8192);
  uint64_t ep2 = retype_one(ut, ObjectType::kEndpoint);
  CHECK(describe(ep2).object == info.paddr + 8192);
  // A radix-7 CNode is 4 KiB: the next boundary after 8192 + 64.
  uint64_t cn = retype_one(ut, ObjectType::kCNode, 7);
  CHECK(describe(cn).object == info.paddr + 12288);
  CHECK(free_bytes(ut) == (uint64_t{1} << 16) - 16384);
}

KTEST(untyped_cnode_size_counts_slots) {
  // A CNode of radix r takes 2^(r + 5) bytes: radix 7 fills 4 KiB exactly, radix 8 does not fit.
  uint64_t ut = make(ObjectType::kUntyped, 12);
  uint64_t s = slot();
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kCNode, 8, kRoot, 0, 0, s, 1),
            Status::kNotEnoughMemory);
  CHECK_OK(sys::untyped_retype(ut, ObjectType::kCNode, 7, kRoot, 0, 0, s, 1));
  CHECK(free_bytes(ut) == 0);
  // Its 128 slots are all there.
  uint64_t ep = make(ObjectType::kEndpoint);
  CHECK_OK(sys::cnode_copy(s, 127, 7, kRoot, ep, kDepth));
  CHECK_ERR(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, 0, 0, slot(), 1),
            Status::kNotEnoughMemory);
}

KTEST(untyped_describe_reports_region) {
  uint64_t parent = make(ObjectType::kUntyped, 16);
  sys::UntypedInfo p = REQUIRE_OK(sys::untyped_describe(parent));
  CHECK(p.size_bits == 16);
  CHECK(!p.device);
  CHECK(p.free_bytes == (uint64_t{1} << 16));
  CHECK(p.paddr % (uint64_t{1} << 16) == 0);
  // A child untyped lies inside its parent, and uses it up as any object does.
  uint64_t child = retype_one(parent, ObjectType::kUntyped, 13);
  sys::UntypedInfo c = REQUIRE_OK(sys::untyped_describe(child));
  CHECK(c.size_bits == 13);
  CHECK(c.paddr >= p.paddr && c.paddr + 8192 <= p.paddr + 65536);
  CHECK(c.free_bytes == 8192);
  CHECK(free_bytes(parent) == (uint64_t{1} << 16) - 8192);
  // Objects made from the child do not move the parent's watermark.
  uint64_t f = retype_one(child, ObjectType::kFrame4K);
  CHECK(REQUIRE_OK(sys::frame_address(f)) == c.paddr);
  CHECK(free_bytes(child) == 4096);
  CHECK(free_bytes(parent) == (uint64_t{1} << 16) - 8192);
  // Revoking the parent reaches the grandchildren.
  CHECK_OK(sys::cnode_revoke(kRoot, parent, kDepth));
  CHECK(is_empty(child));
  CHECK(is_empty(f));
  CHECK(free_bytes(parent) == (uint64_t{1} << 16));
  // Boot untyped describe as the boot information lists them.
  const abi::BootInfo* b = env().boot;
  for (uint64_t i = 0; i < b->untyped_count && i < 8; ++i) {
    sys::UntypedInfo u = REQUIRE_OK(sys::untyped_describe(b->untyped.start + i));
    CHECK(u.paddr == b->untyped_list[i].paddr);
    CHECK(u.size_bits == b->untyped_list[i].size_bits);
    CHECK(u.device == (b->untyped_list[i].is_device != 0));
  }
}

KTEST(untyped_retype_zeroes_memory) {
  // Memory that held one object's data must not leak into the next object made there.
  uint64_t ut = make(ObjectType::kUntyped, 12);
  uint64_t frame = retype_one(ut, ObjectType::kFrame4K);
  uint64_t va = region(4096);
  REQUIRE_OK(env().vs.map(frame, va, Rights::kRead | Rights::kWrite));
  auto* p = reinterpret_cast<volatile uint64_t*>(va);
  for (int i = 0; i < 512; ++i) {
    p[i] = 0xDEADBEEF00000000ull | static_cast<uint64_t>(i);
  }
  REQUIRE_OK(sys::cnode_revoke(kRoot, ut, kDepth));  // Unmaps and destroys the frame.
  frame = retype_one(ut, ObjectType::kFrame4K);
  REQUIRE_OK(env().vs.map(frame, va, Rights::kRead | Rights::kWrite));
  bool zero = true;
  for (int i = 0; i < 512; ++i) {
    zero = zero && p[i] == 0;
  }
  CHECK(zero);
}

KTEST(untyped_device_memory_only_becomes_frames) {
  // Room for a 4 KiB frame, a 2 MiB frame at the next 2 MiB boundary and a small untyped.
  Device dev = find_device_untyped(23);
  if (dev.cptr == 0) {
    note("no device untyped of 8 MiB or more in the boot information");
    CHECK(dev.cptr != 0);
    return;
  }
  sys::UntypedInfo info = REQUIRE_OK(sys::untyped_describe(dev.cptr));
  CHECK(info.device);
  CHECK(info.paddr == dev.desc.paddr);
  uint64_t s = slot();
  for (ObjectType t : {ObjectType::kTcb, ObjectType::kEndpoint, ObjectType::kPageTable,
                       ObjectType::kPageDirectory, ObjectType::kPdpt, ObjectType::kPml4}) {
    CHECK_ERR(sys::untyped_retype(dev.cptr, t, 0, kRoot, 0, 0, s, 1), Status::kInvalidArgument);
  }
  CHECK_ERR(sys::untyped_retype(dev.cptr, ObjectType::kCNode, 4, kRoot, 0, 0, s, 1),
            Status::kInvalidArgument);
  CHECK(is_empty(s));
  // Frames are fine (they are never mapped here: device memory is left alone).
  CHECK_OK(sys::untyped_retype(dev.cptr, ObjectType::kFrame4K, 0, kRoot, 0, 0, s, 1));
  CHECK(describe(s).type == CapType::kFrame);
  CHECK(REQUIRE_OK(sys::frame_address(s)) == info.paddr);
  uint64_t big = slot();
  CHECK_OK(sys::untyped_retype(dev.cptr, ObjectType::kFrame2M, 0, kRoot, 0, 0, big, 1));
  CHECK(describe(big).type == CapType::kFrame);
  // So are smaller untyped, which stay device memory.
  uint64_t child = slot();
  CHECK_OK(sys::untyped_retype(dev.cptr, ObjectType::kUntyped, 12, kRoot, 0, 0, child, 1));
  sys::UntypedInfo c = REQUIRE_OK(sys::untyped_describe(child));
  CHECK(c.device);
  CHECK_ERR(sys::untyped_retype(child, ObjectType::kTcb, 0, kRoot, 0, 0, slot(), 1),
            Status::kInvalidArgument);
  uint64_t f = slot();
  CHECK_OK(sys::untyped_retype(child, ObjectType::kFrame4K, 0, kRoot, 0, 0, f, 1));
  // Give the boot untyped its memory back.
  CHECK_OK(sys::cnode_revoke(kRoot, dev.cptr, kDepth));
  CHECK(free_bytes(dev.cptr) == (uint64_t{1} << info.size_bits));
}

KTEST(untyped_boot_list_is_consistent) {
  // The boot untyped are aligned, do not overlap, add up to ram_untyped_bytes, and cover
  // neither the kernel's interrupt controllers nor any object the root task already uses (a
  // retype there would overwrite it).
  const abi::BootInfo* b = env().boot;
  CHECK(b->untyped.end - b->untyped.start == b->untyped_count);
  struct Live {
    const char* what;
    uint64_t paddr;
  };
  Live live[8 + 2] = {
      {"local APIC", 0xFEE00000},
      {"I/O APIC", 0xFEC00000},
      {"root TCB", describe(abi::kSlotInitTcb).object},
      {"root CNode", describe(abi::kSlotInitCNode).object},
      {"root PML4", describe(abi::kSlotInitVSpace).object},
      {"ASID pool 0", describe(abi::kSlotInitAsidPool).object},
      {"boot info", describe(abi::kSlotBootInfoFrame).object},
      {"IPC buffer", describe(abi::kSlotInitIpcBuffer).object},
      {"first image object", describe(b->user_image.start).object},
      {"last image object", describe(b->user_image.end - 1).object},
  };
  uint64_t ram = 0;
  bool aligned = true;
  bool disjoint = true;
  for (uint64_t i = 0; i < b->untyped_count; ++i) {
    const abi::UntypedDesc& d = b->untyped_list[i];
    uint64_t size = uint64_t{1} << d.size_bits;
    aligned = aligned && d.paddr % size == 0;
    ram += d.is_device != 0 ? 0 : size;
    for (uint64_t j = i + 1; j < b->untyped_count; ++j) {
      const abi::UntypedDesc& o = b->untyped_list[j];
      bool overlap = d.paddr < o.paddr + (uint64_t{1} << o.size_bits) && o.paddr < d.paddr + size;
      disjoint = disjoint && !overlap;
    }
    for (const Live& l : live) {
      if (l.paddr >= d.paddr && l.paddr - d.paddr < size) {
        note("%s at %#llx lies in %s untyped %llu (%#llx, 2^%u bytes)", l.what,
             static_cast<unsigned long long>(l.paddr), d.is_device != 0 ? "device" : "RAM",
             static_cast<unsigned long long>(i), static_cast<unsigned long long>(d.paddr),
             static_cast<unsigned>(d.size_bits));
        CHECK(!(l.paddr >= d.paddr && l.paddr - d.paddr < size));
      }
    }
  }
  CHECK(aligned);
  CHECK(disjoint);
  CHECK(ram == b->ram_untyped_bytes);
}

KTEST(untyped_wrong_labels_and_truncated_messages) {
  uint64_t ut = make(ObjectType::kUntyped, 12);
  uint64_t s = slot();
  CHECK_ERR(sys::invoke(ut, abi::Label::kUntypedRetype,
                        {static_cast<uint64_t>(ObjectType::kEndpoint), 0, kRoot, 0, 0, s}),
            Status::kTruncatedMessage);
  CHECK_ERR(sys::invoke(ut, abi::Label::kUntypedRetype, {}), Status::kTruncatedMessage);
  CHECK(is_empty(s));
  // Untyped labels on other objects, and other labels on an untyped.
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t frame = make(ObjectType::kFrame4K);
  CHECK_ERR(sys::untyped_describe(frame), Status::kIllegalOperation);
  CHECK_ERR(sys::untyped_describe(kRoot), Status::kIllegalOperation);
  CHECK_ERR(sys::untyped_retype(abi::kSlotInitTcb, ObjectType::kEndpoint, 0, kRoot, 0, 0, s, 1),
            Status::kIllegalOperation);
  CHECK_ERR(sys::cnode_describe(ut, ep, kDepth), Status::kIllegalOperation);
  CHECK_ERR(sys::invoke(ut, static_cast<abi::Label>(18), {0, 0, 0, 0, 0, 0, 0}),
            Status::kIllegalOperation);
  CHECK(is_empty(s));
  CHECK(free_bytes(ut) == 4096);
}

}  // namespace ktest
