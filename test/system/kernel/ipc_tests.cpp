// SPDX-License-Identifier: MIT
//
// The IPC system calls one by one: Send, NBSend, Recv, NBRecv, Call, Reply, ReplyRecv and
// Yield, with every error they document (capability type and rights, lookup, message size, a
// missing IPC buffer, a missing caller), and what becomes of a thread blocked on an endpoint or
// a reply when the endpoint or its partner goes away or the thread is suspended.
//
// The root task (priority 255) orchestrates: it starts threads at priority 100 and lets them run
// until they block with settle(). Where a kernel bug could leave the root blocked for good (a
// Send or Recv that should have been refused), a thread waits on the other side first, so the
// wrongly accepted call completes and the test fails instead of hanging.
#include <abi/registers.hpp>

#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

using abi::MessageInfo;
using abi::Syscall;

// A message whose word k is label * 100 + k, so that a receiver can tell it was intact.
Message numbered(uint64_t label, uint64_t length) {
  Message m;
  m.label = label;
  m.length = length;
  for (uint64_t k = 0; k < length && k < abi::kMaxMessageWords; ++k) {
    m.words[k] = label * 100 + k;
  }
  return m;
}

Status status_of(uint64_t info_word) {
  MessageInfo info{info_word};
  return info.is_error() ? static_cast<Status>(info.label()) : Status::kOk;
}

// A raw system call with a message info the libsys wrappers would not build.
Status raw(Syscall call, uint64_t cptr, MessageInfo info) {
  sys::Regs r{cptr, info.word, {}};
  sys::raw_syscall(call, r);
  return status_of(r.info);
}

// What each test thread saw, for the root to check once the thread has run.
struct Record {
  volatile uint64_t done;  // Completed operations.
  volatile Status status;
  volatile uint64_t label;
  volatile uint64_t length;
  volatile uint64_t badge;
  volatile uint64_t words[8];
  volatile uint64_t last;  // The last word of the message.
};

// What each test thread does: its endpoint and the message it sends.
struct Job {
  uint64_t ep;
  uint64_t label;
  uint64_t length;
};

constexpr uint64_t kThreads = 8;
Record g_rec[kThreads];
Job g_jobs[kThreads];

void reset() {
  for (uint64_t i = 0; i < kThreads; ++i) {
    Record& r = g_rec[i];
    r.done = 0;
    r.status = Status::kOk;
    r.label = 0;
    r.length = 0;
    r.badge = 0;
    r.last = 0;
    for (volatile uint64_t& w : r.words) {
      w = 0;
    }
    g_jobs[i] = Job{0, 0, 0};
  }
}

void record(uint64_t i, Status s, const Message& m) {
  Record& r = g_rec[i];
  r.status = s;
  r.label = m.label;
  r.length = m.length;
  r.badge = m.badge;
  for (uint64_t k = 0; k < 8; ++k) {
    r.words[k] = m.words[k];
  }
  r.last = m.length != 0 ? m.words[m.length - 1] : 0;
  r.done = r.done + 1;
}

// True when record i holds the numbered message (label, length).
bool got_numbered(uint64_t i, uint64_t label, uint64_t length) {
  const Record& r = g_rec[i];
  if (r.status != Status::kOk || r.label != label || r.length != length) {
    return false;
  }
  for (uint64_t k = 0; k < length && k < 8; ++k) {
    if (r.words[k] != label * 100 + k) {
      return false;
    }
  }
  return length == 0 || r.last == label * 100 + length - 1;
}

bool is_numbered(const Message& m, uint64_t label, uint64_t length) {
  if (m.status != Status::kOk || m.label != label || m.length != length) {
    return false;
  }
  for (uint64_t k = 0; k < length; ++k) {
    if (m.words[k] != label * 100 + k) {
      return false;
    }
  }
  return true;
}

// --- the threads ---------------------------------------------------------------------------------

void receiver(uint64_t i) {
  Message m;
  Status s = sys::recv(g_jobs[i].ep, m);
  record(i, s, m);
}

void sender(uint64_t i) {
  Status s = sys::send(g_jobs[i].ep, numbered(g_jobs[i].label, g_jobs[i].length));
  record(i, s, Message());
}

void caller(uint64_t i) {
  Message m = numbered(g_jobs[i].label, g_jobs[i].length);
  Status s = sys::call(g_jobs[i].ep, m);
  record(i, s, m);
}

// Receives up to six messages, answering each (a Call gets label + 1; the reply to a Send fails
// harmlessly). Absorbs messages that should never have been sent.
void absorber(uint64_t i) {
  for (int k = 0; k < 6; ++k) {
    Message m;
    Status s = sys::recv(g_jobs[i].ep, m);
    record(i, s, m);
    if (s != Status::kOk) {
      return;
    }
    (void)sys::reply(numbered(m.label + 1, 1));
  }
}

// Receives one message and keeps it (never replies), then blocks for good on a second endpoint.
void keeper(uint64_t i) {
  Message m;
  Status s = sys::recv(g_jobs[i].ep, m);
  record(i, s, m);
  Message never;
  (void)sys::recv(g_jobs[i].label, never);  // label holds the parking endpoint here.
}

sys::Thread start(sys::Thread::Entry fn, uint64_t i, uint64_t ep, uint64_t label = 0,
                  uint64_t length = 0) {
  g_jobs[i] = Job{ep, label, length};
  return start_thread(fn, i, {100, 0});
}

}  // namespace

// --- Send and Recv -------------------------------------------------------------------------------

