// SPDX-License-Identifier: MIT
//
// Unit tests for the boot-image ELF checker. The images are built byte by byte here rather than
// by a linker, so that every rule can be broken on purpose and in isolation.
#include "elf_check.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "../support/elf_image.hpp"
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using Catch::Matchers::Contains;
using keel::tool::check_user_elf;
using keel::tool::check_user_elf_image;
using keel::tool::ElfProblem;
using keel::tool::kUserLimit;

using Bytes = std::vector<std::byte>;

constexpr std::uint64_t kPage = keel::test::kElfPage;
constexpr std::uint64_t kText = keel::test::kElfText;
constexpr std::uint64_t kData = keel::test::kElfData;

using keel::test::ImageBuilder;

std::vector<ElfProblem> check(const Bytes& image) {
  return check_user_elf_image(image, "test");
}

std::vector<std::string> rules(const std::vector<ElfProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) {
    out.push_back(p.rule);
  }
  return out;
}

std::string describe(const std::vector<ElfProblem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    out += keel::tool::format_problem("test", p) + "\n";
  }
  return out.empty() ? "(no problems)" : out;
}

// Checks that the image breaks exactly one rule, and returns that problem's detail.
std::string only_problem(const Bytes& image, const std::string& rule) {
  const auto problems = check(image);
  INFO(describe(problems));
  REQUIRE(rules(problems) == std::vector<std::string>{rule});
  return problems.front().detail;
}

Bytes text_bytes(const std::string& text) {
  Bytes out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

// A file under the system temporary directory that is removed again when the test ends.
class TempFile {
 public:
  TempFile() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "keel-elf-check-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = pattern;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { std::filesystem::remove(path_); }

  const std::string& path() const { return path_; }

  void write(const Bytes& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
  }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("a static x86-64 executable in the user half passes", "[elf_check]") {
  const auto problems = check(ImageBuilder::good().serialise<std::byte>());
  INFO(describe(problems));
  CHECK(problems.empty());
}

TEST_CASE("a segment may end exactly at the user limit", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.phdrs[2].p_vaddr = kUserLimit - 0x3000;
  const auto problems = check(b.serialise<std::byte>());
  INFO(describe(problems));
  CHECK(problems.empty());
}

TEST_CASE("large power-of-two alignments are accepted", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.phdrs[1].p_align = 0x200000;
  const auto problems = check(b.serialise<std::byte>());
  INFO(describe(problems));
  CHECK(problems.empty());
}

// GNU ld emits an empty PT_LOAD at address 0 for an empty output section (a program without
// read-only data, say); it loads nothing, so no rule applies to it.
TEST_CASE("empty PT_LOAD segments are ignored", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.load(PF_R, 0xe8, 0, 0, 0).p_align = kPage;
  b.load(PF_R | PF_W | PF_X, 0xe8, 0, 0, 0);
  const auto problems = check(b.serialise<std::byte>());
  INFO(describe(problems));
  CHECK(problems.empty());
}

TEST_CASE("only empty PT_LOAD segments count as none", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.phdrs.clear();
  b.load(PF_R | PF_X, 0xe8, 0, 0, 0);
  const auto problems = check(b.serialise<std::byte>());
  INFO(describe(problems));
  REQUIRE(rules(problems) == std::vector<std::string>{"has-load", "entry-in-text"});
}

TEST_CASE("format_problem joins path, rule and detail", "[elf_check]") {
  CHECK(keel::tool::format_problem("root.elf", {"w-xor-x", "segment 2 at 0x402000 is bad"}) ==
        "root.elf: w-xor-x: segment 2 at 0x402000 is bad");
}

TEST_CASE("files that are not ELF are reported as not-elf", "[elf_check][malformed]") {
  SECTION("empty") {
    CHECK_THAT(only_problem({}, "not-elf"), Contains("empty"));
  }
  SECTION("three bytes of the magic") {
    CHECK_THAT(only_problem(text_bytes({'\x7f', 'E', 'L'}), "not-elf"), Contains("3 bytes"));
  }
  SECTION("magic only") {
    CHECK_THAT(only_problem(text_bytes(ELFMAG), "not-elf"), Contains("4 bytes"));
  }
  SECTION("a text file") {
    const std::string text(200, 'x');
    CHECK_THAT(only_problem(text_bytes(text), "not-elf"), Contains("200 bytes"));
  }
  SECTION("an ar archive") {
    CHECK_THAT(only_problem(text_bytes("!<arch>\n"), "not-elf"), Contains("ar archive"));
  }
  SECTION("ELF magic with an invalid class") {
    auto b = ImageBuilder::good();
    b.ehdr.e_ident[EI_CLASS] = 7;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "not-elf"), Contains("class 7"));
  }
}

