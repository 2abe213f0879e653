// SPDX-License-Identifier: MIT
//
// Capabilities sent along with messages: a copy lands in the receiver's receive slot when the
// sender's endpoint capability has the grant right; a badged capability to the endpoint the
// message travels through arrives as its badge (unwrapped); without grant the send fails, and a
// receiver without a usable receive slot gets the words but no capability. Last, processes in
// separate address spaces hand each other endpoints and talk through them.
#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

// True when two slots hold capabilities to the same object.
bool same_object(uint64_t a, uint64_t b) {
  sys::CapInfo x = describe(a);
  sys::CapInfo y = describe(b);
  return x.type != CapType::kNull && x.type == y.type && x.object == y.object;
}

// A message with `count` capabilities (cptrs in the sender's CSpace).
Message with_caps(uint64_t label, uint64_t word, const uint64_t* caps, uint64_t count) {
  Message m = Message::make(label, {word});
  m.extra_caps = count;
  for (uint64_t i = 0; i < count; ++i) {
    m.caps[i] = caps[i];
  }
  return m;
}

// The root task's receive slot lives in its IPC buffer for the whole run: every test that sets
// it clears it again, so that no later test receives capabilities by accident.
struct RootReceiveSlot {
  explicit RootReceiveSlot(uint64_t dest) { sys::set_receive_slot(env().cnode, dest, 64); }
  ~RootReceiveSlot() { sys::set_receive_slot(0, 0, 0); }
};

// What a receiving thread saw.
struct Seen {
  volatile uint64_t done;
  volatile Status status;
  volatile uint64_t label;
  volatile uint64_t length;
  volatile uint64_t word0;
  volatile uint64_t extra_caps;
  volatile uint64_t unwrapped;
  volatile uint64_t caps[3];
  volatile Status follow_up;  // The status of what the thread did with what it got.
};

// A receiving thread's job: where it waits, where a capability may land, and a follow-up.
struct Job {
  uint64_t ep;
  uint64_t rcv_cnode, rcv_index, rcv_depth;  // Its receive slot (depth 0: none).
  uint64_t label;                            // Of its follow-up message.
};

constexpr uint64_t kThreads = 4;
Seen g_seen[kThreads];
Job g_job[kThreads];

void reset() {
  for (uint64_t i = 0; i < kThreads; ++i) {
    Seen& s = g_seen[i];
    s.done = 0;
    s.status = Status::kOk;
    s.label = 0;
    s.length = 0;
    s.word0 = 0;
    s.extra_caps = 0;
    s.unwrapped = 0;
    for (volatile uint64_t& c : s.caps) {
      c = 0;
    }
    s.follow_up = Status::kOk;
    g_job[i] = Job{};
  }
}

void note_seen(uint64_t i, Status s, const Message& m) {
  Seen& r = g_seen[i];
  r.status = s;
  r.label = m.label;
  r.length = m.length;
  r.word0 = m.words[0];
  r.extra_caps = m.extra_caps;
  r.unwrapped = m.unwrapped;
  for (uint64_t k = 0; k < 3; ++k) {
    r.caps[k] = m.caps[k];
  }
  r.done = r.done + 1;
}

// Receives one message with its receive slot set as the job says.
void receiver(uint64_t i) {
  const Job& j = g_job[i];
  sys::set_receive_slot(j.rcv_cnode, j.rcv_index, j.rcv_depth);
  Message m;
  Status s = sys::recv(j.ep, m);
  note_seen(i, s, m);
}

// Receives a message carrying an endpoint, then sends through the endpoint it got.
void receiver_then_use(uint64_t i) {
  receiver(i);
  g_seen[i].follow_up = sys::send(g_job[i].rcv_index, Message::make(g_job[i].label, {0xF0}));
}

// Calls with its receive slot set and records the reply (and the capability it may carry).
void caller(uint64_t i) {
  const Job& j = g_job[i];
  sys::set_receive_slot(j.rcv_cnode, j.rcv_index, j.rcv_depth);
  Message m = Message::make(j.label, {1});
  Status s = sys::call(j.ep, m);
  note_seen(i, s, m);
}

