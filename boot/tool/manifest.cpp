// SPDX-License-Identifier: MIT
//
// The TOML side goes through toml++ only: it reports syntax errors with positions and keeps the
// source position of every node and key, which is all the diagnostics below need. The checks
// never stop at the first problem; each reads what it can and leaves the rest at its default,
// and a value that fails a check is left out of the model so that later checks do not report
// the same mistake a second time under another name.
#include "manifest.hpp"

#include <sys/stat.h>

#include "elf_check.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <set>
#include <span>
#include <toml++/toml.h>
#include <unistd.h>
#include <utility>

namespace keel::tool {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::size_t kMaxNameLength = abi::kManifestMaxName - 1;
constexpr std::size_t kMaxPerServer = abi::kManifestMaxPerServer;

// x86-64 physical addresses have at most 52 bits; a grant beyond that can only be a typo.
constexpr std::uint64_t kPhysLimit = 1ull << 52;

constexpr std::int64_t kMaxPriority = 254;
constexpr std::int64_t kMaxRestartLimit = 1000;

// Hardware nobody can be granted: the kernel keeps the interrupt controllers and the timer it
// calibrates with (kernel/syscall/irq.cpp), the root task the real-time clock it paces restart
// back-offs with (servers/root/root.hpp).
constexpr std::int64_t kRootTimerIrq = 8;
struct ReservedPorts {
  std::int64_t first;
  std::int64_t last;
  const char* owner;
};
constexpr ReservedPorts kReservedPorts[] = {
    {0x20, 0x21, "the kernel's (the master PIC)"},
    {0x40, 0x43, "the kernel's (the PIT)"},
    {0x70, 0x71, "the root task's (the real-time clock, its timer)"},
    {0xA0, 0xA1, "the kernel's (the slave PIC)"},
};

// The interrupt controllers' registers at their usual PC addresses (the I/O APIC's as firmware
// places it; the local APIC's architectural default). The kernel keeps them out of the device
// untyped it hands to the root task, so such a grant could only fail at boot.
struct ReservedMmio {
  std::uint64_t base;
  std::uint64_t size;
  const char* owner;
};
constexpr ReservedMmio kReservedMmio[] = {
    {0xFEC00000, 0x1000, "the kernel's I/O APIC registers"},
    {0xFEE00000, 0x1000, "the kernel's local APIC registers"},
};

const ReservedMmio* reserved_mmio(std::uint64_t base, std::uint64_t size) {
  for (const ReservedMmio& r : kReservedMmio) {
    if (base < r.base + r.size && r.base < base + size) {
      return &r;
    }
  }
  return nullptr;
}

const char* reserved_ports(std::int64_t first, std::int64_t last) {
  for (const ReservedPorts& r : kReservedPorts) {
    if (first <= r.last && r.first <= last) {
      return r.owner;
    }
  }
  return nullptr;
}
constexpr std::int64_t kMaxBackoffMs = 60000;
constexpr std::int64_t kMaxPort = 0xffff;
constexpr std::int64_t kMaxIrq = 23;  // The I/O APIC's legacy lines.

// Archive entry 0 carries this name (keel::tool::kManifestEntryName in archive.hpp), so no
// binary may take it.
constexpr std::string_view kReservedBinaryName = "manifest";

// Quoted strings in messages are cut here: a mistyped value can be arbitrarily long, and the
// start of it is enough to find it.
constexpr std::size_t kMaxQuoted = 64;

constexpr std::string_view kNameRule = "use 1 to 31 characters from a-z, 0-9 and '-'";
constexpr std::string_view kBinaryRule =
    "use a file name of 1 to 31 characters from A-Z, a-z, 0-9, '.', '_', '+' and '-'";

std::string hex(std::uint64_t value) {
  char buf[2 + 16] = {'0', 'x'};
  const auto result = std::to_chars(buf + 2, buf + sizeof(buf), value, 16);
  return std::string(buf, result.ptr);
}

// Negative numbers stay decimal: "-0x1" reads as a typo of its own.
std::string hex_signed(std::int64_t value) {
  return value < 0 ? std::to_string(value) : hex(static_cast<std::uint64_t>(value));
}

// A value from the file, made safe to print: quoted, with quotes, backslashes and control bytes
// escaped so that a message stays one readable line.
std::string quote(std::string_view text) {
  std::string out = "\"";
  const std::size_t shown = std::min(text.size(), kMaxQuoted);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (shown < text.size()) {
    out += "...";
  }
  return out + "\"";
}

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string member(const std::string& path, std::string_view key) {
  const std::string shown = is_bare_key(key) ? std::string(key) : quote(key);
  return path.empty() ? shown : path + "." + shown;
}

std::string element(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

// Binary names become archive entry names and, with --binary-dir, path components, so they are
// kept to characters that are safe in both and can never climb out of the directory.
bool valid_binary_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name == "." || name == "..") {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '-';
  });
}

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

