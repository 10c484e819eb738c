#include "identity/policy/glob.h"

#include <algorithm>

namespace stratus::identity::policy {

namespace {

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

Glob Glob::Compile(std::string_view pattern, bool case_insensitive) {
  Glob g;
  g.case_insensitive_ = case_insensitive;
  g.pattern_.assign(pattern);
  if (case_insensitive) {
    for (char& c : g.pattern_) c = Lower(c);
  }
  g.everything_ = !g.pattern_.empty() &&
                  std::all_of(g.pattern_.begin(), g.pattern_.end(), [](char c) { return c == '*'; });
  size_t start = 0;
  for (size_t i = 0; i <= g.pattern_.size(); ++i) {
    if (i == g.pattern_.size() || g.pattern_[i] == '*') {
      Segment s;
      s.offset = static_cast<uint32_t>(start);
      s.length = static_cast<uint32_t>(i - start);
      s.has_question = std::string_view(g.pattern_).substr(start, i - start).find('?') !=
                       std::string_view::npos;
      g.has_wildcards_ = g.has_wildcards_ || s.has_question;
      g.segments_.push_back(std::move(s));
      if (i < g.pattern_.size()) g.has_star_ = true;
      start = i + 1;
    }
  }
  g.has_wildcards_ = g.has_wildcards_ || g.has_star_;
  // Middle segments get Shift-And masks.
  for (size_t k = 1; k + 1 < g.segments_.size(); ++k) {
    Segment& s = g.segments_[k];
    if (s.length == 0) continue;
    s.words = (s.length + 63) / 64;
    s.masks.assign(size_t{256} * s.words, 0);
    for (uint32_t i = 0; i < s.length; ++i) {
      char pc = g.pattern_[s.offset + i];
      uint64_t bit = uint64_t{1} << (i % 64);
      size_t word = i / 64;
      if (pc == '?') {
        for (size_t c = 0; c < 256; ++c) s.masks[c * s.words + word] |= bit;
      } else {
        auto uc = static_cast<unsigned char>(pc);
        s.masks[size_t{uc} * s.words + word] |= bit;
        if (case_insensitive && pc >= 'a' && pc <= 'z') {
          s.masks[size_t{static_cast<unsigned char>(pc - 32)} * s.words + word] |= bit;
        }
      }
    }
  }
  return g;
}

bool Glob::MatchAt(const Segment& s, std::string_view text, size_t at) const {
  if (at + s.length > text.size()) return false;
  const char* p = pattern_.data() + s.offset;
  const char* t = text.data() + at;
  for (uint32_t i = 0; i < s.length; ++i) {
    char pc = p[i];
    if (pc == '?') continue;
    char tc = case_insensitive_ ? Lower(t[i]) : t[i];
    if (pc != tc) return false;
  }
  return true;
}

size_t Glob::FindEnd(const Segment& s, std::string_view text, size_t from, size_t limit) const {
  if (s.length == 0) return from;
  if (limit < from || limit - from < s.length) return std::string_view::npos;
  const uint32_t words = s.words;
  const uint64_t top = uint64_t{1} << ((s.length - 1) % 64);
  if (words == 1) {
    uint64_t d = 0;
    for (size_t i = from; i < limit; ++i) {
      d = ((d << 1) | 1) & s.masks[static_cast<unsigned char>(text[i])];
      if (d & top) return i + 1;
    }
    return std::string_view::npos;
  }
  // Several words: shift with carry. Bounded by the segment's length, so a small stack buffer
  // covers every segment a valid policy can hold; longer ones use the heap.
  std::vector<uint64_t> d(words, 0);
  for (size_t i = from; i < limit; ++i) {
    const uint64_t* m = &s.masks[size_t{static_cast<unsigned char>(text[i])} * words];
    uint64_t carry = 1;
    for (uint32_t w = 0; w < words; ++w) {
      uint64_t next_carry = d[w] >> 63;
      d[w] = ((d[w] << 1) | carry) & m[w];
      carry = next_carry;
    }
    if (d[words - 1] & top) return i + 1;
  }
  return std::string_view::npos;
}

bool Glob::Matches(std::string_view text) const {
  if (everything_) return true;
  if (!has_star_) {
    return text.size() == segments_[0].length && MatchAt(segments_[0], text, 0);
  }
  const Segment& first = segments_.front();
  const Segment& last = segments_.back();
  if (text.size() < size_t{first.length} + last.length) return false;
  if (!MatchAt(first, text, 0)) return false;
  size_t tail = text.size() - last.length;
  if (!MatchAt(last, text, tail)) return false;
  size_t pos = first.length;
  for (size_t k = 1; k + 1 < segments_.size(); ++k) {
    size_t end = FindEnd(segments_[k], text, pos, tail);
    if (end == std::string_view::npos) return false;
    pos = end;
  }
  return true;
}

bool GlobMatch(std::string_view pattern, std::string_view text, bool case_insensitive) {
  // Fast paths without compiling: no wildcard, or a single trailing star.
  if (pattern.find_first_of("*?") == std::string_view::npos) {
    if (pattern.size() != text.size()) return false;
    if (!case_insensitive) return pattern == text;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (Lower(pattern[i]) != Lower(text[i])) return false;
    }
    return true;
  }
  return Glob::Compile(pattern, case_insensitive).Matches(text);
}

bool SplitArn(std::string_view arn, std::string_view (&fields)[5], std::string_view& resource) {
  size_t pos = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', pos);
    if (colon == std::string_view::npos) return false;
    fields[i] = arn.substr(pos, colon - pos);
    pos = colon + 1;
  }
  resource = arn.substr(pos);
  return true;
}

ResourcePattern ResourcePattern::Compile(std::string_view pattern) {
  ResourcePattern r;
  r.text_.assign(pattern);
  r.everything_ = pattern == "*";
  if (r.everything_) return r;
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (parts.size() < 5) {
    size_t colon = pattern.find(':', pos);
    if (colon == std::string_view::npos) break;
    parts.push_back(pattern.substr(pos, colon - pos));
    pos = colon + 1;
  }
  std::string_view rest = pattern.substr(pos);
  if (parts.size() < 5) {
    // A short ARN ("arn:aws:s3", "arn:aws:sqs:*"): the fields it has, then '*' for the others.
    r.short_ = true;
    r.short_has_wildcard_ = pattern.find('*') != std::string_view::npos;
    parts.push_back(rest);
    while (parts.size() < 5) parts.push_back("*");
    rest = "*";
  }
  r.is_arn_ = true;
  for (size_t i = 0; i < 5; ++i) r.fields_.push_back(Glob::Compile(parts[i], /*ci=*/i > 0));
  r.resource_ = Glob::Compile(rest, false);
  return r;
}

bool ResourcePattern::Matches(std::string_view arn, bool expand_short) const {
  if (everything_) return true;
  if (!is_arn_) return false;
  if (arn == "*") return false;  // a wildcard-only request matches only "*"
  if (short_ && !expand_short && !short_has_wildcard_) return false;
  std::string_view fields[5];
  std::string_view resource;
  if (!SplitArn(arn, fields, resource)) return false;
  for (size_t i = 0; i < 5; ++i) {
    if (!fields_[i].Matches(fields[i])) return false;
  }
  return resource_.Matches(resource);
}

}  // namespace stratus::identity::policy
