// SPDX-License-Identifier: MIT
//
// What the root task gives every server it starts (servers/root): the layout of the server's
// CSpace and address space, and the server-info page that describes both. libsys reads the
// page at start-up (sys/server.hpp); servers reach their grants through it, by name.
//
// The CSpace is a single CNode of 2^kServerCNodeRadix slots whose guard makes slot numbers
// cptrs (depth 64), like the root task's. Fixed slots come first; the root task puts the rest
// (required services, hardware, untyped budget) from kServerFirstGrantSlot on and leaves the
// range info.free_slots empty for the server's own use.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <abi/boot_info.hpp>
#include <abi/manifest.hpp>

namespace abi {

enum ServerSlot : uint64_t {
  kServerSlotNull = 0,
  kServerSlotCNode = 1,       // This CSpace.
  kServerSlotTcb = 2,         // The server's main thread.
  kServerSlotVSpace = 3,      // Its PML4.
  kServerSlotEndpoint = 4,    // Its own endpoint: clients' calls and its interrupts arrive here.
  kServerSlotSupervisor = 5,  // The root task's endpoint, badged for this server (protocols/
                              // supervisor.hpp).
  kServerSlotInfoFrame = 6,   // The frame of the server-info page.
  kServerSlotIpcBuffer = 7,   // The frame of the main thread's IPC buffer.
  kServerFirstGrantSlot = 16,
};

inline constexpr uint64_t kServerCNodeRadix = 10;  // 1024 slots.

// Where the root task puts things in a server's address space. The ELF image lies below 4 GiB
// (from 0x400000, see libsys's user.ld); everything else the server maps goes in
// [kServerHeapBase, kServerHeapEnd).
inline constexpr uint64_t kServerInfoVaddr = 0x00007F0000000000;  // Read-only, one page.
inline constexpr uint64_t kServerIpcBufferVaddr = 0x00007F0000010000;
inline constexpr uint64_t kServerStackTop = 0x00007F0000200000;
inline constexpr uint64_t kServerStackSize = 64 * 1024;  // Unmapped guard page below.
inline constexpr uint64_t kServerMmioBase = 0x0000600000000000;   // Device mappings.
inline constexpr uint64_t kServerHeapBase = 0x0000100000000000;
inline constexpr uint64_t kServerHeapEnd = 0x0000500000000000;

struct ServiceGrant {
  char name[kManifestMaxName];  // The service's name in the manifest.
  uint64_t cptr;                // An endpoint capability badged for this client (write and
                                // grant-reply rights; grant too, so capabilities can travel).
};

struct PortGrant {
  uint16_t first;
  uint16_t last;  // Inclusive.
  uint32_t padding;
  uint64_t cptr;  // An I/O port capability for [first, last], not yet bound to any thread.
};

struct IrqGrant {
  uint32_t line;
  uint32_t padding;
  uint64_t cptr;  // An IRQ handler capability, not yet bound to an endpoint.
};

struct MmioGrant {
  uint64_t paddr;
  uint64_t size;
  uint64_t vaddr;  // Where the root task mapped it (read-write, uncached), in this space.
};

struct UntypedGrant {
  uint64_t cptr;
  uint64_t size_bits;
};

struct ServerInfo {
  static constexpr uint64_t kMagic = 0x4f464e4956524553ull;  // "SERVINFO"
  static constexpr uint64_t kVersion = 1;
  static constexpr size_t kMaxUntyped = 40;

  uint64_t magic;
  uint64_t version;
  char name[kManifestMaxName];  // This server's name in the manifest.
  uint64_t index;               // Its position in the manifest (the badge the root task
                                // knows it by).
  uint64_t restarts;            // How many times it was restarted before this start.
  uint64_t cnode_radix;
  SlotRange free_slots;         // Empty slots for the server's own use.

  uint64_t provides_count;
  char provides[kManifestMaxPerServer][kManifestMaxName];  // Served on kServerSlotEndpoint.

  uint64_t service_count;
  ServiceGrant services[kManifestMaxPerServer];  // The services it requires.

  uint64_t port_count;
  PortGrant ports[kManifestMaxPerServer];
  uint64_t irq_count;
  IrqGrant irqs[kManifestMaxPerServer];
  uint64_t mmio_count;
  MmioGrant mmio[kManifestMaxPerServer];

  uint64_t memory_budget;  // Bytes: the sum of the untyped below.
  uint64_t untyped_count;
  UntypedGrant untyped[kMaxUntyped];
};
static_assert(sizeof(ServerInfo) <= 4096);

}  // namespace abi
