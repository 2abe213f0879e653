// SPDX-License-Identifier: MIT
//
// Unit tests for the multiboot2 information parser. The blobs are built byte by byte here, so
// that every rule can be broken on purpose and in isolation, and the parser is then attacked with
// truncated and randomly corrupted copies of a realistic structure.
#include "boot/multiboot2.hpp"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using kernel::boot::Mb2Error;
using kernel::boot::Mb2MemoryType;
using kernel::boot::Mb2ParseError;
using kernel::boot::multiboot2_total_size;
using kernel::boot::Multiboot2Info;
using kernel::boot::parse_multiboot2;

constexpr uint32_t kTagEnd = 0;
constexpr uint32_t kTagCommandLine = 1;
constexpr uint32_t kTagBootloaderName = 2;
constexpr uint32_t kTagModule = 3;
constexpr uint32_t kTagBasicMemory = 4;
constexpr uint32_t kTagMemoryMap = 6;
constexpr uint32_t kTagFramebuffer = 8;
constexpr uint32_t kTagEfi32SystemTable = 11;
constexpr uint32_t kTagEfi64SystemTable = 12;
constexpr uint32_t kTagAcpiOld = 14;
constexpr uint32_t kTagAcpiNew = 15;
constexpr uint32_t kTagEfiMemoryMap = 17;
constexpr uint32_t kTagEfiBootServices = 18;
constexpr uint32_t kTagUnknown = 0x4b45;  // Not assigned by the specification.

// Little-endian byte sequence used for tag payloads.
struct Bytes {
  std::vector<uint8_t> b;

  Bytes& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Bytes& u16(uint16_t v) { return u8(static_cast<uint8_t>(v)).u8(static_cast<uint8_t>(v >> 8)); }
  Bytes& u32(uint32_t v) {
    return u16(static_cast<uint16_t>(v)).u16(static_cast<uint16_t>(v >> 16));
  }
  Bytes& u64(uint64_t v) {
    return u32(static_cast<uint32_t>(v)).u32(static_cast<uint32_t>(v >> 32));
  }
  // The characters of s, then a NUL.
  Bytes& cstr(const std::string& s) {
    raw(s);
    return u8(0);
  }
  // The characters of s without a terminator.
  Bytes& raw(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  size_t size() const { return b.size(); }
};

// A finished structure: the bytes live in uint64_t storage, so data() is 8-byte aligned.
class Blob {
 public:
  explicit Blob(const std::vector<uint8_t>& bytes)
      : storage_((bytes.size() + 7) / 8 + 1, 0), size_(bytes.size()) {
    std::memcpy(storage_.data(), bytes.data(), bytes.size());
  }

  uint8_t* data() { return reinterpret_cast<uint8_t*>(storage_.data()); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(storage_.data()); }
  size_t size() const { return size_; }
  kstd::span<const uint8_t> span() const { return {data(), size_}; }
  std::vector<uint8_t> bytes() const { return {data(), data() + size_}; }

  void set_u32(size_t offset, uint32_t v) { std::memcpy(data() + offset, &v, sizeof v); }
  uint32_t get_u32(size_t offset) const {
    uint32_t v;
    std::memcpy(&v, data() + offset, sizeof v);
    return v;
  }

 private:
  std::vector<uint64_t> storage_;
  size_t size_;
};

// Appends tags with the 8-byte padding the specification requires, remembering where each one
// starts so that tests can check the offsets reported with errors.
class Builder {
 public:
  Builder() { bytes_.u32(0).u32(0); }  // total_size (fixed up in build()), reserved.

  // Appends a tag; size_override replaces the size field (the padding still follows the real
  // payload) so that tests can make a tag lie about itself.
  size_t tag(uint32_t type, const Bytes& payload, uint32_t size_override = 0) {
    size_t offset = bytes_.size();
    uint32_t size = static_cast<uint32_t>(8 + payload.size());
    bytes_.u32(type).u32(size_override != 0 ? size_override : size);
    bytes_.b.insert(bytes_.b.end(), payload.b.begin(), payload.b.end());
    pad();
    offsets_.push_back(offset);
    return offset;
  }

  size_t end_tag(uint32_t size = 8) {
    size_t offset = bytes_.size();
    bytes_.u32(kTagEnd).u32(size);
    if (size > 8) {
      bytes_.zeros(size - 8);
      pad();
    }
    return offset;
  }

  // Raw bytes after the last tag, not padded.
  void append(const Bytes& raw) { bytes_.b.insert(bytes_.b.end(), raw.b.begin(), raw.b.end()); }

  size_t size() const { return bytes_.size(); }
  const std::vector<size_t>& offsets() const { return offsets_; }

  // total_size is the number of bytes appended unless the test wants it to lie.
  Blob build(uint32_t total_override = 0) const {
    Blob blob(bytes_.b);
    blob.set_u32(0, total_override != 0 ? total_override : static_cast<uint32_t>(blob.size()));
    return blob;
  }

 private:
  void pad() {
    while (bytes_.size() % 8 != 0) {
      bytes_.u8(0);
    }
  }

