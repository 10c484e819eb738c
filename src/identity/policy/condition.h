#pragma once
// Condition operators (internal to the policy library; policy.h is the face). Exposed for the
// parser, the evaluator, the unit tests and the fuzz target.
//
// Semantics, as AWS documents them and iam-simulate implements them:
//  * values of one key are ORed; keys of one operator and operators of one statement are ANDed;
//  * a key the request does not carry: false, except for negated operators (StringNotEquals,
//    NotIpAddress, ...) and ...IfExists, which are true; Null tests presence only;
//  * a multivalued key without ForAllValues/ForAnyValue does not match;
//  * ForAllValues: true when every request value matches (so true for an absent or empty key);
//    ForAnyValue: true when at least one does (false for an absent key unless ...IfExists);
//  * a negated operator matches a value when none of the policy's values match it;
//  * values that cannot be read (a number that is not one, a bad date or address) do not match.
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "identity/policy/policy.h"

namespace stratus::identity::policy {

struct ParsedOperator {
  Operator op = Operator::kStringEquals;
  SetQualifier qualifier = SetQualifier::kNone;
  bool if_exists = false;
};

// Parses "ForAnyValue:StringLikeIfExists" (case-insensitively); nullopt when it is not one.
std::optional<ParsedOperator> ParseOperator(std::string_view name);
std::string_view OperatorName(Operator op);
bool IsNegated(Operator op);
// Operators whose values may hold policy variables.
bool AcceptsVariables(Operator op);

// Compiles a condition value for `op`. `variables` says whether "${...}" is a variable.
ConditionValue CompileConditionValue(Operator op, std::string_view text, bool variables);

// Resolves "${aws:username}"-style variables in `text` from `context`; nullopt when a variable
// has no value and no default ("${aws:username, 'none'}"). "${*}", "${?}", "${$}" are the
// literal characters.
std::optional<std::string> ResolveVariables(std::string_view text, const RequestContext* context);

// Evaluates one condition (one operator + one key) against the request context.
bool EvaluateCondition(const Condition& condition, const RequestContext* context,
                       bool variables_enabled);

// Parses an address ("10.1.2.3", "2001:db8::1") or a network ("10.0.0.0/8") into 16 bytes
// (IPv4 mapped) and a prefix length in that 128-bit space; false when it is neither.
bool ParseIpNetwork(std::string_view text, uint8_t (&bytes)[16], int& prefix_bits);
// Parses a date as IAM accepts it: ISO 8601 (date or date-time) or epoch seconds.
std::optional<double> ParsePolicyDate(std::string_view text);

}  // namespace stratus::identity::policy
