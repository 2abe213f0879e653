// SPDX-License-Identifier: MIT
//
// The archive formats are little-endian and this tool only runs on x86-64 build machines, so
// records are filled in as the ABI structs and copied out byte for byte. Every buffer starts
// zeroed and structs are cleared with memset before their fields are set, so padding bytes are
// zero too and the same input always gives the same archive.
#include "archive.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <openssl/evp.h>
#include <set>
#include <stdexcept>
#include <utility>

namespace keel::tool {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the boot archive is little-endian and written by copying structs");

std::uint64_t align_up(std::uint64_t value) {
  return (value + abi::kArchiveAlign - 1) & ~(abi::kArchiveAlign - 1);
}

template <std::size_t N>
void copy_name(char (&out)[N], std::string_view name) {
  if (name.size() >= N) {
    throw std::invalid_argument("name \"" + std::string(name) + "\" is longer than " +
                                std::to_string(N - 1) + " characters");
  }
  std::memset(out, 0, N);
  std::memcpy(out, name.data(), name.size());
}

// True when `name` holds a NUL within its N bytes and only NULs after it.
template <std::size_t N>
bool name_ok(const char (&name)[N], bool allow_empty = false) {
  const char* end = static_cast<const char*>(std::memchr(name, 0, N));
  if (end == nullptr || (end == name && !allow_empty)) {
    return false;
  }
  return std::all_of(end, name + N, [](char c) { return c == 0; });
}

template <std::size_t N>
std::string name_of(const char (&name)[N]) {
  return std::string(name, strnlen(name, N));
}

template <typename T>
void append(std::vector<std::byte>& out, const T& value) {
  const auto* bytes = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

template <typename T>
T load(std::span<const std::byte> bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

}  // namespace

Sha256Digest sha256(std::span<const std::byte> data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    throw std::runtime_error("OpenSSL failed to compute a SHA-256");
  }
  return digest;
}

std::string hex_digest(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : digest) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::vector<std::byte> encode_manifest(const Manifest& manifest) {
  const auto order = dependency_order(manifest);
  if (!order) {
    throw std::invalid_argument("the manifest's dependencies form a cycle");
  }
  if (manifest.servers.empty() || manifest.servers.size() > abi::kManifestMaxServers) {
    throw std::invalid_argument("a binary manifest holds 1 to " +
                                std::to_string(abi::kManifestMaxServers) + " servers");
  }

  std::set<std::string> provided;
  for (const ServerSpec& server : manifest.servers) {
    for (const auto& s : server.provides) {
      provided.insert(s.value);
    }
  }
  std::vector<std::string> services;
  std::map<std::string, std::uint8_t> index;
  const auto add_service = [&](const std::string& name) {
    if (index.count(name) != 0) {
      return;
    }
    if (services.size() == abi::kManifestMaxServices) {
      throw std::invalid_argument("more than " + std::to_string(abi::kManifestMaxServices) +
                                  " services");
    }
    index.emplace(name, static_cast<std::uint8_t>(services.size()));
    services.push_back(name);
  };
  for (const ServerSpec& server : manifest.servers) {
    if (server.name.empty() || server.binary.empty()) {
      throw std::invalid_argument("a server has no name or no binary");
    }
    for (const auto& s : server.provides) {
      add_service(s.value);
    }
    for (const auto& s : server.required) {
      if (provided.count(s.value) == 0) {
        throw std::invalid_argument("service " + s.value + " is required but not provided");
      }
      add_service(s.value);
    }
  }

  abi::ManifestHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, abi::kManifestMagic, sizeof(header.magic));
  header.version = abi::kManifestVersion;
  header.server_count = static_cast<std::uint32_t>(manifest.servers.size());
  header.service_count = static_cast<std::uint32_t>(services.size());
  for (std::size_t i = 0; i < services.size(); ++i) {
    copy_name(header.services[i], services[i]);
  }

  std::vector<std::byte> out;
  out.reserve(sizeof(header) + manifest.servers.size() * sizeof(abi::ServerRecord));
  append(out, header);

