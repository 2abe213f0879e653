// SPDX-License-Identifier: MIT
#include <sys/port_io.hpp>

#include "uart.hpp"

#include <kstd/enforce.hpp>

namespace console {
namespace {

// Register offsets from the base port.
constexpr uint16_t kData = 0;          // RBR (read), THR (write).
constexpr uint16_t kIntEnable = 1;     // IER.
constexpr uint16_t kIntIdent = 2;      // IIR (read), FCR (write).
constexpr uint16_t kFifoControl = 2;
constexpr uint16_t kModemControl = 4;  // MCR.
constexpr uint16_t kLineStatus = 5;    // LSR.
constexpr uint16_t kModemStatus = 6;   // MSR.

constexpr uint8_t kIerReceive = 0x01;   // Received data available (and FIFO timeout).
constexpr uint8_t kIerTransmit = 0x02;  // Transmit holding register (FIFO) empty.
constexpr uint8_t kIirNonePending = 0x01;
constexpr uint8_t kFcrEnable = 0x01;    // FIFOs on, receive trigger at one byte. The FIFOs are
                                        // not cleared: the kernel's last bytes may be in there.
constexpr uint8_t kMcrNormal = 0x0B;    // DTR, RTS, and OUT2, which gates the interrupt line.
constexpr uint8_t kLsrDataReady = 0x01;
constexpr uint8_t kLsrTransmitEmpty = 0x20;  // The transmit FIFO is empty.
constexpr uint8_t kLsrIdle = 0x40;           // ...and so is the shift register.

constexpr size_t kFifoBytes = 16;
// Rounds of service() before it gives up on a UART that keeps reporting work.
constexpr int kServiceRounds = 64;
// Polls of the line status before a wait gives up (the kernel's driver does the same), so that
// a wedged UART cannot hang the console.
constexpr int kSpinLimit = 1000000;

}  // namespace

void Uart::init(uint16_t base) {
  base_ = base;
  sys::outb(base_ + kIntEnable, 0);
  sys::outb(base_ + kFifoControl, kFcrEnable);
  sys::outb(base_ + kModemControl, kMcrNormal);
  // Clear whatever the UART reported before it was ours.
  (void)sys::inb(base_ + kLineStatus);
  (void)sys::inb(base_ + kModemStatus);
  (void)sys::inb(base_ + kIntIdent);
  receive();
  ier_ = kIerReceive;
  sys::outb(base_ + kIntEnable, ier_);
}

void Uart::write(const char* text, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (text[i] == '\n') {
      put('\r');
    }
    put(text[i]);
  }
  transmit();
}

size_t Uart::read(char* out, size_t max) {
  receive();  // Anything not yet collected by an interrupt.
  size_t n = 0;
  while (n < max && !in_.empty()) {
    out[n++] = in_.pop();
  }
  return n;
}

void Uart::flush() {
  while (!out_.empty()) {
    feed_polling();
  }
  for (int spins = 0; spins < kSpinLimit; ++spins) {
    if ((sys::inb(base_ + kLineStatus) & kLsrIdle) != 0) {
      break;
    }
    asm volatile("pause");
  }
  set_transmit_interrupt(false);
}

void Uart::service() {
  for (int round = 0; round < kServiceRounds; ++round) {
    receive();
    transmit();
    // Reading IIR also acknowledges a transmitter-empty interrupt.
    if ((sys::inb(base_ + kIntIdent) & kIirNonePending) != 0) {
      return;
    }
  }
}

void Uart::put(char c) {
  if (out_.full()) {
    // No room: feed the UART by polling rather than drop output.
    feed_polling();
  }
  (void)out_.push(c);
}

void Uart::receive() {
  for (size_t i = 0; i < kInputBytes; ++i) {
    if ((sys::inb(base_ + kLineStatus) & kLsrDataReady) == 0) {
      return;
    }
    (void)in_.push(static_cast<char>(sys::inb(base_ + kData)));  // Dropped when full.
  }
}

void Uart::transmit() {
  if (!out_.empty() && (sys::inb(base_ + kLineStatus) & kLsrTransmitEmpty) != 0) {
    for (size_t i = 0; i < kFifoBytes && !out_.empty(); ++i) {
      sys::outb(base_ + kData, static_cast<uint8_t>(out_.pop()));
    }
  }
  // The interrupt is wanted only while there is more to send; enabled with the FIFO empty it
  // fires at once, which is what a refill needs.
  set_transmit_interrupt(!out_.empty());
}

void Uart::set_transmit_interrupt(bool on) {
  uint8_t ier = on ? (ier_ | kIerTransmit) : (ier_ & ~kIerTransmit);
  if (ier != ier_) {
    ier_ = ier;
    sys::outb(base_ + kIntEnable, ier_);
  }
}

void Uart::feed_polling() {
  // Bounded, like the kernel's driver: after the wait the bytes go out regardless, so that a
  // wedged UART cannot hang the console (or its clients).
  for (int spins = 0; spins < kSpinLimit; ++spins) {
    if ((sys::inb(base_ + kLineStatus) & kLsrTransmitEmpty) != 0) {
      break;
    }
    asm volatile("pause");
  }
  for (size_t i = 0; i < kFifoBytes && !out_.empty(); ++i) {
    sys::outb(base_ + kData, static_cast<uint8_t>(out_.pop()));
  }
}

}  // namespace console
