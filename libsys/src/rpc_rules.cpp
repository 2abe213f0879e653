// SPDX-License-Identifier: MIT
//
// The decisions of the RPC layer: which requests and replies fit their method, which handler
// a message goes to, and what the reply says. No system calls here (host tests run it);
// rpc.cpp moves the messages.
#include <abi/fault.hpp>

#include <sys/rpc.hpp>
#include <sys/text.hpp>

#include <kstd/enforce.hpp>

namespace sys::rpc {

using abi::Status;

// --- Client ---------------------------------------------------------------------------------

abi::Result<void> check_request(const abi::Method& m, uint64_t words, uint64_t caps) {
  if (!abi::method_valid(m) || !m.request_fits(words, caps)) {
    return abi::err(Status::kInvalidArgument);
  }
  return {};
}

abi::Result<Reply> decode_reply(const abi::Method& m, const Message& msg,
                                uint64_t receive_index) {
  if (msg.label != 0) {
    // A server answers a failure with its status; any other label breaks the protocol.
    if (msg.label < abi::kStatusCount) {
      return abi::err(static_cast<Status>(msg.label));
    }
    return abi::err(Status::kInvalidMessage);
  }
  if (!m.reply_fits(msg.length, msg.extra_caps)) {
    return abi::err(Status::kInvalidMessage);
  }
  Reply r;
  r.length = msg.length;
  for (uint64_t i = 0; i < msg.length; ++i) {
    r.words[i] = msg.words[i];
  }
  r.caps = received_caps(msg, receive_index);
  return r;
}

// --- Server ---------------------------------------------------------------------------------

void Response::add_word(uint64_t w) {
  if (length_ >= abi::kMaxMessageWords) {
    overflowed_ = true;
    return;
  }
  words_[length_++] = w;
}

void Response::add_words(Words w) {
  for (uint64_t word : w) {
    add_word(word);
  }
}

void Response::add_text(const char* bytes, uint64_t n) {
  auto used = encode_text(bytes, n, words_ + length_, abi::kMaxMessageWords - length_);
  if (!used) {
    overflowed_ = true;
    return;
  }
  length_ += used.value();
}

void Response::add_cap(uint64_t cptr) {
  if (cap_count_ >= abi::kMaxExtraCaps) {
    overflowed_ = true;
    return;
  }
  caps_[cap_count_++] = cptr;
}

abi::Result<void> MethodTable::add(const abi::Method& m, Handler h) {
  if (!abi::method_valid(m) || h == nullptr || find(m.label) != nullptr) {
    return abi::err(Status::kInvalidArgument);
  }
  if (count_ == kMaxMethods) {
    return abi::err(Status::kNoSpace);
  }
  entries_[count_++] = {m, h};
  return {};
}

const MethodTable::Entry* MethodTable::find(uint64_t label) const {
  for (size_t i = 0; i < count_; ++i) {
    if (entries_[i].method.label == label) {
      return &entries_[i];
    }
  }
  return nullptr;
}

Dispatch classify(const MethodTable& table, uint64_t label, uint64_t words, uint64_t caps) {
  if (label == static_cast<uint64_t>(abi::KernelLabel::kIrq)) {
    return {Disposition::kInterrupt, nullptr};
  }
  // Valid methods have labels below the kernel's, so faults end up here too.
  const MethodTable::Entry* e = table.find(label);
  if (e == nullptr) {
    return {Disposition::kUnknown, nullptr};
  }
  if (!e->method.request_fits(words, caps)) {
    return {Disposition::kMisshapen, e};
  }
  return {Disposition::kHandle, e};
}

abi::Status refusal(Disposition d) {
  switch (d) {
    case Disposition::kUnknown: return Status::kNotSupported;
    case Disposition::kMisshapen: return Status::kInvalidArgument;
    case Disposition::kHandle:
    case Disposition::kInterrupt: break;
  }
  return Status::kOk;
}

ReceivedCaps received_caps(const Message& msg, uint64_t receive_index) {
  ReceivedCaps rc;
  rc.count = msg.extra_caps < abi::kMaxExtraCaps ? msg.extra_caps : abi::kMaxExtraCaps;
  for (uint64_t i = 0; i < rc.count; ++i) {
    if ((msg.unwrapped & (uint64_t{1} << i)) != 0) {
      rc.caps[i] = msg.caps[i];
      rc.unwrapped |= uint64_t{1} << i;
    } else {
      rc.caps[i] = receive_index;
    }
  }
  return rc;
}

void make_error_reply(abi::Status status, Message& out) {
  out.label = static_cast<uint64_t>(status);
  out.length = 0;
  out.extra_caps = 0;
  out.unwrapped = 0;
}

abi::Status make_reply(const abi::Method& m, const abi::Result<void>& outcome,
                       const Response& resp, Message& out) {
  if (!outcome) {
    // An "error" of kOk would read as success: refuse it like a reply that does not fit.
    Status s = outcome.error() == Status::kOk ? Status::kInvalidMessage : outcome.error();
    make_error_reply(s, out);
    return s;
  }
  if (resp.overflowed() || !m.reply_fits(resp.length(), resp.cap_count())) {
    make_error_reply(Status::kInvalidMessage, out);
    return Status::kInvalidMessage;
  }
  out.label = 0;
  out.length = resp.length();
  for (uint64_t i = 0; i < resp.length(); ++i) {
    out.words[i] = resp.words()[i];
  }
  out.extra_caps = resp.cap_count();
  for (uint64_t i = 0; i < resp.cap_count(); ++i) {
    out.caps[i] = resp.caps()[i];
  }
  out.unwrapped = 0;
  return Status::kOk;
}

}  // namespace sys::rpc
