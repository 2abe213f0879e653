// SPDX-License-Identifier: MIT
//
// The key-value server (abi/protocols/kv.hpp): a fixed table of kCapacity entries in the
// server's own memory. It starts empty, so a restarted server has forgotten everything, which
// is what the restart tests check. crash faults on purpose.
#include <abi/protocols/kv.hpp>

#include <sys/log.hpp>
#include <sys/rpc.hpp>
#include <sys/server.hpp>

#include <kstd/enforce.hpp>

namespace {

using abi::Status;
using sys::rpc::Request;
using sys::rpc::Response;

struct Entry {
  uint64_t key;
  uint64_t value;
  bool used;
};

Entry g_table[abi::kv::kCapacity];
uint64_t g_count = 0;

Entry* find(uint64_t key) {
  for (Entry& e : g_table) {
    if (e.used && e.key == key) {
      return &e;
    }
  }
  return nullptr;
}

Entry* free_entry() {
  for (Entry& e : g_table) {
    if (!e.used) {
      return &e;
    }
  }
  return nullptr;
}

abi::Result<void> put(const Request& req, Response&) {
  uint64_t key = req.words[0];
  Entry* e = find(key);
  if (e == nullptr) {
    e = free_entry();
    if (e == nullptr) {
      return abi::err(Status::kNoSpace);
    }
    *e = {key, 0, true};
    ++g_count;
  }
  e->value = req.words[1];
  return {};
}

abi::Result<void> get(const Request& req, Response& resp) {
  const Entry* e = find(req.words[0]);
  if (e == nullptr) {
    return abi::err(Status::kNotFound);
  }
  resp.add_word(e->value);
  return {};
}

abi::Result<void> count(const Request&, Response& resp) {
  resp.add_word(g_count);
  return {};
}

abi::Result<void> crash(const Request& req, Response&) {
  sys::log("crashing, as client %#llx asked", static_cast<unsigned long long>(req.badge));
  sys::crash_on_purpose();
}

}  // namespace

int server_main(const abi::ServerInfo& info) {
  sys::rpc::Server server(sys::kSelfEndpoint);
  if (!server.handle(abi::kv::kPut, put) || !server.handle(abi::kv::kGet, get) ||
      !server.handle(abi::kv::kCount, count) || !server.handle(abi::kv::kCrash, crash)) {
    sys::log("could not register the methods");
    return 1;
  }
  if (info.restarts > 0) {
    sys::log("restarted (%llu times so far); the table is empty",
             static_cast<unsigned long long>(info.restarts));
  } else {
    sys::log("serving kv (%llu entries)", static_cast<unsigned long long>(abi::kv::kCapacity));
  }
  abi::Status s = server.serve();
  sys::log("stopped serving: %s", abi::status_name(s));
  return 1;
}
