// SPDX-License-Identifier: MIT
#include "serial.hpp"

#include "cpu.hpp"

#include <kstd/enforce.hpp>

namespace kernel::x86 {
namespace {

// Register offsets from the base port.
constexpr uint16_t kData = 0;          // THR/RBR, or divisor low with DLAB.
constexpr uint16_t kIntEnable = 1;     // IER, or divisor high with DLAB.
constexpr uint16_t kFifoControl = 2;   // FCR.
constexpr uint16_t kLineControl = 3;   // LCR.
constexpr uint16_t kModemControl = 4;  // MCR.
constexpr uint16_t kLineStatus = 5;    // LSR.

constexpr uint8_t kLsrThrEmpty = 0x20;

Serial g_console;

}  // namespace

Serial& console_serial() { return g_console; }

void Serial::init(uint16_t port) {
  port_ = port;
  outb(port + kIntEnable, 0x00);
  outb(port + kLineControl, 0x80);  // DLAB on: the next two writes set the divisor.
  outb(port + kData, 0x01);         // 115200 baud.
  outb(port + kIntEnable, 0x00);
  outb(port + kLineControl, 0x03);  // 8 bits, no parity, one stop bit, DLAB off.
  outb(port + kFifoControl, 0xC7);  // Enable and clear FIFOs, 14-byte threshold.
  // Loopback test: a byte written must come back. Absent hardware reads as 0xFF.
  outb(port + kModemControl, 0x1E);
  outb(port + kData, 0xA5);
  present_ = inb(port + kData) == 0xA5;
  outb(port + kModemControl, 0x0B);  // Normal operation: DTR, RTS, OUT2.
}

void Serial::put(char c) {
  // Bounded wait: a wedged UART must not hang the kernel.
  for (int spins = 0; spins < 100000; ++spins) {
    if ((inb(port_ + kLineStatus) & kLsrThrEmpty) != 0) {
      break;
    }
    pause();
  }
  outb(port_ + kData, static_cast<uint8_t>(c));
}

void Serial::write(const char* s, size_t n) {
  if (!present_) {
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '\n') {
      put('\r');
    }
    put(s[i]);
  }
}

}  // namespace kernel::x86
