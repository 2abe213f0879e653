// SPDX-License-Identifier: MIT
//
// Unit tests for the manifest tool: the TOML schema and every error it reports (each checked
// word for word, with file, line, column and key), the dependency ordering, the binary checks,
// the binary manifest and the boot archive. Most manifests are inline so that a test and its
// expected positions sit side by side; the larger ones live in manifests/ next to this file.
#include "manifest.hpp"

#include <abi/boot_archive.hpp>
#include <abi/manifest.hpp>

#include <sys/wait.h>

#include "../support/elf_image.hpp"
#include "archive.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <openssl/evp.h>
#include <random>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using keel::test::ImageBuilder;
using keel::tool::Manifest;
using keel::tool::ServerSpec;
using Lines = std::vector<std::string>;
using Bytes = std::vector<std::byte>;

Lines format(const std::vector<keel::tool::Diagnostic>& errors) {
  Lines out;
  for (const auto& d : errors) {
    out.push_back(keel::tool::format_diagnostic(d));
  }
  return out;
}

Lines errors_of(std::string_view text) {
  return format(keel::tool::parse_manifest(text, "test.toml").errors);
}

Manifest good_model(std::string_view text) {
  auto result = keel::tool::parse_manifest(text, "test.toml");
  INFO(Catch::Detail::stringify(format(result.errors)));
  REQUIRE(result.errors.empty());
  return result.manifest;
}

// One server with every required key, on lines 1 to 5; tests append lines 6 and on.
std::string server(std::string_view name) {
  const std::string n(name);
  return "[[server]]\nname = \"" + n + "\"\nbinary = \"" + n +
         ".elf\"\npriority = 10\nmemory = 4096\n";
}

// The manifests/ directory next to this file. Meson runs tests from the build directory, which
// is where a relative __FILE__ is relative to.
fs::path data_dir() {
  return fs::path(__FILE__).parent_path() / "manifests";
}

std::vector<std::string> names_in_order(const Manifest& m) {
  const auto order = keel::tool::dependency_order(m);
  REQUIRE(order.has_value());
  std::vector<std::string> out;
  for (const std::size_t i : *order) {
    out.push_back(m.servers[i].name);
  }
  return out;
}

Bytes to_bytes(std::string_view text) {
  Bytes out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

Bytes good_elf() {
  return ImageBuilder::good().serialise<std::byte>();
}

std::string openssl_sha256_hex(const void* data, std::size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr) == 1);
  std::string out;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kDigits[digest[i] >> 4]);
    out.push_back(kDigits[digest[i] & 0xf]);
  }
  return out;
}

// A directory under the system temporary directory, removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "keel-manifest-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }

  const fs::path& path() const { return path_; }

  std::string write(const std::string& name, const Bytes& bytes) const {
    const fs::path file = path_ / name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
    return file.string();
  }

  std::string write_text(const std::string& name, std::string_view text) const {
    return write(name, to_bytes(text));
  }

 private:
  fs::path path_;
};

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Bytes out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Good manifests and defaults.

TEST_CASE("manifest: a minimal server gets every default", "[manifest]") {
  const Manifest m = good_model(server("console"));
  CHECK(m.file == "test.toml");
  CHECK(m.min_memory == 128u << 20);
  REQUIRE(m.servers.size() == 1);
  const ServerSpec& s = m.servers[0];
  CHECK(s.name == "console");
  CHECK(s.binary == "console.elf");
  CHECK(s.priority == 10);
  CHECK(s.memory == 4096);
  CHECK(s.provides.empty());
  CHECK(s.required.empty());
  CHECK(s.restart == abi::RestartPolicy::kNever);
  CHECK(s.restart_limit == 0);
  CHECK(s.backoff_ms == 0);
  CHECK(s.start == abi::StartMode::kBoot);
  CHECK(s.ports.empty());
  CHECK(s.irqs.empty());
  CHECK(s.mmio.empty());
  CHECK(s.pos.line == 1);
  CHECK(s.binary_pos.line == 3);
  CHECK(s.binary_pos.column == 10);
}

TEST_CASE("manifest: empty restart and hardware tables keep the defaults", "[manifest]") {
  const Manifest m = good_model(server("a") + "restart = {}\nhardware = {}\nprovides = []\n");
  const ServerSpec& s = m.servers[0];
  CHECK(s.restart == abi::RestartPolicy::kNever);
  CHECK(s.restart_limit == 0);
  CHECK(s.provides.empty());
  CHECK(s.ports.empty());
}

TEST_CASE("manifest: the full example reads every key", "[manifest]") {
  const auto result = keel::tool::load_manifest((data_dir() / "good.toml").string());
  INFO(Catch::Detail::stringify(format(result.errors)));
  REQUIRE(result.errors.empty());
  const Manifest& m = result.manifest;
  CHECK(m.min_memory == 64u << 20);
  REQUIRE(m.servers.size() == 4);

  const ServerSpec& shell = m.servers[0];
  CHECK(shell.name == "shell");
  CHECK(shell.memory == 1u << 20);
  REQUIRE(shell.required.size() == 2);
  CHECK(shell.required[0].value == "display");
  CHECK(shell.required[1].value == "log");
  CHECK(shell.required[1].pos.line == 13);
  CHECK(shell.required[1].pos.column == 24);

  const ServerSpec& serial = m.servers[1];
  CHECK(serial.priority == 200);
  CHECK(serial.memory == 256u << 10);
  CHECK(serial.restart == abi::RestartPolicy::kOnCrash);
  CHECK(serial.restart_limit == 3);
  CHECK(serial.backoff_ms == 100);
  REQUIRE(serial.ports.size() == 1);
  CHECK(serial.ports[0].value.first == 0x3f8);
  CHECK(serial.ports[0].value.last == 0x3ff);
  REQUIRE(serial.irqs.size() == 1);
  CHECK(serial.irqs[0].value == 4);

  const ServerSpec& log = m.servers[2];
  CHECK(log.memory == 65536);
  CHECK(log.restart == abi::RestartPolicy::kAlways);
  CHECK(log.restart_limit == 1000);
  CHECK(log.backoff_ms == 60000);

  const ServerSpec& fb = m.servers[3];
  CHECK(fb.binary == "log.elf");
  CHECK(fb.memory == 4u << 20);
  REQUIRE(fb.provides.size() == 2);
  CHECK(fb.provides[1].value == "fb-raw");
  REQUIRE(fb.ports.size() == 2);
  CHECK(fb.ports[1].value.first == 0xffff);
  REQUIRE(fb.irqs.size() == 2);
  CHECK(fb.irqs[1].value == 23);
  REQUIRE(fb.mmio.size() == 2);
  CHECK(fb.mmio[0].value.base == 0xfd000000);
  CHECK(fb.mmio[0].value.size == 0x400000);

  CHECK(names_in_order(m) == Lines{"serial", "log", "fb", "shell"});
}

TEST_CASE("manifest: sizes take K, M and G suffixes and plain byte counts", "[manifest]") {
  CHECK(keel::tool::parse_size("0") == 0u);
  CHECK(keel::tool::parse_size("4096") == 4096u);
  CHECK(keel::tool::parse_size("256K") == 256u << 10);
  CHECK(keel::tool::parse_size("4M") == 4u << 20);
  CHECK(keel::tool::parse_size("2G") == 2ull << 30);
  CHECK(keel::tool::parse_size("17179869183G") == 17179869183ull << 30);
  CHECK_FALSE(keel::tool::parse_size("17179869184G"));
  CHECK_FALSE(keel::tool::parse_size("18446744073709551616"));
  CHECK_FALSE(keel::tool::parse_size(""));
  CHECK_FALSE(keel::tool::parse_size("K"));
  CHECK_FALSE(keel::tool::parse_size("4k"));
  CHECK_FALSE(keel::tool::parse_size("4 M"));
  CHECK_FALSE(keel::tool::parse_size("-4K"));
  CHECK_FALSE(keel::tool::parse_size("4MB"));
  CHECK(good_model("min_memory = 1073741824\n" + server("a")).min_memory == 1u << 30);
  CHECK(good_model("min_memory = \"1G\"\n" + server("a")).min_memory == 1u << 30);
}

