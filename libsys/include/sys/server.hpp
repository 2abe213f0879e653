// SPDX-License-Identifier: MIT
//
// The server runtime: start-up and services for programs that the root task starts from the
// manifest (abi/server.hpp). Link sys_server_dep instead of libsys_dep and define
//
//   int server_main(const abi::ServerInfo& info);
//
// instead of main. Before server_main runs, the runtime
//   - checks the server-info page (magic, version, counts, slot range); a bad page is reported
//     on the kernel debug console and the server stops without calling server_main;
//   - installs the main thread's thread block (IPC buffer at abi::kServerIpcBufferVaddr);
//   - sets up the slot allocator (info.free_slots), the object allocator (info.untyped) and the
//     VSpace helper for the heap range [abi::kServerHeapBase, abi::kServerHeapEnd);
//   - names the log after the server and sends it to the console service if it was granted
//     (sys/log.hpp).
// When server_main returns, the runtime sends supervisor.exit(code) to the root task
// (abi::kServerSlotSupervisor) and stops the thread; exit() does the same at any point.
//
// docs/writing-a-server.md walks through a complete server.
#pragma once

#include <abi/result.hpp>
#include <abi/server.hpp>

#include <stddef.h>
#include <stdint.h>

#include <sys/alloc.hpp>
#include <sys/cap.hpp>
#include <sys/rpc.hpp>
#include <sys/vspace.hpp>

// Defined by the server.
int server_main(const abi::ServerInfo& info);

namespace sys {

// The server-info page.
const abi::ServerInfo& server_info();

// The fixed slots of every server's CSpace (abi/server.hpp) as typed handles.
inline constexpr CNodeCap kSelfCNode{abi::kServerSlotCNode};
inline constexpr TcbCap kSelfTcb{abi::kServerSlotTcb};
inline constexpr Pml4Cap kSelfVSpace{abi::kServerSlotVSpace};
inline constexpr EndpointCap kSelfEndpoint{abi::kServerSlotEndpoint};  // Requests arrive here.
inline constexpr EndpointCap kSupervisor{abi::kServerSlotSupervisor};  // The root task.

// Whether a missing service is worth a log line.
enum class Need {
  kRequired,  // The server cannot do its job without it: log that it is missing.
  kOptional,  // The server copes: no log line.
};

// The endpoint capability for the service `name` in info.services. kNotFound when the server
// was not granted it. The handles of this function and the two below are typed on the root
// task's word (it filled the info page and the slots): cap_cast would ask the kernel.
abi::Result<EndpointCap> service(const char* name, Need need = Need::kRequired);

// Hardware grants: the I/O port capability covering ports [first, last], and the IRQ handler
// capability for `line`. kNotFound when not granted.
abi::Result<IoPortCap> port_grant(uint16_t first, uint16_t last);
abi::Result<IrqHandlerCap> irq_grant(uint32_t line);

// The server's allocators: its free slots, its untyped budget, its address space.
SlotAllocator& slots();
ObjectAllocator& objects();
VSpace& vspace();

// Maps `bytes` (rounded up to pages) of fresh, zeroed, read-write memory in the heap range and
// returns its address. kNoSpace when the range is used up; allocator errors (kNoSpace,
// kNotEnoughMemory) otherwise.
abi::Result<void*> map_memory(uint64_t bytes);

// Crashes the calling thread on purpose with a write to address 0: a page fault that its
// supervisor sees as a crash. For tests of supervision and restarts. The pointer is volatile,
// so the compiler can neither prove it null nor drop the store.
[[noreturn]] inline void crash_on_purpose() {
  volatile uint64_t* volatile target = nullptr;
  *target = 0xDEAD;
  __builtin_unreachable();
}

// A slot of this server's CNode as a place to receive a capability.
constexpr rpc::ReceiveSlot receive_slot(uint64_t index) {
  return {abi::kServerSlotCNode, index, 64};
}

// Tells the root task that the server is done (supervisor.exit with `code`) and stops.
[[noreturn]] void exit(int code);

// --- Checks on the info page, separate from the runtime so that host tests run them ---------

// Null when the page is usable, else what is wrong with it.
const char* server_info_problem(const abi::ServerInfo& info);

// The cptr of the service `name` in `info`, or kNotFound.
abi::Result<uint64_t> find_service(const abi::ServerInfo& info, const char* name);

}  // namespace sys
