// SPDX-License-Identifier: MIT
//
// Host-side checks for the user-mode ELF binaries (the root task and every server) that go into a
// boot image. The kernel's loader stays small because it may assume everything checked here: a
// binary that breaks a rule is rejected at build time instead of being half-loaded at boot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace keel::tool {

// One broken rule. `rule` is a short, stable kebab-case name that scripts and tests may match on;
// `detail` is for people and names the offending numbers.
//
// Rule names:
//   unreadable        the file cannot be opened or read
//   not-elf           the bytes are not an ELF file at all
//   malformed         libelf rejects the file; the detail carries libelf's message
//   elf64             not ELFCLASS64
//   little-endian     not ELFDATA2LSB
//   x86-64            e_machine is not EM_X86_64
//   executable        e_type is not ET_EXEC
//   phdr-table        the program header table is missing, has the wrong entry size or does not
//                     fit in the file
//   static            a PT_INTERP or PT_DYNAMIC segment is present
//   has-load          there is no PT_LOAD segment
//   segment-aligned   a PT_LOAD has an unaligned p_vaddr, p_offset not congruent to p_vaddr
//                     modulo the page size, or p_align that is not a power of two >= page size
//   filesz-le-memsz   a PT_LOAD has p_filesz > p_memsz
//   segment-in-file   a PT_LOAD's file bytes [p_offset, p_offset + p_filesz) lie past the end
//   user-half         a PT_LOAD's [p_vaddr, p_vaddr + p_memsz) wraps, touches page zero or
//                     reaches past kUserLimit
//   w-xor-x           a PT_LOAD is both writable and executable
//   segment-count     more than kMaxLoadSegments non-empty PT_LOADs (the loaders' limit)
//   segments-overlap  two PT_LOADs share a page
//   entry-in-text     e_entry is not in the file-backed part of an executable PT_LOAD
//
// Segments are numbered by their index in the program header table, starting at 0, as
// `readelf -l` lists them.
struct ElfProblem {
  std::string rule;
  std::string detail;
};

// Checks the ELF file at `path`. Returns every broken rule (empty = good). A file that is not a
// readable 64-bit little-endian ELF file gets a single problem, because the remaining rules are
// meaningless for it.
std::vector<ElfProblem> check_user_elf(const std::string& path);

// Same, on an in-memory image. `name` is used only in messages; the details never repeat it
// because format_problem() already puts the path in front.
std::vector<ElfProblem> check_user_elf_image(std::span<const std::byte> image,
                                             const std::string& name);

// "path: rule: detail", one line per problem, without a trailing newline.
std::string format_problem(const std::string& path, const ElfProblem& p);

// The granule the kernel maps user segments with.
inline constexpr std::uint64_t kPageSize = 4096;

// First address NOT usable by user mode: abi::kUserTop. The last page below the canonical hole
// is never mapped, so that a system call at the very top cannot return to a non-canonical
// address; the kernel's and libsys's loaders refuse it, and so does this checker.
inline constexpr std::uint64_t kUserLimit = 0x0000'7FFF'FFFF'F000;

// The most loadable segments the loaders accept (kernel/lib/elf.hpp).
inline constexpr std::size_t kMaxLoadSegments = 16;

}  // namespace keel::tool
