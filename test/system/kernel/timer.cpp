// SPDX-License-Identifier: MIT
#include "timer.hpp"

#include <abi/fault.hpp>
#include <sys/port_io.hpp>

#include "ktest.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

uint64_t g_ep = 0;
uint64_t g_raw = 0;
uint64_t g_irq = 0;
bool g_ready = false;

using sys::cmos_read;
using sys::cmos_write;

}  // namespace

bool timer_init(sys::SlotAllocator& slots, sys::ObjectAllocator& objects) {
  Env& e = env();
  auto ep = objects.alloc(abi::ObjectType::kEndpoint);
  auto badged = slots.alloc();
  auto irq = slots.alloc();
  auto port = slots.alloc();
  if (!ep || !badged || !irq || !port) {
    return false;
  }
  g_ep = badged.value();
  g_raw = ep.value();
  g_irq = irq.value();
  if (!sys::cnode_mint(e.cnode, g_ep, 64, e.cnode, ep.value(), 64, abi::Rights::kAllBits,
                       kTimerBadge) ||
      !sys::irq_control_get(abi::kSlotIrqControl, kRtcIrq, e.cnode, g_irq, 64) ||
      !sys::irq_handler_set_endpoint(g_irq, g_ep) ||
      !sys::ioport_control_issue(abi::kSlotIoPortControl, 0x70, 0x71, e.cnode, port.value(), 64) ||
      !sys::tcb_bind_ioport(e.tcb, 0, port.value())) {
    return false;
  }
  // Rate 10: 32768 >> 9 = 64 Hz. Then enable the periodic interrupt (register B bit 6).
  cmos_write(0x0A, static_cast<uint8_t>((cmos_read(0x0A) & 0xF0) | 10));
  cmos_write(0x0B, static_cast<uint8_t>(cmos_read(0x0B) | 0x40));
  (void)cmos_read(0x0C);
  g_ready = true;
  return true;
}

uint64_t timer_endpoint() { return g_ep; }
uint64_t timer_endpoint_object() { return g_raw; }
uint64_t timer_irq_handler() { return g_irq; }

void timer_ack() {
  (void)cmos_read(0x0C);
  (void)sys::irq_handler_ack(g_irq);
}

void sleep_ticks(uint64_t ticks) {
  if (!g_ready) {
    check_failed(__FILE__, __LINE__, "sleep without a timer");
    return;
  }
  for (uint64_t i = 0; i < ticks; ++i) {
    sys::Message m;
    auto s = sys::recv(g_ep, m);
    if (s != abi::Status::kOk || m.label != static_cast<uint64_t>(abi::KernelLabel::kIrq)) {
      check_failed(__FILE__, __LINE__, "timer interrupt");
      return;
    }
    timer_ack();
  }
}

}  // namespace ktest
