// SPDX-License-Identifier: MIT
//
// Lets Catch print an abi::Status by name in a failed CHECK (for example "empty-slot" rather
// than a number).
#pragma once

#include <abi/status.hpp>

#include <catch2/catch.hpp>
#include <string>

namespace Catch {
template <>
struct StringMaker<abi::Status> {
  static std::string convert(abi::Status s) { return abi::status_name(s); }
};
}  // namespace Catch
