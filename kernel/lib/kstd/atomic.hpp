// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>

namespace kstd {

using std::atomic;
using std::atomic_ref;
using std::memory_order;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;

}  // namespace kstd
