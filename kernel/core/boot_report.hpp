// SPDX-License-Identifier: MIT
//
// What the kernel learned at boot, printed for the person watching the console.
#pragma once

#include "boot/multiboot2.hpp"
#include "mem/phys_map.hpp"

namespace kernel {

void report_multiboot2(const boot::Multiboot2Info& info);
void report_phys_map(const mem::PhysMap& map);

}  // namespace kernel
