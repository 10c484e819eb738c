#include "services/logs/filter_pattern.h"

#include <re2/re2.h>

#include <cctype>
#include <cmath>
#include <optional>
#include <variant>
#include <vector>

#include "core/json.h"
#include "core/strings.h"

namespace stratus::services::logs {

namespace {

constexpr size_t kMaxPatternBytes = 1024;  // CloudWatch Logs' limit on filterPattern
constexpr int kMaxNesting = 32;

Error InvalidPattern(std::string_view why) {
  return Error("InvalidParameterException", "Invalid filter pattern: " + std::string(why));
}

// '*' matches any run of characters; everything else literally.
bool WildcardMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// A value on the right of a comparison.
struct Literal {
  enum Kind { kString, kNumber, kRegex } kind = kString;
  std::string text;        // string (may hold '*'), or the number's text
  double number = 0;
  bool quoted = false;
  std::shared_ptr<RE2> regex;
};

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kIsTrue, kIsFalse, kIsNull, kNotExists, kExists };

// Compares a textual field value (delimited patterns, JSON strings) with a literal.
bool CompareText(std::string_view value, Op op, const Literal& lit) {
  if (lit.kind == Literal::kRegex) {
    bool m = RE2::PartialMatch(value, *lit.regex);
    return op == Op::kEq ? m : op == Op::kNe ? !m : false;
  }
  auto num = ParseDouble(value);
  if (lit.kind == Literal::kNumber && num) {
    double a = *num;
    double b = lit.number;
    switch (op) {
      case Op::kEq: return a == b;
      case Op::kNe: return a != b;
      case Op::kLt: return a < b;
      case Op::kLe: return a <= b;
      case Op::kGt: return a > b;
      case Op::kGe: return a >= b;
      default: return false;
    }
  }
  if (op == Op::kEq) return WildcardMatch(lit.text, value);
  if (op == Op::kNe) return !WildcardMatch(lit.text, value);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Expression trees shared by the JSON and delimited forms.

struct Node;
using NodePtr = std::unique_ptr<Node>;
struct Node {
  enum Kind { kAnd, kOr, kCompare } kind = kCompare;
  NodePtr left, right;
  // kCompare
  std::vector<std::variant<std::string, int64_t>> selector;  // JSON: path steps; delimited: name
  std::string field;
  Op op = Op::kEq;
  Literal literal;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= s_.size();
  }
  char Peek() {
    SkipSpace();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  bool Consume(std::string_view token) {
    SkipSpace();
    if (s_.substr(pos_, token.size()) == token) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  // A keyword, matched case-insensitively and only as a whole word.
  bool ConsumeWord(std::string_view word) {
    SkipSpace();
    if (pos_ + word.size() > s_.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(s_[pos_ + i])) != word[i]) return false;
    }
    size_t end = pos_ + word.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }
  Result<std::string> Quoted() {
    // at '"'
    std::string out;
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    if (pos_ >= s_.size()) return InvalidPattern("unterminated quoted string");
    ++pos_;
    return out;
  }
  // Characters up to whitespace or one of `stops`.
  std::string Bare(std::string_view stops) {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) &&
           stops.find(s_[pos_]) == std::string_view::npos) {
      if ((s_[pos_] == '&' || s_[pos_] == '|') && pos_ + 1 < s_.size() && s_[pos_ + 1] == s_[pos_]) {
        break;
      }
      ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }
  Result<std::string> Regex() {
    // at '%'
    size_t end = s_.find('%', pos_ + 1);
    if (end == std::string_view::npos) return InvalidPattern("unterminated %regex%");
    std::string re(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return re;
  }
  size_t pos() const { return pos_; }
  void Seek(size_t pos) { pos_ = pos; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

Result<Literal> ParseLiteral(Lexer& lx, std::string_view stops) {
  Literal lit;
  char c = lx.Peek();
  if (c == '"') {
    STRATUS_ASSIGN_OR_RETURN(lit.text, lx.Quoted());
    lit.quoted = true;
    return lit;
  }
  if (c == '%') {
    STRATUS_ASSIGN_OR_RETURN(std::string re, lx.Regex());
    lit.kind = Literal::kRegex;
    lit.regex = std::make_shared<RE2>(re, RE2::Quiet);
    if (!lit.regex->ok()) return InvalidPattern("bad regular expression: " + lit.regex->error());
    return lit;
  }
  lit.text = lx.Bare(stops);
  if (lit.text.empty()) return InvalidPattern("missing value");
  if (auto n = ParseDouble(lit.text); n && std::isfinite(*n)) {
    lit.kind = Literal::kNumber;
    lit.number = *n;
  }
  return lit;
}

Result<Op> ParseOp(Lexer& lx) {
  if (lx.Consume("!=")) return Op::kNe;
  if (lx.Consume("<=")) return Op::kLe;
  if (lx.Consume(">=")) return Op::kGe;
  if (lx.Consume("=")) return Op::kEq;
  if (lx.Consume("<")) return Op::kLt;
  if (lx.Consume(">")) return Op::kGt;
  return InvalidPattern("expected a comparison operator");
}

// ---------------------------------------------------------------------------------------------
// JSON patterns.

Result<NodePtr> ParseJsonOr(Lexer& lx, int depth);

Result<NodePtr> ParseJsonComparison(Lexer& lx, int depth) {
  if (depth > kMaxNesting) return InvalidPattern("nested too deeply");
  if (lx.Consume("(")) {
    STRATUS_ASSIGN_OR_RETURN(NodePtr inner, ParseJsonOr(lx, depth + 1));
    if (!lx.Consume(")")) return InvalidPattern("missing ')'");
    return inner;
  }
  if (!lx.Consume("$")) return InvalidPattern("a JSON condition starts with a $ selector");
  auto node = std::make_unique<Node>();
  while (true) {
    if (lx.Consume(".")) {
      std::string name = lx.Bare(".[]=!<>()&|");
      if (name.empty()) return InvalidPattern("empty selector step");
      node->selector.emplace_back(std::move(name));
    } else if (lx.Consume("[")) {
      std::string idx = lx.Bare("]");
      auto n = ParseInt64(idx);
      if (!n || *n < 0 || !lx.Consume("]")) return InvalidPattern("bad array index");
      node->selector.emplace_back(*n);
    } else {
      break;
    }
  }
  if (lx.ConsumeWord("IS")) {
    if (lx.ConsumeWord("TRUE")) {
      node->op = Op::kIsTrue;
    } else if (lx.ConsumeWord("FALSE")) {
      node->op = Op::kIsFalse;
    } else if (lx.ConsumeWord("NULL")) {
      node->op = Op::kIsNull;
    } else {
      return InvalidPattern("IS must be followed by TRUE, FALSE or NULL");
    }
    return node;
  }
  if (lx.ConsumeWord("NOT")) {
    if (!lx.ConsumeWord("EXISTS")) return InvalidPattern("NOT must be followed by EXISTS");
    node->op = Op::kNotExists;
    return node;
  }
  if (lx.ConsumeWord("EXISTS")) {
    node->op = Op::kExists;
    return node;
  }
  STRATUS_ASSIGN_OR_RETURN(node->op, ParseOp(lx));
  STRATUS_ASSIGN_OR_RETURN(node->literal, ParseLiteral(lx, "()}"));
  return node;
}

Result<NodePtr> ParseJsonAnd(Lexer& lx, int depth) {
  STRATUS_ASSIGN_OR_RETURN(NodePtr left, ParseJsonComparison(lx, depth));
  while (lx.Consume("&&")) {
    STRATUS_ASSIGN_OR_RETURN(NodePtr right, ParseJsonComparison(lx, depth));
    auto n = std::make_unique<Node>();
    n->kind = Node::kAnd;
    n->left = std::move(left);
    n->right = std::move(right);
    left = std::move(n);
  }
  return left;
}

Result<NodePtr> ParseJsonOr(Lexer& lx, int depth) {
  STRATUS_ASSIGN_OR_RETURN(NodePtr left, ParseJsonAnd(lx, depth));
  while (lx.Consume("||")) {
    STRATUS_ASSIGN_OR_RETURN(NodePtr right, ParseJsonAnd(lx, depth));
    auto n = std::make_unique<Node>();
    n->kind = Node::kOr;
    n->left = std::move(left);
    n->right = std::move(right);
    left = std::move(n);
  }
  return left;
}

const Json* Select(const Json& doc, const Node& n) {
  const Json* cur = &doc;
  for (const auto& step : n.selector) {
    if (std::holds_alternative<std::string>(step)) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(std::get<std::string>(step));
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else {
      auto i = static_cast<size_t>(std::get<int64_t>(step));
      if (!cur->is_array() || i >= cur->size()) return nullptr;
      cur = &(*cur)[i];
    }
  }
  return cur;
}

bool EvalJson(const Node& n, const Json& doc) {
  switch (n.kind) {
    case Node::kAnd: return EvalJson(*n.left, doc) && EvalJson(*n.right, doc);
    case Node::kOr: return EvalJson(*n.left, doc) || EvalJson(*n.right, doc);
    case Node::kCompare: break;
  }
  const Json* v = Select(doc, n);
  switch (n.op) {
    case Op::kNotExists: return v == nullptr;
    case Op::kExists: return v != nullptr;
    case Op::kIsNull: return v && v->is_null();
    case Op::kIsTrue: return v && v->is_boolean() && v->get<bool>();
    case Op::kIsFalse: return v && v->is_boolean() && !v->get<bool>();
    default: break;
  }
  if (!v) return false;
  if (v->is_string()) {
    // A quoted number compares as a string; an unquoted number compares numerically with a
    // numeric string only for ordering operators.
    Literal lit = n.literal;
    if (lit.quoted) lit.kind = Literal::kString;
    return CompareText(v->get_ref<const std::string&>(), n.op, lit);
  }
  if (v->is_number()) {
    if (n.literal.kind != Literal::kNumber) {
      if (n.literal.kind == Literal::kRegex) return CompareText(v->dump(), n.op, n.literal);
      return n.op == Op::kNe;
    }
    double a = v->get<double>();
    double b = n.literal.number;
    switch (n.op) {
      case Op::kEq: return a == b;
      case Op::kNe: return a != b;
      case Op::kLt: return a < b;
      case Op::kLe: return a <= b;
      case Op::kGt: return a > b;
      case Op::kGe: return a >= b;
      default: return false;
    }
  }
  if (v->is_boolean()) {
    std::string text = v->get<bool>() ? "true" : "false";
    return CompareText(text, n.op, n.literal);
  }
  if (v->is_null()) return n.op == Op::kNe;
  return false;  // objects and arrays compare with nothing
}

class JsonPattern final : public FilterPattern {
 public:
  explicit JsonPattern(NodePtr root) : root_(std::move(root)) {}
  bool Matches(std::string_view message) const override {
    Json doc = ParseJsonOrDiscarded(message);
    if (doc.is_discarded()) return false;
    return EvalJson(*root_, doc);
  }

 private:
  NodePtr root_;
};

// ---------------------------------------------------------------------------------------------
// Space-delimited patterns.

struct Slot {
  bool ellipsis = false;
  std::string name;
  NodePtr condition;  // null = any value
};

Result<NodePtr> ParseSlotCondition(Lexer& lx, const std::string& name, int depth);

Result<NodePtr> ParseSlotPrimary(Lexer& lx, const std::string& name, int depth) {
  if (depth > kMaxNesting) return InvalidPattern("nested too deeply");
  if (lx.Consume("(")) {
    STRATUS_ASSIGN_OR_RETURN(NodePtr inner, ParseSlotCondition(lx, name, depth + 1));
    if (!lx.Consume(")")) return InvalidPattern("missing ')'");
    return inner;
  }
  std::string field = lx.Bare("=!<>(),]");
  if (field != name) {
    return InvalidPattern("a condition in field '" + name + "' names field '" + field + "'");
  }
  auto n = std::make_unique<Node>();
  n->field = field;
  STRATUS_ASSIGN_OR_RETURN(n->op, ParseOp(lx));
  STRATUS_ASSIGN_OR_RETURN(n->literal, ParseLiteral(lx, "(),]"));
  return n;
}

Result<NodePtr> ParseSlotCondition(Lexer& lx, const std::string& name, int depth) {
  STRATUS_ASSIGN_OR_RETURN(NodePtr left, ParseSlotPrimary(lx, name, depth));
  while (true) {
    Node::Kind kind;
    if (lx.Consume("&&")) {
      kind = Node::kAnd;
    } else if (lx.Consume("||")) {
      kind = Node::kOr;
    } else {
      break;
    }
    STRATUS_ASSIGN_OR_RETURN(NodePtr right, ParseSlotPrimary(lx, name, depth));
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->left = std::move(left);
    n->right = std::move(right);
    left = std::move(n);
  }
  return left;
}

bool EvalSlot(const Node& n, std::string_view value) {
  switch (n.kind) {
    case Node::kAnd: return EvalSlot(*n.left, value) && EvalSlot(*n.right, value);
    case Node::kOr: return EvalSlot(*n.left, value) || EvalSlot(*n.right, value);
    case Node::kCompare: return CompareText(value, n.op, n.literal);
  }
  return false;
}

// Splits a message into fields: whitespace separates; "quoted" and [bracketed] runs are one field
// each, without their delimiters.
std::vector<std::string_view> SplitFields(std::string_view m) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < m.size()) {
    while (i < m.size() && std::isspace(static_cast<unsigned char>(m[i]))) ++i;
    if (i >= m.size()) break;
    char open = m[i];
    char close = open == '"' ? '"' : open == '[' ? ']' : '\0';
    if (close) {
      size_t end = m.find(close, i + 1);
      if (end != std::string_view::npos) {
        out.push_back(m.substr(i + 1, end - i - 1));
        i = end + 1;
        continue;
      }
    }
    size_t start = i;
    while (i < m.size() && !std::isspace(static_cast<unsigned char>(m[i]))) ++i;
    out.push_back(m.substr(start, i - start));
  }
  return out;
}

class DelimitedPattern final : public FilterPattern {
 public:
  explicit DelimitedPattern(std::vector<Slot> slots) : slots_(std::move(slots)) {}
  bool Matches(std::string_view message) const override {
    auto fields = SplitFields(message);
    return Match(0, fields, 0);
  }