SourcePos position(const toml::source_region& region) {
  // toml++ leaves positions at 0 for nodes it made up; 1:1 is still a place an editor can open.
  return SourcePos{std::max<std::uint32_t>(region.begin.line, 1),
                   std::max<std::uint32_t>(region.begin.column, 1)};
}

SourcePos position(const toml::node& node) {
  return position(node.source());
}

std::string server_label(const ServerSpec& server, std::size_t index) {
  return server.name.empty() ? element("server", index) : server.name;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return b > std::numeric_limits<std::uint64_t>::max() - a
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

class Reporter {
 public:
  Reporter(const std::string& file, std::vector<Diagnostic>& out) : file_(file), out_(out) {}

  void error(SourcePos pos, std::string key, std::string message) {
    out_.push_back(Diagnostic{file_, pos.line, pos.column, std::move(key), std::move(message)});
  }

 private:
  const std::string& file_;
  std::vector<Diagnostic>& out_;
};

// Reads a parsed TOML document into the model, checking each value on its own.
class Parser {
 public:
  Parser(const std::string& file, std::vector<Diagnostic>& out) : report_(file, out) {}

  void parse(const toml::table& root, Manifest& manifest) {
    static constexpr std::string_view kKeys[] = {"server", "min_memory"};
    check_keys(root, "", kKeys);

    if (const toml::node* node = root.get("min_memory")) {
      if (const auto size = size_value(*node, "min_memory")) {
        if (*size == 0) {
          error(*node, "min_memory", "minimum memory must be more than 0 bytes");
        } else {
          manifest.min_memory = *size;
        }
      }
    }

    const toml::node* servers = root.get("server");
    if (servers == nullptr) {
      report_.error(SourcePos{}, "manifest", "no [[server]] entries");
      return;
    }
    const toml::array* array = servers->as_array();
    if (array == nullptr) {
      expected(*servers, "server", "an array of tables ([[server]])");
      return;
    }
    if (array->empty()) {
      error(*servers, "server", "no [[server]] entries");
      return;
    }
    if (array->size() > abi::kManifestMaxServers) {
      error(*servers, "server",
            "too many servers: " + std::to_string(array->size()) + ", at most " +
                std::to_string(abi::kManifestMaxServers));
    }
    manifest.servers.resize(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& node = *array->get(i);
      ServerSpec& server = manifest.servers[i];
      server.pos = server.name_pos = server.binary_pos = position(node);
      if (const toml::table* table = as_table(node, element("server", i))) {
        parse_server(*table, element("server", i), server);
      }
    }
  }

 private:
  void error(const toml::node& node, std::string key, std::string message) {
    report_.error(position(node), std::move(key), std::move(message));
  }

  void expected(const toml::node& node, const std::string& key, std::string_view what) {
    error(node, key,
          "expected " + std::string(what) + ", got " + std::string(type_name(node.type())));
  }

  void check_keys(const toml::table& table, const std::string& path,
                  std::span<const std::string_view> allowed) {
    for (auto&& [key, value] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        report_.error(position(key.source()), member(path, key.str()), "unknown key");
      }
    }
  }

  const toml::table* as_table(const toml::node& node, const std::string& path) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      expected(node, path, "a table");
    }
    return table;
  }

  const toml::array* as_array(const toml::node& node, const std::string& path,
                              std::string_view what) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      expected(node, path, what);
      return nullptr;
    }
    if (array->size() > kMaxPerServer) {
      error(node, path,
            "too many entries: " + std::to_string(array->size()) + ", at most " +
                std::to_string(kMaxPerServer));
    }
    return array;
  }

  std::optional<std::string> string_value(const toml::node& node, const std::string& path) {
    if (const auto* value = node.as_string()) {
      return value->get();
    }
    expected(node, path, "a string");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer_value(const toml::node& node, const std::string& path) {
    if (const auto* value = node.as_integer()) {
      return value->get();
    }
    expected(node, path, "an integer");
    return std::nullopt;
  }

  // `what` names the kind of number in the message; `in_hex` prints the bounds and the value
  // the way such numbers are usually written (port numbers, addresses).
  std::optional<std::int64_t> integer_in(const toml::node& node, const std::string& path,
                                         std::int64_t low, std::int64_t high,
                                         std::string_view what = "an integer",
                                         bool in_hex = false) {
    const auto value = integer_value(node, path);
    if (!value) {
      return std::nullopt;
    }
    if (*value < low || *value > high) {
      const auto show = [in_hex](std::int64_t v) {
        return in_hex ? hex_signed(v) : std::to_string(v);
      };
      error(node, path,
            "expected " + std::string(what) + " in " + show(low) + ".." + show(high) + ", got " +
                show(*value));
      return std::nullopt;
    }
    return value;
  }

  // A size is an integer number of bytes or a string such as "256K".
  std::optional<std::uint64_t> size_value(const toml::node& node, const std::string& path) {
    if (const auto* integer = node.as_integer()) {
      if (integer->get() < 0) {
        error(node, path, "size must not be negative, got " + std::to_string(integer->get()));
        return std::nullopt;
      }
      return static_cast<std::uint64_t>(integer->get());
    }
    if (const auto* string = node.as_string()) {
      const std::string& text = string->get();
      if (const auto size = parse_size(text)) {
        return size;
      }
      const bool well_formed =
          !text.empty() && std::isdigit(static_cast<unsigned char>(text.front())) &&
          std::all_of(text.begin(), text.end() - 1,
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
          std::string_view("0123456789KMG").find(text.back()) != std::string_view::npos;
      if (well_formed) {
        error(node, path, "size " + quote(text) + " is too large");
      } else {
        error(node, path,
              "invalid size " + quote(text) +
                  ": expected a number of bytes with an optional K, M or G suffix");
      }
      return std::nullopt;
    }
    expected(node, path, "a size (an integer or a string such as \"4M\")");
    return std::nullopt;
  }

  void parse_server(const toml::table& table, const std::string& path, ServerSpec& server) {
    static constexpr std::string_view kKeys[] = {"name",    "binary",   "priority",
                                                 "memory",  "provides", "requires",
                                                 "restart", "start",    "hardware"};
    check_keys(table, path, kKeys);
    const auto missing = [&](std::string_view key) {
      report_.error(server.pos, member(path, key), "missing required key");
    };

    if (const toml::node* node = table.get("name")) {
      server.name_pos = position(*node);
      if (const auto name = string_value(*node, member(path, "name"))) {
        if (valid_name(*name)) {
          server.name = *name;
        } else {
          error(*node, member(path, "name"),
                "invalid server name " + quote(*name) + ": " + std::string(kNameRule));
        }
      }
    } else {
      missing("name");
    }

    if (const toml::node* node = table.get("binary")) {
      server.binary_pos = position(*node);
      if (const auto binary = string_value(*node, member(path, "binary"))) {
        if (*binary == kReservedBinaryName) {
          error(*node, member(path, "binary"),
                "binary name manifest is reserved for the binary manifest");
        } else if (valid_binary_name(*binary)) {
          server.binary = *binary;
        } else {
          error(*node, member(path, "binary"),
                "invalid binary name " + quote(*binary) + ": " + std::string(kBinaryRule));
        }
      }
    } else {
      missing("binary");
    }

    if (const toml::node* node = table.get("priority")) {
      if (const auto priority = integer_in(*node, member(path, "priority"), 1, kMaxPriority)) {
        server.priority = static_cast<std::uint32_t>(*priority);
      }
    } else {
      missing("priority");
    }

    if (const toml::node* node = table.get("memory")) {
      const std::string key = member(path, "memory");
      if (const auto memory = size_value(*node, key)) {
        if (*memory == 0) {
          error(*node, key, "memory budget must be more than 0 bytes");
        } else if (*memory % kPage != 0) {
          error(*node, key,
                "memory budget " + std::to_string(*memory) +
                    " bytes is not a multiple of the page size " + std::to_string(kPage));
        } else {
          server.memory = *memory;
        }
      }
    } else {
      missing("memory");
    }

    if (const toml::node* node = table.get("provides")) {
      parse_services(*node, member(path, "provides"), server.provides);
    }
    if (const toml::node* node = table.get("requires")) {
      parse_services(*node, member(path, "requires"), server.required);
    }
    if (const toml::node* node = table.get("restart")) {
      if (const toml::table* restart = as_table(*node, member(path, "restart"))) {
        parse_restart(*restart, member(path, "restart"), server);
      }
    }
    if (const toml::node* node = table.get("start")) {
      parse_start(*node, member(path, "start"), server);
    }
    if (const toml::node* node = table.get("hardware")) {
      if (const toml::table* hardware = as_table(*node, member(path, "hardware"))) {
        parse_hardware(*hardware, member(path, "hardware"), server);
      }
    }
  }

  void parse_services(const toml::node& node, const std::string& path,
                      std::vector<Located<std::string>>& out) {
    const toml::array* array = as_array(node, path, "an array of service names");
    if (array == nullptr) {
      return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const auto name = string_value(item, element(path, i));
      if (!name) {
        continue;
      }
      if (!valid_name(*name)) {
        error(item, element(path, i),
              "invalid service name " + quote(*name) + ": " + std::string(kNameRule));
        continue;
      }
      out.push_back({*name, position(item)});
    }
  }

  void parse_restart(const toml::table& table, const std::string& path, ServerSpec& server) {
    static constexpr std::string_view kKeys[] = {"policy", "limit", "backoff_ms"};
    check_keys(table, path, kKeys);

    bool policy_ok = true;
    if (const toml::node* node = table.get("policy")) {
      policy_ok = false;
      if (const auto policy = string_value(*node, member(path, "policy"))) {
        if (*policy == "never") {
          server.restart = abi::RestartPolicy::kNever;
          policy_ok = true;
        } else if (*policy == "on-crash") {
          server.restart = abi::RestartPolicy::kOnCrash;
          policy_ok = true;
        } else if (*policy == "always") {
          server.restart = abi::RestartPolicy::kAlways;
          policy_ok = true;
        } else {
          error(*node, member(path, "policy"),
                "expected \"never\", \"on-crash\" or \"always\", got " + quote(*policy));
        }
      }
    }

    bool limit_ok = true;
    const toml::node* limit_node = table.get("limit");
    if (limit_node != nullptr) {
      const auto limit = integer_in(*limit_node, member(path, "limit"), 0, kMaxRestartLimit);
      limit_ok = limit.has_value();
      if (limit) {
        server.restart_limit = static_cast<std::uint32_t>(*limit);
      }
    }
    // The pair is only judged when both halves are readable; otherwise the mistake has been
    // reported already and a second message would point at the wrong half.
    if (policy_ok && limit_ok) {
      const SourcePos where = limit_node != nullptr ? position(*limit_node) : position(table);
      if (server.restart == abi::RestartPolicy::kNever && server.restart_limit != 0) {
        report_.error(where, member(path, "limit"),
                      "restart limit must be 0 with policy never, got " +
                          std::to_string(server.restart_limit));
      } else if (server.restart != abi::RestartPolicy::kNever && server.restart_limit == 0) {
        report_.error(where, member(path, "limit"),
                      std::string("policy ") +
                          (server.restart == abi::RestartPolicy::kOnCrash ? "on-crash" : "always") +
                          " needs a restart limit of at least 1");
      }
    }

    if (const toml::node* node = table.get("backoff_ms")) {
      if (const auto backoff = integer_in(*node, member(path, "backoff_ms"), 0, kMaxBackoffMs)) {
        server.backoff_ms = static_cast<std::uint32_t>(*backoff);
      }
    }
  }

  void parse_start(const toml::node& node, const std::string& path, ServerSpec& server) {
    const auto start = string_value(node, path);
    if (!start) {
      return;
    }
    if (*start == "boot") {
      server.start = abi::StartMode::kBoot;
    } else if (*start == "on-first-use") {
      // The key is reserved so that manifests can be written for it now; the root task cannot
      // start servers lazily yet, so an image with it would not do what the file says.
      server.start = abi::StartMode::kOnFirstUse;
      error(node, path, "start mode on-first-use is not supported yet");
    } else {
      error(node, path, "expected \"boot\" or \"on-first-use\", got " + quote(*start));
    }
  }

  void parse_hardware(const toml::table& table, const std::string& path, ServerSpec& server) {
    static constexpr std::string_view kKeys[] = {"ioports", "irqs", "mmio"};
    check_keys(table, path, kKeys);
    if (const toml::node* node = table.get("ioports")) {
      parse_ports(*node, member(path, "ioports"), server);
    }
    if (const toml::node* node = table.get("irqs")) {
      parse_irqs(*node, member(path, "irqs"), server);
    }
    if (const toml::node* node = table.get("mmio")) {
      parse_mmio(*node, member(path, "mmio"), server);
    }
  }

  // A two-element array of integers, e.g. [first, last] or [base, size].
  const toml::array* pair(const toml::node& node, const std::string& path, std::string_view shape) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      expected(node, path, "a " + std::string(shape) + " pair of integers");
      return nullptr;
    }
    if (array->size() != 2) {
      error(node, path,
            "expected a " + std::string(shape) + " pair of integers, got " +
                std::to_string(array->size()) + (array->size() == 1 ? " element" : " elements"));
      return nullptr;
    }
    return array;
  }

  void parse_ports(const toml::node& node, const std::string& path, ServerSpec& server) {
    const toml::array* array = as_array(node, path, "an array of [first, last] pairs");
    if (array == nullptr) {
      return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string key = element(path, i);
      const toml::array* range = pair(item, key, "[first, last]");
      if (range == nullptr) {
        continue;
      }
      const auto first =
          integer_in(*range->get(0), element(key, 0), 0, kMaxPort, "a port number", true);
      const auto last =
          integer_in(*range->get(1), element(key, 1), 0, kMaxPort, "a port number", true);
      if (!first || !last) {
        continue;
      }
      if (*first > *last) {
        error(item, key,
              "first port " + hex_signed(*first) + " is after last port " + hex_signed(*last));
        continue;
      }
      if (const char* owner = reserved_ports(*first, *last)) {
        error(item, key,
              "ports " + hex_signed(*first) + ".." + hex_signed(*last) + " include " + owner);
        continue;
      }
      server.ports.push_back(
          {{static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(*last)},
           position(item)});
    }
  }

  void parse_irqs(const toml::node& node, const std::string& path, ServerSpec& server) {
    const toml::array* array = as_array(node, path, "an array of IRQ lines");
    if (array == nullptr) {
      return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      if (const auto irq = integer_in(item, element(path, i), 0, kMaxIrq, "an IRQ line")) {
        if (*irq == kRootTimerIrq) {
          error(item, element(path, i),
                "IRQ 8 is the real-time clock's, which the root task keeps for its timer");
          continue;
        }
        server.irqs.push_back({static_cast<std::uint8_t>(*irq), position(item)});
      }
    }
  }

  void parse_mmio(const toml::node& node, const std::string& path, ServerSpec& server) {
    const toml::array* array = as_array(node, path, "an array of [base, size] pairs");
    if (array == nullptr) {
      return;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string key = element(path, i);
      const toml::array* range = pair(item, key, "[base, size]");
      if (range == nullptr) {
        continue;
      }
      const auto base = integer_value(*range->get(0), element(key, 0));
      const auto size = integer_value(*range->get(1), element(key, 1));
      if (!base || !size) {
        continue;
      }
      bool ok = true;
      if (*base < 0) {
        error(*range->get(0), element(key, 0),
              "MMIO base must not be negative, got " + std::to_string(*base));
        ok = false;
      } else if (*base % kPage != 0) {
        error(*range->get(0), element(key, 0),
              "MMIO base " + hex_signed(*base) + " is not page aligned");
        ok = false;
      }
      if (*size <= 0) {
        error(*range->get(1), element(key, 1),
              "MMIO size must be more than 0, got " + std::to_string(*size));
        ok = false;
      } else if (*size % kPage != 0) {
        error(
            *range->get(1), element(key, 1),
            "MMIO size " + hex_signed(*size) + " is not a multiple of the page size " + hex(kPage));
        ok = false;
      }
      if (!ok) {
        continue;
      }
      // Both halves are below 2^63, so the sum cannot wrap in 64 bits; the physical limit is
      // what actually bounds a range.
      const auto b = static_cast<std::uint64_t>(*base);
      const auto s = static_cast<std::uint64_t>(*size);
      if (b + s > kPhysLimit) {
        error(item, key,
              "MMIO range [" + hex(b) + ", " + hex(b + s) +
                  ") reaches past the 52-bit physical address space");
        continue;
      }
      if (const ReservedMmio* r = reserved_mmio(b, s)) {
        error(item, key,
              "MMIO range [" + hex(b) + ", " + hex(b + s) + ") includes " + r->owner + " at " +
                  hex(r->base));
        continue;
      }
      server.mmio.push_back({{b, s}, position(item)});
    }
  }

  Reporter report_;
};

