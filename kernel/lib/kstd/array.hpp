// SPDX-License-Identifier: MIT
#pragma once

#include <array>

namespace kstd {

using std::array;

}  // namespace kstd
