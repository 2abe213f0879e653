// SPDX-License-Identifier: MIT
//
// x86 I/O port instructions for drivers. A thread may use a port only after an I/O port
// capability covering it was bound to its TCB (sys::tcb_bind_ioport); any other port raises a
// general protection fault.
#pragma once

#include <stdint.h>

namespace sys {

inline uint8_t inb(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

// The CMOS (and its real-time clock) behind the index port 0x70 and the data port 0x71. Bit 7
// of the index keeps NMIs masked while a register is selected. Needs both ports.
inline constexpr uint16_t kCmosIndexPort = 0x70;
inline constexpr uint16_t kCmosDataPort = 0x71;

inline uint8_t cmos_read(uint8_t reg) {
  outb(kCmosIndexPort, static_cast<uint8_t>(0x80 | reg));
  return inb(kCmosDataPort);
}

inline void cmos_write(uint8_t reg, uint8_t v) {
  outb(kCmosIndexPort, static_cast<uint8_t>(0x80 | reg));
  outb(kCmosDataPort, v);
}

}  // namespace sys
