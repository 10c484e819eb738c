#pragma once
// DynamoDB expressions: condition/filter/key-condition, update and projection expressions.
// ParseX turns the text into a tree, resolving #name and :value placeholders against the
// request's ExpressionAttributeNames/Values, and runs every static check DynamoDB runs, in its
// order, with its exact ValidationException texts ("Invalid ConditionExpression: Syntax error;
// token: \"=\", near: \"= =\"", reserved words, undefined or unused placeholders, operand counts
// and types, overlapping paths). Evaluation (expr_eval.cc) and update application (update.cc)
// work on items in wire-form JSON.
//
// A parsed expression points into the ExpressionAttributeValues it was parsed with: keep them
// alive while using it. Everything here is pure and thread-compatible.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::dynamodb {

// One step of a document path: a map key / attribute name, or a list index.
struct PathElem {
  bool is_index = false;
  std::string name;
  int64_t index = 0;
  bool operator==(const PathElem& o) const {
    return is_index == o.is_index && (is_index ? index == o.index : name == o.name);
  }
};
using Path = std::vector<PathElem>;
// "[a, [1], b]" as DynamoDB prints paths in messages.
std::string PathToString(const Path& p);

struct Node {
  enum Kind {
    kPath,     // path
    kValue,    // value (points into ExpressionAttributeValues)
    kCall,     // op = function name, kids = arguments
    kCompare,  // op = "=", "<>", "<", "<=", ">", ">="; kids = 2
    kBetween,  // kids = 3
    kIn,       // kids = 1 + list
    kAnd,
    kOr,
    kNot,
    kArith,    // op = "+" / "-" (update expressions)
  };
  Kind kind = kPath;
  std::string op;
  Path path;
  std::string ref;               // ":v" or the path's source text
  const Json* value = nullptr;   // kValue
  std::vector<Node> kids;
  bool parens = false;           // written inside parentheses
  size_t pos = 0;                // offset in the source
};

// Which request parameter an expression came from (names its errors).
enum class ExprKind { kCondition, kFilter, kKeyCondition, kUpdate, kProjection };
const char* ExprKindName(ExprKind k);

// Placeholder tables of a request and which entries the parsed expressions used.
struct ExprContext {
  const Json* names = nullptr;   // ExpressionAttributeNames (object) or null
  const Json* values = nullptr;  // ExpressionAttributeValues (object) or null
  std::set<std::string> used_names;
  std::set<std::string> used_values;
};

struct UpdateAction {
  enum Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = kSet;
  Path path;
  Node value;  // SET: the value expression; ADD/DELETE: the :value
  size_t pos = 0;  // offset of the path in the source
};
struct UpdateExpr {
  std::vector<UpdateAction> actions;
};

// A condition/filter/key condition. The tree's root is a condition node.
Result<Node> ParseCondition(std::string_view text, ExprKind kind, ExprContext& ctx);
Result<UpdateExpr> ParseUpdate(std::string_view text, ExprContext& ctx);
Result<std::vector<Path>> ParseProjection(std::string_view text, ExprContext& ctx);

// After every expression of a request is parsed: the "Value provided in
// ExpressionAttributeNames/Values unused in expressions" errors.
Status CheckUnused(const ExprContext& ctx);
// Validates the placeholder tables themselves: empty maps, invalid keys, invalid values
// (normalizing the values in place). `any_expression` says whether the request uses expressions.
Status CheckPlaceholderTables(Json* names, Json* values);

// True for DynamoDB's reserved words (case-insensitive).
bool IsReservedWord(std::string_view word);

// ---- evaluation (expr_eval.cc) ----

// The value at `path` in `item` (a map of attribute name -> AttributeValue), or null.
const Json* Resolve(const Json& item, const Path& path);
// Evaluates a condition against an item (an empty object for a missing item).
bool EvalCondition(const Node& cond, const Json& item);
// The attributes of `item` selected by `paths` (ProjectionExpression semantics).
Json Project(const Json& item, const std::vector<Path>& paths);

// ---- update application (update.cc) ----

// Applies `update` to `item` in place. `key_names` are the table's key attributes (which may
// not be updated). Fills `touched` with the updated top-level paths for UPDATED_OLD/NEW.
Status ApplyUpdate(const UpdateExpr& update, Json& item, std::vector<Path>& touched);
// Static checks that need the table: key attributes may not be updated.
Status CheckUpdateKeys(const UpdateExpr& update, const std::vector<std::string>& key_names);

}  // namespace stratus::services::dynamodb