KTEST(ipc_send_to_a_waiting_receiver_delivers_label_words_and_badge) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t badged = mint(ep, kAll, 0xB1);
  start(receiver, 0, ep);
  start(receiver, 1, ep);
  settle();
  CHECK(g_rec[0].done == 0 && g_rec[1].done == 0);
  // The first waiting receiver takes the badged message, the second the unbadged one. Six words:
  // two of them travel through the IPC buffers.
  CHECK_STATUS(sys::send(badged, numbered(7, 6)), Status::kOk);
  CHECK_STATUS(sys::send(ep, numbered(8, 2)), Status::kOk);
  settle();
  CHECK(g_rec[0].done == 1);
  CHECK(got_numbered(0, 7, 6));
  CHECK(g_rec[0].badge == 0xB1);
  CHECK(g_rec[1].done == 1);
  CHECK(got_numbered(1, 8, 2));
  CHECK(g_rec[1].badge == 0);
}

KTEST(ipc_send_blocks_until_a_receiver_arrives) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(sender, 0, ep, 5, 7);
  settle();
  // Nobody received yet: the sender is still blocked in Send.
  REQUIRE(g_rec[0].done == 0);
  Message m;
  CHECK_STATUS(sys::recv(ep, m), Status::kOk);
  CHECK(is_numbered(m, 5, 7));
  CHECK(m.badge == 0);
  settle();
  CHECK(g_rec[0].done == 1);
  CHECK(g_rec[0].status == Status::kOk);
}

KTEST(ipc_nbsend_without_a_receiver_times_out) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  CHECK_STATUS(sys::nb_send(ep, numbered(3, 1)), Status::kTimedOut);
  // The message was dropped, not queued.
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
  // With a receiver waiting it goes through.
  start(receiver, 0, ep);
  settle();
  CHECK_STATUS(sys::nb_send(ep, numbered(4, 5)), Status::kOk);
  settle();
  CHECK(g_rec[0].done == 1);
  CHECK(got_numbered(0, 4, 5));
}

KTEST(ipc_nbrecv_without_a_sender_times_out) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
  // Another receiver waiting there is no sender either.
  start(receiver, 0, ep);
  settle();
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
  CHECK_STATUS(sys::send(ep, numbered(6, 1)), Status::kOk);
  settle();
  CHECK(got_numbered(0, 6, 1));
  // With a sender blocked, NBRecv takes its message and releases it.
  start(sender, 1, ep, 9, 3);
  settle();
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK(is_numbered(m, 9, 3));
  settle();
  CHECK(g_rec[1].done == 1);
  CHECK(g_rec[1].status == Status::kOk);
}

KTEST(ipc_blocked_senders_are_received_in_fifo_order) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  // Each sender blocks before the next one starts, so the queue order is known.
  for (uint64_t i = 0; i < 5; ++i) {
    start(sender, i, ep, 10 + i, 1 + i);
    settle();
  }
  for (uint64_t i = 0; i < 5; ++i) {
    Message m;
    CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
    CHECK(is_numbered(m, 10 + i, 1 + i));
  }
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kTimedOut);
  settle();
  for (uint64_t i = 0; i < 5; ++i) {
    CHECK(g_rec[i].done == 1 && g_rec[i].status == Status::kOk);
  }
}

KTEST(ipc_blocked_receivers_are_served_in_fifo_order) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  for (uint64_t i = 0; i < 4; ++i) {
    start(receiver, i, ep);
    settle();
  }
  for (uint64_t i = 0; i < 4; ++i) {
    CHECK_STATUS(sys::nb_send(ep, numbered(20 + i, 2)), Status::kOk);
  }
  CHECK_STATUS(sys::nb_send(ep, numbered(30, 2)), Status::kTimedOut);
  settle();
  for (uint64_t i = 0; i < 4; ++i) {
    CHECK(got_numbered(i, 20 + i, 2));
  }
}

KTEST(ipc_badges_identify_senders_and_callers) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t a = mint(ep, kAll, 0x1111);
  uint64_t b = mint(ep, Rights::kWrite, 0x2222);
  uint64_t c = mint(ep, Rights::kWrite | Rights::kGrantReply, 0xFFFFFFFFFFFFFFFF);
  start(sender, 0, a, 1, 1);
  settle();
  start(sender, 1, b, 2, 1);
  settle();
  start(sender, 2, ep, 3, 1);
  settle();
  start(caller, 3, c, 4, 1);
  settle();
  const uint64_t want[] = {0x1111, 0x2222, 0, 0xFFFFFFFFFFFFFFFF};
  for (uint64_t i = 0; i < 4; ++i) {
    Message m;
    CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
    CHECK(m.label == i + 1);
    CHECK(m.badge == want[i]);
  }
  CHECK_STATUS(sys::reply(numbered(5, 1)), Status::kOk);
  settle();
  CHECK(got_numbered(3, 5, 1));
}

// --- Call, Reply and ReplyRecv -------------------------------------------------------------------

KTEST(ipc_call_gets_the_reply_and_the_reply_capability_is_used_up) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(caller, 0, ep, 9, 2);
  settle();
  REQUIRE(g_rec[0].done == 0);
  Message m;
  CHECK_STATUS(sys::recv(ep, m), Status::kOk);
  CHECK(is_numbered(m, 9, 2));
  // The caller waits for the reply, not for the send.
  settle();
  CHECK(g_rec[0].done == 0);
  CHECK_STATUS(sys::reply(numbered(10, 5)), Status::kOk);
  settle();
  CHECK(g_rec[0].done == 1);
  CHECK(got_numbered(0, 10, 5));
  // One reply per Call.
  CHECK_STATUS(sys::reply(numbered(11, 1)), Status::kNoReplyTarget);
}

KTEST(ipc_reply_without_a_caller_fails) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  CHECK_STATUS(sys::reply(numbered(1, 1)), Status::kNoReplyTarget);
  CHECK_STATUS(raw(Syscall::kReply, 0, MessageInfo::make(1, 0)), Status::kNoReplyTarget);
  // A message that came by Send leaves nobody to reply to.
  start(sender, 0, ep, 2, 1);
  settle();
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK_STATUS(sys::reply(numbered(3, 1)), Status::kNoReplyTarget);
}

