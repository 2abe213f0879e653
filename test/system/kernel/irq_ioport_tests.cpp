// SPDX-License-Identifier: MIT
//
// Interrupt and I/O port capabilities: IrqControl::Get and its errors, IrqHandler SetEndpoint,
// Ack and Clear (driven by a real device: the i8042 keyboard controller raises IRQ 1 when told
// to put a byte in its output buffer), IoPortControl::Issue and its ranges, and what a thread
// may do with in/out with and without a bound I/O port capability.
#include <abi/fault.hpp>
#include <abi/invocation.hpp>

#include <kstd/utility.hpp>

#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

namespace ktest {
namespace {

constexpr uint64_t kIrqCtl = abi::kSlotIrqControl;
constexpr uint64_t kPortCtl = abi::kSlotIoPortControl;

// A line no device in the test machine drives, for handler bookkeeping tests.
constexpr uint64_t kQuietLine = 5;
constexpr uint64_t kKeyboardLine = 1;

uint8_t inb(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
uint16_t inw(uint16_t port) {
  uint16_t v;
  asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
void outb(uint16_t port, uint8_t v) {
  asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

// --- The port worker thread --------------------------------------------------------------------

// The port worker's operations.
enum PortOp : uint64_t {
  kInB = 1,
  kInW,
  kOutB,
  kKbdSetup,     // Drain the i8042 and enable its keyboard interrupt.
  kKbdGenerate,  // Put the value in the i8042 output buffer: IRQ 1.
  kKbdDrain,     // Read the output buffer (the value: the byte, or 0x100 if it was empty).
};

constexpr uint16_t kKbdData = 0x60;
constexpr uint16_t kKbdStatus = 0x64;

// Waits (boundedly) until the controller can take a byte.
void kbd_wait_input() {
  for (int i = 0; i < 100000 && (inb(kKbdStatus) & 2) != 0; ++i) {
  }
}

bool kbd_wait_output() {
  for (int i = 0; i < 100000; ++i) {
    if ((inb(kKbdStatus) & 1) != 0) {
      return true;
    }
  }
  return false;
}

void kbd_command(uint8_t cmd) {
  kbd_wait_input();
  outb(kKbdStatus, cmd);
}

void kbd_data(uint8_t v) {
  kbd_wait_input();
  outb(kKbdData, v);
}

void kbd_drain() {
  for (int i = 0; i < 64 && (inb(kKbdStatus) & 1) != 0; ++i) {
    (void)inb(kKbdData);
  }
}

// Performs one port operation the root task asks for. One that faults blocks the worker until
// the root task, its fault handler, replies.
void port_op(WorkerChannel& c) {
  uint16_t port = static_cast<uint16_t>(c.target);
  switch (c.op) {
    case kInB:
      c.value = inb(port);
      break;
    case kInW:
      c.value = inw(port);
      break;
    case kOutB:
      outb(port, static_cast<uint8_t>(c.value));
      break;
    case kKbdSetup: {
      kbd_drain();
      kbd_command(0x20);  // Read the command byte.
      uint8_t cmd = kbd_wait_output() ? inb(kKbdData) : 0x45;
      kbd_command(0x60);  // Write it back with the keyboard interrupt enabled.
      kbd_data(static_cast<uint8_t>(cmd | 0x01));
      kbd_drain();
      break;
    }
    case kKbdGenerate:
      kbd_command(0xD2);  // Write the keyboard output buffer.
      kbd_data(static_cast<uint8_t>(c.value));
      break;
    case kKbdDrain:
      c.value = kbd_wait_output() ? inb(kKbdData) : 0x100;
      kbd_drain();
      break;
    default:
      break;
  }
}

WorkerChannel g_ports;

// A worker thread that performs port operations, with I/O port capabilities bound to it.
class PortWorker : public Worker {
 public:
  // Starts the worker with the I/O port capabilities `ports` (0 for none) bound at 0..3.
  bool start(kstd::initializer_list<uint64_t> ports) {
    if (!Worker::start("port worker", g_ports, port_op)) {
      return false;
    }
    // It has not run yet: the root task's priority is higher.
    uint64_t index = 0;
    for (uint64_t p : ports) {
      if (p != 0 && !sys::tcb_bind_ioport(tcb(), index, p)) {
        check_failed(__FILE__, __LINE__, "bind the worker's I/O ports");
        return false;
      }
      ++index;
    }
    return true;
  }

  // Runs an operation that must complete; `result` gets what it read.
  bool ok(uint64_t op, uint64_t port = 0, uint64_t value = 0, uint64_t* result = nullptr) {
    Outcome o = run(op, port, value);
    if (o.faulted) {
      note("port operation %llu on %#llx faulted: vector %llu", static_cast<unsigned long long>(op),
           static_cast<unsigned long long>(port),
           static_cast<unsigned long long>(o.fault.words[abi::kExVector]));
      stop();
    }
    if (result != nullptr) {
      *result = Worker::value();
    }
    return o.done;
  }
};

// Whether `o` is a general protection fault (vector 13, error code 0) raised by an in or out
// instruction.
bool gp_fault(const Outcome& o) {
  if (!o.faulted) {
    note("expected #GP, but the access %s", o.done ? "completed" : "neither completed nor faulted");
    return false;
  }
  const sys::Message& m = o.fault;
  if (m.label != static_cast<uint64_t>(abi::KernelLabel::kException) ||
      m.words[abi::kExVector] != 13 || m.words[abi::kExErrorCode] != 0) {
    note("fault label %#llx vector %llu error %#llx", static_cast<unsigned long long>(m.label),
         static_cast<unsigned long long>(m.words[abi::kExVector]),
         static_cast<unsigned long long>(m.words[abi::kExErrorCode]));
    return false;
  }
  return true;
}

uint64_t issue(uint64_t first, uint64_t last) {
  uint64_t s = slot();
  auto r = sys::ioport_control_issue(kPortCtl, first, last, kRoot, s, kDepth);
  if (!r) {
    check_status_failed(__FILE__, __LINE__, "ioport_control_issue", false, r.error(), Status::kOk);
    return 0;
  }
  return s;
}

}  // namespace

// --- IRQ control -------------------------------------------------------------------------------

KTEST(irq_control_get_errors) {
  uint64_t dest = slot();
  for (uint64_t line :
       {uint64_t{24}, uint64_t{255}, uint64_t{256}, (uint64_t{1} << 32) | 5, ~uint64_t{0}}) {
    CHECK_ERR(sys::irq_control_get(kIrqCtl, line, kRoot, dest, kDepth), Status::kRangeError);
  }
  // The runner's RTC timer holds line 8.
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kRtcIrq, kRoot, dest, kDepth), Status::kRevokeFirst);
  // The destination.
  uint64_t ep = make(ObjectType::kEndpoint);
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, ep, kDepth), Status::kDeleteFirst);
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kQuietLine, ep, dest, kDepth),
            Status::kInvalidCapability);
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kQuietLine, slot(), dest, kDepth), Status::kEmptySlot);
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, dest, 0), Status::kDepthMismatch);
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, dest | (uint64_t{1} << 63), kDepth),
            Status::kGuardMismatch);
  CHECK(describe(dest).type == CapType::kNull);
  // None of that took the line.
  CHECK_OK(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, dest, kDepth));
  // The highest line exists.
  CHECK_OK(sys::irq_control_get(kIrqCtl, 23, kRoot, slot(), kDepth));
}

