// SPDX-License-Identifier: MIT
//
// Unit tests for the root task's boot archive and manifest checker (servers/root/archive.cpp),
// built for the host unchanged. Good archives come from the manifest tool's writer
// (keel::tool::build_archive); bad ones from patching its output, or from manifests written
// record by record, since the tool refuses to produce most of what the root task must refuse.
// Every refusal is checked word for word, next to the nearest input that is accepted.
#include "root/archive.hpp"

#include <abi/boot_archive.hpp>
#include <abi/manifest.hpp>

#include "archive.hpp"  // The manifest tool's (boot/tool/archive.hpp), in keel::tool.
#include "manifest.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Bytes = std::vector<std::byte>;
using Names = std::vector<std::string>;

constexpr uint64_t kPage = abi::kArchiveAlign;
constexpr uint64_t kManifestHeaderSize = sizeof(abi::ManifestHeader);  // 2072.
constexpr uint64_t kRecordSize = sizeof(abi::ServerRecord);            // 272.

// Copies `name` into a fixed-size field, NUL-padded; a name of exactly `cap` characters is left
// without a terminator, which is how tests write an unterminated name.
void set_name(char* field, std::size_t cap, std::string_view name) {
  REQUIRE(name.size() <= cap);
  std::memset(field, 0, cap);
  std::memcpy(field, name.data(), name.size());
}

// A file's stand-in contents: the checker hashes files but never parses them.
Bytes fake_binary(std::string_view name, std::size_t size = 64) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<std::byte>(i < name.size() ? name[i] : 'a' + i % 26);
  }
  return out;
}

// A binary manifest built record by record, so that a test can write any value the format can
// hold, valid or not. Records live in a deque so that references to them stay valid.
class ManifestBuilder {
 public:
  ManifestBuilder() {
    std::memset(&header, 0, sizeof header);
    std::memcpy(header.magic, abi::kManifestMagic, sizeof header.magic);
    header.version = abi::kManifestVersion;
  }

  // The index of service `name`, added to the table on first use.
  uint8_t service(std::string_view name) {
    for (uint32_t i = 0; i < header.service_count; ++i) {
      if (name == header.services[i]) {
        return static_cast<uint8_t>(i);
      }
    }
    REQUIRE(header.service_count < abi::kManifestMaxServices);
    set_name(header.services[header.service_count], abi::kManifestMaxName, name);
    return static_cast<uint8_t>(header.service_count++);
  }

  // A server that passes every per-server check: binary "<name>.elf", priority 10, 16 KiB,
  // never restarted, started at boot, nothing provided or required, no hardware.
  abi::ServerRecord& server(std::string_view name) {
    abi::ServerRecord& s = servers.emplace_back();
    std::memset(&s, 0, sizeof s);
    set_name(s.name, abi::kManifestMaxName, name);
    set_name(s.binary, abi::kManifestMaxName, std::string(name) + ".elf");
    s.priority = 10;
    s.restart = abi::RestartPolicy::kNever;
    s.start = abi::StartMode::kBoot;
    s.memory = 4 * kPage;
    header.server_count = static_cast<uint32_t>(servers.size());
    return s;
  }

  void provide(abi::ServerRecord& s, std::string_view name) {
    REQUIRE(s.provides_count < abi::kManifestMaxPerServer);
    s.provides[s.provides_count++] = service(name);
  }

  void require(abi::ServerRecord& s, std::string_view name) {
    REQUIRE(s.required_count < abi::kManifestMaxPerServer);
    s.required[s.required_count++] = service(name);
  }

  // The header, then every record (whatever header.server_count says).
  Bytes bytes() const {
    Bytes out(sizeof header + servers.size() * sizeof(abi::ServerRecord));
    std::memcpy(out.data(), &header, sizeof header);
    for (std::size_t i = 0; i < servers.size(); ++i) {
      std::memcpy(out.data() + sizeof header + i * sizeof(abi::ServerRecord), &servers[i],
                  sizeof(abi::ServerRecord));
    }
    return out;
  }

  abi::ManifestHeader header;
  std::deque<abi::ServerRecord> servers;
};

// An archive holding `manifest` as entry 0 and then, in order of first use, every binary its
// servers name, except names in `leave_out`, names that are not terminated, and "manifest".
Bytes archive_of(const Bytes& manifest, const std::deque<abi::ServerRecord>& servers,
                 const std::set<std::string>& leave_out = {}) {
  std::vector<keel::tool::ArchiveFile> files{{"manifest", manifest}};
  std::set<std::string> seen{"manifest"};
  for (const abi::ServerRecord& s : servers) {
    const std::string binary(s.binary, strnlen(s.binary, sizeof s.binary));
    if (binary.empty() || binary.size() == sizeof s.binary || leave_out.count(binary) != 0 ||
        !seen.insert(binary).second) {
      continue;
    }
    files.push_back({binary, fake_binary(binary)});
  }
  return keel::tool::build_archive(files);
}

Bytes archive_of(const ManifestBuilder& m, const std::set<std::string>& leave_out = {}) {
  return archive_of(m.bytes(), m.servers, leave_out);
}

const uint8_t* data_of(const Bytes& bytes) {
  return reinterpret_cast<const uint8_t*>(bytes.data());
}

// check_archive() on the first `size` bytes; its diagnostic, empty when the archive passes.
std::string archive_error(const Bytes& archive, uint64_t size) {
  root::Diagnostic diag;
  const bool ok = root::check_archive(data_of(archive), size, diag);
  CHECK(ok == !diag.failed());
  return diag.text;
}

std::string archive_error(const Bytes& archive) {
  return archive_error(archive, archive.size());
}

// make_plan() on an archive that passes check_archive(); its diagnostic, empty on success.
std::string plan_error(const Bytes& archive, root::Plan& plan) {
  REQUIRE(archive_error(archive).empty());
  root::Diagnostic diag;
  const bool ok = root::make_plan(data_of(archive), plan, diag);
  CHECK(ok == !diag.failed());
  return diag.text;
}

std::string plan_error(const Bytes& archive) {
  root::Plan plan{};
  return plan_error(archive, plan);
}

std::string plan_error(const ManifestBuilder& m) {
  return plan_error(archive_of(m));
}

std::string digest_error(const Bytes& archive, uint32_t entry) {
  root::Diagnostic diag;
  const bool ok = root::check_digest(data_of(archive), entry, diag);
  CHECK(ok == !diag.failed());
  return diag.text;
}

// The plan's start order as server names.
Names start_order(const root::Plan& plan) {
  Names out;
  for (uint32_t i = 0; i < plan.server_count; ++i) {
    REQUIRE(plan.order[i] < plan.server_count);
    out.emplace_back(plan.servers[plan.order[i]].name);
  }
  return out;
}

// Reading and patching an archive's header and entry table in place.
abi::ArchiveHeader header_of(const Bytes& archive) {
  abi::ArchiveHeader h;
  std::memcpy(&h, archive.data(), sizeof h);
  return h;
}

