// SPDX-License-Identifier: MIT
//
// The test runner: sets up the environment, runs every registered test in registration order
// with fresh resources, and reports TAP. The run ends through the kernel's debug exit.
#include <abi/debug.hpp>

#include <sys/syscall.hpp>

#include <kstd/string.hpp>

#include "ktest.hpp"
#include "ktest_config.h"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

TestCase* g_first = nullptr;
TestCase* g_last = nullptr;

// The tests this image runs: all, or those whose name contains -Dktest_only.
bool selected(const TestCase* t) { return kstd::contains(t->name, KTEST_ONLY); }

bool run(TestCase* t, int number) {
  reset_failures();
  env_reset();
  t->fn();
  env_clean_up();
  bool ok = failures() == 0;
  sys::debug_printf("%s %d - %s\n", ok ? "ok" : "not ok", number, t->name);
  return ok;
}

}  // namespace

void register_test(TestCase* t) {
  if (g_last == nullptr) {
    g_first = t;
  } else {
    g_last->next = t;
  }
  g_last = t;
}

}  // namespace ktest

int main(uint64_t boot_info_vaddr) {
  using namespace ktest;
  int count = 0;
  for (TestCase* t = g_first; t != nullptr; t = t->next) {
    count += selected(t) ? 1 : 0;
  }
  sys::debug_print("TAP version 13\n");
  sys::debug_printf("1..%d\n", count);
  if (!env_init(boot_info_vaddr)) {
    sys::debug_print("# the RTC timer could not be set up; tests that sleep will fail\n");
  }
  int failed = 0;
  int number = 0;
  for (TestCase* t = g_first; t != nullptr; t = t->next) {
    if (!selected(t)) {
      continue;
    }
    failed += run(t, ++number) ? 0 : 1;
  }
  sys::debug_printf("# %d of %d tests failed\n", failed, count);
  sys::debug_exit(failed == 0 ? static_cast<uint64_t>(abi::TestVerdict::kPass)
                              : static_cast<uint64_t>(abi::TestVerdict::kFail));
}