KTEST(irq_control_one_handler_per_line) {
  uint64_t h = slot();
  REQUIRE_OK(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, h, kDepth));
  sys::CapInfo c = describe(h);
  CHECK(c.type == CapType::kIrqHandler);
  CHECK((c.data & 0xFF) == kQuietLine);
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, slot(), kDepth), Status::kRevokeFirst);
  // A copy of the handler keeps the line taken after the original goes.
  uint64_t copy = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, copy, kDepth, kRoot, h, kDepth));
  CHECK(describe(copy).type == CapType::kIrqHandler);
  REQUIRE_OK(sys::cnode_delete(kRoot, h, kDepth));
  CHECK_ERR(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, h, kDepth), Status::kRevokeFirst);
  // The last one frees it.
  REQUIRE_OK(sys::cnode_delete(kRoot, copy, kDepth));
  CHECK_OK(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, h, kDepth));
}

KTEST(irq_handler_set_endpoint_errors) {
  uint64_t h = slot();
  REQUIRE_OK(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, h, kDepth));
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t ro = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, ro, kDepth, kRoot, ep, kDepth, Rights::kRead));
  // An endpoint capability with write right is needed.
  CHECK_ERR(sys::irq_handler_set_endpoint(h, ro), Status::kInvalidCapability);
  CHECK_ERR(sys::irq_handler_set_endpoint(h, make(ObjectType::kFrame4K)),
            Status::kInvalidCapability);
  CHECK_ERR(sys::irq_handler_set_endpoint(h, h), Status::kInvalidCapability);
  CHECK_ERR(sys::irq_handler_set_endpoint(h, slot()), Status::kEmptySlot);
  uint64_t wo = slot();
  REQUIRE_OK(sys::cnode_mint(kRoot, wo, kDepth, kRoot, ep, kDepth, Rights::kWrite, 0x99));
  CHECK_OK(sys::irq_handler_set_endpoint(h, wo));
  CHECK_OK(sys::irq_handler_set_endpoint(h, ep));
  // Ack and Clear succeed whatever the line's state; so does clearing twice.
  CHECK_OK(sys::irq_handler_ack(h));
  CHECK_OK(sys::irq_handler_clear(h));
  CHECK_OK(sys::irq_handler_clear(h));
  CHECK_OK(sys::irq_handler_ack(h));
  // Nothing arrives from a line no device drives.
  sys::Message m;
  CHECK(sys::nb_recv(ep, m) == Status::kTimedOut);
}