// Where each service is provided: server indices in manifest order, without repeats.
std::map<std::string, std::vector<std::size_t>> providers_of(const Manifest& manifest) {
  std::map<std::string, std::vector<std::size_t>> out;
  for (std::size_t i = 0; i < manifest.servers.size(); ++i) {
    for (const auto& service : manifest.servers[i].provides) {
      auto& list = out[service.value];
      if (list.empty() || list.back() != i) {
        list.push_back(i);
      }
    }
  }
  return out;
}

// One dependency edge: server `from` requires something that server `to` provides, through
// `from`'s requires entry `entry`. Edges from a server to itself are left out; they are reported
// as their own mistake and would otherwise show up as a cycle of one.
struct Edge {
  std::size_t to;
  std::size_t entry;
};

std::vector<std::vector<Edge>> dependency_edges(const Manifest& manifest) {
  const auto providers = providers_of(manifest);
  std::vector<std::vector<Edge>> edges(manifest.servers.size());
  for (std::size_t i = 0; i < manifest.servers.size(); ++i) {
    const auto& required = manifest.servers[i].required;
    for (std::size_t k = 0; k < required.size(); ++k) {
      const auto found = providers.find(required[k].value);
      if (found == providers.end()) {
        continue;
      }
      for (const std::size_t to : found->second) {
        const bool seen = std::any_of(edges[i].begin(), edges[i].end(),
                                      [to](const Edge& e) { return e.to == to; });
        if (to != i && !seen) {
          edges[i].push_back({to, k});
        }
      }
    }
  }
  return edges;
}