namespace {

// A server in a ReplyRecv loop: the first ReplyRecv has nobody to reply to and only receives;
// each later one answers the previous Call (word 0 doubled, label + 1) and waits for the next.
void reply_recv_server(uint64_t i) {
  Message m;
  Status s = sys::reply_recv(g_jobs[i].ep, m);
  record(i, s, m);
  for (int k = 0; k < 3 && s == Status::kOk; ++k) {
    Message answer = Message::make(m.label + 1, {m.words[0] * 2});
    m = answer;
    s = sys::reply_recv(g_jobs[i].ep, m);
    record(i, s, m);
  }
}

}  // namespace

KTEST(ipc_reply_recv_without_a_caller_just_receives_then_serves_calls) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(reply_recv_server, 0, ep);
  settle();
  CHECK(g_rec[0].done == 0);  // Blocked receiving, not failed for want of a caller.
  const uint64_t values[] = {1, 5, 7};
  for (uint64_t k = 0; k < 3; ++k) {
    Message m = Message::make(40 + k, {values[k]});
    CHECK_STATUS(sys::call(ep, m), Status::kOk);
    CHECK(m.label == 41 + k);
    CHECK(m.length == 1 && m.words[0] == 2 * values[k]);
  }
  settle();
  CHECK(g_rec[0].done == 3);
  CHECK(g_rec[0].label == 42);
}

KTEST(ipc_receiving_a_second_call_releases_the_unanswered_first_caller) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(caller, 0, ep, 1, 1);
  settle();
  start(caller, 1, ep, 2, 1);
  settle();
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK(m.label == 1);
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK(m.label == 2);
  settle();
  // The root held one reply capability: taking the second Call dropped the first.
  CHECK(g_rec[0].done == 1);
  CHECK(g_rec[0].status == Status::kDeleted);
  CHECK(g_rec[1].done == 0);
  CHECK_STATUS(sys::reply(numbered(3, 1)), Status::kOk);
  settle();
  CHECK(got_numbered(1, 3, 1));
}

// --- Yield ---------------------------------------------------------------------------------------

KTEST(ipc_yield_returns_ok) {
  sys::Regs r{0xDEAD, 0x1234, {1, 2, 3, 4}};
  sys::raw_syscall(Syscall::kYield, r);
  CHECK(!MessageInfo{r.info}.is_error());
  CHECK(r.info == MessageInfo::make(0, 0).word);
  // Yield is not an IPC call: the message registers stay as they were.
  CHECK(r.mr[0] == 1 && r.mr[1] == 2 && r.mr[2] == 3 && r.mr[3] == 4);
  for (int i = 0; i < 10; ++i) {
    sys::yield();
  }
}

// --- errors: capability type, rights, lookup -----------------------------------------------------