abi::ArchiveEntry entry_of(const Bytes& archive, uint32_t i) {
  abi::ArchiveEntry e;
  std::memcpy(&e, archive.data() + sizeof(abi::ArchiveHeader) + i * sizeof e, sizeof e);
  return e;
}

template <typename F>
void patch_header(Bytes& archive, F change) {
  abi::ArchiveHeader h = header_of(archive);
  change(h);
  std::memcpy(archive.data(), &h, sizeof h);
}

template <typename F>
void patch_entry(Bytes& archive, uint32_t i, F change) {
  abi::ArchiveEntry e = entry_of(archive, i);
  change(e);
  std::memcpy(archive.data() + sizeof(abi::ArchiveHeader) + i * sizeof e, &e, sizeof e);
}

// Two servers "a" and "b" (binaries a.elf and b.elf, 64 bytes each). build_archive() lays it out
// as: header and 3 entries (312 bytes), manifest at 4096 (2616 bytes), a.elf at 8192, b.elf at
// 12288, total 16384.
Bytes two_server_archive() {
  ManifestBuilder m;
  m.server("a");
  m.server("b");
  return archive_of(m);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Good archives and plans.

TEST_CASE("root archive: the tool's layout of a two-server archive", "[root][archive]") {
  const Bytes archive = two_server_archive();
  // The numbers in the diagnostics below depend on this layout.
  REQUIRE(archive.size() == 4 * kPage);
  REQUIRE(header_of(archive).entry_count == 3);
  REQUIRE(header_of(archive).total_size == 4 * kPage);
  REQUIRE(entry_of(archive, 0).offset == kPage);
  REQUIRE(entry_of(archive, 0).size == kManifestHeaderSize + 2 * kRecordSize);
  REQUIRE(entry_of(archive, 1).offset == 2 * kPage);
  REQUIRE(entry_of(archive, 1).size == 64);
  REQUIRE(entry_of(archive, 2).offset == 3 * kPage);
  CHECK(archive_error(archive).empty());
  CHECK(plan_error(archive).empty());
}

TEST_CASE("root archive: loaded bytes may run past total_size", "[root][archive]") {
  // The boot module is loaded in whole pages, and a loader may round up further.
  Bytes archive = two_server_archive();
  archive.resize(archive.size() + 3 * kPage, std::byte{0xcc});
  CHECK(archive_error(archive).empty());
}

TEST_CASE("root archive: find_file finds every entry and misses the rest", "[root][archive]") {
  const Bytes archive = two_server_archive();
  const uint8_t* base = data_of(archive);

  const root::File manifest = root::find_file(base, "manifest");
  CHECK(std::string(manifest.name) == "manifest");
  CHECK(manifest.data == base + kPage);
  CHECK(manifest.size == kManifestHeaderSize + 2 * kRecordSize);
  CHECK(manifest.entry == 0);

  const root::File b = root::find_file(base, "b.elf");
  CHECK(std::string(b.name) == "b.elf");
  CHECK(b.data == base + 3 * kPage);
  CHECK(b.size == 64);
  CHECK(b.entry == 2);
  const Bytes expected = fake_binary("b.elf");
  CHECK(std::memcmp(b.data, expected.data(), expected.size()) == 0);

  for (const char* missing : {"c.elf", "b.el", "b.elf2", "B.ELF", ""}) {
    INFO(missing);
    const root::File none = root::find_file(base, missing);
    CHECK(none.data == nullptr);
    CHECK(none.size == 0);
    CHECK(none.name == missing);
  }
}

TEST_CASE("root archive: check_digest passes every intact file", "[root][archive]") {
  const Bytes archive = two_server_archive();
  for (uint32_t i = 0; i < 3; ++i) {
    CHECK(digest_error(archive, i).empty());
  }
  // An empty file has the digest of no bytes.
  const Bytes with_empty = keel::tool::build_archive({{"manifest", Bytes(10)}, {"empty", {}}});
  CHECK(digest_error(with_empty, 1).empty());
}

TEST_CASE("root archive: a plan for servers in a chain starts providers first", "[root][plan]") {
  // c requires y, which b provides; b requires x, which a provides. Manifest order c, b, a.
  ManifestBuilder m;
  abi::ServerRecord& c = m.server("c");
  abi::ServerRecord& b = m.server("b");
  abi::ServerRecord& a = m.server("a");
  m.require(c, "y");
  m.provide(b, "y");
  m.require(b, "x");
  m.provide(a, "x");
  const Bytes archive = archive_of(m);
  root::Plan plan{};
  REQUIRE(plan_error(archive, plan).empty());

  CHECK(plan.manifest == reinterpret_cast<const abi::ManifestHeader*>(data_of(archive) + kPage));
  CHECK(reinterpret_cast<const uint8_t*>(plan.servers) ==
        data_of(archive) + kPage + kManifestHeaderSize);
  CHECK(plan.server_count == 3);
  CHECK(start_order(plan) == Names{"a", "b", "c"});
  CHECK(plan.order[0] == 2);
  CHECK(plan.order[1] == 1);
  CHECK(plan.order[2] == 0);
  CHECK(plan.provider[m.service("y")] == 1);
  CHECK(plan.provider[m.service("x")] == 2);

  // Binaries are archived in order of first use: c.elf, b.elf, a.elf are entries 1, 2, 3.
  const Names binaries{"c.elf", "b.elf", "a.elf"};
  for (uint32_t i = 0; i < 3; ++i) {
    INFO(i);
    const root::File& f = plan.binaries[i];
    CHECK(std::string(f.name) == binaries[i]);
    CHECK(f.entry == i + 1);
    CHECK(f.data == data_of(archive) + entry_of(archive, i + 1).offset);
    CHECK(f.size == 64);
    CHECK(std::memcmp(f.data, fake_binary(binaries[i]).data(), 64) == 0);
  }
}

TEST_CASE("root archive: a plan for a diamond starts the shared provider first", "[root][plan]") {
  // top requires left and right; both require base.
  ManifestBuilder m;
  abi::ServerRecord& top = m.server("top");
  abi::ServerRecord& left = m.server("left");
  abi::ServerRecord& right = m.server("right");
  abi::ServerRecord& base = m.server("base");
  m.require(top, "l");
  m.require(top, "r");
  m.provide(left, "l");
  m.require(left, "b");
  m.provide(right, "r");
  m.require(right, "b");
  m.provide(base, "b");
  const Bytes archive = archive_of(m);
  root::Plan plan{};
  REQUIRE(plan_error(archive, plan).empty());
  CHECK(start_order(plan) == Names{"base", "left", "right", "top"});
  CHECK(plan.provider[m.service("l")] == 1);
  CHECK(plan.provider[m.service("r")] == 2);
  CHECK(plan.provider[m.service("b")] == 3);
}

TEST_CASE("root archive: independent servers keep manifest order", "[root][plan]") {
  ManifestBuilder m;
  m.server("c");
  m.server("a");
  m.server("b");
  const Bytes archive = archive_of(m);
  root::Plan plan{};
  REQUIRE(plan_error(archive, plan).empty());
  CHECK(start_order(plan) == Names{"c", "a", "b"});
}

TEST_CASE("root archive: each step starts the earliest server that is ready", "[root][plan]") {
  // d waits for f; e and g are free. Among ready servers the lowest index goes first, so e
  // starts before f even though only d's provider is urgent.
  ManifestBuilder m;
  abi::ServerRecord& d = m.server("d");
  m.server("e");
  abi::ServerRecord& f = m.server("f");
  m.server("g");
  m.require(d, "s");
  m.provide(f, "s");
  const Bytes archive = archive_of(m);
  root::Plan plan{};
  REQUIRE(plan_error(archive, plan).empty());
  CHECK(start_order(plan) == Names{"e", "f", "d", "g"});
}

TEST_CASE("root archive: a server may provide several services to several clients",
          "[root][plan]") {
  // log provides log and time; both clients use one, one uses both; a provided service nobody
  // requires is fine, and two servers may share a binary.
  ManifestBuilder m;
  abi::ServerRecord& shell = m.server("shell");
  abi::ServerRecord& clock = m.server("clock");
  abi::ServerRecord& log = m.server("log");
  set_name(clock.binary, abi::kManifestMaxName, "shell.elf");
  m.require(shell, "log");
  m.require(shell, "time");
  m.require(clock, "log");
  m.provide(log, "log");
  m.provide(log, "time");
  m.provide(log, "unused");
  const Bytes archive = archive_of(m);
  root::Plan plan{};
  REQUIRE(plan_error(archive, plan).empty());
  CHECK(start_order(plan) == Names{"log", "shell", "clock"});
  CHECK(plan.provider[m.service("unused")] == 2);
  CHECK(plan.binaries[0].entry == plan.binaries[1].entry);
  CHECK(plan.binaries[0].data == plan.binaries[1].data);
}

TEST_CASE("root archive: the limits of the format are accepted", "[root][plan]") {
  // 32 servers in a chain written backwards (s0 requires s1's service, ..., s31 requires none),
  // 64 services, 8 entries in every list, 31-character names.
  ManifestBuilder m;
  for (int i = 0; i < 32; ++i) {
    m.server("s" + std::to_string(i));
  }
  for (int i = 0; i < 64; ++i) {
    m.service("service-" + std::to_string(i));
  }
  for (int i = 0; i < 31; ++i) {
    m.servers[i].required[m.servers[i].required_count++] = static_cast<uint8_t>(i + 1);
    m.servers[i + 1].provides[m.servers[i + 1].provides_count++] = static_cast<uint8_t>(i + 1);
  }
  abi::ServerRecord& full = m.servers[0];
  while (full.provides_count < 8) {
    full.provides[full.provides_count] = static_cast<uint8_t>(32 + full.provides_count);
    ++full.provides_count;
  }
  for (uint8_t provider = 2; full.required_count < 8; ++provider) {
    full.required[full.required_count++] = provider;  // Services of s2, s3, ... s8.
  }
  for (uint8_t i = 0; i < 8; ++i) {
    full.ports[full.port_count++] = {static_cast<uint16_t>(0x100 + 16 * i),
                                     static_cast<uint16_t>(0x10f + 16 * i)};
    full.irqs[full.irq_count++] = static_cast<uint8_t>(i + 9);
    full.mmio[full.mmio_count++] = {0xfe000000 + i * kPage, kPage};
  }
  set_name(m.servers[31].name, abi::kManifestMaxName, std::string(31, 'n'));
  set_name(m.servers[31].binary, abi::kManifestMaxName, std::string(31, 'b'));
  set_name(m.header.services[63], abi::kManifestMaxName, std::string(31, 's'));

  const Bytes archive = archive_of(m);
  root::Plan plan{};
  REQUIRE(plan_error(archive, plan).empty());
  for (uint32_t i = 0; i < 32; ++i) {
    CHECK(plan.order[i] == 31 - i);
  }
  CHECK(std::string(plan.binaries[31].name) == std::string(31, 'b'));
}

TEST_CASE("root archive: an archive of 64 entries is accepted", "[root][archive]") {
  ManifestBuilder m;
  m.server("a");
  std::vector<keel::tool::ArchiveFile> files{{"manifest", m.bytes()}, {"a.elf", fake_binary("a")}};
  for (int i = 2; i < 64; ++i) {
    const std::string name = "extra-" + std::to_string(i);
    files.push_back({name, fake_binary(name, static_cast<std::size_t>(i))});
  }
  const Bytes archive = keel::tool::build_archive(files);
  CHECK(archive_error(archive).empty());
  CHECK(plan_error(archive).empty());
  CHECK(root::find_file(data_of(archive), "extra-63").entry == 63);
  CHECK(digest_error(archive, 63).empty());
}

TEST_CASE("root archive: the tool's boot archive passes the root task's checks", "[root][plan]") {
  // The same manifest through both readers: keel-image encodes servers in dependency order, so
  // the root task's plan keeps record order.
  const auto parsed = keel::tool::parse_manifest(
      "[[server]]\nname = \"shell\"\nbinary = \"shell.elf\"\npriority = 10\nmemory = \"64K\"\n"
      "requires = [\"console\", \"log\"]\n"
      "[[server]]\nname = \"console\"\nbinary = \"console.elf\"\npriority = 200\n"
      "memory = \"256K\"\nprovides = [\"console\"]\nrequires = [\"log\"]\n"
      "restart = { policy = \"on-crash\", limit = 3, backoff_ms = 100 }\n"
      "hardware = { ioports = [[0x3f8, 0x3ff]], irqs = [4], mmio = [[0xfe000000, 0x1000]] }\n"
      "[[server]]\nname = \"log\"\nbinary = \"log.elf\"\npriority = 50\nmemory = \"64K\"\n"
      "provides = [\"log\"]\nrestart = { policy = \"always\", limit = 1000 }\n",
      "test.toml");
  REQUIRE(parsed.errors.empty());
  std::vector<keel::tool::LoadedBinary> binaries;
  for (const char* name : {"shell.elf", "console.elf", "log.elf"}) {
    binaries.push_back({name, name, fake_binary(name, 5000)});
  }
  const Bytes archive = keel::tool::build_boot_archive(parsed.manifest, binaries);
  root::Plan plan{};
  REQUIRE(plan_error(archive, plan).empty());
  CHECK(start_order(plan) == Names{"log", "console", "shell"});
  for (uint32_t i = 0; i < plan.server_count; ++i) {
    CHECK(plan.order[i] == i);
    CHECK(plan.binaries[i].size == 5000);
    CHECK(digest_error(archive, plan.binaries[i].entry).empty());
  }
  const abi::ServerRecord& console = plan.servers[1];
  CHECK(std::string(console.name) == "console");
  CHECK(console.restart == abi::RestartPolicy::kOnCrash);
  CHECK(console.restart_limit == 3);
  CHECK(console.memory == 256 * 1024);
}

// ---------------------------------------------------------------------------------------------
// Archive structure.

TEST_CASE("root archive error: too small for the header", "[root][archive][errors]") {
  CHECK(archive_error(Bytes(23), 23) == "boot archive: 23 bytes, too small for its header");
  CHECK(archive_error(Bytes(), 0) == "boot archive: 0 bytes, too small for its header");
  // The size given is what counts, not the buffer's.
  const Bytes archive = two_server_archive();
  CHECK(archive_error(archive, 10) == "boot archive: 10 bytes, too small for its header");
}

TEST_CASE("root archive error: bad magic", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_header(archive, [](abi::ArchiveHeader& h) { h.magic[7] = '2'; });
  CHECK(archive_error(archive) == "boot archive: bad magic (not a keel-image archive)");
  patch_header(archive, [](abi::ArchiveHeader& h) { std::memcpy(h.magic, "KEELMAN1", 8); });
  CHECK(archive_error(archive) == "boot archive: bad magic (not a keel-image archive)");
}

TEST_CASE("root archive error: wrong version", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_header(archive, [](abi::ArchiveHeader& h) { h.version = 2; });
  CHECK(archive_error(archive) == "boot archive: version 2, expected 1");
  patch_header(archive, [](abi::ArchiveHeader& h) { h.version = 0; });
  CHECK(archive_error(archive) == "boot archive: version 0, expected 1");
}

TEST_CASE("root archive error: entry count out of range", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_header(archive, [](abi::ArchiveHeader& h) { h.entry_count = 0; });
  CHECK(archive_error(archive) == "boot archive: 0 entries, expected 1..64");
  patch_header(archive, [](abi::ArchiveHeader& h) { h.entry_count = 65; });
  CHECK(archive_error(archive) == "boot archive: 65 entries, expected 1..64");
  patch_header(archive, [](abi::ArchiveHeader& h) { h.entry_count = 0xffffffff; });
  CHECK(archive_error(archive) == "boot archive: 4294967295 entries, expected 1..64");
  // A count beyond the real table reaches the zeroed bytes after it, which have no names.
  patch_header(archive, [](abi::ArchiveHeader& h) { h.entry_count = 4; });
  CHECK(archive_error(archive) == "boot archive: entry 3 has no valid name");
  // A count below it just hides files.
  patch_header(archive, [](abi::ArchiveHeader& h) { h.entry_count = 1; });
  CHECK(archive_error(archive).empty());
  CHECK(root::find_file(data_of(archive), "a.elf").data == nullptr);
}

TEST_CASE("root archive error: total size larger than the bytes loaded",
          "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  CHECK(archive_error(archive, 4 * kPage - 1) ==
        "boot archive: total size 16384 does not fit the 16383 bytes loaded");
  patch_header(archive, [](abi::ArchiveHeader& h) { h.total_size = 4 * kPage + 1; });
  CHECK(archive_error(archive) ==
        "boot archive: total size 16385 does not fit the 16384 bytes loaded");
  patch_header(archive, [](abi::ArchiveHeader& h) { h.total_size = UINT64_MAX; });
  CHECK(archive_error(archive) ==
        "boot archive: total size 18446744073709551615 does not fit the 16384 bytes loaded");
}

