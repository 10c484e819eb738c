#pragma once
// Internals shared by the expression parser (expr_parse.cc) and its static checks
// (expr_check.cc). Not part of the module's face (expr.h).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "services/dynamodb/expr.h"

namespace stratus::services::dynamodb::internal {

inline bool IsConditionFunction(std::string_view f) {
  return f == "attribute_exists" || f == "attribute_not_exists" || f == "attribute_type" ||
         f == "begins_with" || f == "contains";
}
inline bool IsUpdateFunction(std::string_view f) { return f == "if_not_exists" || f == "list_append"; }

// The first call of a function that does not exist, or null.
const Node* FindBadFunction(const Node& n, bool update);
// A function used where it cannot be (condition functions as operands, size as a condition), or
// an operand where a condition belongs; null when none.
const Node* FindMisusedFunction(const Node& n, bool want_condition);
// Per-node operand checks (counts, document paths, types, distinct operands, BETWEEN bounds),
// children first, as DynamoDB orders them.
Status CheckOperands(const Node& n, const std::function<Error(std::string)>& fail);
// Overlapping, then conflicting, document paths.
Status CheckPathClashes(const std::vector<const Path*>& paths,
                        const std::function<Error(std::string)>& fail);

}  // namespace stratus::services::dynamodb::internal
