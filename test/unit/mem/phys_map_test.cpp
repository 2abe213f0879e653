// SPDX-License-Identifier: MIT
//
// Unit tests for the boot-time physical memory map: page rounding, overlap resolution by rank,
// merging, the error paths that must leave the map untouched, and the boot allocator. A
// randomized test checks the map against a per-page reference model.
#include "mem/phys_map.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using abi::Status;
using kernel::mem::kPageSize;
using kernel::mem::kPhysAddrLimit;
using kernel::mem::PhysMap;
using kernel::mem::PhysRegion;
using kernel::mem::region_kind_name;
using Kind = kernel::mem::RegionKind;

constexpr uint64_t P = kPageSize;
constexpr uint64_t kMiB = 1024 * 1024;

struct Expected {
  uint64_t base;
  uint64_t end;
  Kind kind;
};

std::string describe(const PhysMap& map) {
  std::ostringstream s;
  for (const PhysRegion& r : map.regions()) {
    s << std::hex << "[0x" << r.base << ", 0x" << r.end << ") " << region_kind_name(r.kind) << "\n";
  }
  return s.str();
}

// The map is big (two arrays of kCapacity regions), so tests keep it on the heap.
std::unique_ptr<PhysMap> new_map() {
  return std::make_unique<PhysMap>();
}

void check_regions(const PhysMap& map, const std::vector<Expected>& expected) {
  INFO("map:\n" << describe(map));
  CHECK(map.invariants_hold());
  REQUIRE(map.regions().size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("region " << i);
    CHECK(map.regions()[i].base == expected[i].base);
    CHECK(map.regions()[i].end == expected[i].end);
    CHECK(map.regions()[i].kind == expected[i].kind);
  }
}

// Adds and requires success; every test goes through here so that invariants are checked after
// every operation.
void add_ok(PhysMap& map, uint64_t base, uint64_t length, Kind kind) {
  INFO("add(0x" << std::hex << base << ", 0x" << length << ", " << region_kind_name(kind) << ")");
  auto r = map.add(base, length, kind);
  REQUIRE(r.ok());
  REQUIRE(map.invariants_hold());
}

std::vector<PhysRegion> snapshot(const PhysMap& map) {
  return {map.regions().begin(), map.regions().end()};
}

bool same(const std::vector<PhysRegion>& a, const PhysMap& map) {
  if (a.size() != map.regions().size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const PhysRegion& r = map.regions()[i];
    if (a[i].base != r.base || a[i].end != r.end || a[i].kind != r.kind) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("phys_map: an empty map", "[phys_map]") {
  auto map = new_map();
  CHECK(map->regions().empty());
  CHECK(map->invariants_hold());
  CHECK(map->total(Kind::kFree) == 0);
  CHECK(map->highest_end() == 0);
  CHECK(map->highest_end(Kind::kFree) == 0);
}

TEST_CASE("phys_map: free ranges shrink inward to whole pages", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x1001, 0x2fff, Kind::kFree);   // [0x1001, 0x4000) keeps [0x2000, 0x4000).
  add_ok(*map, 0x10000, 0x1fff, Kind::kFree);  // [0x10000, 0x11fff) keeps [0x10000, 0x11000).
  add_ok(*map, 0x20800, 0x1000, Kind::kFree);  // Straddles a page boundary: nothing whole.
  add_ok(*map, 0x30001, 0xffe, Kind::kFree);   // Inside one page.
  check_regions(*map, {{0x2000, 0x4000, Kind::kFree}, {0x10000, 0x11000, Kind::kFree}});
  CHECK(map->total(Kind::kFree) == 0x3000);
}

TEST_CASE("phys_map: used kinds grow outward to whole pages", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x1001, 0x10, Kind::kFirmware);
  add_ok(*map, 0x5fff, 2, Kind::kModule);  // One byte in each of two pages.
  add_ok(*map, 0x9000, 0x1000, Kind::kBootInfo);
  check_regions(*map, {{0x1000, 0x2000, Kind::kFirmware},
                       {0x5000, 0x7000, Kind::kModule},
                       {0x9000, 0xa000, Kind::kBootInfo}});
}

