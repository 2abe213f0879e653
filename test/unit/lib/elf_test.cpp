// SPDX-License-Identifier: MIT
//
// Unit tests for the kernel's ELF loader rules (kernel::elf::parse). The images are built byte
// by byte here, as in boot/elf_check_test.cpp, so that every rule can be broken on purpose and
// in isolation. The kernel trusts the build-time checker (boot/tool/elf_check) to have rejected
// what it would reject, so a differential test holds the two side by side.
#include "lib/elf.hpp"

#include <abi/registers.hpp>

#include "../support/elf_image.hpp"
#include "elf_check.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <elf.h>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace {

using kernel::elf::Error;
using kernel::elf::Image;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kPage = keel::test::kElfPage;
constexpr uint64_t kText = keel::test::kElfText;
constexpr uint64_t kData = keel::test::kElfData;

using keel::test::ImageBuilder;

abi::Result<Image, Error> parse(const Bytes& image, uint64_t user_top = abi::kUserTop) {
  return kernel::elf::parse({image.data(), image.size()}, user_top);
}

// The error parse() reports, or "ok".
std::string outcome(const Bytes& image) {
  auto r = parse(image);
  return r ? std::string("ok") : std::string(kernel::elf::error_name(r.error()));
}

std::string name(Error e) {
  return kernel::elf::error_name(e);
}

void check_error(const Bytes& image, Error expected) {
  auto r = parse(image);
  INFO("expected: " << name(expected));
  INFO("got: " << outcome(image));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == expected);
}

bool elf_check_accepts(const Bytes& image) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(image.data()), image.size());
  return keel::tool::check_user_elf_image(bytes, "test").empty();
}

// What a successful parse promises the loader, whatever the input was.
void check_promises(const Bytes& image, const Image& img) {
  REQUIRE(img.segment_count > 0);
  REQUIRE(img.segment_count <= Image::kMaxSegments);
  bool entry_in_code = false;
  for (size_t i = 0; i < img.segment_count; ++i) {
    const kernel::elf::Segment& s = img.segments[i];
    INFO("segment " << i);
    CHECK(s.vaddr % kPage == 0);
    CHECK(s.offset % kPage == 0);
    CHECK(s.filesz <= s.memsz);
    CHECK(s.vaddr >= kPage);
    CHECK(s.vaddr < abi::kUserTop);
    CHECK(s.memsz <= abi::kUserTop - s.vaddr);
    CHECK(s.offset <= image.size());
    CHECK(s.filesz <= image.size() - s.offset);
    CHECK_FALSE(
        ((s.flags & kernel::elf::kFlagWrite) != 0 && (s.flags & kernel::elf::kFlagExecute) != 0));
    for (size_t j = 0; j < i; ++j) {
      const kernel::elf::Segment& o = img.segments[j];
      uint64_t s_end = (s.vaddr + s.memsz + kPage - 1) & ~(kPage - 1);
      uint64_t o_end = (o.vaddr + o.memsz + kPage - 1) & ~(kPage - 1);
      CHECK((s_end <= o.vaddr || o_end <= s.vaddr));
    }
    if ((s.flags & kernel::elf::kFlagExecute) != 0 && img.entry >= s.vaddr &&
        img.entry - s.vaddr < s.filesz) {
      entry_in_code = true;
    }
  }
  CHECK(entry_in_code);
}

}  // namespace

// --- good images -------------------------------------------------------------------------------

TEST_CASE("elf: a static x86-64 executable parses", "[elf]") {
  const Bytes image = ImageBuilder::good().serialise<uint8_t>();
  auto r = parse(image);
  REQUIRE(r.ok());
  const Image& img = r.value();
  CHECK(img.entry == kText);
  REQUIRE(img.segment_count == 3);  // PT_GNU_STACK loads nothing.
  CHECK(img.segments[0].vaddr == 0x400000);
  CHECK(img.segments[0].offset == 0);
  CHECK(img.segments[0].filesz == 0x200);
  CHECK(img.segments[0].memsz == 0x200);
  CHECK(img.segments[0].flags == kernel::elf::kFlagRead);
  CHECK(img.segments[1].vaddr == kText);
  CHECK(img.segments[1].flags == (kernel::elf::kFlagRead | kernel::elf::kFlagExecute));
  CHECK(img.segments[2].vaddr == kData);
  CHECK(img.segments[2].offset == 0x2000);
  CHECK(img.segments[2].filesz == 0x100);
  CHECK(img.segments[2].memsz == 0x3000);
  CHECK(img.segments[2].flags == (kernel::elf::kFlagRead | kernel::elf::kFlagWrite));
  check_promises(image, img);
  CHECK(elf_check_accepts(image));
}

