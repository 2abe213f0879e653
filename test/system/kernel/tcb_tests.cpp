// SPDX-License-Identifier: MIT
//
// TCB invocations other than priorities (sched.cpp has those): configure and each of its
// argument errors, reading and writing registers, suspend and resume, the FS base and I/O port
// bindings.
#include <abi/fault.hpp>
#include <abi/invocation.hpp>

#include <sys/thread_block.hpp>

#include "helpers.hpp"
#include "ktest.hpp"
#include "spawn.hpp"
#include "timer.hpp"

#include <kstd/enforce.hpp>

extern "C" void sys_thread_entry();

namespace ktest {
namespace {

volatile uint64_t g_flag;
volatile uint64_t g_status;
volatile uint64_t g_seen;

// A thread in the root task's address space built by hand, so that its configuration can be
// chosen freely: stack pages, an IPC buffer page with the thread block after the buffer.
struct Manual {
  uint64_t tcb;
  uint64_t buffer_vaddr;
  uint64_t buffer_frame;
  uint64_t stack_top;
  sys::ThreadBlock* block;
};

abi::Result<Manual> manual_thread() {
  Env& e = env();
  Manual m{};
  uint64_t base = region(5 * 4096);
  TRY(e.vs.map_new_range(base, 4 * 4096, kRW));
  m.stack_top = base + 4 * 4096;
  m.buffer_vaddr = m.stack_top;
  m.buffer_frame = TRY(e.vs.map_new(m.buffer_vaddr, kRW));
  m.tcb = TRY(e.objects.alloc(ObjectType::kTcb));
  m.block = reinterpret_cast<sys::ThreadBlock*>(m.buffer_vaddr + sizeof(abi::IpcBuffer));
  m.block->self = m.block;
  m.block->ipc = reinterpret_cast<abi::IpcBuffer*>(m.buffer_vaddr);
  return m;
}

// Starts a manual thread at fn(arg) through WriteRegisters.
abi::Result<void> start_manual(const Manual& m, void (*fn)(uint64_t), uint64_t arg) {
  sys::Registers regs{};
  regs.r[abi::kRegRip] = reinterpret_cast<uint64_t>(&sys_thread_entry);
  regs.r[abi::kRegRsp] = m.stack_top;
  regs.r[abi::kRegRflags] = 0x202;
  regs.r[abi::kRegRdi] = reinterpret_cast<uint64_t>(fn);
  regs.r[abi::kRegRsi] = arg;
  regs.r[abi::kRegFsBase] = reinterpret_cast<uint64_t>(m.block);
  return sys::tcb_write_registers(m.tcb, true, regs);
}

}  // namespace

// --- Configure ---------------------------------------------------------------------------------

KTEST(tcb_configure_argument_errors) {
  Env& e = env();
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t frame = make(ObjectType::kFrame4K);
  uint64_t large = make(ObjectType::kFrame2M);
  uint64_t no_asid = make(ObjectType::kPml4);
  uint64_t ro = slot();
  uint64_t wo = slot();
  REQUIRE_OK(sys::cnode_copy(kRoot, ro, kDepth, kRoot, frame, kDepth, Rights::kRead));
  REQUIRE_OK(sys::cnode_copy(kRoot, wo, kDepth, kRoot, frame, kDepth, Rights::kWrite));
  uint64_t empty = slot();
  uint64_t va = region(4096);
  uint64_t radix = e.boot->root_cnode_radix;

  // cspace: not a CNode, empty, bad guard data.
  CHECK_ERR(sys::tcb_configure(tcb, 0, ep, 0, e.vspace, va, frame), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, frame, 0, e.vspace, va, frame), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, empty, 0, e.vspace, va, frame), Status::kEmptySlot);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, abi::cnode_guard_data(0, 64 - radix + 1), e.vspace,
                               va, frame),
            Status::kInvalidArgument);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, abi::cnode_guard_data(8, 3), e.vspace, va, frame),
            Status::kInvalidArgument);
  // vspace: not a PML4, or a PML4 without an ASID.
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, ep, va, frame), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, kRoot, va, frame), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, no_asid, va, frame), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, empty, va, frame), Status::kEmptySlot);
  // Buffer frame: not a frame, not writable, not readable, not 4 KiB.
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, va, ep), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, va, ro), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, va, wo), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, va, large), Status::kInvalidCapability);
  // Buffer address: 1 KiB aligned and in the user half.
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, va + 8, frame), Status::kAlignmentError);
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, va + 512, frame),
            Status::kAlignmentError);
  for (uint64_t bad : {abi::kUserTop, uint64_t{0x0000800000000000}, uint64_t{0xFFFF800000000000},
                       uint64_t{0xFFFFFFFFFFFFFC00}}) {
    CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, bad, frame), Status::kInvalidArgument);
  }
  // Nothing was set by any of these: the thread still cannot run.
  CHECK_ERR(sys::tcb_resume(tcb), Status::kIllegalOperation);
  // The last 1 KiB below the top, and any 1 KiB boundary inside a page, are fine.
  CHECK_OK(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, abi::kUserTop - 1024, frame));
  CHECK_OK(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, va + 3072, frame));
}