KTEST(irq_handler_delivers_acks_and_clears) {
  // The i8042 raises IRQ 1 whenever a byte lands in its output buffer; command 0xD2 puts one
  // there on demand.
  uint64_t ports = issue(0x60, 0x64);
  PortWorker w;
  REQUIRE(w.start({ports}));
  REQUIRE(w.ok(kKbdSetup));
  uint64_t h = slot();
  REQUIRE_OK(sys::irq_control_get(kIrqCtl, kKeyboardLine, kRoot, h, kDepth));
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t badged = slot();
  REQUIRE_OK(sys::cnode_mint(kRoot, badged, kDepth, kRoot, ep, kDepth, kAll, 0x1B));
  REQUIRE_OK(sys::irq_handler_set_endpoint(h, badged));
  const uint64_t kIrqLabel = static_cast<uint64_t>(abi::KernelLabel::kIrq);

  // One interrupt, with the line number and the badge.
  REQUIRE(w.ok(kKbdGenerate, 0, 0xAB));
  sys::Message m;
  REQUIRE(recv_within(ep, m, 16));
  CHECK(m.label == kIrqLabel);
  CHECK(m.length == abi::kIrqLength);
  CHECK(m.words[0] == kKeyboardLine);
  CHECK(m.badge == 0x1B);
  uint64_t byte = 0;
  CHECK(w.ok(kKbdDrain, 0, 0, &byte));
  CHECK(byte == 0xAB);

  // Until it is acknowledged the line stays masked: no second message.
  CHECK(w.ok(kKbdGenerate, 0, 0xCD));
  CHECK(!recv_within(ep, m, 6));
  CHECK(w.ok(kKbdDrain));
  CHECK_OK(sys::irq_handler_ack(h));
  sleep_ticks(2);
  while (sys::nb_recv(ep, m) == Status::kOk) {
    // An edge the controller remembered while the line was masked may arrive now.
  }
  CHECK(w.ok(kKbdGenerate, 0, 0xEF));
  CHECK(recv_within(ep, m, 16));
  CHECK(m.label == kIrqLabel);
  CHECK(w.ok(kKbdDrain));
  CHECK_OK(sys::irq_handler_ack(h));

  // Cleared: nothing is delivered, even acknowledged.
  CHECK_OK(sys::irq_handler_clear(h));
  CHECK_OK(sys::irq_handler_ack(h));
  CHECK(w.ok(kKbdGenerate, 0, 0x12));
  CHECK(!recv_within(ep, m, 6));
  CHECK(w.ok(kKbdDrain));

  // Bound to another endpoint, the interrupts go there with its badge.
  uint64_t ep2 = make(ObjectType::kEndpoint);
  uint64_t badged2 = slot();
  REQUIRE_OK(sys::cnode_mint(kRoot, badged2, kDepth, kRoot, ep2, kDepth, kAll, 0x2B));
  REQUIRE_OK(sys::irq_handler_set_endpoint(h, badged2));
  sleep_ticks(2);
  while (sys::nb_recv(ep2, m) == Status::kOk) {
  }
  CHECK(w.ok(kKbdGenerate, 0, 0x34));
  CHECK(recv_within(ep2, m, 16));
  CHECK(m.badge == 0x2B);
  CHECK(m.words[0] == kKeyboardLine);
  CHECK(sys::nb_recv(ep, m) == Status::kTimedOut);
  CHECK(w.ok(kKbdDrain));
  CHECK_OK(sys::irq_handler_ack(h));

  // Deleting the handler stops delivery and frees the line.
  REQUIRE_OK(sys::cnode_delete(kRoot, h, kDepth));
  CHECK(w.ok(kKbdGenerate, 0, 0x56));
  CHECK(!recv_within(ep2, m, 6));
  CHECK(w.ok(kKbdDrain));
  CHECK_OK(sys::irq_control_get(kIrqCtl, kKeyboardLine, kRoot, h, kDepth));
}

