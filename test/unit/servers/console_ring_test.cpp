// SPDX-License-Identifier: MIT
//
// Unit tests for the console server's byte ring (servers/console/ring.hpp).
#include "ring.hpp"

#include <catch2/catch.hpp>
#include <deque>
#include <random>

TEST_CASE("a ring starts empty and fills to its capacity", "[console]") {
  console::Ring<8> r;
  CHECK(r.empty());
  CHECK(r.room() == 8);
  for (char c = 'a'; c < 'a' + 8; ++c) {
    CHECK(r.push(c));
  }
  CHECK(r.full());
  CHECK_FALSE(r.push('z'));  // Refused, and nothing overwritten.
  CHECK(r.size() == 8);
  for (char c = 'a'; c < 'a' + 8; ++c) {
    CHECK(r.pop() == c);
  }
  CHECK(r.empty());
}

TEST_CASE("a ring keeps order across wrap-around, against a reference queue", "[console]") {
  console::Ring<16> r;
  std::deque<char> model;
  std::mt19937 rng(5);
  for (int step = 0; step < 100000; ++step) {
    if (rng() % 3 != 0) {
      char c = static_cast<char>(rng());
      bool pushed = r.push(c);
      CHECK(pushed == (model.size() < 16));
      if (pushed) {
        model.push_back(c);
      }
    } else if (!model.empty()) {
      REQUIRE_FALSE(r.empty());
      CHECK(r.pop() == model.front());
      model.pop_front();
    }
    REQUIRE(r.size() == model.size());
    REQUIRE(r.room() == 16 - model.size());
  }
}