  Bytes bytes_;
  std::vector<size_t> offsets_;
};

uint8_t checksum_byte(const std::vector<uint8_t>& bytes, size_t begin, size_t end) {
  uint8_t sum = 0;
  for (size_t i = begin; i < end; ++i) {
    sum = static_cast<uint8_t>(sum + bytes[i]);
  }
  return static_cast<uint8_t>(0 - sum);
}

// An ACPI 1.0 RSDP (20 bytes) with a correct checksum.
Bytes rsdp_v1(const char* oem, uint32_t rsdt, uint8_t revision = 0) {
  Bytes r;
  r.raw("RSD PTR ").u8(0).raw(std::string(oem, 6)).u8(revision).u32(rsdt);
  r.b[8] = checksum_byte(r.b, 0, 20);
  return r;
}

// An ACPI 2.0 RSDP (36 bytes) with both checksums correct.
Bytes rsdp_v2(const char* oem, uint32_t rsdt, uint64_t xsdt, uint8_t revision = 2,
              uint32_t length = 36) {
  Bytes r;
  r.raw("RSD PTR ").u8(0).raw(std::string(oem, 6)).u8(revision).u32(rsdt);
  r.u32(length).u64(xsdt).u8(0).zeros(3);
  r.b[8] = checksum_byte(r.b, 0, 20);
  r.b[32] = checksum_byte(r.b, 0, 36);
  return r;
}

struct MemoryEntry {
  uint64_t base;
  uint64_t length;
  uint32_t type;
};

Bytes memory_map(const std::vector<MemoryEntry>& entries, uint32_t entry_size = 24) {
  Bytes m;
  m.u32(entry_size).u32(0);
  for (const MemoryEntry& e : entries) {
    m.u64(e.base).u64(e.length).u32(e.type).zeros(entry_size - 20);
  }
  return m;
}

Bytes module(uint32_t start, uint32_t end, const std::string& cmdline) {
  return Bytes().u32(start).u32(end).cstr(cmdline);
}

Bytes framebuffer(uint64_t address, uint32_t pitch, uint32_t width, uint32_t height, uint8_t bpp,
                  uint8_t type) {
  Bytes f;
  f.u64(address).u32(pitch).u32(width).u32(height).u8(bpp).u8(type).u16(0);
  if (type == 1) {
    // Direct RGB colour info: red, green and blue field positions and mask sizes.
    f.u8(16).u8(8).u8(8).u8(8).u8(0).u8(8);
  }
  return f;
}

Bytes efi_memory_map(uint32_t descriptor_size, uint32_t count) {
  Bytes m;
  m.u32(descriptor_size).u32(1);
  for (uint32_t i = 0; i < count; ++i) {
    // Type, pad, physical start, virtual start, pages, attribute, then any extra stride.
    m.u32(7).u32(0).u64(0x100000 * (i + 1)).u64(0).u64(16).u64(0xf).zeros(descriptor_size - 40);
  }
  return m;
}

const std::vector<MemoryEntry> kGoodMemoryMap = {
    {0x0, 0x9fc00, 1},        {0x9fc00, 0x400, 2},       {0xf0000, 0x10000, 2},
    {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x20000, 3},   {0xfed00000, 0x1000, 4},
    {0x100000000, 0x1000, 5}, {0x100001000, 0x3000, 20},
};

// Where the good blob's tags are, by position in Builder::offsets().
enum GoodTag : size_t {
  kAtCommandLine,
  kAtBootloaderName,
  kAtBasicMemory,
  kAtMemoryMap,
  kAtModule0,
  kAtModule1,
  kAtFramebuffer,
  kAtUnknown,
  kAtAcpiOld,
  kAtAcpiNew,
  kAtEfiMemoryMap,
  kAtEfi64,
  kAtEfiBootServices,
  kAtTagCount,
};

// A structure shaped like what GRUB passes on a machine with both BIOS and EFI details.
Builder good_builder() {
  Builder b;
  b.tag(kTagCommandLine, Bytes().cstr("loglevel=debug  qemu_debug_exit"));
  b.tag(kTagBootloaderName, Bytes().cstr("GRUB 2.06-13+deb12u1"));
  b.tag(kTagBasicMemory, Bytes().u32(639).u32(523264));
  b.tag(kTagMemoryMap, memory_map(kGoodMemoryMap));
  b.tag(kTagModule, module(0x200000, 0x210000, "init"));
  b.tag(kTagModule, module(0x300000, 0x300800, "fs.img ro"));
  b.tag(kTagFramebuffer, framebuffer(0xfd000000, 4096, 1024, 768, 32, 1));
  // An odd-sized payload, so that skipping it also exercises the padding rule.
  b.tag(kTagUnknown, Bytes().u32(0xdeadbeef).u8(1).u8(2).u8(3).u8(4).u8(5));
  b.tag(kTagAcpiOld, rsdp_v1("BOCHS ", 0x7fe1234));
  b.tag(kTagAcpiNew, rsdp_v2("KEELAB", 0x7fe1234, 0x7fe5678));
  b.tag(kTagEfiMemoryMap, efi_memory_map(48, 3));
  b.tag(kTagEfi64SystemTable, Bytes().u64(0x7f9e018));
  b.tag(kTagEfiBootServices, Bytes());
  b.end_tag();
  return b;
}

Blob good_blob() {
  return good_builder().build();
}

// Parses and returns the error, failing the test if the parse succeeded.
Mb2ParseError parse_error(const Blob& blob) {
  auto info = std::make_unique<Multiboot2Info>();
  auto r = parse_multiboot2(blob.span(), info.get());
  REQUIRE_FALSE(r.ok());
  return r.error();
}

bool parses(const Blob& blob, Multiboot2Info* info) {
  return parse_multiboot2(blob.span(), info).ok();
}

// A blob with one tag and the end tag; the error checks below need nothing else.
Blob single_tag_blob(uint32_t type, const Bytes& payload, uint32_t size_override = 0) {
  Builder b;
  b.tag(type, payload, size_override);
  b.end_tag();
  return b.build();
}

void check_single_tag_error(uint32_t type, const Bytes& payload, Mb2Error expected) {
  Mb2ParseError e = parse_error(single_tag_blob(type, payload));
  CHECK(e.code == expected);
  CHECK(e.offset == 8);
  CHECK(e.tag_type == type);
}

bool inside(const void* p, const uint8_t* base, size_t size) {
  auto a = reinterpret_cast<uintptr_t>(p);
  auto b = reinterpret_cast<uintptr_t>(base);
  return a >= b && a < b + size;
}

// True when s starts inside [base, base + size) and its terminator is inside too.
bool string_inside(const char* s, const uint8_t* base, size_t size) {
  if (!inside(s, base, size)) {
    return false;
  }
  size_t room = size - static_cast<size_t>(reinterpret_cast<const uint8_t*>(s) - base);
  return ::strnlen(s, room) < room;
}

}  // namespace

