// SPDX-License-Identifier: MIT
//
// Verdicts a test image reports when it ends a QEMU run (through the kernel's debug exit). The
// emulator exits with status (verdict << 1) | 1, which scripts/run-system-test maps back.
#pragma once

#include <stdint.h>

namespace abi {

enum class TestVerdict : uint32_t {
  kPass = 0,  // QEMU exit status 1.
  kFail = 1,  // QEMU exit status 3.
};

}  // namespace abi