 private:
  bool Match(size_t s, const std::vector<std::string_view>& f, size_t i) const {
    if (s == slots_.size()) return i == f.size();
    const Slot& slot = slots_[s];
    if (slot.ellipsis) {
      for (size_t k = i; k <= f.size(); ++k) {
        if (Match(s + 1, f, k)) return true;
      }
      return false;
    }
    if (i >= f.size()) return false;
    if (slot.condition && !EvalSlot(*slot.condition, f[i])) return false;
    return Match(s + 1, f, i + 1);
  }
  std::vector<Slot> slots_;
};

Result<std::shared_ptr<const FilterPattern>> CompileDelimited(std::string_view body) {
  Lexer lx(body);
  if (!lx.Consume("[")) return InvalidPattern("expected '['");
  std::vector<Slot> slots;
  if (lx.Consume("]")) return InvalidPattern("a delimited pattern needs at least one field");
  while (true) {
    Slot slot;
    if (lx.Consume("...")) {
      slot.ellipsis = true;
    } else {
      size_t before = lx.pos();
      slot.name = lx.Bare("=!<>(),]");
      if (slot.name.empty()) return InvalidPattern("empty field name");
      char c = lx.Peek();
      if (c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|') {
        lx.Seek(before);  // the condition starts with the field's own name
        STRATUS_ASSIGN_OR_RETURN(slot.condition, ParseSlotCondition(lx, slot.name, 0));
      }
    }
    slots.push_back(std::move(slot));
    if (lx.Consume(",")) continue;
    if (lx.Consume("]")) break;
    return InvalidPattern("expected ',' or ']'");
  }
  if (!lx.AtEnd()) return InvalidPattern("text after ']'");
  return std::shared_ptr<const FilterPattern>(std::make_shared<DelimitedPattern>(std::move(slots)));
}

// ---------------------------------------------------------------------------------------------
// Unstructured patterns.

struct Term {
  enum Kind { kRequired, kOptional, kExcluded } kind = kRequired;
  std::string text;
  std::shared_ptr<RE2> regex;
};

class TermPattern final : public FilterPattern {
 public:
  explicit TermPattern(std::vector<Term> terms) : terms_(std::move(terms)) {
    for (const auto& t : terms_) any_optional_ = any_optional_ || t.kind == Term::kOptional;
  }
  bool Matches(std::string_view message) const override {
    bool optional_hit = false;
    for (const auto& t : terms_) {
      bool found = t.regex ? RE2::PartialMatch(message, *t.regex)
                           : message.find(t.text) != std::string_view::npos;
      switch (t.kind) {
        case Term::kRequired:
          if (!found) return false;
          break;
        case Term::kExcluded:
          if (found) return false;
          break;
        case Term::kOptional:
          optional_hit = optional_hit || found;
          break;
      }
    }
    return !any_optional_ || optional_hit;
  }