TEST_CASE("multiboot2: a realistic structure parses completely", "[multiboot2]") {
  Builder builder = good_builder();
  Blob blob = builder.build();
  auto info = std::make_unique<Multiboot2Info>();
  REQUIRE(parses(blob, info.get()));
  const auto& off = builder.offsets();
  REQUIRE(off.size() == kAtTagCount);

  CHECK(info->total_size == blob.size());
  CHECK(info->tag_count == kAtTagCount + 1);  // The end tag counts too.

  REQUIRE(info->command_line != nullptr);
  CHECK(std::string(info->command_line) == "loglevel=debug  qemu_debug_exit");
  CHECK(info->command_line == reinterpret_cast<const char*>(blob.data() + off[kAtCommandLine] + 8));
  REQUIRE(info->bootloader_name != nullptr);
  CHECK(std::string(info->bootloader_name) == "GRUB 2.06-13+deb12u1");

  CHECK(info->has_basic_memory);
  CHECK(info->mem_lower_kib == 639);
  CHECK(info->mem_upper_kib == 523264);

  CHECK(info->has_memory_map);
  REQUIRE(info->memory_region_count == kGoodMemoryMap.size());
  REQUIRE(info->regions().size() == kGoodMemoryMap.size());
  for (size_t i = 0; i < kGoodMemoryMap.size(); ++i) {
    INFO("region " << i);
    CHECK(info->regions()[i].base == kGoodMemoryMap[i].base);
    CHECK(info->regions()[i].length == kGoodMemoryMap[i].length);
    CHECK(info->regions()[i].type == kGoodMemoryMap[i].type);
  }
  CHECK(info->regions()[0].type == static_cast<uint32_t>(Mb2MemoryType::kAvailable));
  CHECK(info->regions()[4].type == static_cast<uint32_t>(Mb2MemoryType::kAcpiReclaimable));
  CHECK(info->regions()[5].type == static_cast<uint32_t>(Mb2MemoryType::kAcpiNvs));
  CHECK(info->regions()[6].type == static_cast<uint32_t>(Mb2MemoryType::kBad));
  CHECK(info->regions()[7].type == 20);  // Unknown types are kept as they are.

  REQUIRE(info->module_count == 2);
  REQUIRE(info->module_list().size() == 2);
  CHECK(info->modules[0].start == 0x200000);
  CHECK(info->modules[0].end == 0x210000);
  REQUIRE(info->modules[0].string != nullptr);
  CHECK(std::string(info->modules[0].string) == "init");
  CHECK(info->modules[0].string ==
        reinterpret_cast<const char*>(blob.data() + off[kAtModule0] + 16));
  CHECK(info->modules[1].start == 0x300000);
  CHECK(info->modules[1].end == 0x300800);
  REQUIRE(info->modules[1].string != nullptr);
  CHECK(std::string(info->modules[1].string) == "fs.img ro");

  CHECK(info->has_framebuffer);
  CHECK(info->framebuffer.address == 0xfd000000);
  CHECK(info->framebuffer.pitch == 4096);
  CHECK(info->framebuffer.width == 1024);
  CHECK(info->framebuffer.height == 768);
  CHECK(info->framebuffer.bpp == 32);
  CHECK(info->framebuffer.type == 1);

  // Both ACPI tags are present; the 2.0 copy wins.
  CHECK(info->has_rsdp);
  CHECK(info->rsdp.revision == 2);
  CHECK(info->rsdp.checksum_ok);
  CHECK(info->rsdp.rsdt_address == 0x7fe1234);
  CHECK(info->rsdp.xsdt_address == 0x7fe5678);
  CHECK(std::string(info->rsdp.oem_id) == "KEELAB");

  CHECK(info->has_efi_memory_map);
  CHECK(info->efi_memory_map.descriptor_size == 48);
  CHECK(info->efi_memory_map.descriptor_version == 1);
  CHECK(info->efi_memory_map.count == 3);
  CHECK(info->efi_memory_map.descriptors == blob.data() + off[kAtEfiMemoryMap] + 16);

  CHECK(info->efi_system_table == 0x7f9e018);
  CHECK(info->efi_boot_services_active);
}

TEST_CASE("multiboot2: the smallest structure has only the end tag", "[multiboot2]") {
  Builder b;
  b.end_tag();
  Blob blob = b.build();
  REQUIRE(blob.size() == 16);
  auto info = std::make_unique<Multiboot2Info>();
  REQUIRE(parses(blob, info.get()));
  CHECK(info->total_size == 16);
  CHECK(info->tag_count == 1);
  CHECK(info->command_line == nullptr);
  CHECK(info->bootloader_name == nullptr);
  CHECK_FALSE(info->has_basic_memory);
  CHECK_FALSE(info->has_memory_map);
  CHECK(info->memory_region_count == 0);
  CHECK(info->module_count == 0);
  CHECK_FALSE(info->has_framebuffer);
  CHECK_FALSE(info->has_rsdp);
  CHECK_FALSE(info->has_efi_memory_map);
  CHECK_FALSE(info->efi_boot_services_active);
  CHECK(info->efi_system_table == 0);
}

TEST_CASE("multiboot2: parsing resets everything a previous parse left", "[multiboot2]") {
  auto info = std::make_unique<Multiboot2Info>();
  REQUIRE(parses(good_blob(), info.get()));
  Builder b;
  b.end_tag();
  REQUIRE(parses(b.build(), info.get()));
  CHECK(info->command_line == nullptr);
  CHECK(info->module_count == 0);
  CHECK(info->memory_region_count == 0);
  CHECK_FALSE(info->has_rsdp);
}

TEST_CASE("multiboot2: bytes after the end tag inside total_size are ignored", "[multiboot2]") {
  Builder b;
  b.tag(kTagCommandLine, Bytes().cstr("x"));
  b.end_tag();
  b.append(Bytes().u32(0xffffffff).u32(3).u64(0));
  auto info = std::make_unique<Multiboot2Info>();
  REQUIRE(parses(b.build(), info.get()));
  CHECK(info->tag_count == 2);
}

