#pragma once
// CloudWatch Logs filter patterns (FilterLogEvents, later metric and subscription filters):
//
//   unstructured  ERROR            events containing the term (case-sensitive)
//                 ERROR Exception  all terms;  ?ERROR ?WARN  any term;  -DEBUG  not the term
//                 "a phrase: x"    a quoted phrase;  %regex%  an RE2 regular expression
//   JSON          { $.level = "ERROR" && ($.latency > 100 || $.user.id = 7) }
//                 = != with strings (wildcard *), numbers (< <= > >= too), IS TRUE/FALSE/NULL,
//                 NOT EXISTS, array indexes ($.a[0].b), %regex% values
//   delimited     [ip, user, ..., status = 4* || status = 5*, bytes > 1000]
//
// Compile once, match many times. A compiled pattern is immutable and thread-safe.
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace stratus::services::logs {

class FilterPattern {
 public:
  // Parses `pattern`; an empty or all-blank pattern matches everything. Malformed patterns fail
  // with InvalidParameterException "Invalid filter pattern", as CloudWatch Logs answers.
  static Result<std::shared_ptr<const FilterPattern>> Compile(std::string_view pattern);

  virtual ~FilterPattern() = default;
  virtual bool Matches(std::string_view message) const = 0;
};

}  // namespace stratus::services::logs
