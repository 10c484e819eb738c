#pragma once
// Built-in function families. Each family file defines its functions and contributes its
// table entries; functions.cc assembles the registry.
#include <vector>

#include "jsonata/evaluator.h"

namespace stratus::jsonata::internal {

// Each family appends {name, signature, implementation, arity} entries.
void AddArrayFunctions(std::vector<Builtin>& out);     // functions.cc
void AddStringFunctions(std::vector<Builtin>& out);    // functions_string.cc
void AddNumericFunctions(std::vector<Builtin>& out);   // functions_numeric.cc
void AddFormatFunctions(std::vector<Builtin>& out);    // number_format.cc
void AddDateTimeFunctions(std::vector<Builtin>& out);  // datetime.cc

// Helpers shared between families.
inline const Value& Arg(const Args& a, size_t i) {
  static const Value kUndefined;
  return i < a.size() ? a[i] : kUndefined;
}
// Every signature parameter also accepts "missing" (undefined); these fetch an argument that
// the function cannot do without, failing with T0410 like a signature mismatch.
const std::string& RequireString(const Args& a, size_t i);
const Value& RequireFunction(const Args& a, size_t i);
// Number of Unicode code points in UTF-8 text (JSONata measures strings in code points).
size_t CodePointLength(const std::string& s);
// Byte offset of code point `cp` (clamped to the string's end).
size_t CodePointOffset(const std::string& s, size_t cp);
// UTF-16 index of a byte offset (JavaScript string positions).
size_t Utf16Index(const std::string& s, size_t byte_offset);
// x with its decimal point moved by `places`, computed on x's shortest decimal text as the
// reference does (functions_numeric.cc). ShiftDecimal is the fast form, ShiftDecimalByText the
// literal one (identical results; kept for the fallback and for tests).
double ShiftDecimal(double x, int places);
double ShiftDecimalByText(double x, int places);
// $round: half to even at `precision` decimals (functions_numeric.cc).
double RoundHalfEven(double x, int precision);
// Formats an epoch-milliseconds value with an XPath picture string (datetime.cc).
std::string FormatDateTime(int64_t millis, const Value& picture, const Value& timezone);

}  // namespace stratus::jsonata::internal