void start(sys::Thread::Entry fn, uint64_t i, const Job& job) {
  g_job[i] = job;
  (void)start_thread(fn, i, {100, 0});
}

}  // namespace

KTEST(cap_transfer_with_grant_gives_the_receiver_a_working_copy) {
  reset();
  Env& e = env();
  uint64_t transport = make(abi::ObjectType::kEndpoint);
  uint64_t payload = make(abi::ObjectType::kEndpoint);
  uint64_t dest = slot();
  start(receiver_then_use, 0, Job{transport, e.cnode, dest, 64, 77});
  settle();
  REQUIRE(g_seen[0].done == 0);
  const uint64_t caps[] = {payload};
  CHECK_STATUS(sys::send(transport, with_caps(1, 11, caps, 1)), Status::kOk);
  settle();
  CHECK(g_seen[0].done == 1);
  CHECK(g_seen[0].status == Status::kOk);
  CHECK(g_seen[0].label == 1 && g_seen[0].word0 == 11);
  CHECK(g_seen[0].extra_caps == 1);
  CHECK(g_seen[0].unwrapped == 0);
  // The copy names the same endpoint with the same rights, and it works: the receiver is
  // blocked sending through it.
  CHECK(same_object(dest, payload));
  CHECK(describe(dest).rights == Rights::all());
  Message m;
  CHECK_STATUS(sys::nb_recv(payload, m), Status::kOk);
  CHECK(m.label == 77 && m.words[0] == 0xF0);
  settle();
  CHECK(g_seen[0].follow_up == Status::kOk);
  // The copy is derived from the sender's capability: revoking that takes it away.
  CHECK_OK(sys::cnode_revoke(e.cnode, payload, 64));
  CHECK(describe(dest).type == CapType::kNull);
  // The sender keeps its own.
  CHECK(describe(payload).type == CapType::kEndpoint);
}

KTEST(cap_transfer_keeps_rights_and_badge_of_the_sent_capability) {
  reset();
  Env& e = env();
  uint64_t transport = make(abi::ObjectType::kEndpoint);
  uint64_t payload = make(abi::ObjectType::kEndpoint);
  uint64_t badged = mint(payload, Rights::kWrite, 0x5150);
  uint64_t dest = slot();
  start(receiver_then_use, 0, Job{transport, e.cnode, dest, 64, 78});
  settle();
  const uint64_t caps[] = {badged};
  CHECK_STATUS(sys::send(transport, with_caps(1, 0, caps, 1)), Status::kOk);
  settle();
  CHECK(g_seen[0].extra_caps == 1 && g_seen[0].unwrapped == 0);
  sys::CapInfo got = describe(dest);
  CHECK(got.type == CapType::kEndpoint);
  CHECK(got.rights == Rights{Rights::kWrite});
  CHECK(got.data == 0x5150);
  // The receiver's message through it carries the badge.
  Message m;
  CHECK_STATUS(sys::nb_recv(payload, m), Status::kOk);
  CHECK(m.label == 78 && m.badge == 0x5150);
}

KTEST(cap_transfer_of_a_badged_capability_to_the_same_endpoint_unwraps_it) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t badged = mint(ep, kAll, 0x77);
  uint64_t dest0 = slot();
  uint64_t dest1 = slot();
  start(receiver, 0, Job{ep, e.cnode, dest0, 64, 0});
  start(receiver, 1, Job{ep, e.cnode, dest1, 64, 0});
  settle();
  // Through the endpoint itself: the receiver gets the badge, not a capability.
  const uint64_t caps0[] = {badged};
  CHECK_STATUS(sys::send(ep, with_caps(2, 0, caps0, 1)), Status::kOk);
  // An unbadged capability to the same endpoint has no badge to give: it is copied.
  const uint64_t caps1[] = {ep};
  CHECK_STATUS(sys::send(badged, with_caps(3, 0, caps1, 1)), Status::kOk);
  settle();
  CHECK(g_seen[0].done == 1 && g_seen[0].label == 2);
  CHECK(g_seen[0].extra_caps == 1);
  CHECK(g_seen[0].unwrapped == 1);
  CHECK(g_seen[0].caps[0] == 0x77);
  CHECK(describe(dest0).type == CapType::kNull);
  CHECK(g_seen[1].done == 1 && g_seen[1].label == 3);
  CHECK(g_seen[1].extra_caps == 1);
  CHECK(g_seen[1].unwrapped == 0);
  CHECK(same_object(dest1, ep));
}

