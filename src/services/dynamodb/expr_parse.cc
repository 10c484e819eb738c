// Lexer, parser and static checks of DynamoDB expressions (see expr.h). The checks run in the
// order DynamoDB runs them: syntax, redundant parentheses, function names, misused functions,
// reserved words, undefined placeholders, then per-node operand checks.
#include <algorithm>
#include <functional>
#include <map>

#include "services/dynamodb/attr.h"
#include "services/dynamodb/expr.h"
#include "services/dynamodb/expr_internal.h"

namespace stratus::services::dynamodb {

using internal::CheckOperands;
using internal::CheckPathClashes;
using internal::FindBadFunction;
using internal::FindMisusedFunction;
using internal::IsConditionFunction;
using internal::IsUpdateFunction;

namespace {

constexpr int64_t kMaxListIndex = 1'000'000;
// DynamoDB's limits: expressions up to 4 KB, at most 300 operators and functions; the nesting
// bound also keeps the recursive parser's stack small whatever the input.
constexpr size_t kMaxExpressionBytes = 4096;
constexpr int kMaxNesting = 300;

struct Tok {
  enum Type { kIdent, kName, kValue, kNumber, kOp, kBad, kEof };
  Type type = kEof;
  std::string text;
  size_t pos = 0;
};

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigitC(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigitC(c) || c == '_'; }
bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

std::vector<Tok> Lex(std::string_view s) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    Tok t;
    t.pos = i;
    if (IsAlpha(c)) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      t.type = Tok::kIdent;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if ((c == '#' || c == ':') && i + 1 < s.size() && IsWordChar(s[i + 1])) {
      size_t j = i + 1;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      t.type = c == '#' ? Tok::kName : Tok::kValue;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (IsDigitC(c)) {
      size_t j = i;
      while (j < s.size() && IsDigitC(s[j])) ++j;
      t.type = Tok::kNumber;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if ((c == '<' || c == '>') && i + 1 < s.size() &&
               (s[i + 1] == '=' || (c == '<' && s[i + 1] == '>'))) {
      t.type = Tok::kOp;
      t.text = std::string(s.substr(i, 2));
      i += 2;
    } else if (std::string_view("=<>()[],.+-").find(c) != std::string_view::npos) {
      t.type = Tok::kOp;
      t.text = std::string(1, c);
      ++i;
    } else {
      // One (UTF-8) character that no token starts with.
      size_t len = 1;
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0xF0) {
        len = 4;
      } else if (u >= 0xE0) {
        len = 3;
      } else if (u >= 0xC0) {
        len = 2;
      }
      len = std::min(len, s.size() - i);
      t.type = Tok::kBad;
      t.text = std::string(s.substr(i, len));
      i += len;
    }
    out.push_back(std::move(t));
  }
  Tok eof;
  eof.type = Tok::kEof;
  eof.pos = s.size();
  out.push_back(eof);
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, ExprKind kind, ExprContext& ctx)
      : text_(text), kind_(kind), ctx_(ctx), toks_(Lex(text)) {}

  Error Fail(std::string message) const {
    return Validation(std::string("Invalid ") + ExprKindName(kind_) + ": " + message);
  }

  Error SyntaxError() const {
    const Tok& t = toks_[i_];
    std::string token = t.type == Tok::kEof ? "<EOF>" : t.text;
    std::string near;
    if (i_ == 0) {
      near = t.text;
    } else if (t.type == Tok::kEof) {
      near = toks_[i_ - 1].text;
    } else {
      const Tok& p = toks_[i_ - 1];
      near = std::string(text_.substr(p.pos, t.pos + t.text.size() - p.pos));
    }
    return Fail("Syntax error; token: \"" + token + "\", near: \"" + near + "\"");
  }

