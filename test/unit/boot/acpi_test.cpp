// SPDX-License-Identifier: MIT
//
// Unit tests for the MADT parser (kernel::boot::parse_madt). ACPI tables are built here with
// correct checksums and written into a host arena at chosen physical addresses, which the parser
// reads through mem::phys_to exactly as the kernel reads firmware memory through its direct map.
#include "boot/acpi.hpp"

#include "../support/arena.hpp"
#include "mem/phys.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using keel::test::HostArena;
using kernel::boot::AcpiError;
using kernel::boot::MadtInfo;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kHeaderSize = 36;

template <typename T>
void append(Bytes& b, T v) {
  size_t at = b.size();
  b.resize(at + sizeof(T));
  std::memcpy(b.data() + at, &v, sizeof(T));
}

template <typename T>
void put_at(Bytes& b, size_t offset, T v) {
  std::memcpy(b.data() + offset, &v, sizeof(T));
}

// Makes the bytes of `t` sum to zero, as ACPI requires.
void fix_checksum(Bytes& t) {
  t[9] = 0;
  uint8_t sum = 0;
  for (uint8_t byte : t) {
    sum = static_cast<uint8_t>(sum + byte);
  }
  t[9] = static_cast<uint8_t>(-sum);
}

// A system description table: the standard 36-byte header, then `body`.
Bytes sdt(const char* signature, const Bytes& body) {
  Bytes t(kHeaderSize + body.size(), 0);
  std::memcpy(t.data(), signature, 4);
  put_at<uint32_t>(t, 4, static_cast<uint32_t>(t.size()));
  t[8] = 1;                                          // Revision; the checksum (9) is fixed below.
  std::memcpy(t.data() + 10, "KEEL  KEELTEST", 14);  // OEM id (6) and OEM table id (8).
  put_at<uint32_t>(t, 24, 1);                        // OEM revision.
  put_at<uint32_t>(t, 28, 0x4B45454C);               // Creator id.
  put_at<uint32_t>(t, 32, 1);                        // Creator revision.
  std::copy(body.begin(), body.end(), t.begin() + kHeaderSize);
  fix_checksum(t);
  return t;
}

// MADT entries.
Bytes local_apic(uint8_t acpi_id, uint8_t apic_id, uint32_t flags) {
  Bytes e{0, 8, acpi_id, apic_id};
  append(e, flags);
  return e;
}
Bytes io_apic(uint8_t id, uint32_t address, uint32_t gsi_base) {
  Bytes e{1, 12, id, 0};
  append(e, address);
  append(e, gsi_base);
  return e;
}
Bytes source_override(uint8_t bus, uint8_t source, uint32_t gsi, uint16_t flags) {
  Bytes e{2, 10, bus, source};
  append(e, gsi);
  append(e, flags);
  return e;
}
Bytes lapic_nmi() {
  return {4, 6, 0xFF, 5, 0, 1};
}
Bytes lapic_override(uint64_t address) {
  Bytes e{5, 12, 0, 0};
  append(e, address);
  return e;
}
Bytes x2apic(uint32_t id) {
  Bytes e{9, 16, 0, 0};
  append(e, id);
  append<uint32_t>(e, 1);
  append<uint32_t>(e, id);
  return e;
}

Bytes madt(uint32_t lapic_address, uint32_t flags, const std::vector<Bytes>& entries) {
  Bytes body;
  append(body, lapic_address);
  append(body, flags);
  for (const Bytes& e : entries) {
    body.insert(body.end(), e.begin(), e.end());
  }
  return sdt("APIC", body);
}

Bytes rsdt(const std::vector<uint64_t>& tables) {
  Bytes body;
  for (uint64_t t : tables) {
    append(body, static_cast<uint32_t>(t));
  }
  return sdt("RSDT", body);
}

Bytes xsdt(const std::vector<uint64_t>& tables) {
  Bytes body;
  for (uint64_t t : tables) {
    append(body, t);
  }
  return sdt("XSDT", body);
}

// "Firmware memory": an arena where tables are placed one after another.
class Firmware {
 public:
  explicit Firmware(uint64_t base = 0xE0000, uint64_t size = 1u << 21)
      : arena_(size, base), next_(base + 0x100) {}

