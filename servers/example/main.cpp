// SPDX-License-Identifier: MIT
//
// The example server: the worked example of docs/writing-a-server.md, which quotes this file
// whole (a unit test keeps the two the same). It serves abi::hello.
#include <abi/protocols/hello.hpp>

#include <kstd/string.hpp>

#include <sys/log.hpp>
#include <sys/rpc.hpp>
#include <sys/server.hpp>
#include <sys/text.hpp>

#include <kstd/enforce.hpp>

namespace {

using abi::Status;
using sys::rpc::Request;
using sys::rpc::Response;

// The root task badges every client's capability differently: the badge says who calls.
struct Client {
  uint64_t badge;
  uint64_t greetings;
};

constexpr uint64_t kMaxClients = 8;
Client g_clients[kMaxClients];
uint64_t g_client_count = 0;

abi::Result<Client*> client(uint64_t badge) {
  for (uint64_t i = 0; i < g_client_count; ++i) {
    if (g_clients[i].badge == badge) {
      return &g_clients[i];
    }
  }
  if (g_client_count == kMaxClients) {
    return abi::err(Status::kNoSpace);
  }
  g_clients[g_client_count] = {badge, 0};
  return &g_clients[g_client_count++];
}

// The RPC layer has checked the request's shape against abi::hello::kGreet before this runs,
// and checks the response against it afterwards.
abi::Result<void> greet(const Request& req, Response& resp) {
  char name[abi::hello::kMaxName];
  uint64_t n = TRY(sys::decode_text(req.words, req.length, name, sizeof name));
  Client* c = TRY(client(req.badge));
  ++c->greetings;
  char text[abi::hello::kMaxName + 8];
  memcpy(text, "hello, ", 7);
  memcpy(text + 7, name, n);
  text[7 + n] = '!';
  resp.add_text(text, n + 8);
  sys::log("greeted %.*s (client %#llx)", static_cast<int>(n), name,
           static_cast<unsigned long long>(req.badge));
  return {};
}

abi::Result<void> greetings(const Request& req, Response& resp) {
  Client* c = TRY(client(req.badge));
  resp.add_word(c->greetings);
  return {};
}

}  // namespace

int server_main(const abi::ServerInfo&) {
  sys::rpc::Server server(sys::kSelfEndpoint);
  if (!server.handle(abi::hello::kGreet, greet) ||
      !server.handle(abi::hello::kGreetings, greetings)) {
    sys::log("could not register the methods");
    return 1;
  }
  sys::log("serving hello");
  abi::Status s = server.serve();
  sys::log("stopped serving: %s", abi::status_name(s));
  return 1;
}