KTEST(ipc_on_a_capability_that_is_not_an_endpoint_is_refused) {
  Env& e = env();
  uint64_t frame = make(abi::ObjectType::kFrame4K);
  Message m = numbered(1, 1);
  CHECK_STATUS(sys::send(e.cnode, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::nb_send(e.cnode, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::recv(e.cnode, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::nb_recv(e.cnode, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::reply_recv(e.cnode, m), Status::kInvalidCapability);
  m = numbered(1, 1);
  CHECK_STATUS(sys::recv(e.tcb, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::nb_recv(e.tcb, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::send(e.tcb, numbered(1, 1)), Status::kInvalidCapability);
  CHECK_STATUS(sys::send(frame, numbered(1, 1)), Status::kInvalidCapability);
  CHECK_STATUS(sys::recv(frame, m), Status::kInvalidCapability);
  // Call on anything but an endpoint is an invocation; a label the object does not know is an
  // illegal operation, not a message.
  m = numbered(0x7777, 1);
  CHECK_STATUS(sys::call(frame, m), Status::kIllegalOperation);
}

KTEST(ipc_without_the_needed_rights_is_refused) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t read_only = mint(ep, Rights::kRead | Rights::kGrant | Rights::kGrantReply);
  uint64_t no_grant_reply = mint(ep, Rights::kRead | Rights::kWrite | Rights::kGrant);
  uint64_t write_only = mint(ep, Rights::kWrite);
  uint64_t call_only = mint(ep, Rights::kWrite | Rights::kGrantReply);
  // A receiver waits on `ep`, so a wrongly accepted Send or Call does not block the root.
  start(absorber, 0, ep);
  settle();
  CHECK_STATUS(sys::send(read_only, numbered(1, 1)), Status::kInvalidCapability);
  CHECK_STATUS(sys::nb_send(read_only, numbered(1, 1)), Status::kInvalidCapability);
  Message m = numbered(1, 1);
  CHECK_STATUS(sys::call(read_only, m), Status::kInvalidCapability);
  m = numbered(1, 1);
  CHECK_STATUS(sys::call(no_grant_reply, m), Status::kInvalidCapability);
  settle();
  CHECK(g_rec[0].done == 0);
  // Receiving needs read: a sender waits on a second endpoint for the same reason.
  uint64_t ep2 = make(abi::ObjectType::kEndpoint);
  uint64_t ep2_write_only = mint(ep2, Rights::kWrite | Rights::kGrant | Rights::kGrantReply);
  uint64_t ep2_read_only = mint(ep2, Rights::kRead);
  start(sender, 1, ep2, 7, 2);
  settle();
  CHECK_STATUS(sys::recv(ep2_write_only, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::nb_recv(ep2_write_only, m), Status::kInvalidCapability);
  CHECK_STATUS(sys::reply_recv(ep2_write_only, m), Status::kInvalidCapability);
  settle();
  CHECK(g_rec[1].done == 0);
  // The right that each call needs is enough on its own.
  CHECK_STATUS(sys::send(write_only, numbered(2, 1)), Status::kOk);
  settle();
  CHECK(g_rec[0].done == 1 && g_rec[0].label == 2);
  m = numbered(3, 1);
  CHECK_STATUS(sys::call(call_only, m), Status::kOk);
  CHECK(m.label == 4);
  CHECK_STATUS(sys::recv(ep2_read_only, m), Status::kOk);
  CHECK(is_numbered(m, 7, 2));
  settle();
  CHECK(g_rec[1].done == 1 && g_rec[1].status == Status::kOk);
}

KTEST(ipc_on_an_empty_slot_or_a_bad_cptr_fails_lookup) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t empty = slot();
  Message m = numbered(1, 1);
  CHECK_STATUS(sys::send(empty, m), Status::kEmptySlot);
  CHECK_STATUS(sys::nb_send(empty, m), Status::kEmptySlot);
  CHECK_STATUS(sys::recv(empty, m), Status::kEmptySlot);
  CHECK_STATUS(sys::nb_recv(empty, m), Status::kEmptySlot);
  m = numbered(1, 1);
  CHECK_STATUS(sys::call(empty, m), Status::kEmptySlot);
  CHECK_STATUS(sys::reply_recv(empty, m), Status::kEmptySlot);
  CHECK_STATUS(sys::send(0, numbered(1, 1)), Status::kEmptySlot);
  // The root CNode's guard is all zeros: a cptr with high bits set does not match it.
  CHECK_STATUS(sys::nb_send(ep | (uint64_t{1} << 63), numbered(1, 1)), Status::kGuardMismatch);
  CHECK_STATUS(sys::nb_recv(ep | (uint64_t{1} << 40), m), Status::kGuardMismatch);
  // The same endpoint through its proper cptr resolves (and finds nobody waiting).
  CHECK_STATUS(sys::nb_send(ep, numbered(1, 1)), Status::kTimedOut);
}

namespace {

struct Probe {
  uint64_t cptr;
  Status want;
};

constexpr uint64_t kProbes = 10;
Probe g_probes[kProbes];
volatile Status g_probe_got[kProbes];
volatile uint64_t g_probe_done;

// Sends to every probe cptr without blocking (kTimedOut means the lookup found an endpoint with
// nobody waiting), then reports through the first one with a blocking Send.
void lookup_prober(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    g_probe_got[i] = sys::nb_send(g_probes[i].cptr, Message::make(1, {}));
  }
  g_probe_done = 1;
  (void)sys::send(g_probes[0].cptr, Message::make(0x2C, {n}));
}

}  // namespace

KTEST(ipc_lookup_errors_in_a_two_level_cspace) {
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t l1 = make(abi::ObjectType::kCNode, 4);
  uint64_t l2 = make(abi::ObjectType::kCNode, 4);
  uint64_t l2_deep = make(abi::ObjectType::kCNode, 4);
  uint64_t l3 = make(abi::ObjectType::kCNode, 2);
  // The thread's CSpace root: L1 behind a 52-bit zero guard, so that L1 takes bits 63..8 of a
  // cptr and leaves 8 bits for a second level.
  uint64_t root = mint(l1, kAll, abi::cnode_guard_data(0, 52));
  // L1[3]: L2 behind a 4-bit guard, which uses up the 8 bits exactly: cptr (3 << 8) | j is L2[j].
  CHECK_OK(sys::cnode_mint(l1, 3, 4, e.cnode, l2, 64, kAll, abi::cnode_guard_data(0, 4)));
  // L1[6]: an endpoint, found with bits left over (lookup stops at the first non-CNode).
  CHECK_OK(sys::cnode_copy(l1, 6, 4, e.cnode, ep, 64));
  // L1[7]: a CNode whose guard and radix need 10 bits where only 8 are left.
  CHECK_OK(sys::cnode_mint(l1, 7, 4, e.cnode, l2_deep, 64, kAll, abi::cnode_guard_data(0, 6)));
  // L2[5]: the endpoint; L2[1]: a CNode where the bits run out (not an endpoint).
  CHECK_OK(sys::cnode_copy(l2, 5, 4, e.cnode, ep, 64));
  CHECK_OK(sys::cnode_mint(l2, 1, 4, e.cnode, l3, 64, kAll, abi::cnode_guard_data(0, 2)));
  const Probe probes[kProbes] = {
      {(3 << 8) | 5, Status::kTimedOut},                               // Two levels, exact.
      {(6 << 8) | 0x2A, Status::kTimedOut},                            // Leaf at level one.
      {(9 << 8) | 5, Status::kEmptySlot},                              // Empty L1 slot.
      {(3 << 8) | 2, Status::kEmptySlot},                              // Empty L2 slot.
      {(7 << 8) | 5, Status::kDepthMismatch},                          // L1[7] needs 10 bits.
      {(uint64_t{1} << 60) | (3 << 8) | 5, Status::kGuardMismatch},    // L1's guard.
      {(3 << 8) | (1 << 4) | 5, Status::kGuardMismatch},               // L2's guard.
      {(3 << 8) | 1, Status::kInvalidCapability},                      // Ends at a CNode.
      {ep, Status::kEmptySlot},                                        // A root-CSpace cptr.
      {(uint64_t{0xF} << 52) | (3 << 8) | 5, Status::kGuardMismatch},  // Top of L1's guard.
  };
  for (uint64_t i = 0; i < kProbes; ++i) {
    g_probes[i] = probes[i];
    g_probe_got[i] = Status::kOk;
  }
  g_probe_done = 0;
  sys::ThreadOptions o;
  o.priority = 100;
  o.authority = e.tcb;
  o.cspace = root;
  sys::Thread th =
      REQUIRE_OK(sys::Thread::create(e.objects, e.vs, region(sys::Thread::region_size(4)), o));
  // The thread suspends itself through its own TCB when it ends: put one where it can find it.
  REQUIRE_OK(sys::cnode_copy(l2, 15, 4, e.cnode, th.tcb(), 64));
  th.block()->tcb = (3 << 8) | 15;
  REQUIRE_OK(th.start(lookup_prober, kProbes));
  settle();
  REQUIRE(g_probe_done == 1);
  for (uint64_t i = 0; i < kProbes; ++i) {
    if (g_probe_got[i] != g_probes[i].want) {
      note("probe %llu (cptr %#llx): got %s, want %s", static_cast<unsigned long long>(i),
           static_cast<unsigned long long>(g_probes[i].cptr), abi::status_name(g_probe_got[i]),
           abi::status_name(g_probes[i].want));
      CHECK(g_probe_got[i] == g_probes[i].want);
    }
  }
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK(m.label == 0x2C && m.words[0] == kProbes);
}

namespace {

// In a process whose CSpace is one CNode of 64 slots (a 58-bit zero guard): reports the status
// of Sends to bad cptrs through its endpoint in slot `ep`.
void process_prober(uint64_t ep) {
  Message m;
  m.label = 0x99;
  m.length = 4;
  m.words[0] = static_cast<uint64_t>(sys::nb_send((1 << 6) | ep, Message::make(1, {})));
  m.words[1] = static_cast<uint64_t>(sys::nb_send(63, Message::make(1, {})));
  m.words[2] = static_cast<uint64_t>(sys::nb_send(ep | (uint64_t{1} << 63), Message::make(1, {})));
  m.words[3] = static_cast<uint64_t>(sys::nb_send(1, Message::make(1, {})));  // Its TCB.
  (void)sys::send(ep, m);
}

}  // namespace

KTEST(ipc_lookup_errors_in_a_process_cspace) {
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  Process p = REQUIRE_OK(spawn_process(process_prober, 2, 100));
  REQUIRE_OK(give(p, 2, ep));
  settle();
  Message m;
  REQUIRE(sys::nb_recv(ep, m) == Status::kOk);
  CHECK(m.label == 0x99 && m.length == 4);
  CHECK(static_cast<Status>(m.words[0]) == Status::kGuardMismatch);
  CHECK(static_cast<Status>(m.words[1]) == Status::kEmptySlot);
  CHECK(static_cast<Status>(m.words[2]) == Status::kGuardMismatch);
  CHECK(static_cast<Status>(m.words[3]) == Status::kInvalidCapability);
}

namespace {

// Cptrs in the two-level process CSpace below: its root takes bits 63..8 (a 50-bit guard and
// 6 bits of index), and root slot 3 holds a second-level CNode (a 4-bit guard, 4 bits of index).
constexpr uint64_t two_level(uint64_t top, uint64_t bottom) {
  return top << 8 | bottom;
}
constexpr uint64_t kTlReport = two_level(3, 2);  // Endpoint: where the process reports.
constexpr uint64_t kTlPark = two_level(3, 3);    // Endpoint: where it waits for good.

// Probes lookups in its own two-level CSpace and reports the statuses, four to a message (it has
// no IPC buffer). Never returns: its own TCB is not in this CSpace for libsys to suspend.
[[noreturn]] void two_level_prober(uint64_t) {
  const uint64_t probes[8] = {
      kTlReport,                      // Two levels, exact.
      two_level(5, 0x77),             // Root slot 5: an endpoint, bits to spare.
      two_level(3, 0x12),             // Bit 4 is in the second level's guard.
      two_level(6, 1),                // Root slot 6: a CNode needing 10 bits.
      uint64_t{1} << 20 | kTlReport,  // Bit 20 is in the root's guard.
      two_level(9, 0),                // Empty root slot.
      two_level(3, 9),                // Empty second-level slot.
      2,                              // A one-level cptr: root slot 0, empty.
  };
  for (uint64_t half = 0; half < 2; ++half) {
    Message m;
    m.label = 0x77 + half;
    m.length = 4;
    for (uint64_t k = 0; k < 4; ++k) {
      m.words[k] = static_cast<uint64_t>(sys::nb_send(probes[half * 4 + k], Message::make(1, {})));
    }
    (void)sys::send(kTlReport, m);
  }
  for (;;) {
    Message m;
    (void)sys::recv(kTlPark, m);
  }
}

}  // namespace

KTEST(ipc_lookup_errors_in_a_two_level_process_cspace) {
  Env& e = env();
  uint64_t report = make(abi::ObjectType::kEndpoint);
  uint64_t park = make(abi::ObjectType::kEndpoint);
  uint64_t l2 = make(abi::ObjectType::kCNode, 4);
  uint64_t deep = make(abi::ObjectType::kCNode, 4);
  Process p = REQUIRE_OK(spawn_process(two_level_prober, 0, 100));
  // It has not run yet (it is below the root). Give it a root guard that leaves 8 bits for a
  // second level, and no IPC buffer (whose frame spawn_process keeps to itself).
  REQUIRE_OK(sys::tcb_suspend(p.tcb));
  REQUIRE_OK(sys::tcb_configure(p.tcb, 0, p.cnode, abi::cnode_guard_data(0, 50), p.pml4, 0, 0));
  REQUIRE_OK(give(p, 3, l2, kAll, abi::cnode_guard_data(0, 4)));
  REQUIRE_OK(give(p, 5, report, Rights::kWrite));
  REQUIRE_OK(give(p, 6, deep, kAll, abi::cnode_guard_data(0, 6)));
  REQUIRE_OK(sys::cnode_copy(l2, 2, 4, e.cnode, report, 64));
  REQUIRE_OK(sys::cnode_copy(l2, 3, 4, e.cnode, park, 64));
  REQUIRE_OK(sys::tcb_resume(p.tcb));
  settle();
  const Status want[8] = {Status::kTimedOut,      Status::kTimedOut,      Status::kGuardMismatch,
                          Status::kDepthMismatch, Status::kGuardMismatch, Status::kEmptySlot,
                          Status::kEmptySlot,     Status::kEmptySlot};
  for (uint64_t half = 0; half < 2; ++half) {
    Message m;
    CHECK_STATUS(sys::nb_recv(report, m), Status::kOk);
    CHECK(m.label == 0x77 + half && m.length == 4);
    for (uint64_t k = 0; k < 4; ++k) {
      Status got = static_cast<Status>(m.words[k]);
      if (got != want[half * 4 + k]) {
        note("probe %llu: got %s, want %s", static_cast<unsigned long long>(half * 4 + k),
             abi::status_name(got), abi::status_name(want[half * 4 + k]));
        CHECK(got == want[half * 4 + k]);
      }
    }
    settle();
  }
}

// --- errors: the message itself ------------------------------------------------------------------

KTEST(ipc_message_longer_than_120_words_is_refused) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(absorber, 0, ep);
  settle();
  for (uint64_t length : {uint64_t{121}, uint64_t{127}}) {
    MessageInfo info = MessageInfo::make(5, length);
    CHECK(info.length() == length);
    CHECK_STATUS(raw(Syscall::kSend, ep, info), Status::kInvalidMessage);
    CHECK_STATUS(raw(Syscall::kNBSend, ep, info), Status::kInvalidMessage);
    CHECK_STATUS(raw(Syscall::kCall, ep, info), Status::kInvalidMessage);
    // An invocation is a Call too.
    CHECK_STATUS(raw(Syscall::kCall, e.cnode, info), Status::kInvalidMessage);
  }
  // libsys passes an oversized length through to the kernel as well.
  Message big = numbered(5, 121);
  CHECK_STATUS(sys::send(ep, big), Status::kInvalidMessage);
  settle();
  CHECK(g_rec[0].done == 0);
  // 120 words is the limit, and allowed.
  CHECK_STATUS(sys::send(ep, numbered(6, 120)), Status::kOk);
  settle();
  CHECK(g_rec[0].done == 1);
  CHECK(got_numbered(0, 6, 120));
}

KTEST(ipc_overlong_reply_is_refused_and_the_caller_keeps_waiting) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t ep2 = make(abi::ObjectType::kEndpoint);
  start(caller, 0, ep, 1, 1);
  // A sender waits on ep2, so a ReplyRecv there that wrongly went on to receive returns.
  start(sender, 1, ep2, 2, 1);
  settle();
  Message m;
  REQUIRE(g_rec[0].done == 0);
  CHECK_STATUS(sys::recv(ep, m), Status::kOk);
  CHECK_STATUS(raw(Syscall::kReply, 0, MessageInfo::make(7, 121)), Status::kInvalidMessage);
  CHECK_STATUS(raw(Syscall::kReplyRecv, ep2, MessageInfo::make(7, 127)), Status::kInvalidMessage);
  settle();
  // Neither the caller nor the second sender was touched.
  CHECK(g_rec[0].done == 0);
  CHECK(g_rec[1].done == 0);
  CHECK_STATUS(sys::reply(numbered(8, 3)), Status::kOk);
  settle();
  CHECK(got_numbered(0, 8, 3));
  CHECK_STATUS(sys::nb_recv(ep2, m), Status::kOk);
  CHECK(is_numbered(m, 2, 1));
}

namespace {

// The thread without an IPC buffer: its endpoints, and what it saw.
struct NoBufferLog {
  uint64_t ep, ep_no_grant, ep2, ep3, park;
  volatile uint64_t step;  // The system call the thread is in (or about to make).
  volatile uint64_t send_long, nbsend_long, call_long, send_cap, send_cap_no_grant;
  volatile uint64_t reply_no_caller, send_short;
  volatile uint64_t recv_status, recv_label, recv_length, recv_words[4];
  volatile uint64_t call_label, call_length, call_word0;
  volatile uint64_t reply_long, reply_recv_long, reply_short;
};

NoBufferLog g_nb;

uint64_t error_of(const sys::Regs& r) {
  MessageInfo info{r.info};
  return info.is_error() ? info.label() : 0;
}

// Runs with no IPC buffer and no thread block (FS base 0): raw system calls only, nothing of
// libsys that reaches for the IPC buffer. Entered directly, never returns.
[[noreturn]] void no_buffer_thread(uint64_t) {
  sys::Regs r{g_nb.ep, MessageInfo::make(1, 5).word, {1, 2, 3, 4}};
  sys::raw_syscall(Syscall::kSend, r);
  g_nb.send_long = error_of(r);
  r = {g_nb.ep, MessageInfo::make(1, 5).word, {1, 2, 3, 4}};
  sys::raw_syscall(Syscall::kNBSend, r);
  g_nb.nbsend_long = error_of(r);
  r = {g_nb.ep, MessageInfo::make(1, 5).word, {1, 2, 3, 4}};
  sys::raw_syscall(Syscall::kCall, r);
  g_nb.call_long = error_of(r);
  // Capabilities are named in the IPC buffer too.
  r = {g_nb.ep, MessageInfo::make(1, 1, 1).word, {1}};
  sys::raw_syscall(Syscall::kSend, r);
  g_nb.send_cap = error_of(r);
  r = {g_nb.ep_no_grant, MessageInfo::make(1, 1, 1).word, {1}};
  sys::raw_syscall(Syscall::kSend, r);
  g_nb.send_cap_no_grant = error_of(r);
  r = {0, MessageInfo::make(1, 5).word, {}};
  sys::raw_syscall(Syscall::kReply, r);
  g_nb.reply_no_caller = error_of(r);
  // Four words fit the registers.
  g_nb.step = 6;
  r = {g_nb.ep, MessageInfo::make(9, 4).word, {41, 42, 43, 44}};
  sys::raw_syscall(Syscall::kSend, r);
  g_nb.send_short = error_of(r);
  // A long message to this thread arrives cut to the registers.
  g_nb.step = 7;
  r = {g_nb.ep2, 0, {}};
  sys::raw_syscall(Syscall::kRecv, r);
  g_nb.recv_status = error_of(r);
  g_nb.recv_label = MessageInfo{r.info}.label();
  g_nb.recv_length = MessageInfo{r.info}.length();
  for (int k = 0; k < 4; ++k) {
    g_nb.recv_words[k] = r.mr[k];
  }
  // Serve one Call: a long reply is refused (by Reply and ReplyRecv), a short one goes.
  g_nb.step = 8;
  r = {g_nb.ep3, 0, {}};
  sys::raw_syscall(Syscall::kRecv, r);
  g_nb.call_label = MessageInfo{r.info}.label();
  g_nb.call_length = MessageInfo{r.info}.length();
  g_nb.call_word0 = r.mr[0];
  r = {0, MessageInfo::make(13, 5).word, {77, 78}};
  sys::raw_syscall(Syscall::kReply, r);
  g_nb.reply_long = error_of(r);
  r = {g_nb.park, MessageInfo::make(13, 5).word, {77, 78}};
  sys::raw_syscall(Syscall::kReplyRecv, r);
  g_nb.reply_recv_long = error_of(r);
  r = {0, MessageInfo::make(13, 2).word, {77, 78}};
  sys::raw_syscall(Syscall::kReply, r);
  g_nb.reply_short = error_of(r);
  g_nb.step = 9;
  for (;;) {
    r = {g_nb.park, 0, {}};
    sys::raw_syscall(Syscall::kRecv, r);
  }
}

uint64_t st(Status s) {
  return static_cast<uint64_t>(s);
}

}  // namespace

KTEST(ipc_long_message_without_an_ipc_buffer_is_refused) {
  Env& e = env();
  g_nb = NoBufferLog{};
  g_nb.ep = make(abi::ObjectType::kEndpoint);
  g_nb.ep_no_grant = mint(g_nb.ep, Rights::kRead | Rights::kWrite | Rights::kGrantReply);
  g_nb.ep2 = make(abi::ObjectType::kEndpoint);
  g_nb.ep3 = make(abi::ObjectType::kEndpoint);
  g_nb.park = make(abi::ObjectType::kEndpoint);
  const uint64_t unset = 0xEEEE;
  for (volatile uint64_t* v : {&g_nb.send_long, &g_nb.nbsend_long, &g_nb.call_long, &g_nb.send_cap,
                               &g_nb.send_cap_no_grant, &g_nb.reply_no_caller, &g_nb.send_short,
                               &g_nb.reply_long, &g_nb.reply_recv_long, &g_nb.reply_short}) {
    *v = unset;
  }
  // A TCB with a CSpace and a VSpace but no IPC buffer.
  uint64_t tcb = make(abi::ObjectType::kTcb);
  REQUIRE_OK(sys::tcb_configure(tcb, 0, e.cnode, 0, e.vspace, 0, 0));
  REQUIRE_OK(sys::tcb_set_priority(tcb, e.tcb, 100));
  constexpr uint64_t kStack = 4 * 4096;
  uint64_t stack = region(kStack);
  REQUIRE_OK(e.vs.map_new_range(stack, kStack, Rights::kRead | Rights::kWrite));
  sys::Registers regs{};
  regs.r[abi::kRegRip] = reinterpret_cast<uint64_t>(&no_buffer_thread);
  regs.r[abi::kRegRsp] = stack + kStack - 8;  // As if called: the return address slot.
  regs.r[abi::kRegRflags] = 0x202;
  REQUIRE_OK(sys::tcb_write_registers(tcb, true, regs));
  settle();
  REQUIRE(g_nb.step == 6);
  CHECK(g_nb.send_long == st(Status::kUnmappedBuffer));
  CHECK(g_nb.nbsend_long == st(Status::kUnmappedBuffer));
  CHECK(g_nb.call_long == st(Status::kUnmappedBuffer));
  CHECK(g_nb.send_cap == st(Status::kUnmappedBuffer));
  CHECK(g_nb.send_cap_no_grant == st(Status::kInvalidCapability));
  CHECK(g_nb.reply_no_caller == st(Status::kNoReplyTarget));
  // It is blocked in a four-word Send.
  Message m;
  CHECK_STATUS(sys::nb_recv(g_nb.ep, m), Status::kOk);
  CHECK(m.label == 9 && m.length == 4);
  CHECK(m.words[0] == 41 && m.words[1] == 42 && m.words[2] == 43 && m.words[3] == 44);
  settle();
  CHECK(g_nb.send_short == 0);
  REQUIRE(g_nb.step == 7);
  CHECK_STATUS(sys::send(g_nb.ep2, numbered(11, 10)), Status::kOk);
  settle();
  CHECK(g_nb.recv_status == 0);
  CHECK(g_nb.recv_label == 11);
  CHECK(g_nb.recv_length == 4);
  CHECK(g_nb.recv_words[0] == 1100 && g_nb.recv_words[3] == 1103);
  REQUIRE(g_nb.step == 8);
  Message c = numbered(12, 2);
  CHECK_STATUS(sys::call(g_nb.ep3, c), Status::kOk);
  CHECK(c.label == 13 && c.length == 2 && c.words[0] == 77 && c.words[1] == 78);
  settle();
  CHECK(g_nb.call_label == 12 && g_nb.call_length == 2 && g_nb.call_word0 == 1200);
  CHECK(g_nb.reply_long == st(Status::kUnmappedBuffer));
  CHECK(g_nb.reply_recv_long == st(Status::kUnmappedBuffer));
  CHECK(g_nb.reply_short == 0);
  CHECK(g_nb.step == 9);
}

// --- partners and endpoints that go away ---------------------------------------------------------

KTEST(ipc_deleting_an_endpoint_releases_its_blocked_threads_with_deleted) {
  reset();
  Env& e = env();
  uint64_t ep_send = make(abi::ObjectType::kEndpoint);
  uint64_t ep_recv = make(abi::ObjectType::kEndpoint);
  uint64_t ep_kept = make(abi::ObjectType::kEndpoint);
  uint64_t ep_kept_copy = mint(ep_kept, kAll);
  start(sender, 0, ep_send, 1, 2);
  settle();
  start(caller, 1, ep_send, 2, 2);
  start(receiver, 2, ep_recv);
  start(receiver, 3, ep_kept);
  settle();
  REQUIRE(g_rec[0].done == 0 && g_rec[1].done == 0 && g_rec[2].done == 0);
  CHECK_OK(sys::cnode_delete(e.cnode, ep_send, 64));
  CHECK_OK(sys::cnode_delete(e.cnode, ep_recv, 64));
  // Not the last capability: the endpoint lives on and its receiver keeps waiting.
  CHECK_OK(sys::cnode_delete(e.cnode, ep_kept, 64));
  settle();
  CHECK(g_rec[0].done == 1 && g_rec[0].status == Status::kDeleted);
  CHECK(g_rec[1].done == 1 && g_rec[1].status == Status::kDeleted);
  CHECK(g_rec[2].done == 1 && g_rec[2].status == Status::kDeleted);
  CHECK(g_rec[3].done == 0);
  CHECK_STATUS(sys::send(ep_kept_copy, numbered(4, 1)), Status::kOk);
  settle();
  CHECK(got_numbered(3, 4, 1));
  // The emptied slots name nothing now.
  Message m = numbered(1, 1);
  CHECK_STATUS(sys::send(ep_send, m), Status::kEmptySlot);
  CHECK_STATUS(sys::nb_send(ep_send, m), Status::kEmptySlot);
  CHECK_STATUS(sys::call(ep_send, m), Status::kEmptySlot);
  CHECK_STATUS(sys::recv(ep_recv, m), Status::kEmptySlot);
}

KTEST(ipc_reply_outlives_the_endpoint_the_call_came_through) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  start(caller, 0, ep, 3, 2);
  settle();
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  // The caller waits on the reply capability, not on the endpoint.
  CHECK_OK(sys::cnode_delete(e.cnode, ep, 64));
  settle();
  CHECK(g_rec[0].done == 0);
  CHECK_STATUS(sys::reply(numbered(4, 2)), Status::kOk);
  settle();
  CHECK(g_rec[0].done == 1);
  CHECK(got_numbered(0, 4, 2));
}

KTEST(ipc_server_deleted_while_a_client_waits_in_call_fails_the_call_with_deleted) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t park = make(abi::ObjectType::kEndpoint);
  sys::Thread server = start(keeper, 0, ep, park);
  settle();
  start(caller, 1, ep, 5, 1);
  settle();
  // The server has the Call and keeps it; the client waits for the reply.
  REQUIRE(g_rec[0].done == 1);
  CHECK(got_numbered(0, 5, 1));
  REQUIRE(g_rec[1].done == 0);
  CHECK_OK(sys::cnode_delete(e.cnode, server.tcb(), 64));
  settle();
  CHECK(g_rec[1].done == 1);
  CHECK(g_rec[1].status == Status::kDeleted);
}