  uint64_t base() const { return arena_.base(); }
  uint64_t limit() const { return arena_.base() + arena_.size(); }

  // Copies `table` to the next free place (16-byte aligned) or to `at`; returns its address.
  uint64_t put(const Bytes& table, uint64_t at = 0) {
    uint64_t phys = at != 0 ? at : next_;
    REQUIRE(arena_.contains(phys, table.size()));
    std::memcpy(kernel::mem::phys_to<uint8_t>(phys), table.data(), table.size());
    if (at == 0) {
      next_ = (phys + table.size() + 15) & ~uint64_t{15};
    }
    return phys;
  }

 private:
  HostArena arena_;
  uint64_t next_;
};

std::string name(AcpiError e) {
  return kernel::boot::acpi_error_name(e);
}

// A typical QEMU q35 MADT: two CPUs, one I/O APIC, the timer on GSI 2 and the SCI level/low.
Bytes typical_madt() {
  return madt(0xFEE00000, 1,
              {local_apic(0, 0, 1), local_apic(1, 1, 1), io_apic(0, 0xFEC00000, 0),
               source_override(0, 0, 2, 0), source_override(0, 9, 9, 0xF), lapic_nmi()});
}

void check_typical(const MadtInfo& m) {
  CHECK(m.lapic_address == 0xFEE00000);
  CHECK(m.cpu_count == 2);
  CHECK(m.has_legacy_pics);
  REQUIRE(m.ioapic_count == 1);
  CHECK(m.ioapics[0].id == 0);
  CHECK(m.ioapics[0].address == 0xFEC00000);
  CHECK(m.ioapics[0].gsi_base == 0);
  CHECK(m.isa[0].present);
  CHECK(m.isa[0].gsi == 2);
  CHECK_FALSE(m.isa[0].active_low);
  CHECK_FALSE(m.isa[0].level);
  CHECK(m.isa[9].present);
  CHECK(m.isa[9].gsi == 9);
  CHECK(m.isa[9].active_low);
  CHECK(m.isa[9].level);
  for (int irq : {1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15}) {
    CHECK_FALSE(m.isa[irq].present);
  }
}

void check_error(uint64_t rsdt_phys, uint64_t xsdt_phys, uint64_t limit, AcpiError expected) {
  auto r = kernel::boot::parse_madt(rsdt_phys, xsdt_phys, limit);
  INFO("expected " << name(expected));
  REQUIRE_FALSE(r.ok());
  INFO("got " << name(r.error()));
  CHECK(r.error() == expected);
}

}  // namespace

// --- good tables ---------------------------------------------------------------------------------

TEST_CASE("acpi: the MADT through an RSDT", "[acpi]") {
  Firmware fw;
  uint64_t facp = fw.put(sdt("FACP", Bytes(80, 0)));
  uint64_t hpet = fw.put(sdt("HPET", Bytes(20, 0)));
  uint64_t apic = fw.put(typical_madt());
  uint64_t root = fw.put(rsdt({facp, hpet, apic}));
  auto r = kernel::boot::parse_madt(root, 0, fw.limit());
  REQUIRE(r.ok());
  check_typical(r.value());
}

TEST_CASE("acpi: the MADT through an XSDT above 4 GiB", "[acpi]") {
  Firmware fw(0x1'7FF0'0000);
  uint64_t facp = fw.put(sdt("FACP", Bytes(80, 0)));
  uint64_t apic = fw.put(typical_madt());
  uint64_t root = fw.put(xsdt({facp, apic}));
  REQUIRE(apic > 0xFFFFFFFF);
  auto r = kernel::boot::parse_madt(0, root, fw.limit());
  REQUIRE(r.ok());
  check_typical(r.value());
}

TEST_CASE("acpi: the XSDT is preferred over the RSDT", "[acpi]") {
  Firmware fw;
  uint64_t old_madt = fw.put(madt(0xFEE00000, 0, {local_apic(0, 0, 1)}));
  uint64_t new_madt = fw.put(madt(0xFEE00000, 0, {local_apic(0, 0, 1), local_apic(1, 1, 1)}));
  uint64_t r_root = fw.put(rsdt({old_madt}));
  uint64_t x_root = fw.put(xsdt({new_madt}));
  auto r = kernel::boot::parse_madt(r_root, x_root, fw.limit());
  REQUIRE(r.ok());
  CHECK(r.value().cpu_count == 2);
}