TEST_CASE("root archive error: total size smaller than the entry table",
          "[root][archive][errors]") {
  // A header alone, claiming one entry: 24 bytes cannot hold the 120 of header and table.
  Bytes header_only(sizeof(abi::ArchiveHeader));
  patch_header(header_only, [](abi::ArchiveHeader& h) {
    std::memcpy(h.magic, abi::kArchiveMagic, sizeof h.magic);
    h.version = 1;
    h.entry_count = 1;
    h.total_size = 24;
  });
  CHECK(archive_error(header_only) ==
        "boot archive: total size 24 is smaller than its header and entry table (120 bytes)");
  Bytes archive = two_server_archive();
  patch_header(archive, [](abi::ArchiveHeader& h) { h.total_size = 311; });
  CHECK(archive_error(archive) ==
        "boot archive: total size 311 is smaller than its header and entry table (312 bytes)");
  // Exactly the table is enough for the header check; the files then lie outside.
  patch_header(archive, [](abi::ArchiveHeader& h) { h.total_size = 312; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'manifest' (offset 4096, 2616 bytes) lies outside the archive");
}

TEST_CASE("root archive error: an entry without a name", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_entry(archive, 1, [](abi::ArchiveEntry& e) { e.name[0] = '\0'; });
  CHECK(archive_error(archive) == "boot archive: entry 1 has no valid name");

  // 48 characters leave no room for the terminator.
  archive = two_server_archive();
  patch_entry(archive, 2,
              [](abi::ArchiveEntry& e) { set_name(e.name, sizeof e.name, std::string(48, 'x')); });
  CHECK(archive_error(archive) == "boot archive: entry 2 has no valid name");
  // 47 do.
  patch_entry(archive, 2,
              [](abi::ArchiveEntry& e) { set_name(e.name, sizeof e.name, std::string(47, 'x')); });
  CHECK(archive_error(archive).empty());

  archive = two_server_archive();
  patch_entry(archive, 0, [](abi::ArchiveEntry& e) { std::memset(e.name, 0, sizeof e.name); });
  CHECK(archive_error(archive) == "boot archive: entry 0 has no valid name");
}

TEST_CASE("root archive error: entry 0 is not the manifest", "[root][archive][errors]") {
  const Bytes swapped =
      keel::tool::build_archive({{"a.elf", fake_binary("a.elf")}, {"manifest", Bytes(2344)}});
  CHECK(archive_error(swapped) == "boot archive: entry 0 is 'a.elf', expected 'manifest'");
  Bytes archive = two_server_archive();
  for (const char* name : {"manifes", "manifestx", "Manifest"}) {
    patch_entry(archive, 0, [name](abi::ArchiveEntry& e) { set_name(e.name, 48, name); });
    CHECK(archive_error(archive) ==
          "boot archive: entry 0 is '" + std::string(name) + "', expected 'manifest'");
  }
}

TEST_CASE("root archive error: an entry outside the archive", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  // b.elf at 12288 may grow to the end of the archive and no further.
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.size = kPage; });
  CHECK(archive_error(archive).empty());
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.size = kPage + 1; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'b.elf' (offset 12288, 4097 bytes) lies outside the archive");
  // Sizes and offsets near 2^64 must not wrap past the check.
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.size = UINT64_MAX; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'b.elf' (offset 12288, "
        "18446744073709551615 bytes) lies outside the archive");
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) {
    e.offset = UINT64_MAX - kPage + 1;
    e.size = 2 * kPage;
  });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'b.elf' (offset 18446744073709547520, "
        "8192 bytes) lies outside the archive");
  // An empty file may sit at the very end, not past it.
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) {
    e.offset = 4 * kPage;
    e.size = 0;
  });
  CHECK(archive_error(archive).empty());
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.offset = 5 * kPage; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'b.elf' (offset 20480, 0 bytes) lies outside the archive");
  // The manifest is checked like any other entry.
  archive = two_server_archive();
  patch_entry(archive, 0, [](abi::ArchiveEntry& e) { e.size = 3 * kPage + 1; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'manifest' (offset 4096, 12289 bytes) lies outside the archive");
}

TEST_CASE("root archive error: a misaligned entry", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.offset = 3 * kPage + 1; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'b.elf' at offset 12289 is not page aligned");
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.offset = 3 * kPage - 8; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'b.elf' at offset 12280 is not page aligned");
  // Misaligned and outside: the alignment is what is reported.
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.offset = 5 * kPage + 512; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'b.elf' at offset 20992 is not page aligned");
}

TEST_CASE("root archive error: an entry inside the header and entry table",
          "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_entry(archive, 0, [](abi::ArchiveEntry& e) { e.offset = 0; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'manifest' at offset 0 overlaps the header and entry table");
  // An empty file there shares no bytes, but its offset is still wrong.
  archive = two_server_archive();
  patch_entry(archive, 1, [](abi::ArchiveEntry& e) {
    e.offset = 0;
    e.size = 0;
  });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'a.elf' at offset 0 overlaps the header and entry table");
  // With 64 entries the table (6168 bytes) runs into the second page, where the manifest is.
  patch_header(archive, [](abi::ArchiveHeader& h) { h.entry_count = 64; });
  CHECK(archive_error(archive) ==
        "boot archive: entry 'manifest' at offset 4096 overlaps the header and entry table");
}

