#include "jsonata/regex.h"

#include <cstring>

#include <re2/re2.h>

#include "jsonata/errors.h"

namespace stratus::jsonata::internal {

namespace {
// RE2 memory budget per compiled pattern: bounds the DFA cache of hostile patterns.
constexpr int64_t kRegexMaxMem = 8 << 20;

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
}  // namespace

bool TranslateJsRegex(std::string_view js, std::string& out, std::string& error) {
  out.clear();
  bool in_class = false;
  for (size_t i = 0; i < js.size(); ++i) {
    char c = js[i];
    if (c == '\\') {
      if (i + 1 >= js.size()) {
        error = "trailing backslash";
        return false;
      }
      char e = js[++i];
      switch (e) {
        case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        case 'n': case 'r': case 't': case 'f': case 'v':
          out.push_back('\\');
          out.push_back(e);
          break;
        case 'b':
          if (in_class) {
            out += "\\x08";
          } else {
            out += "\\b";
          }
          break;
        case 'B':
          out += in_class ? "B" : "\\B";
          break;
        case '0':
          out += "\\x00";
          break;
        case 'x':
          if (i + 2 < js.size() + 0 && i + 2 <= js.size() - 1 && IsHex(js[i + 1]) && IsHex(js[i + 2])) {
            out += "\\x";
            out.push_back(js[i + 1]);
            out.push_back(js[i + 2]);
            i += 2;
          } else {
            out.push_back('x');
          }
          break;
        case 'u':
          if (i + 4 < js.size() && IsHex(js[i + 1]) && IsHex(js[i + 2]) && IsHex(js[i + 3]) && IsHex(js[i + 4])) {
            out += "\\x{";
            out.append(js.substr(i + 1, 4));
            out += "}";
            i += 4;
          } else {
            out.push_back('u');
          }
          break;
        case 'c':
          if (i + 1 < js.size() && ((js[i + 1] >= 'a' && js[i + 1] <= 'z') || (js[i + 1] >= 'A' && js[i + 1] <= 'Z'))) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", js[i + 1] % 32);
            out += buf;
            ++i;
          } else {
            out += "\\\\c";
          }
          break;
        default:
          if (e >= '1' && e <= '9') {
            if (in_class) {
              // octal-ish escapes inside a class: treat as the literal digit
              out.push_back(e);
              break;
            }
            error = "backreferences are not supported";
            return false;
          }
          if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
            out.push_back(e);  // JavaScript identity escape
          } else {
            out.push_back('\\');
            out.push_back(e);
          }
      }
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      if (c == '[') {
        out += "\\[";
        continue;
      }
      out.push_back(c);
      continue;
    }
    if (c == '[') {
      if (js.substr(i, 3) == "[^]") {
        out += "[\\s\\S]";
        i += 2;
        continue;
      }
      if (js.substr(i, 2) == "[]") {
        out += "[^\\s\\S]";
        i += 1;
        continue;
      }
      in_class = true;
      out.push_back(c);
      if (i + 1 < js.size() && js[i + 1] == '^') {
        out.push_back('^');
        ++i;
      }
      if (i + 1 < js.size() && js[i + 1] == ']') {
        out += "\\]";
        ++i;
      }
      continue;
    }
    if (c == '(' && i + 2 < js.size() && js[i + 1] == '?') {
      char k = js[i + 2];
      if (k == '=' || k == '!') {
        error = "lookahead assertions are not supported";
        return false;
      }
      if (k == '<' && i + 3 < js.size() && (js[i + 3] == '=' || js[i + 3] == '!')) {
        error = "lookbehind assertions are not supported";
        return false;
      }
      if (k == '<') {
        out += "(?P<";
        i += 2;
        continue;
      }
    }
    out.push_back(c);
  }
  return true;
}

Regex::Regex(std::string source, std::string flags, std::unique_ptr<re2::RE2> re)
    : source_(std::move(source)), flags_(std::move(flags)), re_(std::move(re)) {
  groups_ = re_->NumberOfCapturingGroups();
  DetectShape();
}
Regex::~Regex() = default;

