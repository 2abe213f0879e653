// SPDX-License-Identifier: MIT
//
// Included last by every kernel source file: after this point the identifier `std` does not
// compile, so kernel code reaches the standard library only through the approved kstd names.
#pragma once

#pragma GCC poison std
