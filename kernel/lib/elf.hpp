// SPDX-License-Identifier: MIT
//
// ELF64 program loading rules, shared by the kernel (which loads the root task) and libsys
// (which loads servers). The same rules as boot/tool/elfcheck, so that what passes the build
// also loads: ELF64, little-endian, x86-64, ET_EXEC, statically linked, at least one loadable
// segment, each page aligned, inside the user half above page zero, never writable and
// executable, no overlaps, the entry point in code. Reads nothing outside the given bytes.
#pragma once

#include <abi/result.hpp>

#include <kstd/span.hpp>
#include <kstd/types.hpp>

namespace kernel::elf {

inline constexpr uint32_t kFlagExecute = 1;
inline constexpr uint32_t kFlagWrite = 2;
inline constexpr uint32_t kFlagRead = 4;

struct Segment {
  uint64_t vaddr;   // Page aligned.
  uint64_t memsz;
  uint64_t offset;  // In the file.
  uint64_t filesz;  // <= memsz; the rest is zero.
  uint32_t flags;   // kFlag* bits.
};

struct Image {
  static constexpr size_t kMaxSegments = 16;

  uint64_t entry;
  size_t segment_count;
  Segment segments[kMaxSegments];
};

enum class Error : uint8_t {
  kTooSmall,
  kNotElf,
  kNotElf64,
  kNotLittleEndian,
  kNotX86_64,
  kNotExecutable,
  kBadProgramHeaders,  // Table outside the file or wrong entry size.
  kDynamic,            // PT_INTERP or PT_DYNAMIC.
  kNoLoadSegment,
  kTooManySegments,
  kMisaligned,
  kOutsideUser,
  kWriteAndExecute,
  kFileSizeOverMemSize,
  kSegmentOutsideFile,
  kOverlap,
  kEntryNotInCode,
};

const char* error_name(Error e);

// `user_top`: the first address user mappings may not reach.
abi::Result<Image, Error> parse(kstd::span<const uint8_t> file, uint64_t user_top);

}  // namespace kernel::elf