KTEST(irq_deleting_bound_endpoint_unbinds_line) {
  // The binding holds no capability: when the endpoint is destroyed the line must forget it,
  // so that a new endpoint made in the same memory receives nothing it did not ask for.
  uint64_t ports = issue(0x60, 0x64);
  PortWorker w;
  REQUIRE(w.start({ports}));
  REQUIRE(w.ok(kKbdSetup));
  uint64_t ut = make(ObjectType::kUntyped, 12);
  uint64_t ep = slot();
  REQUIRE_OK(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, 0, 0, ep, 1));
  uint64_t obj = describe(ep).object;
  uint64_t h = slot();
  REQUIRE_OK(sys::irq_control_get(kIrqCtl, kKeyboardLine, kRoot, h, kDepth));
  REQUIRE_OK(sys::irq_handler_set_endpoint(h, ep));
  REQUIRE_OK(sys::cnode_delete(kRoot, ep, kDepth));
  uint64_t ep2 = slot();
  REQUIRE_OK(sys::untyped_retype(ut, ObjectType::kEndpoint, 0, kRoot, 0, 0, ep2, 1));
  CHECK(describe(ep2).object == obj);
  CHECK(w.ok(kKbdGenerate, 0, 0x66));
  sys::Message m;
  CHECK(!recv_within(ep2, m, 6));
  CHECK(w.ok(kKbdDrain));
  CHECK_OK(sys::irq_handler_ack(h));
  // Bound again, it works.
  REQUIRE_OK(sys::irq_handler_set_endpoint(h, ep2));
  sleep_ticks(2);
  while (sys::nb_recv(ep2, m) == Status::kOk) {
  }
  CHECK(w.ok(kKbdGenerate, 0, 0x67));
  CHECK(recv_within(ep2, m, 16));
  CHECK(m.words[0] == kKeyboardLine);
  CHECK(w.ok(kKbdDrain));
}

// --- I/O port control --------------------------------------------------------------------------

