// SPDX-License-Identifier: MIT
//
// Fixed-width integer and size types for kernel code.
#pragma once

#include <stddef.h>
#include <stdint.h>