  for (const std::size_t i : *order) {
    const ServerSpec& server = manifest.servers[i];
    const auto check_count = [&](std::size_t count, std::string_view what) {
      if (count > abi::kManifestMaxPerServer) {
        throw std::invalid_argument("server " + server.name + " has more than " +
                                    std::to_string(abi::kManifestMaxPerServer) + " " +
                                    std::string(what));
      }
      return static_cast<std::uint8_t>(count);
    };
    if (server.priority < 1 || server.priority > 254) {
      throw std::invalid_argument("server " + server.name + " has priority " +
                                  std::to_string(server.priority) + ", outside 1..254");
    }

    abi::ServerRecord record;
    std::memset(&record, 0, sizeof(record));
    copy_name(record.name, server.name);
    copy_name(record.binary, server.binary);
    record.priority = static_cast<std::uint8_t>(server.priority);
    record.restart = server.restart;
    record.start = server.start;
    record.provides_count = check_count(server.provides.size(), "services provided");
    record.required_count = check_count(server.required.size(), "services required");
    record.port_count = check_count(server.ports.size(), "port ranges");
    record.irq_count = check_count(server.irqs.size(), "IRQ lines");
    record.mmio_count = check_count(server.mmio.size(), "MMIO ranges");
    record.restart_limit = server.restart_limit;
    record.backoff_ms = server.backoff_ms;
    record.memory = server.memory;
    for (std::size_t k = 0; k < server.provides.size(); ++k) {
      record.provides[k] = index.at(server.provides[k].value);
    }
    for (std::size_t k = 0; k < server.required.size(); ++k) {
      record.required[k] = index.at(server.required[k].value);
    }
    for (std::size_t k = 0; k < server.ports.size(); ++k) {
      record.ports[k] = server.ports[k].value;
    }
    for (std::size_t k = 0; k < server.irqs.size(); ++k) {
      record.irqs[k] = server.irqs[k].value;
    }
    for (std::size_t k = 0; k < server.mmio.size(); ++k) {
      record.mmio[k] = server.mmio[k].value;
    }
    append(out, record);
  }
  return out;
}

std::optional<DecodedManifest> decode_manifest(std::span<const std::byte> bytes,
                                               std::string& error) {
  const auto fail = [&error](std::string message) -> std::optional<DecodedManifest> {
    error = std::move(message);
    return std::nullopt;
  };
  if (bytes.size() < sizeof(abi::ManifestHeader)) {
    return fail("binary manifest of " + std::to_string(bytes.size()) +
                " bytes is shorter than its header");
  }
  DecodedManifest out;
  out.header = load<abi::ManifestHeader>(bytes, 0);
  const abi::ManifestHeader& h = out.header;
  if (std::memcmp(h.magic, abi::kManifestMagic, sizeof(h.magic)) != 0) {
    return fail("bad binary manifest magic");
  }
  if (h.version != abi::kManifestVersion) {
    return fail("binary manifest version " + std::to_string(h.version) + ", expected " +
                std::to_string(abi::kManifestVersion));
  }
  if (h.server_count < 1 || h.server_count > abi::kManifestMaxServers) {
    return fail("binary manifest server count " + std::to_string(h.server_count));
  }
  if (h.service_count > abi::kManifestMaxServices) {
    return fail("binary manifest service count " + std::to_string(h.service_count));
  }
  if (h.reserved != 0) {
    return fail("binary manifest reserved field is not 0");
  }
  const std::size_t expected =
      sizeof(abi::ManifestHeader) + h.server_count * sizeof(abi::ServerRecord);
  if (bytes.size() != expected) {
    return fail("binary manifest is " + std::to_string(bytes.size()) + " bytes, expected " +
                std::to_string(expected));
  }
  for (std::uint32_t i = 0; i < abi::kManifestMaxServices; ++i) {
    // Unused slots of the service table must be all zero.
    if (!name_ok(h.services[i], i >= h.service_count)) {
      return fail("binary manifest service " + std::to_string(i) + " has a bad name");
    }
    if (i >= h.service_count && h.services[i][0] != 0) {
      return fail("binary manifest service slot " + std::to_string(i) + " is not empty");
    }
  }
  for (std::uint32_t i = 0; i < h.server_count; ++i) {
    const auto r =
        load<abi::ServerRecord>(bytes, sizeof(abi::ManifestHeader) + i * sizeof(abi::ServerRecord));
    const std::string which = "binary manifest server " + std::to_string(i);
    if (!name_ok(r.name) || !name_ok(r.binary)) {
      return fail(which + " has a bad name");
    }
    const std::uint8_t counts[] = {r.provides_count, r.required_count, r.port_count, r.irq_count,
                                   r.mmio_count};
    for (const std::uint8_t count : counts) {
      if (count > abi::kManifestMaxPerServer) {
        return fail(which + " has a list of " + std::to_string(count) + " entries");
      }
    }
    for (std::uint8_t k = 0; k < r.provides_count; ++k) {
      if (r.provides[k] >= h.service_count) {
        return fail(which + " provides service index " + std::to_string(r.provides[k]));
      }
    }
    for (std::uint8_t k = 0; k < r.required_count; ++k) {
      if (r.required[k] >= h.service_count) {
        return fail(which + " requires service index " + std::to_string(r.required[k]));
      }
    }
    out.servers.push_back(r);
  }
  return out;
}