KTEST(ioport_issue_ranges) {
  uint64_t dest = slot();
  auto try_issue = [&](uint64_t first, uint64_t last) {
    return sys::ioport_control_issue(kPortCtl, first, last, kRoot, dest, kDepth);
  };
  // Backwards, or beyond the 16-bit port space.
  CHECK_ERR(try_issue(0x81, 0x80), Status::kRangeError);
  CHECK_ERR(try_issue(0xFFFF, 0x0), Status::kRangeError);
  CHECK_ERR(try_issue(0xFFFF, 0x10000), Status::kRangeError);
  CHECK_ERR(try_issue(0x10000, 0x10000), Status::kRangeError);
  CHECK_ERR(try_issue(0x100, ~uint64_t{0}), Status::kRangeError);
  // Overlapping the kernel's PICs and PIT, at either end or inside.
  struct Range {
    uint64_t first, last;
  };
  const Range kernel_overlaps[] = {
      {0x20, 0x20}, {0x21, 0x21}, {0x1F, 0x20}, {0x21, 0x22}, {0x00, 0xFFFF}, {0x40, 0x40},
      {0x43, 0x43}, {0x3F, 0x40}, {0x43, 0x44}, {0x41, 0x42}, {0xA0, 0xA0},   {0xA1, 0xA1},
      {0x9F, 0xA0}, {0xA1, 0xA2}, {0x00, 0x20}, {0x30, 0x50},
  };
  for (const Range& r : kernel_overlaps) {
    auto res = try_issue(r.first, r.last);
    if (res.ok() || res.error() != Status::kRangeError) {
      note("ports %#llx..%#llx", static_cast<unsigned long long>(r.first),
           static_cast<unsigned long long>(r.last));
      CHECK_ERR(try_issue(r.first, r.last), Status::kRangeError);
    }
  }
  CHECK(describe(dest).type == CapType::kNull);
  // Right next to them, and the very ends of the port space, are fine.
  const Range fine[] = {{0x00, 0x1F},   {0x22, 0x3F},     {0x44, 0x9F},
                        {0xA2, 0xFFFF}, {0xFFFF, 0xFFFF}, {0x80, 0x80}};
  for (const Range& r : fine) {
    uint64_t s = issue(r.first, r.last);
    if (s != 0) {
      sys::CapInfo c = describe(s);
      CHECK(c.type == CapType::kIoPort);
      CHECK((c.data & 0xFFFF) == r.first);
      CHECK(((c.data >> 16) & 0xFFFF) == r.last);
    }
  }
}

KTEST(ioport_issue_destination_errors) {
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t dest = slot();
  CHECK_ERR(sys::ioport_control_issue(kPortCtl, 0x80, 0x80, kRoot, ep, kDepth),
            Status::kDeleteFirst);
  CHECK_ERR(sys::ioport_control_issue(kPortCtl, 0x80, 0x80, ep, dest, kDepth),
            Status::kInvalidCapability);
  CHECK_ERR(sys::ioport_control_issue(kPortCtl, 0x80, 0x80, kRoot, dest, 65),
            Status::kDepthMismatch);
  CHECK_ERR(
      sys::ioport_control_issue(kPortCtl, 0x80, 0x80, kRoot, dest | (uint64_t{1} << 63), kDepth),
      Status::kGuardMismatch);
  CHECK(describe(dest).type == CapType::kNull);
  // Two capabilities may cover the same ports.
  CHECK(issue(0x80, 0x80) != 0);
  CHECK(issue(0x80, 0x80) != 0);
}

// --- Port access -------------------------------------------------------------------------------

KTEST(ioport_bound_thread_uses_its_ports) {
  uint64_t p80 = issue(0x80, 0x80);
  uint64_t p61 = issue(0x61, 0x61);
  uint64_t wide = issue(0x300, 0x3FF);
  PortWorker w;
  REQUIRE(w.start({p80, 0, p61, wide}));
  CHECK(w.ok(kInB, 0x80));
  CHECK(w.ok(kOutB, 0x80, 0x42));  // The POST code port: writes are harmless.
  CHECK(w.ok(kInB, 0x61));
  // A range from its first port to its last (reads here disturb nothing: the floppy
  // controller's status registers and unused ports; the serial port at 0x3F8 is left alone).
  CHECK(w.ok(kInB, 0x300));
  CHECK(w.ok(kInW, 0x3F0));
  CHECK(w.ok(kInB, 0x3FF));
}

