// SPDX-License-Identifier: MIT
#include "multiboot2.hpp"

#include <kstd/string.hpp>

#include <kstd/enforce.hpp>

namespace kernel::boot {
namespace {

// Tag types from the multiboot2 specification, section 3.6.
enum TagType : uint32_t {
  kTagEnd = 0,
  kTagCommandLine = 1,
  kTagBootloaderName = 2,
  kTagModule = 3,
  kTagBasicMemory = 4,
  kTagMemoryMap = 6,
  kTagFramebuffer = 8,
  kTagEfi32SystemTable = 11,
  kTagEfi64SystemTable = 12,
  kTagAcpiOld = 14,
  kTagAcpiNew = 15,
  kTagEfiMemoryMap = 17,
  kTagEfiBootServices = 18,
};

constexpr size_t kTagHeader = 8;  // u32 type, u32 size.

// Unaligned-safe little-endian reads from the blob; the caller has bounds-checked the offset.
uint32_t read32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

uint64_t read64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

abi::Error<Mb2ParseError> fail(Mb2Error code, size_t offset, uint32_t type) {
  return abi::Error{Mb2ParseError{code, static_cast<uint32_t>(offset), type}};
}

// Validates a string that occupies the payload of a tag: it must end with a NUL inside it.
const char* tag_string(const uint8_t* payload, size_t payload_len) {
  if (payload_len == 0 || kstd::strnlen(reinterpret_cast<const char*>(payload), payload_len) ==
                              payload_len) {
    return nullptr;
  }
  return reinterpret_cast<const char*>(payload);
}

uint8_t byte_sum(const uint8_t* p, size_t n) {
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    sum = static_cast<uint8_t>(sum + p[i]);
  }
  return sum;
}

// One tag, already known to lie inside the structure.
struct Tag {
  uint32_t type;
  uint32_t size;
  size_t offset;
  const uint8_t* payload;  // Bytes after the 8-byte header.
  size_t payload_len;
};

using TagResult = abi::Result<void, Mb2ParseError>;

TagResult parse_memory_map(const Tag& t, Multiboot2Info* out) {
  if (out->has_memory_map) {
    return fail(Mb2Error::kDuplicateTag, t.offset, t.type);
  }
  if (t.payload_len < 8) {
    return fail(Mb2Error::kTagTooSmall, t.offset, t.type);
  }
  uint32_t entry_size = read32(t.payload);
  size_t entries_len = t.payload_len - 8;
  if (entry_size < 24 || entry_size % 8 != 0 || entries_len % entry_size != 0) {
    return fail(Mb2Error::kBadMemoryMap, t.offset, t.type);
  }
  size_t count = entries_len / entry_size;
  if (count > Multiboot2Info::kMaxMemoryRegions) {
    return fail(Mb2Error::kTooManyRegions, t.offset, t.type);
  }
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* e = t.payload + 8 + i * entry_size;
    out->memory_regions[i] = {read64(e), read64(e + 8), read32(e + 16)};
  }
  out->memory_region_count = count;
  out->has_memory_map = true;
  return {};
}

TagResult parse_module(const Tag& t, Multiboot2Info* out) {
  if (t.payload_len < 8) {
    return fail(Mb2Error::kTagTooSmall, t.offset, t.type);
  }
  if (out->module_count == Multiboot2Info::kMaxModules) {
    return fail(Mb2Error::kTooManyModules, t.offset, t.type);
  }
  Mb2Module m{read32(t.payload), read32(t.payload + 4), tag_string(t.payload + 8,
                                                                   t.payload_len - 8)};
  if (m.string == nullptr) {
    return fail(Mb2Error::kUnterminatedString, t.offset, t.type);
  }
  if (m.end < m.start) {
    return fail(Mb2Error::kBadModuleRange, t.offset, t.type);
  }
  out->modules[out->module_count++] = m;
  return {};
}