TEST_CASE("phys_map: overlaps resolve by rank", "[phys_map]") {
  auto map = new_map();
  SECTION("free never overrides") {
    add_ok(*map, 0x1000, 0x1000, Kind::kAcpiReclaimable);
    add_ok(*map, 0x3000, 0x1000, Kind::kFirmware);
    add_ok(*map, 0x0, 0x5000, Kind::kFree);
    check_regions(*map, {{0x0, 0x1000, Kind::kFree},
                         {0x1000, 0x2000, Kind::kAcpiReclaimable},
                         {0x2000, 0x3000, Kind::kFree},
                         {0x3000, 0x4000, Kind::kFirmware},
                         {0x4000, 0x5000, Kind::kFree}});
  }
  SECTION("firmware overrides free") {
    add_ok(*map, 0x0, 0x5000, Kind::kFree);
    add_ok(*map, 0x1000, 0x1000, Kind::kAcpiReclaimable);
    add_ok(*map, 0x3000, 0x1000, Kind::kFirmware);
    add_ok(*map, 0x4000, 0x800, Kind::kBad);
    check_regions(*map, {{0x0, 0x1000, Kind::kFree},
                         {0x1000, 0x2000, Kind::kAcpiReclaimable},
                         {0x2000, 0x3000, Kind::kFree},
                         {0x3000, 0x4000, Kind::kFirmware},
                         {0x4000, 0x5000, Kind::kBad}});
    CHECK(map->total(Kind::kFree) == 0x2000);
  }
  SECTION("kernel kinds override firmware") {
    add_ok(*map, 0x0, 0x4000, Kind::kFirmware);
    add_ok(*map, 0x1000, 0x1000, Kind::kModule);
    add_ok(*map, 0x3000, 0x1000, Kind::kKernelImage);
    check_regions(*map, {{0x0, 0x1000, Kind::kFirmware},
                         {0x1000, 0x2000, Kind::kModule},
                         {0x2000, 0x3000, Kind::kFirmware},
                         {0x3000, 0x4000, Kind::kKernelImage}});
  }
  SECTION("a lower rank never overrides a higher one") {
    add_ok(*map, 0x0, 0x4000, Kind::kKernelData);
    for (int k = static_cast<int>(Kind::kFree); k < static_cast<int>(Kind::kKernelData); ++k) {
      add_ok(*map, 0x1000, 0x1000, static_cast<Kind>(k));
    }
    check_regions(*map, {{0x0, 0x4000, Kind::kKernelData}});
  }
  SECTION("each kind overrides every lower one") {
    for (int k = static_cast<int>(Kind::kFree); k <= static_cast<int>(Kind::kKernelData); ++k) {
      add_ok(*map, 0x1000, 0x1000, static_cast<Kind>(k));
      check_regions(*map, {{0x1000, 0x2000, static_cast<Kind>(k)}});
    }
  }
}

TEST_CASE("phys_map: holes stay holes", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x0, 0x2000, Kind::kFree);
  add_ok(*map, 0x4000, 0x2000, Kind::kFree);
  add_ok(*map, 0x1000, 0x1000, Kind::kFirmware);  // Ends exactly where the hole starts.
  add_ok(*map, 0x4000, 0x1000, Kind::kModule);    // Starts exactly where the hole ends.
  check_regions(*map, {{0x0, 0x1000, Kind::kFree},
                       {0x1000, 0x2000, Kind::kFirmware},
                       {0x4000, 0x5000, Kind::kModule},
                       {0x5000, 0x6000, Kind::kFree}});
  CHECK(map->total(Kind::kFree) == 0x2000);
}