TEST_CASE("a truncated ELF header is malformed", "[elf_check][malformed]") {
  auto image = ImageBuilder::good().serialise<std::byte>();
  image.resize(40);
  CHECK_THAT(only_problem(image, "malformed"), Contains("40-byte"));
}

TEST_CASE("the ELF identification must be 64-bit little-endian", "[elf_check]") {
  SECTION("32-bit") {
    auto b = ImageBuilder::good();
    b.ehdr.e_ident[EI_CLASS] = ELFCLASS32;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "elf64"), Contains("class is 1"));
  }
  SECTION("big-endian") {
    auto b = ImageBuilder::good();
    b.ehdr.e_ident[EI_DATA] = ELFDATA2MSB;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "little-endian"), Contains("encoding is 2"));
  }
}

TEST_CASE("the machine must be x86-64", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.ehdr.e_machine = EM_386;
  CHECK_THAT(only_problem(b.serialise<std::byte>(), "x86-64"), Contains("e_machine is 3"));
}

TEST_CASE("the file must be an ET_EXEC executable", "[elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("ET_DYN") {
    b.ehdr.e_type = ET_DYN;
    const auto detail = only_problem(b.serialise<std::byte>(), "executable");
    CHECK_THAT(detail, Contains("e_type is 3") && Contains("ET_DYN"));
  }
  SECTION("ET_REL") {
    b.ehdr.e_type = ET_REL;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "executable"), Contains("e_type is 1"));
  }
}

TEST_CASE("the program header table must fit in the file", "[elf_check][malformed]") {
  auto b = ImageBuilder::good();
  Bytes image;
  std::string number;
  SECTION("e_phoff past the end") {
    b.ehdr.e_phoff = 0x10000;
    image = b.serialise<std::byte>();
    number = "e_phoff 0x10000";
  }
  SECTION("e_phoff near the top of the address space") {
    b.ehdr.e_phoff = 0xffff'ffff'ffff'ff00;
    image = b.serialise<std::byte>();
    number = "e_phoff 0xffffffffffffff00";
  }
  SECTION("table running past the end") {
    image = b.serialise<std::byte>();
    image.resize(sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr));
    number = "file size 0xb0";  // 64 + 2 * 56 = 176 bytes.
  }
  SECTION("huge e_phnum") {
    b.ehdr.e_phnum = 0xfff0;
    image = b.serialise<std::byte>(true);
    number = "65520";
  }
  SECTION("e_phnum is PN_XNUM without a section to hold the real count") {
    b.ehdr.e_phnum = PN_XNUM;
    image = b.serialise<std::byte>(true);
    number = "65535";
  }
  SECTION("e_phoff is zero") {
    b.ehdr.e_phoff = 0;
    image = b.serialise<std::byte>();
    number = "e_phoff 0x0";
  }
  SECTION("wrong e_phentsize") {
    b.ehdr.e_phentsize = 32;
    image = b.serialise<std::byte>();
    number = "e_phentsize 32";
  }
  CHECK_THAT(only_problem(image, "phdr-table"), Contains(number));
}

