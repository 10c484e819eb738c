#pragma once
// DynamoDB's Number type: a decimal with up to 38 significant digits and a magnitude between
// 1E-130 and 9.99..9E+125, exact (no binary floating point anywhere). Parsing normalizes (no
// leading or trailing zeros, "-0" is 0); Format prints plain notation as DynamoDB returns it
// ("1E+2" -> "100", "0.50" -> "0.5"). Errors carry DynamoDB's ValidationException texts.
//
// Value types; thread-compatible.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace stratus::services::dynamodb {

inline constexpr int kMaxNumberDigits = 38;

class Decimal {
 public:
  Decimal() = default;  // zero

  // Parses DynamoDB's number text ([+-] digits [. digits] [e[+-]digits], or .digits). Errors:
  // "The parameter cannot be converted to a numeric value[: text]", "Attempting to store more
  // than 38 significant digits in a Number", "Number overflow. ..." and "Number underflow. ...".
  static Result<Decimal> Parse(std::string_view text);
  // From an integer (list sizes, ADD of counters).
  static Decimal FromInt(int64_t v);

  // Plain notation, as DynamoDB returns numbers.
  std::string Format() const;
  // -1, 0, 1.
  static int Compare(const Decimal& a, const Decimal& b);
  // Exact sum/difference; fails with DynamoDB's overflow/underflow/precision errors.
  static Result<Decimal> Add(const Decimal& a, const Decimal& b);
  static Result<Decimal> Subtract(const Decimal& a, const Decimal& b);

  bool is_zero() const { return digits_.empty(); }
  bool negative() const { return negative_; }
  // Significant digits (no leading/trailing zeros); empty for zero.
  const std::string& digits() const { return digits_; }
  // The value is 0.<digits> x 10^exponent.
  int exponent() const { return exponent_; }
  // An order-preserving byte encoding: memcmp order of encodings = numeric order. Self-delimiting
  // (it may be followed by other bytes in a key).
  std::string EncodeOrdered() const;
  // The integer value if the number is an integer within int64 range.
  bool ToInt64(int64_t& out) const;
  // Storage size DynamoDB charges: one byte per two significant digits plus one.
  size_t StorageSize() const { return (digits_.size() + 1) / 2 + 1; }

  bool operator==(const Decimal& o) const { return Compare(*this, o) == 0; }

 private:
  // Checks the digit count and magnitude limits.
  static Status CheckLimits(const Decimal& d);

  bool negative_ = false;
  std::string digits_;  // '1'..'9' first and last
  int exponent_ = 0;
};

// Error helpers with DynamoDB's texts.
Error NumberValidation(std::string message);

}  // namespace stratus::services::dynamodb
