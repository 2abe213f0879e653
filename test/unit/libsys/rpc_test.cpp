// SPDX-License-Identifier: MIT
//
// Unit tests for the decisions of libsys's RPC layer (sys/rpc.hpp): request and reply shapes,
// the method table, dispatch, received capabilities and the replies a server sends.
#include <abi/fault.hpp>
#include <abi/protocols/echo.hpp>
#include <abi/protocols/kv.hpp>

#include <sys/rpc.hpp>

#include <catch2/catch.hpp>
#include <cstdint>

using abi::Status;
using sys::Message;
using namespace sys::rpc;

namespace {

abi::Result<void> ok_handler(const Request&, Response&) { return {}; }
abi::Result<void> other_handler(const Request&, Response&) { return abi::err(Status::kNoSpace); }

Message reply_message(uint64_t label, uint64_t length, uint64_t caps = 0) {
  Message m;
  m.label = label;
  m.length = length;
  for (uint64_t i = 0; i < length; ++i) {
    m.words[i] = 100 + i;
  }
  m.extra_caps = caps;
  return m;
}

}  // namespace

// --- Client side ---------------------------------------------------------------------------------

TEST_CASE("check_request accepts exactly the method's request shape", "[rpc]") {
  CHECK(check_request(abi::kv::kPut, 2, 0).ok());
  CHECK(check_request(abi::echo::kEcho, 0, 0).ok());
  CHECK(check_request(abi::echo::kEcho, abi::kMaxMessageWords, 0).ok());
  CHECK(check_request(abi::echo::kEchoCap, 0, 1).ok());
  struct Bad {
    const abi::Method* m;
    uint64_t words, caps;
  };
  for (Bad b : {Bad{&abi::kv::kPut, 1, 0}, Bad{&abi::kv::kPut, 3, 0}, Bad{&abi::kv::kPut, 2, 1},
                Bad{&abi::echo::kEchoCap, 0, 0}, Bad{&abi::echo::kEchoCap, 0, 2},
                Bad{&abi::echo::kEcho, abi::kMaxMessageWords + 1, 0}}) {
    auto r = check_request(*b.m, b.words, b.caps);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kInvalidArgument);
  }
}

TEST_CASE("check_request refuses a method that is not valid", "[rpc]") {
  abi::Method kernel_label{static_cast<uint64_t>(abi::KernelLabel::kIrq), "x", 0, 0, 0, 0, 0, 0};
  abi::Method zero_label{0, "x", 0, 0, 0, 0, 0, 0};
  abi::Method too_long{0x10, "x", 0, 200, 0, 0, 0, 0};
  for (const abi::Method& m : {kernel_label, zero_label, too_long}) {
    auto r = check_request(m, 0, 0);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kInvalidArgument);
  }
}

TEST_CASE("decode_reply returns the words of a reply that fits", "[rpc]") {
  auto r = decode_reply(abi::kv::kGet, reply_message(0, 1), 0);
  REQUIRE(r.ok());
  CHECK(r->length == 1);
  CHECK(r->words[0] == 100);
  CHECK(r->caps.count == 0);
}

TEST_CASE("decode_reply turns a status label into that error", "[rpc]") {
  auto r = decode_reply(abi::kv::kGet, reply_message(static_cast<uint64_t>(Status::kNotFound), 0),
                        0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == Status::kNotFound);
}

TEST_CASE("decode_reply refuses a label that is no status, and misshapen replies", "[rpc]") {
  struct Bad {
    const abi::Method* m;
    Message msg;
  };
  for (const Bad& b : {Bad{&abi::kv::kGet, reply_message(abi::kStatusCount, 0)},
                       Bad{&abi::kv::kGet, reply_message(0x201, 1)},
                       Bad{&abi::kv::kGet, reply_message(0, 0)},
                       Bad{&abi::kv::kGet, reply_message(0, 2)},
                       Bad{&abi::kv::kGet, reply_message(0, 1, 1)},
                       Bad{&abi::kv::kPut, reply_message(0, 1)}}) {
    auto r = decode_reply(*b.m, b.msg, 0);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kInvalidMessage);
  }
}