TEST_CASE("elf: edge cases that are accepted", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("a segment ending exactly at the user top") {
    b.phdrs[2].p_vaddr = abi::kUserTop - 0x3000;
  }
  SECTION("empty PT_LOAD segments anywhere") {
    b.load(PF_R | PF_W | PF_X, 0x123, 0, 0, 0);
    b.load(PF_R, 0, 0xFFFFFFFFFFFFF000, 0, 0);
  }
  SECTION("unknown segment types") {
    b.phdrs.push_back(Elf64_Phdr{PT_NOTE, PF_R, 0x9000000, 7, 7, 0x1000, 0x1000, 3});
    b.phdrs.push_back(Elf64_Phdr{0x6474e552 /* PT_GNU_RELRO */, PF_R, 0, 0, 0, 0, 0, 1});
  }
  SECTION("the entry point on the last file byte of the text") {
    b.ehdr.e_entry = kText + 0xFFF;
  }
  SECTION("a program header table elsewhere in the file") {
    b.table_offset = 0x1F00;
    b.ehdr.e_phoff = 0x1F00;
    b.phdrs[1].p_filesz = 0xF00;
  }
  SECTION("exactly 16 loadable segments") {
    b.phdrs.resize(3);
    for (uint64_t i = 0; i < 13; ++i) {
      b.load(PF_R, 0x2000, 0x500000 + i * kPage, 0x10, 0x10);
    }
  }
  const Bytes image = b.serialise<uint8_t>();
  auto r = parse(image);
  INFO(outcome(image));
  REQUIRE(r.ok());
  check_promises(image, r.value());
}

// --- one test per error --------------------------------------------------------------------------

TEST_CASE("elf: kTooSmall", "[elf]") {
  check_error({}, Error::kTooSmall);
  Bytes image = ImageBuilder::good().serialise<uint8_t>();
  image.resize(63);
  check_error(image, Error::kTooSmall);
  CHECK(kernel::elf::parse({}, abi::kUserTop).error() == Error::kTooSmall);
}

TEST_CASE("elf: kNotElf", "[elf]") {
  Bytes image = ImageBuilder::good().serialise<uint8_t>();
  SECTION("a text file") {
    image.assign(200, 'x');
  }
  SECTION("one magic byte wrong") {
    image[3] = 'f';
  }
  SECTION("the first byte wrong") {
    image[0] = 0x7e;
  }
  check_error(image, Error::kNotElf);
}

TEST_CASE("elf: kNotElf64", "[elf]") {
  auto b = ImageBuilder::good();
  b.ehdr.e_ident[EI_CLASS] = GENERATE(ELFCLASS32, ELFCLASSNONE, 7);
  check_error(b.serialise<uint8_t>(), Error::kNotElf64);
}

TEST_CASE("elf: kNotLittleEndian", "[elf]") {
  auto b = ImageBuilder::good();
  b.ehdr.e_ident[EI_DATA] = GENERATE(ELFDATA2MSB, ELFDATANONE);
  check_error(b.serialise<uint8_t>(), Error::kNotLittleEndian);
}

TEST_CASE("elf: kNotX86_64", "[elf]") {
  auto b = ImageBuilder::good();
  b.ehdr.e_machine = GENERATE(EM_386, EM_AARCH64, EM_NONE);
  check_error(b.serialise<uint8_t>(), Error::kNotX86_64);
}

TEST_CASE("elf: kNotExecutable", "[elf]") {
  auto b = ImageBuilder::good();
  b.ehdr.e_type = GENERATE(ET_DYN, ET_REL, ET_CORE, ET_NONE);
  check_error(b.serialise<uint8_t>(), Error::kNotExecutable);
}