KTEST(tcb_configure_refuses_vspace_whose_asid_pool_is_gone) {
  Env& e = env();
  uint64_t ut = make(ObjectType::kUntyped, abi::kAsidPoolBits);
  uint64_t pool = slot();
  REQUIRE_OK(sys::asid_control_make_pool(abi::kSlotAsidControl, ut, kRoot, pool, kDepth));
  uint64_t pml4 = make(ObjectType::kPml4);
  REQUIRE_OK(sys::asid_pool_assign(pool, pml4));
  uint64_t tcb = make(ObjectType::kTcb);
  CHECK_OK(sys::tcb_configure(tcb, 0, kRoot, 0, pml4, 0, 0));
  // Without its pool the PML4's ASID means nothing any more.
  REQUIRE_OK(sys::cnode_delete(kRoot, pool, kDepth));
  CHECK_ERR(sys::tcb_configure(tcb, 0, kRoot, 0, pml4, 0, 0), Status::kInvalidCapability);
  // The root task's own address space is still fine.
  CHECK_OK(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, 0, 0));
}

KTEST(tcb_configure_caller_itself_is_illegal) {
  // Arguments that would be valid for any other thread (the root task's own), so that a kernel
  // that wrongly accepted them would change nothing.
  Env& e = env();
  CHECK_ERR(sys::tcb_configure(e.tcb, 0, e.cnode, 0, e.vspace, abi::kRootIpcBufferVaddr,
                               abi::kSlotInitIpcBuffer),
            Status::kIllegalOperation);
}

KTEST(tcb_resume_needs_cspace_and_vspace) {
  Env& e = env();
  uint64_t tcb = make(ObjectType::kTcb);
  CHECK_ERR(sys::tcb_resume(tcb), Status::kIllegalOperation);
  CHECK_OK(sys::tcb_configure(tcb, 0, kRoot, 0, 0, 0, 0));
  CHECK_ERR(sys::tcb_resume(tcb), Status::kIllegalOperation);
  CHECK_OK(sys::tcb_configure(tcb, 0, 0, 0, e.vspace, 0, 0));
  CHECK_ERR(sys::tcb_resume(tcb), Status::kIllegalOperation);
  // Suspending a thread that never ran is harmless.
  CHECK_OK(sys::tcb_suspend(tcb));
}

namespace {

void send_from_own_cspace(uint64_t ep) {
  g_status = static_cast<uint64_t>(sys::send(ep, sys::Message::make(0x77, {ep})));
}

}  // namespace