TEST_CASE("manifest: on-first-use parses but is reported as not supported yet", "[manifest]") {
  const auto result =
      keel::tool::parse_manifest(server("a") + "start = \"on-first-use\"\n", "test.toml");
  CHECK(format(result.errors) ==
        Lines{"test.toml:6:9: server[0].start: start mode on-first-use is not supported yet"});
  REQUIRE(result.manifest.servers.size() == 1);
  CHECK(result.manifest.servers[0].start == abi::StartMode::kOnFirstUse);
}

// ---------------------------------------------------------------------------------------------
// File-level errors.

TEST_CASE("manifest error: TOML syntax", "[manifest][errors]") {
  CHECK(errors_of("a = 1\nb = = 2\n") ==
        Lines{"test.toml:2:5: manifest: Error while parsing value: could not determine value "
              "type"});
  CHECK(errors_of("[[server]]\nname = \"a\"\nname = \"b\"\n") ==
        Lines{"test.toml:3:8: manifest: Error while parsing key-value pair: cannot redefine "
              "existing string 'name'"});
}

TEST_CASE("manifest error: unreadable file", "[manifest][errors]") {
  TempDir dir;
  const std::string path = (dir.path() / "missing.toml").string();
  CHECK(format(keel::tool::load_manifest(path).errors) ==
        Lines{path + ":1:1: manifest: cannot read: No such file or directory"});
  CHECK(format(keel::tool::load_manifest(dir.path().string()).errors) ==
        Lines{dir.path().string() + ":1:1: manifest: cannot read: not a regular file"});
}

TEST_CASE("manifest error: no servers", "[manifest][errors]") {
  CHECK(errors_of("") == Lines{"test.toml:1:1: manifest: no [[server]] entries"});
  CHECK(errors_of("min_memory = \"1M\"\n") ==
        Lines{"test.toml:1:1: manifest: no [[server]] entries"});
  CHECK(errors_of("min_memory = \"1M\"\nserver = []\n") ==
        Lines{"test.toml:2:10: server: no [[server]] entries"});
}

TEST_CASE("manifest error: more than 32 servers", "[manifest][errors]") {
  std::string text;
  for (int i = 0; i < 33; ++i) {
    text += server("s" + std::to_string(i));
  }
  CHECK(errors_of(text) == Lines{"test.toml:1:1: server: too many servers: 33, at most 32"});
  std::string fits;
  for (int i = 0; i < 32; ++i) {
    fits += server("s" + std::to_string(i));
  }
  CHECK(errors_of(fits).empty());
}

TEST_CASE("manifest error: unknown keys at every level", "[manifest][errors]") {
  CHECK(errors_of("colour = 1\n" + server("a")) == Lines{"test.toml:1:1: colour: unknown key"});
  CHECK(errors_of(server("a") + "colour = 1\n") ==
        Lines{"test.toml:6:1: server[0].colour: unknown key"});
  CHECK(errors_of(server("a") + "restart = { policy = \"never\", retries = 2 }\n") ==
        Lines{"test.toml:6:31: server[0].restart.retries: unknown key"});
  CHECK(errors_of(server("a") + "[server.hardware]\ndma = [1]\n") ==
        Lines{"test.toml:7:1: server[0].hardware.dma: unknown key"});
  CHECK(errors_of(server("a") + "\"odd key\" = 1\n") ==
        Lines{"test.toml:6:1: server[0].\"odd key\": unknown key"});
  // `require` for `requires` is the typo this check exists for.
  CHECK(errors_of(server("a") + server("b") + "require = [\"x\"]\n") ==
        Lines{"test.toml:11:1: server[1].require: unknown key"});
}

