// SPDX-License-Identifier: MIT
//
// A server as the root task keeps it: what the manifest says, what survives restarts (its
// endpoint, its hardware capabilities, the untyped "container" all its other objects come from)
// and what each start makes (CSpace, address space, thread).
//
// Restarting is revoking the container: that destroys every object of the old instance in one
// step (its thread, CNode with every capability in it, address space, memory budget and all the
// server made from it), while the endpoint its clients hold badged copies of lives on in the
// root task's own memory. Clients therefore keep their capabilities across a restart; a client
// whose call the crash interrupted gets kDeleted back and simply calls again.
#pragma once

#include <abi/manifest.hpp>
#include <abi/result.hpp>

#include <stdint.h>

#include <sys/alloc.hpp>
#include <sys/vspace.hpp>

#include "archive.hpp"

namespace root {

enum class ServerState : uint8_t {
  kNotStarted,
  kRunning,
  kRestartPending,  // Crashed; waits for its back-off to pass.
  kDown,            // Stopped for good: its endpoint is gone, its clients get errors.
};

struct Server {
  uint32_t index;  // In the manifest; also the badge of its supervisor capability.
  const abi::ServerRecord* record;
  File binary;
  ServerState state;
  uint32_t restarts;
  uint64_t restart_due;  // Timer tick at which a pending restart happens.

  // Made once, kept across restarts (cptrs in the root CNode).
  uint64_t endpoint;
  uint64_t ports[abi::kManifestMaxPerServer];
  uint64_t irqs[abi::kManifestMaxPerServer];
  uint64_t mmio_cnode;  // A CNode holding the device frames, all ranges in order (0: none).
  uint64_t mmio_cnode_radix;
  uint64_t mmio_frames_count;
  uint64_t container;
  uint64_t container_bits;

  // Made by each start (cptrs in the root CNode; all derived from the container).
  uint64_t cnode;  // Guarded so that slot numbers are cptrs.
  uint64_t tcb;
  uint64_t pml4;
};

// What the root task itself works with.
struct Context {
  const abi::BootInfo* boot;
  sys::SlotAllocator slots;
  sys::ObjectAllocator objects;  // The root task's own memory.
  sys::VSpace vspace;            // The root task's address space.
  uint64_t supervisor_ep;        // Servers' faults and exits arrive here.
  Plan plan;
  Server servers[abi::kManifestMaxServers];
};

// Makes what a server keeps across restarts: its endpoint, hardware capabilities and
// container. Errors are logged with the server's name.
abi::Result<void> prepare_server(Context& ctx, Server& s);

// Builds a fresh instance of the server and starts its thread.
abi::Result<void> start_server(Context& ctx, Server& s);

// Destroys the running instance (everything made from its container).
void stop_server(Context& ctx, Server& s);

// Takes the server down for good: stops it and deletes its endpoint, so that its clients'
// capabilities go away and any client waiting on it is woken with an error.
void retire_server(Context& ctx, Server& s);

}  // namespace root