TEST_CASE("phys_map: adjacent regions of one kind merge", "[phys_map]") {
  auto map = new_map();
  SECTION("appended after") {
    add_ok(*map, 0x0, 0x1000, Kind::kFree);
    add_ok(*map, 0x1000, 0x1000, Kind::kFree);
    check_regions(*map, {{0x0, 0x2000, Kind::kFree}});
  }
  SECTION("prepended before") {
    add_ok(*map, 0x1000, 0x1000, Kind::kFirmware);
    add_ok(*map, 0x0, 0x1000, Kind::kFirmware);
    check_regions(*map, {{0x0, 0x2000, Kind::kFirmware}});
  }
  SECTION("filling the gap joins three into one") {
    add_ok(*map, 0x0, 0x1000, Kind::kFree);
    add_ok(*map, 0x2000, 0x1000, Kind::kFree);
    add_ok(*map, 0x1000, 0x1000, Kind::kFree);
    check_regions(*map, {{0x0, 0x3000, Kind::kFree}});
  }
  SECTION("overlapping claims of one kind") {
    add_ok(*map, 0x0, 0x3000, Kind::kModule);
    add_ok(*map, 0x2000, 0x3000, Kind::kModule);
    add_ok(*map, 0x1000, 0x1000, Kind::kModule);
    check_regions(*map, {{0x0, 0x5000, Kind::kModule}});
  }
  SECTION("a claim that raises a region to its neighbour's kind merges with it") {
    add_ok(*map, 0x0, 0x1000, Kind::kFirmware);
    add_ok(*map, 0x1000, 0x1000, Kind::kFree);
    add_ok(*map, 0x2000, 0x1000, Kind::kFirmware);
    add_ok(*map, 0x1000, 0x1000, Kind::kFirmware);
    check_regions(*map, {{0x0, 0x3000, Kind::kFirmware}});
  }
  SECTION("different kinds stay apart") {
    add_ok(*map, 0x0, 0x1000, Kind::kFree);
    add_ok(*map, 0x1000, 0x1000, Kind::kAcpiReclaimable);
    check_regions(*map, {{0x0, 0x1000, Kind::kFree}, {0x1000, 0x2000, Kind::kAcpiReclaimable}});
  }
}

TEST_CASE("phys_map: a claim in the middle splits a region in three", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x0, 0x10000, Kind::kFree);
  add_ok(*map, 0x4100, 0x1e00, Kind::kModule);  // [0x4100, 0x5f00) grows to [0x4000, 0x6000).
  check_regions(*map, {{0x0, 0x4000, Kind::kFree},
                       {0x4000, 0x6000, Kind::kModule},
                       {0x6000, 0x10000, Kind::kFree}});
  CHECK(map->total(Kind::kFree) == 0xe000);
  CHECK(map->total(Kind::kModule) == 0x2000);
}

TEST_CASE("phys_map: a claim spanning several regions and holes", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x0, 0x2000, Kind::kFree);
  add_ok(*map, 0x3000, 0x1000, Kind::kFirmware);
  add_ok(*map, 0x6000, 0x2000, Kind::kFree);
  add_ok(*map, 0x9000, 0x1000, Kind::kAcpiReclaimable);

  SECTION("a high rank covers everything, holes included") {
    add_ok(*map, 0x1000, 0x7800, Kind::kBootInfo);  // [0x1000, 0x8800) grows to 0x9000.
    check_regions(*map, {{0x0, 0x1000, Kind::kFree},
                         {0x1000, 0x9000, Kind::kBootInfo},
                         {0x9000, 0xa000, Kind::kAcpiReclaimable}});
  }
  SECTION("a low rank fills holes and free memory but not firmware") {
    add_ok(*map, 0x1000, 0x6000, Kind::kAcpiReclaimable);
    check_regions(*map, {{0x0, 0x1000, Kind::kFree},
                         {0x1000, 0x3000, Kind::kAcpiReclaimable},
                         {0x3000, 0x4000, Kind::kFirmware},
                         {0x4000, 0x7000, Kind::kAcpiReclaimable},
                         {0x7000, 0x8000, Kind::kFree},
                         {0x9000, 0xa000, Kind::kAcpiReclaimable}});
  }
  SECTION("free fills only holes") {
    add_ok(*map, 0x0, 0xc000, Kind::kFree);
    check_regions(*map, {{0x0, 0x3000, Kind::kFree},
                         {0x3000, 0x4000, Kind::kFirmware},
                         {0x4000, 0x9000, Kind::kFree},
                         {0x9000, 0xa000, Kind::kAcpiReclaimable},
                         {0xa000, 0xc000, Kind::kFree}});
  }
  SECTION("a claim covering every region and hole") {
    add_ok(*map, 0x0, 0x20000, Kind::kLowMemory);
    check_regions(*map, {{0x0, 0x20000, Kind::kLowMemory}});
  }
}

