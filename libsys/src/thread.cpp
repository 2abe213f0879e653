// SPDX-License-Identifier: MIT
#include <sys/invoke.hpp>
#include <sys/syscall.hpp>
#include <sys/thread.hpp>

#include <kstd/enforce.hpp>

extern "C" void sys_thread_entry();

namespace sys {

abi::Result<Thread> Thread::create(ObjectAllocator& objects, VSpace& vspace, uint64_t region,
                                   const ThreadOptions& opts) {
  Thread t;
  uint64_t stack_bytes = opts.stack_pages * 4096;
  TRY(vspace.map_new_range(region, stack_bytes, abi::Rights::kRead | abi::Rights::kWrite));
  uint64_t buffer_vaddr = region + stack_bytes;
  uint64_t buffer_frame =
      TRY(vspace.map_new(buffer_vaddr, abi::Rights::kRead | abi::Rights::kWrite));
  t.tcb_ = TRY(objects.alloc(abi::ObjectType::kTcb));
  TRY(tcb_configure(t.tcb_, opts.fault_endpoint, opts.cspace, 0, vspace.pml4(), buffer_vaddr,
                    buffer_frame));
  TRY(tcb_set_priority(t.tcb_, opts.authority, opts.priority));
  // The IPC buffer takes the first KiB of its page; the thread block follows it.
  t.block_ = reinterpret_cast<ThreadBlock*>(buffer_vaddr + sizeof(abi::IpcBuffer));
  t.block_->self = t.block_;
  t.block_->ipc = reinterpret_cast<abi::IpcBuffer*>(buffer_vaddr);
  t.block_->tcb = t.tcb_;
  t.stack_top_ = region + stack_bytes;
  return t;
}

abi::Result<void> Thread::start(Entry entry, uint64_t arg) {
  Registers regs{};
  regs.r[abi::kRegRip] = reinterpret_cast<uint64_t>(&sys_thread_entry);
  regs.r[abi::kRegRsp] = stack_top_;
  regs.r[abi::kRegRflags] = 0x202;
  regs.r[abi::kRegRdi] = reinterpret_cast<uint64_t>(entry);
  regs.r[abi::kRegRsi] = arg;
  regs.r[abi::kRegFsBase] = reinterpret_cast<uint64_t>(block_);
  return tcb_write_registers(tcb_, true, regs);
}

}  // namespace sys

// Where every libsys thread begins: run the entry function, then stop for good (a thread that
// is resumed after its function returned stops again at once).
extern "C" [[noreturn]] void sys_thread_main(sys::Thread::Entry entry, uint64_t arg) {
  entry(arg);
  for (;;) {
    (void)sys::tcb_suspend(sys::thread_block()->tcb);
  }
}
