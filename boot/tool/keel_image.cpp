// SPDX-License-Identifier: MIT
//
// keel-image --manifest FILE --output ARCHIVE [--binary NAME=PATH]... [--binary-dir DIR]
//
// Checks a manifest and every binary it names, then writes the boot archive. A binary is found
// by its --binary NAME=PATH if one was given, else as DIR/NAME. Every problem is printed, not
// only the first; if there is any, ARCHIVE is not written and a stale one is removed, so that a
// build can never go on with an image from an earlier, good run.
//
// Exit status: 0 archive written, 1 problems found (or the archive could not be written),
// 2 usage error.
#include <sys/stat.h>

#include "archive.hpp"
#include "manifest.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace tool = keel::tool;

constexpr int kExitGood = 0;
constexpr int kExitProblems = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kUsage =
    "usage: keel-image --manifest FILE --output ARCHIVE [--binary NAME=PATH]... "
    "[--binary-dir DIR]\n";

int usage_error(std::string_view message) {
  std::cerr << "keel-image: " << message << '\n' << kUsage;
  return kExitUsage;
}

void remove_stale(const std::string& output) {
  std::error_code ec;
  fs::remove(output, ec);
  if (ec) {
    std::cerr << "keel-image: " << output << ": cannot remove stale archive: " << ec.message()
              << '\n';
  }
}

bool write_all(int fd, const std::vector<std::byte>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Writes to a unique temporary file next to the output and renames it into place, so that an
// interrupted run never leaves a truncated archive that looks newer than its inputs.
bool write_atomically(const std::string& output, const std::vector<std::byte>& bytes) {
  std::string temp = output + ".tmp.XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    std::cerr << "keel-image: " << output
              << ": cannot create a temporary file: " << std::strerror(errno) << '\n';
    return false;
  }
  bool ok = write_all(fd, bytes);
  int saved = errno;
  // mkstemp() creates the file 0600; an image is an ordinary build output and gets the mode
  // any other new file would get.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (ok && ::fchmod(fd, 0666 & ~mask) != 0) {
    ok = false;
    saved = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && ::rename(temp.c_str(), output.c_str()) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    std::cerr << "keel-image: " << output << ": cannot write: " << std::strerror(saved) << '\n';
    ::unlink(temp.c_str());
  }
  return ok;
}

struct Options {
  std::string manifest;
  std::string output;
  tool::BinarySources sources;
};

// Takes the value of an option given as "--opt VALUE" or "--opt=VALUE".
bool option_value(std::string_view arg, std::string_view name, int& i, int argc, char** argv,
                  std::string& value, std::string& error) {
  if (arg == name) {
    if (i + 1 >= argc) {
      error = std::string(name) + " needs a value";
      return true;
    }
    value = argv[++i];
    return true;
  }
  if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
    value = std::string(arg.substr(name.size() + 1));
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool have_dir = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    std::string value;
    std::string error;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return kExitGood;
    }
    if (option_value(arg, "--manifest", i, argc, argv, value, error)) {
      if (!error.empty()) {
        return usage_error(error);
      }
      if (!options.manifest.empty()) {
        return usage_error("--manifest given twice");
      }
      options.manifest = value;
    } else if (option_value(arg, "--output", i, argc, argv, value, error)) {
      if (!error.empty()) {
        return usage_error(error);
      }
      if (!options.output.empty()) {
        return usage_error("--output given twice");
      }
      options.output = value;
    } else if (option_value(arg, "--binary-dir", i, argc, argv, value, error)) {
      if (!error.empty()) {
        return usage_error(error);
      }
      if (have_dir) {
        return usage_error("--binary-dir given twice");
      }
      have_dir = true;
      options.sources.directory = value.empty() ? "." : value;
    } else if (option_value(arg, "--binary", i, argc, argv, value, error)) {
      if (!error.empty()) {
        return usage_error(error);
      }
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        return usage_error("--binary needs NAME=PATH, got \"" + value + "\"");
      }
      const std::string name = value.substr(0, eq);
      if (!options.sources.paths.emplace(name, value.substr(eq + 1)).second) {
        return usage_error("--binary " + name + " given twice");
      }
    } else {
      return usage_error("unknown argument \"" + std::string(arg) + "\"");
    }
  }
  if (options.manifest.empty()) {
    return usage_error("--manifest is required");
  }
  if (options.output.empty()) {
    return usage_error("--output is required");
  }

  try {
    tool::ManifestResult result = tool::load_manifest(options.manifest);
    std::vector<tool::Diagnostic> errors = std::move(result.errors);
    // The binaries are checked even when the manifest has problems, so that one run reports
    // everything there is to fix.
    const auto binaries = tool::load_binaries(result.manifest, options.sources, errors);
    tool::sort_diagnostics(errors);
    if (!errors.empty()) {
      for (const tool::Diagnostic& d : errors) {
        std::cerr << tool::format_diagnostic(d) << '\n';
      }
      std::cerr << "keel-image: " << errors.size() << (errors.size() == 1 ? " error" : " errors")
                << "; " << options.output << " not written\n";
      remove_stale(options.output);
      return kExitProblems;
    }
    const auto archive = tool::build_boot_archive(result.manifest, binaries);
    if (!write_atomically(options.output, archive)) {
      remove_stale(options.output);
      return kExitProblems;
    }
  } catch (const std::exception& e) {
    // Only a bug or an exhausted machine gets here: every input problem is a diagnostic.
    std::cerr << "keel-image: internal error: " << e.what() << '\n';
    remove_stale(options.output);
    return kExitProblems;
  }
  return kExitGood;
}