TEST_CASE("decode_reply says where a reply's capability is", "[rpc]") {
  Message m = reply_message(0, 0, 1);
  auto r = decode_reply(abi::echo::kEchoCap, m, 77);
  REQUIRE(r.ok());
  CHECK(r->caps.count == 1);
  CHECK(r->caps.caps[0] == 77);
  CHECK(r->caps.unwrapped == 0);
}

TEST_CASE("received_caps tells slot capabilities from unwrapped badges", "[rpc]") {
  Message m;
  m.extra_caps = 3;
  m.unwrapped = 0b101;
  m.caps[0] = 0xB0;
  m.caps[1] = 0xDEAD;  // Stale: the capability went to the receive slot.
  m.caps[2] = 0xB2;
  ReceivedCaps rc = received_caps(m, 42);
  CHECK(rc.count == 3);
  CHECK(rc.unwrapped == 0b101);
  CHECK(rc.caps[0] == 0xB0);
  CHECK(rc.caps[1] == 42);
  CHECK(rc.caps[2] == 0xB2);
}

// --- Server side ---------------------------------------------------------------------------------

TEST_CASE("the method table finds registered methods", "[rpc]") {
  MethodTable t;
  REQUIRE(t.add(abi::kv::kPut, ok_handler).ok());
  REQUIRE(t.add(abi::kv::kGet, other_handler).ok());
  CHECK(t.size() == 2);
  const MethodTable::Entry* e = t.find(abi::kv::kGet.label);
  REQUIRE(e != nullptr);
  CHECK(e->handler == other_handler);
  CHECK(e->method.label == abi::kv::kGet.label);
  CHECK(t.find(abi::kv::kCount.label) == nullptr);
  CHECK(t.find(0) == nullptr);
}

TEST_CASE("the method table refuses duplicates, bad methods and null handlers", "[rpc]") {
  MethodTable t;
  REQUIRE(t.add(abi::kv::kPut, ok_handler).ok());
  abi::Method same_label{abi::kv::kPut.label, "other", 0, 0, 0, 0, 0, 0};
  abi::Method bad{0, "bad", 0, 0, 0, 0, 0, 0};
  for (auto r : {t.add(same_label, ok_handler), t.add(bad, ok_handler),
                 t.add(abi::kv::kGet, nullptr)}) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kInvalidArgument);
  }
  CHECK(t.size() == 1);
}

TEST_CASE("the method table holds kMaxMethods methods", "[rpc]") {
  MethodTable t;
  for (uint64_t i = 0; i < MethodTable::kMaxMethods; ++i) {
    REQUIRE(t.add(abi::Method{0x100 + i, "m", 0, 0, 0, 0, 0, 0}, ok_handler).ok());
  }
  auto r = t.add(abi::Method{0x200, "m", 0, 0, 0, 0, 0, 0}, ok_handler);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == Status::kNoSpace);
  CHECK(t.find(0x100 + MethodTable::kMaxMethods - 1) != nullptr);
}

TEST_CASE("classify sends each message to its handler or refuses it", "[rpc]") {
  MethodTable t;
  REQUIRE(t.add(abi::kv::kPut, ok_handler).ok());
  REQUIRE(t.add(abi::echo::kEchoCap, ok_handler).ok());

  Dispatch put = classify(t, abi::kv::kPut.label, 2, 0);
  CHECK(put.disposition == Disposition::kHandle);
  REQUIRE(put.entry != nullptr);
  CHECK(put.entry->method.label == abi::kv::kPut.label);
  CHECK(refusal(put.disposition) == Status::kOk);

  CHECK(classify(t, abi::echo::kEchoCap.label, 0, 1).disposition == Disposition::kHandle);

  Dispatch short_put = classify(t, abi::kv::kPut.label, 1, 0);
  CHECK(short_put.disposition == Disposition::kMisshapen);
  CHECK(refusal(short_put.disposition) == Status::kInvalidArgument);
  CHECK(classify(t, abi::kv::kPut.label, 2, 1).disposition == Disposition::kMisshapen);
  CHECK(classify(t, abi::echo::kEchoCap.label, 0, 0).disposition == Disposition::kMisshapen);

  Dispatch unknown = classify(t, abi::kv::kGet.label, 1, 0);
  CHECK(unknown.disposition == Disposition::kUnknown);
  CHECK(unknown.entry == nullptr);
  CHECK(refusal(unknown.disposition) == Status::kNotSupported);

  auto irq = static_cast<uint64_t>(abi::KernelLabel::kIrq);
  CHECK(classify(t, irq, abi::kIrqLength, 0).disposition == Disposition::kInterrupt);
  auto fault = static_cast<uint64_t>(abi::KernelLabel::kPageFault);
  CHECK(classify(t, fault, abi::kPfLength, 0).disposition == Disposition::kUnknown);
}