TEST_CASE("manifest error: wrong types", "[manifest][errors]") {
  CHECK(errors_of("[server]\nname = \"a\"\n") ==
        Lines{"test.toml:1:1: server: expected an array of tables ([[server]]), got a table"});
  CHECK(errors_of("server = [1]\n") ==
        Lines{"test.toml:1:11: server[0]: expected a table, got an integer"});
  CHECK(errors_of("[[server]]\nname = 7\nbinary = \"a.elf\"\npriority = 10\nmemory = 4096\n") ==
        Lines{"test.toml:2:8: server[0].name: expected a string, got an integer"});
  CHECK(errors_of("[[server]]\nname = \"a\"\nbinary = [\"a.elf\"]\npriority = 10\n"
                  "memory = 4096\n") ==
        Lines{"test.toml:3:10: server[0].binary: expected a string, got an array"});
  CHECK(errors_of("[[server]]\nname = \"a\"\nbinary = \"a.elf\"\npriority = \"high\"\n"
                  "memory = 4096\n") ==
        Lines{"test.toml:4:12: server[0].priority: expected an integer, got a string"});
  CHECK(errors_of("[[server]]\nname = \"a\"\nbinary = \"a.elf\"\npriority = 1.5\n"
                  "memory = 4096\n") ==
        Lines{"test.toml:4:12: server[0].priority: expected an integer, got a float"});
  CHECK(errors_of("[[server]]\nname = \"a\"\nbinary = \"a.elf\"\npriority = 10\n"
                  "memory = true\n") ==
        Lines{"test.toml:5:10: server[0].memory: expected a size (an integer or a string such "
              "as \"4M\"), got a boolean"});
  CHECK(errors_of(server("a") + "provides = \"log\"\n") ==
        Lines{"test.toml:6:12: server[0].provides: expected an array of service names, got a "
              "string"});
  CHECK(errors_of(server("a") + "provides = [\"log\", 2]\n") ==
        Lines{"test.toml:6:20: server[0].provides[1]: expected a string, got an integer"});
  CHECK(errors_of(server("a") + "restart = \"never\"\n") ==
        Lines{"test.toml:6:11: server[0].restart: expected a table, got a string"});
  CHECK(errors_of(server("a") + "restart = { policy = 1 }\n") ==
        Lines{"test.toml:6:22: server[0].restart.policy: expected a string, got an integer"});
  CHECK(errors_of(server("a") + "restart = { policy = \"always\", limit = \"3\" }\n") ==
        Lines{"test.toml:6:40: server[0].restart.limit: expected an integer, got a string"});
  CHECK(errors_of(server("a") + "start = 1979-05-27\n") ==
        Lines{"test.toml:6:9: server[0].start: expected a string, got a date"});
  CHECK(errors_of(server("a") + "hardware = [1]\n") ==
        Lines{"test.toml:6:12: server[0].hardware: expected a table, got an array"});
  CHECK(errors_of(server("a") + "hardware.irqs = 4\n") ==
        Lines{"test.toml:6:17: server[0].hardware.irqs: expected an array of IRQ lines, got an "
              "integer"});
  CHECK(errors_of(server("a") + "hardware.ioports = [0x3f8]\n") ==
        Lines{"test.toml:6:21: server[0].hardware.ioports[0]: expected a [first, last] pair of "
              "integers, got an integer"});
  CHECK(errors_of(server("a") + "hardware.ioports = [[1, 2, 3]]\n") ==
        Lines{"test.toml:6:21: server[0].hardware.ioports[0]: expected a [first, last] pair of "
              "integers, got 3 elements"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[4096, \"4K\"]]\n") ==
        Lines{"test.toml:6:25: server[0].hardware.mmio[0][1]: expected an integer, got a "
              "string"});
  CHECK(errors_of(server("a") + "hardware.mmio = \"none\"\n") ==
        Lines{"test.toml:6:17: server[0].hardware.mmio: expected an array of [base, size] "
              "pairs, got a string"});
}

TEST_CASE("manifest error: missing required keys", "[manifest][errors]") {
  CHECK(errors_of("min_memory = \"1M\"\n\n[[server]]\nstart = \"boot\"\n") ==
        Lines{"test.toml:3:1: server[0].name: missing required key",
              "test.toml:3:1: server[0].binary: missing required key",
              "test.toml:3:1: server[0].priority: missing required key",
              "test.toml:3:1: server[0].memory: missing required key"});
  CHECK(errors_of(server("a") + "[[server]]\nname = \"b\"\nbinary = \"b.elf\"\nmemory = 4096\n") ==
        Lines{"test.toml:6:1: server[1].priority: missing required key"});
  CHECK(errors_of("server = [{ name = \"a\", binary = \"a.elf\", priority = 1 }]\n") ==
        Lines{"test.toml:1:11: server[0].memory: missing required key"});
}

// ---------------------------------------------------------------------------------------------
// Per-value errors.

TEST_CASE("manifest error: server names", "[manifest][errors]") {
  CHECK(errors_of(server("Console")) ==
        Lines{"test.toml:2:8: server[0].name: invalid server name \"Console\": use 1 to 31 "
              "characters from a-z, 0-9 and '-'"});
  CHECK(errors_of(server("")) ==
        Lines{"test.toml:2:8: server[0].name: invalid server name \"\": use 1 to 31 characters "
              "from a-z, 0-9 and '-'"});
  const std::string longest(31, 'x');
  CHECK(errors_of("[[server]]\nname = \"" + longest +
                  "\"\nbinary = \"a\"\npriority = 1\n"
                  "memory = 4096\n")
            .empty());
  CHECK(errors_of("[[server]]\nname = \"" + longest +
                  "y\"\nbinary = \"a\"\npriority = 1\n"
                  "memory = 4096\n") ==
        Lines{"test.toml:2:8: server[0].name: invalid server name \"" + longest +
              "y\": use 1 to 31 characters from a-z, 0-9 and '-'"});
  CHECK(errors_of("[[server]]\nname = \"a\\tb\\\"\"\nbinary = \"a\"\npriority = 1\n"
                  "memory = 4096\n") ==
        Lines{"test.toml:2:8: server[0].name: invalid server name \"a\\x09b\\\"\": use 1 to 31 "
              "characters from a-z, 0-9 and '-'"});
}

TEST_CASE("manifest error: duplicate server names", "[manifest][errors]") {
  CHECK(errors_of(server("a") + server("b") + server("a")) ==
        Lines{"test.toml:12:8: server[2].name: server name a is already used by server[0]"});
}

TEST_CASE("manifest error: binary names", "[manifest][errors]") {
  const auto with_binary = [](std::string_view binary) {
    return errors_of("[[server]]\nname = \"a\"\nbinary = \"" + std::string(binary) +
                     "\"\npriority = 1\nmemory = 4096\n");
  };
  const std::string rule =
      ": use a file name of 1 to 31 characters from A-Z, a-z, 0-9, '.', '_', '+' and '-'";
  CHECK(with_binary("bin/a.elf") ==
        Lines{"test.toml:3:10: server[0].binary: invalid binary name \"bin/a.elf\"" + rule});
  CHECK(with_binary("..") ==
        Lines{"test.toml:3:10: server[0].binary: invalid binary name \"..\"" + rule});
  CHECK(with_binary("") ==
        Lines{"test.toml:3:10: server[0].binary: invalid binary name \"\"" + rule});
  CHECK(with_binary(std::string(32, 'b')) ==
        Lines{"test.toml:3:10: server[0].binary: invalid binary name \"" + std::string(32, 'b') +
              "\"" + rule});
  CHECK(with_binary(std::string(31, 'b')).empty());
  CHECK(with_binary("Console_2+x.ELF").empty());
  CHECK(with_binary("manifest") ==
        Lines{"test.toml:3:10: server[0].binary: binary name manifest is reserved for the "
              "binary manifest"});
}

TEST_CASE("manifest error: priority out of range", "[manifest][errors]") {
  const auto with_priority = [](std::string_view priority) {
    return errors_of("[[server]]\nname = \"a\"\nbinary = \"a.elf\"\npriority = " +
                     std::string(priority) + "\nmemory = 4096\n");
  };
  CHECK(with_priority("0") ==
        Lines{"test.toml:4:12: server[0].priority: expected an integer in 1..254, got 0"});
  CHECK(with_priority("255") ==
        Lines{"test.toml:4:12: server[0].priority: expected an integer in 1..254, got 255"});
  CHECK(with_priority("-1") ==
        Lines{"test.toml:4:12: server[0].priority: expected an integer in 1..254, got -1"});
  CHECK(with_priority("1").empty());
  CHECK(with_priority("254").empty());
}

TEST_CASE("manifest error: memory budgets", "[manifest][errors]") {
  const auto with_memory = [](std::string_view memory) {
    return errors_of("[[server]]\nname = \"a\"\nbinary = \"a.elf\"\npriority = 1\nmemory = " +
                     std::string(memory) + "\n");
  };
  CHECK(with_memory("0") ==
        Lines{"test.toml:5:10: server[0].memory: memory budget must be more than 0 bytes"});
  CHECK(with_memory("\"0K\"") ==
        Lines{"test.toml:5:10: server[0].memory: memory budget must be more than 0 bytes"});
  CHECK(with_memory("4097") ==
        Lines{"test.toml:5:10: server[0].memory: memory budget 4097 bytes is not a multiple of "
              "the page size 4096"});
  CHECK(with_memory("-4096") ==
        Lines{"test.toml:5:10: server[0].memory: size must not be negative, got -4096"});
  CHECK(with_memory("\"4 MB\"") ==
        Lines{"test.toml:5:10: server[0].memory: invalid size \"4 MB\": expected a number of "
              "bytes with an optional K, M or G suffix"});
  CHECK(with_memory("\"99999999999G\"") ==
        Lines{"test.toml:5:10: server[0].memory: size \"99999999999G\" is too large"});
  CHECK(with_memory("\"1K\"") ==
        Lines{"test.toml:5:10: server[0].memory: memory budget 1024 bytes is not a multiple of "
              "the page size 4096"});
  CHECK(with_memory("\"4K\"").empty());
}

TEST_CASE("manifest error: minimum memory", "[manifest][errors]") {
  CHECK(errors_of("min_memory = 0\n" + server("a")) ==
        Lines{"test.toml:1:14: min_memory: minimum memory must be more than 0 bytes"});
  CHECK(errors_of("min_memory = \"lots\"\n" + server("a")) ==
        Lines{"test.toml:1:14: min_memory: invalid size \"lots\": expected a number of bytes "
              "with an optional K, M or G suffix"});
  CHECK(errors_of("min_memory = [1]\n" + server("a")) ==
        Lines{"test.toml:1:14: min_memory: expected a size (an integer or a string such as "
              "\"4M\"), got an array"});
}

TEST_CASE("manifest error: service names and list lengths", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "provides = [\"Log\"]\n") ==
        Lines{"test.toml:6:13: server[0].provides[0]: invalid service name \"Log\": use 1 to 31 "
              "characters from a-z, 0-9 and '-'"});
  CHECK(errors_of(server("a") + "provides = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", "
                                "\"h\", \"i\"]\n") ==
        Lines{"test.toml:6:12: server[0].provides: too many entries: 9, at most 8"});
  CHECK(errors_of(server("a") + "provides = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", "
                                "\"h\"]\n")
            .empty());
  CHECK(errors_of(server("a") + "hardware.irqs = [0, 1, 2, 3, 4, 5, 6, 7, 9]\n") ==
        Lines{"test.toml:6:17: server[0].hardware.irqs: too many entries: 9, at most 8"});
  CHECK(errors_of(server("a") + "provides = [\"log\", \"log\"]\n") ==
        Lines{"test.toml:6:20: server[0].provides[1]: service log is listed twice"});
  CHECK(errors_of(server("a") + "provides = [\"log\"]\n" + server("b") +
                  "requires = [\"log\", \"log\"]\n") ==
        Lines{"test.toml:12:20: server[1].requires[1]: service log is listed twice"});
}

