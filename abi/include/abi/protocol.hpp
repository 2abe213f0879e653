// SPDX-License-Identifier: MIT
//
// How user-level protocols are described. A protocol is a set of methods; each method has a
// label (the message label of a request) and the shape of its request and reply: how many
// words and capabilities each carries. libsys's RPC layer (sys/rpc.hpp) checks both sides of
// every call against these descriptions: a client cannot send, and a server is never handed, a
// message of the wrong shape.
//
// Replies carry the outcome in their label: 0 for success, else an abi::Status. Labels of
// requests are small numbers, distinct within a protocol; the kernel's own labels (faults,
// interrupts) lie far above (abi/fault.hpp).
#pragma once

#include <stdint.h>

#include <abi/fault.hpp>
#include <abi/message.hpp>

namespace abi {

struct Method {
  uint64_t label;
  const char* name;        // For logs: "protocol.method".
  uint8_t min_words;       // Request words, at least...
  uint8_t max_words;       // ...and at most.
  uint8_t caps;            // Request capabilities, exactly.
  uint8_t reply_min_words;
  uint8_t reply_max_words;
  uint8_t reply_caps;      // Reply capabilities, at most (0 or 1 on failure paths).

  constexpr bool request_fits(uint64_t words, uint64_t n_caps) const {
    return words >= min_words && words <= max_words && n_caps == caps;
  }
  constexpr bool reply_fits(uint64_t words, uint64_t n_caps) const {
    return words >= reply_min_words && words <= reply_max_words && n_caps <= reply_caps;
  }
};

constexpr bool method_valid(const Method& m) {
  return m.label != 0 && m.label < kKernelLabelBase && m.min_words <= m.max_words &&
         m.max_words <= kMaxMessageWords && m.caps <= kMaxExtraCaps &&
         m.reply_min_words <= m.reply_max_words && m.reply_max_words <= kMaxMessageWords &&
         m.reply_caps <= kMaxExtraCaps;
}

// Bytes packed into message words, eight to a word, little-endian: the text protocols use it.
inline constexpr uint64_t kBytesPerWord = 8;

}  // namespace abi