void check_duplicate_names(const Manifest& manifest, Reporter& report) {
  std::map<std::string, std::size_t> first;
  for (std::size_t i = 0; i < manifest.servers.size(); ++i) {
    const ServerSpec& server = manifest.servers[i];
    if (server.name.empty()) {
      continue;
    }
    const auto [it, inserted] = first.emplace(server.name, i);
    if (!inserted) {
      report.error(
          server.name_pos, member(element("server", i), "name"),
          "server name " + server.name + " is already used by " + element("server", it->second));
    }
  }
}

void check_services(const Manifest& manifest, Reporter& report) {
  std::set<std::string> all;
  std::map<std::string, std::size_t> provider;
  for (std::size_t i = 0; i < manifest.servers.size(); ++i) {
    const ServerSpec& server = manifest.servers[i];
    const std::string path = element("server", i);
    const auto check_list = [&](const std::vector<Located<std::string>>& list,
                                std::string_view key) {
      std::set<std::string> seen;
      for (std::size_t k = 0; k < list.size(); ++k) {
        all.insert(list[k].value);
        if (!seen.insert(list[k].value).second) {
          report.error(list[k].pos, element(member(path, key), k),
                       "service " + list[k].value + " is listed twice");
        }
      }
    };
    check_list(server.provides, "provides");
    check_list(server.required, "requires");
    for (std::size_t k = 0; k < server.provides.size(); ++k) {
      const auto& service = server.provides[k];
      const auto [it, inserted] = provider.emplace(service.value, i);
      if (!inserted && it->second != i) {
        report.error(service.pos, element(member(path, "provides"), k),
                     "service " + service.value + " is already provided by server " +
                         server_label(manifest.servers[it->second], it->second));
      }
    }
  }
  if (all.size() > abi::kManifestMaxServices) {
    report.error(SourcePos{}, "manifest",
                 "too many services: " + std::to_string(all.size()) + ", at most " +
                     std::to_string(abi::kManifestMaxServices));
  }
  for (std::size_t i = 0; i < manifest.servers.size(); ++i) {
    const ServerSpec& server = manifest.servers[i];
    std::set<std::string> seen;  // A repeat has been reported as such already.
    for (std::size_t k = 0; k < server.required.size(); ++k) {
      const auto& service = server.required[k];
      if (!seen.insert(service.value).second) {
        continue;
      }
      const auto key = element(member(element("server", i), "requires"), k);
      const bool own = std::any_of(server.provides.begin(), server.provides.end(),
                                   [&](const auto& p) { return p.value == service.value; });
      if (own) {
        report.error(service.pos, key,
                     "requires service " + service.value + " that it provides itself");
      } else if (provider.find(service.value) == provider.end()) {
        report.error(service.pos, key,
                     "requires service " + service.value + " that no server provides");
      }
    }
  }
}

