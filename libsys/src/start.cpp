// SPDX-License-Identifier: MIT
//
// C++ start-up for user programs: run static constructors, then main.
#include <kstd/types.hpp>

#include <kstd/enforce.hpp>

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

int main(uint64_t start_arg);

extern "C" [[noreturn]] void sys_start(uint64_t start_arg) {
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) {
    (*ctor)();
  }
  main(start_arg);
  // Until threads can end themselves, a program that returns from main parks here.
  for (;;) {
    asm volatile("pause");
  }
}
