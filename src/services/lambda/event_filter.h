#pragma once
// Lambda event filtering: the FilterCriteria of an event source mapping.
//
// A FilterCriteria is {"Filters": [{"Pattern": "<json>"}, ...]}: up to kMaxFilters patterns,
// ORed. A record that matches none of them is never delivered (the queue source deletes it, a
// stream source moves its checkpoint past it). A pattern is a JSON object in the syntax AWS
// documents under "Lambda event filtering" (the EventBridge pattern language):
//
//   {"key": [rule, ...]}       the record's value at key matches one of the rules
//   {"key": {nested pattern}}  the record's object at key matches the nested pattern
//   {"$or": [pattern, ...]}    one of the patterns matches
//   several keys               all of them match (AND)
//
// A rule is a literal (string, number, true/false, null: equality; "" matches the empty
// string) or an object with one operator: {"prefix": s}, {"suffix": s} (either also as
// {"equals-ignore-case": s}), {"equals-ignore-case": s}, {"anything-but": v | [v, ...] |
// {"prefix"|"suffix"|"equals-ignore-case": s}}, {"numeric": ["=", n]} or {"numeric": [op, n]}
// / [op, n, op, m] with a lower and an upper bound (op one of < <= > >=), {"exists": bool}.
// When the record's value is an array, the rule matches if it matches one of its elements.
// Only `exists: false` matches a missing key; rules match leaves (strings, numbers, booleans,
// null), never an object.
//
// Not supported (refused as an invalid pattern): "wildcard", "cidr" and anything-but with a
// wildcard, which Lambda does not document either.
//
// Thread-safe after construction (immutable).
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::lambda {

inline constexpr size_t kMaxFilters = 5;  // AWS's default quota per event source mapping

// How a source presents its records to the filter.
struct FilterOptions {
  // DynamoDB JSON carries numbers as strings ({"N": "12"}): numeric rules and number
  // literals also match a string that is a decimal number.
  bool numeric_strings = false;
};

class EventFilter {
 public:
  EventFilter() = default;  // no filters: every record matches

  // Parses and validates a mapping's FilterCriteria. Errors are InvalidParameterValueException
  // with AWS's "Invalid filter pattern definition." (or the filter-count limit).
  static Result<EventFilter> Parse(const Json& criteria);

  // Parses and validates one pattern string; the pattern as JSON.
  static Result<Json> ParsePattern(std::string_view pattern);

  // True when there are no filters.
  bool empty() const { return patterns_.empty(); }

  // Whether the record (as the source presents it) matches one of the filters.
  bool Matches(const Json& record, const FilterOptions& options) const;

 private:
  std::vector<Json> patterns_;
};

// Whether one validated pattern matches an event.
bool PatternMatches(const Json& pattern, const Json& event, const FilterOptions& options);

}  // namespace stratus::services::lambda
