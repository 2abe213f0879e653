// SPDX-License-Identifier: MIT
#include "core/boot_cspace.hpp"

#include <kstd/bit.hpp>
#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include "mem/phys.hpp"
#include "object/mdb.hpp"

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

using abi::BootInfo;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMinRootRadix = 12;
constexpr uint64_t kMinFreeSlots = 1024;

uint64_t pages(uint64_t bytes) { return (bytes + kPage - 1) / kPage; }

// The largest power-of-two block that starts at `base` and fits before `end`.
uint64_t block_bits(uint64_t base, uint64_t end) {
  uint64_t align_bits = base == 0 ? 63 : static_cast<uint64_t>(kstd::countr_zero(base));
  uint64_t fit_bits = static_cast<uint64_t>(kstd::bit_width(end - base)) - 1;
  return kstd::min(kstd::min(align_bits, fit_bits), abi::kMaxUntypedBits);
}

void add_untyped_range(BootCSpace& cs, uint64_t base, uint64_t end, bool device) {
  BootInfo& info = *cs.info;
  while (base < end) {
    uint64_t bits = block_bits(base, end);
    uint64_t size = uint64_t{1} << bits;
    if (bits < abi::kMinUntypedBits) {
      break;  // Cannot happen for page-aligned ranges; guards against a bad map.
    }
    if (info.untyped_count == BootInfo::kMaxUntyped) {
      cs.dropped_bytes += device ? 0 : end - base;
      return;
    }
    uint64_t slot = boot_cspace_append(cs, Cap::untyped(base, bits, device));
    (void)slot;
    info.untyped_list[info.untyped_count++] = {base, static_cast<uint8_t>(bits),
                                               static_cast<uint8_t>(device), {}};
    if (!device) {
      info.ram_untyped_bytes += size;
    }
    base += size;
  }
}

// Device space: everything below 2^phys_addr_bits that is either not described by the memory
// map or reserved by firmware, minus what the kernel drives itself.
void add_device_untyped(BootCSpace& cs, const mem::PhysMap& map, const BootCSpaceSpec& spec) {
  uint64_t limit = spec.phys_addr_bits >= 52 ? mem::kPhysAddrLimit
                                             : uint64_t{1} << spec.phys_addr_bits;
  // The carving below walks the kernel's devices in address order; the caller's list need not be.
  constexpr size_t kMaxDevices = 16;
  mem::PhysRegion devices[kMaxDevices];
  size_t device_count = 0;
  for (const mem::PhysRegion& k : spec.kernel_devices) {
    if (device_count == kMaxDevices) {
      break;
    }
    size_t i = device_count++;
    while (i > 0 && devices[i - 1].base > k.base) {
      devices[i] = devices[i - 1];
      --i;
    }
    devices[i] = k;
  }
  uint64_t cursor = 0;
  auto emit = [&](uint64_t base, uint64_t end) {
    // Carve out the kernel's own device pages.
    for (size_t d = 0; d < device_count; ++d) {
      const mem::PhysRegion& k = devices[d];
      if (k.end <= base || k.base >= end) {
        continue;
      }
      if (k.base > base) {
        add_untyped_range(cs, base, k.base, true);
      }
      base = kstd::max(base, k.end);
    }
    if (base < end) {
      add_untyped_range(cs, base, end, true);
    }
  };
  for (const mem::PhysRegion& r : map.regions()) {
    if (r.base >= limit) {
      break;
    }
    if (cursor < r.base) {
      emit(cursor, r.base);
    }
    if (r.kind == mem::RegionKind::kFirmware) {
      emit(r.base, kstd::min(r.end, limit));
    }
    cursor = kstd::max(cursor, r.end);
  }
  if (cursor < limit) {
    emit(cursor, limit);
  }
}

}  // namespace

uint64_t boot_cspace_append(BootCSpace& cs, const Cap& cap) {
  uint64_t slot = cs.next_free++;
  mdb_insert_root(&cs.slots[slot], cap, true);
  return slot;
}