TEST_CASE("binaries must be statically linked", "[elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("PT_INTERP") {
    b.phdrs.insert(b.phdrs.begin() + 1,
                   Elf64_Phdr{PT_INTERP, PF_R, 0x160, 0x400160, 0x400160, 0x10, 0x10, 1});
    b.payload[0x160] = std::string("/lib/ld.so\0", 11);
    const auto detail = only_problem(b.serialise<std::byte>(), "static");
    CHECK_THAT(detail, Contains("segment 1") && Contains("\"/lib/ld.so\""));
  }
  SECTION("PT_INTERP pointing past the end of the file") {
    b.phdrs.push_back(Elf64_Phdr{PT_INTERP, PF_R, 0x9000, 0x400160, 0x400160, 0x10, 0x10, 1});
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "static"), Contains("segment 4"));
  }
  SECTION("PT_DYNAMIC") {
    b.phdrs.push_back(Elf64_Phdr{PT_DYNAMIC, PF_R | PF_W, 0x2000, kData, kData, 0x80, 0x80, 8});
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "static"), Contains("segment 4 at 0x402000"));
  }
}

TEST_CASE("there must be at least one PT_LOAD", "[elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("no program headers at all") {
    b.phdrs.clear();
    const auto problems = check(b.serialise<std::byte>());
    INFO(describe(problems));
    REQUIRE(rules(problems) == std::vector<std::string>{"has-load", "entry-in-text"});
    CHECK_THAT(problems[0].detail, Contains("none of the 0"));
  }
  SECTION("only non-load segments") {
    for (auto& phdr : b.phdrs) {
      phdr.p_type = PT_NOTE;
    }
    const auto problems = check(b.serialise<std::byte>());
    INFO(describe(problems));
    REQUIRE(rules(problems) == std::vector<std::string>{"has-load", "entry-in-text"});
    CHECK_THAT(problems[0].detail, Contains("none of the 4"));
  }
}

TEST_CASE("PT_LOAD segments must be page aligned", "[elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("misaligned p_vaddr") {
    b.phdrs[1].p_vaddr += 0x10;
    b.phdrs[1].p_offset += 0x10;
    b.phdrs[1].p_filesz -= 0x10;
    b.phdrs[1].p_memsz -= 0x10;
    b.ehdr.e_entry = b.phdrs[1].p_vaddr;
    const auto detail = only_problem(b.serialise<std::byte>(), "segment-aligned");
    CHECK_THAT(detail, Contains("segment 1 at 0x401010") && Contains("0x1000"));
  }
  SECTION("p_offset not congruent to p_vaddr") {
    b.phdrs[1].p_offset = 0x1010;
    const auto detail = only_problem(b.serialise<std::byte>(), "segment-aligned");
    CHECK_THAT(detail, Contains("segment 1 at 0x401000") && Contains("0x1010"));
  }
  SECTION("p_align below the page size") {
    b.phdrs[2].p_align = 0x800;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "segment-aligned"), Contains("p_align 0x800"));
  }
  SECTION("p_align not a power of two") {
    b.phdrs[2].p_align = 0x3000;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "segment-aligned"), Contains("p_align 0x3000"));
  }
  SECTION("p_align zero") {
    b.phdrs[2].p_align = 0;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "segment-aligned"), Contains("p_align 0x0"));
  }
}

TEST_CASE("p_filesz must not exceed p_memsz", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.phdrs[2].p_memsz = 0x80;
  const auto detail = only_problem(b.serialise<std::byte>(), "filesz-le-memsz");
  CHECK_THAT(detail, Contains("p_filesz 0x100") && Contains("p_memsz 0x80"));
}

TEST_CASE("PT_LOAD file bytes must lie inside the file", "[elf_check][malformed]") {
  auto b = ImageBuilder::good();
  SECTION("past the end") {
    b.phdrs[2].p_filesz = 0x3000;
    const auto detail = only_problem(b.serialise<std::byte>(), "segment-in-file");
    CHECK_THAT(detail, Contains("0x5000") && Contains("0x2100"));
  }
  SECTION("offset plus size wraps") {
    b.phdrs[2].p_offset = 0xffff'ffff'ffff'f000;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "segment-in-file"), Contains("0xfffffffffffff000"));
  }
}

TEST_CASE("at most 16 loadable segments", "[elf_check]") {
  auto b = ImageBuilder::good();
  for (std::uint64_t i = 0; i < 14; ++i) {
    b.load(PF_R, 0x2000, 0x500000 + i * kPage, 0x10, 0x10);
  }
  const auto detail = only_problem(b.serialise<std::byte>(), "segment-count");
  CHECK_THAT(detail, Contains("17") && Contains("16"));
}