TEST_CASE("multiboot2: the ACPI 2.0 copy wins whatever the tag order", "[multiboot2]") {
  Builder b;
  b.tag(kTagAcpiNew, rsdp_v2("NEWOEM", 0x1000, 0x2000));
  b.tag(kTagAcpiOld, rsdp_v1("OLDOEM", 0x3000));
  b.end_tag();
  auto info = std::make_unique<Multiboot2Info>();
  REQUIRE(parses(b.build(), info.get()));
  CHECK(info->has_rsdp);
  CHECK(info->rsdp.revision == 2);
  CHECK(info->rsdp.rsdt_address == 0x1000);
  CHECK(info->rsdp.xsdt_address == 0x2000);
  CHECK(std::string(info->rsdp.oem_id) == "NEWOEM");
}

TEST_CASE("multiboot2: an ACPI 1.0 RSDP alone", "[multiboot2]") {
  auto info = std::make_unique<Multiboot2Info>();
  REQUIRE(parses(single_tag_blob(kTagAcpiOld, rsdp_v1("OLDOEM", 0x3000)), info.get()));
  CHECK(info->has_rsdp);
  CHECK(info->rsdp.revision == 0);
  CHECK(info->rsdp.checksum_ok);
  CHECK(info->rsdp.rsdt_address == 0x3000);
  CHECK(info->rsdp.xsdt_address == 0);
  CHECK(std::string(info->rsdp.oem_id) == "OLDOEM");
}

TEST_CASE("multiboot2: the 32-bit EFI system table", "[multiboot2]") {
  auto info = std::make_unique<Multiboot2Info>();
  REQUIRE(parses(single_tag_blob(kTagEfi32SystemTable, Bytes().u32(0x7f9e018)), info.get()));
  CHECK(info->efi_system_table == 0x7f9e018);
  check_single_tag_error(kTagEfi32SystemTable, Bytes().u16(1), Mb2Error::kTagTooSmall);
  check_single_tag_error(kTagEfi64SystemTable, Bytes().u32(1), Mb2Error::kTagTooSmall);
}

TEST_CASE("multiboot2: basic memory tag too small", "[multiboot2]") {
  check_single_tag_error(kTagBasicMemory, Bytes().u32(639), Mb2Error::kTagTooSmall);
}

TEST_CASE("multiboot2: header errors", "[multiboot2]") {
  Blob good = good_blob();
  auto info = std::make_unique<Multiboot2Info>();

  SECTION("null pointer") {
    auto r = parse_multiboot2(kstd::span<const uint8_t>(), info.get());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Mb2Error::kNullPointer);
    CHECK(r.error().offset == 0);
    CHECK(r.error().tag_type == 0);
  }
  SECTION("misaligned base") {
    // Copy the blob one to seven bytes in, so that only the alignment is wrong.
    for (size_t shift = 1; shift < 8; ++shift) {
      INFO("shift " << shift);
      std::vector<uint64_t> storage(good.size() / 8 + 2);
      auto* base = reinterpret_cast<uint8_t*>(storage.data()) + shift;
      std::memcpy(base, good.data(), good.size());
      auto r = parse_multiboot2({base, good.size()}, info.get());
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Mb2Error::kMisaligned);
      CHECK(r.error().offset == 0);
      CHECK(r.error().tag_type == 0);
    }
  }
  SECTION("span smaller than header and end tag") {
    for (size_t n = 0; n < 16; ++n) {
      auto r = parse_multiboot2({good.data(), n}, info.get());
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Mb2Error::kTooSmall);
    }
  }
  SECTION("total_size smaller than header and end tag") {
    for (uint32_t total : {0u, 1u, 8u, 15u}) {
      Blob blob = good_blob();
      blob.set_u32(0, total);
      Mb2ParseError e = parse_error(blob);
      CHECK(e.code == Mb2Error::kTooSmall);
      CHECK(e.offset == 0);
    }
  }
  SECTION("total_size larger than the span") {
    for (uint32_t extra : {1u, 8u, 0x10000u}) {
      Blob blob = good_blob();
      blob.set_u32(0, static_cast<uint32_t>(blob.size()) + extra);
      Mb2ParseError e = parse_error(blob);
      CHECK(e.code == Mb2Error::kSizeExceedsBuffer);
      CHECK(e.offset == 0);
      CHECK(e.tag_type == 0);
    }
    Blob blob = good_blob();
    blob.set_u32(0, 0xffffffff);
    CHECK(parse_error(blob).code == Mb2Error::kSizeExceedsBuffer);
  }
  SECTION("total_size smaller than the span is fine") {
    // The caller may map more than the structure; only total_size bytes count.
    std::vector<uint8_t> bytes = good.bytes();
    bytes.resize(bytes.size() + 64, 0xee);
    Blob blob(bytes);
    REQUIRE(parses(blob, info.get()));
    CHECK(info->total_size == good.size());
  }
}