TEST_CASE("elf: kBadProgramHeaders", "[elf]") {
  auto b = ImageBuilder::good();
  Bytes image;
  SECTION("wrong entry size") {
    b.ehdr.e_phentsize = 32;
    image = b.serialise<uint8_t>();
  }
  SECTION("e_phoff past the end") {
    b.ehdr.e_phoff = 0x10000;
    image = b.serialise<uint8_t>();
  }
  SECTION("e_phoff near the top of the address space") {
    b.ehdr.e_phoff = 0xFFFFFFFFFFFFFF00;
    image = b.serialise<uint8_t>();
  }
  SECTION("the table running past the end") {
    image = b.serialise<uint8_t>();
    image.resize(sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr));
  }
  SECTION("the table one byte short") {
    b.table_offset = b.file_size - 4 * sizeof(Elf64_Phdr) + 1;
    b.ehdr.e_phoff = b.table_offset;
    image = b.serialise<uint8_t>();
    image.resize(b.file_size);
  }
  SECTION("a huge e_phnum") {
    b.ehdr.e_phnum = 0xFFFF;
    image = b.serialise<uint8_t>(true);
  }
  check_error(image, Error::kBadProgramHeaders);
}

TEST_CASE("elf: kDynamic", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("PT_INTERP") {
    b.phdrs.push_back(Elf64_Phdr{PT_INTERP, PF_R, 0x160, 0x400160, 0x400160, 0x10, 0x10, 1});
  }
  SECTION("PT_DYNAMIC") {
    b.phdrs.push_back(Elf64_Phdr{PT_DYNAMIC, PF_R | PF_W, 0x2000, kData, kData, 0x80, 0x80, 8});
  }
  SECTION("PT_INTERP first, pointing nowhere") {
    b.phdrs.insert(b.phdrs.begin(), Elf64_Phdr{PT_INTERP, PF_R, 0x90000, 0, 0, 0xFFFF, 0xFFFF, 1});
  }
  check_error(b.serialise<uint8_t>(), Error::kDynamic);
}

TEST_CASE("elf: kNoLoadSegment", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("no program headers") {
    b.phdrs.clear();
  }
  SECTION("only other types") {
    for (auto& p : b.phdrs) {
      p.p_type = PT_NOTE;
    }
  }
  SECTION("only empty PT_LOADs") {
    b.phdrs.clear();
    b.load(PF_R | PF_X, 0, kText, 0, 0);
  }
  check_error(b.serialise<uint8_t>(), Error::kNoLoadSegment);
}

TEST_CASE("elf: kTooManySegments", "[elf]") {
  auto b = ImageBuilder::good();
  for (uint64_t i = 0; i < 14; ++i) {
    b.load(PF_R, 0x2000, 0x500000 + i * kPage, 0x10, 0x10);
  }
  REQUIRE(b.phdrs.size() == 18);  // 17 loadable.
  check_error(b.serialise<uint8_t>(), Error::kTooManySegments);
}

TEST_CASE("elf: kMisaligned", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("p_vaddr") {
    b.phdrs[1].p_vaddr += 0x10;
    b.phdrs[1].p_offset += 0x10;
    b.ehdr.e_entry += 0x10;
  }
  SECTION("p_offset not congruent to p_vaddr") {
    b.phdrs[1].p_offset = 0x1010;
  }
  SECTION("p_offset half a page off") {
    b.phdrs[2].p_offset = 0x1800;
  }
  check_error(b.serialise<uint8_t>(), Error::kMisaligned);
}

TEST_CASE("elf: kOutsideUser", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("page zero") {
    b.phdrs[0].p_vaddr = 0;
  }
  SECTION("crossing the user top") {
    b.phdrs[2].p_vaddr = abi::kUserTop - 0x2000;
  }
  SECTION("at the user top") {
    b.phdrs[2].p_vaddr = abi::kUserTop;
  }
  SECTION("in the kernel half") {
    b.phdrs[2].p_vaddr = 0xFFFFFFFF80000000;
  }
  SECTION("p_vaddr + p_memsz wraps") {
    b.phdrs[2].p_memsz = 0xFFFFFFFFFFFFF000;
  }
  SECTION("a lower user top") {
    auto r = parse(b.serialise<uint8_t>(), 0x402000);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Error::kOutsideUser);
    return;
  }
  check_error(b.serialise<uint8_t>(), Error::kOutsideUser);
}

