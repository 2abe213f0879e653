// SPDX-License-Identifier: MIT
//
// The boot archive: the second boot module, made on the host by boot/tool/keel-image. It holds
// every server binary and the binary manifest, each with its SHA-256, so the root task can
// check what it loads. All integers are little-endian; every file starts on a page boundary
// (servers can be mapped straight from the archive's frames).
//
//   ArchiveHeader
//   ArchiveEntry[entry_count]     entry 0 is the binary manifest (abi/manifest.hpp)
//   ...padding..., then the files at their offsets
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace abi {

inline constexpr char kArchiveMagic[8] = {'K', 'E', 'E', 'L', 'A', 'R', 'C', '1'};
inline constexpr uint32_t kArchiveVersion = 1;
inline constexpr uint32_t kArchiveMaxEntries = 64;
inline constexpr uint64_t kArchiveAlign = 4096;
inline constexpr char kManifestEntryName[] = "manifest";  // The name of entry 0.

struct ArchiveHeader {
  char magic[8];          // kArchiveMagic.
  uint32_t version;       // kArchiveVersion.
  uint32_t entry_count;   // 1..kArchiveMaxEntries.
  uint64_t total_size;    // Bytes in the whole archive.
};
static_assert(sizeof(ArchiveHeader) == 24);

struct ArchiveEntry {
  static constexpr size_t kMaxName = 48;

  char name[kMaxName];  // File name (e.g. "console.elf"), NUL-terminated and NUL-padded.
  uint64_t offset;      // From the start of the archive; a multiple of kArchiveAlign.
  uint64_t size;        // Bytes.
  uint8_t sha256[32];   // Of the file's bytes.
};
static_assert(sizeof(ArchiveEntry) == 96);

}  // namespace abi
