#pragma once
// Failures a request can cause are values (STYLE.md rule 3): every operation returns a
// Result<T>, and exactly one place per protocol turns an Error into its wire form.
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/json.h"

namespace stratus {

// An AWS-shaped error. `code` is the error code exactly as AWS names it
// ("ResourceNotFoundException", "InvalidParameterValue", "NoSuchKey"); `http_status` is the status
// AWS answers with; `sender_fault` selects <Type>Sender</Type> vs Receiver in the query protocol.
// `fields` holds extra members some errors carry (S3's <Key>, DynamoDB's CancellationReasons,
// SQS's QueueUrl); codecs write them beside Code and Message.
struct Error {
  std::string code;
  std::string message;
  int http_status = 400;
  bool sender_fault = true;
  Json fields = Json::object();
  // Headers to add to the error response (e.g. S3's x-amz-delete-marker on a 404).
  std::vector<std::pair<std::string, std::string>> headers;

  Error() = default;
  Error(std::string c, std::string m, int status = 400, bool sender = true)
      : code(std::move(c)), message(std::move(m)), http_status(status), sender_fault(sender) {}

  Error&& With(std::string key, Json value) && {
    fields[std::move(key)] = std::move(value);
    return std::move(*this);
  }
};

// Common errors every service shares (AWS's generic codes).
inline Error InternalFailure(std::string message) {
  return Error("InternalFailure", std::move(message), 500, false);
}
inline Error ServiceUnavailable(std::string message) {
  return Error("ServiceUnavailable", std::move(message), 503, false);
}

// Result<T> holds either a T or an Error. Deliberately small: no exceptions, no monadic zoo.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

// Status is Result<void>: success or an Error. A success holds no Error (constructing one
// allocates its `fields` object), so returning Status::Ok() costs nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(implicit)
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    assert(!ok());
    return *error_;
  }
  Error&& error() && {
    assert(!ok());
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

}  // namespace stratus

// Propagates an error from an expression yielding Status or Result<T>.
#define STRATUS_RETURN_IF_ERROR(expr)                   \
  do {                                                  \
    auto _stratus_st = (expr);                          \
    if (!_stratus_st.ok()) return std::move(_stratus_st).error(); \
  } while (0)

#define STRATUS_CONCAT_INNER(a, b) a##b
#define STRATUS_CONCAT(a, b) STRATUS_CONCAT_INNER(a, b)
// Declares `lhs` from a Result<T> expression, or returns its error.
#define STRATUS_ASSIGN_OR_RETURN(lhs, expr) \
  STRATUS_ASSIGN_OR_RETURN_IMPL(STRATUS_CONCAT(_stratus_r, __LINE__), lhs, expr)
#define STRATUS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).error();       \
  lhs = std::move(tmp).value()