TEST_CASE("manifest error: more than 64 services", "[manifest][errors]") {
  std::string text;
  for (int s = 0; s < 9; ++s) {
    text += server("s" + std::to_string(s)) + "provides = [";
    for (int k = 0; k < 8; ++k) {
      text += (k == 0 ? "\"" : ", \"") + std::to_string(s) + "-" + std::to_string(k) + "\"";
    }
    text += "]\n";
  }
  CHECK(errors_of(text) == Lines{"test.toml:1:1: manifest: too many services: 72, at most 64"});
}

TEST_CASE("manifest error: restart policy", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "restart = { policy = \"sometimes\" }\n") ==
        Lines{"test.toml:6:22: server[0].restart.policy: expected \"never\", \"on-crash\" or "
              "\"always\", got \"sometimes\""});
  CHECK(errors_of(server("a") + "restart = { policy = \"always\", limit = 1001 }\n") ==
        Lines{"test.toml:6:40: server[0].restart.limit: expected an integer in 0..1000, got "
              "1001"});
  CHECK(
      errors_of(server("a") + "restart = { policy = \"always\", limit = 1, backoff_ms = -1 }\n") ==
      Lines{"test.toml:6:56: server[0].restart.backoff_ms: expected an integer in 0..60000, "
            "got -1"});
  CHECK(errors_of(server("a") + "restart = { policy = \"always\", limit = 1, "
                                "backoff_ms = 60001 }\n") ==
        Lines{"test.toml:6:56: server[0].restart.backoff_ms: expected an integer in 0..60000, "
              "got 60001"});
  CHECK(errors_of(server("a") + "restart = { limit = 2 }\n") ==
        Lines{"test.toml:6:21: server[0].restart.limit: restart limit must be 0 with policy "
              "never, got 2"});
  CHECK(errors_of(server("a") + "restart = { policy = \"on-crash\" }\n") ==
        Lines{"test.toml:6:11: server[0].restart.limit: policy on-crash needs a restart limit "
              "of at least 1"});
  CHECK(errors_of(server("a") + "[server.restart]\npolicy = \"always\"\nlimit = 0\n") ==
        Lines{"test.toml:8:9: server[0].restart.limit: policy always needs a restart limit of "
              "at least 1"});
  CHECK(errors_of(server("a") + "restart = { policy = \"never\", limit = 0, backoff_ms = 5 }\n")
            .empty());
}

TEST_CASE("manifest error: start mode", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "start = \"lazy\"\n") ==
        Lines{"test.toml:6:9: server[0].start: expected \"boot\" or \"on-first-use\", got "
              "\"lazy\""});
  CHECK(errors_of(server("a") + "start = \"boot\"\n").empty());
}

TEST_CASE("manifest error: I/O port ranges", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x3f8, 0x10000]]\n") ==
        Lines{"test.toml:6:29: server[0].hardware.ioports[0][1]: expected a port number in "
              "0x0..0xffff, got 0x10000"});
  CHECK(errors_of(server("a") + "hardware.ioports = [[-1, 2]]\n") ==
        Lines{"test.toml:6:22: server[0].hardware.ioports[0][0]: expected a port number in "
              "0x0..0xffff, got -1"});
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x60, 0x60], [0x3ff, 0x3f8]]\n") ==
        Lines{"test.toml:6:35: server[0].hardware.ioports[1]: first port 0x3ff is after last "
              "port 0x3f8"});
}

TEST_CASE("manifest error: ports the kernel or the root task keep", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x60, 0x70]]\n") ==
        Lines{"test.toml:6:21: server[0].hardware.ioports[0]: ports 0x60..0x70 include the root "
              "task's (the real-time clock, its timer)"});
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x43, 0x43], [0xa1, 0xa2]]\n") ==
        Lines{"test.toml:6:21: server[0].hardware.ioports[0]: ports 0x43..0x43 include the "
              "kernel's (the PIT)",
              "test.toml:6:35: server[0].hardware.ioports[1]: ports 0xa1..0xa2 include the "
              "kernel's (the slave PIC)"});
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x22, 0x3f], [0x72, 0x9f]]\n").empty());
}

TEST_CASE("manifest error: IRQ lines", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.irqs = [1, 24]\n") ==
        Lines{"test.toml:6:21: server[0].hardware.irqs[1]: expected an IRQ line in 0..23, got "
              "24"});
  CHECK(errors_of(server("a") + "hardware.irqs = [-1]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.irqs[0]: expected an IRQ line in 0..23, got "
              "-1"});
  CHECK(errors_of(server("a") + "hardware.irqs = [7, 8, 9]\n") ==
        Lines{"test.toml:6:21: server[0].hardware.irqs[1]: IRQ 8 is the real-time clock's, "
              "which the root task keeps for its timer"});
}

TEST_CASE("manifest error: MMIO ranges on the interrupt controllers", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfee00000, 0x1000]]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.mmio[0]: MMIO range [0xfee00000, 0xfee01000) "
              "includes the kernel's local APIC registers at 0xfee00000"});
  // Any overlap counts, from below or above.
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfebff000, 0x2000]]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.mmio[0]: MMIO range [0xfebff000, 0xfec01000) "
              "includes the kernel's I/O APIC registers at 0xfec00000"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfe000000, 0x1000000]]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.mmio[0]: MMIO range [0xfe000000, 0xff000000) "
              "includes the kernel's I/O APIC registers at 0xfec00000"});
  // Next to them is fine.
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfebff000, 0x1000], [0xfec01000, 0x1000], "
                                "[0xfee01000, 0x1000]]\n")
            .empty());
}

TEST_CASE("manifest error: MMIO ranges", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfe000010, 0x1000]]\n") ==
        Lines{"test.toml:6:19: server[0].hardware.mmio[0][0]: MMIO base 0xfe000010 is not page "
              "aligned"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfe000000, 0]]\n") ==
        Lines{"test.toml:6:31: server[0].hardware.mmio[0][1]: MMIO size must be more than 0, "
              "got 0"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfe000000, 0x10]]\n") ==
        Lines{"test.toml:6:31: server[0].hardware.mmio[0][1]: MMIO size 0x10 is not a multiple "
              "of the page size 0x1000"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[-4096, 4096]]\n") ==
        Lines{"test.toml:6:19: server[0].hardware.mmio[0][0]: MMIO base must not be negative, "
              "got -4096"});
  // Both halves are signed 64-bit TOML integers, so base + size cannot wrap; the 52-bit
  // physical address space is the real bound and is checked instead.
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xffffffffff000, 0x2000]]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.mmio[0]: MMIO range [0xffffffffff000, "
              "0x10000000001000) reaches past the 52-bit physical address space"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[0x7ffffffffffff000, 0x7ffffffffffff000]]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.mmio[0]: MMIO range [0x7ffffffffffff000, "
              "0xffffffffffffe000) reaches past the 52-bit physical address space"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xffffffffff000, 0x1000]]\n").empty());
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfed00000]]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.mmio[0]: expected a [base, size] pair of "
              "integers, got 1 element"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[]]\n") ==
        Lines{"test.toml:6:18: server[0].hardware.mmio[0]: expected a [base, size] pair of "
              "integers, got 0 elements"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[0, 4096], [4096, 4096], [8192, 4096], "
                                "[12288, 4096], [16384, 4096], [20480, 4096], [24576, 4096], "
                                "[28672, 4096], [32768, 4096]]\n") ==
        Lines{"test.toml:6:17: server[0].hardware.mmio: too many entries: 9, at most 8"});
}

// ---------------------------------------------------------------------------------------------
// Errors across servers.

TEST_CASE("manifest error: a required service that nobody provides", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "requires = [\"fs\"]\n") ==
        Lines{"test.toml:6:13: server[0].requires[0]: requires service fs that no server "
              "provides"});
}

TEST_CASE("manifest error: a service provided by two servers", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "provides = [\"log\"]\n" + server("b") +
                  "provides = [\"x\", \"log\"]\n") ==
        Lines{"test.toml:12:18: server[1].provides[1]: service log is already provided by "
              "server a"});
}