KTEST(ioport_thread_without_binding_faults_with_gp) {
  PortWorker w;
  REQUIRE(w.start({}));
  CHECK(gp_fault(w.run(kInB, 0x80)));
  w.stop();
  PortWorker w2;
  REQUIRE(w2.start({}));
  CHECK(gp_fault(w2.run(kOutB, 0x80, 1)));
  w2.stop();
  // The root task's own ports (the RTC at 0x70) do not leak to other threads.
  PortWorker w3;
  REQUIRE(w3.start({}));
  CHECK(gp_fault(w3.run(kInB, 0x70)));
  w3.stop();
}

KTEST(ioport_access_outside_bound_range_faults) {
  uint64_t p80 = issue(0x80, 0x80);
  PortWorker w;
  REQUIRE(w.start({p80}));
  CHECK(w.ok(kInB, 0x80));
  CHECK(gp_fault(w.run(kInB, 0x81)));
  w.stop();
  // A 16-bit access needs both ports.
  PortWorker w2;
  REQUIRE(w2.start({p80}));
  CHECK(gp_fault(w2.run(kInW, 0x80)));
  w2.stop();
  PortWorker w3;
  REQUIRE(w3.start({p80}));
  CHECK(gp_fault(w3.run(kInB, 0x7F)));
  w3.stop();
}

KTEST(ioport_unbinding_removes_access) {
  uint64_t p80 = issue(0x80, 0x80);
  PortWorker w;
  REQUIRE(w.start({0, p80}));
  CHECK(w.ok(kInB, 0x80));
  CHECK_OK(sys::tcb_bind_ioport(w.tcb(), 1, 0));
  CHECK(gp_fault(w.run(kInB, 0x80)));
  w.stop();
  // Rebinding in another index of another thread works again.
  PortWorker w2;
  REQUIRE(w2.start({}));
  CHECK_OK(sys::tcb_bind_ioport(w2.tcb(), 3, p80));
  CHECK(w2.ok(kInB, 0x80));
}

KTEST(ioport_binding_outlives_the_capability_it_was_copied_from) {
  // The TCB keeps its own copy of a bound capability.
  uint64_t p80 = issue(0x80, 0x80);
  PortWorker w;
  REQUIRE(w.start({p80}));
  REQUIRE_OK(sys::cnode_delete(kRoot, p80, kDepth));
  CHECK(w.ok(kInB, 0x80));
}

// --- Labels ------------------------------------------------------------------------------------

KTEST(irq_ioport_wrong_labels_and_truncated_messages) {
  uint64_t h = slot();
  REQUIRE_OK(sys::irq_control_get(kIrqCtl, kQuietLine, kRoot, h, kDepth));
  uint64_t port = issue(0x80, 0x80);
  check_truncated(CapType::kIrqControl, kIrqCtl);
  check_truncated(CapType::kIrqHandler, h);
  check_truncated(CapType::kIoPortControl, kPortCtl);
  uint64_t dest = slot();
  // Labels of one on another.
  CHECK_ERR(sys::irq_control_get(kPortCtl, kQuietLine, kRoot, dest, kDepth),
            Status::kIllegalOperation);
  CHECK_ERR(sys::ioport_control_issue(kIrqCtl, 0x80, 0x80, kRoot, dest, kDepth),
            Status::kIllegalOperation);
  CHECK_ERR(sys::irq_handler_ack(kIrqCtl), Status::kIllegalOperation);
  CHECK_ERR(sys::irq_handler_clear(port), Status::kIllegalOperation);
  CHECK_ERR(sys::irq_control_get(h, kQuietLine, kRoot, dest, kDepth), Status::kIllegalOperation);
  // An I/O port capability has no invocations.
  CHECK_ERR(sys::ioport_control_issue(port, 0x80, 0x80, kRoot, dest, kDepth),
            Status::kIllegalOperation);
  CHECK_ERR(sys::invoke(port, static_cast<abi::Label>(81), {0, 0, 0, 0, 0}),
            Status::kIllegalOperation);
  CHECK_ERR(sys::invoke(h, static_cast<abi::Label>(68), {0}), Status::kIllegalOperation);
  CHECK(describe(dest).type == CapType::kNull);
}

}  // namespace ktest
