// SPDX-License-Identifier: MIT
//
// The root task's constants and its log.
#pragma once

#include <stdint.h>

namespace root {

// Where the root task maps things in its own address space.
inline constexpr uint64_t kArchiveVaddr = 0x0000200000000000;  // The boot archive, read-only.
inline constexpr uint64_t kScratchVaddr = 0x0000300000000000;  // One page being filled.

// Badges on the supervisor endpoint: servers are kSupervisorBadgeBase + index; the timer has its
// own.
inline constexpr uint64_t kSupervisorBadgeBase = 0x100;
inline constexpr uint64_t kTimerBadge = 0x7157;

// FrameMap attribute bit 0: uncached (device memory).
inline constexpr uint64_t kMapUncached = 1;

// The real-time clock's periodic interrupt paces restart back-offs; the root task keeps its
// IRQ line and ports for itself.
inline constexpr uint32_t kRtcIrq = 8;
inline constexpr uint16_t kRtcFirstPort = 0x70;
inline constexpr uint16_t kRtcLastPort = 0x71;
inline constexpr uint64_t kTimerHz = 64;

// "root: " and the formatted text, through the kernel's debug console.
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace root
