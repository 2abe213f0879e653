// SPDX-License-Identifier: MIT
//
// The 16550 UART behind the console service, with its output and input buffers.
//
// Output is queued in a ring and fed to the UART's transmit FIFO when it runs empty: at once if
// it is idle, else from the transmitter-empty interrupt. When the ring is full, write() feeds
// the UART by polling until there is room, so output is never dropped. Input is collected by
// the receive interrupt into a second ring (bytes beyond its size are dropped) and handed out
// by read(), which never waits.
//
// The kernel writes its own log to the same UART by polling; both only ever add to the
// transmit FIFO when it is empty, so each side's bytes stay in order.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ring.hpp"

namespace console {

class Uart {
 public:
  static constexpr size_t kOutputBytes = 8192;
  static constexpr size_t kInputBytes = 1024;

  // Takes over the UART at I/O port `base` (the calling thread must be allowed its ports): keeps
  // the kernel's baud rate and line settings, enables the FIFOs and the receive interrupt.
  void init(uint16_t base);

  // Queues `n` bytes (a newline goes out as CR LF) and starts transmission.
  void write(const char* text, size_t n);

  // Moves up to `max` received bytes to `out`; returns how many.
  size_t read(char* out, size_t max);

  // Returns once everything queued has left the UART.
  void flush();

  // Services the UART after an interrupt: collects input, refills the transmit FIFO, and
  // repeats until the UART reports nothing pending.
  void service();

 private:
  void put(char c);
  void receive();
  void transmit();
  void set_transmit_interrupt(bool on);
  // Waits until the transmit FIFO is empty and fills it.
  void feed_polling();

  uint16_t base_ = 0;
  uint8_t ier_ = 0;
  Ring<kOutputBytes> out_;
  Ring<kInputBytes> in_;
};

}  // namespace console
