// SPDX-License-Identifier: MIT
#include "fpu.hpp"

#include <kstd/string.hpp>

#include "core/panic.hpp"
#include "cpu.hpp"
#include "cpu_local.hpp"

#include <kstd/enforce.hpp>

namespace kernel::x86 {
namespace {

constexpr uint64_t kCr0Mp = 1u << 1;
constexpr uint64_t kCr0Em = 1u << 2;
constexpr uint64_t kCr0Ts = 1u << 3;
constexpr uint64_t kCr4Osfxsr = 1u << 9;
constexpr uint64_t kCr4Osxmmexcpt = 1u << 10;
constexpr uint64_t kCr4Osxsave = 1u << 18;

constexpr uint64_t kXcr0X87 = 1;
constexpr uint64_t kXcr0Sse = 2;
constexpr uint64_t kXcr0Avx = 4;
constexpr uint64_t kXcr0Avx512 = 0xE0;  // Opmask, ZMM_Hi256, Hi16_ZMM.

bool g_xsave = false;
uint64_t g_xcr0 = 0;
uint64_t g_size = 512;

void xsetbv(uint32_t reg, uint64_t v) {
  asm volatile("xsetbv" : : "c"(reg), "a"(static_cast<uint32_t>(v)),
               "d"(static_cast<uint32_t>(v >> 32)));
}

void save(Tcb* t) {
  uint8_t* area = tcb_fpu_area(t);
  if (g_xsave) {
    asm volatile("xsave64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
  } else {
    asm volatile("fxsave64 (%0)" : : "r"(area) : "memory");
  }
}

void restore(Tcb* t) {
  uint8_t* area = tcb_fpu_area(t);
  if (g_xsave) {
    asm volatile("xrstor64 (%0)" : : "r"(area), "a"(~0u), "d"(~0u) : "memory");
  } else {
    asm volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
  }
}

// The state a new thread starts with: x87 control word 0x37F, MXCSR 0x1F80, everything else
// zero (in XSAVE terms: all components in their initial configuration).
void init_area(Tcb* t) {
  uint8_t* area = tcb_fpu_area(t);
  memset(area, 0, g_size);
  uint16_t fcw = 0x37F;
  uint32_t mxcsr = 0x1F80;
  memcpy(area, &fcw, sizeof fcw);
  memcpy(area + 24, &mxcsr, sizeof mxcsr);
}

void set_owner(CpuLocal* cpu, Tcb* t) {
  if (cpu->fpu_owner != nullptr) {
    cpu->fpu_owner->exit_hint &= static_cast<uint8_t>(~kExitHintFpu);
  }
  if (t != nullptr) {
    t->exit_hint |= kExitHintFpu;
  }
  cpu->fpu_owner = t;
}

}  // namespace

void init_fpu() {
  auto basic = cpuid(1);
  bool has_fxsr = (basic.edx & (1u << 24)) != 0;
  bool has_sse = (basic.edx & (1u << 25)) != 0;
  if (!has_fxsr || !has_sse) {
    PANIC("the CPU lacks FXSAVE or SSE, which every x86_64 CPU has");
  }
  write_cr0((read_cr0() & ~kCr0Em) | kCr0Mp);
  uint64_t cr4 = read_cr4() | kCr4Osfxsr | kCr4Osxmmexcpt;
  g_xsave = (basic.ecx & (1u << 26)) != 0;
  if (g_xsave) {
    write_cr4(cr4 | kCr4Osxsave);
    auto leaf = cpuid(0xD, 0);
    uint64_t supported = leaf.eax | (uint64_t{leaf.edx} << 32);
    g_xcr0 = kXcr0X87 | kXcr0Sse;
    if ((supported & kXcr0Avx) != 0) {
      g_xcr0 |= kXcr0Avx;
    }
    if ((supported & kXcr0Avx512) == kXcr0Avx512) {
      g_xcr0 |= kXcr0Avx512;
    }
    xsetbv(0, g_xcr0);
    // EBX: the save area size for what XCR0 enables now. Drop AVX-512 if it does not fit.
    g_size = cpuid(0xD, 0).ebx;
    if (g_size > kFpuAreaSize) {
      g_xcr0 &= ~kXcr0Avx512;
      xsetbv(0, g_xcr0);
      g_size = cpuid(0xD, 0).ebx;
    }
  } else {
    write_cr4(cr4);
  }
  if (g_size > kFpuAreaSize) {
    PANIC("FPU save area of %llu bytes does not fit a TCB", static_cast<unsigned long long>(g_size));
  }
  CpuLocal* cpu = this_cpu();
  cpu->cr0_ts = read_cr0() | kCr0Ts;
  fpu_set_ts(cpu);
}

void fpu_take(Tcb* t) {
  CpuLocal* cpu = this_cpu();
  if ((cpu->exit_busy & kExitBusyTsClear) == 0) {
    fpu_clear_ts(cpu);
  }
  if (cpu->fpu_owner == t) {
    return;
  }
  if (cpu->fpu_owner != nullptr) {
    save(cpu->fpu_owner);
  }
  if (t->fpu_used == 0) {
    init_area(t);
    t->fpu_used = 1;
  }
  restore(t);
  set_owner(cpu, t);
}

void fpu_forget(Tcb* t) {
  CpuLocal* cpu = this_cpu();
  if (cpu->fpu_owner == t) {
    set_owner(cpu, nullptr);
  }
}

const char* fpu_mode() {
  if (!g_xsave) {
    return "fxsave";
  }
  if ((g_xcr0 & kXcr0Avx512) != 0) {
    return "xsave (x87, SSE, AVX, AVX-512)";
  }
  return (g_xcr0 & kXcr0Avx) != 0 ? "xsave (x87, SSE, AVX)" : "xsave (x87, SSE)";
}

uint64_t fpu_state_size() { return g_size; }

}  // namespace kernel::x86