TEST_CASE("acpi: MADT entries in detail", "[acpi]") {
  Firmware fw;
  SECTION("disabled CPUs are not counted; x2APIC and NMI entries are skipped") {
    uint64_t apic = fw.put(madt(0xFEE00000, 0,
                                {local_apic(0, 0, 1), local_apic(1, 1, 0), local_apic(2, 2, 3),
                                 local_apic(3, 3, 2), x2apic(300), lapic_nmi()}));
    auto r = kernel::boot::parse_madt(fw.put(rsdt({apic})), 0, fw.limit());
    REQUIRE(r.ok());
    CHECK(r.value().cpu_count == 2);
    CHECK_FALSE(r.value().has_legacy_pics);
    CHECK(r.value().ioapic_count == 0);
  }
  SECTION("the local APIC address override wins, wherever it is") {
    uint64_t apic =
        fw.put(madt(0xFEE00000, 0, {lapic_override(0x1'2345'6000), local_apic(0, 0, 1)}));
    auto r = kernel::boot::parse_madt(fw.put(rsdt({apic})), 0, fw.limit());
    REQUIRE(r.ok());
    CHECK(r.value().lapic_address == 0x1'2345'6000);
  }
  SECTION("several I/O APICs, at most four kept") {
    std::vector<Bytes> entries;
    for (uint8_t i = 0; i < 6; ++i) {
      entries.push_back(io_apic(i, 0xFEC00000 + i * 0x1000u, i * 24u));
    }
    auto r = kernel::boot::parse_madt(fw.put(rsdt({fw.put(madt(0xFEE00000, 0, entries))})), 0,
                                      fw.limit());
    REQUIRE(r.ok());
    REQUIRE(r.value().ioapic_count == MadtInfo::kMaxIoApics);
    for (uint8_t i = 0; i < MadtInfo::kMaxIoApics; ++i) {
      CHECK(r.value().ioapics[i].id == i);
      CHECK(r.value().ioapics[i].address == 0xFEC00000 + i * 0x1000u);
      CHECK(r.value().ioapics[i].gsi_base == i * 24u);
    }
  }
  SECTION("override polarity and trigger flags") {
    // Polarity bits 1:0 and trigger bits 3:2: 0 conforms to the bus (ISA: high, edge), 1 active
    // high / edge, 3 active low / level.
    uint64_t apic = fw.put(
        madt(0xFEE00000, 1,
             {source_override(0, 1, 1, 0x0), source_override(0, 3, 3, 0x5),
              source_override(0, 4, 20, 0x3), source_override(0, 5, 5, 0xC),
              source_override(0, 14, 14, 0xF), source_override(1, 6, 30, 0xF),  // Not the ISA bus.
              source_override(0, 16, 16, 0xF)}));                               // Not an ISA IRQ.
    auto r = kernel::boot::parse_madt(fw.put(rsdt({apic})), 0, fw.limit());
    REQUIRE(r.ok());
    const MadtInfo& m = r.value();
    CHECK((m.isa[1].present && m.isa[1].gsi == 1 && !m.isa[1].active_low && !m.isa[1].level));
    CHECK((m.isa[3].present && !m.isa[3].active_low && !m.isa[3].level));
    CHECK((m.isa[4].present && m.isa[4].gsi == 20 && m.isa[4].active_low && !m.isa[4].level));
    CHECK((m.isa[5].present && !m.isa[5].active_low && m.isa[5].level));
    CHECK((m.isa[14].present && m.isa[14].active_low && m.isa[14].level));
    CHECK_FALSE(m.isa[6].present);
  }
  SECTION("a MADT with no entries") {
    auto r =
        kernel::boot::parse_madt(fw.put(rsdt({fw.put(madt(0xFEE00000, 1, {}))})), 0, fw.limit());
    REQUIRE(r.ok());
    CHECK(r.value().cpu_count == 0);
    CHECK(r.value().lapic_address == 0xFEE00000);
  }
  SECTION("root entries that are null or unreadable are skipped") {
    uint64_t apic = fw.put(typical_madt());
    auto r = kernel::boot::parse_madt(fw.put(rsdt({0, fw.limit() + 0x1000, fw.limit() - 8, apic})),
                                      0, fw.limit());
    REQUIRE(r.ok());
    check_typical(r.value());
  }
  SECTION("a table ending exactly at the readable limit") {
    Bytes t = typical_madt();
    uint64_t apic = fw.put(t, fw.limit() - t.size());
    auto r = kernel::boot::parse_madt(fw.put(rsdt({apic})), 0, fw.limit());
    REQUIRE(r.ok());
    check_typical(r.value());
  }
}