  const Tok& Peek(size_t ahead = 0) const {
    return toks_[std::min(i_ + ahead, toks_.size() - 1)];
  }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    const Tok& t = Peek(ahead);
    return t.type == Tok::kOp && t.text == op;
  }
  bool IsKeyword(std::string_view kw) const {
    return Peek().type == Tok::kIdent && IEq(Peek().text, kw);
  }
  bool AtEnd() const { return Peek().type == Tok::kEof; }

  // ---- conditions ----
  Result<Node> ParseOr() {
    STRATUS_ASSIGN_OR_RETURN(Node left, ParseAnd());
    while (IsKeyword("OR")) {
      size_t pos = Peek().pos;
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node right, ParseAnd());
      Node n;
      n.kind = Node::kOr;
      n.pos = pos;
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<Node> ParseAnd() {
    STRATUS_ASSIGN_OR_RETURN(Node left, ParseNot());
    while (IsKeyword("AND")) {
      size_t pos = Peek().pos;
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node right, ParseNot());
      Node n;
      n.kind = Node::kAnd;
      n.pos = pos;
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Error TooDeep() const {
    return Fail("The expression contains too many operators; operator count: " + std::to_string(kMaxNesting + 1));
  }

  Result<Node> ParseNot() {
    if (IsKeyword("NOT")) {
      if (++nesting_ > kMaxNesting) return TooDeep();
      struct Unnest {
        int& n;
        ~Unnest() { --n; }
      } unnest{nesting_};
      Node n;
      n.kind = Node::kNot;
      n.pos = Peek().pos;
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node inner, ParseNot());
      n.kids.push_back(std::move(inner));
      return n;
    }
    return ParseCompare();
  }

  Result<Node> ParseCompare() {
    STRATUS_ASSIGN_OR_RETURN(Node left, ParsePrimary());
    const Tok& t = Peek();
    static const char* kOps[] = {"=", "<>", "<", "<=", ">", ">="};
    if (t.type == Tok::kOp) {
      for (const char* op : kOps) {
        if (t.text == op) {
          Node n;
          n.kind = Node::kCompare;
          n.op = op;
          n.pos = t.pos;
          ++i_;
          STRATUS_ASSIGN_OR_RETURN(Node right, ParsePrimary());
          n.kids.push_back(std::move(left));
          n.kids.push_back(std::move(right));
          return n;
        }
      }
    }
    if (IsKeyword("BETWEEN")) {
      Node n;
      n.kind = Node::kBetween;
      n.op = "BETWEEN";
      n.pos = t.pos;
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node lo, ParsePrimary());
      if (!IsKeyword("AND")) return SyntaxError();
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node hi, ParsePrimary());
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(lo));
      n.kids.push_back(std::move(hi));
      return n;
    }
    if (IsKeyword("IN")) {
      Node n;
      n.kind = Node::kIn;
      n.op = "IN";
      n.pos = t.pos;
      ++i_;
      if (!IsOp("(")) return SyntaxError();
      ++i_;
      n.kids.push_back(std::move(left));
      for (;;) {
        STRATUS_ASSIGN_OR_RETURN(Node item, ParsePrimary());
        n.kids.push_back(std::move(item));
        if (IsOp(",")) {
          ++i_;
          continue;
        }
        if (IsOp(")")) {
          ++i_;
          break;
        }
        return SyntaxError();
      }
      return n;
    }
    if (bare_ok_ || left.kind == Node::kCall ||
        (left.parens && left.kind != Node::kPath && left.kind != Node::kValue)) {
      return left;
    }
    return SyntaxError();
  }

  Result<Node> ParsePrimary() {
    const Tok& t = Peek();
    if (++nesting_ > kMaxNesting) return TooDeep();
    struct Unnest {
      int& n;
      ~Unnest() { --n; }
    } unnest{nesting_};
    if (IsOp("(")) {
      ++i_;
      bool saved = bare_ok_;
      bare_ok_ = true;
      Result<Node> parsed = ParseOr();
      bare_ok_ = saved;
      if (!parsed.ok()) return parsed;
      Node inner = std::move(parsed).value();
      if (!IsOp(")")) return SyntaxError();
      ++i_;
      if (inner.parens) redundant_ = true;
      inner.parens = true;
      return inner;
    }
    if (t.type == Tok::kValue) {
      Node n;
      n.kind = Node::kValue;
      n.ref = t.text;
      n.pos = t.pos;
      ++i_;
      return n;
    }
    if (t.type == Tok::kIdent && IsOp("(", 1)) return ParseCall();
    if (t.type == Tok::kIdent || t.type == Tok::kName) return ParsePath();
    return SyntaxError();
  }

  Result<Node> ParseCall() {
    Node n;
    n.kind = Node::kCall;
    n.op = Peek().text;
    n.pos = Peek().pos;
    i_ += 2;
    if (IsOp(")")) {
      ++i_;
      return n;
    }
    for (;;) {
      bool saved = bare_ok_;
      bare_ok_ = true;
      Result<Node> arg = kind_ == ExprKind::kUpdate ? ParseSetValue() : ParseOr();
      bare_ok_ = saved;
      if (!arg.ok()) return arg;
      n.kids.push_back(std::move(arg).value());
      if (IsOp(",")) {
        ++i_;
        continue;
      }
      if (IsOp(")")) {
        ++i_;
        return n;
      }
      return SyntaxError();
    }
  }

  bool IsSectionKeyword() const {
    return IsKeyword("SET") || IsKeyword("REMOVE") || IsKeyword("ADD") || IsKeyword("DELETE");
  }
  bool IsConditionKeyword() const {
    return IsKeyword("AND") || IsKeyword("OR") || IsKeyword("NOT") || IsKeyword("BETWEEN") ||
           IsKeyword("IN");
  }

  Result<Node> ParsePath() {
    Node n;
    n.kind = Node::kPath;
    n.pos = Peek().pos;
    if (kind_ == ExprKind::kUpdate ? IsSectionKeyword() : IsConditionKeyword()) {
      return SyntaxError();
    }
    auto add_name = [&](const Tok& t) {
      PathElem e;
      e.name = t.text;
      if (t.type == Tok::kIdent && reserved_.empty() && IsReservedWord(t.text)) reserved_ = t.text;
      n.path.push_back(std::move(e));
    };
    add_name(Peek());
    ++i_;
    for (;;) {
      if (IsOp(".")) {
        ++i_;
        const Tok& t = Peek();
        if (t.type != Tok::kIdent && t.type != Tok::kName) return SyntaxError();
        add_name(t);
        ++i_;
      } else if (IsOp("[")) {
        ++i_;
        const Tok& t = Peek();
        if (t.type != Tok::kNumber) return SyntaxError();
        PathElem e;
        e.is_index = true;
        e.index = t.text.size() > 7 ? kMaxListIndex : std::stoll(t.text);
        ++i_;
        if (!IsOp("]")) return SyntaxError();
        ++i_;
        n.path.push_back(std::move(e));
      } else {
        break;
      }
    }
    n.ref = std::string(text_.substr(n.pos, Peek().pos - n.pos));
    return n;
  }

  // ---- update expressions ----
  Result<Node> ParseUpdateOperand() {
    const Tok& t = Peek();
    if (++nesting_ > kMaxNesting) return TooDeep();
    struct Unnest {
      int& n;
      ~Unnest() { --n; }
    } unnest{nesting_};
    if (IsOp("(")) {
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node inner, ParseSetValue());
      if (!IsOp(")")) return SyntaxError();
      ++i_;
      if (inner.parens) redundant_ = true;
      inner.parens = true;
      return inner;
    }
    if (t.type == Tok::kValue) {
      Node n;
      n.kind = Node::kValue;
      n.ref = t.text;
      n.pos = t.pos;
      ++i_;
      return n;
    }
    if (t.type == Tok::kIdent && IsOp("(", 1)) return ParseCall();
    if (t.type == Tok::kIdent || t.type == Tok::kName) return ParsePath();
    return SyntaxError();
  }

  Result<Node> ParseSetValue() {
    STRATUS_ASSIGN_OR_RETURN(Node left, ParseUpdateOperand());
    if (IsOp("+") || IsOp("-")) {
      Node n;
      n.kind = Node::kArith;
      n.op = Peek().text;
      n.pos = Peek().pos;
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node right, ParseUpdateOperand());
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(right));
      return n;
    }
    return left;
  }

  Result<UpdateExpr> ParseUpdateExpr() {
    UpdateExpr out;
    while (!AtEnd()) {
      if (!IsSectionKeyword()) return SyntaxError();
      std::string section = Peek().text;
      for (auto& c : section) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (std::find(sections_.begin(), sections_.end(), section) != sections_.end() &&
          duplicate_section_.empty()) {
        duplicate_section_ = section;
      }
      sections_.push_back(section);
      ++i_;
      for (;;) {
        UpdateAction a;
        if (Peek().type != Tok::kIdent && Peek().type != Tok::kName) return SyntaxError();
        a.pos = Peek().pos;
        STRATUS_ASSIGN_OR_RETURN(Node path, ParsePath());
        a.path = std::move(path.path);
        if (section == "SET") {
          a.kind = UpdateAction::kSet;
          if (!IsOp("=")) return SyntaxError();
          ++i_;
          STRATUS_ASSIGN_OR_RETURN(a.value, ParseSetValue());
        } else if (section == "REMOVE") {
          a.kind = UpdateAction::kRemove;
        } else {
          a.kind = section == "ADD" ? UpdateAction::kAdd : UpdateAction::kDelete;
          if (Peek().type != Tok::kValue) return SyntaxError();
          a.value.kind = Node::kValue;
          a.value.ref = Peek().text;
          a.value.pos = Peek().pos;
          ++i_;
        }
        out.actions.push_back(std::move(a));
        if (IsOp(",")) {
          ++i_;
          continue;
        }
        break;
      }
    }
    return out;
  }

  // ---- projections ----
  Result<std::vector<Node>> ParsePaths() {
    std::vector<Node> out;
    for (;;) {
      if (Peek().type != Tok::kIdent && Peek().type != Tok::kName) return SyntaxError();
      STRATUS_ASSIGN_OR_RETURN(Node p, ParsePath());
      out.push_back(std::move(p));
      if (AtEnd()) return out;
      if (!IsOp(",")) return SyntaxError();
      ++i_;
    }
  }

  // ---- checks shared by every kind ----
  Status CheckRedundant() const {
    if (redundant_) return Fail("The expression has redundant parentheses;");
    return Status::Ok();
  }
  Status CheckReserved() const {
    if (!reserved_.empty()) return Fail("Attribute name is a reserved keyword; reserved keyword: " + reserved_);
    return Status::Ok();
  }

  // Resolves #names in paths and :values in nodes, in source order, marking them used.
  Status ResolvePlaceholders(std::vector<Node*> roots, std::vector<Path*> paths) {
    // Gather every placeholder with its source position.
    struct Ref {
      size_t pos;
      bool is_value;
      std::string text;
      PathElem* elem;
      Node* node;
    };
    std::vector<Ref> refs;
    std::function<void(Node&)> walk = [&](Node& n) {
      if (n.kind == Node::kValue) refs.push_back({n.pos, true, n.ref, nullptr, &n});
      if (n.kind == Node::kPath) {
        size_t k = 0;
        for (auto& e : n.path) {
          if (!e.is_index && !e.name.empty() && e.name[0] == '#') refs.push_back({n.pos + k++, false, e.name, &e, nullptr});
        }
      }
      for (auto& c : n.kids) walk(c);
    };
    for (Node* r : roots) walk(*r);
    for (Path* p : paths) {
      size_t k = 0;
      for (auto& e : *p) {
        if (!e.is_index && !e.name.empty() && e.name[0] == '#') refs.push_back({path_pos_[p] + k++, false, e.name, &e, nullptr});
      }
    }
    std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.pos < b.pos; });
    for (auto& r : refs) {
      if (r.is_value) {
        const Json* values = ctx_.values;
        auto it = values ? values->find(r.text) : Json::const_iterator();
        if (!values || it == values->end()) {
          return Fail("An expression attribute value used in expression is not defined; attribute value: " + r.text);
        }
        r.node->value = &*it;
        ctx_.used_values.insert(r.text);
      } else {
        const Json* names = ctx_.names;
        auto it = names ? names->find(r.text) : Json::const_iterator();
        if (!names || it == names->end() || !it->is_string()) {
          return Fail("An expression attribute name used in the document path is not defined; attribute name: " + r.text);
        }
        ctx_.used_names.insert(r.text);
        r.elem->name = it->get<std::string>();
      }
    }
    return Status::Ok();
  }

  std::map<Path*, size_t> path_pos_;
  std::string duplicate_section_;

 private:
  std::string_view text_;
  ExprKind kind_;
  ExprContext& ctx_;
  std::vector<Tok> toks_;
  size_t i_ = 0;
  bool redundant_ = false;
  bool bare_ok_ = false;
  int nesting_ = 0;  // a bare operand may stand where a condition could (in parens, args)
  std::string reserved_;
  std::vector<std::string> sections_;
};