// Reports one cycle per strongly connected component, the shortest one through the
// component's first server in manifest order, at that server's requires entry that starts it.
// One cycle is enough to show what to break; listing every cycle of a tangle would bury it.
void check_cycles(const Manifest& manifest, Reporter& report) {
  const std::size_t n = manifest.servers.size();
  const auto edges = dependency_edges(manifest);

  std::vector<std::vector<bool>> reaches(n, std::vector<bool>(n, false));
  for (std::size_t s = 0; s < n; ++s) {
    std::vector<std::size_t> stack = {s};
    while (!stack.empty()) {
      const std::size_t v = stack.back();
      stack.pop_back();
      for (const Edge& e : edges[v]) {
        if (!reaches[s][e.to]) {
          reaches[s][e.to] = true;
          stack.push_back(e.to);
        }
      }
    }
  }

  std::vector<bool> reported(n, false);
  for (std::size_t s = 0; s < n; ++s) {
    if (!reaches[s][s] || reported[s]) {
      continue;
    }
    for (std::size_t v = 0; v < n; ++v) {
      if (reaches[s][v] && reaches[v][s]) {
        reported[v] = true;
      }
    }
    // Breadth first from s, following edges in requires order, until an edge leads back to s.
    std::vector<std::size_t> parent(n, n);
    std::vector<std::size_t> queue = {s};
    std::size_t last = n;
    for (std::size_t head = 0; head < queue.size() && last == n; ++head) {
      const std::size_t v = queue[head];
      for (const Edge& e : edges[v]) {
        if (e.to == s) {
          last = v;
          break;
        }
        if (parent[e.to] == n && e.to != s) {
          parent[e.to] = v;
          queue.push_back(e.to);
        }
      }
    }
    std::vector<std::size_t> path;
    for (std::size_t v = last; v != s; v = parent[v]) {
      path.push_back(v);
    }
    path.push_back(s);
    std::reverse(path.begin(), path.end());

    std::string text = "dependency cycle: ";
    for (const std::size_t v : path) {
      text += server_label(manifest.servers[v], v) + " -> ";
    }
    text += server_label(manifest.servers[s], s);

    const std::size_t next = path.size() > 1 ? path[1] : s;
    const auto edge = std::find_if(edges[s].begin(), edges[s].end(),
                                   [next](const Edge& e) { return e.to == next; });
    const std::size_t entry = edge->entry;
    report.error(manifest.servers[s].required[entry].pos,
                 element(member(element("server", s), "requires"), entry), text);
  }
}

