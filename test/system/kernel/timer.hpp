// SPDX-License-Identifier: MIT
//
// A user-level timer from the CMOS real-time clock's periodic interrupt (ISA IRQ 8, ports
// 0x70-0x71): the root task's way to wait, and the suite's interrupt source.
#pragma once

#include <stdint.h>

#include <sys/alloc.hpp>

namespace ktest {

inline constexpr uint64_t kTimerHz = 64;
inline constexpr uint64_t kRtcIrq = 8;

// Gets the IRQ handler and port capabilities, binds the ports to the root thread and starts the
// periodic interrupt. Returns false when something was refused.
bool timer_init(sys::SlotAllocator& slots, sys::ObjectAllocator& objects);

// The timer's endpoint (interrupts arrive with badge kTimerBadge) and its IRQ handler.
uint64_t timer_endpoint();
// The same endpoint unbadged, to mint other badges from: a thread that must wait for either a
// tick or a message (the fuzzer's faults) receives both on one queue.
uint64_t timer_endpoint_object();
uint64_t timer_irq_handler();
inline constexpr uint64_t kTimerBadge = 0x7157;

// Acknowledges one RTC interrupt at the device (reads register C) and at the kernel.
void timer_ack();

}  // namespace ktest
