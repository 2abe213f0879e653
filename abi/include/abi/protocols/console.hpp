// SPDX-License-Identifier: MIT
//
// The console service (servers/console): the serial port, shared. Output is buffered and
// written as the UART takes it (interrupt-driven); input is collected by the receive
// interrupt and handed out by `read`, which never blocks.
#pragma once

#include <abi/protocol.hpp>

namespace abi::console {

inline constexpr char kServiceName[] = "console";

// Longest text in one write or read: the byte count word plus the packed bytes.
inline constexpr uint64_t kMaxBytes = 512;
inline constexpr uint8_t kMaxTextWords = 1 + kMaxBytes / kBytesPerWord;

// write(count, bytes...) -> (). Queues `count` bytes (words 1.. hold them packed). Fails with
// kInvalidArgument when count does not match the words sent.
inline constexpr Method kWrite{0x101, "console.write", 1, kMaxTextWords, 0, 0, 0, 0};

// read(max) -> (count, bytes...). Up to `max` (at most kMaxBytes) bytes of input received so
// far; count 0 when there is none.
inline constexpr Method kRead{0x102, "console.read", 1, 1, 0, 1, kMaxTextWords, 0};

// flush() -> (). Returns once everything queued so far has gone to the UART.
inline constexpr Method kFlush{0x103, "console.flush", 0, 0, 0, 0, 0, 0};

}  // namespace abi::console
