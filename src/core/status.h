// Status and Result<T>: how every fallible library function reports failure.
//
// The library never exits or throws across its API; errors travel as values up to the edge
// (CLI, C API), which prints them. Assertions (RATEL_ASSERT) are for programmer bugs only.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/core.h>

namespace ratel {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller passed something malformed (bad shape string, bad option)
  kNotFound,         // a file, tensor, input or attribute that should exist does not
  kUnsupported,      // valid input that Ratel does not handle (unknown op, dtype)
  kCorrupt,          // a file is damaged or inconsistent (truncated, offsets out of range)
  kOutOfRange,       // a value exceeds a limit (hostile sizes, ids out of vocabulary)
  kIo,               // the OS failed us (read error, mmap failure)
  kInternal,         // an invariant broke; a Ratel bug
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Adds context in front of the message: "loading model.onnx: <message>".
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Convenience constructors with fmt-style formatting.
template <typename... Args>
Status invalid_argument(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status not_found(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kNotFound, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status unsupported(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kUnsupported, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status corrupt(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kCorrupt, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status out_of_range(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kOutOfRange, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status io_error(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kIo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status internal_error(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kInternal, fmt::format(f, std::forward<Args>(args)...));
}

// Result<T>: a T or a non-ok Status (std::expected is C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result constructed from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ratel

#define RATEL_CONCAT_INNER(a, b) a##b
#define RATEL_CONCAT(a, b) RATEL_CONCAT_INNER(a, b)

#define RATEL_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::ratel::Status ratel_status_ = (expr);      \
    if (!ratel_status_.ok()) return ratel_status_; \
  } while (0)

#define RATEL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

// RATEL_ASSIGN_OR_RETURN(auto x, f()); — declares x from a Result or returns its Status.
#define RATEL_ASSIGN_OR_RETURN(lhs, expr) \
  RATEL_ASSIGN_OR_RETURN_IMPL(RATEL_CONCAT(ratel_result_, __LINE__), lhs, expr)

// For programmer errors only; never for bad input.
#define RATEL_ASSERT(cond) assert(cond)