void Regex::DetectShape() {
  if (flags_.find('i') != std::string::npos || source_.empty()) return;
  auto printable_ascii = [](char c) { return c >= 0x20 && c < 0x7f; };
  const std::string& p = source_;
  if (p.size() >= 3 && p.front() == '[' && p.back() == ']' && p[1] != '^') {
    std::bitset<128> set;
    for (size_t i = 1; i + 1 < p.size(); ++i) {
      char c = p[i];
      if (!printable_ascii(c) || c == '\\' || c == '[' || c == ']') return;
      if (i + 3 < p.size() && p[i + 1] == '-') {  // a range a-z (not a trailing '-')
        char hi = p[i + 2];
        if (!printable_ascii(hi) || hi == '\\' || hi == '[' || hi == ']' || hi < c) return;
        for (int x = c; x <= hi; ++x) set.set(static_cast<size_t>(x));
        i += 2;
        continue;
      }
      set.set(static_cast<size_t>(c));
    }
    class_ = set;
    shape_ = Shape::kAsciiClass;
    return;
  }
  for (char c : p) {
    if (!printable_ascii(c) || std::strchr(".^$*+?()[]{}|\\/", c) != nullptr) return;
  }
  shape_ = Shape::kLiteral;
}

std::optional<Regex::Match> Regex::Find(std::string_view subject, size_t from) const {
  if (from > subject.size()) return std::nullopt;
  if (shape_ == Shape::kAsciiClass) {
    for (size_t i = from; i < subject.size(); ++i) {
      auto b = static_cast<unsigned char>(subject[i]);
      if (b < 128 && class_.test(b)) return Match{i, i + 1, {}};
    }
    return std::nullopt;
  }
  if (shape_ == Shape::kLiteral) {
    size_t at = subject.find(source_, from);
    if (at == std::string_view::npos) return std::nullopt;
    return Match{at, at + source_.size(), {}};
  }
  std::vector<re2::StringPiece> sub(static_cast<size_t>(groups_) + 1);
  if (!re_->Match(re2::StringPiece(subject.data(), subject.size()), from, subject.size(), RE2::UNANCHORED,
                  sub.data(), groups_ + 1)) {
    return std::nullopt;
  }
  Match m;
  m.start = static_cast<size_t>(sub[0].data() - subject.data());
  m.end = m.start + sub[0].size();
  for (int g = 1; g <= groups_; ++g) {
    if (sub[static_cast<size_t>(g)].data() == nullptr) {
      m.groups.emplace_back(std::nullopt);
    } else {
      m.groups.emplace_back(std::string(sub[static_cast<size_t>(g)].data(), sub[static_cast<size_t>(g)].size()));
    }
  }
  return m;
}

std::shared_ptr<const Regex> CompileRegex(const std::string& pattern, const std::string& flags, int position) {
  std::string translated, error;
  if (!TranslateJsRegex(pattern, translated, error)) {
    JError e(kCodeRegexUnsupported, position);
    e.value = Value::String(pattern);
    e.detail = error;
    throw e;
  }
  std::string prefix;
  if (flags.find('i') != std::string::npos || flags.find('m') != std::string::npos) {
    prefix = "(?";
    if (flags.find('i') != std::string::npos) prefix += "i";
    if (flags.find('m') != std::string::npos) prefix += "m";
    prefix += ")";
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(kRegexMaxMem);
  opts.set_encoding(RE2::Options::EncodingUTF8);
  auto re = std::make_unique<re2::RE2>(prefix + translated, opts);
  if (!re->ok()) {
    JError e(kCodeRegexUnsupported, position);
    e.value = Value::String(pattern);
    e.detail = re->error();
    throw e;
  }
  return std::make_shared<Regex>(pattern, flags, std::move(re));
}

}  // namespace stratus::jsonata::internal
