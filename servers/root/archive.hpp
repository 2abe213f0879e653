// SPDX-License-Identifier: MIT
//
// The root task's reading of the boot archive (abi/boot_archive.hpp) and the binary manifest in
// it (abi/manifest.hpp). keel-image checked both on the host, but the root task trusts nothing
// it did not check itself: every offset, size, count, name, index and reference is validated
// here before anything is used, and every file's SHA-256 is compared with the recorded one.
// The outcome is a plan: the servers in an order where each starts after the servers whose
// services it requires.
//
// Freestanding and free of system calls, so the host unit tests run it as it is.
#pragma once

#include <abi/boot_archive.hpp>
#include <abi/manifest.hpp>

#include <stddef.h>
#include <stdint.h>

namespace root {

// The first error found, as a sentence naming what is wrong.
struct Diagnostic {
  char text[160] = {};

  void set(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  bool failed() const { return text[0] != '\0'; }
};

struct File {
  const char* name;
  const uint8_t* data;
  uint64_t size;
  uint32_t entry;  // Index in the archive.
};

struct Plan {
  const abi::ManifestHeader* manifest;
  const abi::ServerRecord* servers;  // manifest->server_count records, manifest order.
  uint32_t server_count;
  uint32_t order[abi::kManifestMaxServers];  // Start order: indices into servers.
  // provider[s]: the server providing service s.
  uint32_t provider[abi::kManifestMaxServices];
  // Each server's binary, found in the archive.
  File binaries[abi::kManifestMaxServers];
};

// Checks the archive layout and the manifest's digest. `data` is the whole archive as loaded
// (`size` bytes, which may exceed the archive's own total_size by the last page's slack).
bool check_archive(const uint8_t* data, uint64_t size, Diagnostic& diag);

// Checks one file's digest (of a checked archive); a corrupt file is refused by name.
bool check_digest(const uint8_t* archive, uint32_t entry, Diagnostic& diag);

// The file named `name`, or a File with null data.
File find_file(const uint8_t* archive, const char* name);

// Checks the manifest (entry 0 of a checked archive) and fills the plan. Errors name the server
// and the field.
bool make_plan(const uint8_t* archive, Plan& plan, Diagnostic& diag);

}  // namespace root
