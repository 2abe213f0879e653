// SPDX-License-Identifier: MIT
#include "boot/acpi.hpp"

#include <kstd/string.hpp>

#include "mem/phys.hpp"

#include <kstd/enforce.hpp>

namespace kernel::boot {
namespace {

constexpr size_t kHeaderSize = 36;  // Signature, length, revision, checksum, OEM fields.
constexpr uint32_t kMaxTableSize = 1u << 20;

template <typename T>
T read(const uint8_t* p) {
  T v;
  memcpy(&v, p, sizeof v);
  return v;
}

abi::Error<AcpiError> fail(AcpiError e) { return abi::Error{e}; }

// A checked table: its bytes and length. Null when it does not pass.
struct Table {
  const uint8_t* bytes;
  uint32_t length;
};

abi::Result<Table, AcpiError> map_table(uint64_t phys, uint64_t limit, AcpiError bad) {
  if (phys == 0 || phys >= limit || limit - phys < kHeaderSize) {
    return fail(AcpiError::kOutOfRange);
  }
  const uint8_t* p = mem::phys_to<const uint8_t>(phys);
  uint32_t length = read<uint32_t>(p + 4);
  if (length < kHeaderSize || length > kMaxTableSize) {
    return fail(bad);
  }
  if (limit - phys < length) {
    return fail(AcpiError::kOutOfRange);
  }
  uint8_t sum = 0;
  for (uint32_t i = 0; i < length; ++i) {
    sum = static_cast<uint8_t>(sum + p[i]);
  }
  if (sum != 0) {
    return fail(bad);
  }
  return Table{p, length};
}

abi::Result<void, AcpiError> parse_entries(const Table& madt, MadtInfo* out) {
  // After the header: local APIC address (u32), flags (u32), then entries of (type, length).
  if (madt.length < kHeaderSize + 8) {
    return fail(AcpiError::kBadMadt);
  }
  out->lapic_address = read<uint32_t>(madt.bytes + kHeaderSize);
  out->has_legacy_pics = (read<uint32_t>(madt.bytes + kHeaderSize + 4) & 1) != 0;
  size_t off = kHeaderSize + 8;
  while (off < madt.length) {
    if (madt.length - off < 2) {
      return fail(AcpiError::kBadMadt);
    }
    uint8_t type = madt.bytes[off];
    uint8_t len = madt.bytes[off + 1];
    if (len < 2 || len > madt.length - off) {
      return fail(AcpiError::kBadMadt);
    }
    const uint8_t* e = madt.bytes + off;
    switch (type) {
      case 0:  // Processor local APIC: ACPI id, APIC id, flags (bit 0 enabled).
        if (len >= 8 && (read<uint32_t>(e + 4) & 1) != 0) {
          ++out->cpu_count;
        }
        break;
      case 1:  // I/O APIC: id, reserved, address (u32), GSI base (u32).
        if (len < 12) {
          return fail(AcpiError::kBadMadt);
        }
        if (out->ioapic_count < MadtInfo::kMaxIoApics) {
          out->ioapics[out->ioapic_count++] = {e[2], read<uint32_t>(e + 4), read<uint32_t>(e + 8)};
        }
        break;
      case 2: {  // Interrupt source override: bus, source, GSI (u32), flags (u16).
        if (len < 10) {
          return fail(AcpiError::kBadMadt);
        }
        uint8_t source = e[3];
        uint16_t flags = read<uint16_t>(e + 8);
        if (e[2] == 0 && source < 16) {
          // Polarity bits 1:0 (3 = active low), trigger bits 3:2 (3 = level).
          out->isa[source] = {true, read<uint32_t>(e + 4), (flags & 3) == 3, ((flags >> 2) & 3) == 3};
        }
        break;
      }
      case 5:  // Local APIC address override (u64 at offset 4).
        if (len < 12) {
          return fail(AcpiError::kBadMadt);
        }
        out->lapic_address = read<uint64_t>(e + 4);
        break;
      default: break;
    }
    off += len;
  }
  return {};
}

}  // namespace

const char* acpi_error_name(AcpiError e) {
  switch (e) {
    case AcpiError::kNoRootTable: return "no RSDT or XSDT";
    case AcpiError::kBadRootTable: return "RSDT/XSDT fails its checks";
    case AcpiError::kNoMadt: return "no MADT (APIC table)";
    case AcpiError::kBadMadt: return "MADT fails its checks";
    case AcpiError::kOutOfRange: return "table outside readable memory";
  }
  return "unknown ACPI error";
}

abi::Result<MadtInfo, AcpiError> parse_madt(uint64_t rsdt, uint64_t xsdt, uint64_t limit) {
  bool wide = xsdt != 0;
  if (!wide && rsdt == 0) {
    return fail(AcpiError::kNoRootTable);
  }
  Table root = TRY(map_table(wide ? xsdt : rsdt, limit, AcpiError::kBadRootTable));
  if (memcmp(root.bytes, wide ? "XSDT" : "RSDT", 4) != 0) {
    return fail(AcpiError::kBadRootTable);
  }
  size_t entry_size = wide ? 8 : 4;
  size_t count = (root.length - kHeaderSize) / entry_size;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* e = root.bytes + kHeaderSize + i * entry_size;
    uint64_t phys = wide ? read<uint64_t>(e) : read<uint32_t>(e);
    if (phys == 0 || phys >= limit || limit - phys < kHeaderSize) {
      continue;
    }
    if (memcmp(mem::phys_to<const uint8_t>(phys), "APIC", 4) != 0) {
      continue;
    }
    Table madt = TRY(map_table(phys, limit, AcpiError::kBadMadt));
    MadtInfo info;
    TRY(parse_entries(madt, &info));
    return info;
  }
  return fail(AcpiError::kNoMadt);
}

}  // namespace kernel::boot