std::string port_text(const abi::PortRange& r) {
  return hex(r.first) + "-" + hex(r.last);
}

std::string mmio_text(const abi::MmioRange& r) {
  return "[" + hex(r.base) + ", " + hex(r.base + r.size) + ")";
}

// Grants are compared pairwise: at most 32 servers with 8 grants of each kind keeps this tiny,
// and each later grant is reported once, against the first earlier grant it collides with.
void check_hardware(const Manifest& manifest, Reporter& report) {
  struct Seen {
    std::size_t server;
    std::size_t entry;
  };
  const auto label = [&](std::size_t i) { return server_label(manifest.servers[i], i); };
  std::vector<Seen> ports;
  std::vector<Seen> irqs;
  std::vector<Seen> mmio;
  for (std::size_t i = 0; i < manifest.servers.size(); ++i) {
    const ServerSpec& server = manifest.servers[i];
    const std::string hw = member(element("server", i), "hardware");
    for (std::size_t k = 0; k < server.ports.size(); ++k) {
      const auto& mine = server.ports[k].value;
      for (const Seen& s : ports) {
        const auto& theirs = manifest.servers[s.server].ports[s.entry].value;
        if (mine.first <= theirs.last && theirs.first <= mine.last) {
          report.error(server.ports[k].pos, element(member(hw, "ioports"), k),
                       "I/O ports " + port_text(mine) + " of server " + label(i) + " overlap " +
                           port_text(theirs) + " of server " + label(s.server));
          break;
        }
      }
      ports.push_back({i, k});
    }
    for (std::size_t k = 0; k < server.irqs.size(); ++k) {
      const auto mine = server.irqs[k].value;
      for (const Seen& s : irqs) {
        if (manifest.servers[s.server].irqs[s.entry].value == mine) {
          report.error(server.irqs[k].pos, element(member(hw, "irqs"), k),
                       "IRQ " + std::to_string(mine) + " of server " + label(i) +
                           " is also granted to server " + label(s.server));
          break;
        }
      }
      irqs.push_back({i, k});
    }
    for (std::size_t k = 0; k < server.mmio.size(); ++k) {
      const auto& mine = server.mmio[k].value;
      for (const Seen& s : mmio) {
        const auto& theirs = manifest.servers[s.server].mmio[s.entry].value;
        if (mine.base < theirs.base + theirs.size && theirs.base < mine.base + mine.size) {
          report.error(server.mmio[k].pos, element(member(hw, "mmio"), k),
                       "MMIO range " + mmio_text(mine) + " of server " + label(i) + " overlaps " +
                           mmio_text(theirs) + " of server " + label(s.server));
          break;
        }
      }
      mmio.push_back({i, k});
    }
  }
}

