// SPDX-License-Identifier: MIT
#include <sys/text.hpp>

#include <kstd/enforce.hpp>

namespace sys {

uint64_t pack_bytes(const char* bytes, uint64_t n, uint64_t* words) {
  uint64_t count = words_for_bytes(n);
  for (uint64_t w = 0; w < count; ++w) {
    uint64_t word = 0;
    for (uint64_t b = 0; b < abi::kBytesPerWord && w * abi::kBytesPerWord + b < n; ++b) {
      word |= uint64_t{static_cast<uint8_t>(bytes[w * abi::kBytesPerWord + b])} << (8 * b);
    }
    words[w] = word;
  }
  return count;
}

void unpack_bytes(const uint64_t* words, uint64_t n, char* bytes) {
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t word = words[i / abi::kBytesPerWord];
    bytes[i] = static_cast<char>((word >> (8 * (i % abi::kBytesPerWord))) & 0xFF);
  }
}

abi::Result<uint64_t> encode_text(const char* bytes, uint64_t n, uint64_t* words,
                                  uint64_t max_words) {
  if (max_words == 0 || words_for_bytes(n) > max_words - 1) {
    return abi::err(abi::Status::kRangeError);
  }
  words[0] = n;
  return 1 + pack_bytes(bytes, n, words + 1);
}

abi::Result<uint64_t> decode_text(const uint64_t* words, uint64_t n_words, char* out,
                                  uint64_t out_size) {
  if (n_words == 0) {
    return abi::err(abi::Status::kInvalidArgument);
  }
  uint64_t count = words[0];
  // Compare in words first: a huge count must not overflow words_for_bytes.
  if (count > (n_words - 1) * abi::kBytesPerWord || words_for_bytes(count) != n_words - 1) {
    return abi::err(abi::Status::kInvalidArgument);
  }
  if (count > out_size) {
    return abi::err(abi::Status::kRangeError);
  }
  unpack_bytes(words + 1, count, out);
  return count;
}

}  // namespace sys
