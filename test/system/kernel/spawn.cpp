// SPDX-License-Identifier: MIT
#include "spawn.hpp"

#include <abi/boot_info.hpp>

#include <kstd/string.hpp>

#include "ktest.hpp"

#include <kstd/enforce.hpp>

extern "C" char __rodata_start[], __data_start[], __bss_end[];
extern "C" void sys_thread_entry();

namespace ktest {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kImageBase = 0x400000;
constexpr uint64_t kChildStack = 0x0000000700000000;
constexpr uint64_t kChildStackPages = 4;
constexpr uint64_t kChildBuffer = kChildStack + kChildStackPages * kPage;
constexpr uint64_t kScratch = 0x0000000800000000;  // Where the root maps pages to fill them.

}  // namespace

abi::Result<sys::Thread> spawn(sys::Thread::Entry fn, uint64_t arg, const SpawnOptions& opts) {
  Env& e = env();
  sys::ThreadOptions t;
  t.priority = opts.priority;
  t.authority = e.tcb;
  t.fault_endpoint = opts.fault_endpoint;
  t.cspace = e.cnode;
  t.stack_pages = 4;
  uint64_t r = region(sys::Thread::region_size(t.stack_pages));
  sys::Thread th = TRY(sys::Thread::create(e.objects, e.vs, r, t));
  TRY(th.start(fn, arg));
  return th;
}

abi::Result<void> give(const Process& p, uint64_t dest, uint64_t src, uint8_t rights,
                       uint64_t badge) {
  Env& e = env();
  return sys::cnode_mint(p.cnode, dest, 64, e.cnode, src, 64, rights, badge);
}

abi::Result<Process> spawn_process(sys::Thread::Entry fn, uint64_t arg, uint64_t priority,
                                   uint64_t radix, uint64_t fault_ep) {
  Env& e = env();
  Process p{};
  p.pml4 = make(abi::ObjectType::kPml4);
  TRY(sys::asid_pool_assign(abi::kSlotInitAsidPool, p.pml4));
  // A CNode whose guard makes slot numbers cptrs: copy it with guard 64 - radix.
  uint64_t raw = make(abi::ObjectType::kCNode, radix);
  p.cnode = slot();
  TRY(sys::cnode_mint(e.cnode, p.cnode, 64, e.cnode, raw, 64, abi::Rights::kAllBits,
                      abi::cnode_guard_data(0, 64 - radix)));
  sys::VSpace child;
  child.init(p.pml4, &e.objects);

  // Code and read-only data: the root task's own frames, shared. Data and bss: fresh copies.
  const abi::BootInfo* b = e.boot;
  for (uint64_t s = b->user_image.start; s < b->user_image.end; ++s) {
    sys::CapInfo c = TRY(sys::cnode_describe(e.cnode, s, 64));
    if (c.type != abi::CapType::kFrame) {
      continue;
    }
    uint64_t vaddr = c.mapped_vaddr;
    if (vaddr < kImageBase || vaddr >= reinterpret_cast<uint64_t>(__bss_end)) {
      continue;  // Stack, IPC buffer and boot info stay the root task's.
    }
    if (vaddr < reinterpret_cast<uint64_t>(__data_start)) {
      uint64_t shared = slot();
      TRY(sys::cnode_copy(e.cnode, shared, 64, e.cnode, s, 64));
      bool code = vaddr < reinterpret_cast<uint64_t>(__rodata_start);
      uint8_t rights = abi::Rights::kRead | (code ? abi::Rights::kExecute : 0);
      TRY(child.map(shared, vaddr, rights));
      continue;
    }
    uint64_t frame = make(abi::ObjectType::kFrame4K);
    uint64_t scratch = slot();
    TRY(sys::cnode_copy(e.cnode, scratch, 64, e.cnode, frame, 64));
    TRY(e.vs.map(scratch, kScratch, abi::Rights::kRead | abi::Rights::kWrite));
    memcpy(reinterpret_cast<void*>(kScratch), reinterpret_cast<void*>(vaddr), kPage);
    TRY(sys::frame_unmap(scratch));
    TRY(child.map(frame, vaddr, abi::Rights::kRead | abi::Rights::kWrite));
  }

  // Stack and IPC buffer page (with the thread block after the buffer).
  TRY(child.map_new_range(kChildStack, kChildStackPages * kPage,
                          abi::Rights::kRead | abi::Rights::kWrite));
  uint64_t buffer = make(abi::ObjectType::kFrame4K);
  uint64_t scratch = slot();
  TRY(sys::cnode_copy(e.cnode, scratch, 64, e.cnode, buffer, 64));
  TRY(e.vs.map(scratch, kScratch, abi::Rights::kRead | abi::Rights::kWrite));
  auto* block = reinterpret_cast<sys::ThreadBlock*>(kScratch + sizeof(abi::IpcBuffer));
  uint64_t block_vaddr = kChildBuffer + sizeof(abi::IpcBuffer);
  block->self = reinterpret_cast<sys::ThreadBlock*>(block_vaddr);
  block->ipc = reinterpret_cast<abi::IpcBuffer*>(kChildBuffer);
  block->tcb = 1;  // The child's own TCB lands in its slot 1 (below).
  TRY(sys::frame_unmap(scratch));
  TRY(child.map(buffer, kChildBuffer, abi::Rights::kRead | abi::Rights::kWrite));

  p.tcb = make(abi::ObjectType::kTcb);
  TRY(sys::tcb_configure(p.tcb, fault_ep, p.cnode, 0, p.pml4, kChildBuffer, buffer));
  TRY(sys::tcb_set_priority(p.tcb, e.tcb, priority));
  TRY(give(p, 1, p.tcb));

  sys::Registers regs{};
  regs.r[abi::kRegRip] = reinterpret_cast<uint64_t>(&sys_thread_entry);
  regs.r[abi::kRegRsp] = kChildStack + kChildStackPages * kPage;
  regs.r[abi::kRegRflags] = 0x202;
  regs.r[abi::kRegRdi] = reinterpret_cast<uint64_t>(fn);
  regs.r[abi::kRegRsi] = arg;
  regs.r[abi::kRegFsBase] = block_vaddr;
  TRY(sys::tcb_write_registers(p.tcb, true, regs));
  return p;
}

}  // namespace ktest
