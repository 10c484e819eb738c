#pragma once
// Regular expressions. JSONata regexes are JavaScript regexes; we run them on RE2, a
// linear-time engine, so that no pattern can take exponential time ("catastrophic
// backtracking" cannot happen). The JavaScript syntax is translated to RE2's; features RE2
// cannot do in linear time (backreferences, lookahead, lookbehind) are rejected at compile time
// with error S0303. Positions are byte offsets into the UTF-8 subject.
#include <bitset>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace stratus::jsonata::internal {

class Regex {
 public:
  Regex(std::string source, std::string flags, std::unique_ptr<re2::RE2> re);
  ~Regex();
  const std::string& source() const { return source_; }
  const std::string& flags() const { return flags_; }
  int group_count() const { return groups_; }

  struct Match {
    size_t start = 0;  // byte offsets
    size_t end = 0;
    std::vector<std::optional<std::string>> groups;  // capture groups 1..n (nullopt: unmatched)
  };
  // Finds the first match starting at or after byte offset `from`.
  std::optional<Match> Find(std::string_view subject, size_t from) const;

 private:
  // Patterns that need no engine: a single class of ASCII characters (`[aeiou]`, `[0-9]`) or a
  // plain literal; their matches are found by a byte scan (an ASCII byte never occurs inside a
  // UTF-8 multi-byte character, so byte matches are character matches).
  enum class Shape : uint8_t { kEngine, kAsciiClass, kLiteral };
  void DetectShape();

  std::string source_;
  std::string flags_;
  std::unique_ptr<re2::RE2> re_;
  int groups_ = 0;
  Shape shape_ = Shape::kEngine;
  std::bitset<128> class_;  // kAsciiClass members
};

// Compiles a JavaScript regex; throws JError (S0303 unsupported feature, S0302 invalid) with
// `position` as the error position.
std::shared_ptr<const Regex> CompileRegex(const std::string& pattern, const std::string& flags,
                                          int position);

// Translates JavaScript regex syntax to RE2 syntax; returns false and sets `error` when the
// pattern uses a feature RE2 does not support. Exposed for tests.
bool TranslateJsRegex(std::string_view js, std::string& out, std::string& error);

}  // namespace stratus::jsonata::internal
