// SPDX-License-Identifier: MIT
//
// The root task: the first user program, started by the kernel with every initial capability.
// It will compose the system from the boot manifest; for now it reports what it was given and
// stops.
#include <abi/boot_info.hpp>

#include <sys/debug.hpp>
#include <sys/invoke.hpp>
#include <sys/thread_block.hpp>

#include <kstd/enforce.hpp>

namespace {

sys::ThreadBlock g_main_block;

}  // namespace

int main(uint64_t boot_info_vaddr) {
  auto* info = reinterpret_cast<const abi::BootInfo*>(boot_info_vaddr);
  sys::install_thread_block(&g_main_block, abi::kSlotInitTcb,
                            reinterpret_cast<abi::IpcBuffer*>(abi::kRootIpcBufferVaddr));
  sys::debug_printf("root: started; %llu untyped (%llu KiB of RAM), %llu modules, slots %llu..%llu free\n",
                    static_cast<unsigned long long>(info->untyped_count),
                    static_cast<unsigned long long>(info->ram_untyped_bytes >> 10),
                    static_cast<unsigned long long>(info->module_count),
                    static_cast<unsigned long long>(info->empty.start),
                    static_cast<unsigned long long>(info->empty.end));
  (void)sys::tcb_suspend(abi::kSlotInitTcb);
  return 0;
}
