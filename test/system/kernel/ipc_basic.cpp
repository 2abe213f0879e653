// SPDX-License-Identifier: MIT
//
// Basic IPC between threads of one address space, and between address spaces.
#include "ktest.hpp"
#include "spawn.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

using abi::Status;
using sys::Message;

// Answers one Call: label + 1, every word doubled.
void doubling_server(uint64_t ep) {
  Message m;
  if (sys::recv(ep, m) != Status::kOk) {
    return;
  }
  m.label += 1;
  for (uint64_t i = 0; i < m.length; ++i) {
    m.words[i] *= 2;
  }
  (void)sys::reply(m);
}

void check_doubled(uint64_t ep, uint64_t words) {
  Message m;
  m.label = 41;
  m.length = words;
  for (uint64_t i = 0; i < words; ++i) {
    m.words[i] = 100 + i;
  }
  CHECK(sys::call(ep, m) == Status::kOk);
  CHECK(m.label == 42);
  CHECK(m.length == words);
  bool all = true;
  for (uint64_t i = 0; i < words; ++i) {
    all = all && m.words[i] == 2 * (100 + i);
  }
  CHECK(all);
}

}  // namespace

KTEST(ipc_call_reply_registers_only) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  REQUIRE_OK(spawn(doubling_server, ep));
  check_doubled(ep, 3);
}

KTEST(ipc_call_reply_long_message) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  REQUIRE_OK(spawn(doubling_server, ep));
  check_doubled(ep, abi::kMaxMessageWords);
}

KTEST(ipc_call_across_address_spaces) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  Process p = REQUIRE_OK(spawn_process(doubling_server, 2, 100));
  REQUIRE_OK(give(p, 2, ep));
  check_doubled(ep, 10);
}

}  // namespace ktest