Status CheckEmpty(std::string_view text, ExprKind kind) {
  if (text.size() > kMaxExpressionBytes) {
    return Validation(std::string("Invalid ") + ExprKindName(kind) +
                      ": Expression size has exceeded the maximum allowed size; expression size: " +
                      std::to_string(text.size()));
  }
  bool blank = std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
  if (blank) {
    return Validation(std::string("Invalid ") + ExprKindName(kind) + ": The expression can not be empty;");
  }
  return Status::Ok();
}

}  // namespace

const char* ExprKindName(ExprKind k) {
  switch (k) {
    case ExprKind::kCondition: return "ConditionExpression";
    case ExprKind::kFilter: return "FilterExpression";
    case ExprKind::kKeyCondition: return "KeyConditionExpression";
    case ExprKind::kUpdate: return "UpdateExpression";
    case ExprKind::kProjection: return "ProjectionExpression";
  }
  return "Expression";
}

Result<Node> ParseCondition(std::string_view text, ExprKind kind, ExprContext& ctx) {
  STRATUS_RETURN_IF_ERROR(CheckEmpty(text, kind));
  Parser p(text, kind, ctx);
  auto fail = [&](std::string m) { return p.Fail(std::move(m)); };
  STRATUS_ASSIGN_OR_RETURN(Node root, p.ParseOr());
  if (!p.AtEnd()) return p.SyntaxError();
  STRATUS_RETURN_IF_ERROR(p.CheckRedundant());
  if (const Node* bad = FindBadFunction(root, false)) {
    return fail("Invalid function name; function: " + bad->op);
  }
  if (const Node* bad = FindMisusedFunction(root, true)) {
    if (bad->kind == Node::kPath || bad->kind == Node::kValue) {
      // An operand where a condition belongs: DynamoDB's grammar rejects it as a syntax error.
      return fail("Syntax error; token: \"<EOF>\", near: \"" + bad->ref + "\"");
    }
    return fail("The function is not allowed to be used this way in an expression; function: " + bad->op);
  }
  STRATUS_RETURN_IF_ERROR(p.CheckReserved());
  STRATUS_RETURN_IF_ERROR(p.ResolvePlaceholders({&root}, {}));
  STRATUS_RETURN_IF_ERROR(CheckOperands(root, fail));
  return root;
}