KTEST(cap_transfer_delivers_at_most_one_capability_besides_unwrapped_badges) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t badged = mint(ep, kAll, 0x99);
  uint64_t p = make(abi::ObjectType::kEndpoint);
  uint64_t q = make(abi::ObjectType::kEndpoint);
  uint64_t dest = slot();
  start(receiver, 0, Job{ep, e.cnode, dest, 64, 0});
  settle();
  // An unwrapped badge, a capability for the receive slot, and one more with no slot left:
  // transfer stops there, and the count says so.
  const uint64_t caps[] = {badged, p, q};
  CHECK_STATUS(sys::send(ep, with_caps(4, 0, caps, 3)), Status::kOk);
  settle();
  CHECK(g_seen[0].done == 1);
  CHECK(g_seen[0].extra_caps == 2);
  CHECK(g_seen[0].unwrapped == 1);
  CHECK(g_seen[0].caps[0] == 0x99);
  CHECK(same_object(dest, p));
  // A capability that does not resolve stops the transfer at once; the message still goes.
  uint64_t dest2 = slot();
  uint64_t empty = slot();
  start(receiver, 1, Job{ep, e.cnode, dest2, 64, 0});
  settle();
  const uint64_t caps2[] = {empty, q};
  CHECK_STATUS(sys::send(ep, with_caps(5, 0, caps2, 2)), Status::kOk);
  settle();
  CHECK(g_seen[1].done == 1 && g_seen[1].label == 5);
  CHECK(g_seen[1].extra_caps == 0);
  CHECK(describe(dest2).type == CapType::kNull);
}

KTEST(cap_transfer_without_grant_is_refused) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t no_grant = mint(ep, Rights::kRead | Rights::kWrite | Rights::kGrantReply);
  uint64_t payload = make(abi::ObjectType::kEndpoint);
  uint64_t dest = slot();
  // A receiver waits, so a wrongly accepted send completes instead of blocking the root.
  start(receiver, 0, Job{ep, e.cnode, dest, 64, 0});
  settle();
  const uint64_t caps[] = {payload};
  CHECK_STATUS(sys::send(no_grant, with_caps(1, 0, caps, 1)), Status::kInvalidCapability);
  CHECK_STATUS(sys::nb_send(no_grant, with_caps(1, 0, caps, 1)), Status::kInvalidCapability);
  Message m = with_caps(1, 0, caps, 1);
  CHECK_STATUS(sys::call(no_grant, m), Status::kInvalidCapability);
  settle();
  CHECK(g_seen[0].done == 0);
  CHECK(describe(dest).type == CapType::kNull);
  // Without capabilities the same capability sends fine.
  CHECK_STATUS(sys::send(no_grant, Message::make(2, {})), Status::kOk);
  settle();
  CHECK(g_seen[0].done == 1 && g_seen[0].label == 2 && g_seen[0].extra_caps == 0);
  CHECK(describe(dest).type == CapType::kNull);
}

