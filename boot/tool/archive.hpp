// SPDX-License-Identifier: MIT
//
// The boot archive and the binary manifest on the host: keel-image writes them, and the readers
// here parse them back so that tests (and anyone inspecting an image) can check what was
// written. The formats are abi/boot_archive.hpp and abi/manifest.hpp.
#pragma once

#include <abi/boot_archive.hpp>
#include <abi/manifest.hpp>

#include "manifest.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keel::tool {

// The name of archive entry 0, the binary manifest.
inline constexpr std::string_view kManifestEntryName = "manifest";

using Sha256Digest = std::array<std::uint8_t, 32>;

// SHA-256 through OpenSSL's EVP interface.
Sha256Digest sha256(std::span<const std::byte> data);

// Lower-case hex, 64 characters.
std::string hex_digest(const Sha256Digest& digest);

// The binary manifest of a manifest that passed every check: a ManifestHeader, then one
// ServerRecord per server in dependency_order(), so that the root task can start the servers in
// record order. The service table lists every service in order of first mention in the manifest
// (provides before requires, server by server). Unused bytes are zero, so the same manifest
// always gives the same bytes. Throws std::invalid_argument when the model cannot be encoded
// (too many entries, a name too long, a dependency cycle, a required service nobody provides).
std::vector<std::byte> encode_manifest(const Manifest& manifest);

struct DecodedManifest {
  abi::ManifestHeader header;
  std::vector<abi::ServerRecord> servers;
};

// Parses a binary manifest and checks its layout: size, magic, version, counts, NUL-terminated
// names, service indices in range. Returns nothing and sets `error` when a check fails.
std::optional<DecodedManifest> decode_manifest(std::span<const std::byte> bytes,
                                               std::string& error);

struct ArchiveFile {
  std::string name;
  std::vector<std::byte> data;
};

// Lays out an archive: the header, the entry table, then each file at the next page boundary,
// zero padding in between and after the last file, so total_size is a page multiple too. Throws
// std::invalid_argument for no files, more than abi::kArchiveMaxEntries, or a name that is
// empty, too long for ArchiveEntry::name or used twice.
std::vector<std::byte> build_archive(const std::vector<ArchiveFile>& files);

// The archive keel-image writes: entry 0 is the binary manifest, then the binaries in the order
// load_binaries() returned them (first use in the manifest).
std::vector<std::byte> build_boot_archive(const Manifest& manifest,
                                          const std::vector<LoadedBinary>& binaries);

struct ArchiveView {
  abi::ArchiveHeader header;
  std::vector<abi::ArchiveEntry> entries;
  std::vector<std::span<const std::byte>> files;  // Into the bytes given to read_archive().
};

// Parses an archive and checks it: magic, version, entry count, total_size against the size,
// names, aligned offsets, files inside the archive and past the entry table, no two files
// sharing bytes, and every SHA-256. Returns nothing and sets `error` when a check fails.
std::optional<ArchiveView> read_archive(std::span<const std::byte> bytes, std::string& error);

}  // namespace keel::tool
