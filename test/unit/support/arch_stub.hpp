// SPDX-License-Identifier: MIT
//
// Host doubles for what the portable kernel code needs from the architecture and the rest of
// the kernel: they record what was asked, so tests can check it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "object/cap.hpp"

namespace kernel {
class Scheduler;
}

namespace keel::test {

struct ArchLog {
  std::vector<kernel::PhysAddr> pml4_inits;
  std::vector<std::pair<uint64_t, kernel::PhysAddr>> releases;
  std::vector<uint64_t> page_flushes;              // Virtual addresses.
  std::vector<std::pair<uint64_t, kernel::PhysAddr>> space_flushes;  // (asid, root).
  std::vector<std::pair<uint32_t, bool>> irq_masks;  // (line, masked).
  std::vector<std::string> log_lines;
  std::vector<char> console;                        // Debug system call output.
  int io_port_changes = 0;
  int threads_destroyed = 0;

  void clear() { *this = ArchLog{}; }
};

ArchLog& arch_log();

// The scheduler that this_scheduler() returns in host builds; reset it for each test.
kernel::Scheduler& test_scheduler();
void reset_test_scheduler();

}  // namespace keel::test