KTEST(cap_transfer_needs_an_empty_receive_slot) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t payload = make(abi::ObjectType::kEndpoint);
  uint64_t occupied = make(abi::ObjectType::kEndpoint);
  uint64_t unused = slot();
  // No receive slot at all (depth 0); an occupied one; and a "CNode" that is an endpoint.
  start(receiver, 0, Job{ep, 0, 0, 0, 0});
  settle();
  start(receiver, 1, Job{ep, e.cnode, occupied, 64, 0});
  settle();
  start(receiver, 2, Job{ep, ep, 0, 64, 0});
  settle();
  const uint64_t caps[] = {payload};
  for (uint64_t i = 0; i < 3; ++i) {
    CHECK_STATUS(sys::send(ep, with_caps(10 + i, 100 + i, caps, 1)), Status::kOk);
  }
  settle();
  for (uint64_t i = 0; i < 3; ++i) {
    CHECK(g_seen[i].done == 1);
    CHECK(g_seen[i].label == 10 + i && g_seen[i].word0 == 100 + i);
    CHECK(g_seen[i].extra_caps == 0);
  }
  // The occupied slot kept what it had.
  CHECK(describe(occupied).type == CapType::kEndpoint && !same_object(occupied, payload));
  CHECK(describe(unused).type == CapType::kNull);
}

// As in seL4, whether a reply may carry capabilities depends on the grant right of the
// capability the server received the Call through.
KTEST(cap_transfer_in_a_reply_needs_grant_on_the_receivers_capability) {
  reset();
  Env& e = env();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t receive_no_grant = mint(ep, Rights::kRead);
  uint64_t payload = make(abi::ObjectType::kEndpoint);
  uint64_t dest0 = slot();
  uint64_t dest1 = slot();
  start(caller, 0, Job{ep, e.cnode, dest0, 64, 1});
  settle();
  start(caller, 1, Job{ep, e.cnode, dest1, 64, 2});
  settle();
  const uint64_t caps[] = {payload};
  // Received through a capability with grant: the reply may carry a capability.
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK(m.label == 1);
  CHECK_STATUS(sys::reply(with_caps(21, 0, caps, 1)), Status::kOk);
  // Received through one without: a reply with capabilities is refused and the caller keeps
  // waiting for a proper one.
  CHECK_STATUS(sys::nb_recv(receive_no_grant, m), Status::kOk);
  CHECK(m.label == 2);
  CHECK_STATUS(sys::reply(with_caps(22, 0, caps, 1)), Status::kInvalidCapability);
  settle();
  CHECK(g_seen[1].done == 0);
  CHECK_STATUS(sys::reply(Message::make(23, {})), Status::kOk);
  settle();
  CHECK(g_seen[0].done == 1 && g_seen[0].label == 21);
  CHECK(g_seen[0].extra_caps == 1);
  CHECK(same_object(dest0, payload));
  CHECK(g_seen[1].done == 1 && g_seen[1].label == 23);
  CHECK(g_seen[1].extra_caps == 0);
  CHECK(describe(dest1).type == CapType::kNull);
}

KTEST(cap_transfer_to_the_root_task) {
  reset();
  uint64_t ep = make(abi::ObjectType::kEndpoint);
  uint64_t payload = make(abi::ObjectType::kEndpoint);
  uint64_t dest = slot();
  RootReceiveSlot receive(dest);
  // A thread sends a capability from the shared CSpace; the root receives it.
  uint64_t sender_slot = mint(payload, Rights::kWrite | Rights::kGrant, 0xAB);
  g_job[0] = Job{ep, 0, 0, 0, 0};
  struct Local {
    static void send_cap(uint64_t cap) {
      const uint64_t caps[] = {cap};
      (void)sys::send(g_job[0].ep, with_caps(31, 0, caps, 1));
    }
  };
  REQUIRE_OK(spawn(Local::send_cap, sender_slot, {100, 0}));
  settle();
  Message m;
  CHECK_STATUS(sys::nb_recv(ep, m), Status::kOk);
  CHECK(m.label == 31 && m.extra_caps == 1 && m.unwrapped == 0);
  sys::CapInfo got = describe(dest);
  CHECK(got.type == CapType::kEndpoint && got.data == 0xAB);
  CHECK(got.rights == Rights{static_cast<uint8_t>(Rights::kWrite | Rights::kGrant)});
}

// --- between address spaces ----------------------------------------------------------------------

