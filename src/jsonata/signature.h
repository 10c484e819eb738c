#pragma once
// Function signatures (`<s-nn?:s>`): parsing and argument validation with the reference's
// coercions (context substitution for `-`, wrapping a single value for an `a` parameter) and
// errors (T0410 argument mismatch, T0411 context mismatch, T0412 array member type).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jsonata/value.h"

namespace stratus::jsonata::internal {

struct SigParam {
  char type = 'x';      // b n s l a o f j x, or '(' for a choice
  std::string accept;   // symbols the parameter accepts, always including 'm' (missing)
  char quant = 0;       // 0, '?', '+'
  bool context = false; // '-': use the context value when the argument is missing
  std::string subtype;  // a<n>: member type; f<...>: ignored
};

struct Signature {
  std::string text;
  std::vector<SigParam> params;

  // Turns `args` into the arguments the function receives after coercion (in place, so that
  // the common case costs no allocation); throws JError on mismatch.
  void Validate(std::vector<Value>& args, const Value& context) const;
};

// Throws JError S0401/S0402 on a malformed signature.
std::shared_ptr<const Signature> ParseSignature(std::string_view text);

// The one-letter type symbol of a value (as the reference: m for missing).
char TypeSymbol(const Value& v);

}  // namespace stratus::jsonata::internal