TEST_CASE("multiboot2: tag framing errors", "[multiboot2]") {
  SECTION("tag size below the header size") {
    for (uint32_t size : {1u, 4u, 7u}) {
      Builder b;
      b.tag(kTagCommandLine, Bytes().cstr("ok"));
      size_t bad = b.tag(kTagUnknown, Bytes(), size);
      b.end_tag();
      Mb2ParseError e = parse_error(b.build());
      CHECK(e.code == Mb2Error::kTagTooSmall);
      CHECK(e.offset == bad);
      CHECK(e.tag_type == kTagUnknown);
    }
  }
  SECTION("a zero-size end tag is too small, not an end") {
    Builder b;
    size_t bad = b.end_tag(0);
    b.end_tag();
    Mb2ParseError e = parse_error(b.build());
    CHECK(e.code == Mb2Error::kTagTooSmall);
    CHECK(e.offset == bad);
    CHECK(e.tag_type == kTagEnd);
  }
  SECTION("a tag running past total_size") {
    Builder b;
    b.tag(kTagCommandLine, Bytes().cstr("ok"));
    size_t bad = b.tag(kTagBootloaderName, Bytes().cstr("GRUB"), 200);
    b.end_tag();
    Mb2ParseError e = parse_error(b.build());
    CHECK(e.code == Mb2Error::kTagTruncated);
    CHECK(e.offset == bad);
    CHECK(e.tag_type == kTagBootloaderName);
  }
  SECTION("a tag whose size would wrap the offset") {
    Builder b;
    size_t bad = b.tag(kTagUnknown, Bytes().u64(0), 0xfffffff8);
    b.end_tag();
    Mb2ParseError e = parse_error(b.build());
    CHECK(e.code == Mb2Error::kTagTruncated);
    CHECK(e.offset == bad);
  }
  SECTION("the tag's size exactly reaches total_size but leaves no room for the end tag") {
    Builder b;
    b.tag(kTagCommandLine, Bytes().cstr("1234567"));  // 16 bytes, no padding.
    Blob blob = b.build();
    Mb2ParseError e = parse_error(blob);
    CHECK(e.code == Mb2Error::kNoEndTag);
    CHECK(e.offset == blob.size());
    CHECK(e.tag_type == 0);
  }
  SECTION("missing end tag") {
    Builder no_end;
    no_end.tag(kTagCommandLine, Bytes().cstr("a"));
    no_end.tag(kTagBasicMemory, Bytes().u32(1).u32(2));
    Blob blob = no_end.build();
    Mb2ParseError e = parse_error(blob);
    CHECK(e.code == Mb2Error::kNoEndTag);
    CHECK(e.offset == blob.size());
  }
  SECTION("total_size cuts a tag header in half") {
    Builder b;
    b.tag(kTagCommandLine, Bytes().cstr("a"));
    size_t next = b.tag(kTagBasicMemory, Bytes().u32(1).u32(2));
    b.end_tag();
    for (uint32_t cut = 1; cut < 8; ++cut) {
      INFO("cut " << cut);
      Mb2ParseError e = parse_error(b.build(static_cast<uint32_t>(next + cut)));
      CHECK(e.code == Mb2Error::kNoEndTag);
      CHECK(e.offset == next);
      CHECK(e.tag_type == 0);
    }
  }
  SECTION("total_size ends inside a tag's padding") {
    Builder b;
    b.tag(kTagCommandLine, Bytes().cstr("abc"));  // 12 bytes, then 4 bytes of padding.
    b.end_tag();
    Mb2ParseError e = parse_error(b.build(8 + 12 + 2));
    CHECK(e.code == Mb2Error::kNoEndTag);
  }
  SECTION("end tag with a size other than 8") {
    for (uint32_t size : {9u, 16u, 24u}) {
      Builder b;
      b.tag(kTagCommandLine, Bytes().cstr("a"));
      size_t end = b.end_tag(size);
      Mb2ParseError e = parse_error(b.build());
      CHECK(e.code == Mb2Error::kBadEndTag);
      CHECK(e.offset == end);
      CHECK(e.tag_type == kTagEnd);
    }
  }
}

TEST_CASE("multiboot2: strings must be terminated inside their tag", "[multiboot2]") {
  SECTION("command line") {
    check_single_tag_error(kTagCommandLine, Bytes().raw("console"), Mb2Error::kUnterminatedString);
    // Padding zeros follow the tag but are not part of it.
    check_single_tag_error(kTagCommandLine, Bytes().raw("abc"), Mb2Error::kUnterminatedString);
    check_single_tag_error(kTagCommandLine, Bytes(), Mb2Error::kUnterminatedString);
  }
  SECTION("bootloader name") {
    check_single_tag_error(kTagBootloaderName, Bytes().raw("GRUB"), Mb2Error::kUnterminatedString);
    check_single_tag_error(kTagBootloaderName, Bytes(), Mb2Error::kUnterminatedString);
  }
  SECTION("module string") {
    check_single_tag_error(kTagModule, Bytes().u32(0x1000).u32(0x2000).raw("init"),
                           Mb2Error::kUnterminatedString);
    check_single_tag_error(kTagModule, Bytes().u32(0x1000).u32(0x2000),
                           Mb2Error::kUnterminatedString);
    check_single_tag_error(kTagModule, Bytes().u32(0x1000), Mb2Error::kTagTooSmall);
  }
  SECTION("an empty string and an early NUL are fine") {
    // The strings point into the blobs, so the blobs must outlive the checks.
    auto info = std::make_unique<Multiboot2Info>();
    Blob empty = single_tag_blob(kTagCommandLine, Bytes().u8(0));
    REQUIRE(parses(empty, info.get()));
    CHECK(std::string(info->command_line).empty());
    Blob early = single_tag_blob(kTagBootloaderName, Bytes().cstr("ab").raw("cd"));
    REQUIRE(parses(early, info.get()));
    CHECK(std::string(info->bootloader_name) == "ab");
  }
}

