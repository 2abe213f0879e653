// SPDX-License-Identifier: MIT
#include "apic.hpp"

#include "core/log.hpp"
#include "cpu.hpp"
#include "paging.hpp"

#include <kstd/enforce.hpp>

namespace kernel::x86 {
namespace {

// Local APIC registers.
constexpr uint32_t kLapicEoi = 0xB0;
constexpr uint32_t kLapicSvr = 0xF0;
constexpr uint32_t kLapicTpr = 0x80;
constexpr uint32_t kLapicLvtTimer = 0x320;
constexpr uint32_t kLapicTimerInitial = 0x380;
constexpr uint32_t kLapicTimerCurrent = 0x390;
constexpr uint32_t kLapicTimerDivide = 0x3E0;
constexpr uint32_t kLvtMasked = 1u << 16;
constexpr uint32_t kLvtPeriodic = 1u << 17;

struct Route {
  bool usable;
  uint8_t ioapic;
  uint8_t pin;
  bool active_low;
  bool level;
};

uint64_t g_lapic_phys = 0xFEE00000;
volatile uint32_t* g_lapic = nullptr;
boot::IoApicInfo g_ioapics[boot::MadtInfo::kMaxIoApics];
size_t g_ioapic_count = 0;
uint32_t g_ioapic_pins[boot::MadtInfo::kMaxIoApics];
Route g_routes[24];
uint64_t g_timer_hz_ticks = 0;

uint32_t lapic_read(uint32_t reg) { return g_lapic[reg / 4]; }
void lapic_write(uint32_t reg, uint32_t v) { g_lapic[reg / 4] = v; }

volatile uint32_t* ioapic_base(size_t i) {
  return static_cast<volatile uint32_t*>(phys_to_virt(g_ioapics[i].address));
}
uint32_t ioapic_read(size_t i, uint32_t reg) {
  volatile uint32_t* base = ioapic_base(i);
  base[0] = reg;
  return base[4];
}
void ioapic_write(size_t i, uint32_t reg, uint32_t v) {
  volatile uint32_t* base = ioapic_base(i);
  base[0] = reg;
  base[4] = v;
}

// The I/O APIC and pin that serve global system interrupt `gsi`.
bool find_pin(uint32_t gsi, uint8_t* ioapic, uint8_t* pin) {
  for (size_t i = 0; i < g_ioapic_count; ++i) {
    if (gsi >= g_ioapics[i].gsi_base && gsi < g_ioapics[i].gsi_base + g_ioapic_pins[i]) {
      *ioapic = static_cast<uint8_t>(i);
      *pin = static_cast<uint8_t>(gsi - g_ioapics[i].gsi_base);
      return true;
    }
  }
  return false;
}

void program(uint32_t line, bool masked) {
  const Route& r = g_routes[line];
  uint32_t low = (kIrqVectorBase + line) | (r.active_low ? 1u << 13 : 0) |
                 (r.level ? 1u << 15 : 0) | (masked ? 1u << 16 : 0);
  ioapic_write(r.ioapic, 0x10 + 2u * r.pin + 1, 0);  // Destination: APIC 0.
  ioapic_write(r.ioapic, 0x10 + 2u * r.pin, low);
}

void mask_pics() {
  // Remap to vectors 0x20/0x28 first, so a stray legacy interrupt cannot look like an exception,
  // then mask every input.
  outb(0x20, 0x11);
  outb(0xA0, 0x11);
  outb(0x21, 0x20);
  outb(0xA1, 0x28);
  outb(0x21, 0x04);
  outb(0xA1, 0x02);
  outb(0x21, 0x01);
  outb(0xA1, 0x01);
  outb(0x21, 0xFF);
  outb(0xA1, 0xFF);
}

}  // namespace

void init_interrupt_controllers(const boot::MadtInfo* madt) {
  mask_pics();
  if (madt != nullptr && madt->lapic_address != 0) {
    g_lapic_phys = madt->lapic_address;
  }
  if (madt != nullptr && madt->ioapic_count > 0) {
    g_ioapic_count = madt->ioapic_count;
    for (size_t i = 0; i < g_ioapic_count; ++i) {
      g_ioapics[i] = madt->ioapics[i];
    }
  } else {
    g_ioapic_count = 1;
    g_ioapics[0] = {0, 0xFEC00000, 0};
  }
  g_lapic = static_cast<volatile uint32_t*>(phys_to_virt(g_lapic_phys));
  // Enable the local APIC in its MSR and through the spurious vector register.
  wrmsr(0x1B, (rdmsr(0x1B) & 0xFFF) | g_lapic_phys | (1u << 11));
  lapic_write(kLapicTpr, 0);
  lapic_write(kLapicSvr, kSpuriousVector | 0x100);
  lapic_write(kLapicLvtTimer, kLvtMasked | kTimerVector);

  for (size_t i = 0; i < g_ioapic_count; ++i) {
    g_ioapic_pins[i] = ((ioapic_read(i, 1) >> 16) & 0xFF) + 1;
  }
  // Route lines: ISA through overrides, the rest identity. Two ISA IRQs may not share an
  // input: the one an override moved there wins.
  for (uint32_t line = 0; line < 24; ++line) {
    Route r{};
    uint32_t gsi = line;
    if (line < 16) {
      const boot::IsaOverride* o = madt != nullptr ? &madt->isa[line] : nullptr;
      if (o != nullptr && o->present) {
        gsi = o->gsi;
        r.active_low = o->active_low;
        r.level = o->level;
      } else if (madt != nullptr) {
        for (uint32_t other = 0; other < 16; ++other) {
          if (other != line && madt->isa[other].present && madt->isa[other].gsi == line) {
            gsi = ~0u;  // Taken by another ISA IRQ.
          }
        }
      }
    } else {
      r.active_low = true;
      r.level = true;
    }
    r.usable = gsi != ~0u && find_pin(gsi, &r.ioapic, &r.pin);
    g_routes[line] = r;
    if (r.usable) {
      program(line, true);
    }
  }
}

void start_timer() {
  // PIT channel 2, gated through port 0x61, counts down 10 ms while the APIC timer runs free.
  constexpr uint32_t kPitHz = 1193182;
  constexpr uint32_t kCalibrationHz = 100;
  lapic_write(kLapicTimerDivide, 0x3);  // Divide by 16.
  outb(0x61, static_cast<uint8_t>((inb(0x61) & ~0x02) | 0x01));
  outb(0x43, 0xB0);  // Channel 2, low then high byte, mode 0.
  uint32_t count = kPitHz / kCalibrationHz;
  outb(0x42, static_cast<uint8_t>(count));
  outb(0x42, static_cast<uint8_t>(count >> 8));
  outb(0x61, static_cast<uint8_t>(inb(0x61) & ~0x01));  // Restart the gate: the count begins.
  outb(0x61, static_cast<uint8_t>(inb(0x61) | 0x01));
  lapic_write(kLapicTimerInitial, 0xFFFFFFFF);
  while ((inb(0x61) & 0x20) == 0) {
    pause();
  }
  uint32_t elapsed = 0xFFFFFFFF - lapic_read(kLapicTimerCurrent);
  lapic_write(kLapicTimerInitial, 0);
  g_timer_hz_ticks = uint64_t{elapsed} * kCalibrationHz;
  uint32_t period = static_cast<uint32_t>(g_timer_hz_ticks / kTimerHz);
  if (period == 0) {
    period = 1;
  }
  lapic_write(kLapicLvtTimer, kLvtPeriodic | kTimerVector);
  lapic_write(kLapicTimerInitial, period);
}

void lapic_eoi() { lapic_write(kLapicEoi, 0); }

void set_irq_masked(uint32_t line, bool masked) {
  if (line < 24 && g_routes[line].usable) {
    program(line, masked);
  }
}

bool irq_line_usable(uint32_t line) { return line < 24 && g_routes[line].usable; }

uint64_t lapic_timer_ticks_per_second() { return g_timer_hz_ticks; }
uint64_t lapic_phys() { return g_lapic_phys; }
uint64_t ioapic_phys(size_t index) { return g_ioapics[index].address; }
size_t ioapic_count() { return g_ioapic_count; }

}  // namespace kernel::x86
