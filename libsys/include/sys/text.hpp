// SPDX-License-Identifier: MIT
//
// Bytes in message words (abi::kBytesPerWord to a word, little-endian, the last word padded
// with zeros), and the text layout of the text protocols: a byte count word, then the packed
// bytes (abi/protocols/console.hpp). Pure functions: no system calls, so host tests run them.
#pragma once

#include <abi/protocol.hpp>
#include <abi/result.hpp>

#include <stddef.h>
#include <stdint.h>

namespace sys {

// Words that `bytes` bytes take when packed.
constexpr uint64_t words_for_bytes(uint64_t bytes) {
  return (bytes + abi::kBytesPerWord - 1) / abi::kBytesPerWord;
}

// Packs `n` bytes into words_for_bytes(n) words of `words`. Returns the words written.
uint64_t pack_bytes(const char* bytes, uint64_t n, uint64_t* words);

// Unpacks `n` bytes from the words that hold them.
void unpack_bytes(const uint64_t* words, uint64_t n, char* bytes);

// Writes the text message (count, packed bytes...) for `n` bytes into `words`, which has room
// for `max_words`. Returns the words used. kRangeError when the text does not fit.
abi::Result<uint64_t> encode_text(const char* bytes, uint64_t n, uint64_t* words,
                                  uint64_t max_words);

// Reads a text message of `n_words` words into `out` (room for `out_size` bytes); returns the
// byte count. kInvalidArgument when there is no count word or the words after it are not
// exactly words_for_bytes(count); kRangeError when the text is longer than `out_size`. Padding
// bytes in the last word are ignored.
abi::Result<uint64_t> decode_text(const uint64_t* words, uint64_t n_words, char* out,
                                  uint64_t out_size);

}  // namespace sys
