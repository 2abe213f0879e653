// SPDX-License-Identifier: MIT
//
// What a server tells the root task, through the badged endpoint in kServerSlotSupervisor.
// (Faults need no message of the server's own: the kernel sends them to the same endpoint,
// which is every server's fault endpoint.)
#pragma once

#include <abi/protocol.hpp>

namespace abi::supervisor {

// exit(code) -> (). Sent (not called) by libsys when main returns; the server's thread then
// stops. The restart policy decides what happens next (only "always" restarts a clean exit).
inline constexpr Method kExit{0x11, "supervisor.exit", 1, 1, 0, 0, 0, 0};

}  // namespace abi::supervisor