TEST_CASE("multiboot2: memory map errors", "[multiboot2]") {
  const std::vector<MemoryEntry> two = {{0, 0x9fc00, 1}, {0x100000, 0x100000, 1}};
  SECTION("header too small") {
    check_single_tag_error(kTagMemoryMap, Bytes().u32(24), Mb2Error::kTagTooSmall);
  }
  SECTION("entry_size below 24") {
    for (uint32_t size : {0u, 8u, 16u, 20u}) {
      Bytes m;
      m.u32(size).u32(0).zeros(48);
      check_single_tag_error(kTagMemoryMap, m, Mb2Error::kBadMemoryMap);
    }
  }
  SECTION("entry_size not a multiple of 8") {
    Bytes m;
    m.u32(28).u32(0).zeros(56);
    check_single_tag_error(kTagMemoryMap, m, Mb2Error::kBadMemoryMap);
  }
  SECTION("entries do not divide the tag") {
    Bytes m = memory_map(two);
    m.zeros(8);
    check_single_tag_error(kTagMemoryMap, m, Mb2Error::kBadMemoryMap);
  }
  SECTION("a larger entry stride is accepted") {
    auto info = std::make_unique<Multiboot2Info>();
    REQUIRE(parses(single_tag_blob(kTagMemoryMap, memory_map(two, 32)), info.get()));
    REQUIRE(info->memory_region_count == 2);
    CHECK(info->memory_regions[1].base == 0x100000);
    CHECK(info->memory_regions[1].length == 0x100000);
    CHECK(info->memory_regions[1].type == 1);
  }
  SECTION("an empty map is accepted") {
    auto info = std::make_unique<Multiboot2Info>();
    REQUIRE(parses(single_tag_blob(kTagMemoryMap, memory_map({})), info.get()));
    CHECK(info->has_memory_map);
    CHECK(info->memory_region_count == 0);
  }
  SECTION("exactly the maximum number of regions") {
    std::vector<MemoryEntry> many;
    for (uint64_t i = 0; i < Multiboot2Info::kMaxMemoryRegions; ++i) {
      many.push_back({i * 0x1000, 0x1000, static_cast<uint32_t>(1 + i % 5)});
    }
    auto info = std::make_unique<Multiboot2Info>();
    REQUIRE(parses(single_tag_blob(kTagMemoryMap, memory_map(many)), info.get()));
    REQUIRE(info->memory_region_count == Multiboot2Info::kMaxMemoryRegions);
    CHECK(info->memory_regions[255].base == 255 * 0x1000);
    CHECK(info->memory_regions[255].type == 1 + 255 % 5);
  }
  SECTION("one region too many") {
    std::vector<MemoryEntry> many;
    for (uint64_t i = 0; i <= Multiboot2Info::kMaxMemoryRegions; ++i) {
      many.push_back({i * 0x1000, 0x1000, 1});
    }
    check_single_tag_error(kTagMemoryMap, memory_map(many), Mb2Error::kTooManyRegions);
  }
  SECTION("duplicate memory map tag") {
    Builder b;
    b.tag(kTagMemoryMap, memory_map(two));
    b.tag(kTagCommandLine, Bytes().cstr("x"));
    size_t dup = b.tag(kTagMemoryMap, memory_map(two));
    b.end_tag();
    Mb2ParseError e = parse_error(b.build());
    CHECK(e.code == Mb2Error::kDuplicateTag);
    CHECK(e.offset == dup);
    CHECK(e.tag_type == kTagMemoryMap);
  }
}

TEST_CASE("multiboot2: single-instance tags may not repeat", "[multiboot2]") {
  struct Case {
    uint32_t type;
    Bytes payload;
  };
  const Case cases[] = {
      {kTagCommandLine, Bytes().cstr("a=1")},
      {kTagBootloaderName, Bytes().cstr("GRUB")},
      {kTagBasicMemory, Bytes().u32(639).u32(1024)},
      {kTagFramebuffer, framebuffer(0xfd000000, 4096, 1024, 768, 32, 1)},
      {kTagEfiMemoryMap, efi_memory_map(48, 3)},
  };
  for (const Case& c : cases) {
    INFO("tag type " << c.type);
    Builder b;
    b.tag(c.type, c.payload);
    size_t dup = b.tag(c.type, c.payload);
    b.end_tag();
    Mb2ParseError e = parse_error(b.build());
    CHECK(e.code == Mb2Error::kDuplicateTag);
    CHECK(e.offset == dup);
    CHECK(e.tag_type == c.type);
  }
}

TEST_CASE("multiboot2: module errors", "[multiboot2]") {
  SECTION("exactly the maximum number of modules") {
    Builder b;
    for (uint32_t i = 0; i < Multiboot2Info::kMaxModules; ++i) {
      b.tag(kTagModule, module(i * 0x1000, i * 0x1000 + 0x800, "m" + std::to_string(i)));
    }
    b.end_tag();
    Blob blob = b.build();
    auto info = std::make_unique<Multiboot2Info>();
    REQUIRE(parses(blob, info.get()));
    REQUIRE(info->module_count == Multiboot2Info::kMaxModules);
    CHECK(std::string(info->modules[63].string) == "m63");
    CHECK(info->modules[63].start == 63 * 0x1000);
  }
  SECTION("one module too many") {
    Builder b;
    size_t last = 0;
    for (uint32_t i = 0; i <= Multiboot2Info::kMaxModules; ++i) {
      last = b.tag(kTagModule, module(0x1000, 0x2000, "m"));
    }
    b.end_tag();
    Mb2ParseError e = parse_error(b.build());
    CHECK(e.code == Mb2Error::kTooManyModules);
    CHECK(e.offset == last);
    CHECK(e.tag_type == kTagModule);
  }
  SECTION("module ends before it starts") {
    check_single_tag_error(kTagModule, module(0x2000, 0x1fff, "m"), Mb2Error::kBadModuleRange);
  }
  SECTION("an empty module is fine") {
    auto info = std::make_unique<Multiboot2Info>();
    REQUIRE(parses(single_tag_blob(kTagModule, module(0x2000, 0x2000, "")), info.get()));
    REQUIRE(info->module_count == 1);
    CHECK(info->modules[0].start == info->modules[0].end);
  }
}

TEST_CASE("multiboot2: framebuffer checks", "[multiboot2]") {
  auto info = std::make_unique<Multiboot2Info>();
  SECTION("a pitch exactly one line long is fine") {
    REQUIRE(parses(
        single_tag_blob(kTagFramebuffer, framebuffer(0xe0000000, 1024 * 3, 1024, 768, 24, 1)),
        info.get()));
    CHECK(info->framebuffer.bpp == 24);
  }
  SECTION("pitch too small for width * bpp") {
    check_single_tag_error(kTagFramebuffer, framebuffer(0xe0000000, 4095, 1024, 768, 32, 1),
                           Mb2Error::kBadFramebuffer);
    // The product must not wrap in 32 bits: 0x80000000 pixels of 32 bits.
    check_single_tag_error(kTagFramebuffer,
                           framebuffer(0xe0000000, 0xffffffff, 0x80000000, 1, 32, 1),
                           Mb2Error::kBadFramebuffer);
  }
  SECTION("bad type") {
    check_single_tag_error(kTagFramebuffer, framebuffer(0xe0000000, 4096, 1024, 768, 32, 3),
                           Mb2Error::kBadFramebuffer);
    check_single_tag_error(kTagFramebuffer, framebuffer(0xe0000000, 4096, 1024, 768, 32, 0xff),
                           Mb2Error::kBadFramebuffer);
  }
  SECTION("zero bpp") {
    check_single_tag_error(kTagFramebuffer, framebuffer(0xe0000000, 4096, 1024, 768, 0, 1),
                           Mb2Error::kBadFramebuffer);
    check_single_tag_error(kTagFramebuffer, framebuffer(0xe0000000, 4096, 1024, 768, 0, 0),
                           Mb2Error::kBadFramebuffer);
  }
  SECTION("EGA text counts two bytes a cell, whatever bpp says") {
    REQUIRE(parses(single_tag_blob(kTagFramebuffer, framebuffer(0xb8000, 160, 80, 25, 0, 2)),
                   info.get()));
    CHECK(info->has_framebuffer);
    CHECK(info->framebuffer.type == 2);
    CHECK(info->framebuffer.width == 80);
    check_single_tag_error(kTagFramebuffer, framebuffer(0xb8000, 159, 80, 25, 16, 2),
                           Mb2Error::kBadFramebuffer);
  }
  SECTION("tag too small") {
    Bytes f = framebuffer(0xe0000000, 4096, 1024, 768, 32, 0);
    f.b.resize(23);
    check_single_tag_error(kTagFramebuffer, f, Mb2Error::kTagTooSmall);
  }
}

