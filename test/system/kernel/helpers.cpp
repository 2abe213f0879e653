// SPDX-License-Identifier: MIT
#include "helpers.hpp"

#include <abi/fault.hpp>
#include <abi/invocation.hpp>

#include <kstd/enforce.hpp>

namespace ktest {

// --- Scheduling ----------------------------------------------------------------------------------

void settle(uint64_t low) {
  Env& e = env();
  CHECK_OK(sys::tcb_set_priority(e.tcb, e.tcb, low));
  CHECK_OK(sys::tcb_set_priority(e.tcb, e.tcb, 255));
}

sys::Thread start_thread(sys::Thread::Entry fn, uint64_t arg, const SpawnOptions& opts) {
  auto t = spawn(fn, arg, opts);
  if (!t) {
    check_status_failed(__FILE__, __LINE__, "spawn", false, t.error(), Status::kOk);
    return sys::Thread();
  }
  return t.value();
}

// --- Capabilities --------------------------------------------------------------------------------

uint64_t mint(uint64_t src, uint8_t rights, uint64_t badge) {
  uint64_t s = slot();
  CHECK_OK(sys::cnode_mint(kRoot, s, kDepth, kRoot, src, kDepth, rights, badge));
  return s;
}

sys::CapInfo describe(uint64_t index, uint64_t root, uint64_t depth) {
  auto r = sys::cnode_describe(root, index, depth);
  if (!r) {
    check_status_failed(__FILE__, __LINE__, "cnode_describe", false, r.error(), Status::kOk);
    return sys::CapInfo{CapType::kNull, Rights::none(), 0, 0, sys::CapInfo::kNotMapped};
  }
  return r.value();
}

bool is_empty(uint64_t index, uint64_t root, uint64_t depth) {
  return describe(index, root, depth).type == CapType::kNull;
}

void check_truncated(CapType type, uint64_t cptr) {
  for (const abi::InvocationInfo& i : abi::kInvocations) {
    if (i.cap_type != type || i.arguments == 0) {
      continue;
    }
    uint64_t args[abi::kMaxMessageWords] = {};
    auto r = sys::invoke(cptr, i.label, args, i.arguments - 1);
    if (r.ok() || r.error() != Status::kTruncatedMessage) {
      note("invocation %s with %u words", i.name, static_cast<unsigned>(i.arguments - 1));
      check_status_failed(__FILE__, __LINE__, "truncated invocation", r.ok(),
                          r.ok() ? Status::kOk : r.error(), Status::kTruncatedMessage);
    }
  }
}

// --- Bounded waits -------------------------------------------------------------------------------

bool recv_within(uint64_t ep, sys::Message& m, uint64_t ticks) {
  for (uint64_t i = 0; i <= ticks; ++i) {
    Status s = sys::nb_recv(ep, m);
    if (s == Status::kOk) {
      return true;
    }
    if (s != Status::kTimedOut) {
      return false;
    }
    sleep_ticks(1);
  }
  return false;
}

bool wait_flag(volatile uint64_t& flag, uint64_t ticks) {
  for (uint64_t i = 0; i < ticks && flag == 0; ++i) {
    sleep_ticks(1);
  }
  return flag != 0;
}

// --- Busy threads --------------------------------------------------------------------------------

volatile uint64_t g_spin_count[kSpinners];

void spinner(uint64_t index) {
  for (uint64_t i = 0; i < (uint64_t{1} << 40); ++i) {
    g_spin_count[index] = g_spin_count[index] + 1;
  }
}

bool advances(uint64_t index) {
  uint64_t before = g_spin_count[index];
  sleep_ticks(4);
  return g_spin_count[index] != before;
}

// --- Worker threads ------------------------------------------------------------------------------

namespace {

// The worker thread: carries out each request on its channel and acknowledges it. A request
// that faults blocks the thread until the root task, its fault handler, replies. It stops by
// itself after many polls so that a thread the kernel failed to destroy cannot run forever.
void worker_main(uint64_t channel) {
  WorkerChannel& c = *reinterpret_cast<WorkerChannel*>(channel);
  for (uint64_t i = 0; i < (uint64_t{1} << 40); ++i) {
    uint64_t req = c.req;
    if (req == c.ack) {
      continue;
    }
    c.perform(c);
    c.ack = req;
  }
}

}  // namespace

bool Worker::start(const char* name, WorkerChannel& c, void (*perform)(WorkerChannel& c)) {
  name_ = name;
  ch_ = &c;
  c.req = 0;
  c.ack = 0;
  c.perform = perform;
  ep_ = make(abi::ObjectType::kEndpoint);
  auto t = spawn(worker_main, reinterpret_cast<uint64_t>(&c), {100, ep_});
  if (!t) {
    note("spawning the %s failed", name_);
    check_status_failed(__FILE__, __LINE__, "spawn", false, t.error(), Status::kOk);
    return false;
  }
  tcb_ = t.value().tcb();
  return true;
}

Outcome Worker::run(uint64_t op, uint64_t target, uint64_t value) {
  Outcome o;
  if (blocked_ || dead_ || ch_ == nullptr) {
    return o;
  }
  ch_->op = op;
  ch_->target = target;
  ch_->value = value;
  ch_->req = ch_->req + 1;
  wait(o);
  return o;
}

Outcome Worker::resume() {
  Outcome o;
  if (!blocked_) {
    return o;
  }
  blocked_ = false;
  CHECK(sys::reply(sys::Message::make(abi::kFaultResume, {})) == Status::kOk);
  wait(o);
  return o;
}

void Worker::stop() {
  if (blocked_) {
    blocked_ = false;
    dead_ = true;
    CHECK(sys::reply(sys::Message::make(abi::kFaultStop, {})) == Status::kOk);
  }
}

void Worker::wait(Outcome& o) {
  for (int i = 0; i < 32; ++i) {
    sleep_ticks(1);
    if (ch_->ack == ch_->req) {
      o.done = true;
      return;
    }
    if (sys::nb_recv(ep_, o.fault) == Status::kOk) {
      o.faulted = true;
      blocked_ = true;
      return;
    }
  }
  note("the %s neither finished nor faulted", name_);
  dead_ = true;
}

}  // namespace ktest