KTEST(tcb_configure_applies_cspace_root_data) {
  // A thread whose CSpace root is a radix-4 CNode, given a 60-bit guard through
  // cspace_root_data: in it, slot numbers are cptrs. Without the guard, cptr 1 would land in
  // slot 0 (the top four bits) and the send would fail.
  Env& e = env();
  uint64_t cspace = make(ObjectType::kCNode, 4);
  uint64_t ep = make(ObjectType::kEndpoint);
  REQUIRE_OK(sys::cnode_copy(cspace, 1, 4, kRoot, ep, kDepth));
  Manual m = REQUIRE_OK(manual_thread());
  REQUIRE_OK(sys::cnode_copy(cspace, 2, 4, kRoot, m.tcb, kDepth));
  m.block->tcb = 2;  // So that the thread can suspend itself when it is done.
  CHECK_OK(sys::tcb_configure(m.tcb, 0, cspace, abi::cnode_guard_data(0, 60), e.vspace,
                              m.buffer_vaddr, m.buffer_frame));
  REQUIRE_OK(sys::tcb_set_priority(m.tcb, e.tcb, 100));
  g_status = ~uint64_t{0};
  REQUIRE_OK(start_manual(m, send_from_own_cspace, 1));
  sys::Message msg;
  CHECK(recv_within(ep, msg, 16));
  CHECK(msg.label == 0x77);
  CHECK(msg.length == 1 && msg.words[0] == 1);
  sleep_ticks(1);
  CHECK(g_status == static_cast<uint64_t>(Status::kOk));
}

namespace {

void undefined_instruction(uint64_t) {
  asm volatile("ud2");
}

}  // namespace

KTEST(tcb_fault_endpoint_is_a_cptr_looked_up_at_fault_time) {
  // The fault endpoint slot is empty when the thread is configured; the endpoint is put there
  // afterwards (the thread has not run yet: the root task's priority is higher).
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t fault_slot = slot();
  REQUIRE_OK(spawn(undefined_instruction, 0, {100, fault_slot}));
  REQUIRE_OK(sys::cnode_mint(kRoot, fault_slot, kDepth, kRoot, ep, kDepth, kAll, 0xFA17));
  sys::Message m;
  REQUIRE(recv_within(ep, m, 16));
  CHECK(m.label == static_cast<uint64_t>(abi::KernelLabel::kException));
  CHECK(m.badge == 0xFA17);
  CHECK(m.words[abi::kExVector] == 6);  // #UD.
  uint64_t fn = reinterpret_cast<uint64_t>(&undefined_instruction);
  CHECK(m.words[abi::kExIp] >= fn && m.words[abi::kExIp] < fn + 64);
  CHECK(sys::reply(sys::Message::make(abi::kFaultStop, {})) == Status::kOk);
}

// --- Registers ---------------------------------------------------------------------------------

KTEST(tcb_write_then_read_registers_round_trip) {
  Env& e = env();
  uint64_t tcb = make(ObjectType::kTcb);
  REQUIRE_OK(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, 0, 0));
  sys::Registers w{};
  for (uint64_t i = 0; i < abi::kRegisterCount; ++i) {
    w.r[i] = (0x1111111111111111ull * (i % 15 + 1)) ^ i;
  }
  w.r[abi::kRegRip] = 0x0000000000401000;
  w.r[abi::kRegRsp] = abi::kUserTop - 8;
  w.r[abi::kRegRflags] = 0x202 | 0x1 | 0x800;  // IF, CF, OF.
  w.r[abi::kRegFsBase] = 0x00007FFF12345000;
  CHECK_OK(sys::tcb_write_registers(tcb, false, w));
  sys::Registers r = REQUIRE_OK(sys::tcb_read_registers(tcb, false));
  for (uint64_t i = 0; i < abi::kRegisterCount; ++i) {
    if (r.r[i] != w.r[i]) {
      note("register %llu: wrote %#llx, read %#llx", static_cast<unsigned long long>(i),
           static_cast<unsigned long long>(w.r[i]), static_cast<unsigned long long>(r.r[i]));
      CHECK(r.r[i] == w.r[i]);
    }
  }
  // Writing a prefix changes only that prefix; reading a prefix gives only it.
  sys::Registers two{};
  two.r[abi::kRegRip] = 0x0000000000402000;
  two.r[abi::kRegRsp] = 0x0000000000500000;
  CHECK_OK(sys::tcb_write_registers(tcb, false, two, 2));
  sys::Reply part = REQUIRE_OK(sys::invoke(tcb, abi::Label::kTcbReadRegisters, {0, 4}));
  CHECK(part.length == 4);
  CHECK(part.words[abi::kRegRip] == 0x402000);
  CHECK(part.words[abi::kRegRsp] == 0x500000);
  CHECK(part.words[abi::kRegRflags] == w.r[abi::kRegRflags]);
  CHECK(part.words[abi::kRegRax] == w.r[abi::kRegRax]);
}

