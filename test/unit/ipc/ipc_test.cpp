// SPDX-License-Identifier: MIT
//
// Unit tests for the IPC state machine, driven the way user threads drive it: a thread's
// registers are filled in as the syscall instruction would leave them and handle_syscall runs
// with that thread current. Threads, endpoints and frames are real kernel objects, retyped from
// the test system's untyped memory, so capability lookups, rights, reply capabilities and
// deletion all take their real paths.
#include <abi/fault.hpp>
#include <abi/message.hpp>
#include <abi/registers.hpp>
#include <abi/syscall.hpp>

#include "../support/arch_stub.hpp"
#include "../support/arena.hpp"
#include "core/sched.hpp"
#include "ipc/message.hpp"
#include "mem/phys.hpp"
#include "object/delete.hpp"
#include "object/endpoint.hpp"
#include "object/irq.hpp"
#include "object/tcb.hpp"
#include "syscall/dispatch.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using abi::Label;
using abi::MessageInfo;
using abi::ObjectType;
using abi::Rights;
using abi::Status;
using abi::Syscall;
using keel::test::arch_log;
using keel::test::test_scheduler;
using keel::test::TestSystem;
using kernel::Endpoint;
using kernel::EndpointState;
using kernel::Tcb;
using kernel::ThreadState;

constexpr uint64_t kBufferBase = 0x10000000;  // Where the test threads "map" IPC buffers.

struct Thread {
  uint64_t cap = 0;  // TCB capability (a root CNode slot).
  Tcb* tcb = nullptr;
  uint64_t frame = 0;  // IPC buffer frame capability, or 0.
  abi::IpcBuffer* buf = nullptr;
};

// A test system with an address space that threads can be resumed in, and helpers to make the
// objects IPC tests need.
class Env {
 public:
  TestSystem sys;

  Env() {
    ut_ = sys.ram_untyped(20);
    uint64_t pool_ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
    pool_ = sys.next_free();
    REQUIRE(sys.invoke(abi::kSlotAsidControl, Label::kAsidControlMakePool,
                       {pool_ut, abi::kSlotInitCNode, pool_, 64})
                .ok());
    pml4_ = make(ObjectType::kPml4);
    REQUIRE(sys.invoke(pool_, Label::kAsidPoolAssign, {pml4_}).ok());
  }

  uint64_t make(ObjectType type, uint64_t size_bits = 0) {
    uint64_t slot = sys.next_free();
    REQUIRE(sys.retype(ut_, type, size_bits, slot) == Status::kOk);
    return slot;
  }
  uint64_t endpoint() { return make(ObjectType::kEndpoint); }
  Endpoint* ep(uint64_t cptr) {
    return kernel::mem::phys_to<Endpoint>(sys.slot(cptr)->cap.object());
  }
  uint64_t copy(uint64_t src, uint8_t rights) {
    uint64_t slot = sys.next_free();
    REQUIRE(sys.copy(slot, src, rights) == Status::kOk);
    return slot;
  }
  uint64_t mint(uint64_t src, uint8_t rights, uint64_t badge) {
    uint64_t slot = sys.next_free();
    REQUIRE(sys.mint(slot, src, rights, badge) == Status::kOk);
    return slot;
  }

  // A resumed thread (runnable, in the ready queue) whose CSpace is the root CNode, so that its
  // cptrs are the test system's slot numbers.
  Thread thread(bool with_buffer = false, uint64_t fault_ep = 0, uint8_t priority = 0,
                uint64_t buffer_offset = 0) {
    Thread t;
    t.cap = make(ObjectType::kTcb);
    t.tcb = kernel::mem::phys_to<Tcb>(sys.slot(t.cap)->cap.object());
    uint64_t vaddr = 0;
    if (with_buffer) {
      t.frame = make(ObjectType::kFrame4K);
      vaddr = kBufferBase + threads_.size() * 0x1000 + buffer_offset;
    }
    REQUIRE(sys.invoke(t.cap, Label::kTcbConfigure,
                       {fault_ep, abi::kSlotInitCNode, 0, pml4_, vaddr, t.frame})
                .ok());
    if (with_buffer) {
      t.buf = kernel::mem::phys_to<abi::IpcBuffer>(sys.slot(t.frame)->cap.object() + buffer_offset);
      REQUIRE(kernel::ipc_buffer_of(t.tcb) == t.buf);
    }
    t.tcb->priority = priority;
    REQUIRE(sys.invoke(t.cap, Label::kTcbResume, {}).ok());
    REQUIRE(t.tcb->state == ThreadState::kRunnable);
    threads_.push_back(t.tcb);
    return t;
  }

  // Every runnable thread other than the current one waits in the ready queue; no other does.
  bool scheduler_consistent() const {
    kernel::Scheduler& s = test_scheduler();
    for (Tcb* t : threads_) {
      bool should_queue = t->state == ThreadState::kRunnable && t != s.current();
      if ((t->in_ready_queue != 0) != should_queue || s.queue_contains(t) != should_queue) {
        return false;
      }
    }
    return true;
  }

  // A thread the test destroys leaves the consistency check.
  void forget(const Tcb* t) {
    threads_.erase(std::remove(threads_.begin(), threads_.end(), t), threads_.end());
  }

 private:
  uint64_t ut_ = 0;
  uint64_t pool_ = 0;
  uint64_t pml4_ = 0;
  std::vector<Tcb*> threads_;
};

// Makes `t` the scheduler's current thread, as if it had been picked to run: it leaves the
// ready queue, and a previous current thread that can still run goes back into it.
void make_current(Tcb* t) {
  kernel::Scheduler& s = test_scheduler();
  Tcb* old = s.current();
  if (old == t) {
    return;
  }
  s.remove(t);
  s.set_current(t);
  if (old != s.idle() && old->state == ThreadState::kRunnable) {
    s.wake(old);
  }
}

// Loads a message into a thread's registers and IPC buffer, as libsys would.
void load_words(Tcb* t, const std::vector<uint64_t>& words) {
  abi::IpcBuffer* buf = kernel::ipc_buffer_of(t);
  for (uint64_t i = 0; i < words.size(); ++i) {
    kernel::set_mr(t, buf, i, words[i]);
  }
}

// Thread `t` executes system call `number` on `cptr` with `info` and `words`. Returns the
// message info it has afterwards (meaningful only if it did not block).
MessageInfo syscall_raw(const Thread& t, int64_t number, uint64_t cptr, MessageInfo info,
                        const std::vector<uint64_t>& words = {}) {
  make_current(t.tcb);
  t.tcb->context.rax = static_cast<uint64_t>(number);
  t.tcb->context.rdi = cptr;
  t.tcb->context.rsi = info.word;
  load_words(t.tcb, words);
  kernel::handle_syscall(t.tcb);
  return {t.tcb->context.rsi};
}

MessageInfo syscall(const Thread& t, Syscall number, uint64_t cptr, uint64_t label = 0,
                    const std::vector<uint64_t>& words = {}, uint64_t extra_caps = 0) {
  return syscall_raw(t, static_cast<int64_t>(number), cptr,
                     MessageInfo::make(label, words.size(), extra_caps), words);
}

// The message a thread holds: the words its message info announces.
std::vector<uint64_t> words_of(const Thread& t) {
  MessageInfo info{t.tcb->context.rsi};
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < info.length(); ++i) {
    out.push_back(kernel::get_mr(t.tcb, kernel::ipc_buffer_of(t.tcb), i));
  }
  return out;
}

MessageInfo info_of(const Thread& t) {
  return {t.tcb->context.rsi};
}

bool failed_with(const Thread& t, Status s) {
  MessageInfo info = info_of(t);
  return info.is_error() && info.label() == static_cast<uint64_t>(s);
}

bool succeeded(const Thread& t) {
  return info_of(t).word == MessageInfo::make(0, 0).word;
}

uint64_t kernel_label(abi::KernelLabel l) {
  return static_cast<uint64_t>(l);
}

