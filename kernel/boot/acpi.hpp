// SPDX-License-Identifier: MIT
//
// Just enough ACPI to route interrupts: find the MADT through the RSDT or XSDT and read the
// local APIC address, the I/O APICs and the ISA interrupt source overrides. Portable: physical
// memory is read through mem::phys_to (the direct map in the kernel, an arena in the tests).
// Every table is checked (signature, length, checksum) before use; a bad table is an error,
// never a crash.
#pragma once

#include <abi/result.hpp>

#include <kstd/types.hpp>

namespace kernel::boot {

struct IoApicInfo {
  uint8_t id;
  uint64_t address;
  uint32_t gsi_base;
};

struct IsaOverride {
  bool present;
  uint32_t gsi;
  bool active_low;
  bool level;
};

struct MadtInfo {
  static constexpr size_t kMaxIoApics = 4;

  uint64_t lapic_address = 0;
  uint32_t cpu_count = 0;  // Enabled local APICs.
  bool has_legacy_pics = false;
  size_t ioapic_count = 0;
  IoApicInfo ioapics[kMaxIoApics] = {};
  IsaOverride isa[16] = {};  // ISA IRQ -> GSI; absent means identity, edge, active high.
};

enum class AcpiError : uint8_t {
  kNoRootTable,     // Neither RSDT nor XSDT address given.
  kBadRootTable,    // The RSDT/XSDT fails its checks.
  kNoMadt,          // No "APIC" table is listed.
  kBadMadt,         // The MADT fails its checks or an entry runs past its end.
  kOutOfRange,      // A table lies outside the memory the kernel can read.
};

const char* acpi_error_name(AcpiError e);

// `readable_limit`: physical addresses at or above it cannot be read (end of the direct map).
abi::Result<MadtInfo, AcpiError> parse_madt(uint64_t rsdt, uint64_t xsdt, uint64_t readable_limit);

}  // namespace kernel::boot