TEST_CASE("PT_LOAD segments must lie in the user half", "[elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("page zero") {
    b.phdrs[0].p_vaddr = 0;
    const auto detail = only_problem(b.serialise<std::byte>(), "user-half");
    CHECK_THAT(detail, Contains("[0x0, 0x200)") && Contains("page zero"));
  }
  SECTION("crossing the user limit") {
    b.phdrs[2].p_vaddr = kUserLimit - 0x1000;
    const auto detail = only_problem(b.serialise<std::byte>(), "user-half");
    CHECK_THAT(detail, Contains("0x7fffffffe000") && Contains("0x7ffffffff000"));
  }
  SECTION("in the kernel half") {
    b.phdrs[2].p_vaddr = 0xffff'ffff'8000'0000;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "user-half"), Contains("0xffffffff80000000"));
  }
  SECTION("p_vaddr + p_memsz wraps around") {
    b.phdrs[2].p_vaddr = 0xffff'ffff'ffff'f000;
    const auto detail = only_problem(b.serialise<std::byte>(), "user-half");
    CHECK_THAT(detail, Contains("0xfffffffffffff000") && Contains("wraps"));
  }
}

TEST_CASE("no PT_LOAD may be writable and executable", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.phdrs[2].p_flags = PF_R | PF_W | PF_X;
  const auto detail = only_problem(b.serialise<std::byte>(), "w-xor-x");
  CHECK(detail == "segment 2 at 0x402000 is writable and executable");
}

TEST_CASE("PT_LOAD segments must not overlap", "[elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("the same addresses") {
    b.phdrs[2].p_vaddr = kText;
    const auto detail = only_problem(b.serialise<std::byte>(), "segments-overlap");
    CHECK_THAT(detail, Contains("segment 1 [0x401000, 0x402000)") &&
                           Contains("segment 2 [0x401000, 0x404000)"));
  }
  SECTION("sharing a page only after rounding") {
    b.phdrs[1].p_filesz = b.phdrs[1].p_memsz = 0x800;
    b.phdrs[2].p_vaddr = kText + 0x800;
    b.phdrs[2].p_offset = 0x1800;
    const auto problems = check(b.serialise<std::byte>());
    INFO(describe(problems));
    REQUIRE(rules(problems) == std::vector<std::string>{"segment-aligned", "segments-overlap"});
    CHECK_THAT(problems[1].detail, Contains("segment 1 [0x401000, 0x402000)") &&
                                       Contains("segment 2 [0x401000, 0x405000)"));
  }
  SECTION("a later table entry at a lower address") {
    b.load(PF_R, 0x2000, 0x400000, 0x100, 0x100);
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "segments-overlap"),
               Contains("segment 0") && Contains("segment 4"));
  }
}

TEST_CASE("the entry point must be in an executable segment", "[elf_check]") {
  auto b = ImageBuilder::good();
  SECTION("in the data segment") {
    b.ehdr.e_entry = kData + 0x10;
    const auto detail = only_problem(b.serialise<std::byte>(), "entry-in-text");
    CHECK_THAT(detail, Contains("0x402010") && Contains("segment 2"));
  }
  SECTION("outside every segment") {
    b.ehdr.e_entry = 0x500000;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "entry-in-text"), Contains("0x500000"));
  }
  SECTION("in the zero-filled tail of the text segment") {
    b.phdrs[1].p_filesz = 0x800;
    b.ehdr.e_entry = kText + 0x900;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "entry-in-text"), Contains("0x401900"));
  }
  SECTION("zero") {
    b.ehdr.e_entry = 0;
    CHECK_THAT(only_problem(b.serialise<std::byte>(), "entry-in-text"), Contains("entry point 0x0 "));
  }
}

TEST_CASE("every broken rule is reported, not just the first", "[elf_check]") {
  auto b = ImageBuilder::good();
  b.ehdr.e_type = ET_DYN;
  b.phdrs[1].p_flags = PF_R | PF_W | PF_X;
  b.phdrs[2].p_memsz = 0x10;
  const auto problems = check(b.serialise<std::byte>());
  INFO(describe(problems));
  CHECK(rules(problems) == std::vector<std::string>{"executable", "w-xor-x", "filesz-le-memsz"});
}