TEST_CASE("elf: kWriteAndExecute", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("data made executable") {
    b.phdrs[2].p_flags = PF_R | PF_W | PF_X;
  }
  SECTION("text made writable") {
    b.phdrs[1].p_flags = PF_W | PF_X;
  }
  check_error(b.serialise<uint8_t>(), Error::kWriteAndExecute);
}

TEST_CASE("elf: kFileSizeOverMemSize", "[elf]") {
  auto b = ImageBuilder::good();
  b.phdrs[2].p_memsz = 0x80;
  check_error(b.serialise<uint8_t>(), Error::kFileSizeOverMemSize);
  b.phdrs[2].p_memsz = 0;
  check_error(b.serialise<uint8_t>(), Error::kFileSizeOverMemSize);
}

TEST_CASE("elf: kSegmentOutsideFile", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("file bytes past the end") {
    b.phdrs[2].p_filesz = 0x101 + 0x1000;
  }
  SECTION("one byte past the end") {
    b.phdrs[2].p_filesz = 0x101;
  }
  SECTION("an offset past the end") {
    b.phdrs[2].p_offset = 0x3000;
  }
  SECTION("offset plus size wraps") {
    b.phdrs[2].p_offset = 0xFFFFFFFFFFFFF000;
    b.phdrs[2].p_vaddr = 0x7FFFFFFF000;  // Congruent, so the alignment rule passes.
  }
  check_error(b.serialise<uint8_t>(), Error::kSegmentOutsideFile);
}

TEST_CASE("elf: kOverlap", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("the same addresses") {
    b.phdrs[2].p_vaddr = kText;
  }
  SECTION("a zero-filled tail reaching into the next segment") {
    b.phdrs[1].p_memsz = 0x1001;
  }
  SECTION("a later entry at a lower address") {
    b.load(PF_R, 0x2000, 0x3FF000, 0x100, 0x2000);
  }
  SECTION("one segment inside another") {
    b.phdrs[2].p_memsz = 0x100000;
    b.load(PF_R, 0x2000, 0x410000, 0x10, 0x10);
  }
  check_error(b.serialise<uint8_t>(), Error::kOverlap);
}

TEST_CASE("elf: kEntryNotInCode", "[elf]") {
  auto b = ImageBuilder::good();
  SECTION("in the data segment") {
    b.ehdr.e_entry = kData + 0x10;
  }
  SECTION("in the read-only headers") {
    b.ehdr.e_entry = 0x400000;
  }
  SECTION("outside every segment") {
    b.ehdr.e_entry = 0x500000;
  }
  SECTION("one past the text's file bytes") {
    b.ehdr.e_entry = kText + 0x1000;
  }
  SECTION("in the zero-filled tail of the text") {
    b.phdrs[1].p_filesz = 0x800;
    b.ehdr.e_entry = kText + 0x900;
  }
  SECTION("zero") {
    b.ehdr.e_entry = 0;
  }
  SECTION("below the text") {
    b.ehdr.e_entry = kText - 1;
  }
  check_error(b.serialise<uint8_t>(), Error::kEntryNotInCode);
}

TEST_CASE("elf: every error has a distinct name", "[elf]") {
  std::set<std::string> names;
  for (int e = 0; e <= static_cast<int>(Error::kEntryNotInCode); ++e) {
    std::string n = kernel::elf::error_name(static_cast<Error>(e));
    CHECK_FALSE(n.empty());
    CHECK(n != "unknown ELF error");
    names.insert(n);
  }
  CHECK(names.size() == static_cast<size_t>(Error::kEntryNotInCode) + 1);
  CHECK(std::string(kernel::elf::error_name(static_cast<Error>(200))) == "unknown ELF error");
}

// --- hostile input -------------------------------------------------------------------------------