void check_memory(const Manifest& manifest, Reporter& report) {
  std::uint64_t total = 0;
  for (const ServerSpec& server : manifest.servers) {
    total = saturating_add(total, server.memory);
  }
  if (total > manifest.min_memory) {
    report.error(SourcePos{}, "manifest",
                 "memory budgets total " + std::to_string(total) +
                     " bytes, more than the machine's minimum memory " +
                     std::to_string(manifest.min_memory) + " bytes");
  }
}

enum class ReadStatus { kOk, kMissing, kError };

// Reads a whole regular file. `error` gets the reason on failure.
ReadStatus read_file(const std::string& path, std::vector<std::byte>& out, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return errno == ENOENT ? ReadStatus::kMissing : ReadStatus::kError;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return ReadStatus::kError;
  }
  // A directory or a pipe would otherwise fail later with a less helpful message, or never end.
  if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
    ::close(fd);
    return ReadStatus::kError;
  }
  out.clear();
  std::byte buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return ReadStatus::kError;
    }
    if (n == 0) {
      break;
    }
    out.insert(out.end(), buffer, buffer + n);
  }
  ::close(fd);
  return ReadStatus::kOk;
}

}  // namespace

std::string format_diagnostic(const Diagnostic& d) {
  return d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.key +
         ": " + d.message;
}