Result<UpdateExpr> ParseUpdate(std::string_view text, ExprContext& ctx) {
  STRATUS_RETURN_IF_ERROR(CheckEmpty(text, ExprKind::kUpdate));
  Parser p(text, ExprKind::kUpdate, ctx);
  auto fail = [&](std::string m) { return p.Fail(std::move(m)); };
  STRATUS_ASSIGN_OR_RETURN(UpdateExpr u, p.ParseUpdateExpr());
  STRATUS_RETURN_IF_ERROR(p.CheckRedundant());
  for (const auto& a : u.actions) {
    if (a.kind != UpdateAction::kSet) continue;
    if (const Node* bad = FindBadFunction(a.value, true)) {
      return fail("Invalid function name; function: " + bad->op);
    }
  }
  for (const auto& a : u.actions) {
    if (a.kind != UpdateAction::kSet) continue;
    std::function<const Node*(const Node&)> find = [&](const Node& n) -> const Node* {
      if (n.kind == Node::kCall && !IsUpdateFunction(n.op)) return &n;
      for (const auto& k : n.kids) {
        if (const Node* b = find(k)) return b;
      }
      return nullptr;
    };
    if (const Node* bad = find(a.value)) {
      return fail("The function is not allowed in an update expression; function: " + bad->op);
    }
  }
  STRATUS_RETURN_IF_ERROR(p.CheckReserved());
  if (!p.duplicate_section_.empty()) {
    return fail("The \"" + p.duplicate_section_ + "\" section can only be used once in an update expression;");
  }
  std::vector<Node*> roots;
  std::vector<Path*> paths;
  for (auto& a : u.actions) {
    paths.push_back(&a.path);
    roots.push_back(&a.value);
  }
  for (auto& a : u.actions) p.path_pos_[&a.path] = a.pos;
  STRATUS_RETURN_IF_ERROR(p.ResolvePlaceholders(roots, paths));
  std::vector<const Path*> targets;
  for (const auto& a : u.actions) targets.push_back(&a.path);
  STRATUS_RETURN_IF_ERROR(CheckPathClashes(targets, fail));
  for (const auto& a : u.actions) {
    if (a.kind != UpdateAction::kAdd && a.kind != UpdateAction::kDelete) continue;
    std::string_view t = a.value.value ? TypeOf(*a.value.value) : "";
    bool ok = a.kind == UpdateAction::kAdd ? (t == "N" || t == "SS" || t == "NS" || t == "BS")
                                           : (t == "SS" || t == "NS" || t == "BS");
    if (!ok) {
      static const std::map<std::string_view, const char*> kNames = {
          {"S", "STRING"}, {"N", "NUMBER"}, {"B", "BINARY"}, {"BOOL", "BOOLEAN"}, {"NULL", "NULL"},
          {"M", "MAP"},    {"L", "LIST"}};
      auto it = kNames.find(t);
      return fail(std::string("Incorrect operand type for operator or function; operator: ") +
                  (a.kind == UpdateAction::kAdd ? "ADD" : "DELETE") +
                  ", operand type: " + (it == kNames.end() ? std::string(t) : it->second));
    }
  }
  for (const auto& a : u.actions) {
    if (a.kind == UpdateAction::kSet) STRATUS_RETURN_IF_ERROR(CheckOperands(a.value, fail));
  }
  return u;
}

Result<std::vector<Path>> ParseProjection(std::string_view text, ExprContext& ctx) {
  STRATUS_RETURN_IF_ERROR(CheckEmpty(text, ExprKind::kProjection));
  Parser p(text, ExprKind::kProjection, ctx);
  auto fail = [&](std::string m) { return p.Fail(std::move(m)); };
  STRATUS_ASSIGN_OR_RETURN(std::vector<Node> nodes, p.ParsePaths());
  STRATUS_RETURN_IF_ERROR(p.CheckReserved());
  std::vector<Node*> roots;
  for (auto& n : nodes) roots.push_back(&n);
  STRATUS_RETURN_IF_ERROR(p.ResolvePlaceholders(roots, {}));
  std::vector<Path> out;
  std::vector<const Path*> ptrs;
  for (auto& n : nodes) out.push_back(std::move(n.path));
  for (const auto& x : out) ptrs.push_back(&x);
  STRATUS_RETURN_IF_ERROR(CheckPathClashes(ptrs, fail));
  return out;
}

}  // namespace stratus::services::dynamodb