TEST_CASE("root archive error: two entries with one name", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { set_name(e.name, 48, "a.elf"); });
  CHECK(archive_error(archive) == "boot archive: two entries are named 'a.elf'");
  archive = two_server_archive();
  patch_entry(archive, 1, [](abi::ArchiveEntry& e) { set_name(e.name, 48, "manifest"); });
  CHECK(archive_error(archive) == "boot archive: two entries are named 'manifest'");
  // Names differing only after a common prefix are different names.
  archive = two_server_archive();
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { set_name(e.name, 48, "a.elf.old"); });
  CHECK(archive_error(archive).empty());
}

TEST_CASE("root archive error: overlapping entries", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.offset = 2 * kPage; });
  CHECK(archive_error(archive) == "boot archive: entries 'a.elf' and 'b.elf' overlap");
  // One byte of a.elf reaching into b.elf's page is enough; ending where it starts is not.
  archive = two_server_archive();
  patch_entry(archive, 1, [](abi::ArchiveEntry& e) { e.size = kPage + 1; });
  CHECK(archive_error(archive) == "boot archive: entries 'a.elf' and 'b.elf' overlap");
  patch_entry(archive, 1, [](abi::ArchiveEntry& e) { e.size = kPage; });
  CHECK(archive_error(archive).empty());
  // A later entry overlapping the manifest.
  archive = two_server_archive();
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) {
    e.offset = kPage;
    e.size = 1;
  });
  CHECK(archive_error(archive) == "boot archive: entries 'manifest' and 'b.elf' overlap");
  // Empty files share no bytes with anything, wherever they are.
  patch_entry(archive, 2, [](abi::ArchiveEntry& e) { e.size = 0; });
  CHECK(archive_error(archive).empty());
  patch_entry(archive, 1, [](abi::ArchiveEntry& e) {
    e.offset = kPage;
    e.size = 0;
  });
  CHECK(archive_error(archive).empty());
}

