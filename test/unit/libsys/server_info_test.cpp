// SPDX-License-Identifier: MIT
//
// Unit tests for the server runtime's checks on the server-info page and its service lookup.
#include <abi/server.hpp>

#include <sys/server.hpp>

#include <catch2/catch.hpp>
#include <cstring>

using abi::ServerInfo;

namespace {

ServerInfo good_info() {
  ServerInfo info{};
  info.magic = ServerInfo::kMagic;
  info.version = ServerInfo::kVersion;
  std::strcpy(info.name, "testclient");
  info.cnode_radix = abi::kServerCNodeRadix;
  info.free_slots = {64, 1024};
  info.service_count = 2;
  std::strcpy(info.services[0].name, "kv");
  info.services[0].cptr = 16;
  std::strcpy(info.services[1].name, "echo");
  info.services[1].cptr = 17;
  return info;
}

}  // namespace

TEST_CASE("a well-formed info page passes", "[server-info]") {
  ServerInfo info = good_info();
  CHECK(sys::server_info_problem(info) == nullptr);
  info.free_slots = {1024, 1024};  // No free slots at all is allowed.
  CHECK(sys::server_info_problem(info) == nullptr);
}

TEST_CASE("a damaged info page is refused with a reason", "[server-info]") {
  struct Damage {
    const char* what;
    void (*apply)(ServerInfo&);
  };
  const Damage damages[] = {
      {"magic", [](ServerInfo& i) { i.magic = 0; }},
      {"version", [](ServerInfo& i) { i.version = ServerInfo::kVersion + 1; }},
      {"name", [](ServerInfo& i) { std::memset(i.name, 'x', sizeof i.name); }},
      {"service count", [](ServerInfo& i) { i.service_count = abi::kManifestMaxPerServer + 1; }},
      {"port count", [](ServerInfo& i) { i.port_count = 99; }},
      {"untyped count", [](ServerInfo& i) { i.untyped_count = ServerInfo::kMaxUntyped + 1; }},
      {"service name",
       [](ServerInfo& i) { std::memset(i.services[1].name, 'y', sizeof i.services[1].name); }},
      {"radix", [](ServerInfo& i) { i.cnode_radix = 64; }},
      {"slots into fixed", [](ServerInfo& i) { i.free_slots = {3, 100}; }},
      {"slots past the end", [](ServerInfo& i) { i.free_slots = {64, 1025}; }},
      {"slots reversed", [](ServerInfo& i) { i.free_slots = {100, 64}; }},
  };
  for (const Damage& d : damages) {
    INFO(d.what);
    ServerInfo info = good_info();
    d.apply(info);
    CHECK(sys::server_info_problem(info) != nullptr);
  }
}

TEST_CASE("services are found by exact name", "[server-info]") {
  ServerInfo info = good_info();
  auto kv = sys::find_service(info, "kv");
  REQUIRE(kv.ok());
  CHECK(kv.value() == 16);
  auto echo = sys::find_service(info, "echo");
  REQUIRE(echo.ok());
  CHECK(echo.value() == 17);
  for (const char* name : {"k", "kvx", "ech", "console", ""}) {
    INFO(name);
    auto r = sys::find_service(info, name);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == abi::Status::kNotFound);
  }
}

TEST_CASE("only the granted entries are searched", "[server-info]") {
  ServerInfo info = good_info();
  info.service_count = 1;
  CHECK_FALSE(sys::find_service(info, "echo").ok());
  // A full-length name (31 characters and the terminator) is still found.
  std::memset(info.services[0].name, 'n', abi::kManifestMaxName - 1);
  info.services[0].name[abi::kManifestMaxName - 1] = '\0';
  std::string name(abi::kManifestMaxName - 1, 'n');
  CHECK(sys::find_service(info, name.c_str()).ok());
}