KTEST(tcb_write_registers_sanitises_flags) {
  Env& e = env();
  uint64_t tcb = make(ObjectType::kTcb);
  REQUIRE_OK(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, 0, 0));
  sys::Registers w{};
  w.r[abi::kRegRip] = 0x401000;
  w.r[abi::kRegRsp] = 0x500000;
  // IOPL 3, NT, VM, RF and interrupts off: a user thread may have none of these.
  w.r[abi::kRegRflags] = 0x3000 | 0x4000 | 0x20000 | 0x10000 | 0x1;
  CHECK_OK(sys::tcb_write_registers(tcb, false, w, 3));
  sys::Registers r = REQUIRE_OK(sys::tcb_read_registers(tcb, false));
  uint64_t f = r.r[abi::kRegRflags];
  CHECK((f & 0x3000) == 0);   // IOPL 0: port access stays with the I/O bitmap.
  CHECK((f & 0x4000) == 0);   // NT.
  CHECK((f & 0x20000) == 0);  // VM.
  CHECK((f & 0x200) != 0);    // IF: the thread cannot turn interrupts off.
  CHECK((f & 0x1) != 0);      // The arithmetic flags are the thread's own.
}

KTEST(tcb_register_invocation_errors) {
  Env& e = env();
  uint64_t tcb = make(ObjectType::kTcb);
  REQUIRE_OK(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, 0, 0));
  sys::Registers good{};
  good.r[abi::kRegRip] = 0x401000;
  good.r[abi::kRegRsp] = 0x500000;
  good.r[abi::kRegRflags] = 0x202;
  good.r[abi::kRegFsBase] = 0x600000;
  REQUIRE_OK(sys::tcb_write_registers(tcb, false, good));

  // Counts.
  for (uint64_t n : {uint64_t{0}, abi::kRegisterCount + 1, uint64_t{1000}, ~uint64_t{0}}) {
    CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbReadRegisters, {0, n}), Status::kRangeError);
  }
  uint64_t args[2 + abi::kRegisterCount + 1] = {};
  args[1] = 0;
  CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbWriteRegisters, args, 2), Status::kRangeError);
  args[1] = abi::kRegisterCount + 1;
  args[2] = 0x401000;
  args[3] = 0x500000;
  CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbWriteRegisters, args, 2 + abi::kRegisterCount + 1),
            Status::kRangeError);
  // Fewer register words than the count.
  args[1] = abi::kRegisterCount;
  CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbWriteRegisters, args, 2 + 10),
            Status::kTruncatedMessage);
  CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbWriteRegisters, args, 1), Status::kTruncatedMessage);
  CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbReadRegisters, {0}), Status::kTruncatedMessage);

  // Instruction and stack pointers in the user half only; a canonical FS base.
  auto write_one = [&](uint64_t index, uint64_t value) {
    sys::Registers w = good;
    w.r[index] = value;
    return sys::tcb_write_registers(tcb, false, w);
  };
  for (uint64_t bad :
       {abi::kUserTop, uint64_t{0x0000800000000000}, uint64_t{0xFFFF800000000000}, ~uint64_t{0}}) {
    CHECK_ERR(write_one(abi::kRegRip, bad), Status::kInvalidArgument);
    CHECK_ERR(write_one(abi::kRegRsp, bad), Status::kInvalidArgument);
  }
  CHECK_ERR(write_one(abi::kRegFsBase, 0x0000800000000000), Status::kInvalidArgument);
  CHECK_ERR(write_one(abi::kRegFsBase, 0x8000000000000000), Status::kInvalidArgument);
  // Only the registers written are checked: a bad RIP alone, with count 1.
  sys::Registers bad_rip{};
  bad_rip.r[abi::kRegRip] = abi::kUserTop;
  CHECK_ERR(sys::tcb_write_registers(tcb, false, bad_rip, 1), Status::kInvalidArgument);
  // None of the refused writes changed anything.
  sys::Registers r = REQUIRE_OK(sys::tcb_read_registers(tcb, false));
  CHECK(r.r[abi::kRegRip] == good.r[abi::kRegRip]);
  CHECK(r.r[abi::kRegRsp] == good.r[abi::kRegRsp]);
  CHECK(r.r[abi::kRegFsBase] == good.r[abi::kRegFsBase]);
  // The highest user addresses are fine.
  CHECK_OK(write_one(abi::kRegRip, abi::kUserTop - 1));
  CHECK_OK(write_one(abi::kRegRsp, abi::kUserTop - 1));

  // A thread cannot read or write its own registers (the RIP is bad too, so a kernel that
  // wrongly let it through would still change nothing).
  CHECK_ERR(sys::invoke(e.tcb, abi::Label::kTcbReadRegisters, {0, abi::kRegisterCount}),
            Status::kIllegalOperation);
  CHECK_ERR(sys::tcb_write_registers(e.tcb, false, bad_rip, 1), Status::kIllegalOperation);
}