TagResult parse_framebuffer(const Tag& t, Multiboot2Info* out) {
  if (out->has_framebuffer) {
    return fail(Mb2Error::kDuplicateTag, t.offset, t.type);
  }
  // address u64, pitch u32, width u32, height u32, bpp u8, type u8, reserved u16 (+ colour info).
  if (t.payload_len < 24) {
    return fail(Mb2Error::kTagTooSmall, t.offset, t.type);
  }
  Mb2Framebuffer fb{read64(t.payload), read32(t.payload + 8), read32(t.payload + 12),
                    read32(t.payload + 16), t.payload[20], t.payload[21]};
  if (fb.type > 2 || (fb.type != 2 && fb.bpp == 0)) {
    return fail(Mb2Error::kBadFramebuffer, t.offset, t.type);
  }
  // The pitch must hold a line; a lie here would make a console write past the buffer.
  uint64_t line_bits = static_cast<uint64_t>(fb.width) * (fb.type == 2 ? 16 : fb.bpp);
  if (static_cast<uint64_t>(fb.pitch) * 8 < line_bits) {
    return fail(Mb2Error::kBadFramebuffer, t.offset, t.type);
  }
  out->framebuffer = fb;
  out->has_framebuffer = true;
  return {};
}

TagResult parse_rsdp(const Tag& t, Multiboot2Info* out) {
  // RSDP 1.0: signature[8], checksum, oem_id[6], revision, rsdt_address u32 (20 bytes).
  // RSDP 2.0 adds length u32, xsdt_address u64, extended checksum, reserved[3] (36 bytes).
  constexpr size_t kV1Size = 20;
  constexpr size_t kV2Size = 36;
  const uint8_t* r = t.payload;
  if (t.payload_len < kV1Size || memcmp(r, "RSD PTR ", 8) != 0) {
    return fail(Mb2Error::kBadRsdp, t.offset, t.type);
  }
  Mb2Rsdp rsdp{};
  rsdp.revision = r[15];
  rsdp.rsdt_address = read32(r + 16);
  memcpy(rsdp.oem_id, r + 9, 6);
  rsdp.oem_id[6] = '\0';
  rsdp.checksum_ok = byte_sum(r, kV1Size) == 0;
  if (t.type == kTagAcpiNew) {
    if (t.payload_len < kV2Size || rsdp.revision < 2) {
      return fail(Mb2Error::kBadRsdp, t.offset, t.type);
    }
    uint32_t length = read32(r + 20);
    if (length < kV2Size || length > t.payload_len) {
      return fail(Mb2Error::kBadRsdp, t.offset, t.type);
    }
    rsdp.xsdt_address = read64(r + 24);
    rsdp.checksum_ok = rsdp.checksum_ok && byte_sum(r, length) == 0;
  }
  // Prefer the ACPI 2.0 copy when both tags are present, whatever their order.
  if (!out->has_rsdp || t.type == kTagAcpiNew) {
    out->rsdp = rsdp;
  }
  out->has_rsdp = true;
  return {};
}

TagResult parse_efi_memory_map(const Tag& t, Multiboot2Info* out) {
  if (out->has_efi_memory_map) {
    return fail(Mb2Error::kDuplicateTag, t.offset, t.type);
  }
  if (t.payload_len < 8) {
    return fail(Mb2Error::kTagTooSmall, t.offset, t.type);
  }
  uint32_t desc_size = read32(t.payload);
  uint32_t desc_version = read32(t.payload + 4);
  size_t len = t.payload_len - 8;
  // An EFI_MEMORY_DESCRIPTOR is 40 bytes; firmware may report a larger stride, but the
  // descriptors must fill the tag exactly.
  if (desc_size < 40 || desc_size % 8 != 0 || len % desc_size != 0) {
    return fail(Mb2Error::kBadEfiMemoryMap, t.offset, t.type);
  }
  out->efi_memory_map = {desc_size, desc_version, static_cast<uint32_t>(len / desc_size),
                         t.payload + 8};
  out->has_efi_memory_map = true;
  return {};
}

TagResult parse_tag(const Tag& t, Multiboot2Info* out) {
  switch (t.type) {
    case kTagCommandLine:
    case kTagBootloaderName: {
      const char*& field = t.type == kTagCommandLine ? out->command_line : out->bootloader_name;
      if (field != nullptr) {
        return fail(Mb2Error::kDuplicateTag, t.offset, t.type);
      }
      field = tag_string(t.payload, t.payload_len);
      if (field == nullptr) {
        return fail(Mb2Error::kUnterminatedString, t.offset, t.type);
      }
      return {};
    }
    case kTagModule: return parse_module(t, out);
    case kTagBasicMemory:
      if (out->has_basic_memory) {
        return fail(Mb2Error::kDuplicateTag, t.offset, t.type);
      }
      if (t.payload_len < 8) {
        return fail(Mb2Error::kTagTooSmall, t.offset, t.type);
      }
      out->has_basic_memory = true;
      out->mem_lower_kib = read32(t.payload);
      out->mem_upper_kib = read32(t.payload + 4);
      return {};
    case kTagMemoryMap: return parse_memory_map(t, out);
    case kTagFramebuffer: return parse_framebuffer(t, out);
    case kTagEfi32SystemTable:
    case kTagEfi64SystemTable:
      if (t.payload_len < (t.type == kTagEfi64SystemTable ? 8u : 4u)) {
        return fail(Mb2Error::kTagTooSmall, t.offset, t.type);
      }
      out->efi_system_table =
          t.type == kTagEfi64SystemTable ? read64(t.payload) : read32(t.payload);
      return {};
    case kTagAcpiOld:
    case kTagAcpiNew: return parse_rsdp(t, out);
    case kTagEfiMemoryMap: return parse_efi_memory_map(t, out);
    case kTagEfiBootServices: out->efi_boot_services_active = true; return {};
    default:
      // The specification says to skip tags we do not know.
      return {};
  }
}

}  // namespace