TEST_CASE("multiboot2: RSDP checks", "[multiboot2]") {
  auto info = std::make_unique<Multiboot2Info>();
  SECTION("bad signature") {
    Bytes r = rsdp_v1("BOCHS ", 0x1000);
    r.b[7] = '_';
    check_single_tag_error(kTagAcpiOld, r, Mb2Error::kBadRsdp);
    Bytes r2 = rsdp_v2("BOCHS ", 0x1000, 0x2000);
    r2.b[0] = 'r';
    check_single_tag_error(kTagAcpiNew, r2, Mb2Error::kBadRsdp);
  }
  SECTION("too short for revision 1.0") {
    Bytes r = rsdp_v1("BOCHS ", 0x1000);
    r.b.resize(19);
    check_single_tag_error(kTagAcpiOld, r, Mb2Error::kBadRsdp);
    check_single_tag_error(kTagAcpiOld, Bytes().raw("RSD PTR"), Mb2Error::kBadRsdp);
    check_single_tag_error(kTagAcpiOld, Bytes(), Mb2Error::kBadRsdp);
  }
  SECTION("ACPI-new tag too short for revision 2.0") {
    Bytes r = rsdp_v2("BOCHS ", 0x1000, 0x2000);
    r.b.resize(35);
    check_single_tag_error(kTagAcpiNew, r, Mb2Error::kBadRsdp);
    // A perfectly good 1.0 RSDP in the 2.0 tag is still wrong.
    check_single_tag_error(kTagAcpiNew, rsdp_v1("BOCHS ", 0x1000), Mb2Error::kBadRsdp);
  }
  SECTION("ACPI-new tag with revision below 2") {
    check_single_tag_error(kTagAcpiNew, rsdp_v2("BOCHS ", 0x1000, 0x2000, 0), Mb2Error::kBadRsdp);
    check_single_tag_error(kTagAcpiNew, rsdp_v2("BOCHS ", 0x1000, 0x2000, 1), Mb2Error::kBadRsdp);
  }
  SECTION("ACPI-new length larger than the tag or smaller than the structure") {
    check_single_tag_error(kTagAcpiNew, rsdp_v2("BOCHS ", 0x1000, 0x2000, 2, 37),
                           Mb2Error::kBadRsdp);
    check_single_tag_error(kTagAcpiNew, rsdp_v2("BOCHS ", 0x1000, 0x2000, 2, 0xffffffff),
                           Mb2Error::kBadRsdp);
    check_single_tag_error(kTagAcpiNew, rsdp_v2("BOCHS ", 0x1000, 0x2000, 2, 20),
                           Mb2Error::kBadRsdp);
  }
  SECTION("ACPI-new length may cover bytes the tag carries beyond 36") {
    Bytes r = rsdp_v2("BOCHS ", 0x1000, 0x2000, 3, 40);
    r.zeros(4);  // Zero bytes leave the extended checksum right.
    REQUIRE(parses(single_tag_blob(kTagAcpiNew, r), info.get()));
    CHECK(info->rsdp.revision == 3);
    CHECK(info->rsdp.checksum_ok);
  }
  SECTION("bad checksum in the 1.0 part is reported, not fatal") {
    Bytes r = rsdp_v1("BOCHS ", 0x1000);
    r.b[8] = static_cast<uint8_t>(r.b[8] + 1);
    REQUIRE(parses(single_tag_blob(kTagAcpiOld, r), info.get()));
    CHECK(info->has_rsdp);
    CHECK_FALSE(info->rsdp.checksum_ok);
    CHECK(info->rsdp.rsdt_address == 0x1000);

    Bytes r2 = rsdp_v2("BOCHS ", 0x1000, 0x2000);
    r2.b[16] ^= 0x10;  // Breaks both checksums.
    REQUIRE(parses(single_tag_blob(kTagAcpiNew, r2), info.get()));
    CHECK_FALSE(info->rsdp.checksum_ok);
  }
  SECTION("bad extended checksum is reported, not fatal") {
    Bytes r = rsdp_v2("BOCHS ", 0x1000, 0x2000);
    r.b[24] ^= 0x01;  // In the XSDT address: only the extended checksum covers it.
    REQUIRE(parses(single_tag_blob(kTagAcpiNew, r), info.get()));
    CHECK(info->has_rsdp);
    CHECK_FALSE(info->rsdp.checksum_ok);
    CHECK(info->rsdp.xsdt_address == 0x2001);
  }
}

