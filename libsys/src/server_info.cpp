// SPDX-License-Identifier: MIT
//
// Checks on the server-info page and lookups in it. No system calls here (host tests run it);
// server.cpp is the runtime that uses them.
#include <kstd/string.hpp>

#include <sys/server.hpp>

#include <kstd/enforce.hpp>

namespace sys {
namespace {

bool terminated(const char (&name)[abi::kManifestMaxName]) {
  return kstd::strnlen(name, abi::kManifestMaxName) < abi::kManifestMaxName;
}

}  // namespace

const char* server_info_problem(const abi::ServerInfo& info) {
  if (info.magic != abi::ServerInfo::kMagic) {
    return "bad magic: this is not a server-info page";
  }
  if (info.version != abi::ServerInfo::kVersion) {
    return "unsupported version";
  }
  if (!terminated(info.name)) {
    return "the server's name is not terminated";
  }
  if (info.provides_count > abi::kManifestMaxPerServer ||
      info.service_count > abi::kManifestMaxPerServer ||
      info.port_count > abi::kManifestMaxPerServer ||
      info.irq_count > abi::kManifestMaxPerServer ||
      info.mmio_count > abi::kManifestMaxPerServer ||
      info.untyped_count > abi::ServerInfo::kMaxUntyped) {
    return "a grant count is out of range";
  }
  for (uint64_t i = 0; i < info.service_count; ++i) {
    if (!terminated(info.services[i].name)) {
      return "a service name is not terminated";
    }
  }
  if (info.cnode_radix == 0 || info.cnode_radix >= 64) {
    return "the CNode radix is out of range";
  }
  uint64_t slots = uint64_t{1} << info.cnode_radix;
  if (info.free_slots.start < abi::kServerFirstGrantSlot ||
      info.free_slots.start > info.free_slots.end || info.free_slots.end > slots) {
    return "the free slot range is outside the CNode";
  }
  return nullptr;
}

abi::Result<uint64_t> find_service(const abi::ServerInfo& info, const char* name) {
  for (uint64_t i = 0; i < info.service_count && i < abi::kManifestMaxPerServer; ++i) {
    const abi::ServiceGrant& g = info.services[i];
    if (kstd::str_equal(g.name, kstd::strnlen(g.name, abi::kManifestMaxName), name)) {
      return g.cptr;
    }
  }
  return abi::err(abi::Status::kNotFound);
}

}  // namespace sys
