// SPDX-License-Identifier: MIT
//
// Unit tests for the initial CSpace (create_boot_cspace and add_boot_untyped) over a host arena
// with hand-made physical memory maps: RAM untyped are maximal aligned blocks that exactly cover
// the free memory, device untyped cover the rest of the physical address space except RAM and
// the kernel's own devices, module frames follow the boot-info order, the root CNode grows with
// the number of module pages, and the boot-info page describes all of it.
#include "core/boot_cspace.hpp"

#include "../support/arena.hpp"
#include "../support/catch_status.hpp"
#include "mem/phys.hpp"
#include "mem/phys_map.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace {

using abi::BootInfo;
using abi::CapType;
using abi::Rights;
using abi::Status;
using keel::test::HostArena;
using kernel::BootCSpace;
using kernel::BootCSpaceSpec;
using kernel::BootModuleSpec;
using kernel::Cap;
using kernel::mem::PhysMap;
using kernel::mem::PhysRegion;
using Kind = kernel::mem::RegionKind;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
constexpr uint64_t kPage = 4096;

struct Range {
  uint64_t base;
  uint64_t end;
  bool operator==(const Range&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Range& r) {
  return os << std::hex << "[0x" << r.base << ", 0x" << r.end << ")" << std::dec;
}

// Sorts and joins touching or overlapping ranges.
std::vector<Range> merged(std::vector<Range> v) {
  std::sort(v.begin(), v.end(), [](const Range& a, const Range& b) { return a.base < b.base; });
  std::vector<Range> out;
  for (const Range& r : v) {
    if (!out.empty() && r.base <= out.back().end) {
      out.back().end = std::max(out.back().end, r.end);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

// `from` without anything in `holes`.
std::vector<Range> subtract(const std::vector<Range>& from, const std::vector<Range>& holes) {
  std::vector<Range> out;
  for (Range r : from) {
    std::vector<Range> pieces{r};
    for (const Range& h : holes) {
      std::vector<Range> next;
      for (const Range& p : pieces) {
        if (h.end <= p.base || h.base >= p.end) {
          next.push_back(p);
          continue;
        }
        if (p.base < h.base) {
          next.push_back({p.base, h.base});
        }
        if (h.end < p.end) {
          next.push_back({h.end, p.end});
        }
      }
      pieces = next;
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
  }
  return merged(out);
}

struct Block {
  uint64_t paddr;
  uint64_t bits;
  uint64_t end() const { return paddr + (uint64_t{1} << bits); }
};

// A boot run: the arena, the map it works on, and the result.
struct Boot {
  std::unique_ptr<HostArena> arena;
  PhysMap map;
  BootCSpace cs{};

  Boot(uint64_t arena_base, uint64_t arena_bytes)
      : arena(std::make_unique<HostArena>(arena_bytes, arena_base)) {}

  void add(uint64_t base, uint64_t end, Kind kind) { REQUIRE(map.add(base, end - base, kind)); }

  Status run(const BootCSpaceSpec& spec) {
    auto r = kernel::create_boot_cspace(map, spec);
    if (!r) {
      return r.error();
    }
    cs = r.value();
    kernel::add_boot_untyped(cs, map, spec);
    return Status::kOk;
  }

  const BootInfo& info() const { return *cs.info; }
  const Cap& slot(uint64_t i) const { return cs.slots[i].cap; }

  std::vector<Block> untyped(bool device) const {
    std::vector<Block> out;
    for (uint64_t n = 0; n < info().untyped_count; ++n) {
      const abi::UntypedDesc& d = info().untyped_list[n];
      if ((d.is_device != 0) == device) {
        out.push_back({d.paddr, d.size_bits});
      }
    }
    std::sort(out.begin(), out.end(),
              [](const Block& a, const Block& b) { return a.paddr < b.paddr; });
    return out;
  }

  // The free memory below `limit` after boot, one range per free region.
  std::vector<Range> free_ranges(uint64_t limit) const {
    std::vector<Range> out;
    for (const PhysRegion& r : map.regions()) {
      if (r.kind == Kind::kFree && r.base < limit) {
        out.push_back({r.base, std::min(r.end, limit)});
      }
    }
    return out;
  }

  // What device untyped should cover: below 2^phys_addr_bits, everything that is not a region
  // of the map or is firmware, minus the kernel's devices.
  std::vector<Range> device_space(const BootCSpaceSpec& spec) const {
    uint64_t limit = spec.phys_addr_bits >= 52 ? kernel::mem::kPhysAddrLimit
                                               : uint64_t{1} << spec.phys_addr_bits;
    std::vector<Range> taken;
    for (const PhysRegion& r : map.regions()) {
      if (r.kind != Kind::kFirmware) {
        taken.push_back({r.base, r.end});
      }
    }
    for (const PhysRegion& k : spec.kernel_devices) {
      taken.push_back({k.base, k.end});
    }
    return subtract({{0, limit}}, taken);
  }
};

// Every untyped slot holds the capability its boot-info entry describes, in list order.
void check_untyped_slots(const Boot& b) {
  const BootInfo& info = b.info();
  REQUIRE(info.untyped.end - info.untyped.start == info.untyped_count);
  uint64_t ram = 0;
  for (uint64_t n = 0; n < info.untyped_count; ++n) {
    const abi::UntypedDesc& d = info.untyped_list[n];
    const Cap& c = b.slot(info.untyped.start + n);
    INFO("untyped " << n);
    REQUIRE(c.type() == CapType::kUntyped);
    CHECK(c.object() == d.paddr);
    CHECK(c.untyped_size_bits() == d.size_bits);
    CHECK(c.untyped_is_device() == (d.is_device != 0));
    CHECK(c.untyped_watermark() == 0);
    CHECK(d.size_bits >= abi::kMinUntypedBits);
    CHECK(d.size_bits <= abi::kMaxUntypedBits);
    CHECK(d.paddr % (uint64_t{1} << d.size_bits) == 0);
    if (!d.is_device) {
      ram += uint64_t{1} << d.size_bits;
    }
  }
  CHECK(ram == info.ram_untyped_bytes);
}

// The RAM untyped tile each free range exactly, and each block is the largest aligned power of
// two that starts where it does and fits in what is left of its range.
void check_ram_cover(const Boot& b, uint64_t limit) {
  std::vector<Block> blocks = b.untyped(false);
  std::vector<Range> ranges = b.free_ranges(limit);
  size_t i = 0;
  uint64_t total = 0;
  for (const Range& r : ranges) {
    INFO("free range " << r);
    uint64_t at = r.base;
    while (at < r.end) {
      REQUIRE(i < blocks.size());
      const Block& blk = blocks[i++];
      REQUIRE(blk.paddr == at);
      REQUIRE(blk.end() <= r.end);
      uint64_t twice = uint64_t{2} << blk.bits;
      bool can_double = blk.bits < abi::kMaxUntypedBits && at % twice == 0 && at + twice <= r.end;
      CHECK_FALSE(can_double);
      at = blk.end();
    }
    total += r.end - r.base;
  }
  CHECK(i == blocks.size());
  CHECK(total == b.info().ram_untyped_bytes);
}

// The device untyped cover exactly the device space and never overlap.
void check_device_cover(const Boot& b, const BootCSpaceSpec& spec) {
  std::vector<Block> blocks = b.untyped(true);
  std::vector<Range> got;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i > 0) {
      CHECK(blocks[i - 1].end() <= blocks[i].paddr);
    }
    got.push_back({blocks[i].paddr, blocks[i].end()});
  }
  std::vector<Range> expected = b.device_space(spec);
  CHECK(merged(got) == expected);
  // In particular no device untyped touches a RAM region or a kernel device.
  for (const Block& blk : blocks) {
    for (const PhysRegion& r : b.map.regions()) {
      if (r.kind != Kind::kFirmware) {
        CHECK((blk.end() <= r.base || blk.paddr >= r.end));
      }
    }
    for (const PhysRegion& k : spec.kernel_devices) {
      CHECK((blk.end() <= k.base || blk.paddr >= k.end));
    }
  }
}

// The fixed slots and the boot-info frames.
void check_fixed(const Boot& b, const BootCSpaceSpec& spec) {
  const BootInfo& info = b.info();
  CHECK(info.magic == BootInfo::kMagic);
  CHECK(info.version == BootInfo::kVersion);
  CHECK(info.phys_addr_bits == spec.phys_addr_bits);
  const uint64_t radix = info.root_cnode_radix;
  const Cap& root = b.slot(abi::kSlotInitCNode);
  CHECK(root.type() == CapType::kCNode);
  CHECK(root.cnode_radix() == radix);
  CHECK(root.cnode_guard_bits() == 64 - radix);
  CHECK(root.cnode_guard() == 0);
  CHECK(root == b.cs.root_cnode);
  CHECK(root.object() % (uint64_t{1} << (radix + abi::kSlotBits)) == 0);
  CHECK(b.cs.slots == kernel::mem::phys_to<kernel::Slot>(root.object()));
  CHECK(b.slot(abi::kSlotIrqControl).type() == CapType::kIrqControl);
  CHECK(b.slot(abi::kSlotAsidControl).type() == CapType::kAsidControl);
  CHECK(b.slot(abi::kSlotIoPortControl).type() == CapType::kIoPortControl);
  CHECK(b.cs.info == kernel::mem::phys_to<BootInfo>(b.cs.info_phys));
  CHECK(b.cs.info_phys % kPage == 0);
  // Boot-info frames, read-only; the first also in its fixed slot.
  CHECK(b.slot(abi::kSlotBootInfoFrame) ==
        Cap::frame(b.cs.info_phys, Rights{Rights::kRead}, 0, false));
  CHECK(info.boot_info_frames.start == abi::kFirstFreeFixedSlot);
  REQUIRE(info.boot_info_frames.end - info.boot_info_frames.start == BootInfo::kPages);
  for (uint64_t i = 0; i < BootInfo::kPages; ++i) {
    CHECK(b.slot(info.boot_info_frames.start + i) ==
          Cap::frame(b.cs.info_phys + i * kPage, Rights{Rights::kRead}, 0, false));
  }
  // The root CNode and the boot-info pages are kernel data now, inside the arena.
  for (const auto& [base, size] :
       {std::pair{root.object(), uint64_t{1} << (radix + abi::kSlotBits)},
        std::pair{b.cs.info_phys, BootInfo::kPages * kPage}}) {
    CHECK(b.arena->contains(base, size));
    bool found = false;
    for (const PhysRegion& r : b.map.regions()) {
      found = found || (r.kind == Kind::kKernelData && r.base <= base && base + size <= r.end);
    }
    CHECK(found);
  }
  // The empty range is the rest of the root CNode, at least kMinFreeSlots large.
  CHECK(info.module_frames.start == info.boot_info_frames.end);
  CHECK(info.empty.start == info.untyped.end);
  CHECK(info.empty.start == b.cs.next_free);
  CHECK(info.empty.end == uint64_t{1} << radix);
  CHECK(info.empty.end - info.empty.start >= 1024);
  for (uint64_t s = info.empty.start; s < info.empty.end; ++s) {
    if (!b.cs.slots[s].empty()) {
      FAIL_CHECK("slot " << s << " of the empty range is not empty");
      break;
    }
  }
  CHECK(info.kernel_boot_bytes == b.map.total(Kind::kKernelData));
  // Every free byte below the RAM limit is in an untyped or reported as dropped.
  uint64_t free_total = 0;
  for (const Range& r : b.free_ranges(spec.ram_limit == 0 ? ~uint64_t{0} : spec.ram_limit)) {
    free_total += r.end - r.base;
  }
  CHECK(info.ram_untyped_bytes + b.cs.dropped_bytes == free_total);
}

const PhysRegion kIoApic{0xFEC00000, 0xFEC01000, Kind::kKernelData};
const PhysRegion kLapic{0xFEE00000, 0xFEE01000, Kind::kKernelData};

TEST_CASE("boot cspace: a PC-like memory map", "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  Boot b(arena, 32 * kMiB);
  b.add(0, 1 * kMiB, Kind::kLowMemory);
  b.add(1 * kMiB, 0x180000, Kind::kKernelImage);
  b.add(0x180000, 0x183000, Kind::kKernelData);  // Boot page tables.
  b.add(0x183000, 0x9000000, Kind::kFree);
  b.add(0x9000000, 0x9010000, Kind::kAcpiReclaimable);
  b.add(0x9010000, 0x9011000, Kind::kBad);
  b.add(0x9011000, 0xA000000, Kind::kFree);
  b.add(arena + 0x5000, arena + 32 * kMiB - 64 * kKiB, Kind::kFree);
  b.add(arena + 32 * kMiB - 64 * kKiB, arena + 32 * kMiB, Kind::kModule);
  b.add(0xC0000000, 0xD0000000, Kind::kFirmware);   // PCI window.
  b.add(0xFEC00000, 0xFF000000, Kind::kFirmware);   // I/O APIC, HPET, local APIC.
  b.add(0xFFFC0000, 0x100000000, Kind::kFirmware);  // Flash.
  b.add(uint64_t{1} << 36, (uint64_t{1} << 36) + kGiB, Kind::kFirmware);  // Beyond the CPU.
  const uint64_t kernel_data_before = b.map.total(Kind::kKernelData);

  const PhysRegion kernel_devices[] = {kIoApic, kLapic};
  const uint64_t mod = arena + 32 * kMiB - 64 * kKiB;
  const char* long_name = "fs --root=/dev/disk0 --cache=64M --verbose --and-more";
  const BootModuleSpec modules[] = {
      {mod, 9 * kPage, "init"},
      {mod + 9 * kPage, 1, long_name},
      {mod + 10 * kPage, 0x1001, ""},
  };
  BootCSpaceSpec spec;
  spec.modules = modules;
  spec.phys_addr_bits = 36;
  spec.kernel_devices = kernel_devices;
  REQUIRE(b.run(spec) == Status::kOk);
  REQUIRE(b.map.invariants_hold());
  const BootInfo& info = b.info();

  check_fixed(b, spec);
  check_untyped_slots(b);
  check_ram_cover(b, ~uint64_t{0});
  check_device_cover(b, spec);
  CHECK(b.cs.dropped_bytes == 0);
  CHECK(info.root_cnode_radix == 12);
  CHECK(info.ram_untyped_bytes == b.map.total(Kind::kFree));
  CHECK(info.kernel_boot_bytes ==
        kernel_data_before + (uint64_t{1} << (12 + abi::kSlotBits)) + BootInfo::kPages * kPage);
  // Device space below 4 GiB and up to 2^36 is there; nothing at or above 2^36.
  std::vector<Block> dev = b.untyped(true);
  REQUIRE_FALSE(dev.empty());
  CHECK(dev.front().paddr == 0xA000000);
  CHECK(dev.back().end() == uint64_t{1} << 36);

  // Modules: one frame per page, in order, names cut to 39 characters.
  REQUIRE(info.module_count == 3);
  const uint64_t pages[] = {9, 1, 2};
  uint64_t slot = info.module_frames.start;
  for (uint64_t m = 0; m < 3; ++m) {
    INFO("module " << m);
    const abi::BootModule& out = info.modules[m];
    CHECK(out.paddr == modules[m].paddr);
    CHECK(out.size == modules[m].size);
    CHECK(out.frames.start == slot);
    CHECK(out.frames.end == slot + pages[m]);
    for (uint64_t p = 0; p < pages[m]; ++p) {
      CHECK(b.slot(slot + p) == Cap::frame(modules[m].paddr + p * kPage, Rights::all(), 0, false));
    }
    slot += pages[m];
  }
  CHECK(info.module_frames.end == slot);
  CHECK(info.untyped.start == slot);
  CHECK(std::string(info.modules[0].name) == "init");
  CHECK(std::string(info.modules[1].name) == std::string(long_name, 39));
  CHECK(std::string(info.modules[2].name).empty());
}

TEST_CASE("boot cspace: free memory in awkward pieces", "[boot-cspace]") {
  const uint64_t arena = 1 * kGiB;
  Boot b(arena, 16 * kMiB);
  // Pieces that start and end on every alignment, separated by reserved pages.
  uint64_t at = 0x100000;
  for (uint64_t pages = 1; pages <= 40; ++pages) {
    b.add(at, at + pages * kPage, Kind::kFree);
    b.add(at + pages * kPage, at + (pages + 1) * kPage, Kind::kFirmware);
    at += (pages + 1) * kPage;
  }
  b.add(arena + kPage, arena + 16 * kMiB - kPage, Kind::kFree);
  BootCSpaceSpec spec;
  spec.phys_addr_bits = 40;
  REQUIRE(b.run(spec) == Status::kOk);
  check_fixed(b, spec);
  check_untyped_slots(b);
  check_ram_cover(b, ~uint64_t{0});
  check_device_cover(b, spec);
  CHECK(b.info().ram_untyped_bytes == b.map.total(Kind::kFree));
}

TEST_CASE("boot cspace: RAM above ram_limit is neither RAM nor device untyped", "[boot-cspace]") {
  const uint64_t arena = 512 * kMiB;
  Boot b(arena, 32 * kMiB);
  b.add(arena, arena + 32 * kMiB, Kind::kFree);
  b.add(4 * kGiB, 6 * kGiB, Kind::kFree);  // Beyond the direct map, never touched.
  BootCSpaceSpec spec;
  spec.phys_addr_bits = 39;
  spec.ram_limit = arena + 20 * kMiB;
  REQUIRE(b.run(spec) == Status::kOk);
  check_fixed(b, spec);
  check_untyped_slots(b);
  check_ram_cover(b, spec.ram_limit);
  check_device_cover(b, spec);
  for (const Block& blk : b.untyped(false)) {
    CHECK(blk.end() <= spec.ram_limit);
  }
  // The boot allocations stayed below the limit too.
  CHECK(b.cs.root_cnode.object() < spec.ram_limit);
  CHECK(b.cs.info_phys < spec.ram_limit);
  CHECK(b.info().ram_untyped_bytes < b.map.total(Kind::kFree));
}

TEST_CASE("boot cspace: the device limit follows phys_addr_bits", "[boot-cspace]") {
  for (uint64_t bits : {uint64_t{32}, uint64_t{39}, uint64_t{46}, uint64_t{52}}) {
    INFO("phys_addr_bits " << bits);
    const uint64_t arena = 256 * kMiB;
    Boot b(arena, 8 * kMiB);
    b.add(arena, arena + 8 * kMiB, Kind::kFree);
    b.add(0xE0000000, 0xF0000000, Kind::kFirmware);
    BootCSpaceSpec spec;
    spec.phys_addr_bits = bits;
    REQUIRE(b.run(spec) == Status::kOk);
    check_fixed(b, spec);
    check_untyped_slots(b);
    check_device_cover(b, spec);
    std::vector<Block> dev = b.untyped(true);
    REQUIRE_FALSE(dev.empty());
    CHECK(dev.back().end() == uint64_t{1} << bits);
    CHECK(dev.front().paddr == 0);
  }
}

TEST_CASE("boot cspace: kernel devices are carved out of gaps and firmware regions",
          "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  Boot b(arena, 8 * kMiB);
  b.add(arena, arena + 8 * kMiB, Kind::kFree);
  b.add(0xFEC00000, 0xFED00000, Kind::kFirmware);
  // One device inside a firmware region, one in a gap, one straddling a gap's end.
  const PhysRegion kernel_devices[] = {
      {0xFEC00000, 0xFEC01000, Kind::kKernelData},
      {0xFEE00000, 0xFEE01000, Kind::kKernelData},
      {arena - kPage, arena + kPage, Kind::kKernelData},
  };
  BootCSpaceSpec spec;
  spec.phys_addr_bits = 36;
  spec.kernel_devices = kernel_devices;
  REQUIRE(b.run(spec) == Status::kOk);
  check_untyped_slots(b);
  check_device_cover(b, spec);
}

// Regression: add_device_untyped once carved spec.kernel_devices out in one forward pass that
// assumed the list sorted by address, and the kernel lists the local APIC first; the range below
// it, holding the I/O APIC, then became a device untyped.
TEST_CASE("boot cspace: kernel devices listed out of address order are still carved out",
          "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  Boot b(arena, 8 * kMiB);
  b.add(arena, arena + 8 * kMiB, Kind::kFree);
  b.add(0xFEC00000, 0xFF000000, Kind::kFirmware);
  const PhysRegion kernel_devices[] = {kLapic, kIoApic};
  BootCSpaceSpec spec;
  spec.phys_addr_bits = 36;
  spec.kernel_devices = kernel_devices;
  REQUIRE(b.run(spec) == Status::kOk);
  for (const Block& blk : b.untyped(true)) {
    const Range r{blk.paddr, blk.end()};
    INFO("device untyped " << r);
    CHECK((blk.end() <= kIoApic.base || blk.paddr >= kIoApic.end));
    CHECK((blk.end() <= kLapic.base || blk.paddr >= kLapic.end));
  }
}

TEST_CASE("boot cspace: modules", "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  Boot b(arena, 8 * kMiB);
  b.add(arena, arena + 8 * kMiB, Kind::kFree);
  const std::string n39(39, 'a');
  const std::string n40 = std::string(39, 'b') + "c";
  const std::string n100(100, 'd');
  std::vector<BootModuleSpec> modules;
  modules.push_back({0x2000000, 0, "empty"});
  modules.push_back({0x3000000, kPage, n39.c_str()});
  modules.push_back({0x4000000, kPage + 1, n40.c_str()});
  modules.push_back({0x5000000, 3 * kPage - 1, n100.c_str()});
  BootCSpaceSpec spec;
  spec.modules = {modules.data(), modules.size()};
  REQUIRE(b.run(spec) == Status::kOk);
  const BootInfo& info = b.info();
  REQUIRE(info.module_count == 4);
  CHECK(std::string(info.modules[0].name) == "empty");
  CHECK(info.modules[0].frames.start == info.modules[0].frames.end);
  CHECK(std::string(info.modules[1].name) == n39);
  CHECK(std::string(info.modules[2].name) == n40.substr(0, 39));
  CHECK(std::string(info.modules[3].name) == n100.substr(0, 39));
  CHECK(info.modules[1].frames.end - info.modules[1].frames.start == 1);
  CHECK(info.modules[2].frames.end - info.modules[2].frames.start == 2);
  CHECK(info.modules[3].frames.end - info.modules[3].frames.start == 3);
  for (uint64_t m = 1; m < 4; ++m) {
    CHECK(info.modules[m].frames.start == info.modules[m - 1].frames.end);
  }
  CHECK(b.slot(info.modules[3].frames.start + 2) ==
        Cap::frame(0x5000000 + 2 * kPage, Rights::all(), 0, false));
  CHECK(info.module_frames.end - info.module_frames.start == 6);
  // The unused entries stay zero.
  for (uint64_t m = 4; m < BootInfo::kMaxModules; ++m) {
    CHECK(info.modules[m].name[0] == '\0');
    CHECK(info.modules[m].frames.end == 0);
  }
  check_fixed(b, spec);
}

TEST_CASE("boot cspace: module count limit", "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  std::vector<BootModuleSpec> modules;
  for (uint64_t i = 0; i < 17; ++i) {
    modules.push_back({0x1000000 + i * kPage, kPage, "m"});
  }

  SECTION("16 modules") {
    Boot b(arena, 8 * kMiB);
    b.add(arena, arena + 8 * kMiB, Kind::kFree);
    BootCSpaceSpec spec;
    spec.modules = {modules.data(), 16};
    REQUIRE(b.run(spec) == Status::kOk);
    CHECK(b.info().module_count == 16);
    CHECK(b.info().module_frames.end - b.info().module_frames.start == 16);
  }

  SECTION("17 modules: nothing is allocated") {
    Boot b(arena, 8 * kMiB);
    b.add(arena, arena + 8 * kMiB, Kind::kFree);
    BootCSpaceSpec spec;
    spec.modules = {modules.data(), 17};
    CHECK(kernel::create_boot_cspace(b.map, spec).error() == Status::kRangeError);
    CHECK(b.map.total(Kind::kKernelData) == 0);
    CHECK(b.map.total(Kind::kFree) == 8 * kMiB);
  }
}

TEST_CASE("boot cspace: the root CNode grows with module pages and extra slots", "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  // 16 fixed slots, 3 boot-info frames, 640 untyped and 1024 free slots are always needed.
  const uint64_t base_need =
      abi::kFirstFreeFixedSlot + BootInfo::kPages + BootInfo::kMaxUntyped + 1024;
  struct Case {
    uint64_t module_pages;
    uint64_t extra;
    uint64_t radix;
  };
  const Case cases[] = {
      {0, 0, 12},
      {4096 - base_need, 0, 12},
      {4096 - base_need + 1, 0, 13},
      {4096 - base_need - 10, 11, 13},
      {8192 - base_need, 0, 13},
      {8192 - base_need + 1, 0, 14},
      {40000, 0, 16},
  };
  for (const Case& c : cases) {
    INFO("module pages " << c.module_pages << ", extra slots " << c.extra);
    Boot b(arena, 16 * kMiB);
    b.add(arena, arena + 16 * kMiB, Kind::kFree);
    // Module frames are only capabilities: the module may lie anywhere.
    const BootModuleSpec modules[] = {{8 * kGiB, c.module_pages * kPage, "big"}};
    BootCSpaceSpec spec;
    spec.modules = modules;
    spec.extra_slots = c.extra;
    REQUIRE(b.run(spec) == Status::kOk);
    CHECK(b.info().root_cnode_radix == c.radix);
    CHECK(b.info().module_frames.end - b.info().module_frames.start == c.module_pages);
    check_fixed(b, spec);
    check_untyped_slots(b);
    // Room is left for the caller's extra slots on top of the 1024 free ones.
    CHECK(b.info().empty.end - b.info().empty.start >= 1024 + c.extra);
  }
}

TEST_CASE("boot cspace: a root CNode beyond radix 24 is a range error", "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  Boot b(arena, 16 * kMiB);
  b.add(arena, arena + 16 * kMiB, Kind::kFree);
  // 2^24 module pages alone need more slots than a radix-24 CNode has.
  const BootModuleSpec modules[] = {{8 * kGiB, uint64_t{1} << 36, "huge"}};
  BootCSpaceSpec spec;
  spec.modules = modules;
  CHECK(kernel::create_boot_cspace(b.map, spec).error() == Status::kRangeError);
  CHECK(b.map.total(Kind::kKernelData) == 0);
}

TEST_CASE("boot cspace: extra slots filled by the caller come before the untyped",
          "[boot-cspace]") {
  const uint64_t arena = 256 * kMiB;
  Boot b(arena, 8 * kMiB);
  b.add(arena, arena + 8 * kMiB, Kind::kFree);
  BootCSpaceSpec spec;
  spec.extra_slots = 5;
  auto r = kernel::create_boot_cspace(b.map, spec);
  REQUIRE(r);
  b.cs = r.value();
  for (uint64_t i = 0; i < 5; ++i) {
    uint64_t s =
        kernel::boot_cspace_append(b.cs, Cap::frame(arena + i * kPage, Rights::all(), 0, false));
    CHECK(s == b.info().module_frames.end + i);
  }
  kernel::add_boot_untyped(b.cs, b.map, spec);
  CHECK(b.info().untyped.start == b.info().module_frames.end + 5);
  check_untyped_slots(b);
  check_ram_cover(b, ~uint64_t{0});
  check_device_cover(b, spec);
}

TEST_CASE("boot cspace: a full untyped list drops the rest of RAM and says how much",
          "[boot-cspace]") {
  const uint64_t arena = 1 * kGiB;
  Boot b(arena, 8 * kMiB);
  // 150 free pieces of 14 pages, each of which needs 6 blocks: more than the list holds.
  for (uint64_t k = 0; k < 150; ++k) {
    uint64_t base = 16 * kMiB + k * kMiB;
    b.add(base + kPage, base + 15 * kPage, Kind::kFree);
  }
  b.add(arena, arena + 8 * kMiB, Kind::kFree);
  BootCSpaceSpec spec;
  REQUIRE(b.run(spec) == Status::kOk);
  const BootInfo& info = b.info();
  CHECK(info.untyped_count == BootInfo::kMaxUntyped);
  CHECK(info.untyped.end - info.untyped.start == BootInfo::kMaxUntyped);
  CHECK(b.cs.dropped_bytes > 0);
  CHECK(info.ram_untyped_bytes + b.cs.dropped_bytes == b.map.total(Kind::kFree));
  CHECK(info.empty.end - info.empty.start >= 1024);
  check_untyped_slots(b);
  check_fixed(b, spec);
}

}  // namespace