TEST_CASE("root archive error: the manifest fails its digest", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  archive[kPage + 100] ^= std::byte{1};
  CHECK(archive_error(archive) ==
        "boot archive: 'manifest' fails its SHA-256 check (the file is corrupt)");
  archive = two_server_archive();
  patch_entry(archive, 0, [](abi::ArchiveEntry& e) { e.sha256[31] ^= 0x80; });
  CHECK(archive_error(archive) ==
        "boot archive: 'manifest' fails its SHA-256 check (the file is corrupt)");
  // A shorter recorded size hashes fewer bytes.
  archive = two_server_archive();
  patch_entry(archive, 0, [](abi::ArchiveEntry& e) { --e.size; });
  CHECK(archive_error(archive) ==
        "boot archive: 'manifest' fails its SHA-256 check (the file is corrupt)");
  // Padding between files belongs to no file.
  archive = two_server_archive();
  archive[2 * kPage - 1] ^= std::byte{1};
  archive[2 * kPage + 64] ^= std::byte{1};
  CHECK(archive_error(archive).empty());
}

TEST_CASE("root archive error: a binary fails its digest", "[root][archive][errors]") {
  Bytes archive = two_server_archive();
  archive[3 * kPage + 63] ^= std::byte{0x40};
  // check_archive() vouches for the layout and the manifest only; binaries are checked one by
  // one as they are started, and the corrupt one is named.
  CHECK(archive_error(archive).empty());
  CHECK(plan_error(archive).empty());
  CHECK(digest_error(archive, 1).empty());
  CHECK(digest_error(archive, 2) ==
        "boot archive: 'b.elf' fails its SHA-256 check (the file is corrupt)");
  archive = two_server_archive();
  patch_entry(archive, 1, [](abi::ArchiveEntry& e) { e.sha256[0] ^= 1; });
  CHECK(digest_error(archive, 1) ==
        "boot archive: 'a.elf' fails its SHA-256 check (the file is corrupt)");
}

// ---------------------------------------------------------------------------------------------
// Manifest layout.

TEST_CASE("root manifest error: too small for its header", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  CHECK(plan_error(archive_of(Bytes(100), m.servers)) ==
        "manifest: 100 bytes, too small for its header");
  CHECK(plan_error(archive_of(Bytes(), m.servers)) ==
        "manifest: 0 bytes, too small for its header");
  Bytes header_short_by_one = m.bytes();
  header_short_by_one.resize(kManifestHeaderSize - 1);
  CHECK(plan_error(archive_of(header_short_by_one, m.servers)) ==
        "manifest: 2071 bytes, too small for its header");
}

TEST_CASE("root manifest error: bad magic", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  std::memcpy(m.header.magic, abi::kArchiveMagic, sizeof m.header.magic);
  CHECK(plan_error(m) == "manifest: bad magic");
  m.header.magic[0] = 'k';
  CHECK(plan_error(m) == "manifest: bad magic");
}

