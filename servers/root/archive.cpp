// SPDX-License-Identifier: MIT
#include "archive.hpp"

#include <stdarg.h>

#include <sys/sha256.hpp>

#include "lib/format.hpp"
#include "root.hpp"

#include <kstd/enforce.hpp>

namespace root {
namespace {

using abi::ArchiveEntry;
using abi::ArchiveHeader;
using abi::ManifestHeader;
using abi::ServerRecord;

// Whether `s` (capacity `cap`) holds a NUL-terminated, non-empty string.
bool terminated(const char* s, size_t cap) {
  if (s[0] == '\0') {
    return false;
  }
  for (size_t i = 0; i < cap; ++i) {
    if (s[i] == '\0') {
      return true;
    }
  }
  return false;
}

bool same(const char* a, const char* b) {
  for (; *a != '\0' && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

bool same_bytes(const uint8_t* a, const uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

const ArchiveEntry* entries(const uint8_t* archive) {
  return reinterpret_cast<const ArchiveEntry*>(archive + sizeof(ArchiveHeader));
}

const ArchiveHeader* header(const uint8_t* archive) {
  return reinterpret_cast<const ArchiveHeader*>(archive);
}

// Whether entry `e` starts on a page boundary past the header and entry table (which end at
// `table_end`) and ends inside the archive's `total` bytes, without letting a sum wrap.
bool check_place(const ArchiveEntry& e, uint64_t table_end, uint64_t total, Diagnostic& diag) {
  if (e.offset % abi::kArchiveAlign != 0) {
    diag.set("boot archive: entry '%s' at offset %llu is not page aligned", e.name,
             (unsigned long long)e.offset);
    return false;
  }
  if (e.offset < table_end) {
    diag.set("boot archive: entry '%s' at offset %llu overlaps the header and entry table", e.name,
             (unsigned long long)e.offset);
    return false;
  }
  if (e.offset > total || e.size > total - e.offset) {
    diag.set("boot archive: entry '%s' (offset %llu, %llu bytes) lies outside the archive", e.name,
             (unsigned long long)e.offset, (unsigned long long)e.size);
    return false;
  }
  return true;
}

}  // namespace

void Diagnostic::set(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kernel::vformat(text, sizeof text, fmt, ap);
  va_end(ap);
}

bool check_archive(const uint8_t* data, uint64_t size, Diagnostic& diag) {
  if (size < sizeof(ArchiveHeader)) {
    diag.set("boot archive: %llu bytes, too small for its header", (unsigned long long)size);
    return false;
  }
  const ArchiveHeader* h = header(data);
  if (!same_bytes(reinterpret_cast<const uint8_t*>(h->magic),
                  reinterpret_cast<const uint8_t*>(abi::kArchiveMagic), sizeof h->magic)) {
    diag.set("boot archive: bad magic (not a keel-image archive)");
    return false;
  }
  if (h->version != abi::kArchiveVersion) {
    diag.set("boot archive: version %u, expected %u", h->version, abi::kArchiveVersion);
    return false;
  }
  if (h->entry_count == 0 || h->entry_count > abi::kArchiveMaxEntries) {
    diag.set("boot archive: %u entries, expected 1..%u", h->entry_count, abi::kArchiveMaxEntries);
    return false;
  }
  uint64_t table_end = sizeof(ArchiveHeader) + uint64_t{h->entry_count} * sizeof(ArchiveEntry);
  if (h->total_size > size) {
    diag.set("boot archive: total size %llu does not fit the %llu bytes loaded",
             (unsigned long long)h->total_size, (unsigned long long)size);
    return false;
  }
  if (h->total_size < table_end) {
    diag.set(
        "boot archive: total size %llu is smaller than its header and entry table "
        "(%llu bytes)",
        (unsigned long long)h->total_size, (unsigned long long)table_end);
    return false;
  }
  const ArchiveEntry* e = entries(data);
  for (uint32_t i = 0; i < h->entry_count; ++i) {
    if (!terminated(e[i].name, ArchiveEntry::kMaxName)) {
      diag.set("boot archive: entry %u has no valid name", i);
      return false;
    }
    if (i == 0 && !same(e[0].name, abi::kManifestEntryName)) {
      diag.set("boot archive: entry 0 is '%s', expected '%s'", e[0].name, abi::kManifestEntryName);
      return false;
    }
    if (!check_place(e[i], table_end, h->total_size, diag)) {
      return false;
    }
    for (uint32_t j = 0; j < i; ++j) {
      if (same(e[i].name, e[j].name)) {
        diag.set("boot archive: two entries are named '%s'", e[i].name);
        return false;
      }
      bool apart = e[i].offset + e[i].size <= e[j].offset || e[j].offset + e[j].size <= e[i].offset;
      if (!apart && e[i].size != 0 && e[j].size != 0) {
        diag.set("boot archive: entries '%s' and '%s' overlap", e[j].name, e[i].name);
        return false;
      }
    }
  }
  return check_digest(data, 0, diag);
}

bool check_digest(const uint8_t* archive, uint32_t entry, Diagnostic& diag) {
  const ArchiveEntry& e = entries(archive)[entry];
  uint8_t digest[sys::kSha256Size];
  sys::sha256(archive + e.offset, e.size, digest);
  if (!same_bytes(digest, e.sha256, sizeof digest)) {
    diag.set("boot archive: '%s' fails its SHA-256 check (the file is corrupt)", e.name);
    return false;
  }
  return true;
}

File find_file(const uint8_t* archive, const char* name) {
  const ArchiveEntry* e = entries(archive);
  for (uint32_t i = 0; i < header(archive)->entry_count; ++i) {
    if (same(e[i].name, name)) {
      return {e[i].name, archive + e[i].offset, e[i].size, i};
    }
  }
  return {name, nullptr, 0, 0};
}

namespace {

bool check_server(const Plan& plan, uint32_t index, Diagnostic& diag) {
  const ServerRecord& s = plan.servers[index];
  const ManifestHeader& m = *plan.manifest;
  if (!terminated(s.name, abi::kManifestMaxName)) {
    diag.set("manifest: server %u has no valid name", index);
    return false;
  }
  for (uint32_t j = 0; j < index; ++j) {
    if (same(s.name, plan.servers[j].name)) {
      diag.set("manifest: two servers are named '%s'", s.name);
      return false;
    }
  }
  if (!terminated(s.binary, abi::kManifestMaxName)) {
    diag.set("manifest: server '%s' has no valid binary name", s.name);
    return false;
  }
  if (s.priority < 1 || s.priority > 254) {
    diag.set("manifest: server '%s': priority %u, expected 1..254", s.name, s.priority);
    return false;
  }
  if (s.restart > abi::RestartPolicy::kAlways) {
    diag.set("manifest: server '%s': unknown restart policy %u", s.name,
             static_cast<unsigned>(s.restart));
    return false;
  }
  if (s.restart == abi::RestartPolicy::kNever && s.restart_limit != 0) {
    diag.set("manifest: server '%s': restart limit %u with policy never", s.name, s.restart_limit);
    return false;
  }
  if (s.start > abi::StartMode::kOnFirstUse) {
    diag.set("manifest: server '%s': unknown start mode %u", s.name,
             static_cast<unsigned>(s.start));
    return false;
  }
  if (s.memory == 0 || s.memory % 4096 != 0) {
    diag.set("manifest: server '%s': memory budget %llu is not a non-zero multiple of 4096",
             s.name, (unsigned long long)s.memory);
    return false;
  }
  if (s.provides_count > abi::kManifestMaxPerServer ||
      s.required_count > abi::kManifestMaxPerServer ||
      s.port_count > abi::kManifestMaxPerServer || s.irq_count > abi::kManifestMaxPerServer ||
      s.mmio_count > abi::kManifestMaxPerServer) {
    diag.set("manifest: server '%s': more than %u entries in a list", s.name,
             abi::kManifestMaxPerServer);
    return false;
  }
  for (uint32_t i = 0; i < s.provides_count + s.required_count; ++i) {
    uint8_t service = i < s.provides_count ? s.provides[i] : s.required[i - s.provides_count];
    if (service >= m.service_count) {
      diag.set("manifest: server '%s': service index %u out of range", s.name, service);
      return false;
    }
  }
  for (uint32_t i = 0; i < s.required_count; ++i) {
    for (uint32_t j = 0; j < i; ++j) {
      if (s.required[i] == s.required[j]) {
        diag.set("manifest: server '%s' lists service '%s' twice in requires", s.name,
                 m.services[s.required[i]]);
        return false;
      }
    }
  }
  for (uint32_t i = 0; i < s.port_count; ++i) {
    if (s.ports[i].first > s.ports[i].last) {
      diag.set("manifest: server '%s': I/O port range %#x..%#x is backwards", s.name,
               s.ports[i].first, s.ports[i].last);
      return false;
    }
  }
  for (uint32_t i = 0; i < s.port_count; ++i) {
    if (s.ports[i].first <= kRtcLastPort && kRtcFirstPort <= s.ports[i].last) {
      diag.set("manifest: server '%s': I/O ports %#x..%#x include the real-time clock's, which "
               "the root task keeps", s.name, s.ports[i].first, s.ports[i].last);
      return false;
    }
  }
  for (uint32_t i = 0; i < s.irq_count; ++i) {
    if (s.irqs[i] >= 24) {
      diag.set("manifest: server '%s': IRQ line %u, expected 0..23", s.name, s.irqs[i]);
      return false;
    }
    if (s.irqs[i] == kRtcIrq) {
      diag.set("manifest: server '%s': IRQ %u is the real-time clock's, which the root task "
               "keeps", s.name, s.irqs[i]);
      return false;
    }
  }
  for (uint32_t i = 0; i < s.mmio_count; ++i) {
    const abi::MmioRange& r = s.mmio[i];
    const char* fault = nullptr;
    if (r.base % 4096 != 0 || r.size % 4096 != 0) {
      fault = "is not page aligned";
    } else if (r.size == 0) {
      fault = "is empty";
    } else if (r.base + r.size < r.base) {
      fault = "reaches the end of the address space";  // check_exclusive adds base and size.
    }
    if (fault != nullptr) {
      diag.set("manifest: server '%s': MMIO range %#llx+%#llx %s", s.name,
               (unsigned long long)r.base, (unsigned long long)r.size, fault);
      return false;
    }
  }
  return true;
}

// When every server not yet placed waits for one not yet placed (itself included), one of them
// that is in a dependency cycle, rather than one that only waits behind a cycle: following
// unplaced providers from any of them never ends, so after server_count steps the walk is on a
// cycle. Of that cycle, the server earliest in the manifest.
uint32_t in_cycle(const Plan& plan, const bool* placed) {
  auto next = [&](uint32_t i) {
    const ServerRecord& s = plan.servers[i];
    for (uint32_t r = 0; r < s.required_count; ++r) {
      if (!placed[plan.provider[s.required[r]]]) {
        return plan.provider[s.required[r]];
      }
    }
    return i;  // Not reached: every unplaced server has an unplaced provider.
  };
  uint32_t at = 0;
  while (placed[at]) {
    ++at;
  }
  for (uint32_t step = 0; step < plan.server_count; ++step) {
    at = next(at);
  }
  uint32_t lowest = at;
  for (uint32_t i = next(at); i != at; i = next(i)) {
    lowest = i < lowest ? i : lowest;
  }
  return lowest;
}

// Orders the servers so that every provider comes before the servers requiring its services
// (Kahn's algorithm, taking the lowest manifest index first so the order is stable).
bool order_servers(Plan& plan, Diagnostic& diag) {
  uint32_t n = plan.server_count;
  bool placed[abi::kManifestMaxServers] = {};
  for (uint32_t pos = 0; pos < n; ++pos) {
    uint32_t pick = n;
    for (uint32_t i = 0; i < n && pick == n; ++i) {
      if (placed[i]) {
        continue;
      }
      bool ready = true;
      const ServerRecord& s = plan.servers[i];
      for (uint32_t r = 0; r < s.required_count && ready; ++r) {
        uint32_t p = plan.provider[s.required[r]];
        ready = p == i ? false : placed[p];
      }
      if (ready) {
        pick = i;
      }
    }
    if (pick == n) {
      diag.set("manifest: the services required by '%s' depend on it (a dependency cycle)",
               plan.servers[in_cycle(plan, placed)].name);
      return false;
    }
    placed[pick] = true;
    plan.order[pos] = pick;
  }
  return true;
}

// No two servers may be granted the same port, IRQ line or device memory.
bool check_exclusive(const Plan& plan, Diagnostic& diag) {
  for (uint32_t a = 0; a < plan.server_count; ++a) {
    for (uint32_t b = a + 1; b < plan.server_count; ++b) {
      const ServerRecord& x = plan.servers[a];
      const ServerRecord& y = plan.servers[b];
      for (uint32_t i = 0; i < x.port_count; ++i) {
        for (uint32_t j = 0; j < y.port_count; ++j) {
          if (x.ports[i].first <= y.ports[j].last && y.ports[j].first <= x.ports[i].last) {
            diag.set("manifest: servers '%s' and '%s' are both granted I/O ports %#x..%#x",
                     x.name, y.name, x.ports[i].first, x.ports[i].last);
            return false;
          }
        }
      }
      for (uint32_t i = 0; i < x.irq_count; ++i) {
        for (uint32_t j = 0; j < y.irq_count; ++j) {
          if (x.irqs[i] == y.irqs[j]) {
            diag.set("manifest: servers '%s' and '%s' are both granted IRQ %u", x.name, y.name,
                     x.irqs[i]);
            return false;
          }
        }
      }
      for (uint32_t i = 0; i < x.mmio_count; ++i) {
        for (uint32_t j = 0; j < y.mmio_count; ++j) {
          const abi::MmioRange& r = x.mmio[i];
          const abi::MmioRange& q = y.mmio[j];
          if (r.base < q.base + q.size && q.base < r.base + r.size) {
            diag.set("manifest: servers '%s' and '%s' are both granted MMIO at %#llx", x.name,
                     y.name, (unsigned long long)(r.base > q.base ? r.base : q.base));
            return false;
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

bool make_plan(const uint8_t* archive, Plan& plan, Diagnostic& diag) {
  const ArchiveEntry& e = entries(archive)[0];
  const uint8_t* bytes = archive + e.offset;
  if (e.size < sizeof(ManifestHeader)) {
    diag.set("manifest: %llu bytes, too small for its header", (unsigned long long)e.size);
    return false;
  }
  const auto* m = reinterpret_cast<const ManifestHeader*>(bytes);
  if (!same_bytes(reinterpret_cast<const uint8_t*>(m->magic),
                  reinterpret_cast<const uint8_t*>(abi::kManifestMagic), sizeof m->magic)) {
    diag.set("manifest: bad magic");
    return false;
  }
  if (m->version != abi::kManifestVersion) {
    diag.set("manifest: version %u, expected %u", m->version, abi::kManifestVersion);
    return false;
  }
  if (m->reserved != 0) {
    diag.set("manifest: reserved header field is %u, expected 0", m->reserved);
    return false;
  }
  if (m->server_count == 0 || m->server_count > abi::kManifestMaxServers ||
      m->service_count > abi::kManifestMaxServices) {
    diag.set("manifest: %u servers and %u services, expected 1..%u and 0..%u", m->server_count,
             m->service_count, abi::kManifestMaxServers, abi::kManifestMaxServices);
    return false;
  }
  if (e.size != sizeof(ManifestHeader) + uint64_t{m->server_count} * sizeof(ServerRecord)) {
    diag.set("manifest: %llu bytes, expected %llu for %u servers", (unsigned long long)e.size,
             (unsigned long long)(sizeof(ManifestHeader) + m->server_count * sizeof(ServerRecord)),
             m->server_count);
    return false;
  }
  plan.manifest = m;
  plan.servers = reinterpret_cast<const ServerRecord*>(bytes + sizeof(ManifestHeader));
  plan.server_count = m->server_count;
  for (uint32_t s = 0; s < m->service_count; ++s) {
    if (!terminated(m->services[s], abi::kManifestMaxName)) {
      diag.set("manifest: service %u has no valid name", s);
      return false;
    }
    for (uint32_t t = 0; t < s; ++t) {
      if (same(m->services[s], m->services[t])) {
        diag.set("manifest: service '%s' is listed twice", m->services[s]);
        return false;
      }
    }
    plan.provider[s] = abi::kManifestMaxServers;
  }
  for (uint32_t i = 0; i < plan.server_count; ++i) {
    if (!check_server(plan, i, diag)) {
      return false;
    }
    const ServerRecord& s = plan.servers[i];
    for (uint32_t p = 0; p < s.provides_count; ++p) {
      uint32_t& owner = plan.provider[s.provides[p]];
      if (owner == i) {
        diag.set("manifest: server '%s' lists service '%s' twice in provides", s.name,
                 m->services[s.provides[p]]);
        return false;
      }
      if (owner != abi::kManifestMaxServers) {
        diag.set("manifest: service '%s' is provided by both '%s' and '%s'",
                 m->services[s.provides[p]], plan.servers[owner].name, s.name);
        return false;
      }
      owner = i;
    }
    if (same(s.binary, abi::kManifestEntryName)) {
      diag.set("manifest: server '%s': binary '%s' is the manifest, not a program", s.name,
               s.binary);
      return false;
    }
    plan.binaries[i] = find_file(archive, s.binary);
    if (plan.binaries[i].data == nullptr) {
      diag.set("manifest: server '%s': binary '%s' is not in the archive", s.name, s.binary);
      return false;
    }
  }
  for (uint32_t i = 0; i < plan.server_count; ++i) {
    const ServerRecord& s = plan.servers[i];
    for (uint32_t r = 0; r < s.required_count; ++r) {
      if (plan.provider[s.required[r]] == abi::kManifestMaxServers) {
        diag.set("manifest: server '%s' requires '%s', which no server provides", s.name,
                 m->services[s.required[r]]);
        return false;
      }
    }
  }
  return check_exclusive(plan, diag) && order_servers(plan, diag);
}

}  // namespace root
