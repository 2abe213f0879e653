// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include "../support/arena.hpp"

using abi::ObjectType;
using abi::Status;
using keel::test::TestSystem;

TEST_CASE("object smoke: retype, copy, revoke", "[object]") {
  TestSystem sys;
  uint64_t ut = sys.ram_untyped(20);
  uint64_t ep = sys.next_free();
  REQUIRE(sys.retype(ut, ObjectType::kEndpoint, 0, ep) == Status::kOk);
  uint64_t copy = sys.next_free();
  REQUIRE(sys.copy(copy, ep) == Status::kOk);
  REQUIRE(sys.check_invariants() == nullptr);
  REQUIRE(sys.revoke(ut) == Status::kOk);
  CHECK(sys.slot(ep)->empty());
  CHECK(sys.slot(copy)->empty());
  CHECK(sys.check_invariants() == nullptr);
}
