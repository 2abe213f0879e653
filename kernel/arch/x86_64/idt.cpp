// SPDX-License-Identifier: MIT
#include "idt.hpp"

#include "gdt.hpp"

#include <kstd/enforce.hpp>

extern "C" const uint64_t trap_vector_table[256];

namespace kernel::x86 {
namespace {

struct Gate {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attr;
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t reserved;
};
static_assert(sizeof(Gate) == 16);

constexpr uint8_t kInterruptGate = 0x8E;  // Present, DPL 0, 64-bit interrupt gate.

struct [[gnu::packed]] IdtPointer {
  uint16_t limit;
  uint64_t base;
};

alignas(16) Gate g_idt[256];

Gate make_gate(uint64_t handler, Ist ist) {
  return Gate{static_cast<uint16_t>(handler), kKernelCode, static_cast<uint8_t>(ist),
              kInterruptGate, static_cast<uint16_t>(handler >> 16),
              static_cast<uint32_t>(handler >> 32), 0};
}

struct ExceptionInfo {
  const char* mnemonic;
  const char* name;
};

constexpr ExceptionInfo kExceptions[32] = {
    {"#DE", "divide error"},
    {"#DB", "debug"},
    {"NMI", "non-maskable interrupt"},
    {"#BP", "breakpoint"},
    {"#OF", "overflow"},
    {"#BR", "bound range exceeded"},
    {"#UD", "invalid opcode"},
    {"#NM", "device not available"},
    {"#DF", "double fault"},
    {"#CSO", "coprocessor segment overrun"},
    {"#TS", "invalid TSS"},
    {"#NP", "segment not present"},
    {"#SS", "stack-segment fault"},
    {"#GP", "general protection fault"},
    {"#PF", "page fault"},
    {"#15", "reserved"},
    {"#MF", "x87 floating-point error"},
    {"#AC", "alignment check"},
    {"#MC", "machine check"},
    {"#XM", "SIMD floating-point exception"},
    {"#VE", "virtualization exception"},
    {"#CP", "control protection exception"},
    {"#22", "reserved"},
    {"#23", "reserved"},
    {"#24", "reserved"},
    {"#25", "reserved"},
    {"#26", "reserved"},
    {"#27", "reserved"},
    {"#HV", "hypervisor injection exception"},
    {"#VC", "VMM communication exception"},
    {"#SX", "security exception"},
    {"#31", "reserved"},
};

}  // namespace

void init_idt() {
  for (int v = 0; v < 256; ++v) {
    Ist ist = Ist::kNone;
    if (v == kDoubleFault) {
      ist = Ist::kDoubleFault;
    } else if (v == kNmi) {
      ist = Ist::kNmi;
    } else if (v == kMachineCheck) {
      ist = Ist::kMachineCheck;
    }
    g_idt[v] = make_gate(trap_vector_table[v], ist);
  }
  // int3 and into from user mode raise their own exceptions (for debuggers) instead of #GP.
  set_gate_user_callable(kBreakpoint, true);
  set_gate_user_callable(kOverflow, true);
  load_idt();
}

void load_idt() {
  IdtPointer ptr{sizeof(g_idt) - 1, reinterpret_cast<uint64_t>(&g_idt[0])};
  asm volatile("lidt %0" : : "m"(ptr));
}

void set_gate_user_callable(uint8_t vector, bool callable) {
  g_idt[vector].type_attr = callable ? (kInterruptGate | 0x60) : kInterruptGate;
}

const char* exception_mnemonic(uint64_t vector) {
  return vector < 32 ? kExceptions[vector].mnemonic : "IRQ";
}

const char* exception_name(uint64_t vector) {
  return vector < 32 ? kExceptions[vector].name : "external interrupt";
}

}  // namespace kernel::x86