TEST_CASE("root manifest error: wrong version", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  m.header.version = 2;
  CHECK(plan_error(m) == "manifest: version 2, expected 1");
  m.header.version = 0;
  CHECK(plan_error(m) == "manifest: version 0, expected 1");
  m.header.version = 1;
  m.header.reserved = 3;
  CHECK(plan_error(m) == "manifest: reserved header field is 3, expected 0");
  m.header.reserved = 0;
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: server and service counts", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  m.header.server_count = 0;
  CHECK(plan_error(m) == "manifest: 0 servers and 0 services, expected 1..32 and 0..64");
  m.header.server_count = 33;
  CHECK(plan_error(m) == "manifest: 33 servers and 0 services, expected 1..32 and 0..64");
  m.header.server_count = 1;
  m.header.service_count = 65;
  CHECK(plan_error(m) == "manifest: 1 servers and 65 services, expected 1..32 and 0..64");
  m.header.service_count = 0xffffffff;
  CHECK(plan_error(m) == "manifest: 1 servers and 4294967295 services, expected 1..32 and 0..64");
  // No services at all is fine.
  m.header.service_count = 0;
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: size does not match the server count", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  m.server("b");
  m.header.server_count = 1;
  CHECK(plan_error(m) == "manifest: 2616 bytes, expected 2344 for 1 servers");
  m.header.server_count = 3;
  CHECK(plan_error(m) == "manifest: 2616 bytes, expected 2888 for 3 servers");
  m.header.server_count = 2;
  Bytes extra = m.bytes();
  extra.push_back(std::byte{0});
  CHECK(plan_error(archive_of(extra, m.servers)) ==
        "manifest: 2617 bytes, expected 2616 for 2 servers");
}

TEST_CASE("root manifest error: unnamed or repeated service", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  m.provide(a, "log");
  m.provide(a, "time");
  set_name(m.header.services[1], abi::kManifestMaxName, "");
  CHECK(plan_error(m) == "manifest: service 1 has no valid name");
  set_name(m.header.services[1], abi::kManifestMaxName, std::string(32, 't'));
  CHECK(plan_error(m) == "manifest: service 1 has no valid name");
  set_name(m.header.services[1], abi::kManifestMaxName, std::string(31, 't'));
  CHECK(plan_error(m).empty());
  set_name(m.header.services[1], abi::kManifestMaxName, "log");
  CHECK(plan_error(m) == "manifest: service 'log' is listed twice");
  // Names past service_count are not part of the table.
  set_name(m.header.services[1], abi::kManifestMaxName, "time");
  set_name(m.header.services[2], abi::kManifestMaxName, "log");
  std::memset(m.header.services[3], 'x', abi::kManifestMaxName);
  CHECK(plan_error(m).empty());
}

// ---------------------------------------------------------------------------------------------
// Servers, one field at a time.

TEST_CASE("root manifest error: unnamed or repeated server", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  abi::ServerRecord& b = m.server("b");
  set_name(b.name, abi::kManifestMaxName, "");
  CHECK(plan_error(m) == "manifest: server 1 has no valid name");
  set_name(b.name, abi::kManifestMaxName, std::string(32, 'b'));
  CHECK(plan_error(m) == "manifest: server 1 has no valid name");
  set_name(b.name, abi::kManifestMaxName, "a");
  CHECK(plan_error(m) == "manifest: two servers are named 'a'");
  set_name(b.name, abi::kManifestMaxName, "ab");
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: missing binary name", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  set_name(a.binary, abi::kManifestMaxName, "");
  CHECK(plan_error(m) == "manifest: server 'a' has no valid binary name");
  set_name(a.binary, abi::kManifestMaxName, std::string(32, 'x'));
  CHECK(plan_error(m) == "manifest: server 'a' has no valid binary name");
}

TEST_CASE("root manifest error: binary not in the archive", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  m.server("b");
  CHECK(plan_error(archive_of(m, {"b.elf"})) ==
        "manifest: server 'b': binary 'b.elf' is not in the archive");
}

TEST_CASE("root manifest error: the manifest as a binary", "[root][manifest][errors]") {
  ManifestBuilder m;
  m.server("a");
  m.server("b");
  // Entry 0 is in the archive, but it is the manifest, not a program.
  set_name(m.servers[1].binary, abi::kManifestMaxName, "manifest");
  CHECK(plan_error(m) == "manifest: server 'b': binary 'manifest' is the manifest, not a program");
}

TEST_CASE("root manifest error: priority 0 and 255", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.priority = 0;
  CHECK(plan_error(m) == "manifest: server 'a': priority 0, expected 1..254");
  a.priority = 255;
  CHECK(plan_error(m) == "manifest: server 'a': priority 255, expected 1..254");
  a.priority = 1;
  CHECK(plan_error(m).empty());
  a.priority = 254;
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: restart policy and limit", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.restart = static_cast<abi::RestartPolicy>(3);
  CHECK(plan_error(m) == "manifest: server 'a': unknown restart policy 3");
  a.restart = static_cast<abi::RestartPolicy>(255);
  CHECK(plan_error(m) == "manifest: server 'a': unknown restart policy 255");
  a.restart = abi::RestartPolicy::kNever;
  a.restart_limit = 2;
  CHECK(plan_error(m) == "manifest: server 'a': restart limit 2 with policy never");
  a.restart = abi::RestartPolicy::kOnCrash;
  CHECK(plan_error(m).empty());
  a.restart = abi::RestartPolicy::kAlways;
  a.restart_limit = 0xffffffff;
  a.backoff_ms = 60000;
  CHECK(plan_error(m).empty());
  // A back-off without restarts is harmless.
  a.restart = abi::RestartPolicy::kNever;
  a.restart_limit = 0;
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: unknown start mode", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.start = static_cast<abi::StartMode>(2);
  CHECK(plan_error(m) == "manifest: server 'a': unknown start mode 2");
  a.start = abi::StartMode::kOnFirstUse;
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: memory budget", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.memory = 0;
  CHECK(plan_error(m) ==
        "manifest: server 'a': memory budget 0 is not a non-zero multiple of 4096");
  a.memory = 4097;
  CHECK(plan_error(m) ==
        "manifest: server 'a': memory budget 4097 is not a non-zero multiple of 4096");
  a.memory = 2048;
  CHECK(plan_error(m) ==
        "manifest: server 'a': memory budget 2048 is not a non-zero multiple of 4096");
  a.memory = 4096;
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: more than 8 entries in a list", "[root][manifest][errors]") {
  const char* const kExpected = "manifest: server 'a': more than 8 entries in a list";
  for (int list = 0; list < 5; ++list) {
    INFO("list " << list);
    ManifestBuilder m;
    abi::ServerRecord& a = m.server("a");
    uint8_t* counts[] = {&a.provides_count, &a.required_count, &a.port_count, &a.irq_count,
                         &a.mmio_count};
    *counts[list] = 9;
    CHECK(plan_error(m) == kExpected);
    *counts[list] = 255;
    CHECK(plan_error(m) == kExpected);
  }
}

