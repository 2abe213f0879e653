// SPDX-License-Identifier: MIT
//
// SHA-256 (FIPS 180-4), freestanding. The root task uses it to check every file of the boot
// archive against the digest keel-image recorded, before it trusts or loads anything.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace sys {

inline constexpr size_t kSha256Size = 32;

// Incremental hashing: update() any number of times, then finish(). finish() leaves the object
// ready for a new message, so one object can hash many files without being rebuilt.
struct Sha256 {
  Sha256();

  void update(const void* data, size_t size);
  void finish(uint8_t out[kSha256Size]);

 private:
  void reset();
  void compress(const uint8_t block[64]);

  uint32_t state_[8];
  uint8_t block_[64];
  size_t block_used_;  // Bytes waiting in block_.
  uint64_t total_;     // Bytes hashed so far, for the length field.
};

// The digest of one buffer.
void sha256(const void* data, size_t size, uint8_t out[kSha256Size]);

}  // namespace sys
