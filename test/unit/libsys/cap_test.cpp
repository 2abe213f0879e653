// SPDX-License-Identifier: MIT
//
// Unit tests for the typed capability handles (sys/cap.hpp): what converts into what (nothing,
// implicitly), which invocations each type offers, and cap_cast's type check.
#include <abi/object_type.hpp>
#include <abi/protocols/kv.hpp>

#include <sys/cap.hpp>
#include <sys/rpc.hpp>
#include <sys/server.hpp>

#include <catch2/catch.hpp>
#include <cstdint>
#include <iterator>
#include <type_traits>
#include <utility>

using abi::CapType;
using abi::Status;

namespace {

// Every type a handle can have: all but kNull and kZombie.
constexpr CapType kHandleTypes[] = {
    CapType::kUntyped,    CapType::kCNode,      CapType::kTcb,           CapType::kEndpoint,
    CapType::kReply,      CapType::kFrame,      CapType::kPageTable,     CapType::kPageDirectory,
    CapType::kPdpt,       CapType::kPml4,       CapType::kAsidControl,   CapType::kAsidPool,
    CapType::kIrqControl, CapType::kIrqHandler, CapType::kIoPortControl, CapType::kIoPort,
};
static_assert(std::size(kHandleTypes) == abi::kCapTypeCount - 2);

template <CapType A, CapType B>
constexpr bool converts_only_to_itself() {
  using From = sys::Cap<A>;
  using To = sys::Cap<B>;
  return std::is_convertible_v<From, To> == (A == B) &&
         std::is_constructible_v<To, From> == (A == B);
}

template <CapType A, size_t... I>
constexpr bool row(std::index_sequence<I...>) {
  return (converts_only_to_itself<A, kHandleTypes[I]>() && ...);
}

template <size_t... I>
constexpr bool all_pairs(std::index_sequence<I...> seq) {
  return (row<kHandleTypes[I]>(seq) && ...);
}

template <CapType T>
constexpr bool integers_stay_apart() {
  using C = sys::Cap<T>;
  return !std::is_convertible_v<uint64_t, C> && !std::is_convertible_v<int, C> &&
         !std::is_convertible_v<C, uint64_t> && !std::is_convertible_v<C, bool> &&
         std::is_constructible_v<C, uint64_t> && sizeof(C) == sizeof(uint64_t) &&
         std::is_trivially_copyable_v<C>;
}

template <size_t... I>
constexpr bool all_integers_stay_apart(std::index_sequence<I...>) {
  return (integers_stay_apart<kHandleTypes[I]>() && ...);
}

constexpr auto kAll = std::make_index_sequence<std::size(kHandleTypes)>();

}  // namespace

// No handle converts into a handle of another type, explicitly or implicitly.
static_assert(all_pairs(kAll));
// Integers become handles only explicitly, and handles never become integers.
static_assert(all_integers_stay_apart(kAll));

// Each invocation is offered on its type only, and takes typed arguments. (The checks are
// concepts because a requires-expression only reports failure on dependent types.)
template <typename C>
concept Resumable = requires(C c) {
  c.resume();
};
template <typename C, typename Arg>
concept BindsIoPort = requires(C c, Arg a) {
  c.bind_ioport(0, a);
};
template <typename C, typename Arg>
concept RoutesTo = requires(C c, Arg a) {
  c.set_endpoint(a);
};
template <typename C, typename Arg>
concept MapsIn = requires(C c, Arg a) {
  c.map(a, 0, 0);
};
template <typename C, typename Arg>
concept TableMapsIn = requires(C c, Arg a) {
  c.map(a, 0);
};
template <typename C>
concept Unmappable = requires(C c) {
  c.unmap();
};
template <typename C>
concept DeletesSlots = requires(C c) {
  c.delete_slot(1, 64);
};
template <typename Ep>
concept RpcCallable = requires(Ep e) {
  sys::rpc::call(e, abi::kv::kCount);
};

