// SPDX-License-Identifier: MIT
//
// Thin wrappers over x86_64 instructions and registers that C++ cannot express.
#pragma once

#include <kstd/types.hpp>

namespace kernel::x86 {

inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
inline void outw(uint16_t port, uint16_t v) {
  asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
inline void outl(uint16_t port, uint32_t v) {
  asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
inline uint8_t inb(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}

inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}

inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" : : "c"(msr), "a"(static_cast<uint32_t>(v)),
               "d"(static_cast<uint32_t>(v >> 32)));
}

// wrmsr with the value read from memory as its two halves (no shift to split it).
inline void wrmsr_from(uint32_t msr, const uint64_t* v) {
  const auto* half = reinterpret_cast<const uint32_t*>(v);
  asm volatile("movl %1, %%eax\n\tmovl %2, %%edx\n\twrmsr"
               :
               : "c"(msr), "m"(half[0]), "m"(half[1])
               : "rax", "rdx");
}

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};

inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
               : "a"(leaf), "c"(subleaf));
  return r;
}

#define KEEL_CR_ACCESSORS(n)                              \
  inline uint64_t read_cr##n() {                          \
    uint64_t v;                                           \
    asm volatile("mov %%cr" #n ", %0" : "=r"(v));         \
    return v;                                             \
  }                                                       \
  inline void write_cr##n(uint64_t v) {                   \
    asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
  }
KEEL_CR_ACCESSORS(0)
KEEL_CR_ACCESSORS(2)
KEEL_CR_ACCESSORS(3)
KEEL_CR_ACCESSORS(4)
#undef KEEL_CR_ACCESSORS

inline uint64_t read_rflags() {
  uint64_t v;
  asm volatile("pushfq; popq %0" : "=r"(v));
  return v;
}

inline void invlpg(uint64_t vaddr) { asm volatile("invlpg (%0)" : : "r"(vaddr) : "memory"); }
inline void cli() { asm volatile("cli" ::: "memory"); }
inline void sti() { asm volatile("sti" ::: "memory"); }
inline void hlt() { asm volatile("hlt" ::: "memory"); }
inline void pause() { asm volatile("pause"); }

// Model-specific registers and control-register bits the kernel uses.
inline constexpr uint32_t kMsrEfer = 0xC0000080;
inline constexpr uint32_t kMsrStar = 0xC0000081;
inline constexpr uint32_t kMsrLstar = 0xC0000082;
inline constexpr uint32_t kMsrFmask = 0xC0000084;
inline constexpr uint32_t kMsrFsBase = 0xC0000100;
inline constexpr uint32_t kMsrGsBase = 0xC0000101;
inline constexpr uint32_t kMsrKernelGsBase = 0xC0000102;

inline constexpr uint64_t kEferSce = 1u << 0;
inline constexpr uint64_t kEferNxe = 1u << 11;
inline constexpr uint64_t kCr0Wp = 1u << 16;
inline constexpr uint64_t kCr4Pge = 1u << 7;
inline constexpr uint64_t kCr4Pcide = 1u << 17;

}  // namespace kernel::x86
