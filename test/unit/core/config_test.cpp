// SPDX-License-Identifier: MIT
//
// Unit tests for the kernel command-line parser: every key and value, word splitting, and the
// promise that a bad word is reported and otherwise ignored, so a typo never stops a boot.
#include "core/config.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

namespace {

using kernel::ConfigProblem;
using kernel::KernelConfig;
using kernel::LogLevel;
using kernel::parse_kernel_config;

// Parses into a fresh config with room for a few problems and keeps the results together.
struct Parsed {
  KernelConfig cfg;
  ConfigProblem problems[8];
  size_t count = 0;

  explicit Parsed(const char* cmdline, KernelConfig start = {}) : cfg(start) {
    // Poison the problem slots so that a missing terminator or unset field would show.
    std::memset(problems, 0x5a, sizeof problems);
    count = parse_kernel_config(cmdline, &cfg, problems, 8);
  }

  std::string word(size_t i) const { return problems[i].word; }
  std::string what(size_t i) const { return problems[i].what; }
};

bool same_config(const KernelConfig& a, const KernelConfig& b) {
  return a.log_level == b.log_level && a.qemu_debug_exit == b.qemu_debug_exit &&
         std::memcmp(a.ktest, b.ktest, sizeof a.ktest) == 0;
}

// A config with every field away from its default, to see that bad words leave it alone.
KernelConfig non_default() {
  KernelConfig c;
  c.log_level = LogLevel::kTrace;
  c.qemu_debug_exit = true;
  std::strcpy(c.ktest, "paging");
  return c;
}

}  // namespace

TEST_CASE("config: defaults", "[config]") {
  KernelConfig cfg;
  CHECK(cfg.log_level == LogLevel::kInfo);
  CHECK_FALSE(cfg.qemu_debug_exit);
  CHECK(cfg.ktest[0] == '\0');

  Parsed empty("");
  CHECK(empty.count == 0);
  CHECK(same_config(empty.cfg, KernelConfig{}));

  Parsed blank("  \t \t  ");
  CHECK(blank.count == 0);
  CHECK(same_config(blank.cfg, KernelConfig{}));
}

TEST_CASE("config: a null command line changes nothing", "[config]") {
  KernelConfig cfg = non_default();
  CHECK(parse_kernel_config(nullptr, &cfg, nullptr, 0) == 0);
  CHECK(same_config(cfg, non_default()));
  ConfigProblem problems[2];
  CHECK(parse_kernel_config(nullptr, &cfg, problems, 2) == 0);
}

TEST_CASE("config: loglevel takes every level", "[config]") {
  struct Case {
    const char* cmdline;
    LogLevel level;
  };
  const Case cases[] = {
      {"loglevel=error", LogLevel::kError}, {"loglevel=warn", LogLevel::kWarn},
      {"loglevel=info", LogLevel::kInfo},   {"loglevel=debug", LogLevel::kDebug},
      {"loglevel=trace", LogLevel::kTrace},
  };
  for (const Case& c : cases) {
    INFO(c.cmdline);
    // Start from a different level so that the parse visibly sets it.
    KernelConfig start;
    start.log_level = c.level == LogLevel::kError ? LogLevel::kTrace : LogLevel::kError;
    Parsed p(c.cmdline, start);
    CHECK(p.count == 0);
    CHECK(p.cfg.log_level == c.level);
    CHECK(std::string(kernel::log_level_name(c.level)) == std::strchr(c.cmdline, '=') + 1);
  }
  CHECK(std::string(kernel::log_level_name(static_cast<LogLevel>(9))) == "?");
}

TEST_CASE("config: qemu_debug_exit takes 0, 1, yes and no", "[config]") {
  CHECK(Parsed("qemu_debug_exit=1").cfg.qemu_debug_exit);
  CHECK(Parsed("qemu_debug_exit=yes").cfg.qemu_debug_exit);
  CHECK_FALSE(Parsed("qemu_debug_exit=0", non_default()).cfg.qemu_debug_exit);
  CHECK_FALSE(Parsed("qemu_debug_exit=no", non_default()).cfg.qemu_debug_exit);
  CHECK(Parsed("qemu_debug_exit=1").count == 0);
  CHECK(Parsed("qemu_debug_exit=no").count == 0);
}