 private:
  std::vector<Term> terms_;
  bool any_optional_ = false;
};

class MatchAll final : public FilterPattern {
 public:
  bool Matches(std::string_view) const override { return true; }
};

Result<std::shared_ptr<const FilterPattern>> CompileTerms(std::string_view body) {
  Lexer lx(body);
  std::vector<Term> terms;
  while (!lx.AtEnd()) {
    Term t;
    if (lx.Consume("?")) {
      t.kind = Term::kOptional;
    } else if (lx.Consume("-")) {
      t.kind = Term::kExcluded;
    }
    char c = lx.Peek();
    if (c == '"') {
      STRATUS_ASSIGN_OR_RETURN(t.text, lx.Quoted());
    } else if (c == '%') {
      STRATUS_ASSIGN_OR_RETURN(std::string re, lx.Regex());
      t.regex = std::make_shared<RE2>(re, RE2::Quiet);
      if (!t.regex->ok()) return InvalidPattern("bad regular expression: " + t.regex->error());
    } else {
      t.text = lx.Bare("\"");
    }
    if (t.text.empty() && !t.regex) return InvalidPattern("empty term");
    terms.push_back(std::move(t));
  }
  return std::shared_ptr<const FilterPattern>(std::make_shared<TermPattern>(std::move(terms)));
}

}  // namespace

Result<std::shared_ptr<const FilterPattern>> FilterPattern::Compile(std::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) return InvalidPattern("longer than 1024 characters");
  std::string_view body = Trim(pattern);
  if (body.empty()) return std::shared_ptr<const FilterPattern>(std::make_shared<MatchAll>());
  if (body.front() == '{') {
    if (body.back() != '}') return InvalidPattern("missing '}'");
    Lexer lx(body.substr(1, body.size() - 2));
    STRATUS_ASSIGN_OR_RETURN(NodePtr root, ParseJsonOr(lx, 0));
    if (!lx.AtEnd()) return InvalidPattern("unexpected text in JSON condition");
    return std::shared_ptr<const FilterPattern>(std::make_shared<JsonPattern>(std::move(root)));
  }
  if (body.front() == '[') return CompileDelimited(body);
  return CompileTerms(body);
}

}  // namespace stratus::services::logs