abi::Result<BootCSpace> create_boot_cspace(mem::PhysMap& map, const BootCSpaceSpec& spec) {
  if (spec.modules.size() > BootInfo::kMaxModules) {
    return abi::err(abi::Status::kRangeError);
  }
  uint64_t module_pages = 0;
  for (const BootModuleSpec& m : spec.modules) {
    module_pages += pages(m.size);
  }
  uint64_t needed = abi::kFirstFreeFixedSlot + BootInfo::kPages + module_pages +
                    BootInfo::kMaxUntyped + spec.extra_slots + kMinFreeSlots;
  uint64_t radix = kstd::max(kMinRootRadix, static_cast<uint64_t>(kstd::bit_width(needed - 1)));
  if (radix > abi::kMaxCNodeRadix) {
    return abi::err(abi::Status::kRangeError);
  }
  uint64_t cnode_bytes = uint64_t{1} << (radix + abi::kSlotBits);
  uint64_t limit = spec.ram_limit == 0 ? mem::kPhysAddrLimit : spec.ram_limit;
  PhysAddr cnode = TRY(map.allocate(cnode_bytes, cnode_bytes, 1u << 20, limit));
  PhysAddr info_phys = TRY(map.allocate(BootInfo::kPages * kPage, kPage, 1u << 20, limit));
  memset(mem::phys_to<void>(cnode), 0, cnode_bytes);
  memset(mem::phys_to<void>(info_phys), 0, BootInfo::kPages * kPage);

  BootCSpace cs{};
  cs.root_cnode = Cap::cnode(cnode, radix, 64 - radix, 0);
  cs.slots = mem::phys_to<Slot>(cnode);
  cs.info = mem::phys_to<BootInfo>(info_phys);
  cs.info_phys = info_phys;
  BootInfo& info = *cs.info;
  info.magic = BootInfo::kMagic;
  info.version = BootInfo::kVersion;
  info.root_cnode_radix = radix;
  info.phys_addr_bits = spec.phys_addr_bits;

  mdb_insert_root(&cs.slots[abi::kSlotInitCNode], cs.root_cnode, true);
  mdb_insert_root(&cs.slots[abi::kSlotIrqControl], Cap::irq_control(), true);
  mdb_insert_root(&cs.slots[abi::kSlotAsidControl], Cap::asid_control(), true);
  mdb_insert_root(&cs.slots[abi::kSlotIoPortControl], Cap::ioport_control(), true);
  cs.next_free = abi::kFirstFreeFixedSlot;

  // Boot-info frames: read-only for the root task. The first also sits in its fixed slot.
  Cap first_info = Cap::frame(info_phys, Rights{Rights::kRead}, 0, false);
  mdb_insert_root(&cs.slots[abi::kSlotBootInfoFrame], first_info, true);
  info.boot_info_frames.start = cs.next_free;
  for (uint64_t i = 0; i < BootInfo::kPages; ++i) {
    boot_cspace_append(cs, Cap::frame(info_phys + i * kPage, Rights{Rights::kRead}, 0, false));
  }
  info.boot_info_frames.end = cs.next_free;

  info.module_frames.start = cs.next_free;
  for (const BootModuleSpec& m : spec.modules) {
    abi::BootModule& out = info.modules[info.module_count++];
    size_t n = kstd::strnlen(m.name, abi::BootModule::kMaxName - 1);
    memcpy(out.name, m.name, n);
    out.name[n] = '\0';
    out.paddr = m.paddr;
    out.size = m.size;
    out.frames.start = cs.next_free;
    for (uint64_t p = 0; p < pages(m.size); ++p) {
      boot_cspace_append(cs, Cap::frame(m.paddr + p * kPage, Rights::all(), 0, false));
    }
    out.frames.end = cs.next_free;
  }
  info.module_frames.end = cs.next_free;
  return cs;
}

void add_boot_untyped(BootCSpace& cs, const mem::PhysMap& map, const BootCSpaceSpec& spec) {
  BootInfo& info = *cs.info;
  info.untyped.start = cs.next_free;
  uint64_t limit = spec.ram_limit == 0 ? mem::kPhysAddrLimit : spec.ram_limit;
  for (const mem::PhysRegion& r : map.regions()) {
    if (r.kind == mem::RegionKind::kFree && r.base < limit) {
      add_untyped_range(cs, r.base, kstd::min(r.end, limit), false);
    }
  }
  add_device_untyped(cs, map, spec);
  info.untyped.end = cs.next_free;
  info.kernel_boot_bytes = map.total(mem::RegionKind::kKernelData);
  info.empty = {cs.next_free, uint64_t{1} << info.root_cnode_radix};
}

}  // namespace kernel