// --- errors --------------------------------------------------------------------------------------

TEST_CASE("acpi: kNoRootTable", "[acpi]") {
  Firmware fw;
  check_error(0, 0, fw.limit(), AcpiError::kNoRootTable);
}

TEST_CASE("acpi: kBadRootTable", "[acpi]") {
  Firmware fw;
  uint64_t apic = fw.put(typical_madt());
  Bytes root = rsdt({apic});
  bool wide = false;
  SECTION("bad checksum") {
    root[20] ^= 1;
  }
  SECTION("checksum byte off by one") {
    root[9] = static_cast<uint8_t>(root[9] + 1);
  }
  SECTION("wrong signature") {
    std::memcpy(root.data(), "RSDP", 4);
    fix_checksum(root);
  }
  SECTION("an XSDT given as the RSDT") {
    root = xsdt({apic});
  }
  SECTION("an RSDT given as the XSDT") {
    wide = true;
  }
  SECTION("length below the header") {
    put_at<uint32_t>(root, 4, 35);
    fix_checksum(root);
  }
  SECTION("length zero") {
    put_at<uint32_t>(root, 4, 0);
    fix_checksum(root);
  }
  SECTION("length over 1 MiB") {
    put_at<uint32_t>(root, 4, (1u << 20) + 4);
    fix_checksum(root);
  }
  uint64_t at = fw.put(root);
  check_error(wide ? 0 : at, wide ? at : 0, fw.limit(), AcpiError::kBadRootTable);
}

TEST_CASE("acpi: kOutOfRange", "[acpi]") {
  Firmware fw;
  uint64_t apic = fw.put(typical_madt());
  Bytes root = rsdt({apic});
  SECTION("the root table at the limit") {
    check_error(fw.limit(), 0, fw.limit(), AcpiError::kOutOfRange);
  }
  SECTION("the root table beyond the limit") {
    check_error(0, fw.limit() + 0x10000, fw.limit(), AcpiError::kOutOfRange);
  }
  SECTION("the root table's header crossing the limit") {
    Bytes head(root.begin(), root.begin() + 20);
    uint64_t at = fw.put(head, fw.limit() - head.size());
    check_error(at, 0, fw.limit(), AcpiError::kOutOfRange);
  }
  SECTION("the root table's body crossing the limit") {
    uint64_t at = fw.put(root);
    check_error(at, 0, at + root.size() - 1, AcpiError::kOutOfRange);
  }
  SECTION("an address near the top of the physical address space") {
    check_error(0xFFFFFFFFFFFFFFF0, 0, fw.limit(), AcpiError::kOutOfRange);
  }
}

TEST_CASE("acpi: a MADT crossing the readable limit is kOutOfRange", "[acpi]") {
  Firmware fw;
  Bytes t = typical_madt();
  // The header is readable, the rest of the table is not.
  Bytes head(t.begin(), t.begin() + 40);
  uint64_t apic = fw.put(head, fw.limit() - head.size());
  uint64_t root = fw.put(rsdt({apic}));
  check_error(root, 0, fw.limit(), AcpiError::kOutOfRange);
}

TEST_CASE("acpi: kNoMadt", "[acpi]") {
  Firmware fw;
  std::vector<uint64_t> tables;
  SECTION("an empty root table") {}
  SECTION("only other tables") {
    tables = {fw.put(sdt("FACP", Bytes(80, 0))), fw.put(sdt("HPET", Bytes(20, 0)))};
  }
  SECTION("entries that are null or beyond the limit") {
    tables = {0, fw.limit()};
  }
  SECTION("a lower-case signature") {
    Bytes t = typical_madt();
    std::memcpy(t.data(), "apic", 4);
    fix_checksum(t);
    tables = {fw.put(t)};
  }
  uint64_t root = fw.put(xsdt(tables));
  check_error(0, root, fw.limit(), AcpiError::kNoMadt);
}