TEST_CASE("phys_map: zero length and empty free ranges change nothing", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x0, 0x4000, Kind::kFree);
  auto before = snapshot(*map);
  add_ok(*map, 0x1000, 0, Kind::kKernelImage);
  add_ok(*map, 0x1234, 0, Kind::kFree);
  add_ok(*map, 0x5001, 0x10, Kind::kFree);
  // A zero length is accepted even where a nonzero one would be a range error.
  add_ok(*map, kPhysAddrLimit + 0x1000, 0, Kind::kFirmware);
  add_ok(*map, UINT64_MAX, 0, Kind::kFirmware);
  CHECK(same(before, *map));
}

TEST_CASE("phys_map: range errors leave the map unchanged", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x0, 0x4000, Kind::kFree);
  add_ok(*map, 0x2000, 0x1000, Kind::kModule);
  auto before = snapshot(*map);

  struct Case {
    uint64_t base;
    uint64_t length;
  };
  const Case cases[] = {
      {UINT64_MAX - 0xfff, 0x2000},  // Wraps around.
      {0x1000, UINT64_MAX},          // Wraps around.
      {1, UINT64_MAX},               // Ends exactly at 2^64, which is a wrap too.
      {kPhysAddrLimit, 0x1000},      // Starts at the limit.
      {kPhysAddrLimit + 0x5000, 1},  // Starts beyond it.
      {UINT64_MAX, 1},
  };
  for (const Case& c : cases) {
    for (Kind kind : {Kind::kFree, Kind::kFirmware, Kind::kKernelData}) {
      INFO("add(0x" << std::hex << c.base << ", 0x" << c.length << ", " << region_kind_name(kind)
                    << ")");
      auto r = map->add(c.base, c.length, kind);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == Status::kRangeError);
      CHECK(same(before, *map));
      CHECK(map->invariants_hold());
    }
  }
}

TEST_CASE("phys_map: the end is clipped at the physical address limit", "[phys_map]") {
  auto map = new_map();
  SECTION("free") {
    add_ok(*map, kPhysAddrLimit - 0x2000, 0x10000, Kind::kFree);
    check_regions(*map, {{kPhysAddrLimit - 0x2000, kPhysAddrLimit, Kind::kFree}});
    CHECK(map->highest_end() == kPhysAddrLimit);
    CHECK(map->highest_end(Kind::kFree) == kPhysAddrLimit);
  }
  SECTION("used, starting in the last page") {
    add_ok(*map, kPhysAddrLimit - 1, UINT64_MAX - kPhysAddrLimit, Kind::kFirmware);
    check_regions(*map, {{kPhysAddrLimit - P, kPhysAddrLimit, Kind::kFirmware}});
  }
  SECTION("a free range at the very top that shrinks to nothing") {
    add_ok(*map, kPhysAddrLimit - 0x800, 0x10000, Kind::kFree);
    CHECK(map->regions().empty());
  }
}

