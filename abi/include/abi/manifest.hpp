// SPDX-License-Identifier: MIT
//
// The binary manifest: the compact form of a boot/manifests/*.toml file that keel-image writes
// into the boot archive (entry 0) and the root task reads. The root task trusts none of it until
// it has checked every field (abi::check_manifest_layout's rules are only the start: it also
// checks names, references and limits against the archive itself).
//
// Fixed-size records keep the reader trivial: a header, then `server_count` ServerRecords.
// Services are named by index into the header's service table.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace abi {

inline constexpr char kManifestMagic[8] = {'K', 'E', 'E', 'L', 'M', 'A', 'N', '1'};
inline constexpr uint32_t kManifestVersion = 1;
inline constexpr uint32_t kManifestMaxServers = 32;
inline constexpr uint32_t kManifestMaxServices = 64;
inline constexpr uint32_t kManifestMaxPerServer = 8;  // Services provided, services required,
                                                      // port ranges, IRQ lines, MMIO ranges.
inline constexpr size_t kManifestMaxName = 32;        // Including the terminating NUL.

enum class RestartPolicy : uint8_t {
  kNever = 0,    // A crashed server stays down; its clients get errors.
  kOnCrash = 1,  // Restarted after a fault, up to `limit` times, waiting `backoff_ms` first.
  kAlways = 2,   // Restarted whenever it stops, fault or not, up to `limit` times.
};

enum class StartMode : uint8_t {
  kBoot = 0,         // Started at boot in dependency order.
  kOnFirstUse = 1,   // Reserved: started when a client first asks for one of its services.
};

struct PortRange {
  uint16_t first;
  uint16_t last;  // Inclusive.
};

struct MmioRange {
  uint64_t base;  // Page aligned.
  uint64_t size;  // Page aligned, non-zero.
};

struct ServerRecord {
  char name[kManifestMaxName];    // NUL-terminated, unique.
  char binary[kManifestMaxName];  // An archive entry name.
  uint8_t priority;               // 1..254 (255 is the root task's).
  RestartPolicy restart;
  StartMode start;
  uint8_t provides_count;
  uint8_t required_count;
  uint8_t port_count;
  uint8_t irq_count;
  uint8_t mmio_count;
  uint32_t restart_limit;         // Restarts allowed (0 with kNever).
  uint32_t backoff_ms;            // Wait before a restart.
  uint64_t memory;                // Memory budget in bytes, a multiple of 4096.
  uint8_t provides[kManifestMaxPerServer];  // Service indices.
  uint8_t required[kManifestMaxPerServer];
  PortRange ports[kManifestMaxPerServer];
  uint8_t irqs[kManifestMaxPerServer];
  MmioRange mmio[kManifestMaxPerServer];
};

struct ManifestHeader {
  char magic[8];                  // kManifestMagic.
  uint32_t version;               // kManifestVersion.
  uint32_t server_count;          // 1..kManifestMaxServers.
  uint32_t service_count;         // 0..kManifestMaxServices.
  uint32_t reserved;              // 0.
  char services[kManifestMaxServices][kManifestMaxName];  // Service names, unique.
};

static_assert(sizeof(PortRange) == 4);
static_assert(sizeof(MmioRange) == 16);
static_assert(offsetof(ServerRecord, memory) == 80);
static_assert(sizeof(ServerRecord) == 272);
static_assert(sizeof(ManifestHeader) == 24 + kManifestMaxServices * kManifestMaxName);

}  // namespace abi
