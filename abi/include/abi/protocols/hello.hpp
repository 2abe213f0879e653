// SPDX-License-Identifier: MIT
//
// The hello service (servers/example): the worked example of docs/writing-a-server.md. It
// greets clients by name and counts the greetings of each client, told apart by badge.
#pragma once

#include <abi/protocol.hpp>

namespace abi::hello {

inline constexpr char kServiceName[] = "hello";

// The longest name a greeting takes, and the text words of a name and of the answer, which
// adds "hello, " and "!" (8 bytes).
inline constexpr uint64_t kMaxName = 64;
inline constexpr uint8_t kNameWords = 1 + kMaxName / kBytesPerWord;
inline constexpr uint8_t kGreetingWords = 1 + (kMaxName + 8) / kBytesPerWord;

// greet(count, name bytes...) -> (count, "hello, <name>!" bytes...). kInvalidArgument when the
// count does not match the words sent; kNoSpace when the server knows too many clients.
inline constexpr Method kGreet{0x401, "hello.greet", 1, kNameWords, 0, 1, kGreetingWords, 0};

// greetings() -> (count): how many greetings the calling client has had.
inline constexpr Method kGreetings{0x402, "hello.greetings", 0, 0, 0, 1, 1, 0};

static_assert(method_valid(kGreet) && method_valid(kGreetings));

}  // namespace abi::hello
