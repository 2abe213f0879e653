// SPDX-License-Identifier: MIT
//
// Unit tests for libsys's byte packing and the text message layout (sys/text.hpp).
#include <abi/protocols/console.hpp>

#include <sys/text.hpp>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using abi::Status;

TEST_CASE("words_for_bytes rounds up to whole words", "[text]") {
  CHECK(sys::words_for_bytes(0) == 0);
  CHECK(sys::words_for_bytes(1) == 1);
  CHECK(sys::words_for_bytes(8) == 1);
  CHECK(sys::words_for_bytes(9) == 2);
  CHECK(sys::words_for_bytes(abi::console::kMaxBytes) == abi::console::kMaxTextWords - 1);
}

TEST_CASE("bytes pack little-endian and the last word is zero-padded", "[text]") {
  uint64_t words[2] = {~uint64_t{0}, ~uint64_t{0}};
  CHECK(sys::pack_bytes("ABCDEFGHIJ", 10, words) == 2);
  CHECK(words[0] == 0x4847464544434241ull);
  CHECK(words[1] == 0x4A49ull);
  char out[10];
  sys::unpack_bytes(words, 10, out);
  CHECK(std::string(out, 10) == "ABCDEFGHIJ");
}

TEST_CASE("every byte value survives a round trip at every length", "[text]") {
  std::vector<char> bytes(64);
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(0xFF - i * 7);
  }
  for (size_t n = 0; n <= bytes.size(); ++n) {
    uint64_t words[8] = {};
    CHECK(sys::pack_bytes(bytes.data(), n, words) == sys::words_for_bytes(n));
    std::vector<char> out(n + 1, 'x');
    sys::unpack_bytes(words, n, out.data());
    CHECK(std::memcmp(out.data(), bytes.data(), n) == 0);
    CHECK(out[n] == 'x');  // Nothing written past the end.
  }
}

TEST_CASE("a text message is the count, then the packed bytes", "[text]") {
  uint64_t words[4] = {};
  auto used = sys::encode_text("hello", 5, words, 4);
  REQUIRE(used.ok());
  CHECK(used.value() == 2);
  CHECK(words[0] == 5);
  char out[16] = {};
  auto n = sys::decode_text(words, 2, out, sizeof out);
  REQUIRE(n.ok());
  CHECK(n.value() == 5);
  CHECK(std::string(out, 5) == "hello");
}

TEST_CASE("empty text is the count word alone", "[text]") {
  uint64_t words[1] = {99};
  auto used = sys::encode_text("", 0, words, 1);
  REQUIRE(used.ok());
  CHECK(used.value() == 1);
  CHECK(words[0] == 0);
  char out[1];
  auto n = sys::decode_text(words, 1, out, 0);
  REQUIRE(n.ok());
  CHECK(n.value() == 0);
}

TEST_CASE("encode_text refuses text that does not fit", "[text]") {
  uint64_t words[3] = {};
  CHECK(sys::encode_text("0123456789abcdef", 16, words, 3).ok());
  auto r = sys::encode_text("0123456789abcdefX", 17, words, 3);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == Status::kRangeError);
  auto none = sys::encode_text("", 0, words, 0);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error() == Status::kRangeError);
}

TEST_CASE("decode_text refuses a count that does not match the words", "[text]") {
  char out[64];
  const uint64_t too_few[] = {9, 0};         // 9 bytes need 2 words.
  const uint64_t too_many[] = {8, 0, 0};     // 8 bytes need 1 word.
  const uint64_t huge[] = {~uint64_t{0}, 0};  // Must not overflow.
  for (auto [words, n] : {std::pair{too_few, 2}, std::pair{too_many, 3}, std::pair{huge, 2}}) {
    auto r = sys::decode_text(words, n, out, sizeof out);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kInvalidArgument);
  }
  auto empty = sys::decode_text(too_few, 0, out, sizeof out);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error() == Status::kInvalidArgument);
}

TEST_CASE("decode_text refuses text longer than the output", "[text]") {
  const uint64_t words[] = {9, 0, 0};
  char out[8];
  auto r = sys::decode_text(words, 3, out, sizeof out);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == Status::kRangeError);
}