TEST_CASE("multiboot2: EFI memory map checks", "[multiboot2]") {
  SECTION("descriptor_size below 40") {
    check_single_tag_error(kTagEfiMemoryMap, Bytes().u32(32).u32(1).zeros(64),
                           Mb2Error::kBadEfiMemoryMap);
    check_single_tag_error(kTagEfiMemoryMap, Bytes().u32(0).u32(1).zeros(64),
                           Mb2Error::kBadEfiMemoryMap);
  }
  SECTION("descriptor_size not a multiple of 8") {
    check_single_tag_error(kTagEfiMemoryMap, Bytes().u32(44).u32(1).zeros(88),
                           Mb2Error::kBadEfiMemoryMap);
  }
  SECTION("header too small") {
    check_single_tag_error(kTagEfiMemoryMap, Bytes().u32(48), Mb2Error::kTagTooSmall);
  }
  SECTION("whole descriptors parse") {
    auto info = std::make_unique<Multiboot2Info>();
    Blob blob = single_tag_blob(kTagEfiMemoryMap, efi_memory_map(40, 2));
    REQUIRE(parses(blob, info.get()));
    CHECK(info->efi_memory_map.descriptor_size == 40);
    CHECK(info->efi_memory_map.count == 2);
    CHECK(info->efi_memory_map.descriptors == blob.data() + 16 + 8);
  }
  SECTION("a partial descriptor at the end is rejected") {
    Bytes m = efi_memory_map(40, 2);
    m.zeros(16);
    check_single_tag_error(kTagEfiMemoryMap, m, Mb2Error::kBadEfiMemoryMap);
  }
}

TEST_CASE("multiboot2: error names", "[multiboot2]") {
  for (int code = 0; code <= static_cast<int>(Mb2Error::kDuplicateTag); ++code) {
    const char* name = kernel::boot::mb2_error_name(static_cast<Mb2Error>(code));
    REQUIRE(name != nullptr);
    CHECK(std::string(name) != "unknown error");
  }
  CHECK(std::string(kernel::boot::mb2_error_name(static_cast<Mb2Error>(200))) == "unknown error");
}

TEST_CASE("multiboot2: total size", "[multiboot2]") {
  Blob good = good_blob();
  CHECK(multiboot2_total_size(good.span()) == good.size());
  CHECK(multiboot2_total_size({good.data(), 8}) == good.size());
  CHECK(multiboot2_total_size({good.data(), 7}) == 0);
  CHECK(multiboot2_total_size({good.data(), 0}) == 0);
  CHECK(multiboot2_total_size(kstd::span<const uint8_t>()) == 0);
  // It reports the field as it is; checking it is the parser's job.
  good.set_u32(0, 0xfffffff0);
  CHECK(multiboot2_total_size(good.span()) == 0xfffffff0);
}

TEST_CASE("multiboot2: every truncation is an error", "[multiboot2][robustness]") {
  const std::vector<uint8_t> full = good_blob().bytes();
  auto info = std::make_unique<Multiboot2Info>();
  for (size_t len = 0; len < full.size(); ++len) {
    INFO("length " << len);
    for (bool fix_total : {true, false}) {
      INFO("total_size " << (fix_total ? "fixed up" : "left at the full size"));
      // Exactly len bytes on the heap, so that a sanitizer catches any read past them.
      std::unique_ptr<uint8_t[]> copy(new uint8_t[len]);
      REQUIRE(reinterpret_cast<uintptr_t>(copy.get()) % 8 == 0);
      std::memcpy(copy.get(), full.data(), len);
      if (fix_total && len >= 4) {
        uint32_t total = static_cast<uint32_t>(len);
        std::memcpy(copy.get(), &total, sizeof total);
      }
      auto r = parse_multiboot2({copy.get(), len}, info.get());
      REQUIRE_FALSE(r.ok());
      Mb2Error code = r.error().code;
      if (len < 16) {
        CHECK(code == Mb2Error::kTooSmall);
      } else if (!fix_total) {
        CHECK(code == Mb2Error::kSizeExceedsBuffer);
      } else {
        CHECK((code == Mb2Error::kNoEndTag || code == Mb2Error::kTagTruncated));
      }
    }
  }
}

TEST_CASE("multiboot2: random byte flips never break the parser", "[multiboot2][robustness]") {
  const std::vector<uint8_t> good = good_blob().bytes();
  std::mt19937 rng(0x6b65656c);
  auto info = std::make_unique<Multiboot2Info>();
  size_t accepted = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::vector<uint8_t> bytes = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      size_t at = rng() % bytes.size();
      // Mostly random bytes, sometimes values that make sizes small or huge.
      switch (rng() % 4) {
        case 0:
          bytes[at] = 0;
          break;
        case 1:
          bytes[at] = 0xff;
          break;
        default:
          bytes[at] = static_cast<uint8_t>(rng());
          break;
      }
    }
    // The exact size on the heap, as in the truncation sweep.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size()]);
    std::memcpy(copy.get(), bytes.data(), bytes.size());
    const uint8_t* base = copy.get();
    const size_t size = bytes.size();
    auto r = parse_multiboot2({base, size}, info.get());
    if (!r.ok()) {
      continue;
    }
    ++accepted;
    INFO("iteration " << iteration);
    REQUIRE(info->total_size <= size);
    REQUIRE(info->memory_region_count <= Multiboot2Info::kMaxMemoryRegions);
    REQUIRE(info->module_count <= Multiboot2Info::kMaxModules);
    if (info->command_line != nullptr) {
      REQUIRE(string_inside(info->command_line, base, size));
    }
    if (info->bootloader_name != nullptr) {
      REQUIRE(string_inside(info->bootloader_name, base, size));
    }
    for (const auto& m : info->module_list()) {
      REQUIRE(m.end >= m.start);
      REQUIRE(m.string != nullptr);
      REQUIRE(string_inside(m.string, base, size));
    }
    if (info->has_efi_memory_map) {
      const auto& e = info->efi_memory_map;
      REQUIRE(e.descriptor_size >= 40);
      REQUIRE(inside(e.descriptors, base, size + 1));
      size_t room = size - static_cast<size_t>(e.descriptors - base);
      REQUIRE(uint64_t{e.count} * e.descriptor_size <= room);
    }
  }
  // Most single flips land in payload bytes, so many corrupted blobs still parse; a sweep in
  // which nothing parses would test only the first check.
  CHECK(accepted > 1000);
}