TEST_CASE("config: a bare key means 1", "[config]") {
  Parsed p("qemu_debug_exit");
  CHECK(p.count == 0);
  CHECK(p.cfg.qemu_debug_exit);

  // For ktest, 1 is a valid test name.
  Parsed t("ktest");
  CHECK(t.count == 0);
  CHECK(std::string(t.cfg.ktest) == "1");

  // For loglevel, 1 is not a level.
  Parsed l("loglevel", non_default());
  REQUIRE(l.count == 1);
  CHECK(l.word(0) == "loglevel");
  CHECK(l.cfg.log_level == LogLevel::kTrace);
}

TEST_CASE("config: ktest names", "[config]") {
  Parsed p("ktest=paging");
  CHECK(p.count == 0);
  CHECK(std::string(p.cfg.ktest) == "paging");

  Parsed q("ktest=ipc_call-2");
  CHECK(q.count == 0);
  CHECK(std::string(q.cfg.ktest) == "ipc_call-2");

  SECTION("the longest name that fits") {
    std::string name(KernelConfig::kMaxTestName - 1, 'a');
    name.back() = 'z';
    std::string cmdline = "ktest=" + name;
    Parsed m(cmdline.c_str());
    CHECK(m.count == 0);
    CHECK(std::string(m.cfg.ktest) == name);
    CHECK(m.cfg.ktest[KernelConfig::kMaxTestName - 1] == '\0');
  }
  SECTION("one character too long") {
    std::string cmdline = "ktest=" + std::string(KernelConfig::kMaxTestName, 'a');
    Parsed m(cmdline.c_str(), non_default());
    REQUIRE(m.count == 1);
    CHECK(m.word(0) == cmdline);
    CHECK(m.what(0) == "bad test name");
    CHECK(std::string(m.cfg.ktest) == "paging");
  }
  SECTION("bad characters or an empty name") {
    for (const char* cmdline : {"ktest=", "ktest=Paging", "ktest=a/b", "ktest=a.b", "ktest=a=b"}) {
      INFO(cmdline);
      Parsed m(cmdline, non_default());
      REQUIRE(m.count == 1);
      CHECK(m.word(0) == cmdline);
      CHECK(m.what(0) == "bad test name");
      CHECK(same_config(m.cfg, non_default()));
    }
  }
  SECTION("a later name replaces an earlier one") {
    Parsed m("ktest=a_long_first_name ktest=b");
    CHECK(m.count == 0);
    CHECK(std::string(m.cfg.ktest) == "b");
  }
}

TEST_CASE("config: several words with extra spaces and tabs", "[config]") {
  Parsed p("  loglevel=debug \t\tqemu_debug_exit\t ktest=sched  \t");
  CHECK(p.count == 0);
  CHECK(p.cfg.log_level == LogLevel::kDebug);
  CHECK(p.cfg.qemu_debug_exit);
  CHECK(std::string(p.cfg.ktest) == "sched");

  // The last word of a kind wins.
  Parsed q("loglevel=trace loglevel=warn qemu_debug_exit=1 qemu_debug_exit=0");
  CHECK(q.count == 0);
  CHECK(q.cfg.log_level == LogLevel::kWarn);
  CHECK_FALSE(q.cfg.qemu_debug_exit);
}

