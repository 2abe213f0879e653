// SPDX-License-Identifier: MIT
//
// The test client: the servers' system-test scenario. It runs against the services the
// manifest granted it (kv, echo, and optionally fragile and hello; a step whose service is
// absent is reported as skipped), prints TAP through the log (the console service when
// granted), and ends the QEMU run with the verdict through the kernel's debug exit.
//
// Expectations of the manifest: kv restarts after a crash (restart policy on-crash or always)
// and keeps its endpoint; fragile speaks abi::echo and is never restarted.
#include <abi/debug.hpp>
#include <abi/protocols/echo.hpp>
#include <abi/protocols/hello.hpp>
#include <abi/protocols/kv.hpp>

#include <kstd/string.hpp>

#include <sys/cap.hpp>
#include <sys/log.hpp>
#include <sys/rpc.hpp>
#include <sys/server.hpp>
#include <sys/syscall.hpp>
#include <sys/text.hpp>

#include <kstd/enforce.hpp>

namespace {

using abi::Status;
using sys::EndpointCap;
using sys::rpc::Words;

// Waiting for kv to come back: attempts, with this many yields between them. A call normally
// just waits for the restarted server; attempts matter only if the root task makes calls fail
// while kv is down.
constexpr int kRestartAttempts = 200;
constexpr int kYieldsPerAttempt = 1000;

constexpr uint64_t kEchoBadge = 0x5EED;

int g_points = 0;
int g_failed = 0;

// One TAP test point. Each is flushed, so that it leaves the UART before anything else can
// start writing (the kernel and the root task print directly, without the console).
void point(bool ok, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void point(bool ok, const char* fmt, ...) {
  char text[200];
  va_list ap;
  va_start(ap, fmt);
  sys::vformat(text, sizeof text, fmt, ap);
  va_end(ap);
  ++g_points;
  g_failed += ok ? 0 : 1;
  sys::print("%s %d - %s\n", ok ? "ok" : "not ok", g_points, text);
  sys::log_flush();
}

void skip(const char* what, const char* service) {
  ++g_points;
  sys::print("ok %d - # SKIP %s: no service \"%s\" granted\n", g_points, what, service);
  sys::log_flush();
}

template <typename T>
const char* outcome(const abi::Result<T>& r) {
  return r ? "ok" : abi::status_name(r.error());
}

// Null when not granted.
EndpointCap optional_service(const char* name) {
  return sys::service(name, sys::Need::kOptional).value_or(EndpointCap());
}

// service() types its handles on the root task's word; cap_cast asks the kernel.
bool is_endpoint(EndpointCap ep) {
  return sys::cap_cast<EndpointCap>(sys::kSelfCNode, ep.cptr()).ok();
}

void lookup(EndpointCap kv, EndpointCap echo) {
  auto missing = sys::service("no-such-service", sys::Need::kOptional);
  bool ok = !missing && missing.error() == Status::kNotFound;
  ok = ok && (kv.is_null() || is_endpoint(kv)) && (echo.is_null() || is_endpoint(echo));
  point(ok, "service lookup: kv %s, echo %s, an unknown name is %s",
        kv.is_null() ? "absent" : "granted", echo.is_null() ? "absent" : "granted",
        outcome(missing));
}

// cap_cast on slots whose contents are known: the right type, a wrong one, an empty slot, and a
// cptr that does not resolve (the server's CNode has 2^10 slots; its guard is zeros).
void cap_casts() {
  auto ep = sys::cap_cast<EndpointCap>(sys::kSelfCNode, abi::kServerSlotEndpoint);
  auto tcb = sys::cap_cast<sys::TcbCap>(sys::kSelfCNode, abi::kServerSlotTcb);
  auto wrong = sys::cap_cast<EndpointCap>(sys::kSelfCNode, abi::kServerSlotTcb);
  uint64_t free_slot = sys::slots().alloc().value_or(0);
  auto empty = sys::cap_cast<sys::FrameCap>(sys::kSelfCNode, free_slot);
  sys::slots().free(free_slot);
  auto outside = sys::cap_cast<EndpointCap>(sys::kSelfCNode, uint64_t{1} << 20);
  bool ok =
      ep && ep->cptr() == abi::kServerSlotEndpoint && tcb && tcb->cptr() == abi::kServerSlotTcb &&
      !wrong && wrong.error() == Status::kInvalidCapability && free_slot != 0 && !empty &&
      empty.error() == Status::kEmptySlot && !outside && outside.error() == Status::kGuardMismatch;
  point(ok, "cap_cast: endpoint %s, tcb %s, tcb as endpoint %s, empty slot %s, outside %s",
        outcome(ep), outcome(tcb), outcome(wrong), outcome(empty), outcome(outside));
}

void kv_round_trip(EndpointCap kv) {
  auto before = sys::rpc::call(kv, abi::kv::kCount);
  bool ok = before.ok();
  ok = ok && sys::rpc::call(kv, abi::kv::kPut, {0x7E57'0001, 100}).ok();
  ok = ok && sys::rpc::call(kv, abi::kv::kPut, {0x7E57'0002, 200}).ok();
  ok = ok && sys::rpc::call(kv, abi::kv::kPut, {0x7E57'0001, 111}).ok();  // Replaces.
  auto one = sys::rpc::call(kv, abi::kv::kGet, {0x7E57'0001});
  auto two = sys::rpc::call(kv, abi::kv::kGet, {0x7E57'0002});
  auto after = sys::rpc::call(kv, abi::kv::kCount);
  ok = ok && one && one->words[0] == 111 && two && two->words[0] == 200 && after &&
       after->words[0] == before->words[0] + 2;
  point(ok, "kv put/get/count round trip (get %s, get %s, count %s)", outcome(one),
        outcome(two), outcome(after));
}

void kv_missing_key(EndpointCap kv) {
  auto r = sys::rpc::call(kv, abi::kv::kGet, {0xDEAD'BEEF'0000});
  point(!r && r.error() == Status::kNotFound, "kv get of a missing key is not-found (got %s)",
        outcome(r));
}

// The server's side of the checks: requests the RPC layer would never send, made by hand.
void kv_refuses_bad_requests(EndpointCap kv) {
  sys::Message short_put = sys::Message::make(abi::kv::kPut.label, {1});
  Status s1 = sys::call(kv.cptr(), short_put);
  sys::Message unknown = sys::Message::make(0x2AA, {});
  Status s2 = sys::call(kv.cptr(), unknown);
  auto label = [](Status s) { return static_cast<uint64_t>(s); };
  bool ok = s1 == Status::kOk && short_put.label == label(Status::kInvalidArgument) &&
            s2 == Status::kOk && unknown.label == label(Status::kNotSupported);
  point(ok, "kv answers a misshapen request invalid-argument and an unknown label not-supported");
}

void echo_words(EndpointCap echo, uint64_t n) {
  uint64_t words[abi::kMaxMessageWords];
  for (uint64_t i = 0; i < n; ++i) {
    words[i] = (i + 1) * 0x0101'0101'0101'0101ull ^ (n << 56);
  }
  auto r = sys::rpc::call(echo, abi::echo::kEcho, Words(words, n));
  bool ok = r && r->length == n;
  for (uint64_t i = 0; ok && i < n; ++i) {
    ok = r->words[i] == words[i];
  }
  point(ok, "echo of %llu words returns the same words (%s)", static_cast<unsigned long long>(n),
        outcome(r));
}

// Sends a badged copy of this server's own endpoint through echo and checks that what comes
// back names the same endpoint with the same badge.
void echo_cap(EndpointCap echo) {
  auto sent = sys::slots().alloc();
  auto received = sys::slots().alloc();
  if (!sent || !received) {
    point(false, "echo_cap: no free slots");
    return;
  }
  constexpr sys::CNodeCap kCNode = sys::kSelfCNode;
  const uint8_t rights = abi::Rights::kWrite | abi::Rights::kGrant | abi::Rights::kGrantReply;
  auto minted = kCNode.mint(sent.value(), 64, kCNode, abi::kServerSlotEndpoint, 64, rights,
                            kEchoBadge);
  auto self = kCNode.describe(abi::kServerSlotEndpoint, 64);
  const uint64_t caps[] = {sent.value()};
  auto r = sys::rpc::call(echo, abi::echo::kEchoCap, Words(), caps,
                          sys::receive_slot(received.value()));
  auto got = kCNode.describe(received.value(), 64);
  bool ok = minted && self && r && r->caps.count == 1 && r->caps.unwrapped == 0 &&
            r->caps.caps[0] == received.value() && got && got->type == abi::CapType::kEndpoint &&
            got->object == self->object && got->data == kEchoBadge;
  point(ok, "echo_cap returns the capability sent (mint %s, call %s, describe %s)",
        outcome(minted), outcome(r), outcome(got));
  (void)kCNode.delete_slot(sent.value(), 64);
  (void)kCNode.delete_slot(received.value(), 64);
  sys::slots().free(sent.value());
  sys::slots().free(received.value());
}

// The RPC layer refuses these before sending; the null handle names the null slot, so had
// anything been sent the kernel would have failed the lookup with a different status.
void refused_locally() {
  const EndpointCap null;
  auto short_put = sys::rpc::call(null, abi::kv::kPut, {1});
  auto long_get = sys::rpc::call(null, abi::kv::kGet, {1, 2});
  auto no_cap = sys::rpc::call(null, abi::echo::kEchoCap);
  const uint64_t too_many[abi::kMaxMessageWords + 1] = {};
  auto too_long =
      sys::rpc::call(null, abi::echo::kEcho, Words(too_many, abi::kMaxMessageWords + 1));
  auto refused = [](const abi::Result<sys::rpc::Reply>& r) {
    return !r && r.error() == Status::kInvalidArgument;
  };
  point(refused(short_put) && refused(long_get) && refused(no_cap) && refused(too_long),
        "misshapen requests are refused locally (%s, %s, %s, %s)", outcome(short_put),
        outcome(long_get), outcome(no_cap), outcome(too_long));
}

// A crash call must end in an error: the server dies holding the reply capability.
void crash(EndpointCap ep, const abi::Method& m) {
  auto r = sys::rpc::call(ep, m);
  point(!r, "%s fails the call instead of hanging (%s)", m.name, outcome(r));
}

void kv_restarted(EndpointCap kv) {
  int attempts = 0;
  Status last = Status::kOk;
  for (; attempts < kRestartAttempts; ++attempts) {
    auto r = sys::rpc::call(kv, abi::kv::kCount);
    if (r) {
      point(r->words[0] == 0, "kv answers after its restart with an empty table (count %llu, %d "
            "failed attempts)", static_cast<unsigned long long>(r->words[0]), attempts);
      return;
    }
    last = r.error();
    for (int i = 0; i < kYieldsPerAttempt; ++i) {
      sys::yield();
    }
  }
  point(false, "kv answers after its restart (still %s after %d attempts)",
        abi::status_name(last), attempts);
}

void fragile_stays_down(EndpointCap fragile) {
  crash(fragile, abi::echo::kCrash);
  auto r = sys::rpc::call(fragile, abi::echo::kEcho, {1});
  point(!r, "a call to fragile after its crash fails instead of hanging (%s)", outcome(r));
}

void hello(EndpointCap hello) {
  uint64_t words[abi::hello::kNameWords];
  uint64_t used = sys::encode_text("testclient", 10, words, abi::hello::kNameWords).value_or(0);
  auto r = sys::rpc::call(hello, abi::hello::kGreet, Words(words, used));
  char text[abi::hello::kMaxName + 8] = {};
  uint64_t n = r ? sys::decode_text(r->words, r->length, text, sizeof text).value_or(0) : 0;
  auto count = sys::rpc::call(hello, abi::hello::kGreetings);
  bool ok = r && kstd::str_equal(text, n, "hello, testclient!") && count && count->words[0] >= 1;
  point(ok, "hello greets by name and counts (greet %s, greetings %s)", outcome(r),
        outcome(count));
}

}  // namespace

int server_main(const abi::ServerInfo&) {
  EndpointCap kv = optional_service(abi::kv::kServiceName);
  EndpointCap echo = optional_service(abi::echo::kServiceName);
  EndpointCap fragile = optional_service("fragile");
  EndpointCap greeter = optional_service(abi::hello::kServiceName);

  lookup(kv, echo);
  cap_casts();
  if (!kv.is_null()) {
    kv_round_trip(kv);
    kv_missing_key(kv);
    kv_refuses_bad_requests(kv);
  } else {
    for (const char* what : {"kv round trip", "kv missing key", "kv refusals"}) {
      skip(what, "kv");
    }
  }
  for (uint64_t n : {0, 4, 10, 120}) {
    if (!echo.is_null()) {
      echo_words(echo, n);
    } else {
      skip("echo words", "echo");
    }
  }
  if (!echo.is_null()) {
    echo_cap(echo);
  } else {
    skip("echo_cap", "echo");
  }
  refused_locally();
  if (!kv.is_null()) {
    crash(kv, abi::kv::kCrash);
    kv_restarted(kv);
  } else {
    skip("kv crash", "kv");
    skip("kv restart", "kv");
  }
  if (!fragile.is_null()) {
    fragile_stays_down(fragile);
  } else {
    skip("fragile crash", "fragile");
    skip("fragile stays down", "fragile");
  }
  if (!greeter.is_null()) {
    hello(greeter);
  } else {
    skip("hello", "hello");
  }

  sys::print("1..%d\n", g_points);
  sys::print("# %d of %d test points failed\n", g_failed, g_points);
  sys::log_flush();
  sys::debug_exit(static_cast<uint64_t>(g_failed == 0 ? abi::TestVerdict::kPass
                                                      : abi::TestVerdict::kFail));
}