KTEST(tcb_write_registers_with_failed_resume_changes_nothing) {
  // docs/abi.md: every invocation checks all its arguments before changing anything. A thread
  // without CSpace and VSpace cannot be resumed; if WriteRegisters with resume fails for that
  // reason, the registers must be as they were.
  uint64_t tcb = make(ObjectType::kTcb);
  sys::Registers w{};
  w.r[abi::kRegRip] = 0x401000;
  w.r[abi::kRegRsp] = 0x500000;
  w.r[abi::kRegRflags] = 0x202;
  REQUIRE_OK(sys::tcb_write_registers(tcb, false, w));
  sys::Registers w2 = w;
  w2.r[abi::kRegRip] = 0x402000;
  w2.r[abi::kRegRax] = 0x77;
  auto r = sys::tcb_write_registers(tcb, true, w2);
  sys::Registers now = REQUIRE_OK(sys::tcb_read_registers(tcb, false));
  if (!r.ok()) {
    note("WriteRegisters with resume failed with %s", abi::status_name(r.error()));
    CHECK(now.r[abi::kRegRip] == 0x401000);
    CHECK(now.r[abi::kRegRax] == 0);
  }
  CHECK_ERR(sys::tcb_resume(tcb), Status::kIllegalOperation);
}

namespace {

volatile uint64_t g_r13_seen;

// Sets R12 to a marker, then keeps storing R13 (and counting down RCX) so that the root task
// can see the registers it reads and the effect of those it writes.
void register_loop(uint64_t) {
  asm volatile(
      "mov $0x5eed, %%r12\n\t"
      "movabs $0x10000000000, %%rcx\n"
      "1:\n\t"
      "mov %%r13, %0\n\t"
      "dec %%rcx\n\t"
      "jnz 1b"
      : "=m"(g_r13_seen)
      :
      : "rcx", "r12", "memory");
}

}  // namespace

KTEST(tcb_registers_of_a_running_thread) {
  g_r13_seen = 0;
  sys::Thread t = REQUIRE_OK(spawn(register_loop, 0, {100}));
  sleep_ticks(2);
  // Read and suspend: R12 holds the marker and RIP is inside the loop.
  sys::Registers r = REQUIRE_OK(sys::tcb_read_registers(t.tcb(), true));
  CHECK(r.r[abi::kRegR12] == 0x5eed);
  uint64_t fn = reinterpret_cast<uint64_t>(&register_loop);
  CHECK(r.r[abi::kRegRip] >= fn && r.r[abi::kRegRip] < fn + 64);
  // Suspended: RCX no longer counts down.
  sleep_ticks(2);
  sys::Registers again = REQUIRE_OK(sys::tcb_read_registers(t.tcb(), false));
  CHECK(again.r[abi::kRegRcx] == r.r[abi::kRegRcx]);
  // Write R13 and resume: the thread stores the new value.
  r.r[abi::kRegR13] = 0xC0FFEE;
  REQUIRE_OK(sys::tcb_write_registers(t.tcb(), true, r));
  for (int i = 0; i < 16 && g_r13_seen != 0xC0FFEE; ++i) {
    sleep_ticks(1);
  }
  CHECK(g_r13_seen == 0xC0FFEE);
  sys::Registers later = REQUIRE_OK(sys::tcb_read_registers(t.tcb(), true));
  CHECK(later.r[abi::kRegRcx] < r.r[abi::kRegRcx]);
}

// --- Suspend and resume ------------------------------------------------------------------------

