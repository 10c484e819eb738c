#pragma once
// Internal error type of the JSONata library. Inside the library errors travel as a C++
// exception (the evaluator is deeply recursive and an error can arise anywhere in it; unwinding
// is free on the success path). Every public entry point catches it and returns a value, so no
// exception ever leaves the library.
#include <string>

#include "jsonata/value.h"

namespace stratus::jsonata::internal {

// Error codes that are ours rather than the reference implementation's.
inline constexpr const char* kCodeLimit = "U1001";          // depth / time limit (as the suite)
inline constexpr const char* kCodeRegexUnsupported = "S0303";  // JS regex feature RE2 lacks
inline constexpr const char* kCodeSizeLimit = "D2015";     // result would exceed size limits

struct JError {
  std::string code;
  int position = -1;
  std::string token;
  bool has_token = false;
  Value value;
  Value value2;
  int index = 0;        // argument index for T04xx
  std::string detail;   // extra text appended to the message (or the whole message for U/$error)

  JError(std::string c, int pos = -1) : code(std::move(c)), position(pos) {}
  JError& Token(std::string t) {
    token = std::move(t);
    has_token = true;
    return *this;
  }
  JError& Val(Value v) {
    value = std::move(v);
    return *this;
  }
};

// Builds the human-readable message for an error, from the reference's message templates.
std::string ErrorMessage(const JError& e);

// Renders a value the way error messages quote it (JSON-ish, functions as their kind).
std::string DescribeValue(const Value& v);

}  // namespace stratus::jsonata::internal
