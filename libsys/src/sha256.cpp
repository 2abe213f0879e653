// SPDX-License-Identifier: MIT
//
// A plain, portable SHA-256: the root task hashes a few hundred kilobytes once at boot, so
// clarity wins over speed here. Bytes are assembled into big-endian words by hand, which keeps
// the code independent of the machine's byte order and of alignment.
#include <sys/sha256.hpp>

#include <kstd/enforce.hpp>

namespace sys {
namespace {

// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// The first 32 bits of the fractional parts of the square roots of the first 8 primes.
constexpr uint32_t kInitial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

constexpr size_t kBlockSize = 64;
constexpr size_t kLengthOffset = kBlockSize - 8;  // Where the 64-bit bit count goes.

constexpr uint32_t rotate_right(uint32_t x, unsigned n) {
  return (x >> n) | (x << (32 - n));
}

constexpr uint32_t choose(uint32_t x, uint32_t y, uint32_t z) {
  return (x & y) ^ (~x & z);
}

constexpr uint32_t majority(uint32_t x, uint32_t y, uint32_t z) {
  return (x & y) ^ (x & z) ^ (y & z);
}

constexpr uint32_t big_sigma0(uint32_t x) {
  return rotate_right(x, 2) ^ rotate_right(x, 13) ^ rotate_right(x, 22);
}

constexpr uint32_t big_sigma1(uint32_t x) {
  return rotate_right(x, 6) ^ rotate_right(x, 11) ^ rotate_right(x, 25);
}

constexpr uint32_t small_sigma0(uint32_t x) {
  return rotate_right(x, 7) ^ rotate_right(x, 18) ^ (x >> 3);
}

constexpr uint32_t small_sigma1(uint32_t x) {
  return rotate_right(x, 17) ^ rotate_right(x, 19) ^ (x >> 10);
}

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

Sha256::Sha256() {
  reset();
}

void Sha256::reset() {
  for (size_t i = 0; i < 8; ++i) {
    state_[i] = kInitial[i];
  }
  for (size_t i = 0; i < kBlockSize; ++i) {
    block_[i] = 0;
  }
  block_used_ = 0;
  total_ = 0;
}

void Sha256::compress(const uint8_t block[64]) {
  // The message schedule is kept as a rolling window of 16 words rather than all 64, which
  // saves 192 bytes of stack on small server stacks at no cost in clarity.
  uint32_t w[16];
  for (size_t i = 0; i < 16; ++i) {
    w[i] = load_be32(block + 4 * i);
  }
  uint32_t a = state_[0];
  uint32_t b = state_[1];
  uint32_t c = state_[2];
  uint32_t d = state_[3];
  uint32_t e = state_[4];
  uint32_t f = state_[5];
  uint32_t g = state_[6];
  uint32_t h = state_[7];
  for (size_t t = 0; t < 64; ++t) {
    if (t >= 16) {
      // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], indices taken modulo 16.
      w[t % 16] += small_sigma1(w[(t - 2) % 16]) + w[(t - 7) % 16] + small_sigma0(w[(t - 15) % 16]);
    }
    const uint32_t t1 = h + big_sigma1(e) + choose(e, f, g) + kRound[t] + w[t % 16];
    const uint32_t t2 = big_sigma0(a) + majority(a, b, c);
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

void Sha256::update(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  total_ += size;
  // Top up a partly filled block first; then whole blocks go straight from the caller's buffer.
  if (block_used_ != 0) {
    while (size != 0 && block_used_ < kBlockSize) {
      block_[block_used_++] = *bytes++;
      --size;
    }
    if (block_used_ < kBlockSize) {
      return;
    }
    compress(block_);
    block_used_ = 0;
  }
  while (size >= kBlockSize) {
    compress(bytes);
    bytes += kBlockSize;
    size -= kBlockSize;
  }
  while (size != 0) {
    block_[block_used_++] = *bytes++;
    --size;
  }
}

void Sha256::finish(uint8_t out[kSha256Size]) {
  const uint64_t bits = total_ * 8;
  // Padding: a single 1 bit, zeros up to 8 bytes short of a block boundary, then the message
  // length in bits as a big-endian 64-bit number. When the length no longer fits behind the 1
  // bit, the zeros run on into one more block.
  block_[block_used_++] = 0x80;
  if (block_used_ > kLengthOffset) {
    while (block_used_ < kBlockSize) {
      block_[block_used_++] = 0;
    }
    compress(block_);
    block_used_ = 0;
  }
  while (block_used_ < kLengthOffset) {
    block_[block_used_++] = 0;
  }
  store_be32(block_ + kLengthOffset, static_cast<uint32_t>(bits >> 32));
  store_be32(block_ + kLengthOffset + 4, static_cast<uint32_t>(bits));
  compress(block_);
  for (size_t i = 0; i < 8; ++i) {
    store_be32(out + 4 * i, state_[i]);
  }
  reset();
}

void sha256(const void* data, size_t size, uint8_t out[kSha256Size]) {
  Sha256 hasher;
  hasher.update(data, size);
  hasher.finish(out);
}

}  // namespace sys