TEST_CASE("manifest error: a server requiring its own service", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "provides = [\"log\"]\nrequires = [\"log\"]\n") ==
        Lines{"test.toml:7:13: server[0].requires[0]: requires service log that it provides "
              "itself"});
}

TEST_CASE("manifest error: dependency cycles print the cycle", "[manifest][errors]") {
  SECTION("two servers") {
    CHECK(errors_of(server("a") + "provides = [\"x\"]\nrequires = [\"y\"]\n" + server("b") +
                    "provides = [\"y\"]\nrequires = [\"x\"]\n") ==
          Lines{"test.toml:7:13: server[0].requires[0]: dependency cycle: a -> b -> a"});
  }
  SECTION("three servers, written against the cycle's direction") {
    CHECK(errors_of(server("c") + "provides = [\"c\"]\nrequires = [\"a\"]\n" + server("b") +
                    "provides = [\"b\"]\nrequires = [\"c\"]\n" + server("a") +
                    "provides = [\"a\"]\nrequires = [\"b\"]\n") ==
          Lines{"test.toml:7:13: server[0].requires[0]: dependency cycle: c -> a -> b -> c"});
  }
  SECTION("the shortest cycle through the first server, at the entry that starts it") {
    // a needs b (first) and c; c needs a directly, b reaches a only through d.
    CHECK(errors_of(server("a") + "provides = [\"a\"]\nrequires = [\"b\", \"c\"]\n" + server("b") +
                    "provides = [\"b\"]\nrequires = [\"d\"]\n" + server("c") +
                    "provides = [\"c\"]\nrequires = [\"a\"]\n" + server("d") +
                    "provides = [\"d\"]\nrequires = [\"a\"]\n") ==
          Lines{"test.toml:7:18: server[0].requires[1]: dependency cycle: a -> c -> a"});
  }
  SECTION("separate cycles are each reported; servers hanging off one are not") {
    CHECK(errors_of(server("t") + "requires = [\"p\"]\n" + server("p") +
                    "provides = [\"p\"]\nrequires = [\"q\"]\n" + server("q") +
                    "provides = [\"q\"]\nrequires = [\"p\"]\n" + server("r") +
                    "provides = [\"r\"]\nrequires = [\"s\"]\n" + server("s") +
                    "provides = [\"s\"]\nrequires = [\"r\"]\n") ==
          Lines{"test.toml:13:13: server[1].requires[0]: dependency cycle: p -> q -> p",
                "test.toml:27:13: server[3].requires[0]: dependency cycle: r -> s -> r"});
  }
}

TEST_CASE("manifest error: overlapping I/O port grants", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x3f8, 0x3ff]]\n" + server("b") +
                  "hardware.ioports = [[0x60, 0x64], [0x3ff, 0x400]]\n") ==
        Lines{"test.toml:12:35: server[1].hardware.ioports[1]: I/O ports 0x3ff-0x400 of server b "
              "overlap 0x3f8-0x3ff of server a"});
  // Adjacent ranges touch without sharing a port.
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x3f8, 0x3ff]]\n" + server("b") +
                  "hardware.ioports = [[0x400, 0x407], [0x3f0, 0x3f7]]\n")
            .empty());
  // Within one server too: the grant would be made twice.
  CHECK(errors_of(server("a") + "hardware.ioports = [[0x60, 0x6f], [0x64, 0x64]]\n") ==
        Lines{"test.toml:6:35: server[0].hardware.ioports[1]: I/O ports 0x64-0x64 of server a "
              "overlap 0x60-0x6f of server a"});
}

TEST_CASE("manifest error: the same IRQ line twice", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.irqs = [1, 4]\n" + server("b") +
                  "hardware.irqs = [3, 4]\n") ==
        Lines{"test.toml:12:21: server[1].hardware.irqs[1]: IRQ 4 of server b is also granted "
              "to server a"});
}

TEST_CASE("manifest error: overlapping MMIO grants", "[manifest][errors]") {
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfe000000, 0x2000]]\n" + server("b") +
                  "hardware.mmio = [[0xfe001000, 0x1000]]\n") ==
        Lines{"test.toml:12:18: server[1].hardware.mmio[0]: MMIO range [0xfe001000, 0xfe002000) "
              "of server b overlaps [0xfe000000, 0xfe002000) of server a"});
  CHECK(errors_of(server("a") + "hardware.mmio = [[0xfe000000, 0x2000]]\n" + server("b") +
                  "hardware.mmio = [[0xfe002000, 0x1000], [0xfedff000, 0x1000]]\n")
            .empty());
  // Within one server too: the same frames would be granted twice.
  CHECK(errors_of(server("a") +
                  "hardware.mmio = [[0xfed00000, 0x3000], [0xfed02000, 0x1000]]\n") ==
        Lines{"test.toml:6:40: server[0].hardware.mmio[1]: MMIO range [0xfed02000, 0xfed03000) "
              "of server a overlaps [0xfed00000, 0xfed03000) of server a"});
}

TEST_CASE("manifest error: budgets larger than the minimum memory", "[manifest][errors]") {
  const std::string two = "min_memory = \"64K\"\n" + server("a") + "memory = \"32K\"\n";
  CHECK(errors_of("min_memory = \"8K\"\n" + server("a") + server("b")).empty());
  CHECK(errors_of("min_memory = \"8K\"\n" + server("a") + server("b") + server("c")) ==
        Lines{"test.toml:1:1: manifest: memory budgets total 12288 bytes, more than the "
              "machine's minimum memory 8192 bytes"});
  // The default minimum is 128M.
  CHECK(errors_of("[[server]]\nname = \"a\"\nbinary = \"a\"\npriority = 1\nmemory = \"100M\"\n"
                  "[[server]]\nname = \"b\"\nbinary = \"b\"\npriority = 1\nmemory = \"28M\"\n")
            .empty());
  CHECK(errors_of("[[server]]\nname = \"a\"\nbinary = \"a\"\npriority = 1\nmemory = \"100M\"\n"
                  "[[server]]\nname = \"b\"\nbinary = \"b\"\npriority = 1\n"
                  "memory = 29364224\n") ==
        Lines{"test.toml:1:1: manifest: memory budgets total 134221824 bytes, more than the "
              "machine's minimum memory 134217728 bytes"});
}

TEST_CASE("manifest: every error in a file is reported, in file order", "[manifest][errors]") {
  const std::string file = (data_dir() / "many-errors.toml").string();
  const auto result = keel::tool::load_manifest(file);
  CHECK(format(result.errors) ==
        Lines{
            file + ":1:1: manifest: memory budgets total 2359296 bytes, more than the machine's "
                   "minimum memory 1048576 bytes",
            file + ":5:1: colour: unknown key",
            file + ":10:12: server[0].priority: expected an integer in 1..254, got 300",
            file + ":12:24: server[0].provides[1]: service console is listed twice",
            file + ":13:13: server[0].requires[0]: dependency cycle: console -> log -> console",
            file + ":14:11: server[0].restart.limit: policy on-crash needs a restart limit of "
                   "at least 1",
            file + ":15:9: server[0].start: start mode on-first-use is not supported yet",
            file + ":16:53: server[0].hardware.irqs[1]: expected an IRQ line in 0..23, got 24",
            file + ":22:10: server[1].memory: memory budget 1000 bytes is not a multiple of the "
                   "page size 4096",
            file + ":24:24: server[1].requires[1]: requires service fs that no server provides",
            file + ":25:21: server[1].hardware.ioports[0]: I/O ports 0x3fc-0x400 of server log "
                   "overlap 0x3f8-0x3ff of server console",
            file + ":26:18: server[1].hardware.irqs[0]: IRQ 4 of server log is also granted to "
                   "server console",
            file + ":27:18: server[1].hardware.mmio[0]: MMIO range [0xfe000000, 0xfe002000) of "
                   "server log overlaps [0xfe000000, 0xfe001000) of server console",
            file + ":27:41: server[1].hardware.mmio[1][0]: MMIO base 0x1 is not page aligned",
            file + ":27:44: server[1].hardware.mmio[1][1]: MMIO size must be more than 0, got 0",
            file + ":28:1: server[1].extra: unknown key",
            file + ":31:8: server[2].name: invalid server name \"Big\": use 1 to 31 characters "
                   "from a-z, 0-9 and '-'",
        });
}

