// SPDX-License-Identifier: MIT
//
// Interrupt controllers: the legacy PICs (remapped and masked for good), the local APIC (EOI
// and the scheduler's timer) and the I/O APIC (device interrupt lines, routed per the MADT).
//
// IRQ lines as user space names them: 0..15 are ISA IRQs, translated to I/O APIC inputs through
// the MADT's interrupt source overrides; 16..23 are I/O APIC inputs 16..23 (PCI, level
// triggered, active low). Line n arrives on vector kIrqVectorBase + n.
#pragma once

#include <kstd/types.hpp>

#include "boot/acpi.hpp"

namespace kernel::x86 {

inline constexpr uint8_t kIrqVectorBase = 32;
inline constexpr uint8_t kTimerVector = 0xF0;
inline constexpr uint8_t kSpuriousVector = 0xFF;
inline constexpr uint32_t kTimerHz = 100;

// Masks the PICs, enables the local APIC and programs every usable I/O APIC input, masked.
// `madt` may be null (no ACPI): then the usual PC addresses and identity ISA routing are used.
void init_interrupt_controllers(const boot::MadtInfo* madt);

// Measures the local APIC timer against the PIT and starts it at kTimerHz.
void start_timer();

void lapic_eoi();

// Masks or unmasks IRQ line `line` (see above). Unknown lines are ignored.
void set_irq_masked(uint32_t line, bool masked);

// True when `line` reaches the I/O APIC (some ISA lines are taken by overrides).
bool irq_line_usable(uint32_t line);

uint64_t lapic_timer_ticks_per_second();

// The physical pages of the controllers, which never become device untyped.
uint64_t lapic_phys();
uint64_t ioapic_phys(size_t index);
size_t ioapic_count();

}  // namespace kernel::x86