// Every prefix of a good image must be rejected, never read past its end (the bytes are an
// exactly sized heap block, so ASan sees any overrun) and never accepted.
TEST_CASE("elf: every truncation of a good image is rejected", "[elf][malformed]") {
  const Bytes image = ImageBuilder::good().serialise<uint8_t>();
  for (size_t size = 0; size < image.size(); ++size) {
    const Bytes cut(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(size));
    INFO("size " << size);
    auto r = parse(cut);
    REQUIRE_FALSE(r.ok());
    if (size < sizeof(Elf64_Ehdr)) {
      CHECK(r.error() == Error::kTooSmall);
    } else if (size < sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr)) {
      CHECK(r.error() == Error::kBadProgramHeaders);
    } else {
      CHECK(r.error() == Error::kSegmentOutsideFile);
    }
  }
}

// Random damage to the headers, and random truncation: parse must never crash, and whatever it
// accepts must keep every promise the loader relies on.
TEST_CASE("elf: random corruption never crashes and never breaks a promise", "[elf][malformed]") {
  const Bytes good = ImageBuilder::good().serialise<uint8_t>();
  constexpr size_t kHeaderBytes = sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr);
  std::mt19937_64 rng(0x656c66);  // Fixed seed so that failures can be reproduced.
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes image = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) {
      size_t at = rng() % kHeaderBytes;
      if (rng() % 2 == 0) {
        image[at] = static_cast<uint8_t>(rng());
      } else {
        image[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
      }
    }
    if (rng() % 4 == 0) {
      image.resize(rng() % image.size());
    }
    INFO("round " << round);
    auto r = parse(image);
    if (r.ok()) {
      ++accepted;
      check_promises(image, r.value());
    }
  }
  // Single bit flips in unused fields keep images valid: the promises were really tested.
  CHECK(accepted > 100);
}

// The kernel loads the root task (kernel/core/root_task.cpp) with parse(image, abi::kUserTop),
// trusting, as lib/elf.hpp and boot/tool/elf_check.hpp both say, that what the build-time checker
// accepts also loads. Random images must never be accepted by the checker and refused by the
// kernel.
TEST_CASE("elf: what the build-time checker accepts, the kernel accepts (random)",
          "[elf][elf_check]") {
  const Bytes good = ImageBuilder::good().serialise<uint8_t>();
  constexpr size_t kHeaderBytes = sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr);
  std::mt19937_64 rng(0x6469ff);
  int both = 0;
  for (int round = 0; round < 5000; ++round) {
    Bytes image = good;
    image[rng() % kHeaderBytes] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (rng() % 2 == 0) {
      image[rng() % kHeaderBytes] = static_cast<uint8_t>(rng());
    }
    if (elf_check_accepts(image)) {
      INFO("round " << round << ": " << outcome(image));
      CHECK(parse(image).ok());
      ++both;
    }
  }
  CHECK(both > 100);
}

// The build-time checker and the kernel agree at the edges: a segment in the last page below the
// canonical hole and a 17th loadable segment are refused by both (the checker once accepted
// them, so a binary that passed the build could not be loaded).
TEST_CASE("elf: the build-time checker and the kernel agree at the edges", "[elf][elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("a segment in the last page below the canonical hole") {
    b.phdrs[2].p_vaddr = 0x800000000000 - 0x3000;
  }
  SECTION("17 loadable segments") {
    for (uint64_t i = 0; i < 14; ++i) {
      b.load(PF_R, 0x2000, 0x500000 + i * kPage, 0x10, 0x10);
    }
  }
  const Bytes image = b.serialise<uint8_t>();
  INFO("kernel: " << outcome(image));
  CHECK_FALSE(elf_check_accepts(image));
  CHECK_FALSE(parse(image).ok());
}

TEST_CASE("elf: 16 loadable segments are accepted by both", "[elf][elf_check]") {
  auto b = ImageBuilder::good();
  for (uint64_t i = 0; i < 13; ++i) {
    b.load(PF_R, 0x2000, 0x500000 + i * kPage, 0x10, 0x10);
  }
  const Bytes image = b.serialise<uint8_t>();
  INFO("kernel: " << outcome(image));
  CHECK(elf_check_accepts(image));
  CHECK(parse(image).ok());
}
