#pragma once
// SNS subscription filter policies: validation with AWS's exact InvalidParameter messages and
// complexity limits, and matching against a message's attributes or its JSON body.
//
// Operators: exact values (string, number, true/false, null), prefix, suffix,
// equals-ignore-case, anything-but (a value, a list, or {prefix | equals-ignore-case}), numeric
// ranges, exists, cidr (IPv4 and IPv6), $or at any level, nested keys (MessageBody scope; a key
// with dots also matches the nested path), and arrays in messages (any element may match).
//
// Limits (AWS's): at most 5 keys per alternative, and a complexity of at most 150, where the
// complexity is the sum over the $or alternatives of the product, over their keys, of the key's
// nesting depth times its number of values (so {"a": {"b": [4 values]}} costs 2 x 4).
//
// Pure functions over immutable values; thread-safe.
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::sns {

enum class FilterScope { kMessageAttributes, kMessageBody };

class FilterPolicy;

// Parses and validates `text` for `scope`. Errors are InvalidParameter with AWS's message:
// "Invalid parameter: [Attributes Reason: ]FilterPolicy: <reason>", where the "Attributes
// Reason: " part appears when the policy came through Subscribe (`via_subscribe`).
Result<std::shared_ptr<const FilterPolicy>> CompileFilterPolicy(const std::string& text,
                                                                FilterScope scope,
                                                                bool via_subscribe);

// True when a message passes the policy. `attributes` are the Publish MessageAttributes in
// canonical JSON ({"name": {"DataType", "StringValue" | "BinaryValue"}}); `body` is the message
// text (MessageBody scope: it must be a JSON object, otherwise nothing matches).
bool MatchesFilterPolicy(const FilterPolicy& policy, const Json& attributes,
                         const std::string& body);

}  // namespace stratus::services::sns