// ---------------------------------------------------------------------------------------------
// Dependency ordering.

TEST_CASE("ordering: a chain starts from its end", "[manifest][order]") {
  const Manifest m =
      good_model(server("a") + "requires = [\"b\"]\n" + server("b") +
                 "provides = [\"b\"]\nrequires = [\"c\"]\n" + server("c") + "provides = [\"c\"]\n");
  CHECK(names_in_order(m) == Lines{"c", "b", "a"});
}

TEST_CASE("ordering: a diamond puts the shared provider first", "[manifest][order]") {
  // top needs left and right; both need base.
  const Manifest m =
      good_model(server("top") + "requires = [\"left\", \"right\"]\n" + server("right") +
                 "provides = [\"right\"]\nrequires = [\"base\"]\n" + server("left") +
                 "provides = [\"left\"]\nrequires = [\"base\"]\n" + server("base") +
                 "provides = [\"base\"]\n");
  CHECK(names_in_order(m) == Lines{"base", "right", "left", "top"});
}

TEST_CASE("ordering: independent servers keep manifest order", "[manifest][order]") {
  const Manifest m = good_model(server("z") + server("y") + server("x") + server("w"));
  CHECK(names_in_order(m) == Lines{"z", "y", "x", "w"});
}

TEST_CASE("ordering: ties go to the earliest server in the manifest", "[manifest][order]") {
  // Once log is placed, both net and ui are ready; net comes first in the file. fs needs net,
  // so it follows net but not ui, which is earlier in the manifest than fs.
  const Manifest m =
      good_model(server("ui") + "requires = [\"log\"]\n" + server("fs") + "requires = [\"net\"]\n" +
                 server("net") + "provides = [\"net\"]\nrequires = [\"log\"]\n" + server("log") +
                 "provides = [\"log\"]\n" + server("idle"));
  CHECK(names_in_order(m) == Lines{"log", "ui", "net", "fs", "idle"});
}

TEST_CASE("ordering: a cycle has no order; unprovided needs and self-needs do not count",
          "[manifest][order]") {
  Manifest m;
  m.servers.resize(2);
  m.servers[0].name = "a";
  m.servers[0].provides = {{"x", {}}};
  m.servers[0].required = {{"y", {}}, {"x", {}}, {"nobody", {}}};
  m.servers[1].name = "b";
  m.servers[1].provides = {{"y", {}}};
  CHECK(keel::tool::dependency_order(m) == std::vector<std::size_t>{1, 0});
  m.servers[1].required = {{"x", {}}};
  CHECK_FALSE(keel::tool::dependency_order(m).has_value());
}

// ---------------------------------------------------------------------------------------------
// Binaries.

TEST_CASE("binaries: good ELF files are loaded once per name", "[manifest][binaries]") {
  TempDir dir;
  const Bytes elf = good_elf();
  dir.write("a.elf", elf);
  std::vector<keel::tool::Diagnostic> errors;
  const Manifest shared = good_model(
      "[[server]]\nname = \"a\"\nbinary = \"a.elf\"\npriority = 1\nmemory = 4096\n"
      "[[server]]\nname = \"b\"\nbinary = \"a.elf\"\npriority = 1\nmemory = 4096\n");
  const auto binaries = keel::tool::load_binaries(shared, {{}, dir.path().string()}, errors);
  CHECK(format(errors).empty());
  REQUIRE(binaries.size() == 1);
  CHECK(binaries[0].name == "a.elf");
  CHECK(binaries[0].path == (dir.path() / "a.elf").string());
  CHECK(binaries[0].bytes == elf);
}

TEST_CASE("binaries: an explicit path wins over the directory", "[manifest][binaries]") {
  TempDir dir;
  fs::create_directory(dir.path() / "other");
  dir.write("a.elf", to_bytes("not an ELF file"));
  const std::string other = dir.write("other/a-built.elf", good_elf());
  const Manifest m = good_model(server("a"));
  std::vector<keel::tool::Diagnostic> errors;
  const auto binaries =
      keel::tool::load_binaries(m, {{{"a.elf", other}}, dir.path().string()}, errors);
  CHECK(format(errors).empty());
  REQUIRE(binaries.size() == 1);
  CHECK(binaries[0].path == other);
}

TEST_CASE("manifest error: missing binaries", "[manifest][binaries][errors]") {
  TempDir dir;
  const Manifest m = good_model(server("a") + server("b"));
  std::vector<keel::tool::Diagnostic> errors;
  dir.write("b.elf", good_elf());
  const auto binaries = keel::tool::load_binaries(m, {{}, dir.path().string()}, errors);
  CHECK(format(errors) == Lines{"test.toml:3:10: server[0].binary: binary a.elf not found at " +
                                (dir.path() / "a.elf").string()});
  REQUIRE(binaries.size() == 1);
  CHECK(binaries[0].name == "b.elf");

  errors.clear();
  CHECK(keel::tool::load_binaries(m, {{{"b.elf", "/nonexistent/b.elf"}}, ""}, errors).empty());
  CHECK(format(errors) ==
        Lines{"test.toml:3:10: server[0].binary: binary a.elf not found: no path given for it "
              "and no binary directory",
              "test.toml:8:10: server[1].binary: binary b.elf not found at /nonexistent/b.elf"});

  errors.clear();
  fs::create_directory(dir.path() / "a.elf");
  keel::tool::load_binaries(m, {{}, dir.path().string()}, errors);
  CHECK(format(errors) ==
        Lines{"test.toml:3:10: server[0].binary: binary a.elf at " +
              (dir.path() / "a.elf").string() + " cannot be read: not a regular file"});
}

TEST_CASE("manifest error: binaries that break the ELF rules", "[manifest][binaries][errors]") {
  TempDir dir;
  auto wx = ImageBuilder::good();
  wx.phdrs[1].p_flags |= PF_W;
  auto dynamic = ImageBuilder::good();
  dynamic.ehdr.e_type = ET_DYN;
  dynamic.ehdr.e_entry = 0x500000;
  const std::string a = dir.write("a.elf", wx.serialise<std::byte>());
  const std::string b = dir.write("b.elf", dynamic.serialise<std::byte>());
  const std::string c = dir.write("c.elf", to_bytes("#!/bin/sh\n"));
  const Manifest m = good_model(server("a") + server("b") + server("c"));
  std::vector<keel::tool::Diagnostic> errors;
  CHECK(keel::tool::load_binaries(m, {{}, dir.path().string()}, errors).empty());
  CHECK(format(errors) ==
        Lines{"test.toml:3:10: server[0].binary: " + a +
                  ": w-xor-x: segment 1 at 0x401000 is writable and executable",
              "test.toml:8:10: server[1].binary: " + b +
                  ": executable: e_type is 3, expected ET_EXEC (2): ET_DYN is a shared object or "
                  "position-independent executable",
              "test.toml:8:10: server[1].binary: " + b +
                  ": entry-in-text: entry point 0x500000 is not inside the file-backed part of "
                  "any executable PT_LOAD segment",
              "test.toml:13:10: server[2].binary: " + c +
                  ": not-elf: does not start with the ELF magic (10 bytes)"});
}

// ---------------------------------------------------------------------------------------------
// SHA-256, the archive and the binary manifest.