TEST_CASE("phys_map: running out of capacity leaves the map unchanged", "[phys_map]") {
  auto map = new_map();
  // Alternating kinds so that nothing merges: exactly kCapacity regions.
  for (uint64_t i = 0; i < PhysMap::kCapacity; ++i) {
    add_ok(*map, i * P, P, i % 2 == 0 ? Kind::kFree : Kind::kFirmware);
  }
  REQUIRE(map->regions().size() == PhysMap::kCapacity);
  REQUIRE(map->regions().back().kind == Kind::kFirmware);
  const uint64_t top = PhysMap::kCapacity * P;
  auto before = snapshot(*map);

  SECTION("a new region after the last") {
    auto r = map->add(top, P, Kind::kFree);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kNoSpace);
    CHECK(same(before, *map));
    CHECK(map->invariants_hold());
  }
  SECTION("a region of the last region's kind that is not adjacent to it") {
    auto r = map->add(top + 2 * P, P, Kind::kFirmware);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kNoSpace);
    CHECK(same(before, *map));
  }
  SECTION("a claim that replaces one region's kind keeps the count and fits") {
    add_ok(*map, 2 * P, P, Kind::kModule);
    CHECK(map->regions().size() == PhysMap::kCapacity);
  }
  SECTION("a claim that merges with the last region still fits") {
    add_ok(*map, top, P, Kind::kFirmware);
    CHECK(map->regions().size() == PhysMap::kCapacity);
    CHECK(map->highest_end() == top + P);
  }
  SECTION("a claim that merges many regions frees room") {
    add_ok(*map, 0, 4 * P, Kind::kFirmware);
    CHECK(map->regions().size() == PhysMap::kCapacity - 3);
    add_ok(*map, top + P, P, Kind::kFree);
    add_ok(*map, top + 3 * P, P, Kind::kFree);
    CHECK(map->regions().size() == PhysMap::kCapacity - 1);
    auto r = map->add(top + 5 * P, P, Kind::kFree);
    CHECK(r.ok());
    auto full = snapshot(*map);
    auto r2 = map->add(top + 7 * P, P, Kind::kFree);
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error() == Status::kNoSpace);
    CHECK(same(full, *map));
  }
}

TEST_CASE("phys_map: allocate out of a full map fails with kNoSpace", "[phys_map]") {
  auto map = new_map();
  // kCapacity - 2 single-page regions, then one large free region: kCapacity - 1 in all.
  const uint64_t n = PhysMap::kCapacity - 2;
  for (uint64_t i = 0; i < n; ++i) {
    add_ok(*map, i * P, P, i % 2 == 0 ? Kind::kFree : Kind::kFirmware);
  }
  REQUIRE(map->regions().back().kind == Kind::kFirmware);
  add_ok(*map, n * P, 16 * P, Kind::kFree);
  REQUIRE(map->regions().size() == PhysMap::kCapacity - 1);
  auto before = snapshot(*map);
  // Below the top of the free region, the allocation would split it in three.
  auto r = map->allocate(P, P, 0, (n + 8) * P);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == Status::kNoSpace);
  CHECK(same(before, *map));
  // At its top it only splits it in two.
  auto r2 = map->allocate(P, P, 0, UINT64_MAX);
  REQUIRE(r2.ok());
  CHECK(*r2 == (n + 15) * P);
  CHECK(map->regions().size() == PhysMap::kCapacity);
  CHECK(map->invariants_hold());
}

