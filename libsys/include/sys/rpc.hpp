// SPDX-License-Identifier: MIT
//
// Remote procedure calls over endpoints, checked against protocol descriptions (abi::Method,
// abi/protocol.hpp) on both sides.
//
// Client: call() refuses a request that does not fit the method (kInvalidArgument, nothing is
// sent), makes the Call, and returns the reply when its label is 0 and its shape fits the
// method. A failed system call returns the kernel's status (kDeleted when the server died
// holding the reply capability, lookup errors when the capability is gone); a reply label
// 1..kStatusCount-1 returns that abi::Status; any other label or a misshapen reply is
// kInvalidMessage.
//
// Server: a Server holds a table of (method, handler) and loops: receive, check, dispatch,
// reply. Requests with an unknown label are answered kNotSupported and misshapen ones
// kInvalidArgument, without calling a handler. Interrupts (abi::KernelLabel::kIrq) go to the
// interrupt handler, if one is set. A handler answers with words and capabilities in its
// Response, or with an error (its Result), which becomes the reply's label.
//
// The pieces that make these decisions (check_request, decode_reply, MethodTable, classify,
// make_request, make_reply) make no system calls, so host tests cover them.
#pragma once

#include <abi/protocol.hpp>
#include <abi/result.hpp>

#include <kstd/span.hpp>

#include <stddef.h>
#include <stdint.h>

#include <initializer_list>

#include <sys/cap.hpp>
#include <sys/ipc.hpp>

namespace sys::rpc {

using Words = kstd::span<const uint64_t>;

// Where a capability that arrives with a message goes: slot `index` of the CNode `cnode`,
// named with `depth` bits (64 in the root task's and servers' flat CSpaces). The slot must be
// empty. Depth 0: accept no capability (the kernel then delivers none, and the message counts
// only the capabilities that arrived as badges).
struct ReceiveSlot {
  uint64_t cnode = 0;
  uint64_t index = 0;
  uint64_t depth = 0;
};

// Capabilities that arrived with a message. Each is either in the receive slot (caps[i] is its
// index there) or, when it was a badged capability to the very endpoint the message came
// through, was "unwrapped": caps[i] is its badge and bit i of `unwrapped` is set. At most one
// arrives in the receive slot.
struct ReceivedCaps {
  uint64_t count = 0;
  uint64_t caps[abi::kMaxExtraCaps] = {};
  uint64_t unwrapped = 0;
};

// --- Client ---------------------------------------------------------------------------------

struct Reply {
  uint64_t length = 0;
  uint64_t words[abi::kMaxMessageWords] = {};
  ReceivedCaps caps;  // The caller owns a capability in its receive slot.
};

// kInvalidArgument unless `words` words and `caps` capabilities fit the method's request.
abi::Result<void> check_request(const abi::Method& m, uint64_t words, uint64_t caps);

// The outcome of a Call that the kernel completed (status kOk) with the reply in `msg`; a
// capability in the reply arrived in slot `receive_index`.
abi::Result<Reply> decode_reply(const abi::Method& m, const Message& msg, uint64_t receive_index);

// Calls `m` on the endpoint `ep` with `words` and the capabilities (cptrs) `caps`. A capability
// in the reply lands in `receive`; methods whose replies carry none need no receive slot. On
// failure nothing stays in the receive slot.
abi::Result<Reply> call(EndpointCap ep, const abi::Method& m, Words words, Words caps = {},
                        ReceiveSlot receive = {});
// Word-only calls.
abi::Result<Reply> call(EndpointCap ep, const abi::Method& m,
                        std::initializer_list<uint64_t> words);
abi::Result<Reply> call(EndpointCap ep, const abi::Method& m);

// Sends `m` without waiting for a reply (one-way methods, such as supervisor.exit); blocks
// until the receiver takes the message. Errors as for call(), without the reply's.
abi::Result<void> send(EndpointCap ep, const abi::Method& m, Words words);

// --- Server ---------------------------------------------------------------------------------

// A request, checked against its method before a handler sees it.
struct Request {
  const abi::Method* method = nullptr;
  uint64_t badge = 0;  // Of the capability the client called through: who is calling.
  uint64_t length = 0;
  const uint64_t* words = nullptr;  // Valid while the handler runs.
  // A capability in the receive slot is deleted after the reply; a handler that keeps it moves
  // it to a slot of its own (sys::cnode_move).
  ReceivedCaps caps;
};

// What a handler answers on success. Adding more than kMaxMessageWords words or
// kMaxExtraCaps capabilities marks the response overflowed, and the server then replies
// kInvalidMessage, as it does for any response that does not fit the method's reply.
class Response {
 public:
  void add_word(uint64_t w);
  void add_words(Words w);
  // Adds a text message (count, packed bytes...): sys/text.hpp.
  void add_text(const char* bytes, uint64_t n);
  // Sends the capability in slot `cptr` (a copy; the slot keeps it).
  void add_cap(uint64_t cptr);