TEST_CASE("archive: SHA-256 matches the FIPS vector and OpenSSL", "[archive]") {
  CHECK(keel::tool::hex_digest(keel::tool::sha256(to_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(keel::tool::hex_digest(keel::tool::sha256({})) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::mt19937_64 random(42);
  for (int round = 0; round < 20; ++round) {
    Bytes data(std::uniform_int_distribution<std::size_t>(0, 20000)(random));
    for (auto& b : data) {
      b = static_cast<std::byte>(random());
    }
    CHECK(keel::tool::hex_digest(keel::tool::sha256(data)) ==
          openssl_sha256_hex(data.data(), data.size()));
  }
}

TEST_CASE("archive: build and read back", "[archive]") {
  std::mt19937_64 random(7);
  Bytes big(3 * 4096 + 5);
  for (auto& b : big) {
    b = static_cast<std::byte>(random());
  }
  const std::vector<keel::tool::ArchiveFile> files = {
      {"manifest", to_bytes("abc")},
      {"console.elf", big},
      {"exact.elf", Bytes(4096, std::byte{0x5a})},
      {std::string(47, 'n'), Bytes(1, std::byte{1})},
  };
  const Bytes archive = keel::tool::build_archive(files);

  // Header (24) + 4 entries (4 * 96) fit in the first page; then the files page by page:
  // "abc" at 0x1000, 12293 bytes at 0x2000, one page at 0x6000 and one byte at 0x7000.
  REQUIRE(archive.size() == 0x8000);
  std::string error;
  const auto view = keel::tool::read_archive(archive, error);
  INFO(error);
  REQUIRE(view.has_value());
  CHECK(std::memcmp(view->header.magic, "KEELARC1", 8) == 0);
  CHECK(view->header.version == 1);
  CHECK(view->header.entry_count == 4);
  CHECK(view->header.total_size == archive.size());
  const std::uint64_t offsets[] = {0x1000, 0x2000, 0x6000, 0x7000};
  REQUIRE(view->entries.size() == 4);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const abi::ArchiveEntry& e = view->entries[i];
    INFO("entry " << i);
    CHECK(std::string(e.name) == files[i].name);
    CHECK(e.offset == offsets[i]);
    CHECK(e.offset % abi::kArchiveAlign == 0);
    CHECK(e.size == files[i].data.size());
    CHECK(Bytes(view->files[i].begin(), view->files[i].end()) == files[i].data);
    CHECK(keel::tool::hex_digest(keel::tool::sha256(files[i].data)) ==
          openssl_sha256_hex(archive.data() + e.offset, e.size));
    // Names are NUL-padded to the end of the field.
    CHECK(std::all_of(e.name + files[i].name.size(), e.name + abi::ArchiveEntry::kMaxName,
                      [](char c) { return c == 0; }));
  }
  CHECK(std::memcmp(view->entries[0].sha256,
                    "\xba\x78\x16\xbf\x8f\x01\xcf\xea\x41\x41\x40\xde\x5d\xae\x22\x23"
                    "\xb0\x03\x61\xa3\x96\x17\x7a\x9c\xb4\x10\xff\x61\xf2\x00\x15\xad",
                    32) == 0);
  // Padding between and after the files is zero.
  CHECK(std::all_of(archive.begin() + 0x1003, archive.begin() + 0x2000,
                    [](std::byte b) { return b == std::byte{0}; }));
  CHECK(std::all_of(archive.begin() + 0x7001, archive.end(),
                    [](std::byte b) { return b == std::byte{0}; }));
  // The same files always give the same bytes.
  CHECK(keel::tool::build_archive(files) == archive);
}

TEST_CASE("archive: the reader rejects damaged archives", "[archive]") {
  const Bytes good = keel::tool::build_archive({{"manifest", to_bytes("m")}, {"a", to_bytes("a")}});
  std::string error;
  REQUIRE(keel::tool::read_archive(good, error).has_value());

  const auto damaged = [&](auto change) {
    Bytes bytes = good;
    change(bytes);
    error.clear();
    CHECK_FALSE(keel::tool::read_archive(bytes, error).has_value());
    return error;
  };
  const std::size_t entry1 = sizeof(abi::ArchiveHeader) + sizeof(abi::ArchiveEntry);
  CHECK(damaged([](Bytes& b) { b[0] = std::byte{'X'}; }) == "bad archive magic");
  CHECK(damaged([](Bytes& b) { b.pop_back(); }) ==
        "archive total_size 12288 but 12287 bytes were given");
  CHECK(damaged([](Bytes& b) { b[0x2000] = std::byte{'b'}; }) ==
        "archive entry 1 (a) has the wrong SHA-256");
  CHECK(damaged([&](Bytes& b) {
          b[entry1 + offsetof(abi::ArchiveEntry, offset)] = std::byte{1};
        }) == "archive entry 1 offset 8193 is not page aligned");
  CHECK(damaged([&](Bytes& b) {
          b[entry1 + offsetof(abi::ArchiveEntry, size) + 2] = std::byte{1};
        }) == "archive entry 1 lies outside the archive's file area");
  CHECK(damaged([&](Bytes& b) {
          b[entry1 + offsetof(abi::ArchiveEntry, offset) + 2] = std::byte{1};
        }) == "archive entry 1 lies outside the archive's file area");
  CHECK(damaged([&](Bytes& b) {
          b[entry1 + offsetof(abi::ArchiveEntry, offset) + 1] = std::byte{0};
        }) == "archive entry 1 lies outside the archive's file area");
  // Entry 1 pointed at entry 0's bytes, with a hash that matches them.
  CHECK(damaged([&](Bytes& b) {
          const std::size_t entry0 = sizeof(abi::ArchiveHeader);
          std::memcpy(b.data() + entry1 + offsetof(abi::ArchiveEntry, offset),
                      b.data() + entry0 + offsetof(abi::ArchiveEntry, offset), 8 + 8 + 32);
        }) == "two archive entries share bytes at offset 4096");
  CHECK(damaged([&](Bytes& b) { std::memset(b.data() + entry1, 'a', 48); }) ==
        "archive entry 1 has a bad name");
  CHECK(damaged([](Bytes& b) { b[sizeof(abi::ArchiveHeader)] = std::byte{'n'}; }) ==
        "archive entry 0 is nanifest, expected manifest");
}

TEST_CASE("archive: the boot archive holds the binary manifest and each binary once", "[archive]") {
  const auto result = keel::tool::load_manifest((data_dir() / "good.toml").string());
  REQUIRE(result.errors.empty());
  const Manifest& m = result.manifest;

  TempDir dir;
  auto other = ImageBuilder::good();
  other.payload[0x1000] = "other text";
  dir.write("shell.elf", good_elf());
  dir.write("serial.elf", other.serialise<std::byte>());
  dir.write("log.elf", good_elf());
  std::vector<keel::tool::Diagnostic> errors;
  const auto binaries = keel::tool::load_binaries(m, {{}, dir.path().string()}, errors);
  REQUIRE(errors.empty());
  const Bytes archive = keel::tool::build_boot_archive(m, binaries);

  std::string error;
  const auto view = keel::tool::read_archive(archive, error);
  INFO(error);
  REQUIRE(view.has_value());
  REQUIRE(view->entries.size() == 4);
  CHECK(std::string(view->entries[0].name) == "manifest");
  CHECK(std::string(view->entries[1].name) == "shell.elf");
  CHECK(std::string(view->entries[2].name) == "serial.elf");
  CHECK(std::string(view->entries[3].name) == "log.elf");
  CHECK(Bytes(view->files[2].begin(), view->files[2].end()) == other.serialise<std::byte>());

  const auto decoded = keel::tool::decode_manifest(view->files[0], error);
  INFO(error);
  REQUIRE(decoded.has_value());
  const abi::ManifestHeader& h = decoded->header;
  CHECK(std::memcmp(h.magic, "KEELMAN1", 8) == 0);
  CHECK(h.version == abi::kManifestVersion);
  CHECK(h.server_count == 4);
  CHECK(h.reserved == 0);
  // First mention in the manifest: shell's requires, then serial's console and fb's fb-raw.
  REQUIRE(h.service_count == 4);
  CHECK(std::string(h.services[0]) == "display");
  CHECK(std::string(h.services[1]) == "log");
  CHECK(std::string(h.services[2]) == "console");
  CHECK(std::string(h.services[3]) == "fb-raw");
  CHECK(std::string(h.services[4]).empty());

  // Records come in dependency order.
  const auto& r = decoded->servers;
  REQUIRE(r.size() == 4);
  CHECK(std::string(r[0].name) == "serial");
  CHECK(std::string(r[1].name) == "log");
  CHECK(std::string(r[2].name) == "fb");
  CHECK(std::string(r[3].name) == "shell");

  CHECK(std::string(r[0].binary) == "serial.elf");
  CHECK(r[0].priority == 200);
  CHECK(r[0].restart == abi::RestartPolicy::kOnCrash);
  CHECK(r[0].start == abi::StartMode::kBoot);
  CHECK(r[0].restart_limit == 3);
  CHECK(r[0].backoff_ms == 100);
  CHECK(r[0].memory == 256 * 1024);
  REQUIRE(r[0].provides_count == 1);
  CHECK(r[0].provides[0] == 2);
  CHECK(r[0].required_count == 0);
  REQUIRE(r[0].port_count == 1);
  CHECK(r[0].ports[0].first == 0x3f8);
  CHECK(r[0].ports[0].last == 0x3ff);
  REQUIRE(r[0].irq_count == 1);
  CHECK(r[0].irqs[0] == 4);
  CHECK(r[0].mmio_count == 0);

  CHECK(std::string(r[1].binary) == "log.elf");
  CHECK(r[1].restart == abi::RestartPolicy::kAlways);
  CHECK(r[1].restart_limit == 1000);
  CHECK(r[1].backoff_ms == 60000);
  REQUIRE(r[1].required_count == 1);
  CHECK(r[1].required[0] == 2);

  CHECK(std::string(r[2].binary) == "log.elf");
  REQUIRE(r[2].provides_count == 2);
  CHECK(r[2].provides[0] == 0);
  CHECK(r[2].provides[1] == 3);
  REQUIRE(r[2].mmio_count == 2);
  CHECK(r[2].mmio[0].base == 0xfd000000);
  CHECK(r[2].mmio[0].size == 0x400000);
  CHECK(r[2].mmio[1].base == 0xfe000000);
  REQUIRE(r[2].port_count == 2);
  CHECK(r[2].ports[1].first == 0xffff);
  REQUIRE(r[2].irq_count == 2);
  CHECK(r[2].irqs[1] == 23);

  REQUIRE(r[3].required_count == 2);
  CHECK(r[3].required[0] == 0);
  CHECK(r[3].required[1] == 1);
  CHECK(r[3].restart == abi::RestartPolicy::kNever);
  CHECK(r[3].memory == 1024 * 1024);

  // Unused list slots stay zero.
  CHECK(r[3].provides[0] == 0);
  CHECK(r[3].mmio[0].base == 0);
}

TEST_CASE("archive: the binary manifest reader checks the layout", "[archive]") {
  const Manifest m = good_model(server("a") + "provides = [\"x\"]\n");
  const Bytes good = keel::tool::encode_manifest(m);
  REQUIRE(good.size() == sizeof(abi::ManifestHeader) + sizeof(abi::ServerRecord));
  std::string error;
  REQUIRE(keel::tool::decode_manifest(good, error).has_value());

  const auto damaged = [&](auto change) {
    Bytes bytes = good;
    change(bytes);
    error.clear();
    CHECK_FALSE(keel::tool::decode_manifest(bytes, error).has_value());
    return error;
  };
  const std::size_t record = sizeof(abi::ManifestHeader);
  CHECK(damaged([](Bytes& b) { b[7] = std::byte{'2'}; }) == "bad binary manifest magic");
  CHECK(damaged([](Bytes& b) { b.push_back(std::byte{0}); }) ==
        "binary manifest is 2345 bytes, expected 2344");
  CHECK(damaged([&](Bytes& b) {
          b[record + offsetof(abi::ServerRecord, provides)] = std::byte{1};
        }) == "binary manifest server 0 provides service index 1");
  CHECK(damaged([&](Bytes& b) {
          b[record + offsetof(abi::ServerRecord, mmio_count)] = std::byte{9};
        }) == "binary manifest server 0 has a list of 9 entries");
  CHECK(damaged([&](Bytes& b) { std::memset(b.data() + record, 'a', 32); }) ==
        "binary manifest server 0 has a bad name");
}

TEST_CASE("archive: encoding refuses a manifest that did not pass the checks", "[archive]") {
  Manifest m = good_model(server("a") + "provides = [\"x\"]\nrequires = [\"y\"]\n" + server("b") +
                          "provides = [\"y\"]\n");
  CHECK_NOTHROW(keel::tool::encode_manifest(m));
  m.servers[1].required = {{"x", {}}};
  CHECK_THROWS_AS(keel::tool::encode_manifest(m), std::invalid_argument);
  m.servers[1].required = {{"nobody", {}}};
  CHECK_THROWS_AS(keel::tool::encode_manifest(m), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// The keel-image command, run from the build tree next to this test.

namespace {

fs::path keel_image_path() {
  return fs::read_symlink("/proc/self/exe").parent_path().parent_path().parent_path() / "boot" /
         "tool" / "keel-image";
}

// Runs keel-image with `args`; returns its exit status and puts its stderr in `err`.
int run_keel_image(const TempDir& dir, const std::string& args, std::string& err) {
  const fs::path err_file = dir.path() / "stderr.txt";
  const std::string command =
      keel_image_path().string() + " " + args + " 2>" + err_file.string() + " >/dev/null";
  const int status = std::system(command.c_str());
  std::ifstream in(err_file);
  err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  fs::remove(err_file);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("keel-image: writes an archive, or reports every error and removes a stale one",
          "[manifest][tool]") {
  if (!fs::exists(keel_image_path())) {
    WARN("keel-image not found at " << keel_image_path() << "; skipping");
    return;
  }
  TempDir dir;
  const std::string manifest = dir.write_text(
      "m.toml", server("a") + "provides = [\"x\"]\n" + server("b") + "requires = [\"x\"]\n");
  dir.write("a.elf", good_elf());
  const std::string b = dir.write("b-linked.elf", good_elf());
  const std::string output = (dir.path() / "out.img").string();
  std::string err;

  CHECK(run_keel_image(dir,
                       "--manifest " + manifest + " --output " + output + " --binary-dir " +
                           dir.path().string() + " --binary b.elf=" + b,
                       err) == 0);
  CHECK(err.empty());
  const Bytes archive = read_bytes(output);
  std::string error;
  const auto view = keel::tool::read_archive(archive, error);
  INFO(error);
  REQUIRE(view.has_value());
  CHECK(view->entries.size() == 3);
  // Only the archive, the inputs and nothing temporary are left behind.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 4);

  // Without b.elf's path the image cannot be made; the stale archive goes.
  CHECK(run_keel_image(dir,
                       "--manifest " + manifest + " --output " + output + " --binary-dir " +
                           dir.path().string(),
                       err) == 1);
  CHECK(err == manifest + ":9:10: server[1].binary: binary b.elf not found at " +
                   (dir.path() / "b.elf").string() + "\nkeel-image: 1 error; " + output +
                   " not written\n");
  CHECK_FALSE(fs::exists(output));

  CHECK(run_keel_image(dir, "--manifest " + manifest, err) == 2);
  CHECK(err.find("keel-image: --output is required\n") == 0);
  CHECK(run_keel_image(dir, "--manifest " + manifest + " --output " + output + " --frobnicate",
                       err) == 2);
  CHECK(err.find("keel-image: unknown argument \"--frobnicate\"\n") == 0);
  CHECK(run_keel_image(dir, "--manifest " + manifest + " --output " + output + " --binary x",
                       err) == 2);
  CHECK(err.find("keel-image: --binary needs NAME=PATH, got \"x\"\n") == 0);
}