TEST_CASE("phys_map: allocate", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 1 * kMiB, 7 * kMiB, Kind::kFree);   // [1 MiB, 8 MiB)
  add_ok(*map, 16 * kMiB, 1 * kMiB, Kind::kFree);  // [16 MiB, 17 MiB)
  add_ok(*map, 17 * kMiB, 1 * kMiB, Kind::kFirmware);
  const uint64_t free_before = map->total(Kind::kFree);

  SECTION("the highest fit, rounded up to pages") {
    auto r = map->allocate(0x2001, P, 0, UINT64_MAX);
    REQUIRE(r.ok());
    CHECK(*r == 17 * kMiB - 0x3000);
    CHECK(map->total(Kind::kFree) == free_before - 0x3000);
    CHECK(map->total(Kind::kKernelData) == 0x3000);
    CHECK(map->highest_end(Kind::kKernelData) == 17 * kMiB);
    check_regions(*map, {{1 * kMiB, 8 * kMiB, Kind::kFree},
                         {16 * kMiB, 17 * kMiB - 0x3000, Kind::kFree},
                         {17 * kMiB - 0x3000, 17 * kMiB, Kind::kKernelData},
                         {17 * kMiB, 18 * kMiB, Kind::kFirmware}});
    // The next allocation goes just below the first.
    auto r2 = map->allocate(1, P, 0, UINT64_MAX);
    REQUIRE(r2.ok());
    CHECK(*r2 == 17 * kMiB - 0x4000);
    CHECK(map->regions().size() == 4);  // Merged with the first allocation.
    CHECK(map->invariants_hold());
  }
  SECTION("too big for the higher region falls to the lower") {
    auto r = map->allocate(2 * kMiB, P, 0, UINT64_MAX);
    REQUIRE(r.ok());
    CHECK(*r == 6 * kMiB);
    CHECK(map->invariants_hold());
  }
  SECTION("2 MiB alignment") {
    auto r = map->allocate(P, 2 * kMiB, 0, UINT64_MAX);
    REQUIRE(r.ok());
    CHECK(*r == 16 * kMiB);  // The highest 2 MiB boundary with a free page above it.
    auto r2 = map->allocate(P, 2 * kMiB, 0, UINT64_MAX);
    REQUIRE(r2.ok());
    CHECK(*r2 == 6 * kMiB);
    auto r3 = map->allocate(3 * kMiB, 2 * kMiB, 0, UINT64_MAX);
    REQUIRE(r3.ok());
    CHECK(*r3 == 2 * kMiB);
    // 4 MiB and 0 are 4 MiB aligned but neither has a free page at it now; an aligned place
    // below a region's base must not be taken.
    auto r4 = map->allocate(P, 4 * kMiB, 0, UINT64_MAX);
    REQUIRE_FALSE(r4.ok());
    CHECK(r4.error() == Status::kNotEnoughMemory);
    CHECK(map->invariants_hold());
  }
  SECTION("max bound") {
    auto r = map->allocate(P, P, 0, 4 * kMiB);
    REQUIRE(r.ok());
    CHECK(*r == 4 * kMiB - P);
    // An unaligned bound: the allocation must still end at or below it.
    auto r2 = map->allocate(P, P, 0, 3 * kMiB + 0x123);
    REQUIRE(r2.ok());
    CHECK(*r2 == 3 * kMiB - P);
  }
  SECTION("min bound") {
    auto r = map->allocate(P, 2 * kMiB, 17 * kMiB, UINT64_MAX);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kNotEnoughMemory);
    auto r2 = map->allocate(2 * kMiB, P, 5 * kMiB + 1, UINT64_MAX);
    REQUIRE(r2.ok());
    CHECK(*r2 == 6 * kMiB);
    // Only [5 MiB + 1, 6 MiB) is left in the window: a MiB no longer fits, a MiB less a page
    // does, starting at the first page boundary above the bound.
    auto r3 = map->allocate(kMiB, P, 5 * kMiB + 1, 8 * kMiB);
    REQUIRE_FALSE(r3.ok());
    CHECK(r3.error() == Status::kNotEnoughMemory);
    auto r4 = map->allocate(kMiB - P, P, 5 * kMiB + 1, 8 * kMiB);
    REQUIRE(r4.ok());
    CHECK(*r4 == 5 * kMiB + P);
  }
  SECTION("min and max select one window") {
    auto r = map->allocate(P, P, 2 * kMiB, 2 * kMiB + P);
    REQUIRE(r.ok());
    CHECK(*r == 2 * kMiB);
    auto r2 = map->allocate(P, P, 2 * kMiB, 2 * kMiB + P);
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error() == Status::kNotEnoughMemory);
    auto r3 = map->allocate(P, P, 3 * kMiB, 2 * kMiB);  // An empty window.
    REQUIRE_FALSE(r3.ok());
    CHECK(r3.error() == Status::kNotEnoughMemory);
  }
  SECTION("zero size") {
    auto r = map->allocate(0, P, 0, UINT64_MAX);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kInvalidArgument);
  }
  SECTION("bad alignment") {
    for (uint64_t align : {uint64_t{0}, uint64_t{1}, uint64_t{0x800}, uint64_t{0x3000},
                           uint64_t{0x1001}, uint64_t{3} << 40}) {
      INFO("align 0x" << std::hex << align);
      auto r = map->allocate(P, align, 0, UINT64_MAX);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == Status::kAlignmentError);
    }
  }
  SECTION("not enough memory") {
    for (uint64_t size : {8 * kMiB, 7 * kMiB + 1, UINT64_MAX, UINT64_MAX - P}) {
      INFO("size 0x" << std::hex << size);
      auto r = map->allocate(size, P, 0, UINT64_MAX);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == Status::kNotEnoughMemory);
    }
    // Free memory is split in two, and an allocation never spans regions.
    auto r = map->allocate(7 * kMiB, P, 0, UINT64_MAX);
    REQUIRE(r.ok());
    CHECK(*r == 1 * kMiB);
    auto r2 = map->allocate(1 * kMiB + P, P, 0, UINT64_MAX);
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.error() == Status::kNotEnoughMemory);
  }
  SECTION("failures change nothing") {
    auto before = snapshot(*map);
    CHECK_FALSE(map->allocate(0, P, 0, UINT64_MAX).ok());
    CHECK_FALSE(map->allocate(P, 3, 0, UINT64_MAX).ok());
    CHECK_FALSE(map->allocate(64 * kMiB, P, 0, UINT64_MAX).ok());
    CHECK(same(before, *map));
  }
  SECTION("allocating everything") {
    auto a = map->allocate(1 * kMiB, P, 0, UINT64_MAX);
    auto b = map->allocate(7 * kMiB, P, 0, UINT64_MAX);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(map->total(Kind::kFree) == 0);
    CHECK(map->highest_end(Kind::kFree) == 0);
    CHECK(map->total(Kind::kKernelData) == free_before);
    auto c = map->allocate(P, P, 0, UINT64_MAX);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error() == Status::kNotEnoughMemory);
  }
}

