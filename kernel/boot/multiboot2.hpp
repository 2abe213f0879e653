// SPDX-License-Identifier: MIT
//
// Parser for the multiboot2 boot information (the structure GRUB leaves in memory and passes in
// EBX). Portable: the kernel runs it on the real structure, the unit tests on constructed blobs.
// It trusts nothing: every size is checked against the bytes it was given before anything is
// read, strings must be terminated inside their tag, and the result holds copies of the numbers
// plus pointers only to strings that were checked.
#pragma once

#include <abi/result.hpp>

#include <kstd/span.hpp>
#include <kstd/types.hpp>

namespace kernel::boot {

inline constexpr uint32_t kMultiboot2BootMagic = 0x36d76289;  // In EAX at kernel entry.

// Memory map entry types as multiboot2 reports them.
enum class Mb2MemoryType : uint32_t {
  kAvailable = 1,
  kReserved = 2,
  kAcpiReclaimable = 3,
  kAcpiNvs = 4,
  kBad = 5,
};

struct Mb2MemoryRegion {
  uint64_t base;
  uint64_t length;
  uint32_t type;  // Raw value; unknown values are kept and treated as reserved.
};

struct Mb2Module {
  uint32_t start;      // Physical address of the first byte.
  uint32_t end;        // Physical address one past the last byte.
  const char* string;  // The module's command line, terminated, inside the blob.
};

struct Mb2Framebuffer {
  uint64_t address;
  uint32_t pitch;
  uint32_t width;
  uint32_t height;
  uint8_t bpp;
  uint8_t type;  // 0 indexed, 1 direct RGB, 2 EGA text.
};

struct Mb2Rsdp {
  uint8_t revision;  // 0 for ACPI 1.0 (RSDT only), 2 and up for ACPI 2.0+ (XSDT).
  bool checksum_ok;  // Firmware tables with a bad checksum are reported, not trusted.
  uint32_t rsdt_address;
  uint64_t xsdt_address;  // Zero for revision 0.
  char oem_id[7];         // Terminated copy.
};

struct Mb2EfiMemoryMap {
  uint32_t descriptor_size;
  uint32_t descriptor_version;
  uint32_t count;
  const uint8_t* descriptors;  // count * descriptor_size bytes inside the blob.
};

enum class Mb2Error : uint8_t {
  kNullPointer,
  kMisaligned,         // The structure does not start on an 8-byte boundary.
  kTooSmall,           // Fewer bytes than the fixed header and end tag need.
  kSizeExceedsBuffer,  // total_size claims more bytes than are available.
  kTagTruncated,       // A tag's size runs past total_size.
  kTagTooSmall,        // A tag's size is smaller than its type's fixed part.
  kNoEndTag,           // The tags ran out without a terminating end tag.
  kBadEndTag,          // The end tag's size is not 8.
  kUnterminatedString, // A string tag has no NUL inside the tag.
  kBadMemoryMap,       // Entry size is too small, unaligned, or does not divide the tag.
  kTooManyRegions,
  kTooManyModules,
  kBadModuleRange,     // A module ends before it starts.
  kBadFramebuffer,
  kBadRsdp,            // The RSDP copy is too short for its revision.
  kBadEfiMemoryMap,
  kDuplicateTag,       // A single-instance tag (command line, boot loader name, basic memory,
                       // memory map, framebuffer, EFI memory map) appears twice.
};

const char* mb2_error_name(Mb2Error e);

struct Mb2ParseError {
  Mb2Error code;
  uint32_t offset;    // Byte offset of the offending tag (or 0 for the header).
  uint32_t tag_type;  // Type of the offending tag, or 0.
};

struct Multiboot2Info {
  static constexpr size_t kMaxMemoryRegions = 256;
  static constexpr size_t kMaxModules = 64;

  uint32_t total_size = 0;
  uint32_t tag_count = 0;

  const char* command_line = nullptr;  // Null when the tag is absent.
  const char* bootloader_name = nullptr;

  bool has_basic_memory = false;
  uint32_t mem_lower_kib = 0;
  uint32_t mem_upper_kib = 0;

  size_t memory_region_count = 0;
  Mb2MemoryRegion memory_regions[kMaxMemoryRegions] = {};
  bool has_memory_map = false;

  size_t module_count = 0;
  Mb2Module modules[kMaxModules] = {};

  bool has_framebuffer = false;
  Mb2Framebuffer framebuffer = {};

  bool has_rsdp = false;
  Mb2Rsdp rsdp = {};

  bool has_efi_memory_map = false;
  Mb2EfiMemoryMap efi_memory_map = {};

  bool efi_boot_services_active = false;  // Tag 18: the loader did not exit boot services.
  uint64_t efi_system_table = 0;          // Tag 12 (64-bit) or 11 (32-bit), 0 if absent.

  kstd::span<const Mb2MemoryRegion> regions() const {
    return {memory_regions, memory_region_count};
  }
  kstd::span<const Mb2Module> module_list() const { return {modules, module_count}; }
};

// Parses the structure at blob.data(). The caller vouches that blob.size() bytes are readable;
// the parser reads no byte outside them. On error `out` holds whatever was parsed before the
// fault and must not be used.
abi::Result<void, Mb2ParseError> parse_multiboot2(kstd::span<const uint8_t> blob,
                                                  Multiboot2Info* out);

// The total_size field of a structure, needed to know how much to map before parsing. Returns
// 0 when fewer than 8 bytes are available.
uint32_t multiboot2_total_size(kstd::span<const uint8_t> blob);

}  // namespace kernel::boot
