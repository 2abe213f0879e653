// SPDX-License-Identifier: MIT
//
// The environment tests (and benchmarks) run in: the root task's own capabilities, a pool of
// untyped memory that is revoked between tests, slot and object allocators, virtual address
// space for test mappings, the RTC timer, and the failure bookkeeping behind CHECK.
#include <sys/syscall.hpp>
#include <sys/thread_block.hpp>

#include "ktest.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

Env g_env;
sys::ThreadBlock g_main_block;
int g_failures = 0;

uint64_t g_pool = 0;  // Untyped every test allocates from; revoked after each test.
uint64_t g_pool_bits = 0;
uint64_t g_runner_ut = 0;  // Untyped for the environment's own objects.
uint64_t g_runner_ut_bits = 0;
uint64_t g_first_test_slot = 0;

constexpr uint64_t kRegionBase = 0x0000001000000000;
constexpr uint64_t kRunnerSlots = 32;

// The largest RAM untyped becomes the pool, the next largest the environment's own.
void pick_untyped(const abi::BootInfo* b) {
  for (uint64_t i = 0; i < b->untyped_count; ++i) {
    const abi::UntypedDesc& d = b->untyped_list[i];
    if (d.is_device) {
      continue;
    }
    uint64_t cptr = b->untyped.start + i;
    if (d.size_bits > g_pool_bits) {
      if (g_pool_bits > g_runner_ut_bits) {
        g_runner_ut = g_pool;
        g_runner_ut_bits = g_pool_bits;
      }
      g_pool = cptr;
      g_pool_bits = d.size_bits;
    } else if (d.size_bits > g_runner_ut_bits) {
      g_runner_ut = cptr;
      g_runner_ut_bits = d.size_bits;
    }
  }
}

}  // namespace

bool env_init(uint64_t boot_info_vaddr) {
  auto* boot = reinterpret_cast<const abi::BootInfo*>(boot_info_vaddr);
  sys::install_thread_block(&g_main_block, abi::kSlotInitTcb,
                            reinterpret_cast<abi::IpcBuffer*>(abi::kRootIpcBufferVaddr));
  Env& e = g_env;
  e.boot = boot;
  e.cnode = abi::kSlotInitCNode;
  e.tcb = abi::kSlotInitTcb;
  e.vspace = abi::kSlotInitVSpace;
  pick_untyped(boot);
  // The environment's own objects (the timer's endpoint and the like) come from a separate
  // untyped, in slots below the ones tests use.
  static sys::SlotAllocator runner_slots;
  static sys::ObjectAllocator runner_objects;
  runner_slots.init(e.cnode, boot->empty.start, boot->empty.start + kRunnerSlots);
  runner_objects.init(&runner_slots);
  runner_objects.add(g_runner_ut, g_runner_ut_bits);
  g_first_test_slot = boot->empty.start + kRunnerSlots;
  env_reset();
  return timer_init(runner_slots, runner_objects);
}

void env_reset() {
  Env& e = g_env;
  e.slots.init(e.cnode, g_first_test_slot, e.boot->empty.end);
  e.objects = sys::ObjectAllocator();
  e.objects.init(&e.slots);
  e.objects.add(g_pool, g_pool_bits);
  e.vs.init(e.vspace, &e.objects);
  e.region_next = kRegionBase;
}

void env_clean_up() {
  // Everything made from the pool goes with it. Copies of capabilities from elsewhere (the root
  // task's own frames, control capabilities) live in the test's slots too: delete what is left.
  if (!sys::cnode_revoke(g_env.cnode, g_pool, 64)) {
    check_failed(__FILE__, __LINE__, "revoke of the test pool");
  }
  for (uint64_t s = g_first_test_slot; s < g_env.slots.high_water(); ++s) {
    if (!sys::cnode_delete(g_env.cnode, s, 64)) {
      check_failed(__FILE__, __LINE__, "clean-up of a test slot");
    }
  }
}

int failures() { return g_failures; }
void reset_failures() { g_failures = 0; }

void check_failed(const char* file, int line, const char* expr) {
  ++g_failures;
  sys::debug_printf("# %s:%d: check failed: %s\n", file, line, expr);
}

void check_status_failed(const char* file, int line, const char* expr, bool was_ok,
                         abi::Status got, abi::Status want) {
  ++g_failures;
  sys::debug_printf("# %s:%d: %s: got %s, want %s\n", file, line, expr,
                    was_ok ? "ok" : abi::status_name(got), abi::status_name(want));
}

void note(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sys::debug_print("# ");
  sys::debug_vprintf(fmt, ap);
  sys::debug_print("\n");
  va_end(ap);
}

Env& env() { return g_env; }

uint64_t make(abi::ObjectType type, uint64_t size_bits) {
  auto r = g_env.objects.alloc(type, size_bits);
  if (!r) {
    check_status_failed(__FILE__, __LINE__, "make", false, r.error(), abi::Status::kOk);
    return 0;
  }
  return r.value();
}

uint64_t slot() {
  auto r = g_env.slots.alloc();
  if (!r) {
    check_failed(__FILE__, __LINE__, "slot allocation");
    return 0;
  }
  return r.value();
}

uint64_t region(uint64_t bytes) {
  constexpr uint64_t kAlign = 2u << 20;
  uint64_t base = g_env.region_next;
  g_env.region_next += (bytes + kAlign - 1) & ~(kAlign - 1);
  return base;
}

}  // namespace ktest