TEST_CASE("acpi: kBadMadt", "[acpi]") {
  Firmware fw;
  Bytes t = typical_madt();
  const size_t first_entry = kHeaderSize + 8;
  SECTION("bad checksum") {
    t[first_entry + 3] ^= 0x10;
  }
  SECTION("too short for the local APIC address and flags") {
    t.resize(kHeaderSize + 4);
    put_at<uint32_t>(t, 4, static_cast<uint32_t>(t.size()));
    fix_checksum(t);
  }
  SECTION("length over 1 MiB") {
    put_at<uint32_t>(t, 4, (1u << 20) + 1);
    fix_checksum(t);
  }
  SECTION("an entry of length 0") {
    t = madt(0xFEE00000, 0, {local_apic(0, 0, 1), Bytes{0, 0, 0, 0, 0, 0, 0, 0}});
  }
  SECTION("an entry of length 1") {
    t = madt(0xFEE00000, 0, {Bytes{3, 1, 0, 0}});
  }
  SECTION("an entry running past the table") {
    Bytes e = io_apic(0, 0xFEC00000, 0);
    e.resize(8);  // The table ends 4 bytes early: the entry still says 12.
    t = madt(0xFEE00000, 0, {e});
  }
  SECTION("a single byte left over after the last entry") {
    t = madt(0xFEE00000, 0, {local_apic(0, 0, 1), Bytes{0}});
  }
  SECTION("an I/O APIC entry too short for its fields") {
    t = madt(0xFEE00000, 0, {Bytes{1, 8, 0, 0, 0, 0, 0xC0, 0xFE}});
  }
  SECTION("an override entry too short for its flags") {
    t = madt(0xFEE00000, 0, {Bytes{2, 8, 0, 0, 2, 0, 0, 0}});
  }
  SECTION("a local APIC address override too short") {
    t = madt(0xFEE00000, 0, {Bytes{5, 8, 0, 0, 0, 0, 0, 0}});
  }
  uint64_t apic = fw.put(t);
  check_error(fw.put(rsdt({apic})), 0, fw.limit(), AcpiError::kBadMadt);
}

TEST_CASE("acpi: every error has a distinct name", "[acpi]") {
  std::set<std::string> names;
  for (AcpiError e : {AcpiError::kNoRootTable, AcpiError::kBadRootTable, AcpiError::kNoMadt,
                      AcpiError::kBadMadt, AcpiError::kOutOfRange}) {
    names.insert(name(e));
  }
  CHECK(names.size() == 5);
  CHECK(names.count("unknown ACPI error") == 0);
  CHECK(name(static_cast<AcpiError>(99)) == "unknown ACPI error");
}

// Damaged MADTs, with their checksums repaired so that the entry walk is reached: the parser
// must never read outside the table or crash, whatever it decides.
TEST_CASE("acpi: random damage to the MADT never crashes", "[acpi][malformed]") {
  Firmware fw;
  const Bytes good = typical_madt();
  std::mt19937_64 rng(0xAC91);  // Fixed seed so that failures can be reproduced.
  int accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    Bytes t = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      t[kHeaderSize + rng() % (t.size() - kHeaderSize)] = static_cast<uint8_t>(rng());
    }
    if (rng() % 3 == 0) {
      t.resize(kHeaderSize + rng() % (t.size() - kHeaderSize));
      put_at<uint32_t>(t, 4, static_cast<uint32_t>(t.size()));
    }
    fix_checksum(t);
    // The table sits at the very end of readable memory, so reading past it is out of range.
    uint64_t apic = fw.put(t, fw.limit() - t.size());
    uint64_t root = fw.put(rsdt({apic}), fw.base() + 0x100);
    auto r = kernel::boot::parse_madt(root, 0, fw.limit());
    if (r.ok()) {
      ++accepted;
      CHECK(r.value().ioapic_count <= MadtInfo::kMaxIoApics);
    } else {
      CHECK(r.error() == AcpiError::kBadMadt);
    }
  }
  CHECK(accepted > 0);
}