bool logged(const std::string& text) {
  for (const std::string& line : arch_log().log_lines) {
    if (line.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::vector<uint64_t> iota_words(uint64_t n, uint64_t base) {
  std::vector<uint64_t> w(n);
  for (uint64_t i = 0; i < n; ++i) {
    w[i] = base + i;
  }
  return w;
}

}  // namespace

// --- send, receive, call, reply ----------------------------------------------------------------

TEST_CASE("ipc: Send blocks without a receiver and completes when one arrives", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  uint64_t badged = env.mint(ep, Rights::kAllBits, 0x55);
  Thread a = env.thread();
  Thread b = env.thread();

  syscall(a, Syscall::kSend, badged, 7, {11, 22, 33});
  CHECK(a.tcb->state == ThreadState::kBlockedOnSend);
  CHECK(a.tcb->blocked_on == env.ep(ep));
  CHECK(env.ep(ep)->state == EndpointState::kSending);
  CHECK(env.ep(ep)->head == a.tcb);

  MessageInfo got = syscall(b, Syscall::kRecv, ep);
  CHECK_FALSE(got.is_error());
  CHECK(got.label() == 7);
  CHECK(got.length() == 3);
  CHECK(words_of(b) == std::vector<uint64_t>{11, 22, 33});
  CHECK(b.tcb->context.rdi == 0x55);
  CHECK(b.tcb->state == ThreadState::kRunnable);

  CHECK(a.tcb->state == ThreadState::kRunnable);
  CHECK(succeeded(a));
  CHECK(a.tcb->blocked_on == nullptr);
  CHECK(env.ep(ep)->state == EndpointState::kIdle);
  CHECK(env.ep(ep)->head == nullptr);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: Recv blocks and completes when a sender arrives", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread a = env.thread();
  Thread b = env.thread();

  syscall(b, Syscall::kRecv, ep);
  CHECK(b.tcb->state == ThreadState::kBlockedOnReceive);
  CHECK(env.ep(ep)->state == EndpointState::kReceiving);

  CHECK(syscall(a, Syscall::kSend, ep, 0x1234, {1, 2, 3, 4}).word == MessageInfo::make(0, 0).word);
  CHECK(a.tcb->state == ThreadState::kRunnable);
  CHECK(b.tcb->state == ThreadState::kRunnable);
  CHECK(b.tcb->in_ready_queue == 1);
  CHECK(info_of(b).label() == 0x1234);
  CHECK(words_of(b) == std::vector<uint64_t>{1, 2, 3, 4});
  CHECK(b.tcb->context.rdi == 0);  // Unbadged.
  CHECK(env.ep(ep)->state == EndpointState::kIdle);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: senders queue in FIFO order with their own badges", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  std::vector<Thread> senders;
  for (uint64_t i = 0; i < 3; ++i) {
    senders.push_back(env.thread());
    syscall(senders.back(), Syscall::kSend, env.mint(ep, Rights::kWrite, 100 + i), i, {i});
  }
  Thread r = env.thread();
  for (uint64_t i = 0; i < 3; ++i) {
    syscall(r, Syscall::kRecv, ep);
    CHECK(info_of(r).label() == i);
    CHECK(words_of(r) == std::vector<uint64_t>{i});
    CHECK(r.tcb->context.rdi == 100 + i);
    CHECK(senders[i].tcb->state == ThreadState::kRunnable);
  }
  CHECK(env.ep(ep)->state == EndpointState::kIdle);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: a receiver woken at a higher priority runs at once", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread low = env.thread(false, 0, 3);
  Thread high = env.thread(false, 0, 9);
  syscall(high, Syscall::kRecv, ep);
  kernel::Scheduler& s = test_scheduler();
  s.schedule();
  REQUIRE(s.current() == low.tcb);
  syscall(low, Syscall::kSend, ep, 1);
  CHECK(s.schedule());
  CHECK(s.current() == high.tcb);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: Call makes a reply capability and Reply answers it", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread server = env.thread();
  Thread bystander = env.thread();
  Thread client = env.thread();
  kernel::Scheduler& s = test_scheduler();

  SECTION("the server is waiting") {
    syscall(server, Syscall::kRecv, ep);
    REQUIRE(server.tcb->state == ThreadState::kBlockedOnReceive);
    syscall(client, Syscall::kCall, ep, 5, {1, 2});
    CHECK(server.tcb->state == ThreadState::kRunnable);
    // The server is the client's direct successor, ahead of a peer that was ready first.
    REQUIRE(bystander.tcb->in_ready_queue == 1);
    s.schedule();
    CHECK(s.current() == server.tcb);
  }
  SECTION("the server comes later") {
    syscall(client, Syscall::kCall, ep, 5, {1, 2});
    CHECK(client.tcb->state == ThreadState::kBlockedOnSend);
    CHECK((client.tcb->ipc_flags & kernel::kIpcIsCall) != 0);
    syscall(server, Syscall::kRecv, ep);
  }
  CHECK(info_of(server).label() == 5);
  CHECK(words_of(server) == std::vector<uint64_t>{1, 2});
  CHECK(client.tcb->state == ThreadState::kBlockedOnReply);
  CHECK(client.tcb->in_ready_queue == 0);
  const kernel::Slot& reply = server.tcb->slots[kernel::kTcbCallerSlot];
  REQUIRE(reply.cap.type() == abi::CapType::kReply);
  CHECK(reply.cap.object() == kernel::mem::to_phys(client.tcb));
  CHECK_FALSE(reply.cap.reply_is_master());
  CHECK(env.sys.check_invariants() == nullptr);

  CHECK(syscall(server, Syscall::kReply, 0, 9, {42}).word == MessageInfo::make(0, 0).word);
  CHECK(client.tcb->state == ThreadState::kRunnable);
  CHECK(info_of(client).word == MessageInfo::make(9, 1).word);
  CHECK(words_of(client) == std::vector<uint64_t>{42});
  CHECK(client.tcb->context.rdi == 0);
  CHECK(server.tcb->slots[kernel::kTcbCallerSlot].empty());

  // The reply capability was one-shot.
  syscall(server, Syscall::kReply, 0, 9, {43});
  CHECK(failed_with(server, Status::kNoReplyTarget));
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: ReplyRecv answers one caller and takes the next", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread server = env.thread();
  Thread c1 = env.thread();
  Thread c2 = env.thread();

  syscall(server, Syscall::kRecv, ep);
  syscall(c1, Syscall::kCall, ep, 1, {10});
  syscall(c2, Syscall::kCall, ep, 2, {20});
  REQUIRE(c2.tcb->state == ThreadState::kBlockedOnSend);

  // Reply to c1, then receive c2's call without blocking.
  syscall(server, Syscall::kReplyRecv, ep, 0, {11});
  CHECK(c1.tcb->state == ThreadState::kRunnable);
  CHECK(words_of(c1) == std::vector<uint64_t>{11});
  CHECK(server.tcb->state == ThreadState::kRunnable);
  CHECK(info_of(server).label() == 2);
  CHECK(words_of(server) == std::vector<uint64_t>{20});
  CHECK(c2.tcb->state == ThreadState::kBlockedOnReply);
  CHECK(server.tcb->slots[kernel::kTcbCallerSlot].cap.object() == kernel::mem::to_phys(c2.tcb));

  // Reply to c2, then block: nobody else is calling.
  syscall(server, Syscall::kReplyRecv, ep, 0, {21});
  CHECK(words_of(c2) == std::vector<uint64_t>{21});
  CHECK(c2.tcb->state == ThreadState::kRunnable);
  CHECK(server.tcb->state == ThreadState::kBlockedOnReceive);
  CHECK(server.tcb->slots[kernel::kTcbCallerSlot].empty());

  // Without a caller ReplyRecv simply receives.
  syscall(c1, Syscall::kSend, ep, 3);
  CHECK(info_of(server).label() == 3);
  syscall(server, Syscall::kReplyRecv, ep);
  CHECK(server.tcb->state == ThreadState::kBlockedOnReceive);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: NBSend and NBRecv time out without a partner", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread a = env.thread();
  Thread b = env.thread();

  MessageInfo r = syscall(a, Syscall::kNBSend, ep, 1, {5});
  CHECK(r.is_error());
  CHECK(r.label() == static_cast<uint64_t>(Status::kTimedOut));
  CHECK(a.tcb->state == ThreadState::kRunnable);
  CHECK(env.ep(ep)->state == EndpointState::kIdle);

  r = syscall(b, Syscall::kNBRecv, ep);
  CHECK(r.is_error());
  CHECK(r.label() == static_cast<uint64_t>(Status::kTimedOut));
  CHECK(b.tcb->state == ThreadState::kRunnable);
  CHECK(env.ep(ep)->head == nullptr);

  // With a partner waiting they succeed.
  syscall(b, Syscall::kRecv, ep);
  CHECK(syscall(a, Syscall::kNBSend, ep, 1, {5}).word == MessageInfo::make(0, 0).word);
  CHECK(words_of(b) == std::vector<uint64_t>{5});
  syscall(a, Syscall::kSend, ep, 2, {6});
  CHECK(syscall(b, Syscall::kNBRecv, ep).label() == 2);
  CHECK(a.tcb->state == ThreadState::kRunnable);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: Yield returns success and gives way to a peer", "[ipc]") {
  Env env;
  Thread a = env.thread();
  Thread b = env.thread();
  CHECK(syscall(a, Syscall::kYield, 0).word == MessageInfo::make(0, 0).word);
  CHECK(test_scheduler().schedule());
  CHECK(test_scheduler().current() == b.tcb);
  CHECK(a.tcb->in_ready_queue == 1);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

// --- errors ------------------------------------------------------------------------------------

TEST_CASE("ipc: system call errors leave the caller runnable and the endpoint idle", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread a = env.thread();
  Thread other = env.thread();
  Status expected = Status::kOk;

  SECTION("Send on a capability that is not an endpoint") {
    syscall(a, Syscall::kSend, other.cap, 1);
    expected = Status::kInvalidCapability;
  }
  SECTION("Recv on a capability that is not an endpoint") {
    syscall(a, Syscall::kRecv, other.cap);
    expected = Status::kInvalidCapability;
  }
  SECTION("Send without the write right") {
    syscall(a, Syscall::kSend, env.copy(ep, Rights::kAllBits & ~Rights::kWrite), 1);
    expected = Status::kInvalidCapability;
  }
  SECTION("NBSend without the write right") {
    syscall(a, Syscall::kNBSend, env.copy(ep, Rights::kRead), 1);
    expected = Status::kInvalidCapability;
  }
  SECTION("Recv without the read right") {
    syscall(a, Syscall::kRecv, env.copy(ep, Rights::kAllBits & ~Rights::kRead));
    expected = Status::kInvalidCapability;
  }
  SECTION("ReplyRecv without the read right") {
    syscall(a, Syscall::kReplyRecv, env.copy(ep, Rights::kWrite));
    expected = Status::kInvalidCapability;
  }
  SECTION("Call without the grant-reply right") {
    syscall(a, Syscall::kCall, env.copy(ep, Rights::kAllBits & ~Rights::kGrantReply), 1);
    expected = Status::kInvalidCapability;
  }
  SECTION("Call without the write right") {
    syscall(a, Syscall::kCall, env.copy(ep, Rights::kRead | Rights::kGrantReply), 1);
    expected = Status::kInvalidCapability;
  }
  SECTION("Send on an empty slot") {
    syscall(a, Syscall::kSend, env.sys.next_free(), 1);
    expected = Status::kEmptySlot;
  }
  SECTION("Recv on an empty slot") {
    syscall(a, Syscall::kRecv, env.sys.next_free());
    expected = Status::kEmptySlot;
  }
  SECTION("a cptr outside the CSpace") {
    syscall(a, Syscall::kSend, uint64_t{1} << 40, 1);
    expected = Status::kGuardMismatch;
  }
  SECTION("a message longer than 120 words") {
    syscall_raw(a, static_cast<int64_t>(Syscall::kSend), ep, MessageInfo::make(1, 121));
    expected = Status::kInvalidMessage;
  }
  SECTION("the longest length field") {
    syscall_raw(a, static_cast<int64_t>(Syscall::kCall), ep, MessageInfo::make(1, 127));
    expected = Status::kInvalidMessage;
  }
  SECTION("more words than registers without an IPC buffer") {
    syscall(a, Syscall::kSend, ep, 1, {1, 2, 3, 4, 5});
    expected = Status::kUnmappedBuffer;
  }
  SECTION("capabilities without the grant right") {
    Thread b = env.thread(true);
    syscall(b, Syscall::kSend, env.copy(ep, Rights::kWrite), 1, {}, 1);
    CHECK(failed_with(b, Status::kInvalidCapability));
    CHECK(b.tcb->state == ThreadState::kRunnable);
    syscall(a, Syscall::kNBRecv, ep);
    expected = Status::kTimedOut;
  }
  SECTION("capabilities without an IPC buffer") {
    syscall(a, Syscall::kSend, ep, 1, {}, 1);
    expected = Status::kUnmappedBuffer;
  }
  SECTION("Reply with no caller") {
    syscall(a, Syscall::kReply, 0, 1);
    expected = Status::kNoReplyTarget;
  }
  SECTION("a Call to a non-endpoint that is not an invocation") {
    syscall(a, Syscall::kCall, other.cap, 999);
    expected = Status::kIllegalOperation;
  }
  INFO("status " << info_of(a).label());
  CHECK(failed_with(a, expected));
  CHECK(info_of(a).length() == 0);
  CHECK(a.tcb->state == ThreadState::kRunnable);
  CHECK(env.ep(ep)->state == EndpointState::kIdle);
  CHECK(env.ep(ep)->head == nullptr);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

// --- long messages and capability transfer -----------------------------------------------------

TEST_CASE("ipc: 120-word messages travel through the IPC buffers", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread a = env.thread(true);
  Thread b = env.thread(true, 0, 0, 0x400);  // The buffer need not start the frame.
  const std::vector<uint64_t> words = iota_words(abi::kMaxMessageWords, 0xA000);

  syscall(b, Syscall::kRecv, ep);
  syscall(a, Syscall::kSend, ep, 77, words);
  CHECK(info_of(b).length() == abi::kMaxMessageWords);
  CHECK(info_of(b).label() == 77);
  CHECK(words_of(b) == words);
  // Words past the registers are in the receiver's buffer, where its frame holds it.
  CHECK(b.buf->msg[4] == 0xA004);
  CHECK(b.buf->msg[abi::kMaxMessageWords - 1] == 0xA000 + abi::kMaxMessageWords - 1);

  SECTION("a Call and its reply") {
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kCall, ep, 1, words);
    CHECK(words_of(b) == words);
    const std::vector<uint64_t> answer = iota_words(abi::kMaxMessageWords, 0xB000);
    syscall(b, Syscall::kReply, 0, 2, answer);
    CHECK(words_of(a) == answer);
    CHECK(info_of(a).label() == 2);
  }
  SECTION("a receiver without a buffer gets the registers only") {
    Thread c = env.thread();
    syscall(a, Syscall::kSend, ep, 78, words);
    syscall(c, Syscall::kRecv, ep);
    CHECK(info_of(c).length() == abi::kMessageRegisters);
    CHECK(words_of(c) == std::vector<uint64_t>(words.begin(), words.begin() + 4));
  }
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

// A blocked sender's words beyond the registers are read from its IPC buffer when a receiver
// comes. If the buffer went away meanwhile (TcbConfigure without one, or its frame capability
// revoked), only the registers arrive and the receiver is told so (it was once told the full
// length and read stale words from its own buffer).
TEST_CASE("ipc: a sender whose IPC buffer went away delivers only what it still has", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread a = env.thread(true);
  Thread b = env.thread(true);
  syscall(a, Syscall::kSend, ep, 1, iota_words(10, 0xA000));
  REQUIRE(a.tcb->state == ThreadState::kBlockedOnSend);
  REQUIRE(env.sys.invoke(a.cap, Label::kTcbConfigure, {0, abi::kSlotInitCNode, 0, 0, 0, 0}).ok());
  REQUIRE(kernel::ipc_buffer_of(a.tcb) == nullptr);
  b.buf->msg[4] = 0x57A1E;  // Left over from an earlier message.

  syscall(b, Syscall::kRecv, ep);
  CHECK(a.tcb->state == ThreadState::kRunnable);
  const std::vector<uint64_t> got = words_of(b);
  INFO("received " << got.size() << " words");
  CHECK(std::find(got.begin(), got.end(), 0x57A1E) == got.end());
  CHECK(info_of(b).length() == abi::kMessageRegisters);
}

TEST_CASE("ipc: capabilities move with the grant right", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  uint64_t other_ep = env.endpoint();
  Thread a = env.thread(true);
  Thread b = env.thread(true);
  uint64_t receive_slot = env.sys.next_free();
  b.buf->receive_cnode = abi::kSlotInitCNode;
  b.buf->receive_index = receive_slot;
  b.buf->receive_depth = 64;

  SECTION("a capability is copied into the receive slot") {
    a.buf->caps_or_badges[0] = other_ep;
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kSend, ep, 1, {9}, 1);
    CHECK(succeeded(a));
    CHECK(info_of(b).extra_caps() == 1);
    CHECK(info_of(b).unwrapped() == 0);
    CHECK(words_of(b) == std::vector<uint64_t>{9});
    REQUIRE(env.sys.slot(receive_slot)->cap.type() == abi::CapType::kEndpoint);
    CHECK(env.sys.slot(receive_slot)->cap.object() == env.sys.slot(other_ep)->cap.object());
    // The sender keeps its own.
    CHECK(env.sys.slot(other_ep)->cap.type() == abi::CapType::kEndpoint);
  }
  SECTION("a badged capability to the same endpoint arrives as its badge") {
    a.buf->caps_or_badges[0] = env.mint(ep, Rights::kAllBits, 0xBAD6E);
    syscall(a, Syscall::kSend, ep, 1, {}, 1);
    syscall(b, Syscall::kRecv, ep);
    CHECK(info_of(b).extra_caps() == 1);
    CHECK(info_of(b).unwrapped() == 1);
    CHECK(b.buf->caps_or_badges[0] == 0xBAD6E);
    CHECK(env.sys.slot(receive_slot)->empty());
  }
  SECTION("unwrapped and copied capabilities mix") {
    a.buf->caps_or_badges[0] = env.mint(ep, Rights::kAllBits, 0x11);
    a.buf->caps_or_badges[1] = other_ep;
    a.buf->caps_or_badges[2] = env.mint(ep, Rights::kAllBits, 0x33);
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kSend, ep, 1, {}, 3);
    CHECK(info_of(b).extra_caps() == 3);
    CHECK(info_of(b).unwrapped() == 0b101);
    CHECK(b.buf->caps_or_badges[0] == 0x11);
    CHECK(b.buf->caps_or_badges[2] == 0x33);
    CHECK(env.sys.slot(receive_slot)->cap.type() == abi::CapType::kEndpoint);
  }
  SECTION("only one capability fits the receive slot") {
    a.buf->caps_or_badges[0] = other_ep;
    a.buf->caps_or_badges[1] = env.endpoint();
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kSend, ep, 1, {}, 2);
    CHECK(info_of(b).extra_caps() == 1);
    CHECK(env.sys.slot(receive_slot)->cap.object() == env.sys.slot(other_ep)->cap.object());
  }
  SECTION("a receiver that accepts none gets none") {
    b.buf->receive_depth = 0;
    a.buf->caps_or_badges[0] = other_ep;
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kSend, ep, 1, {4}, 1);
    CHECK(info_of(b).extra_caps() == 0);
    CHECK(words_of(b) == std::vector<uint64_t>{4});
    CHECK(env.sys.slot(receive_slot)->empty());
  }
  SECTION("an occupied receive slot takes nothing") {
    env.sys.copy(receive_slot, env.endpoint());
    a.buf->caps_or_badges[0] = other_ep;
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kSend, ep, 1, {}, 1);
    CHECK(info_of(b).extra_caps() == 0);
    CHECK(env.sys.slot(receive_slot)->cap.object() != env.sys.slot(other_ep)->cap.object());
  }
  SECTION("an empty source stops the transfer") {
    a.buf->caps_or_badges[0] = env.sys.next_free();
    a.buf->caps_or_badges[1] = other_ep;
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kSend, ep, 1, {}, 2);
    CHECK(info_of(b).extra_caps() == 0);
    CHECK(env.sys.slot(receive_slot)->empty());
  }
  SECTION("without grant the send fails and nothing moves") {
    a.buf->caps_or_badges[0] = other_ep;
    syscall(b, Syscall::kRecv, ep);
    syscall(a, Syscall::kSend, env.copy(ep, Rights::kWrite), 1, {}, 1);
    CHECK(failed_with(a, Status::kInvalidCapability));
    CHECK(b.tcb->state == ThreadState::kBlockedOnReceive);
    CHECK(env.sys.slot(receive_slot)->empty());
  }
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