TEST_CASE("phys_map: total and highest_end", "[phys_map]") {
  auto map = new_map();
  add_ok(*map, 0x0, 0x9f000, Kind::kFree);
  add_ok(*map, 0x0, 0x100000, Kind::kLowMemory);
  add_ok(*map, 0x100000, 0x3ff00000, Kind::kFree);
  add_ok(*map, 0x200000, 0x80000, Kind::kKernelImage);
  add_ok(*map, 0x400000, 0x1000, Kind::kBootInfo);
  add_ok(*map, 0x3ffe0000, 0x20000, Kind::kAcpiReclaimable);
  add_ok(*map, 0xfffc0000, 0x40000, Kind::kFirmware);
  CHECK(map->total(Kind::kLowMemory) == 0x100000);
  CHECK(map->total(Kind::kKernelImage) == 0x80000);
  CHECK(map->total(Kind::kBootInfo) == 0x1000);
  CHECK(map->total(Kind::kAcpiReclaimable) == 0x20000);
  CHECK(map->total(Kind::kFirmware) == 0x40000);
  CHECK(map->total(Kind::kModule) == 0);
  CHECK(map->total(Kind::kFree) == 0x3ffe0000 - 0x100000 - 0x80000 - 0x1000);
  CHECK(map->highest_end() == 0x100000000);
  CHECK(map->highest_end(Kind::kFree) == 0x3ffe0000);
  CHECK(map->highest_end(Kind::kKernelImage) == 0x280000);
  CHECK(map->highest_end(Kind::kLowMemory) == 0x100000);
  CHECK(map->highest_end(Kind::kModule) == 0);
}

TEST_CASE("phys_map: region kind names", "[phys_map]") {
  CHECK(std::string(region_kind_name(Kind::kFree)) == "free");
  CHECK(std::string(region_kind_name(Kind::kKernelData)) == "kernel-data");
  CHECK(std::string(region_kind_name(static_cast<Kind>(99))) == "unknown");
}

namespace {

// The reference model: one entry per page of a small address space, holding the highest-ranked
// kind claimed over it, or -1 for a hole.
constexpr uint64_t kModelPages = 256;

struct Model {
  std::vector<int> page = std::vector<int>(kModelPages, -1);

  void add(uint64_t base, uint64_t length, Kind kind) {
    if (length == 0) {
      return;
    }
    uint64_t end = base + length;
    uint64_t first;
    uint64_t last;
    if (kind == Kind::kFree) {
      first = (base + P - 1) / P;  // Only whole pages count.
      last = end / P;
    } else {
      first = base / P;
      last = (end + P - 1) / P;
    }
    for (uint64_t i = first; i < last; ++i) {
      page[i] = std::max(page[i], static_cast<int>(kind));
    }
  }

