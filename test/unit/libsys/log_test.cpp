// SPDX-License-Identifier: MIT
//
// Unit tests for the layout of libsys's log output (sys/log.hpp): prefixes, lines, pieces.
#include <sys/log.hpp>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

struct Collected {
  std::vector<std::string> pieces;

  std::string all() const {
    std::string s;
    for (const auto& p : pieces) {
      s += p;
    }
    return s;
  }
};

void collect(void* context, const char* text, size_t n) {
  static_cast<Collected*>(context)->pieces.emplace_back(text, n);
}

Collected lines(const char* name, const std::string& text) {
  Collected c;
  sys::write_log_lines(name, text.data(), text.size(), {collect, &c});
  return c;
}

}  // namespace

TEST_CASE("a log line gets the name in front and a newline", "[log]") {
  Collected c = lines("kv", "started");
  REQUIRE(c.pieces.size() == 1);
  CHECK(c.pieces[0] == "[kv] started\n");
}

TEST_CASE("a final newline does not add an empty line", "[log]") {
  CHECK(lines("kv", "started\n").all() == "[kv] started\n");
  CHECK(lines("kv", "").all() == "[kv] \n");
  CHECK(lines("kv", "\n").all() == "[kv] \n");
}

TEST_CASE("every line of a text gets the prefix", "[log]") {
  CHECK(lines("echo", "one\ntwo\n\nfour").all() ==
        "[echo] one\n[echo] two\n[echo] \n[echo] four\n");
}

TEST_CASE("without a name there is no prefix", "[log]") {
  CHECK(lines(nullptr, "a\nb").all() == "a\nb\n");
  CHECK(lines("", "a").all() == "a\n");
}

TEST_CASE("short lines share a piece; a line is not cut when it fits in one", "[log]") {
  // Two lines of 300 bytes each (with the prefix) do not fit in one 512-byte piece together.
  std::string a(300 - 5, 'a');
  std::string b(300 - 5, 'b');
  Collected c = lines("x", a + "\n" + b);
  REQUIRE(c.pieces.size() == 2);
  CHECK(c.pieces[0] == "[x] " + a + "\n");
  CHECK(c.pieces[1] == "[x] " + b + "\n");
  Collected small = lines("x", "1\n2\n3");
  CHECK(small.pieces.size() == 1);
}

TEST_CASE("a line longer than a piece is split into full pieces", "[log]") {
  std::string text(1000, 'z');
  Collected c = lines("kv", text);
  std::string want = "[kv] " + text + "\n";
  CHECK(c.all() == want);
  REQUIRE(c.pieces.size() == 2);
  CHECK(c.pieces[0].size() == sys::kLogPiece);
  for (const auto& p : c.pieces) {
    CHECK(p.size() <= sys::kLogPiece);
  }
}

TEST_CASE("write_pieces passes text unchanged in pieces", "[log]") {
  std::string text(sys::kLogPiece * 2 + 3, 'q');
  Collected c;
  sys::write_pieces(text.data(), text.size(), {collect, &c});
  REQUIRE(c.pieces.size() == 3);
  CHECK(c.all() == text);
  Collected none;
  sys::write_pieces("", 0, {collect, &none});
  CHECK(none.pieces.empty());
}
