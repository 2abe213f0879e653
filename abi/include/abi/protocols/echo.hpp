// SPDX-License-Identifier: MIT
//
// The echo service (servers/echo): sends back what it gets, words or a capability. It exists to
// exercise the RPC layer and capability transfer between processes.
#pragma once

#include <abi/protocol.hpp>

namespace abi::echo {

inline constexpr char kServiceName[] = "echo";

// echo(words...) -> (the same words).
inline constexpr Method kEcho{0x301, "echo.echo", 0, kMaxMessageWords, 0, 0, kMaxMessageWords, 0};
// echo_cap(cap) -> (cap): the capability comes back as it was received.
inline constexpr Method kEchoCap{0x302, "echo.echo_cap", 0, 0, 1, 0, 0, 1};
// crash() -> never answers (for the restart tests).
inline constexpr Method kCrash{0x3FF, "echo.crash", 0, 0, 0, 0, 0, 0};

}  // namespace abi::echo