// As in seL4, whether a reply may carry capabilities back depends on the receiver's endpoint
// capability (its grant right), not on the caller's, whichever of the two came first.
TEST_CASE("ipc: a reply carries capabilities if the receiver's capability has grant", "[ipc]") {
  const bool receiver_grant = GENERATE(true, false);
  const bool server_first = GENERATE(true, false);
  INFO("receiver grant " << receiver_grant << ", server first " << server_first);
  Env env;
  uint64_t ep = env.endpoint();
  uint64_t other_ep = env.endpoint();
  Thread client = env.thread(true);
  Thread server = env.thread(true);
  uint64_t receive_slot = env.sys.next_free();
  client.buf->receive_cnode = abi::kSlotInitCNode;
  client.buf->receive_index = receive_slot;
  client.buf->receive_depth = 64;
  uint64_t server_cap = receiver_grant ? ep : env.copy(ep, Rights::kAllBits & ~Rights::kGrant);
  // The caller's capability lacks grant either way: it matters only for what the Call sends.
  uint64_t client_cap = env.copy(ep, Rights::kWrite | Rights::kGrantReply);

  if (server_first) {
    syscall(server, Syscall::kRecv, server_cap);
    syscall(client, Syscall::kCall, client_cap, 1);
  } else {
    syscall(client, Syscall::kCall, client_cap, 1);
    syscall(server, Syscall::kRecv, server_cap);
  }
  REQUIRE(client.tcb->state == ThreadState::kBlockedOnReply);
  CHECK(server.tcb->slots[kernel::kTcbCallerSlot].cap.reply_can_grant() == receiver_grant);

  server.buf->caps_or_badges[0] = other_ep;
  syscall(server, Syscall::kReply, 0, 2, {}, 1);
  if (receiver_grant) {
    CHECK(succeeded(server));
    CHECK(client.tcb->state == ThreadState::kRunnable);
    CHECK(info_of(client).extra_caps() == 1);
    CHECK(env.sys.slot(receive_slot)->cap.object() == env.sys.slot(other_ep)->cap.object());
  } else {
    CHECK(failed_with(server, Status::kInvalidCapability));
    CHECK(client.tcb->state == ThreadState::kBlockedOnReply);
    CHECK_FALSE(server.tcb->slots[kernel::kTcbCallerSlot].empty());
    CHECK(env.sys.slot(receive_slot)->empty());
    // A reply without capabilities still goes through.
    syscall(server, Syscall::kReply, 0, 3);
    CHECK(client.tcb->state == ThreadState::kRunnable);
    CHECK(info_of(client).label() == 3);
  }
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

// --- destruction and cancellation ---------------------------------------------------------------

TEST_CASE("ipc: deleting an endpoint releases its queue with kDeleted", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread a = env.thread();
  Thread b = env.thread();

  SECTION("senders and callers") {
    syscall(a, Syscall::kSend, ep, 1);
    syscall(b, Syscall::kCall, ep, 1);
  }
  SECTION("receivers") {
    syscall(a, Syscall::kRecv, ep);
    syscall(b, Syscall::kRecv, ep);
  }
  REQUIRE(a.tcb->blocked_on != nullptr);
  REQUIRE(env.sys.del(ep) == Status::kOk);
  for (const Thread* t : {&a, &b}) {
    CHECK(t->tcb->state == ThreadState::kRunnable);
    CHECK(failed_with(*t, Status::kDeleted));
    CHECK(t->tcb->blocked_on == nullptr);
  }
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: a caller whose reply capability goes away gets kDeleted", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread server = env.thread();
  Thread client = env.thread();
  syscall(server, Syscall::kRecv, ep);
  syscall(client, Syscall::kCall, ep, 1);
  REQUIRE(client.tcb->state == ThreadState::kBlockedOnReply);

  SECTION("the reply capability is deleted") {
    kernel::delete_slot(&server.tcb->slots[kernel::kTcbCallerSlot]);
  }
  SECTION("the server takes another Call first (it is waiting)") {
    Thread second = env.thread();
    syscall(server, Syscall::kRecv, ep);
    syscall(second, Syscall::kCall, ep, 2);
    CHECK(second.tcb->state == ThreadState::kBlockedOnReply);
    CHECK(server.tcb->slots[kernel::kTcbCallerSlot].cap.object() ==
          kernel::mem::to_phys(second.tcb));
  }
  SECTION("the server takes another Call first (the caller was queued)") {
    Thread second = env.thread();
    syscall(second, Syscall::kCall, ep, 2);
    syscall(server, Syscall::kRecv, ep);
    CHECK(info_of(server).label() == 2);
    CHECK(second.tcb->state == ThreadState::kBlockedOnReply);
  }
  SECTION("the server thread is destroyed") {
    env.forget(server.tcb);
    REQUIRE(env.sys.del(server.cap) == Status::kOk);
    CHECK(arch_log().threads_destroyed == 1);
  }
  CHECK(client.tcb->state == ThreadState::kRunnable);
  CHECK(failed_with(client, Status::kDeleted));
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: destroying a caller takes its reply capability away", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread server = env.thread();
  Thread client = env.thread();
  syscall(server, Syscall::kRecv, ep);
  syscall(client, Syscall::kCall, ep, 1);
  env.forget(client.tcb);
  REQUIRE(env.sys.del(client.cap) == Status::kOk);
  CHECK(server.tcb->slots[kernel::kTcbCallerSlot].empty());
  syscall(server, Syscall::kReply, 0, 1);
  CHECK(failed_with(server, Status::kNoReplyTarget));
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: suspending a blocked thread cancels its IPC with kCancelled", "[ipc]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread t = env.thread();
  Thread server = env.thread();

  SECTION("blocked on send") {
    syscall(t, Syscall::kSend, ep, 1);
  }
  SECTION("blocked on receive") {
    syscall(t, Syscall::kRecv, ep);
  }
  SECTION("blocked on a Call") {
    syscall(t, Syscall::kCall, ep, 1);
  }
  SECTION("waiting for a reply") {
    syscall(server, Syscall::kRecv, ep);
    syscall(t, Syscall::kCall, ep, 1);
    REQUIRE(t.tcb->state == ThreadState::kBlockedOnReply);
  }
  REQUIRE(env.sys.invoke(t.cap, Label::kTcbSuspend, {}).ok());
  CHECK(t.tcb->state == ThreadState::kInactive);
  CHECK(t.tcb->in_ready_queue == 0);
  CHECK(failed_with(t, Status::kCancelled));
  CHECK(env.ep(ep)->head == nullptr);
  CHECK(env.ep(ep)->state == EndpointState::kIdle);
  // The server's reply capability is gone and it has nobody to answer.
  CHECK(server.tcb->slots[kernel::kTcbCallerSlot].empty());
  syscall(server, Syscall::kReply, 0, 1);
  CHECK(failed_with(server, Status::kNoReplyTarget));
  // Resumed, it returns from the system call with the error.
  REQUIRE(env.sys.invoke(t.cap, Label::kTcbResume, {}).ok());
  CHECK(t.tcb->state == ThreadState::kRunnable);
  CHECK(failed_with(t, Status::kCancelled));
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

// --- faults --------------------------------------------------------------------------------------

TEST_CASE("ipc: a page fault is a Call to the fault endpoint", "[ipc][fault]") {
  Env env;
  uint64_t ep = env.endpoint();
  uint64_t fault_cap = env.mint(ep, Rights::kWrite, 0xF0);
  Thread handler = env.thread();
  Thread t = env.thread(false, fault_cap);
  t.tcb->context.rip = 0x401234;
  t.tcb->context.rsp = 0x7000F000;
  t.tcb->context.rsi = 0x5151;

  // The handler may be waiting already or come later; each resolution is tried with both.
  const bool handler_first = GENERATE(true, false);
  if (handler_first) {
    syscall(handler, Syscall::kRecv, ep);
  }
  make_current(t.tcb);
  kernel::handle_user_fault(t.tcb, kernel::FaultKind::kPageFault, 14, 6, 0xDEAD000);
  if (!handler_first) {
    CHECK(t.tcb->state == ThreadState::kBlockedOnSend);
    CHECK(t.tcb->blocked_on == env.ep(ep));
    syscall(handler, Syscall::kRecv, ep);
  }
  CHECK(info_of(handler).label() == kernel_label(abi::KernelLabel::kPageFault));
  CHECK(words_of(handler) == std::vector<uint64_t>{0xDEAD000, 6, 0x401234});
  CHECK(handler.tcb->context.rdi == 0xF0);
  CHECK(t.tcb->state == ThreadState::kBlockedOnReply);
  CHECK(t.tcb->fault == kernel::FaultKind::kPageFault);
  CHECK(handler.tcb->slots[kernel::kTcbCallerSlot].cap.object() == kernel::mem::to_phys(t.tcb));
  CHECK(env.sys.check_invariants() == nullptr);

  SECTION("kFaultResume resumes it") {
    CHECK(syscall(handler, Syscall::kReply, 0, abi::kFaultResume).word ==
          MessageInfo::make(0, 0).word);
    CHECK(t.tcb->state == ThreadState::kRunnable);
    CHECK(t.tcb->fault == kernel::FaultKind::kNone);
    CHECK(t.tcb->context.rip == 0x401234);
    CHECK(t.tcb->context.rsi == 0x5151);  // A fault is not a system call: no result lands.
  }
  SECTION("kFaultResume with words sets the instruction pointer") {
    syscall(handler, Syscall::kReply, 0, abi::kFaultResume, {0, 0, 0x402000});
    CHECK(t.tcb->state == ThreadState::kRunnable);
    CHECK(t.tcb->context.rip == 0x402000);
  }
  SECTION("kFaultStop leaves it stopped") {
    syscall(handler, Syscall::kReply, 0, abi::kFaultStop);
    CHECK(t.tcb->state == ThreadState::kInactive);
    CHECK(t.tcb->in_ready_queue == 0);
    CHECK(t.tcb->fault == kernel::FaultKind::kNone);
    CHECK(logged("fault handler stopped it"));
  }
  SECTION("an instruction pointer outside user space leaves it stopped") {
    syscall(handler, Syscall::kReply, 0, abi::kFaultResume, {0, 0, abi::kUserTop});
    CHECK(t.tcb->state == ThreadState::kInactive);
    CHECK(t.tcb->context.rip == 0x401234);
    CHECK(logged("bad registers"));
  }
  SECTION("the handler's reply capability is deleted") {
    kernel::delete_slot(&handler.tcb->slots[kernel::kTcbCallerSlot]);
    CHECK(t.tcb->state == ThreadState::kInactive);
    CHECK(t.tcb->context.rsi == 0x5151);
    CHECK(logged("went away"));
  }
  CHECK(handler.tcb->slots[kernel::kTcbCallerSlot].empty());
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: a fault without a usable handler stops the thread and is logged", "[ipc][fault]") {
  Env env;
  uint64_t ep = env.endpoint();
  uint64_t fault_ep = 0;
  SECTION("no fault endpoint") {
    fault_ep = 0;
  }
  SECTION("the cptr names something else") {
    fault_ep = env.make(ObjectType::kFrame4K);
  }
  SECTION("the cptr names an empty slot") {
    fault_ep = env.sys.next_free();
  }
  SECTION("the endpoint capability cannot send") {
    fault_ep = env.copy(ep, Rights::kRead);
  }
  Thread t = env.thread(false, fault_ep);
  make_current(t.tcb);
  kernel::handle_user_fault(t.tcb, kernel::FaultKind::kPageFault, 14, 4, 0x1000);
  CHECK(t.tcb->state == ThreadState::kInactive);
  CHECK(t.tcb->fault == kernel::FaultKind::kNone);
  CHECK(t.tcb->in_ready_queue == 0);
  CHECK(env.ep(ep)->head == nullptr);
  CHECK(logged("no fault handler"));
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: a faulted thread waiting on a deleted endpoint stays stopped", "[ipc][fault]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread t = env.thread(false, ep);
  t.tcb->context.rsi = 0x77;
  make_current(t.tcb);
  kernel::handle_user_fault(t.tcb, kernel::FaultKind::kPageFault, 14, 4, 0x1000);
  REQUIRE(t.tcb->state == ThreadState::kBlockedOnSend);
  REQUIRE(env.sys.del(ep) == Status::kOk);
  CHECK(t.tcb->state == ThreadState::kInactive);
  CHECK(t.tcb->fault == kernel::FaultKind::kNone);
  CHECK(t.tcb->context.rsi == 0x77);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

// A thread that faulted did not make a system call: suspending it while its fault waits for the
// handler (or for the reply) must not write a system call result into its registers, or it
// would run the faulting instruction again with RSI corrupted.
TEST_CASE("ipc: suspending a faulted thread keeps its registers", "[ipc][fault]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread handler = env.thread();
  Thread t = env.thread(false, ep);
  t.tcb->context.rsi = 0x5151;
  SECTION("while the fault waits for the handler") {
    make_current(t.tcb);
    kernel::handle_user_fault(t.tcb, kernel::FaultKind::kPageFault, 14, 4, 0x1000);
    REQUIRE(t.tcb->state == ThreadState::kBlockedOnSend);
  }
  SECTION("while the fault waits for the reply") {
    syscall(handler, Syscall::kRecv, ep);
    make_current(t.tcb);
    kernel::handle_user_fault(t.tcb, kernel::FaultKind::kPageFault, 14, 4, 0x1000);
    REQUIRE(t.tcb->state == ThreadState::kBlockedOnReply);
  }
  REQUIRE(env.sys.invoke(t.cap, Label::kTcbSuspend, {}).ok());
  CHECK(t.tcb->state == ThreadState::kInactive);
  CHECK(t.tcb->context.rsi == 0x5151);
  CHECK(t.tcb->fault == kernel::FaultKind::kNone);
  CHECK(env.ep(ep)->head == nullptr);
  CHECK(handler.tcb->slots[kernel::kTcbCallerSlot].empty());
  // Resumed, it simply runs again.
  REQUIRE(env.sys.invoke(t.cap, Label::kTcbResume, {}).ok());
  CHECK(t.tcb->state == ThreadState::kRunnable);
  CHECK(t.tcb->context.rsi == 0x5151);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: an unknown system call reaches the fault handler with every register",
          "[ipc][fault]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread handler = env.thread(true);
  Thread t = env.thread(false, ep);
  kernel::UserContext& c = t.tcb->context;
  c.rax = 39;  // getpid, for a Linux binary.
  c.rdi = 0x11;
  c.rsi = 0x22;
  c.rdx = 0x33;
  c.r10 = 0x44;
  c.r8 = 0x55;
  c.r9 = 0x66;
  c.rip = 0x401002;
  c.rsp = 0x7FFF0000;
  c.rflags = 0x246;

  syscall(handler, Syscall::kRecv, ep);
  make_current(t.tcb);
  kernel::handle_syscall(t.tcb);
  CHECK(t.tcb->state == ThreadState::kBlockedOnReply);
  CHECK(info_of(handler).label() == kernel_label(abi::KernelLabel::kUnknownSyscall));
  REQUIRE(info_of(handler).length() == abi::kUsLength);
  CHECK(words_of(handler) ==
        std::vector<uint64_t>{39, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x401002, 0x7FFF0000, 0x246});

  SECTION("the reply's words replace the registers in message order") {
    // Flags get sanitised: IOPL and a cleared IF are not for user space.
    const std::vector<uint64_t> regs{1000, 1001, 1002,     1003,     1004,
                                     1005, 1006, 0x500000, 0x600000, 0x3000 | 0x1 | 0x40};
    syscall(handler, Syscall::kReply, 0, abi::kFaultResume, regs);
    CHECK(t.tcb->state == ThreadState::kRunnable);
    CHECK(c.rax == 1000);
    CHECK(c.rdi == 1001);
    CHECK(c.rsi == 1002);
    CHECK(c.rdx == 1003);
    CHECK(c.r10 == 1004);
    CHECK(c.r8 == 1005);
    CHECK(c.r9 == 1006);
    CHECK(c.rip == 0x500000);
    CHECK(c.rsp == 0x600000);
    CHECK(c.rflags == (0x1 | 0x40 | 0x200 | 0x2));
  }
  SECTION("a one-word reply sets only RAX, the result") {
    syscall(handler, Syscall::kReply, 0, abi::kFaultResume, {12345});
    CHECK(t.tcb->state == ThreadState::kRunnable);
    CHECK(c.rax == 12345);
    CHECK(c.rdi == 0x11);
    CHECK(c.rsi == 0x22);
    CHECK(c.rip == 0x401002);
    CHECK(c.rflags == 0x246);
  }
  SECTION("a stack pointer outside user space stops it") {
    std::vector<uint64_t> regs{0, 0, 0, 0, 0, 0, 0, 0x500000, 0xFFFF800000000000};
    syscall(handler, Syscall::kReply, 0, abi::kFaultResume, regs);
    CHECK(t.tcb->state == ThreadState::kInactive);
    CHECK(c.rsp == 0x7FFF0000);
  }
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: a CPU exception reaches the handler and its reply sets ip, sp and flags",
          "[ipc][fault]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread handler = env.thread(true);
  Thread t = env.thread(false, ep);
  kernel::UserContext& c = t.tcb->context;
  c.rip = 0x401100;
  c.rsp = 0x7FFF1000;
  c.rflags = 0x203;
  syscall(handler, Syscall::kRecv, ep);
  make_current(t.tcb);
  kernel::handle_user_fault(t.tcb, kernel::FaultKind::kException, 13, 0x18, 0);
  CHECK(t.tcb->state == ThreadState::kBlockedOnReply);
  CHECK(info_of(handler).label() == kernel_label(abi::KernelLabel::kException));
  CHECK(words_of(handler) == std::vector<uint64_t>{13, 0x18, 0x401100, 0x7FFF1000, 0x203});

  // Words that are not registers (vector, error code) are ignored.
  syscall(handler, Syscall::kReply, 0, abi::kFaultResume,
          {99, 99, 0x402000, 0x7FFF2000, 0x3000 | 0x80});
  CHECK(t.tcb->state == ThreadState::kRunnable);
  CHECK(c.rip == 0x402000);
  CHECK(c.rsp == 0x7FFF2000);
  CHECK(c.rflags == (0x80 | 0x200 | 0x2));
  CHECK(t.tcb->fault_vector == 13);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: a fault handler without an IPC buffer gets the register words", "[ipc][fault]") {
  Env env;
  uint64_t ep = env.endpoint();
  Thread handler = env.thread();
  Thread t = env.thread(false, ep);
  t.tcb->context.rax = 1000;
  syscall(handler, Syscall::kRecv, ep);
  make_current(t.tcb);
  kernel::handle_syscall(t.tcb);
  CHECK(info_of(handler).label() == kernel_label(abi::KernelLabel::kUnknownSyscall));
  CHECK(info_of(handler).length() == abi::kMessageRegisters);
  CHECK(words_of(handler)[0] == 1000);
  CHECK(env.sys.check_invariants() == nullptr);
}

// --- interrupts ----------------------------------------------------------------------------------

namespace {

constexpr uint32_t kLine = 5;
constexpr uint64_t kStamp = 0x5A5A;  // The time stamp an interrupt is said to arrive at.

// An IRQ handler capability for kLine bound to `ep` through a capability with `badge`.
uint64_t bind_irq(Env& env, uint64_t ep, uint64_t badge, uint32_t line = kLine) {
  uint64_t handler = env.sys.next_free();
  REQUIRE(env.sys
              .invoke(abi::kSlotIrqControl, Label::kIrqControlGet,
                      {line, abi::kSlotInitCNode, handler, 64})
              .ok());
  uint64_t cap = badge != 0 ? env.mint(ep, Rights::kWrite, badge) : ep;
  REQUIRE(env.sys.invoke(handler, Label::kIrqHandlerSetEndpoint, {cap}).ok());
  return handler;
}

std::pair<uint32_t, bool> last_mask() {
  REQUIRE_FALSE(arch_log().irq_masks.empty());
  return arch_log().irq_masks.back();
}

}  // namespace

TEST_CASE("ipc: an interrupt reaches a waiting receiver with the badge", "[ipc][irq]") {
  Env env;
  uint64_t ep = env.endpoint();
  uint64_t handler = bind_irq(env, ep, 0x1000);
  CHECK(last_mask() == std::make_pair(kLine, false));  // SetEndpoint unmasks.
  Thread driver = env.thread();

  syscall(driver, Syscall::kRecv, ep);
  kernel::irq_fire(kLine, kStamp);
  CHECK(driver.tcb->state == ThreadState::kRunnable);
  CHECK(info_of(driver).word ==
        MessageInfo::make(kernel_label(abi::KernelLabel::kIrq), abi::kIrqLength).word);
  CHECK(words_of(driver) == std::vector<uint64_t>{kLine, kStamp});
  CHECK(driver.tcb->context.rdi == 0x1000);
  CHECK_FALSE(kernel::irq_line(kLine)->pending);

  size_t masks = arch_log().irq_masks.size();
  REQUIRE(env.sys.invoke(handler, Label::kIrqHandlerAck, {}).ok());
  REQUIRE(arch_log().irq_masks.size() == masks + 1);
  CHECK(last_mask() == std::make_pair(kLine, false));
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: an interrupt without a receiver waits for the next Recv", "[ipc][irq]") {
  Env env;
  uint64_t ep = env.endpoint();
  bind_irq(env, ep, 0x2000);
  Thread driver = env.thread();

  kernel::irq_fire(kLine, kStamp);
  CHECK(kernel::irq_line(kLine)->pending);
  CHECK(env.ep(ep)->irq_head == kernel::irq_line(kLine));
  // It arrives once, however often the line fires before it is received.
  kernel::irq_fire(kLine, kStamp);
  kernel::irq_fire(kLine, kStamp);

  syscall(driver, Syscall::kRecv, ep);
  CHECK(driver.tcb->state == ThreadState::kRunnable);
  CHECK(info_of(driver).label() == kernel_label(abi::KernelLabel::kIrq));
  CHECK(words_of(driver) == std::vector<uint64_t>{kLine, kStamp});
  CHECK(driver.tcb->context.rdi == 0x2000);
  CHECK_FALSE(kernel::irq_line(kLine)->pending);
  CHECK(env.ep(ep)->irq_head == nullptr);

  syscall(driver, Syscall::kNBRecv, ep);
  CHECK(failed_with(driver, Status::kTimedOut));
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: pending interrupts are received in order and ahead of senders", "[ipc][irq]") {
  Env env;
  uint64_t ep = env.endpoint();
  bind_irq(env, ep, 0x10, 3);
  bind_irq(env, ep, 0x20, 7);
  Thread driver = env.thread();
  Thread sender = env.thread();

  syscall(sender, Syscall::kSend, ep, 1, {99});
  kernel::irq_fire(7, kStamp);
  kernel::irq_fire(3, kStamp);
  syscall(driver, Syscall::kRecv, ep);
  CHECK(words_of(driver) == std::vector<uint64_t>{7, kStamp});
  CHECK(driver.tcb->context.rdi == 0x20);
  syscall(driver, Syscall::kRecv, ep);
  CHECK(words_of(driver) == std::vector<uint64_t>{3, kStamp});
  CHECK(driver.tcb->context.rdi == 0x10);
  syscall(driver, Syscall::kRecv, ep);
  CHECK(words_of(driver) == std::vector<uint64_t>{99});
  CHECK(sender.tcb->state == ThreadState::kRunnable);
  CHECK(env.scheduler_consistent());
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: Clear and deleting the handler mask the line and drop what is pending",
          "[ipc][irq]") {
  Env env;
  uint64_t ep = env.endpoint();
  // Bound through the endpoint capability itself, so that deleting it destroys the endpoint.
  uint64_t handler = bind_irq(env, ep, 0);
  Thread driver = env.thread();
  kernel::irq_fire(kLine, kStamp);
  REQUIRE(kernel::irq_line(kLine)->pending);

  SECTION("Clear") {
    REQUIRE(env.sys.invoke(handler, Label::kIrqHandlerClear, {}).ok());
    CHECK(last_mask() == std::make_pair(kLine, true));
    // The handler still exists: the line can be bound again.
    REQUIRE(env.sys.invoke(handler, Label::kIrqHandlerSetEndpoint, {ep}).ok());
    CHECK(last_mask() == std::make_pair(kLine, false));
    REQUIRE(env.sys.invoke(handler, Label::kIrqHandlerClear, {}).ok());
  }
  SECTION("deleting the handler capability") {
    REQUIRE(env.sys.del(handler) == Status::kOk);
    CHECK(last_mask() == std::make_pair(kLine, true));
    CHECK_FALSE(kernel::irq_line(kLine)->has_handler);
    // The line is free for a new handler.
    uint64_t again = env.sys.next_free();
    CHECK(env.sys
              .invoke(abi::kSlotIrqControl, Label::kIrqControlGet,
                      {kLine, abi::kSlotInitCNode, again, 64})
              .ok());
  }
  SECTION("deleting the endpoint") {
    REQUIRE(env.sys.del(ep) == Status::kOk);
    CHECK(kernel::irq_line(kLine)->endpoint == nullptr);
  }
  CHECK_FALSE(kernel::irq_line(kLine)->pending);
  if (!env.sys.slot(ep)->empty()) {
    CHECK(env.ep(ep)->irq_head == nullptr);
    kernel::irq_fire(kLine, kStamp);
    syscall(driver, Syscall::kNBRecv, ep);
    CHECK(failed_with(driver, Status::kTimedOut));
  }
  CHECK(env.sys.check_invariants() == nullptr);
}

TEST_CASE("ipc: IrqControlGet errors", "[ipc][irq]") {
  Env env;
  uint64_t ep = env.endpoint();
  bind_irq(env, ep, 0);
  uint64_t dest = env.sys.next_free();
  CHECK(env.sys
            .invoke(abi::kSlotIrqControl, Label::kIrqControlGet,
                    {kLine, abi::kSlotInitCNode, dest, 64})
            .status == Status::kRevokeFirst);
  CHECK(env.sys
            .invoke(abi::kSlotIrqControl, Label::kIrqControlGet,
                    {kernel::kIrqLines, abi::kSlotInitCNode, dest, 64})
            .status == Status::kRangeError);
  CHECK(env.sys
            .invoke(abi::kSlotIrqControl, Label::kIrqControlGet,
                    {kLine + 1, abi::kSlotInitCNode, ep, 64})
            .status == Status::kDeleteFirst);
  uint64_t handler = env.sys.next_free();
  REQUIRE(env.sys
              .invoke(abi::kSlotIrqControl, Label::kIrqControlGet,
                      {kLine + 1, abi::kSlotInitCNode, handler, 64})
              .ok());
  CHECK(env.sys.invoke(handler, Label::kIrqHandlerSetEndpoint, {env.copy(ep, Rights::kRead)})
            .status == Status::kInvalidCapability);
  CHECK(env.sys.invoke(handler, Label::kIrqHandlerSetEndpoint, {handler}).status ==
        Status::kInvalidCapability);
  // Firing a line nobody listens to, or one that does not exist, does nothing.
  kernel::irq_fire(kLine + 1, kStamp);
  kernel::irq_fire(kernel::kIrqLines, kStamp);
  CHECK_FALSE(kernel::irq_line(kLine + 1)->pending);
  CHECK(env.sys.check_invariants() == nullptr);
}

// --- random operations
// ----------------------------------------------------------------------------

namespace {

// Structural rules that must hold between any two kernel entries, whatever happened before.
std::string ipc_rule_broken(Env& env, const std::vector<Thread>& threads,
                            const std::vector<uint64_t>& endpoints) {
  for (uint64_t cptr : endpoints) {
    if (env.sys.slot(cptr)->empty()) {
      continue;
    }
    Endpoint* ep = env.ep(cptr);
    if ((ep->head == nullptr) != (ep->state == EndpointState::kIdle)) {
      return "an endpoint is idle exactly when its queue is empty";
    }
    ThreadState want = ep->state == EndpointState::kSending ? ThreadState::kBlockedOnSend
                                                            : ThreadState::kBlockedOnReceive;
    const Tcb* prev = nullptr;
    for (const Tcb* q = ep->head; q != nullptr; q = q->ep_next) {
      if (q->state != want || q->blocked_on != ep || q->ep_prev != prev) {
        return "queued threads are blocked on that endpoint in that direction";
      }
      prev = q;
    }
    if (ep->tail != prev) {
      return "the queue's tail is its last thread";
    }
  }
  for (const Thread& t : threads) {
    const Tcb* tcb = t.tcb;
    bool blocked_ep =
        tcb->state == ThreadState::kBlockedOnSend || tcb->state == ThreadState::kBlockedOnReceive;
    if (blocked_ep != (tcb->blocked_on != nullptr)) {
      return "a thread has blocked_on exactly when blocked on an endpoint";
    }
    if (tcb->fault != kernel::FaultKind::kNone && tcb->state != ThreadState::kBlockedOnSend &&
        tcb->state != ThreadState::kBlockedOnReply) {
      return "a pending fault means waiting for the handler";
    }
    int replies = 0;
    for (const Thread& u : threads) {
      const kernel::Cap& c = u.tcb->slots[kernel::kTcbCallerSlot].cap;
      if (c.type() == abi::CapType::kReply && c.object() == kernel::mem::to_phys(tcb)) {
        ++replies;
      }
    }
    if (replies != (tcb->state == ThreadState::kBlockedOnReply ? 1 : 0)) {
      return "a thread waiting for a reply has exactly one reply capability, others none";
    }
  }
  if (!env.scheduler_consistent()) {
    return "runnable threads other than the current one are queued, others not";
  }
  return "";
}

}  // namespace

TEST_CASE("ipc: random system calls keep the IPC state consistent", "[ipc][random]") {
  Env env;
  std::mt19937_64 rng(0x1bc5eed);  // Fixed seed so that failures can be reproduced.
  std::vector<uint64_t> endpoints{env.endpoint(), env.endpoint()};
  // Capabilities the threads use: full rights, badged, receive only, send only, no grant.
  std::vector<uint64_t> caps;
  for (uint64_t ep : endpoints) {
    caps.push_back(ep);
    caps.push_back(env.mint(ep, Rights::kAllBits, 0x100 + ep));
    caps.push_back(env.copy(ep, Rights::kRead));
    caps.push_back(env.copy(ep, Rights::kWrite | Rights::kGrantReply));
    caps.push_back(env.copy(ep, Rights::kRead | Rights::kWrite | Rights::kGrantReply));
  }
  std::vector<Thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.push_back(env.thread(i % 2 == 0, i < 4 ? caps[(i % 2) * 5] : 0));
    Thread& t = threads.back();
    if (t.buf != nullptr) {
      t.buf->receive_cnode = abi::kSlotInitCNode;
      t.buf->receive_index = env.sys.next_free();
      t.buf->receive_depth = 64;
    }
  }
  uint64_t handler = bind_irq(env, endpoints[0], 0x1000);
  const std::array<Syscall, 8> calls{Syscall::kSend,      Syscall::kNBSend, Syscall::kRecv,
                                     Syscall::kNBRecv,    Syscall::kCall,   Syscall::kReply,
                                     Syscall::kReplyRecv, Syscall::kYield};
  int completed = 0;
  int attempted = 0;
  for (int op = 0; op < 20000; ++op) {
    Thread& t = threads[rng() % threads.size()];
    int kind = static_cast<int>(rng() % 100);
    INFO("operation " << op << " kind " << kind);
    if (kind < 70) {
      std::vector<Thread*> runnable;
      for (Thread& u : threads) {
        if (u.tcb->state == ThreadState::kRunnable) {
          runnable.push_back(&u);
        }
      }
      if (runnable.empty()) {
        // Everyone waits: suspending one releases it (with kCancelled) for the next round.
        env.sys.invoke(t.cap, Label::kTcbSuspend, {});
        env.sys.invoke(t.cap, Label::kTcbResume, {});
        continue;
      }
      Thread& caller = *runnable[rng() % runnable.size()];
      Syscall nr = calls[rng() % calls.size()];
      uint64_t cap = caps[rng() % caps.size()];
      uint64_t length = rng() % (caller.buf != nullptr ? 8 : 5);
      uint64_t extra = (caller.buf != nullptr && rng() % 4 == 0) ? 1 : 0;
      if (extra != 0) {
        // Either a badged capability to an endpoint (maybe unwrapped) or a plain one.
        caller.buf->caps_or_badges[0] = caps[rng() % caps.size()];
        env.sys.del(caller.buf->receive_index);  // Keep receive slots free for the next transfer.
      }
      syscall(caller, nr, cap, rng() % 16, iota_words(length, rng()), extra);
      ++attempted;
      if (!info_of(caller).is_error()) {
        ++completed;
      }
    } else if (kind < 78) {
      env.sys.invoke(t.cap, Label::kTcbSuspend, {});
    } else if (kind < 88) {
      env.sys.invoke(t.cap, Label::kTcbResume, {});
    } else if (kind < 93) {
      kernel::irq_fire(kLine, kStamp);
      if (rng() % 2 == 0) {
        env.sys.invoke(handler, Label::kIrqHandlerAck, {});
      }
    } else if (kind < 97) {
      if (t.tcb->state == ThreadState::kRunnable) {
        make_current(t.tcb);
        kernel::handle_user_fault(t.tcb, kernel::FaultKind::kPageFault, 14, 4, 0x1000);
      }
    } else {
      test_scheduler().schedule();
    }
    std::string broken = ipc_rule_broken(env, threads, endpoints);
    INFO(broken);
    REQUIRE(broken.empty());
    if (op % 500 == 0) {
      REQUIRE(env.sys.check_invariants() == nullptr);
    }
  }
  INFO(attempted << " system calls, " << completed << " without an error");
  CHECK(attempted > 5000);
  CHECK(completed > 2000);
  CHECK(env.sys.check_invariants() == nullptr);
}