KTEST(tcb_suspend_stops_and_resume_restarts) {
  g_spin_count[0] = 0;
  sys::Thread t = REQUIRE_OK(spawn(spinner, 0, {100}));
  CHECK(advances(0));
  CHECK_OK(sys::tcb_suspend(t.tcb()));
  CHECK(!advances(0));
  // Suspending twice is harmless.
  CHECK_OK(sys::tcb_suspend(t.tcb()));
  CHECK_OK(sys::tcb_resume(t.tcb()));
  CHECK(advances(0));
  // Resuming a running thread is harmless too.
  CHECK_OK(sys::tcb_resume(t.tcb()));
  CHECK(advances(0));
  CHECK_OK(sys::tcb_suspend(t.tcb()));
  CHECK(!advances(0));
}

namespace {

void receive_once(uint64_t ep) {
  sys::Message m;
  g_status = static_cast<uint64_t>(sys::recv(ep, m));
  g_flag = 1;
}

}  // namespace

KTEST(tcb_suspend_cancels_blocked_receive) {
  uint64_t ep = make(ObjectType::kEndpoint);
  g_flag = 0;
  g_status = 0;
  sys::Thread t = REQUIRE_OK(spawn(receive_once, ep, {100}));
  sleep_ticks(2);  // It blocks in recv.
  CHECK(g_flag == 0);
  CHECK_OK(sys::tcb_suspend(t.tcb()));
  // Nobody waits on the endpoint any more.
  CHECK(sys::nb_send(ep, sys::Message::make(1, {})) == Status::kTimedOut);
  CHECK_OK(sys::tcb_resume(t.tcb()));
  CHECK(wait_flag(g_flag, 16));
  CHECK(g_status == static_cast<uint64_t>(Status::kCancelled));
}

// --- FS base -----------------------------------------------------------------------------------

namespace {

sys::ThreadBlock g_fake_block;

void read_block_user(uint64_t) {
  for (uint64_t i = 0; i < (uint64_t{1} << 36) && g_flag == 0; ++i) {
  }
  g_seen = reinterpret_cast<uint64_t>(sys::thread_block()->user);
}

}  // namespace

KTEST(tcb_set_fs_base) {
  Env& e = env();
  uint64_t tcb = make(ObjectType::kTcb);
  REQUIRE_OK(sys::tcb_configure(tcb, 0, kRoot, 0, e.vspace, 0, 0));
  CHECK_OK(sys::tcb_set_fs_base(tcb, 0x0000123456789000));
  CHECK(REQUIRE_OK(sys::tcb_read_registers(tcb, false)).r[abi::kRegFsBase] == 0x123456789000);
  for (uint64_t bad : {uint64_t{0x0000800000000000}, uint64_t{0x8000000000000000},
                       uint64_t{0xFFFF7FFFFFFFFFFF}, uint64_t{0x0001000000000000}}) {
    CHECK_ERR(sys::tcb_set_fs_base(tcb, bad), Status::kInvalidArgument);
  }
  CHECK(REQUIRE_OK(sys::tcb_read_registers(tcb, false)).r[abi::kRegFsBase] == 0x123456789000);
  // Canonical at both ends of the address space.
  CHECK_OK(sys::tcb_set_fs_base(tcb, 0x00007FFFFFFFFFFF));
  CHECK_OK(sys::tcb_set_fs_base(tcb, 0));
  CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbSetFsBase, {}), Status::kTruncatedMessage);
}

KTEST(tcb_set_fs_base_reaches_the_thread) {
  // A spawned thread reads its thread block through %fs; pointing its FS base at another block
  // (with the same IPC buffer and TCB) must change what it reads.
  g_flag = 0;
  g_seen = 0;
  sys::Thread t = REQUIRE_OK(spawn(read_block_user, 0, {100}));
  sleep_ticks(1);
  REQUIRE_OK(sys::tcb_suspend(t.tcb()));
  g_fake_block.self = &g_fake_block;
  g_fake_block.ipc = t.block()->ipc;
  g_fake_block.tcb = t.tcb();
  g_fake_block.user = reinterpret_cast<void*>(0x1234ABCD);
  CHECK_OK(sys::tcb_set_fs_base(t.tcb(), reinterpret_cast<uint64_t>(&g_fake_block)));
  CHECK(REQUIRE_OK(sys::tcb_read_registers(t.tcb(), false)).r[abi::kRegFsBase] ==
        reinterpret_cast<uint64_t>(&g_fake_block));
  g_flag = 1;
  REQUIRE_OK(sys::tcb_resume(t.tcb()));
  (void)wait_flag(g_seen, 16);
  CHECK(g_seen == 0x1234ABCD);
}

