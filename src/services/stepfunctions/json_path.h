#pragma once
// JSONPath as Step Functions evaluates it (the Jayway implementation's semantics and error
// texts): `$`, `.name`, `['name']`, `[n]` (negative from the end), `[*]`, `.*`, `..name`,
// `[a,b]`, `[start:end]`, filters `[?(@.x < 1 && @.y)]`, and the `length()` function.
//
// A path is *definite* when it names at most one node (no wildcard, deep scan, union, slice or
// filter): reading it yields that node or an error; an indefinite path yields an array of every
// match (possibly empty). Reference paths (InputPath, ResultPath, OutputPath, Variable, ...)
// must be definite; ResultPath additionally writes.
//
// Thread-safe: a parsed JsonPath is immutable.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::stepfunctions {

struct PathFilter;

struct PathSegment {
  enum class Kind { kField, kIndex, kWildcard, kSlice, kFieldUnion, kIndexUnion, kDeepField, kDeepWildcard, kFilter, kLength };
  Kind kind = Kind::kField;
  std::string field;                 // kField, kDeepField
  int64_t index = 0;                 // kIndex
  std::vector<std::string> fields;   // kFieldUnion
  std::vector<int64_t> indexes;      // kIndexUnion
  std::optional<int64_t> start, end; // kSlice
  std::shared_ptr<const PathFilter> filter;  // kFilter
};

class JsonPath {
 public:
  // Parses a path that starts with '$'. The text after the root's '$' is parsed; the caller
  // strips a "$$" context root or "$name" variable root and passes the rest as "$...".
  static Result<JsonPath> Parse(std::string_view text);

  bool definite() const { return definite_; }
  bool is_root() const { return segments_.empty(); }
  const std::string& text() const { return text_; }
  const std::vector<PathSegment>& segments() const { return segments_; }

  // Reads the path: a definite path's node or a Jayway error message (kind "No results for
  // path: $['x']" or "Missing property in path $['x']"); an indefinite path's matches as an array.
  Result<Json> Read(const Json& root) const;
  // The node a definite path names, or nullptr (no copy).
  const Json* Find(const Json& root) const;
  // Writes `value` at a definite path, creating missing objects (ResultPath semantics).
  // Errors when an intermediate node is not an object, or an index is out of range.
  Status Write(Json& root, Json value) const;

  // Jayway's bracket notation of the first `n` segments: $['a']['b'][0].
  std::string Bracketed(size_t n) const;

 private:
  std::string text_;
  std::vector<PathSegment> segments_;
  bool definite_ = true;
};

// A filter expression [?(...)]: comparisons of @-relative paths and literals, with && || !.
struct PathFilter {
  enum class Op { kExists, kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr, kNot };
  Op op = Op::kExists;
  // Operands for comparisons: a path relative to @ (or $) or a literal.
  struct Operand {
    bool is_path = false;
    bool from_root = false;
    std::shared_ptr<const JsonPath> path;
    Json literal;
  };
  Operand left, right;
  std::vector<std::shared_ptr<const PathFilter>> children;  // kAnd/kOr/kNot
  bool Matches(const Json& current, const Json& root) const;
};

}  // namespace stratus::services::stepfunctions
