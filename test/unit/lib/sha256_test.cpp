// SPDX-License-Identifier: MIT
//
// libsys's freestanding SHA-256, built for the host, against the FIPS 180-4 example vectors and
// against OpenSSL on random data. The random lengths cross every padding case (the length field
// fitting behind the 1 bit or spilling into another block) many times over.
#include <sys/sha256.hpp>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <openssl/evp.h>
#include <random>
#include <string>
#include <vector>

namespace {

std::string hex(const std::uint8_t* digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < sys::kSha256Size; ++i) {
    out.push_back(kDigits[digest[i] >> 4]);
    out.push_back(kDigits[digest[i] & 0xf]);
  }
  return out;
}

std::string ours(const void* data, std::size_t size) {
  std::uint8_t digest[sys::kSha256Size];
  sys::sha256(data, size, digest);
  return hex(digest);
}

std::string ours(const std::string& text) {
  return ours(text.data(), text.size());
}

std::string openssl(const void* data, std::size_t size) {
  std::uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr) == 1);
  REQUIRE(length == sys::kSha256Size);
  return hex(digest);
}

std::string openssl(const std::string& text) {
  return openssl(text.data(), text.size());
}

const std::string kAbc = "abc";
const std::string k448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const std::string k896 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnop"
    "qrsmnopqrstnopqrstu";

}  // namespace

TEST_CASE("sha256: the FIPS 180-4 example messages", "[sha256]") {
  CHECK(ours("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(ours(kAbc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ours(k448) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(ours(k896) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  const std::string million(1000000, 'a');
  CHECK(ours(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  for (const std::string* text : {&kAbc, &k448, &k896, &million}) {
    CHECK(ours(*text) == openssl(*text));
  }
}

TEST_CASE("sha256: random lengths 0..10000 agree with OpenSSL", "[sha256]") {
  std::mt19937_64 random(0x5eed5a256);
  std::vector<std::uint8_t> data(10000);
  for (auto& b : data) {
    b = static_cast<std::uint8_t>(random());
  }
  std::uniform_int_distribution<std::size_t> length(0, data.size());
  for (int round = 0; round < 300; ++round) {
    const std::size_t size = length(random);
    INFO("length " << size);
    REQUIRE(ours(data.data(), size) == openssl(data.data(), size));
  }
  // Every length around the block and padding boundaries, not only the random ones.
  for (std::size_t size = 0; size <= 200; ++size) {
    INFO("length " << size);
    REQUIRE(ours(data.data(), size) == openssl(data.data(), size));
  }
}

TEST_CASE("sha256: incremental updates in random pieces give the one-shot digest", "[sha256]") {
  std::mt19937_64 random(20240601);
  std::vector<std::uint8_t> data(10000);
  for (auto& b : data) {
    b = static_cast<std::uint8_t>(random());
  }
  sys::Sha256 hasher;
  for (int round = 0; round < 100; ++round) {
    const std::size_t size = std::uniform_int_distribution<std::size_t>(0, data.size())(random);
    std::size_t done = 0;
    while (done < size) {
      const std::size_t piece =
          std::min(size - done, std::uniform_int_distribution<std::size_t>(0, 130)(random));
      hasher.update(data.data() + done, piece);
      done += piece;
    }
    std::uint8_t digest[sys::kSha256Size];
    hasher.finish(digest);  // Also resets the object for the next round.
    INFO("length " << size);
    REQUIRE(hex(digest) == openssl(data.data(), size));
  }
}
