// SPDX-License-Identifier: MIT
//
// Test support: ELF64 images described as plain header structs and serialised byte by byte, so
// that a test can break exactly one rule of the build-time checker or the loaders. Tests start
// from ImageBuilder::good() and change one field.
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel::test {

inline constexpr std::uint64_t kElfPage = 0x1000;
inline constexpr std::uint64_t kElfText = 0x401000;
inline constexpr std::uint64_t kElfData = 0x402000;

struct ImageBuilder {
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  std::map<std::uint64_t, std::string> payload;  // Bytes to place at a file offset.
  std::uint64_t file_size = 0;
  // Where the table really goes, kept apart from e_phoff so that tests can make e_phoff lie.
  std::uint64_t table_offset = sizeof(Elf64_Ehdr);

  // A static executable shaped like GNU ld output: headers, text, then data with a bss tail, plus
  // a PT_GNU_STACK that checkers and loaders ignore.
  static ImageBuilder good() {
    ImageBuilder b;
    std::memcpy(b.ehdr.e_ident, ELFMAG, SELFMAG);
    b.ehdr.e_ident[EI_CLASS] = ELFCLASS64;
    b.ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    b.ehdr.e_ident[EI_VERSION] = EV_CURRENT;
    b.ehdr.e_type = ET_EXEC;
    b.ehdr.e_machine = EM_X86_64;
    b.ehdr.e_version = EV_CURRENT;
    b.ehdr.e_entry = kElfText;
    b.ehdr.e_phoff = sizeof(Elf64_Ehdr);
    b.ehdr.e_ehsize = sizeof(Elf64_Ehdr);
    b.ehdr.e_phentsize = sizeof(Elf64_Phdr);
    b.load(PF_R, 0, 0x400000, 0x200, 0x200);
    b.load(PF_R | PF_X, 0x1000, kElfText, 0x1000, 0x1000);
    b.load(PF_R | PF_W, 0x2000, kElfData, 0x100, 0x3000);
    b.phdrs.push_back(Elf64_Phdr{PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16});
    b.file_size = 0x2100;
    return b;
  }

  Elf64_Phdr& load(Elf64_Word flags, std::uint64_t offset, std::uint64_t vaddr,
                   std::uint64_t filesz, std::uint64_t memsz) {
    phdrs.push_back(Elf64_Phdr{PT_LOAD, flags, offset, vaddr, vaddr, filesz, memsz, kElfPage});
    return phdrs.back();
  }

  // The file, as bytes of type Byte (std::byte or uint8_t). e_phnum follows the table unless a
  // test has set it on purpose.
  template <typename Byte>
  std::vector<Byte> serialise(bool keep_phnum = false) const {
    Elf64_Ehdr header = ehdr;
    if (!keep_phnum) {
      header.e_phnum = static_cast<Elf64_Half>(phdrs.size());
    }
    const std::uint64_t table_end = table_offset + phdrs.size() * sizeof(Elf64_Phdr);
    std::vector<Byte> out(std::max<std::uint64_t>({file_size, sizeof(header), table_end}));
    std::memcpy(out.data(), &header, sizeof(header));
    if (!phdrs.empty()) {
      std::memcpy(out.data() + table_offset, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr));
    }
    for (const auto& [offset, text] : payload) {
      if (offset + text.size() > out.size()) {
        throw std::logic_error("ImageBuilder: payload past the end of the file");
      }
      std::memcpy(out.data() + offset, text.data(), text.size());
    }
    return out;
  }
};

}  // namespace keel::test