void sort_diagnostics(std::vector<Diagnostic>& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  unsigned shift = 0;
  switch (text.back()) {
    case 'K':
      shift = 10;
      break;
    case 'M':
      shift = 20;
      break;
    case 'G':
      shift = 30;
      break;
    default:
      break;
  }
  const std::string_view digits = shift == 0 ? text : text.substr(0, text.size() - 1);
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) {
    return std::nullopt;
  }
  if (shift != 0 && value > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
    return std::nullopt;
  }
  return value << shift;
}

ManifestResult parse_manifest(std::string_view text, const std::string& file) {
  ManifestResult result;
  result.manifest.file = file;
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    const SourcePos pos = position(e.source());
    result.errors.push_back(
        Diagnostic{file, pos.line, pos.column, "manifest", std::string(e.description())});
    return result;
  }
  Parser(file, result.errors).parse(root, result.manifest);
  auto cross = check_manifest(result.manifest);
  result.errors.insert(result.errors.end(), cross.begin(), cross.end());
  sort_diagnostics(result.errors);
  return result;
}

ManifestResult load_manifest(const std::string& path) {
  std::vector<std::byte> bytes;
  std::string error;
  if (read_file(path, bytes, error) != ReadStatus::kOk) {
    ManifestResult result;
    result.manifest.file = path;
    result.errors.push_back(Diagnostic{path, 1, 1, "manifest", "cannot read: " + error});
    return result;
  }
  return parse_manifest(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                        path);
}

std::vector<Diagnostic> check_manifest(const Manifest& manifest) {
  std::vector<Diagnostic> out;
  Reporter report(manifest.file, out);
  check_duplicate_names(manifest, report);
  check_services(manifest, report);
  check_cycles(manifest, report);
  check_hardware(manifest, report);
  check_memory(manifest, report);
  sort_diagnostics(out);
  return out;
}

std::optional<std::vector<std::size_t>> dependency_order(const Manifest& manifest) {
  const std::size_t n = manifest.servers.size();
  const auto edges = dependency_edges(manifest);
  std::vector<bool> placed(n, false);
  std::vector<std::size_t> order;
  order.reserve(n);
  while (order.size() < n) {
    // The first ready server in manifest order goes next: that keeps ties in manifest order.
    std::size_t next = n;
    for (std::size_t i = 0; i < n && next == n; ++i) {
      const bool ready = !placed[i] && std::all_of(edges[i].begin(), edges[i].end(),
                                                   [&](const Edge& e) { return placed[e.to]; });
      if (ready) {
        next = i;
      }
    }
    if (next == n) {
      return std::nullopt;
    }
    placed[next] = true;
    order.push_back(next);
  }
  return order;
}

std::vector<LoadedBinary> load_binaries(const Manifest& manifest, const BinarySources& sources,
                                        std::vector<Diagnostic>& errors) {
  Reporter report(manifest.file, errors);
  std::vector<LoadedBinary> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < manifest.servers.size(); ++i) {
    const ServerSpec& server = manifest.servers[i];
    if (server.binary.empty() || !seen.insert(server.binary).second) {
      continue;
    }
    const std::string key = member(element("server", i), "binary");
    std::string path;
    if (const auto found = sources.paths.find(server.binary); found != sources.paths.end()) {
      path = found->second;
    } else if (!sources.directory.empty()) {
      path = (std::filesystem::path(sources.directory) / server.binary).string();
    } else {
      report.error(
          server.binary_pos, key,
          "binary " + server.binary + " not found: no path given for it and no binary directory");
      continue;
    }
    LoadedBinary binary{server.binary, path, {}};
    std::string why;
    switch (read_file(path, binary.bytes, why)) {
      case ReadStatus::kMissing:
        report.error(server.binary_pos, key, "binary " + server.binary + " not found at " + path);
        continue;
      case ReadStatus::kError:
        report.error(server.binary_pos, key,
                     "binary " + server.binary + " at " + path + " cannot be read: " + why);
        continue;
      case ReadStatus::kOk:
        break;
    }
    const auto problems = check_user_elf_image(binary.bytes, path);
    for (const ElfProblem& p : problems) {
      report.error(server.binary_pos, key, format_problem(path, p));
    }
    if (problems.empty()) {
      out.push_back(std::move(binary));
    }
  }
  return out;
}

}  // namespace keel::tool