TEST_CASE("root manifest error: service index out of range", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  m.provide(a, "log");
  a.provides[a.provides_count++] = 1;
  CHECK(plan_error(m) == "manifest: server 'a': service index 1 out of range");
  a.provides_count = 1;
  a.required[a.required_count++] = 200;
  CHECK(plan_error(m) == "manifest: server 'a': service index 200 out of range");
  // With no services, every index is out of range.
  ManifestBuilder none;
  abi::ServerRecord& b = none.server("b");
  b.required_count = 1;
  CHECK(plan_error(none) == "manifest: server 'b': service index 0 out of range");
}

TEST_CASE("root manifest error: I/O ports", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.ports[a.port_count++] = {0x3f8, 0x3ff};
  a.ports[a.port_count++] = {0x3ff, 0x3f8};
  CHECK(plan_error(m) == "manifest: server 'a': I/O port range 0x3ff..0x3f8 is backwards");
  a.ports[1] = {0x2f8, 0x2f8};  // One port.
  CHECK(plan_error(m).empty());
  a.ports[1] = {0xffff, 0xffff};
  CHECK(plan_error(m).empty());

  // 0x70..0x71 belong to the root task's real-time clock; everything around them is free.
  const char* const kRtc = "include the real-time clock's, which the root task keeps";
  const struct {
    uint16_t first, last;
    const char* text;
  } cases[] = {
      {0x60, 0x70, "0x60..0x70"}, {0x71, 0x71, "0x71..0x71"},    {0x70, 0x70, "0x70..0x70"},
      {0x71, 0x7f, "0x71..0x7f"}, {0x00, 0xffff, "0x0..0xffff"},
  };
  for (const auto& c : cases) {
    a.ports[1] = {c.first, c.last};
    CHECK(plan_error(m) == std::string("manifest: server 'a': I/O ports ") + c.text + " " + kRtc);
  }
  a.ports[1] = {0x60, 0x6f};
  CHECK(plan_error(m).empty());
  a.ports[1] = {0x72, 0x7f};
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: IRQ lines", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.irqs[a.irq_count++] = 4;
  a.irqs[a.irq_count++] = 24;
  CHECK(plan_error(m) == "manifest: server 'a': IRQ line 24, expected 0..23");
  a.irqs[1] = 255;
  CHECK(plan_error(m) == "manifest: server 'a': IRQ line 255, expected 0..23");
  a.irqs[1] = 8;
  CHECK(plan_error(m) ==
        "manifest: server 'a': IRQ 8 is the real-time clock's, which the root task keeps");
  a.irqs[1] = 23;
  CHECK(plan_error(m).empty());
  a.irqs[1] = 0;
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: misaligned MMIO", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.mmio[a.mmio_count++] = {0xfee00001, 0x1000};
  CHECK(plan_error(m) == "manifest: server 'a': MMIO range 0xfee00001+0x1000 is not page aligned");
  a.mmio[0] = {0xfee00800, 0x1000};
  CHECK(plan_error(m) == "manifest: server 'a': MMIO range 0xfee00800+0x1000 is not page aligned");
  a.mmio[0] = {0xfee00000, 0x1800};
  CHECK(plan_error(m) == "manifest: server 'a': MMIO range 0xfee00000+0x1800 is not page aligned");
  a.mmio[0] = {0xfee00000, 0x1000};
  CHECK(plan_error(m).empty());
  a.mmio[0] = {0, 0x400000};
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: empty or wrapping MMIO", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  a.mmio[a.mmio_count++] = {0xfee00000, 0};
  CHECK(plan_error(m) == "manifest: server 'a': MMIO range 0xfee00000+0x0 is empty");
  // The end must be representable, or the overlap checks between servers would wrap.
  a.mmio[0] = {0xfffffffffffff000, 0x2000};
  CHECK(plan_error(m) ==
        "manifest: server 'a': MMIO range 0xfffffffffffff000+0x2000 reaches "
        "the end of the address space");
  a.mmio[0] = {0xfffffffffffff000, 0x1000};
  CHECK(plan_error(m) ==
        "manifest: server 'a': MMIO range 0xfffffffffffff000+0x1000 reaches "
        "the end of the address space");
  a.mmio[0] = {0x1000, 0xfffffffffffff000};
  CHECK(plan_error(m) ==
        "manifest: server 'a': MMIO range 0x1000+0xfffffffffffff000 reaches "
        "the end of the address space");
  a.mmio[0] = {0xffffffffffffe000, 0x1000};
  CHECK(plan_error(m).empty());
}

// ---------------------------------------------------------------------------------------------
// Services across servers.

TEST_CASE("root manifest error: a service provided twice", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  m.server("b");
  abi::ServerRecord& c = m.server("c");
  m.provide(a, "log");
  m.provide(c, "time");
  m.provide(c, "log");
  CHECK(plan_error(m) == "manifest: service 'log' is provided by both 'a' and 'c'");
}

TEST_CASE("root manifest error: a server providing one service twice", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  m.provide(a, "log");
  m.provide(a, "time");
  a.provides[a.provides_count++] = m.service("log");
  CHECK(plan_error(m) == "manifest: server 'a' lists service 'log' twice in provides");
}

TEST_CASE("root manifest error: a server requiring one service twice", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  abi::ServerRecord& b = m.server("b");
  m.provide(a, "log");
  m.require(b, "log");
  CHECK(plan_error(m).empty());
  b.required[b.required_count++] = m.service("log");
  CHECK(plan_error(m) == "manifest: server 'b' lists service 'log' twice in requires");
}

TEST_CASE("root manifest error: a required service nobody provides", "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  abi::ServerRecord& b = m.server("b");
  m.provide(a, "log");
  m.require(b, "log");
  m.require(b, "console");
  CHECK(plan_error(m) == "manifest: server 'b' requires 'console', which no server provides");
  // Providing it later in the manifest is fine.
  abi::ServerRecord& c = m.server("c");
  m.provide(c, "console");
  CHECK(plan_error(m).empty());
}