TEST_CASE("config: unknown keys and bad values are reported and ignored", "[config]") {
  struct Case {
    const char* word;
    const char* what;
  };
  const Case cases[] = {
      {"quiet", "unknown option"},
      {"LOGLEVEL=debug", "unknown option"},  // Keys are case sensitive.
      {"loglevel2=debug", "unknown option"},
      {"log=debug", "unknown option"},
      {"=debug", "unknown option"},
      {"=", "unknown option"},
      {"loglevel=", "bad value (error|warn|info|debug|trace)"},
      {"loglevel=DEBUG", "bad value (error|warn|info|debug|trace)"},
      {"loglevel=debugx", "bad value (error|warn|info|debug|trace)"},
      {"loglevel=deb", "bad value (error|warn|info|debug|trace)"},
      {"loglevel=2", "bad value (error|warn|info|debug|trace)"},
      {"loglevel==debug", "bad value (error|warn|info|debug|trace)"},
      {"qemu_debug_exit=2", "bad value (0|1|yes|no)"},
      {"qemu_debug_exit=", "bad value (0|1|yes|no)"},
      {"qemu_debug_exit=true", "bad value (0|1|yes|no)"},
      {"qemu_debug_exit=10", "bad value (0|1|yes|no)"},
  };
  for (const Case& c : cases) {
    INFO(c.word);
    Parsed p(c.word, non_default());
    REQUIRE(p.count == 1);
    CHECK(p.word(0) == c.word);
    CHECK(p.what(0) == c.what);
    CHECK(same_config(p.cfg, non_default()));
  }
}

TEST_CASE("config: good words around bad ones still apply", "[config]") {
  Parsed p("loglevel=debug bogus=1 qemu_debug_exit=maybe ktest=mem\tloglevel=loud");
  REQUIRE(p.count == 3);
  CHECK(p.word(0) == "bogus=1");
  CHECK(p.what(0) == "unknown option");
  CHECK(p.word(1) == "qemu_debug_exit=maybe");
  CHECK(p.what(1) == "bad value (0|1|yes|no)");
  CHECK(p.word(2) == "loglevel=loud");
  CHECK(p.cfg.log_level == LogLevel::kDebug);
  CHECK_FALSE(p.cfg.qemu_debug_exit);
  CHECK(std::string(p.cfg.ktest) == "mem");
}

TEST_CASE("config: more problems than max_problems", "[config]") {
  std::string cmdline;
  for (int i = 0; i < 10; ++i) {
    cmdline += "bad" + std::to_string(i) + " ";
  }
  cmdline += "loglevel=warn";

  ConfigProblem problems[4];
  std::memset(problems, 0x5a, sizeof problems);
  KernelConfig cfg;
  CHECK(parse_kernel_config(cmdline.c_str(), &cfg, problems, 3) == 10);
  CHECK(cfg.log_level == LogLevel::kWarn);
  CHECK(std::string(problems[0].word) == "bad0");
  CHECK(std::string(problems[1].word) == "bad1");
  CHECK(std::string(problems[2].word) == "bad2");
  // The slot past max_problems is untouched.
  const auto* raw = reinterpret_cast<const unsigned char*>(&problems[3]);
  for (size_t i = 0; i < sizeof problems[3]; ++i) {
    CHECK(raw[i] == 0x5a);
  }

  // With no room at all, only the count comes back.
  KernelConfig cfg2;
  CHECK(parse_kernel_config(cmdline.c_str(), &cfg2, nullptr, 0) == 10);
  CHECK(cfg2.log_level == LogLevel::kWarn);
}

TEST_CASE("config: long words are truncated and terminated", "[config]") {
  const size_t max = ConfigProblem::kMaxWord;
  SECTION("much longer") {
    std::string word = "unknown_option_" + std::string(100, 'x');
    Parsed p(word.c_str());
    REQUIRE(p.count == 1);
    CHECK(p.word(0) == word.substr(0, max - 1));
    CHECK(p.problems[0].word[max - 1] == '\0');
    CHECK(p.what(0) == "unknown option");
  }
  SECTION("exactly the longest that fits, and one more") {
    std::string fits(max - 1, 'k');
    std::string over(max, 'k');
    Parsed p((fits + " " + over).c_str());
    REQUIRE(p.count == 2);
    CHECK(p.word(0) == fits);
    CHECK(p.word(1) == fits);
    CHECK(p.problems[1].word[max - 1] == '\0');
  }
  SECTION("a long bad value") {
    std::string word = "loglevel=" + std::string(200, 'v');
    Parsed p(("qemu_debug_exit " + word).c_str());
    REQUIRE(p.count == 1);
    CHECK(p.word(0) == word.substr(0, max - 1));
    CHECK(p.cfg.qemu_debug_exit);
  }
}