KTEST(ipc_suspending_a_blocked_thread_cancels_its_call) {
  reset();
  uint64_t ep_send = make(abi::ObjectType::kEndpoint);
  uint64_t ep_recv = make(abi::ObjectType::kEndpoint);
  uint64_t ep_call = make(abi::ObjectType::kEndpoint);
  sys::Thread t[4];
  t[0] = start(sender, 0, ep_send, 1, 1);
  settle();
  t[1] = start(caller, 1, ep_send, 2, 1);  // Queued behind the sender: blocked in the send.
  t[2] = start(receiver, 2, ep_recv);
  t[3] = start(caller, 3, ep_call, 3, 1);  // The root takes this Call: blocked on the reply.
  settle();
  Message m;
  CHECK_STATUS(sys::nb_recv(ep_call, m), Status::kOk);
  for (sys::Thread& th : t) {
    CHECK_OK(sys::tcb_suspend(th.tcb()));
  }
  settle();
  // A thread that ended must not be resumed (it would spin in its exit loop).
  for (uint64_t i = 0; i < 4; ++i) {
    REQUIRE(g_rec[i].done == 0);
  }
  // Nothing was sent, nobody waits to receive, and the Call lost its reply capability.
  CHECK_STATUS(sys::nb_recv(ep_send, m), Status::kTimedOut);
  CHECK_STATUS(sys::nb_send(ep_recv, numbered(9, 1)), Status::kTimedOut);
  CHECK_STATUS(sys::reply(numbered(9, 1)), Status::kNoReplyTarget);
  for (sys::Thread& th : t) {
    CHECK_OK(sys::tcb_resume(th.tcb()));
  }
  settle();
  for (uint64_t i = 0; i < 4; ++i) {
    CHECK(g_rec[i].done == 1);
    CHECK(g_rec[i].status == Status::kCancelled);
  }
}

}  // namespace ktest
