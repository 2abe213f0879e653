// SPDX-License-Identifier: MIT
//
// elfcheck [--copy-to OUT] FILE...
//
// Checks user-mode ELF binaries before they go into a boot image. With --copy-to, a build step
// can depend on the checked copy: OUT exists only if FILE passed, so a binary that breaks a rule
// can never slip into the image from an earlier, stale copy.
#include "elf_check.hpp"

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int kExitGood = 0;
constexpr int kExitProblems = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kUsage = "usage: elfcheck [--copy-to OUT] FILE...\n";

int usage_error(std::string_view message) {
  std::cerr << "elfcheck: " << message << '\n' << kUsage;
  return kExitUsage;
}

// Writes to a temporary name next to OUT and renames it into place, so an interrupted run never
// leaves a truncated OUT that looks newer than FILE to the build system.
bool copy_checked(const std::string& from, const std::string& to) {
  const fs::path target(to);
  fs::path temp = target;
  temp += ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::copy_file(from, temp, fs::copy_options::overwrite_existing, ec);
  if (!ec) {
    fs::rename(temp, target, ec);
  }
  if (ec) {
    std::cerr << "elfcheck: " << to << ": cannot copy from " << from << ": " << ec.message()
              << '\n';
    std::error_code ignored;
    fs::remove(temp, ignored);
    return false;
  }
  return true;
}

// A stale copy from an earlier good build must go, or the build would keep using it.
void remove_stale(const std::string& to) {
  std::error_code ec;
  fs::remove(to, ec);
  if (ec) {
    std::cerr << "elfcheck: " << to << ": cannot remove stale copy: " << ec.message() << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string copy_to;
  bool have_copy_to = false;
  bool options_done = false;

  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      files.emplace_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return kExitGood;
    } else if (arg == "--copy-to") {
      if (have_copy_to) {
        return usage_error("--copy-to given more than once");
      }
      if (i + 1 >= argc) {
        return usage_error("--copy-to needs an output path");
      }
      copy_to = argv[++i];
      have_copy_to = true;
      if (copy_to.empty()) {
        return usage_error("--copy-to needs a non-empty output path");
      }
    } else {
      return usage_error("unknown option " + std::string(arg));
    }
  }
  if (files.empty()) {
    return usage_error("no input files");
  }
  if (have_copy_to && files.size() != 1) {
    return usage_error("--copy-to takes exactly one FILE");
  }

  bool good = true;
  for (const auto& file : files) {
    for (const auto& problem : keel::tool::check_user_elf(file)) {
      std::cerr << "elfcheck: " << keel::tool::format_problem(file, problem) << '\n';
      good = false;
    }
  }

  if (have_copy_to) {
    if (good) {
      good = copy_checked(files.front(), copy_to);
    } else {
      remove_stale(copy_to);
    }
  }
  return good ? kExitGood : kExitProblems;
}
