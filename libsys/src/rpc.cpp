// SPDX-License-Identifier: MIT
#include <kstd/utility.hpp>

#include <sys/invoke.hpp>
#include <sys/log.hpp>
#include <sys/rpc.hpp>

#include <kstd/enforce.hpp>

namespace sys::rpc {
namespace {

using abi::Status;

void load_request(const abi::Method& m, Words words, Words caps, Message& msg) {
  msg.label = m.label;
  msg.length = words.size();
  for (uint64_t i = 0; i < words.size(); ++i) {
    msg.words[i] = words[i];
  }
  msg.extra_caps = caps.size();
  for (uint64_t i = 0; i < caps.size(); ++i) {
    msg.caps[i] = caps[i];
  }
}

void arm(ReceiveSlot r) { set_receive_slot(r.cnode, r.index, r.depth); }

// Whether a capability of `msg` arrived in the receive slot (rather than as a badge).
bool holds_slot_cap(const Message& msg) {
  uint64_t all = (uint64_t{1} << msg.extra_caps) - 1;
  return (msg.unwrapped & all) != all;
}

// Empties the receive slot after a message whose capability is not wanted (or was passed on).
void release(ReceiveSlot r, const Message& msg) {
  if (r.depth != 0 && holds_slot_cap(msg)) {
    (void)cnode_delete(r.cnode, r.index, r.depth);
  }
}

}  // namespace

abi::Result<Reply> call(EndpointCap ep, const abi::Method& m, Words words, Words caps,
                        ReceiveSlot receive) {
  TRY(check_request(m, words.size(), caps.size()));
  Message msg;
  load_request(m, words, caps, msg);
  // Set every time: a receive slot left over from an earlier call must not catch a capability.
  arm(receive);
  Status s = sys::call(ep.cptr(), msg);
  if (s != Status::kOk) {
    return abi::err(s);
  }
  auto reply = decode_reply(m, msg, receive.index);
  if (!reply) {
    release(receive, msg);
  }
  return reply;
}

abi::Result<Reply> call(EndpointCap ep, const abi::Method& m,
                        kstd::initializer_list<uint64_t> words) {
  return call(ep, m, Words(words.begin(), words.size()));
}

abi::Result<Reply> call(EndpointCap ep, const abi::Method& m) { return call(ep, m, Words()); }

abi::Result<void> send(EndpointCap ep, const abi::Method& m, Words words) {
  TRY(check_request(m, words.size(), 0));
  Message msg;
  load_request(m, words, {}, msg);
  Status s = sys::send(ep.cptr(), msg);
  if (s != Status::kOk) {
    return abi::err(s);
  }
  return {};
}

bool Server::dispatch(Message& msg) {
  Dispatch d = classify(table_, msg.label, msg.length, msg.extra_caps);
  switch (d.disposition) {
    case Disposition::kInterrupt:
      if (irq_ != nullptr) {
        irq_(msg.words[0], msg.badge);
      } else {
        log("interrupt on line %llu, but no interrupt handler",
            static_cast<unsigned long long>(msg.words[0]));
      }
      return false;
    case Disposition::kUnknown:
      log("refused label %#llx from client %#llx: no such method",
          static_cast<unsigned long long>(msg.label), static_cast<unsigned long long>(msg.badge));
      make_error_reply(refusal(d.disposition), msg);
      return true;
    case Disposition::kMisshapen:
      log("refused %s from client %#llx: %llu words and %llu capabilities do not fit",
          d.entry->method.name, static_cast<unsigned long long>(msg.badge),
          static_cast<unsigned long long>(msg.length),
          static_cast<unsigned long long>(msg.extra_caps));
      make_error_reply(refusal(d.disposition), msg);
      return true;
    case Disposition::kHandle: break;
  }
  Request req;
  req.method = &d.entry->method;
  req.badge = msg.badge;
  req.length = msg.length;
  req.words = msg.words;
  req.caps = received_caps(msg, receive_.index);
  Response resp;
  abi::Result<void> outcome = d.entry->handler(req, resp);
  Status s = make_reply(d.entry->method, outcome, resp, msg);
  if (outcome && s != Status::kOk) {
    log("%s: the handler's reply does not fit the method; answered %s", d.entry->method.name,
        abi::status_name(s));
  }
  return true;
}

abi::Status Server::serve() {
  Message msg;
  bool pending = false;  // msg holds a reply for the caller.
  for (;;) {
    // Set every time: handlers may have made calls of their own, with other receive slots.
    arm(receive_);
    Status s = pending ? reply_recv(ep_.cptr(), msg) : recv(ep_.cptr(), msg);
    if (s == Status::kCancelled) {
      // The thread was suspended while it waited (any reply had gone out before): wait again.
      pending = false;
      continue;
    }
    if (s != Status::kOk) {
      if (!pending) {
        return s;
      }
      // The reply may have been refused (capabilities without the grant right), so the caller
      // may still wait: answer it with the status alone (harmless if it was answered).
      log("reply and receive failed (%s)", abi::status_name(s));
      make_error_reply(s, msg);
      (void)reply(msg);
      pending = false;
      continue;
    }
    bool holds_cap = holds_slot_cap(msg);
    pending = dispatch(msg);
    if (holds_cap) {
      // The capability must leave the receive slot before the next message arrives, and a reply
      // may carry a copy of it: reply first, then empty the slot, then receive.
      if (pending && reply(msg) != Status::kOk) {
        make_error_reply(Status::kInvalidCapability, msg);
        (void)reply(msg);
      }
      (void)cnode_delete(receive_.cnode, receive_.index, receive_.depth);
      pending = false;
    }
  }
}

}  // namespace sys::rpc
