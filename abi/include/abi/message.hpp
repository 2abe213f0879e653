// SPDX-License-Identifier: MIT
//
// Messages: the message-info word and the IPC buffer.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace abi {

inline constexpr uint64_t kMessageRegisters = 4;  // MR0..MR3 travel in RDX, R8, R9, R10.
inline constexpr uint64_t kMaxMessageWords = 120;
inline constexpr uint64_t kMaxExtraCaps = 3;

// [6:0] length in words, [8:7] extra capabilities, [11:9] which of them were unwrapped (their
// badge arrived instead of the capability), [62:12] label, [63] error: the system call (or the
// invocation) failed and the label is the abi::Status. A delivered message never has it set.
struct MessageInfo {
  uint64_t word;

  static constexpr uint64_t kErrorBit = uint64_t{1} << 63;

  static constexpr MessageInfo make(uint64_t label, uint64_t length, uint64_t extra_caps = 0,
                                    uint64_t unwrapped = 0) {
    return {((label << 12) & ~kErrorBit) | ((unwrapped & 7) << 9) | ((extra_caps & 3) << 7) |
            (length & 0x7F)};
  }
  static constexpr MessageInfo error(uint64_t status) { return {kErrorBit | (status << 12)}; }

  constexpr uint64_t length() const { return word & 0x7F; }
  constexpr uint64_t extra_caps() const { return (word >> 7) & 3; }
  constexpr uint64_t unwrapped() const { return (word >> 9) & 7; }
  constexpr uint64_t label() const { return (word & ~kErrorBit) >> 12; }
  constexpr bool is_error() const { return (word & kErrorBit) != 0; }
};

inline constexpr uint64_t kMaxLabel = (uint64_t{1} << 51) - 1;

// The IPC buffer: one per thread, 1 KiB, inside a 4 KiB frame, 1 KiB aligned. The kernel reads
// and writes it through the frame capability the thread was configured with, never through the
// thread's own mapping.
struct IpcBuffer {
  uint64_t tag;                               // Free for user space (libsys keeps the info).
  uint64_t msg[kMaxMessageWords];             // msg[0..3] are shadowed by the registers.
  uint64_t user_data;                         // Free for user space (thread-local pointer).
  uint64_t caps_or_badges[kMaxExtraCaps];     // Send: cptrs to transfer. Receive: badges of
                                              // unwrapped capabilities.
  uint64_t receive_cnode;                     // Where a received capability goes: a CNode
  uint64_t receive_index;                     // cptr, then (index, depth) below it. depth 0:
  uint64_t receive_depth;                     // receive no capabilities.
};

static_assert(sizeof(IpcBuffer) == 1024);
static_assert(offsetof(IpcBuffer, msg) == 8);
static_assert(offsetof(IpcBuffer, caps_or_badges) == 976);

inline constexpr uint64_t kIpcBufferAlign = 1024;

}  // namespace abi