TEST_CASE("root manifest error: dependency cycles", "[root][manifest][errors]") {
  SECTION("two servers") {
    ManifestBuilder m;
    abi::ServerRecord& a = m.server("a");
    abi::ServerRecord& b = m.server("b");
    m.provide(a, "x");
    m.require(a, "y");
    m.provide(b, "y");
    m.require(b, "x");
    CHECK(plan_error(m) ==
          "manifest: the services required by 'a' depend on it (a dependency cycle)");
  }
  SECTION("three servers, after a server that is not in it") {
    ManifestBuilder m;
    m.server("free");
    abi::ServerRecord& p = m.server("p");
    abi::ServerRecord& q = m.server("q");
    abi::ServerRecord& r = m.server("r");
    m.provide(p, "p");
    m.require(p, "r");
    m.provide(q, "q");
    m.require(q, "p");
    m.provide(r, "r");
    m.require(r, "q");
    CHECK(plan_error(m) ==
          "manifest: the services required by 'p' depend on it (a dependency cycle)");
  }
  SECTION("a server waiting behind a cycle is not named") {
    // client waits for p, which is in a cycle with q; client depends on the cycle, but the
    // cycle does not depend on client.
    ManifestBuilder m;
    abi::ServerRecord& client = m.server("client");
    abi::ServerRecord& p = m.server("p");
    abi::ServerRecord& q = m.server("q");
    m.require(client, "x");
    m.provide(p, "x");
    m.require(p, "y");
    m.provide(q, "y");
    m.require(q, "x");
    CHECK(plan_error(m) ==
          "manifest: the services required by 'p' depend on it (a dependency cycle)");
    // Two servers deep behind a cycle of three, entered at c: the cycle's earliest server is
    // named, not the one where the walk entered it.
    ManifestBuilder deep;
    abi::ServerRecord& tail1 = deep.server("tail1");
    abi::ServerRecord& tail2 = deep.server("tail2");
    abi::ServerRecord& b = deep.server("b");
    abi::ServerRecord& c = deep.server("c");
    abi::ServerRecord& d = deep.server("d");
    deep.require(tail1, "t2");
    deep.provide(tail2, "t2");
    deep.require(tail2, "c");
    deep.provide(c, "c");
    deep.require(c, "d");
    deep.provide(d, "d");
    deep.require(d, "b");
    deep.provide(b, "b");
    deep.require(b, "c");
    CHECK(plan_error(deep) ==
          "manifest: the services required by 'b' depend on it (a dependency cycle)");
    // The same behind a self-dependency.
    ManifestBuilder self;
    abi::ServerRecord& waiting = self.server("waiting");
    abi::ServerRecord& loop = self.server("loop");
    self.require(waiting, "x");
    self.provide(loop, "x");
    self.require(loop, "x");
    CHECK(plan_error(self) ==
          "manifest: the services required by 'loop' depend on it (a dependency cycle)");
  }
  SECTION("a server requiring its own service") {
    ManifestBuilder m;
    m.server("a");
    abi::ServerRecord& b = m.server("b");
    m.provide(b, "x");
    m.require(b, "x");
    CHECK(plan_error(m) ==
          "manifest: the services required by 'b' depend on it (a dependency cycle)");
  }
}

TEST_CASE("root manifest error: two servers granted the same hardware",
          "[root][manifest][errors]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  m.server("between");
  abi::ServerRecord& b = m.server("b");
  a.ports[a.port_count++] = {0x3f8, 0x3ff};
  a.irqs[a.irq_count++] = 4;
  a.mmio[a.mmio_count++] = {0xfee00000, 0x2000};

  SECTION("I/O ports") {
    b.ports[b.port_count++] = {0x400, 0x407};  // Adjacent: fine.
    CHECK(plan_error(m).empty());
    b.ports[b.port_count++] = {0x3ff, 0x3ff};
    CHECK(plan_error(m) == "manifest: servers 'a' and 'b' are both granted I/O ports 0x3f8..0x3ff");
    b.ports[1] = {0x300, 0x500};
    CHECK(plan_error(m) == "manifest: servers 'a' and 'b' are both granted I/O ports 0x3f8..0x3ff");
  }
  SECTION("IRQ lines") {
    b.irqs[b.irq_count++] = 3;
    CHECK(plan_error(m).empty());
    b.irqs[b.irq_count++] = 4;
    CHECK(plan_error(m) == "manifest: servers 'a' and 'b' are both granted IRQ 4");
  }
  SECTION("MMIO") {
    b.mmio[b.mmio_count++] = {0xfee02000, 0x1000};  // Adjacent: fine.
    b.mmio[b.mmio_count++] = {0xfedff000, 0x1000};
    CHECK(plan_error(m).empty());
    b.mmio[1] = {0xfee01000, 0x1000};
    CHECK(plan_error(m) == "manifest: servers 'a' and 'b' are both granted MMIO at 0xfee01000");
    b.mmio[1] = {0xfed00000, 0x200000};
    CHECK(plan_error(m) == "manifest: servers 'a' and 'b' are both granted MMIO at 0xfee00000");
  }
}

// ---------------------------------------------------------------------------------------------
// Robustness: a checker that reads what it has not checked shows up here under AddressSanitizer,
// since every archive below is a buffer of exactly its own size.

TEST_CASE("root archive: corrupting any header or table byte is refused cleanly",
          "[root][archive][robustness]") {
  ManifestBuilder m;
  abi::ServerRecord& a = m.server("a");
  abi::ServerRecord& b = m.server("b");
  m.provide(a, "x");
  m.require(b, "x");
  b.ports[b.port_count++] = {0x3f8, 0x3ff};
  const Bytes good = archive_of(m);
  const std::size_t table_end = sizeof(abi::ArchiveHeader) + 3 * sizeof(abi::ArchiveEntry);
  // The archive header and entry table, then the manifest header's counts and the records.
  std::vector<std::size_t> positions(table_end);
  std::iota(positions.begin(), positions.end(), 0);
  for (std::size_t i = kPage; i < kPage + 24; ++i) {
    positions.push_back(i);
  }
  for (std::size_t i = kPage + kManifestHeaderSize;
       i < kPage + kManifestHeaderSize + 2 * kRecordSize; ++i) {
    positions.push_back(i);
  }
  int accepted = 0;
  for (const std::size_t pos : positions) {
    for (const uint8_t value : std::initializer_list<uint8_t>{0x00, 0x01, 0x7f, 0x80, 0xff}) {
      Bytes archive = good;
      archive[pos] = std::byte{value};
      // Corrupting the manifest itself would just fail its digest; re-record the digest so that
      // make_plan() sees the corrupt bytes.
      if (pos >= kPage) {
        const abi::ArchiveEntry e = entry_of(archive, 0);
        const keel::tool::Sha256Digest d =
            keel::tool::sha256(std::span<const std::byte>(archive).subspan(e.offset, e.size));
        patch_entry(archive, 0,
                    [&d](abi::ArchiveEntry& x) { std::memcpy(x.sha256, d.data(), 32); });
      }
      root::Diagnostic diag;
      root::Plan plan{};
      const uint8_t* base = data_of(archive);
      if (!root::check_archive(base, archive.size(), diag) || !root::make_plan(base, plan, diag)) {
        CHECK(diag.failed());
        continue;
      }
      ++accepted;
      CHECK_FALSE(diag.failed());
      for (uint32_t i = 0; i < plan.server_count; ++i) {
        root::Diagnostic ignored;
        (void)root::check_digest(base, plan.binaries[i].entry, ignored);
      }
    }
  }
  // Some corruptions are harmless (a digest byte of an unchecked binary, a reserved field).
  CHECK(accepted > 0);
}
