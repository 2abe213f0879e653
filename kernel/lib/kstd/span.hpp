// SPDX-License-Identifier: MIT
#pragma once

#include <span>

namespace kstd {

using std::as_bytes;
using std::dynamic_extent;
using std::span;

}  // namespace kstd
