// SPDX-License-Identifier: MIT
//
// Result<T, E>: a value or an error, shared by the kernel, libsys and host tools. C++20 has no
// std::expected, and the kernel cannot use exceptions, so every fallible function returns one of
// these and callers pass errors up with TRY.
#pragma once

#include <abi/status.hpp>

#include <new>
#include <type_traits>
#include <utility>

namespace abi {

// Wraps an error so that Result's constructors are unambiguous even when T and E convert.
template <typename E>
struct Error {
  E value;
};

template <typename E>
Error(E) -> Error<E>;

template <typename T, typename E = Status>
class [[nodiscard]] Result {
 public:
  using ValueType = T;
  using ErrorType = E;

  Result(const T& v) : has_value_(true) { new (&storage_.value) T(v); }
  Result(T&& v) : has_value_(true) { new (&storage_.value) T(std::move(v)); }
  template <typename F>
    requires std::is_convertible_v<F, E>
  Result(Error<F> e) : has_value_(false) {
    new (&storage_.error) E(static_cast<E>(e.value));
  }

  Result(const Result& o) : has_value_(o.has_value_) {
    if (has_value_) {
      new (&storage_.value) T(o.storage_.value);
    } else {
      new (&storage_.error) E(o.storage_.error);
    }
  }
  Result(Result&& o) : has_value_(o.has_value_) {
    if (has_value_) {
      new (&storage_.value) T(std::move(o.storage_.value));
    } else {
      new (&storage_.error) E(std::move(o.storage_.error));
    }
  }
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  ~Result() {
    if (has_value_) {
      storage_.value.~T();
    } else {
      storage_.error.~E();
    }
  }

  bool ok() const { return has_value_; }
  explicit operator bool() const { return has_value_; }

  T& value() & { return storage_.value; }
  const T& value() const& { return storage_.value; }
  T&& value() && { return std::move(storage_.value); }
  const E& error() const { return storage_.error; }

  T* operator->() { return &storage_.value; }
  const T* operator->() const { return &storage_.value; }
  T& operator*() & { return storage_.value; }
  const T& operator*() const& { return storage_.value; }

  T value_or(T fallback) const { return has_value_ ? storage_.value : fallback; }

 private:
  union Storage {
    Storage() {}
    ~Storage() {}
    T value;
    E error;
  } storage_;
  bool has_value_;
};

// Result<void>: success carries nothing.
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  using ValueType = void;
  using ErrorType = E;

  Result() : has_value_(true), error_() {}
  template <typename F>
    requires std::is_convertible_v<F, E>
  Result(Error<F> e) : has_value_(false), error_(static_cast<E>(e.value)) {}

  bool ok() const { return has_value_; }
  explicit operator bool() const { return has_value_; }
  void value() const {}
  const E& error() const { return error_; }

 private:
  bool has_value_;
  E error_;
};

template <typename E>
constexpr Error<E> err(E e) {
  return Error<E>{e};
}

}  // namespace abi

// TRY(expr): evaluates a Result; on error returns the error from the enclosing function, else
// yields the value (a GNU statement expression, supported by GCC and Clang).
#define TRY(expr)                                              \
  ({                                                           \
    auto&& keel_try_result_ = (expr);                          \
    if (!keel_try_result_.ok()) {                              \
      return ::abi::Error{keel_try_result_.error()};           \
    }                                                          \
    static_cast<decltype(keel_try_result_)&&>(keel_try_result_).value(); \
  })
