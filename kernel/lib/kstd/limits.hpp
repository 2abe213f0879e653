// SPDX-License-Identifier: MIT
#pragma once

#include <limits>

namespace kstd {

using std::numeric_limits;

}  // namespace kstd