  uint64_t length() const { return length_; }
  const uint64_t* words() const { return words_; }
  uint64_t cap_count() const { return cap_count_; }
  const uint64_t* caps() const { return caps_; }
  bool overflowed() const { return overflowed_; }

 private:
  uint64_t length_ = 0;
  uint64_t words_[abi::kMaxMessageWords] = {};
  uint64_t cap_count_ = 0;
  uint64_t caps_[abi::kMaxExtraCaps] = {};
  bool overflowed_ = false;
};

// Handles one request. An error becomes the reply's label (and the response is not sent).
using Handler = abi::Result<void> (*)(const Request& req, Response& resp);

// Called for each interrupt message: the IRQ line and the badge of the endpoint capability
// the IRQ handler was bound with. No reply is sent.
using IrqHandler = void (*)(uint64_t line, uint64_t badge);

class MethodTable {
 public:
  static constexpr size_t kMaxMethods = 16;

  struct Entry {
    abi::Method method;
    Handler handler;
  };

  // kInvalidArgument: the method is not valid (abi::method_valid), the handler is null, or
  // the label is already in the table. kNoSpace: the table is full.
  abi::Result<void> add(const abi::Method& m, Handler h);
  // The entry for `label`, or null.
  const Entry* find(uint64_t label) const;
  size_t size() const { return count_; }

 private:
  Entry entries_[kMaxMethods] = {};
  size_t count_ = 0;
};

// What the server does with a received message.
enum class Disposition {
  kHandle,     // Call entry->handler.
  kInterrupt,  // An interrupt: to the interrupt handler.
  kUnknown,    // No such method (or a kernel message other than an interrupt): kNotSupported.
  kMisshapen,  // The method's shape does not fit: kInvalidArgument.
};

struct Dispatch {
  Disposition disposition;
  const MethodTable::Entry* entry;  // For kHandle and kMisshapen.
};

Dispatch classify(const MethodTable& table, uint64_t label, uint64_t words, uint64_t caps);

// The status a refused request is answered with (kOk for kHandle and kInterrupt).
abi::Status refusal(Disposition d);

// Describes where the capabilities of a received message are (see ReceivedCaps).
ReceivedCaps received_caps(const Message& msg, uint64_t receive_index);

// Fills `out` with the reply to a request for `m` answered with `outcome` and `resp`. A
// success that does not fit the method's reply (or overflowed) is answered kInvalidMessage
// instead. Returns the reply's label as a status.
abi::Status make_reply(const abi::Method& m, const abi::Result<void>& outcome,
                       const Response& resp, Message& out);

// Fills `out` with an error reply: label `status`, nothing else.
void make_error_reply(abi::Status status, Message& out);

class Server {
 public:
  // Serves the endpoint `ep` (a capability with the read right; with the grant right too, its
  // replies can carry capabilities). Capabilities in requests land in `receive`.
  explicit Server(EndpointCap ep, ReceiveSlot receive = {}) : ep_(ep), receive_(receive) {}

  // Registers a handler; errors as MethodTable::add.
  abi::Result<void> handle(const abi::Method& m, Handler h) { return table_.add(m, h); }
  void on_irq(IrqHandler h) { irq_ = h; }

  // Serves requests until receiving fails (the endpoint capability went away, or it lacks the
  // read right); returns that status. A receive cancelled by a suspension is simply repeated.
  abi::Status serve();

 private:
  // Handles the message in `msg` and leaves the reply there. False when there is no reply to
  // send (an interrupt).
  bool dispatch(Message& msg);

  MethodTable table_;
  EndpointCap ep_;
  ReceiveSlot receive_;
  IrqHandler irq_ = nullptr;
};

}  // namespace sys::rpc