TEST_CASE("check_user_elf reads files from disk", "[elf_check][file]") {
  TempFile file;
  SECTION("a good file") {
    file.write(ImageBuilder::good().serialise<std::byte>());
    const auto problems = check_user_elf(file.path());
    INFO(describe(problems));
    CHECK(problems.empty());
  }
  SECTION("a bad file gives the same problems as the same bytes in memory") {
    auto b = ImageBuilder::good();
    b.phdrs[2].p_flags = PF_R | PF_W | PF_X;
    b.ehdr.e_entry = 0x500000;
    file.write(b.serialise<std::byte>());
    const auto from_file = check_user_elf(file.path());
    const auto from_memory = check(b.serialise<std::byte>());
    INFO(describe(from_file));
    REQUIRE(rules(from_file) == std::vector<std::string>{"w-xor-x", "entry-in-text"});
    REQUIRE(rules(from_file) == rules(from_memory));
    for (std::size_t i = 0; i < from_file.size(); ++i) {
      CHECK(from_file[i].detail == from_memory[i].detail);
    }
  }
  SECTION("an empty file") {
    const auto problems = check_user_elf(file.path());
    REQUIRE(rules(problems) == std::vector<std::string>{"not-elf"});
    CHECK(problems[0].detail == check({})[0].detail);
  }
  SECTION("a truncated header") {
    auto image = ImageBuilder::good().serialise<std::byte>();
    image.resize(40);
    file.write(image);
    const auto problems = check_user_elf(file.path());
    REQUIRE(rules(problems) == std::vector<std::string>{"malformed"});
    CHECK_THAT(problems[0].detail, Contains("40-byte"));
  }
  SECTION("a table past the end") {
    auto image = ImageBuilder::good().serialise<std::byte>();
    image.resize(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr));
    file.write(image);
    CHECK(rules(check_user_elf(file.path())) == std::vector<std::string>{"phdr-table"});
  }
}

TEST_CASE("check_user_elf reports paths it cannot read", "[elf_check][file]") {
  SECTION("a missing file") {
    const auto problems = check_user_elf("/nonexistent/keel/root.elf");
    REQUIRE(rules(problems) == std::vector<std::string>{"unreadable"});
    CHECK_THAT(problems[0].detail, Contains("No such file or directory"));
  }
  SECTION("a directory") {
    const auto problems = check_user_elf(std::filesystem::temp_directory_path().string());
    REQUIRE(rules(problems) == std::vector<std::string>{"unreadable"});
    CHECK_THAT(problems[0].detail, Contains("regular file"));
  }
}

// Cutting a good image anywhere must give problems, never a crash or a pass: a truncated copy in
// the build tree is exactly the kind of file the checker exists to catch.
TEST_CASE("every truncation of a good image is rejected", "[elf_check][malformed]") {
  const auto image = ImageBuilder::good().serialise<std::byte>();
  for (std::size_t size = 0; size < image.size(); ++size) {
    const Bytes cut(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(size));
    INFO("size " << size);
    CHECK_FALSE(check(cut).empty());
  }
}

// Random damage to the headers is the closest the tests get to a hostile file. Run under a
// sanitizer, this is what shows that nothing is read out of bounds.
TEST_CASE("random damage to the headers never crashes", "[elf_check][malformed]") {
  const auto good = ImageBuilder::good().serialise<std::byte>();
  constexpr std::size_t kHeaderBytes = sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr);
  std::mt19937_64 rng(0x6b65656c);  // Fixed seed so that failures can be reproduced.
  for (int round = 0; round < 5000; ++round) {
    auto image = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) {
      image[rng() % kHeaderBytes] = static_cast<std::byte>(rng());
    }
    if (rng() % 4 == 0) {
      image.resize(rng() % image.size());
    }
    const auto problems = check(image);
    for (const auto& p : problems) {
      CHECK_FALSE(p.rule.empty());
      CHECK_FALSE(p.detail.empty());
    }
  }
}
