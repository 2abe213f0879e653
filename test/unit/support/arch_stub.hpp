// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "object/cap.hpp"

namespace keel::test {

struct ArchLog {
  std::vector<kernel::PhysAddr> pml4_inits;
  std::vector<kernel::Cap> unmaps;
  std::vector<std::pair<uint64_t, kernel::PhysAddr>> releases;

  void clear() { *this = ArchLog{}; }
};

ArchLog& arch_log();

}  // namespace keel::test
