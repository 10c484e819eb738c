#pragma once
// IAM wildcards: '*' matches any run of characters (including none), '?' exactly one. Used for
// Action/NotAction, Resource/NotResource, StringLike and ArnLike.
//
// Matching is linear in the text whatever the pattern: the pattern is split at '*' into
// segments; the first must match at the start, the last at the end, and each middle segment is
// found at its leftmost position after the previous one (which is correct for '*'-globs), with a
// bit-parallel Shift-And scan that reads every text character once per word of the segment. No
// backtracking, so patterns written to be slow ("*a*a*a*a*b") cost O(text × segments/64).
//
// A Glob is immutable after Compile and thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::identity::policy {

class Glob {
 public:
  Glob() = default;
  // Compiles `pattern`. With `case_insensitive` letters match either case (IAM actions).
  static Glob Compile(std::string_view pattern, bool case_insensitive = false);

  bool Matches(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }
  bool is_everything() const { return everything_; }   // "*" (or "**", ...)
  bool has_wildcards() const { return has_wildcards_; }

 private:
  struct Segment {
    uint32_t offset = 0;  // into pattern_
    uint32_t length = 0;
    bool has_question = false;
    // Shift-And masks for middle segments: 256 × words, bit i set when pattern char i accepts
    // the byte. Empty for the first and last segment.
    std::vector<uint64_t> masks;
    uint32_t words = 0;
  };
  bool MatchAt(const Segment& s, std::string_view text, size_t at) const;
  // Leftmost end (exclusive) of segment `s` in text[from, limit), or npos.
  size_t FindEnd(const Segment& s, std::string_view text, size_t from, size_t limit) const;

  std::string pattern_;            // lowercased when case_insensitive_
  std::vector<Segment> segments_;  // split at '*'
  bool has_star_ = false;
  bool has_wildcards_ = false;
  bool everything_ = false;
  bool case_insensitive_ = false;
};

// Matches `text` against `pattern` without compiling ahead (policy variables resolved at request
// time). Same semantics and bounds as Glob.
bool GlobMatch(std::string_view pattern, std::string_view text, bool case_insensitive = false);

// A Resource element entry (or an ArnLike value): "*", or an ARN whose first five colon-separated
// fields (arn, partition, service, region, account) are matched field by field and whose
// resource part (everything after the fifth colon, colons included) is matched as a whole.
class ResourcePattern {
 public:
  ResourcePattern() = default;
  static ResourcePattern Compile(std::string_view pattern);

  // `expand_short`: an ARN with fewer than six fields matches as if padded with "*" fields
  // (identity policies); otherwise such a pattern only matches when it contains a wildcard
  // (resource-based policies, as AWS and iam-simulate do).
  bool Matches(std::string_view arn, bool expand_short = true) const;
  const std::string& text() const { return text_; }
  bool is_everything() const { return everything_; }

 private:
  std::string text_;
  bool everything_ = false;
  bool is_arn_ = false;
  bool short_ = false;
  bool short_has_wildcard_ = false;
  std::vector<Glob> fields_;   // up to 5 (arn, partition, service, region, account)
  Glob resource_;
};

// Splits an ARN into its first five fields and the resource part; false when it has fewer than
// five colons.
bool SplitArn(std::string_view arn, std::string_view (&fields)[5], std::string_view& resource);

}  // namespace stratus::identity::policy