  // The highest aligned place where `pages` free pages lie inside [min_addr, max_addr), or -1.
  int64_t allocate(uint64_t pages, uint64_t align, uint64_t min_addr, uint64_t max_addr) const {
    uint64_t top = std::min(max_addr, kModelPages * P);
    if (top < pages * P) {
      return -1;
    }
    for (int64_t place = static_cast<int64_t>((top - pages * P) / align * align);
         place >= 0 && static_cast<uint64_t>(place) >= min_addr;
         place -= static_cast<int64_t>(align)) {
      bool all_free = true;
      for (uint64_t i = 0; i < pages; ++i) {
        all_free = all_free && page[static_cast<uint64_t>(place) / P + i] == 0;
      }
      if (all_free) {
        return place;
      }
    }
    return -1;
  }

  size_t runs() const {
    size_t n = 0;
    for (uint64_t i = 0; i < kModelPages; ++i) {
      if (page[i] >= 0 && (i == 0 || page[i - 1] != page[i])) {
        ++n;
      }
    }
    return n;
  }
};

// Expands the map into pages and compares it with the model.
void check_against_model(const PhysMap& map, const Model& model) {
  std::vector<int> actual(kModelPages, -1);
  for (const PhysRegion& r : map.regions()) {
    REQUIRE(r.end <= kModelPages * P);
    for (uint64_t a = r.base; a < r.end; a += P) {
      actual[a / P] = static_cast<int>(r.kind);
    }
  }
  // One assertion for the whole space, naming the first page that differs.
  uint64_t first_diff = 0;
  while (first_diff < kModelPages && actual[first_diff] == model.page[first_diff]) {
    ++first_diff;
  }
  INFO("map:\n" << describe(map));
  INFO("first differing page " << first_diff);
  REQUIRE(first_diff == kModelPages);
  // Equal pages plus the merge invariant mean equal region lists.
  REQUIRE(map.regions().size() == model.runs());
}

}  // namespace

TEST_CASE("phys_map: random claims match a per-page model", "[phys_map][random]") {
  std::mt19937_64 rng(0x6b65656c);
  auto pick = [&](uint64_t n) { return rng() % n; };  // Uniform enough for a test.
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    auto map = new_map();
    Model model;
    for (int step = 0; step < 300; ++step) {
      INFO("step " << step);
      uint64_t space = kModelPages * P;
      uint64_t base;
      uint64_t length;
      // Mix page-aligned claims, byte-granular ones, and the occasional empty one.
      switch (pick(4)) {
        case 0:
          base = pick(kModelPages) * P;
          length = pick(kModelPages - base / P + 1) * P;
          break;
        case 1:
          base = pick(space);
          length = pick(std::min<uint64_t>(space - base, 8 * P) + 1);
          break;
        default:
          base = pick(space);
          length = pick(space - base + 1);
          break;
      }
      // Free claims dominate, as they do in a real memory map.
      Kind kind = pick(3) == 0 ? static_cast<Kind>(pick(9)) : Kind::kFree;
      INFO("add(0x" << std::hex << base << ", 0x" << length << ", " << region_kind_name(kind)
                    << ")");
      REQUIRE(map->add(base, length, kind).ok());
      model.add(base, length, kind);
      REQUIRE(map->invariants_hold());
      check_against_model(*map, model);

      if (pick(8) == 0) {
        uint64_t pages = 1 + pick(8);
        uint64_t align = P << pick(4);
        uint64_t min_addr = pick(2) == 0 ? 0 : pick(space);
        uint64_t max_addr = pick(2) == 0 ? UINT64_MAX : pick(space + 1);
        INFO("allocate(0x" << std::hex << pages * P << ", 0x" << align << ", 0x" << min_addr
                           << ", 0x" << max_addr << ")");
        int64_t expected = model.allocate(pages, align, min_addr, max_addr);
        // Ask for a size that is not a page multiple now and then; it rounds up.
        auto r = map->allocate(pages * P - pick(P), align, min_addr, max_addr);
        if (expected < 0) {
          REQUIRE_FALSE(r.ok());
          CHECK(r.error() == Status::kNotEnoughMemory);
        } else {
          REQUIRE(r.ok());
          REQUIRE(*r == static_cast<uint64_t>(expected));
          model.add(*r, pages * P, Kind::kKernelData);
        }
        REQUIRE(map->invariants_hold());
        check_against_model(*map, model);
      }
    }
  }
}