static_assert(Resumable<sys::TcbCap>);
static_assert(!Resumable<sys::EndpointCap>);
static_assert(BindsIoPort<sys::TcbCap, sys::IoPortCap>);
static_assert(!BindsIoPort<sys::TcbCap, sys::IrqHandlerCap>);
static_assert(!BindsIoPort<sys::TcbCap, uint64_t>);
static_assert(!BindsIoPort<sys::IrqHandlerCap, sys::IoPortCap>);
static_assert(RoutesTo<sys::IrqHandlerCap, sys::EndpointCap>);
static_assert(!RoutesTo<sys::IrqHandlerCap, sys::TcbCap>);
static_assert(MapsIn<sys::FrameCap, sys::Pml4Cap>);
static_assert(!MapsIn<sys::FrameCap, sys::CNodeCap>);
static_assert(TableMapsIn<sys::PageTableCap, sys::Pml4Cap>);
static_assert(TableMapsIn<sys::PdptCap, sys::Pml4Cap>);
static_assert(!TableMapsIn<sys::FrameCap, sys::Pml4Cap>);
static_assert(Unmappable<sys::FrameCap> && Unmappable<sys::PageDirectoryCap>);
static_assert(!Unmappable<sys::Pml4Cap>);
static_assert(DeletesSlots<sys::CNodeCap>);
static_assert(!DeletesSlots<sys::UntypedCap>);

// RPC and the server runtime speak in endpoint handles.
static_assert(RpcCallable<sys::EndpointCap>);
static_assert(!RpcCallable<sys::TcbCap>);
static_assert(!RpcCallable<uint64_t>);
static_assert(std::is_constructible_v<sys::rpc::Server, sys::EndpointCap>);
static_assert(!std::is_constructible_v<sys::rpc::Server, sys::TcbCap>);
static_assert(!std::is_constructible_v<sys::rpc::Server, uint64_t>);
static_assert(std::is_same_v<decltype(sys::service("kv")), abi::Result<sys::EndpointCap>>);
static_assert(std::is_same_v<decltype(sys::port_grant(0, 0)), abi::Result<sys::IoPortCap>>);
static_assert(std::is_same_v<decltype(sys::irq_grant(0)), abi::Result<sys::IrqHandlerCap>>);

// cap_cast names its target by handle type or by CapType, with the same result type.
static_assert(std::is_same_v<decltype(sys::cap_cast<sys::TcbCap>(sys::kSelfCNode, 2)),
                             abi::Result<sys::TcbCap>>);
static_assert(std::is_same_v<decltype(sys::cap_cast<CapType::kTcb>(sys::kSelfCNode, 2)),
                             abi::Result<sys::TcbCap>>);

TEST_CASE("a default handle is the null slot", "[cap]") {
  constexpr sys::EndpointCap null;
  STATIC_REQUIRE(null.cptr() == 0);
  STATIC_REQUIRE(null.is_null());
  constexpr sys::EndpointCap ep(4);
  STATIC_REQUIRE(ep.cptr() == 4);
  STATIC_REQUIRE(!ep.is_null());
  STATIC_REQUIRE(ep == sys::kSelfEndpoint);
  STATIC_REQUIRE(ep != null);
}

TEST_CASE("the server's fixed slots have their types", "[cap]") {
  STATIC_REQUIRE(sys::kSelfCNode.cptr() == abi::kServerSlotCNode);
  STATIC_REQUIRE(sys::kSelfTcb.cptr() == abi::kServerSlotTcb);
  STATIC_REQUIRE(sys::kSelfVSpace.cptr() == abi::kServerSlotVSpace);
  STATIC_REQUIRE(sys::kSelfEndpoint.cptr() == abi::kServerSlotEndpoint);
  STATIC_REQUIRE(sys::kSupervisor.cptr() == abi::kServerSlotSupervisor);
}

TEST_CASE("check_cap_type accepts the type asked for only", "[cap]") {
  sys::CapInfo info{CapType::kEndpoint, abi::Rights{abi::Rights::kWrite}, 0x1000, 0x55,
                    sys::CapInfo::kNotMapped};
  CHECK(sys::check_cap_type(info, CapType::kEndpoint).ok());
  for (CapType other : kHandleTypes) {
    if (other != CapType::kEndpoint) {
      auto r = sys::check_cap_type(info, other);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == Status::kInvalidCapability);
    }
  }
}

TEST_CASE("check_cap_type calls an empty slot empty, whatever was asked for", "[cap]") {
  sys::CapInfo empty{CapType::kNull, abi::Rights{0}, 0, 0, sys::CapInfo::kNotMapped};
  for (CapType want : kHandleTypes) {
    auto r = sys::check_cap_type(empty, want);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == Status::kEmptySlot);
  }
}