std::vector<std::byte> build_archive(const std::vector<ArchiveFile>& files) {
  if (files.empty() || files.size() > abi::kArchiveMaxEntries) {
    throw std::invalid_argument("an archive holds 1 to " + std::to_string(abi::kArchiveMaxEntries) +
                                " files");
  }
  std::set<std::string> names;
  std::vector<abi::ArchiveEntry> entries(files.size());
  std::uint64_t offset =
      align_up(sizeof(abi::ArchiveHeader) + files.size() * sizeof(abi::ArchiveEntry));
  for (std::size_t i = 0; i < files.size(); ++i) {
    const ArchiveFile& file = files[i];
    if (file.name.empty() || !names.insert(file.name).second) {
      throw std::invalid_argument("archive file name \"" + file.name + "\" is empty or repeated");
    }
    abi::ArchiveEntry& entry = entries[i];
    std::memset(&entry, 0, sizeof(entry));
    copy_name(entry.name, file.name);
    entry.offset = offset;
    entry.size = file.data.size();
    const Sha256Digest digest = sha256(file.data);
    std::memcpy(entry.sha256, digest.data(), digest.size());
    offset = align_up(offset + file.data.size());
  }

  abi::ArchiveHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, abi::kArchiveMagic, sizeof(header.magic));
  header.version = abi::kArchiveVersion;
  header.entry_count = static_cast<std::uint32_t>(files.size());
  header.total_size = offset;

  std::vector<std::byte> out(offset);
  std::memcpy(out.data(), &header, sizeof(header));
  std::memcpy(out.data() + sizeof(header), entries.data(), entries.size() * sizeof(entries[0]));
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::copy(files[i].data.begin(), files[i].data.end(),
              out.begin() + static_cast<std::ptrdiff_t>(entries[i].offset));
  }
  return out;
}

std::vector<std::byte> build_boot_archive(const Manifest& manifest,
                                          const std::vector<LoadedBinary>& binaries) {
  std::vector<ArchiveFile> files;
  files.push_back({std::string(kManifestEntryName), encode_manifest(manifest)});
  for (const LoadedBinary& binary : binaries) {
    files.push_back({binary.name, binary.bytes});
  }
  // Every binary a server names must be in the archive, or the root task could not start it.
  for (const ServerSpec& server : manifest.servers) {
    const bool present = std::any_of(binaries.begin(), binaries.end(), [&](const LoadedBinary& b) {
      return b.name == server.binary;
    });
    if (!present) {
      throw std::invalid_argument("binary " + server.binary + " of server " + server.name +
                                  " was not loaded");
    }
  }
  return build_archive(files);
}

std::optional<ArchiveView> read_archive(std::span<const std::byte> bytes, std::string& error) {
  const auto fail = [&error](std::string message) -> std::optional<ArchiveView> {
    error = std::move(message);
    return std::nullopt;
  };
  if (bytes.size() < sizeof(abi::ArchiveHeader)) {
    return fail("archive of " + std::to_string(bytes.size()) + " bytes is shorter than its header");
  }
  ArchiveView view;
  view.header = load<abi::ArchiveHeader>(bytes, 0);
  const abi::ArchiveHeader& h = view.header;
  if (std::memcmp(h.magic, abi::kArchiveMagic, sizeof(h.magic)) != 0) {
    return fail("bad archive magic");
  }
  if (h.version != abi::kArchiveVersion) {
    return fail("archive version " + std::to_string(h.version) + ", expected " +
                std::to_string(abi::kArchiveVersion));
  }
  if (h.entry_count < 1 || h.entry_count > abi::kArchiveMaxEntries) {
    return fail("archive entry count " + std::to_string(h.entry_count));
  }
  if (h.total_size != bytes.size()) {
    return fail("archive total_size " + std::to_string(h.total_size) + " but " +
                std::to_string(bytes.size()) + " bytes were given");
  }
  const std::uint64_t table_end =
      sizeof(abi::ArchiveHeader) + std::uint64_t{h.entry_count} * sizeof(abi::ArchiveEntry);
  if (table_end > bytes.size()) {
    return fail("archive entry table runs past the end");
  }

  std::set<std::string> names;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (std::uint32_t i = 0; i < h.entry_count; ++i) {
    const auto entry =
        load<abi::ArchiveEntry>(bytes, sizeof(abi::ArchiveHeader) + i * sizeof(abi::ArchiveEntry));
    const std::string which = "archive entry " + std::to_string(i);
    if (!name_ok(entry.name)) {
      return fail(which + " has a bad name");
    }
    const std::string name = name_of(entry.name);
    if (!names.insert(name).second) {
      return fail(which + " repeats the name " + name);
    }
    if (i == 0 && name != kManifestEntryName) {
      return fail("archive entry 0 is " + name + ", expected " + std::string(kManifestEntryName));
    }
    if (entry.offset % abi::kArchiveAlign != 0) {
      return fail(which + " offset " + std::to_string(entry.offset) + " is not page aligned");
    }
    if (entry.offset < table_end || entry.offset > bytes.size() ||
        entry.size > bytes.size() - entry.offset) {
      return fail(which + " lies outside the archive's file area");
    }
    const auto file = bytes.subspan(entry.offset, entry.size);
    const Sha256Digest digest = sha256(file);
    if (std::memcmp(digest.data(), entry.sha256, digest.size()) != 0) {
      return fail(which + " (" + name + ") has the wrong SHA-256");
    }
    if (entry.size != 0) {
      ranges.emplace_back(entry.offset, entry.offset + entry.size);
    }
    view.entries.push_back(entry);
    view.files.push_back(file);
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      return fail("two archive entries share bytes at offset " + std::to_string(ranges[i].first));
    }
  }
  return view;
}

}  // namespace keel::tool