namespace {

// Slots in the CSpaces of the two processes below.
enum ProcessSlot : uint64_t {
  kPInbox = 2,      // Where the process receives.
  kPCNode = 3,      // Its own CSpace root, for naming its receive slot.
  kPResults = 4,    // The root's results endpoint (process A only).
  kPReceived = 10,  // Where a received capability lands.
};

// Process B: serves one Call on its inbox (word 0 tripled), keeping the capability that comes
// with it, then reports to the root through that capability: the caller's badge, how many
// capabilities came, and the word it was asked about.
void process_b(uint64_t) {
  sys::set_receive_slot(kPCNode, kPReceived, 64);
  Message m;
  if (sys::recv(kPInbox, m) != Status::kOk) {
    return;
  }
  uint64_t badge = m.badge;
  uint64_t caps = m.extra_caps;
  uint64_t word = m.words[0];
  (void)sys::reply(Message::make(0xB1, {word * 3}));
  (void)sys::send(kPReceived, Message::make(0xB, {badge, caps, word}));
}

// Process A: receives an endpoint to B from the root, calls B through it (sending B its own
// capability to the root's results endpoint), and reports B's answer to the root.
void process_a(uint64_t) {
  sys::set_receive_slot(kPCNode, kPReceived, 64);
  Message m;
  if (sys::recv(kPInbox, m) != Status::kOk) {
    return;
  }
  uint64_t got = m.extra_caps;
  Message c = Message::make(0xA1, {14});
  c.extra_caps = 1;
  c.caps[0] = kPResults;
  Status s = sys::call(kPReceived, c);
  (void)sys::send(kPResults,
                  Message::make(0xA, {got, static_cast<uint64_t>(s), c.label, c.words[0]}));
}

}  // namespace

KTEST(cap_transfer_between_processes_lets_them_talk) {
  uint64_t inbox_a = make(abi::ObjectType::kEndpoint);
  uint64_t inbox_b = make(abi::ObjectType::kEndpoint);
  uint64_t results = make(abi::ObjectType::kEndpoint);
  // A's way to B is badged, so B can tell who calls.
  uint64_t b_for_a = mint(inbox_b, kAll, 0xA);
  Process b = REQUIRE_OK(spawn_process(process_b, 0, 100));
  Process a = REQUIRE_OK(spawn_process(process_a, 0, 100));
  constexpr uint64_t kRadix = 6;
  const uint64_t self = abi::cnode_guard_data(0, 64 - kRadix);
  REQUIRE_OK(give(b, kPInbox, inbox_b, Rights::kRead));
  REQUIRE_OK(give(b, kPCNode, b.cnode, kAll, self));
  REQUIRE_OK(give(a, kPInbox, inbox_a, Rights::kRead));
  REQUIRE_OK(give(a, kPCNode, a.cnode, kAll, self));
  REQUIRE_OK(give(a, kPResults, results, Rights::kWrite | Rights::kGrant));
  settle();
  const uint64_t caps[] = {b_for_a};
  CHECK_STATUS(sys::send(inbox_a, with_caps(1, 0, caps, 1)), Status::kOk);
  settle();
  // Both processes now wait to report (A first or B first, by label).
  bool from_a = false;
  bool from_b = false;
  for (int k = 0; k < 2; ++k) {
    Message m;
    if (sys::nb_recv(results, m) != Status::kOk) {
      CHECK(!"a report from each process");
      break;
    }
    if (m.label == 0xA) {
      from_a = true;
      CHECK(m.words[0] == 1);                                 // A got the endpoint.
      CHECK(static_cast<Status>(m.words[1]) == Status::kOk);  // Its Call to B worked.
      CHECK(m.words[2] == 0xB1 && m.words[3] == 42);          // B's answer.
    } else if (m.label == 0xB) {
      from_b = true;
      CHECK(m.words[0] == 0xA);  // B saw A's badge,
      CHECK(m.words[1] == 1);    // got A's capability to the results endpoint,
      CHECK(m.words[2] == 14);   // and the question.
      CHECK(m.badge == 0);       // It reports through that unbadged capability.
    } else {
      CHECK(!"a report with a known label");
    }
  }
  CHECK(from_a && from_b);
}

}  // namespace ktest