const char* mb2_error_name(Mb2Error e) {
  switch (e) {
    case Mb2Error::kNullPointer: return "null pointer";
    case Mb2Error::kMisaligned: return "structure not 8-byte aligned";
    case Mb2Error::kTooSmall: return "structure too small";
    case Mb2Error::kSizeExceedsBuffer: return "total_size exceeds the available bytes";
    case Mb2Error::kTagTruncated: return "tag runs past the end of the structure";
    case Mb2Error::kTagTooSmall: return "tag smaller than its type requires";
    case Mb2Error::kNoEndTag: return "no end tag";
    case Mb2Error::kBadEndTag: return "end tag has a size other than 8";
    case Mb2Error::kUnterminatedString: return "string not terminated inside its tag";
    case Mb2Error::kBadMemoryMap: return "malformed memory map";
    case Mb2Error::kTooManyRegions: return "too many memory map entries";
    case Mb2Error::kTooManyModules: return "too many modules";
    case Mb2Error::kBadModuleRange: return "module ends before it starts";
    case Mb2Error::kBadFramebuffer: return "malformed framebuffer tag";
    case Mb2Error::kBadRsdp: return "malformed ACPI RSDP tag";
    case Mb2Error::kBadEfiMemoryMap: return "malformed EFI memory map";
    case Mb2Error::kDuplicateTag: return "tag appears more than once";
  }
  return "unknown error";
}

uint32_t multiboot2_total_size(kstd::span<const uint8_t> blob) {
  if (blob.data() == nullptr || blob.size() < 8) {
    return 0;
  }
  return read32(blob.data());
}

abi::Result<void, Mb2ParseError> parse_multiboot2(kstd::span<const uint8_t> blob,
                                                  Multiboot2Info* out) {
  *out = Multiboot2Info{};
  const uint8_t* base = blob.data();
  if (base == nullptr) {
    return fail(Mb2Error::kNullPointer, 0, 0);
  }
  if (reinterpret_cast<uintptr_t>(base) % 8 != 0) {
    return fail(Mb2Error::kMisaligned, 0, 0);
  }
  // Fixed part (total_size, reserved) plus the smallest possible end tag.
  if (blob.size() < 16) {
    return fail(Mb2Error::kTooSmall, 0, 0);
  }
  uint32_t total = read32(base);
  if (total < 16) {
    return fail(Mb2Error::kTooSmall, 0, 0);
  }
  if (total > blob.size()) {
    return fail(Mb2Error::kSizeExceedsBuffer, 0, 0);
  }
  out->total_size = total;

  size_t offset = 8;
  while (true) {
    if (offset + kTagHeader > total) {
      return fail(Mb2Error::kNoEndTag, offset, 0);
    }
    uint32_t type = read32(base + offset);
    uint32_t size = read32(base + offset + 4);
    if (size < kTagHeader) {
      return fail(Mb2Error::kTagTooSmall, offset, type);
    }
    if (size > total - offset) {
      return fail(Mb2Error::kTagTruncated, offset, type);
    }
    ++out->tag_count;
    if (type == kTagEnd) {
      if (size != kTagHeader) {
        return fail(Mb2Error::kBadEndTag, offset, type);
      }
      return {};
    }
    Tag tag{type, size, offset, base + offset + kTagHeader, size - kTagHeader};
    TRY(parse_tag(tag, out));
    // Tags start on 8-byte boundaries; the padding after the last one may be cut short only by
    // the end of the structure, which the loop head catches.
    offset += (size + 7) & ~size_t{7};
  }
}

}  // namespace kernel::boot
