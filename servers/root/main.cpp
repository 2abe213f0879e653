// SPDX-License-Identifier: MIT
//
// The root task: the first user program, started by the kernel with every capability. It will
// compose the system from the boot manifest; for now it only exists so that the image and the
// ELF checks have a real user program to carry.
#include <kstd/types.hpp>

#include <kstd/enforce.hpp>

int main(uint64_t boot_info) {
  (void)boot_info;
  for (;;) {
    asm volatile("pause");
  }
}