// --- I/O port bindings, priorities, labels -----------------------------------------------------

KTEST(tcb_bind_ioport_errors) {
  uint64_t tcb = make(ObjectType::kTcb);
  uint64_t ep = make(ObjectType::kEndpoint);
  uint64_t port = slot();
  REQUIRE_OK(sys::ioport_control_issue(abi::kSlotIoPortControl, 0x80, 0x80, kRoot, port, kDepth));
  for (uint64_t index : {uint64_t{4}, uint64_t{5}, uint64_t{64}, ~uint64_t{0}}) {
    CHECK_ERR(sys::tcb_bind_ioport(tcb, index, port), Status::kRangeError);
  }
  CHECK_ERR(sys::tcb_bind_ioport(tcb, 0, ep), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_bind_ioport(tcb, 0, abi::kSlotIoPortControl), Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_bind_ioport(tcb, 0, slot()), Status::kEmptySlot);
  for (uint64_t index = 0; index < 4; ++index) {
    CHECK_OK(sys::tcb_bind_ioport(tcb, index, port));
  }
  // Rebinding replaces; cptr 0 clears.
  CHECK_OK(sys::tcb_bind_ioport(tcb, 1, port));
  CHECK_OK(sys::tcb_bind_ioport(tcb, 1, 0));
  CHECK_OK(sys::tcb_bind_ioport(tcb, 1, 0));
  CHECK_ERR(sys::invoke(tcb, abi::Label::kTcbBindIoPort, {0}), Status::kTruncatedMessage);
}

KTEST(tcb_set_mc_priority_errors) {
  Env& e = env();
  uint64_t tcb = make(ObjectType::kTcb);
  CHECK_ERR(sys::tcb_set_mc_priority(tcb, e.tcb, 256), Status::kRangeError);
  CHECK_ERR(sys::tcb_set_mc_priority(tcb, e.tcb, ~uint64_t{0}), Status::kRangeError);
  CHECK_ERR(sys::tcb_set_mc_priority(tcb, make(ObjectType::kEndpoint), 5),
            Status::kInvalidCapability);
  CHECK_ERR(sys::tcb_set_mc_priority(tcb, slot(), 5), Status::kEmptySlot);
  CHECK_ERR(sys::tcb_set_priority(tcb, slot(), 5), Status::kEmptySlot);
  CHECK_OK(sys::tcb_set_mc_priority(tcb, e.tcb, 200));
  CHECK_OK(sys::tcb_set_priority(tcb, tcb, 200));
  CHECK_ERR(sys::tcb_set_priority(tcb, tcb, 201), Status::kRangeError);
}

KTEST(tcb_wrong_labels_and_truncated_messages) {
  uint64_t tcb = make(ObjectType::kTcb);
  check_truncated(CapType::kTcb, tcb);
  // TCB labels on other objects.
  uint64_t ep = make(ObjectType::kEndpoint);
  CHECK_ERR(sys::tcb_suspend(kRoot), Status::kIllegalOperation);
  CHECK_ERR(sys::tcb_resume(make(ObjectType::kFrame4K)), Status::kIllegalOperation);
  CHECK_ERR(sys::tcb_set_fs_base(abi::kSlotInitVSpace, 0), Status::kIllegalOperation);
  CHECK_ERR(sys::invoke(tcb, static_cast<abi::Label>(41), {0, 0, 0, 0, 0, 0}),
            Status::kIllegalOperation);
  CHECK_ERR(sys::invoke(tcb, abi::Label::kCNodeDelete, {ep, kDepth}), Status::kIllegalOperation);
  CHECK(REQUIRE_OK(sys::cnode_describe(kRoot, ep, kDepth)).type == CapType::kEndpoint);
}

}  // namespace ktest
