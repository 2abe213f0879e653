// SPDX-License-Identifier: MIT
#include "config.hpp"

#include <kstd/string.hpp>
#include <kstd/utility.hpp>

#include <kstd/enforce.hpp>

namespace kernel {
namespace {

struct Word {
  const char* key;
  size_t key_len;
  const char* value;  // Points at "1" for a bare key.
  size_t value_len;
};

bool equals(const char* s, size_t len, const char* lit) { return kstd::str_equal(s, len, lit); }

bool parse_level(const Word& w, LogLevel* out) {
  static constexpr const char* kNames[] = {"error", "warn", "info", "debug", "trace"};
  for (size_t i = 0; i < sizeof kNames / sizeof kNames[0]; ++i) {
    if (equals(w.value, w.value_len, kNames[i])) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

bool parse_bool(const Word& w, bool* out) {
  if (equals(w.value, w.value_len, "1") || equals(w.value, w.value_len, "yes")) {
    *out = true;
    return true;
  }
  if (equals(w.value, w.value_len, "0") || equals(w.value, w.value_len, "no")) {
    *out = false;
    return true;
  }
  return false;
}

bool is_test_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool parse_test_name(const Word& w, char* out) {
  if (w.value_len == 0 || w.value_len >= KernelConfig::kMaxTestName) {
    return false;
  }
  for (size_t i = 0; i < w.value_len; ++i) {
    if (!is_test_name_char(w.value[i])) {
      return false;
    }
  }
  memcpy(out, w.value, w.value_len);
  out[w.value_len] = '\0';
  return true;
}

// Returns null when the word was applied, or a description of what is wrong with it.
const char* apply(const Word& w, KernelConfig* cfg) {
  if (equals(w.key, w.key_len, "loglevel")) {
    return parse_level(w, &cfg->log_level) ? nullptr : "bad value (error|warn|info|debug|trace)";
  }
  if (equals(w.key, w.key_len, "qemu_debug_exit")) {
    return parse_bool(w, &cfg->qemu_debug_exit) ? nullptr : "bad value (0|1|yes|no)";
  }
  if (equals(w.key, w.key_len, "fastpath")) {
    return parse_bool(w, &cfg->fastpath) ? nullptr : "bad value (0|1|yes|no)";
  }
  if (equals(w.key, w.key_len, "ktest")) {
    return parse_test_name(w, cfg->ktest) ? nullptr : "bad test name";
  }
  return "unknown option";
}

}  // namespace

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kTrace: return "trace";
  }
  return "?";
}

size_t parse_kernel_config(const char* cmdline, KernelConfig* cfg, ConfigProblem* problems,
                           size_t max_problems) {
  size_t count = 0;
  if (cmdline == nullptr) {
    return 0;
  }
  const char* p = cmdline;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t') {
      ++p;
    }
    if (*p == '\0') {
      break;
    }
    const char* start = p;
    while (*p != '\0' && *p != ' ' && *p != '\t') {
      ++p;
    }
    size_t len = static_cast<size_t>(p - start);
    const char* eq = start;
    while (eq < p && *eq != '=') {
      ++eq;
    }
    Word w{start, static_cast<size_t>(eq - start), "1", 1};
    if (eq < p) {
      w.value = eq + 1;
      w.value_len = static_cast<size_t>(p - eq - 1);
    }
    if (const char* what = apply(w, cfg); what != nullptr) {
      if (count < max_problems) {
        size_t n = kstd::min(len, ConfigProblem::kMaxWord - 1);
        memcpy(problems[count].word, start, n);
        problems[count].word[n] = '\0';
        problems[count].what = what;
      }
      ++count;
    }
  }
  return count;
}

}  // namespace kernel
