// SPDX-License-Identifier: MIT
//
// The manifest on the host: a TOML file (boot/manifests/*.toml) that says which servers make up
// a system, parsed with toml++ into the model below and checked before keel-image writes a boot
// archive. Every check runs even after an earlier one failed, so that one run of the tool shows
// every mistake in a file, each with the file, line, column and dotted key it is about.
//
// Schema (anything else is an unknown key):
//
//   min_memory = "128M"            # optional; bytes or a "K"/"M"/"G" string; default "128M"
//   [[server]]                     # 1..32 of these
//   name = "console"               # required; [a-z0-9-]{1,31}; unique
//   binary = "console.elf"         # required; a file name of at most 31 characters
//   priority = 100                 # required; 1..254
//   memory = "256K"                # required; bytes or a "K"/"M"/"G" string; page multiple, > 0
//   provides = ["console"]         # optional service names, at most 8
//   requires = ["log"]             # optional service names, at most 8
//   start = "boot"                 # optional; "boot" or the reserved "on-first-use"
//   restart = { policy = "on-crash", limit = 3, backoff_ms = 100 }   # optional
//   hardware = { ioports = [[0x3f8, 0x3ff]], irqs = [4], mmio = [[0xfe000000, 0x1000]] }
#pragma once

#include <abi/manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::tool {

// One problem in a manifest. `key` is a dotted path such as "server[2].restart.limit" (array
// indices count from 0); problems about the file as a whole use the key "manifest" at 1:1.
struct Diagnostic {
  std::string file;
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  std::string key;
  std::string message;
};

// "FILE:LINE:COLUMN: KEY: message", without a trailing newline.
std::string format_diagnostic(const Diagnostic& d);

// Orders by line and column, keeping the order of problems at the same place, so that a report
// reads from the top of the file down like a compiler's.
void sort_diagnostics(std::vector<Diagnostic>& diagnostics);

struct SourcePos {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

// A value together with where it was written, for checks that look at several servers at once
// and must still point at one line.
template <typename T>
struct Located {
  T value{};
  SourcePos pos;
};

struct ServerSpec {
  std::string name;
  std::string binary;
  std::uint32_t priority = 0;
  std::uint64_t memory = 0;
  std::vector<Located<std::string>> provides;
  std::vector<Located<std::string>> required;  // The TOML key is `requires`, a C++20 keyword.
  abi::RestartPolicy restart = abi::RestartPolicy::kNever;
  std::uint32_t restart_limit = 0;
  std::uint32_t backoff_ms = 0;
  abi::StartMode start = abi::StartMode::kBoot;
  std::vector<Located<abi::PortRange>> ports;
  std::vector<Located<std::uint8_t>> irqs;
  std::vector<Located<abi::MmioRange>> mmio;

  SourcePos pos;         // The [[server]] table.
  SourcePos name_pos;    // The `name` value (or the table when it is missing).
  SourcePos binary_pos;  // The `binary` value (or the table when it is missing).
};

inline constexpr std::uint64_t kDefaultMinMemory = 128ull << 20;

struct Manifest {
  std::string file;  // As given; used in diagnostics.
  std::uint64_t min_memory = kDefaultMinMemory;
  std::vector<ServerSpec> servers;
};

struct ManifestResult {
  Manifest manifest;
  std::vector<Diagnostic> errors;  // Sorted; empty when the manifest is good.
};

// Parses TOML text and checks everything that does not need the binaries. `file` names the text
// in diagnostics. A TOML syntax error yields that one error and an empty model; otherwise the
// model holds every value that could be read, so callers can still look at what was there.
ManifestResult parse_manifest(std::string_view text, const std::string& file);

// Same, reading the text from `path`.
ManifestResult load_manifest(const std::string& path);

// The cross-server checks that parse_manifest() runs after the per-field ones: services
// provided and required, dependency cycles, overlapping hardware grants, the memory total.
// Exposed so that tests and tools can run them on a model built in code.
std::vector<Diagnostic> check_manifest(const Manifest& manifest);

// Server indices in an order where each server comes after the providers of every service it
// requires; among servers whose providers have all been placed, the earliest in the manifest
// goes first, so independent servers keep manifest order. Requirements that nobody provides,
// and a server's requirements on itself, do not constrain the order. Empty when the
// dependencies form a cycle.
std::optional<std::vector<std::size_t>> dependency_order(const Manifest& manifest);

// Where to find binaries: an explicit path per binary name, else `directory`/name.
struct BinarySources {
  std::map<std::string, std::string> paths;
  std::string directory;  // Empty: no directory.
};

struct LoadedBinary {
  std::string name;  // As in the manifest; the archive entry name.
  std::string path;
  std::vector<std::byte> bytes;
};

// Finds, reads and checks (keel::tool::check_user_elf_image) every distinct binary the manifest
// names, in order of first use. Problems are appended to `errors` at the `binary` key of the
// first server naming the binary. The bytes returned are the bytes that were checked, so the
// archive gets exactly what passed, even if a file changes on disk afterwards.
std::vector<LoadedBinary> load_binaries(const Manifest& manifest, const BinarySources& sources,
                                        std::vector<Diagnostic>& errors);

// Parses a size: a non-negative decimal number with an optional "K", "M" or "G" suffix (powers
// of 1024). Returns nothing for anything else or on overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace keel::tool