TEST_CASE("make_reply sends a response that fits", "[rpc]") {
  Response resp;
  resp.add_word(7);
  Message out = reply_message(0x999, 5, 2);
  CHECK(make_reply(abi::kv::kGet, abi::Result<void>(), resp, out) == Status::kOk);
  CHECK(out.label == 0);
  CHECK(out.length == 1);
  CHECK(out.words[0] == 7);
  CHECK(out.extra_caps == 0);
}

TEST_CASE("make_reply carries a handler's capability", "[rpc]") {
  Response resp;
  resp.add_cap(33);
  Message out;
  CHECK(make_reply(abi::echo::kEchoCap, abi::Result<void>(), resp, out) == Status::kOk);
  CHECK(out.extra_caps == 1);
  CHECK(out.caps[0] == 33);
}

TEST_CASE("make_reply answers a handler's error with the status alone", "[rpc]") {
  Response resp;
  resp.add_word(7);
  Message out;
  abi::Result<void> failed = abi::err(Status::kNotFound);
  CHECK(make_reply(abi::kv::kGet, failed, resp, out) == Status::kNotFound);
  CHECK(out.label == static_cast<uint64_t>(Status::kNotFound));
  CHECK(out.length == 0);
  CHECK(out.extra_caps == 0);
  abi::Result<void> bogus = abi::err(Status::kOk);
  CHECK(make_reply(abi::kv::kGet, bogus, resp, out) == Status::kInvalidMessage);
}

TEST_CASE("make_reply refuses a response that does not fit the method", "[rpc]") {
  Message out;
  Response none;  // kv.get must answer one word.
  CHECK(make_reply(abi::kv::kGet, abi::Result<void>(), none, out) == Status::kInvalidMessage);
  CHECK(out.label == static_cast<uint64_t>(Status::kInvalidMessage));
  CHECK(out.length == 0);
  Response cap;  // kv.get answers no capability.
  cap.add_word(1);
  cap.add_cap(5);
  CHECK(make_reply(abi::kv::kGet, abi::Result<void>(), cap, out) == Status::kInvalidMessage);
  Response many;
  for (uint64_t i = 0; i <= abi::kMaxMessageWords; ++i) {
    many.add_word(i);
  }
  CHECK(many.overflowed());
  CHECK(many.length() == abi::kMaxMessageWords);
  CHECK(make_reply(abi::echo::kEcho, abi::Result<void>(), many, out) == Status::kInvalidMessage);
}

TEST_CASE("a response's text is a text message", "[rpc]") {
  Response resp;
  resp.add_text("hi there", 8);
  CHECK(resp.length() == 2);
  CHECK(resp.words()[0] == 8);
  CHECK_FALSE(resp.overflowed());
  Response full;
  for (uint64_t i = 0; i < abi::kMaxMessageWords - 1; ++i) {
    full.add_word(0);
  }
  full.add_text("123456789", 9);  // Needs three words; one is left.
  CHECK(full.overflowed());
}

TEST_CASE("make_error_reply clears everything but the status", "[rpc]") {
  Message out = reply_message(0, 4, 1);
  make_error_reply(Status::kNotSupported, out);
  CHECK(out.label == static_cast<uint64_t>(Status::kNotSupported));
  CHECK(out.length == 0);
  CHECK(out.extra_caps == 0);
}
