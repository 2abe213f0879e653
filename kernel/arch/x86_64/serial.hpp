// SPDX-License-Identifier: MIT
//
// Polled 16550 UART driver for the kernel console (COM1). Output only: input belongs to the
// user-level console server, which gets the port through an I/O port capability.
#pragma once

#include <kstd/types.hpp>

namespace kernel::x86 {

class Serial {
 public:
  static constexpr uint16_t kCom1 = 0x3F8;

  // Programs 115200 baud, 8N1, FIFOs on, and checks that a UART answers (loopback test).
  void init(uint16_t port);

  // True when a UART answered at init; writes to a missing port are dropped quickly.
  bool present() const { return present_; }

  void write(const char* s, size_t n);

 private:
  void put(char c);

  uint16_t port_ = 0;
  bool present_ = false;
};

Serial& console_serial();

}  // namespace kernel::x86
