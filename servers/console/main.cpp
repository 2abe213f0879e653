// SPDX-License-Identifier: MIT
//
// The console server (abi/protocols/console.hpp): owns COM1 (ports 0x3F8-0x3FF, IRQ 4) and
// shares it. Writes are buffered and sent as the UART takes them; input is collected by the
// receive interrupt and handed out by read, which never blocks. Its own log goes straight
// into its output buffer.
#include <abi/protocols/console.hpp>

#include <kstd/utility.hpp>

#include <sys/cap.hpp>
#include <sys/log.hpp>
#include <sys/rpc.hpp>
#include <sys/server.hpp>
#include <sys/text.hpp>

#include "uart.hpp"

#include <kstd/enforce.hpp>

namespace {

using abi::console::kMaxBytes;
using sys::rpc::Request;
using sys::rpc::Response;

constexpr uint16_t kCom1First = 0x3F8;
constexpr uint16_t kCom1Last = 0x3FF;
constexpr uint32_t kCom1Irq = 4;

console::Uart g_uart;
sys::IrqHandlerCap g_irq_handler;

abi::Result<void> write(const Request& req, Response&) {
  char text[kMaxBytes];
  uint64_t n = TRY(sys::decode_text(req.words, req.length, text, sizeof text));
  g_uart.write(text, n);
  return {};
}

abi::Result<void> read(const Request& req, Response& resp) {
  char text[kMaxBytes];
  size_t n = g_uart.read(text, kstd::min<uint64_t>(req.words[0], kMaxBytes));
  resp.add_text(text, n);
  return {};
}

abi::Result<void> flush(const Request&, Response&) {
  g_uart.flush();
  return {};
}

void interrupt(uint64_t, uint64_t) {
  g_uart.service();
  (void)g_irq_handler.ack();
  // The kernel masks the line while the interrupt is handled, and the I/O APIC ignores an edge
  // on a masked line, while the UART keeps its line raised: a new event since the first pass
  // would never interrupt. Servicing again after the unmask takes the line down, so the next
  // event raises a fresh edge.
  g_uart.service();
}

void log_write(const char* text, size_t n) { g_uart.write(text, n); }
void log_flush() { g_uart.flush(); }

// Takes over COM1: its ports for this thread, its interrupt to this server's endpoint.
bool take_com1() {
  auto ports = sys::port_grant(kCom1First, kCom1Last);
  auto irq = sys::irq_grant(kCom1Irq);
  if (!ports || !irq) {
    sys::log("the manifest must grant ports %#x-%#x and IRQ %u (got %s ports, %s IRQ)",
             kCom1First, kCom1Last, kCom1Irq, ports ? "the" : "no", irq ? "the" : "no");
    return false;
  }
  if (auto r = sys::kSelfTcb.bind_ioport(0, ports.value()); !r) {
    sys::log("cannot bind the COM1 ports: %s", abi::status_name(r.error()));
    return false;
  }
  g_uart.init(kCom1First);
  g_irq_handler = irq.value();
  if (auto r = g_irq_handler.set_endpoint(sys::kSelfEndpoint); !r) {
    sys::log("cannot route IRQ %u to the endpoint: %s", kCom1Irq, abi::status_name(r.error()));
    return false;
  }
  return true;
}

}  // namespace

int server_main(const abi::ServerInfo&) {
  if (!take_com1()) {
    return 1;
  }
  sys::set_log_sink({log_write, log_flush});
  sys::rpc::Server server(sys::kSelfEndpoint);
  server.on_irq(interrupt);
  if (!server.handle(abi::console::kWrite, write) || !server.handle(abi::console::kRead, read) ||
      !server.handle(abi::console::kFlush, flush)) {
    sys::log("could not register the methods");
    return 1;
  }
  sys::log("serving COM1 (ports %#x-%#x, IRQ %u) for every server's log", kCom1First, kCom1Last,
           kCom1Irq);
  abi::Status s = server.serve();
  sys::log("stopped serving: %s", abi::status_name(s));
  g_uart.flush();
  return 1;
}
