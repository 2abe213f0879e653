// SPDX-License-Identifier: MIT
//
// QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=0x04): writing v
// ends the emulator with status (v << 1) | 1. Test images use it to report their verdict.
#pragma once

#include "cpu.hpp"

namespace kernel::x86 {

inline constexpr uint16_t kQemuDebugExitPort = 0xf4;

inline void qemu_debug_exit(uint32_t value) { outl(kQemuDebugExitPort, value); }

}  // namespace kernel::x86
