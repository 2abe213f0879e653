// SPDX-License-Identifier: MIT
#include "lib/elf.hpp"

#include <kstd/string.hpp>

#include <kstd/enforce.hpp>

namespace kernel::elf {
namespace {

constexpr uint64_t kPage = 4096;

// ELF64 header and program header fields we read, by offset (the structures are fixed).
struct Header {
  uint16_t type, machine;
  uint64_t entry, phoff;
  uint16_t phentsize, phnum;
};

template <typename T>
T read(const uint8_t* p) {
  T v;
  memcpy(&v, p, sizeof v);
  return v;
}

abi::Error<Error> fail(Error e) { return abi::Error{e}; }

bool overlaps(const Segment& a, const Segment& b) {
  uint64_t a_end = (a.vaddr + a.memsz + kPage - 1) & ~(kPage - 1);
  uint64_t b_end = (b.vaddr + b.memsz + kPage - 1) & ~(kPage - 1);
  return a.vaddr < b_end && b.vaddr < a_end;
}

abi::Result<void, Error> check_segment(const Segment& s, uint64_t file_size, uint64_t user_top) {
  if (s.vaddr % kPage != 0 || s.offset % kPage != s.vaddr % kPage) {
    return fail(Error::kMisaligned);
  }
  if (s.filesz > s.memsz) {
    return fail(Error::kFileSizeOverMemSize);
  }
  if (s.vaddr < kPage || s.vaddr >= user_top || s.memsz > user_top - s.vaddr) {
    return fail(Error::kOutsideUser);
  }
  if ((s.flags & kFlagWrite) != 0 && (s.flags & kFlagExecute) != 0) {
    return fail(Error::kWriteAndExecute);
  }
  if (s.offset > file_size || s.filesz > file_size - s.offset) {
    return fail(Error::kSegmentOutsideFile);
  }
  return {};
}

}  // namespace

const char* error_name(Error e) {
  switch (e) {
    case Error::kTooSmall: return "file too small for an ELF header";
    case Error::kNotElf: return "not an ELF file";
    case Error::kNotElf64: return "not ELF64";
    case Error::kNotLittleEndian: return "not little-endian";
    case Error::kNotX86_64: return "not x86-64";
    case Error::kNotExecutable: return "not ET_EXEC";
    case Error::kBadProgramHeaders: return "program header table malformed or outside the file";
    case Error::kDynamic: return "dynamically linked (PT_INTERP or PT_DYNAMIC)";
    case Error::kNoLoadSegment: return "no loadable segment";
    case Error::kTooManySegments: return "too many loadable segments";
    case Error::kMisaligned: return "loadable segment not page aligned";
    case Error::kOutsideUser: return "loadable segment outside the user half or at page zero";
    case Error::kWriteAndExecute: return "segment both writable and executable";
    case Error::kFileSizeOverMemSize: return "segment file size exceeds its memory size";
    case Error::kSegmentOutsideFile: return "segment data outside the file";
    case Error::kOverlap: return "loadable segments overlap";
    case Error::kEntryNotInCode: return "entry point not in an executable segment";
  }
  return "unknown ELF error";
}

abi::Result<Image, Error> parse(kstd::span<const uint8_t> file, uint64_t user_top) {
  const uint8_t* p = file.data();
  uint64_t size = file.size();
  if (p == nullptr || size < 64) {
    return fail(Error::kTooSmall);
  }
  if (memcmp(p, "\x7f" "ELF", 4) != 0) {
    return fail(Error::kNotElf);
  }
  if (p[4] != 2) {
    return fail(Error::kNotElf64);
  }
  if (p[5] != 1) {
    return fail(Error::kNotLittleEndian);
  }
  Header h{read<uint16_t>(p + 16), read<uint16_t>(p + 18), read<uint64_t>(p + 24),
           read<uint64_t>(p + 32), read<uint16_t>(p + 54), read<uint16_t>(p + 56)};
  if (h.machine != 62) {
    return fail(Error::kNotX86_64);
  }
  if (h.type != 2) {
    return fail(Error::kNotExecutable);
  }
  if (h.phentsize != 56 || h.phoff > size || uint64_t{h.phnum} * 56 > size - h.phoff) {
    return fail(Error::kBadProgramHeaders);
  }
  Image img{};
  img.entry = h.entry;
  for (uint16_t i = 0; i < h.phnum; ++i) {
    const uint8_t* ph = p + h.phoff + uint64_t{i} * 56;
    uint32_t type = read<uint32_t>(ph);
    if (type == 3 || type == 2) {  // PT_INTERP, PT_DYNAMIC
      return fail(Error::kDynamic);
    }
    if (type != 1) {  // PT_LOAD
      continue;
    }
    Segment s{read<uint64_t>(ph + 16), read<uint64_t>(ph + 40), read<uint64_t>(ph + 8),
              read<uint64_t>(ph + 32), read<uint32_t>(ph + 4)};
    if (s.memsz == 0 && s.filesz == 0) {
      continue;  // An empty segment loads nothing.
    }
    TRY(check_segment(s, size, user_top));
    if (img.segment_count == Image::kMaxSegments) {
      return fail(Error::kTooManySegments);
    }
    for (size_t j = 0; j < img.segment_count; ++j) {
      if (overlaps(s, img.segments[j])) {
        return fail(Error::kOverlap);
      }
    }
    img.segments[img.segment_count++] = s;
  }
  if (img.segment_count == 0) {
    return fail(Error::kNoLoadSegment);
  }
  for (size_t j = 0; j < img.segment_count; ++j) {
    const Segment& s = img.segments[j];
    if ((s.flags & kFlagExecute) != 0 && img.entry >= s.vaddr && img.entry - s.vaddr < s.filesz) {
      return img;
    }
  }
  return fail(Error::kEntryNotInCode);
}

}  // namespace kernel::elf
