// SPDX-License-Identifier: MIT
//
// The echo server (abi/protocols/echo.hpp): answers echo with the words it got and echo_cap
// with the capability it got. It exists to exercise the RPC layer and capability transfer
// between processes; crash is there for the restart tests.
#include <abi/protocols/echo.hpp>

#include <sys/log.hpp>
#include <sys/rpc.hpp>
#include <sys/server.hpp>

#include <kstd/enforce.hpp>

namespace {

using sys::rpc::Request;
using sys::rpc::Response;

abi::Result<void> echo(const Request& req, Response& resp) {
  resp.add_words(sys::rpc::Words(req.words, req.length));
  return {};
}

// The capability is in the server's receive slot; the reply carries a copy, and the runtime
// empties the slot afterwards.
abi::Result<void> echo_cap(const Request& req, Response& resp) {
  // A badged capability to this server's own endpoint arrives as its badge (the kernel unwraps
  // it), and a badge cannot be sent back as a capability.
  if (req.caps.unwrapped != 0) {
    return abi::err(abi::Status::kInvalidCapability);
  }
  resp.add_cap(req.caps.caps[0]);
  return {};
}

abi::Result<void> crash(const Request& req, Response&) {
  sys::log("crashing, as client %#llx asked", static_cast<unsigned long long>(req.badge));
  sys::crash_on_purpose();
}

}  // namespace

int server_main(const abi::ServerInfo&) {
  auto slot = sys::slots().alloc();
  if (!slot) {
    sys::log("no slot to receive capabilities in: %s", abi::status_name(slot.error()));
    return 1;
  }
  sys::rpc::Server server(sys::kSelfEndpoint, sys::receive_slot(slot.value()));
  if (!server.handle(abi::echo::kEcho, echo) || !server.handle(abi::echo::kEchoCap, echo_cap) ||
      !server.handle(abi::echo::kCrash, crash)) {
    sys::log("could not register the methods");
    return 1;
  }
  sys::log("serving echo");
  abi::Status s = server.serve();
  sys::log("stopped serving: %s", abi::status_name(s));
  return 1;
}
