// Lexer and Pratt parser producing the raw tree; Optimize() (optimize.cc) finishes compilation.
#include <cmath>
#include <cstdlib>
#include <string>

#include "jsonata/ast.h"
#include "jsonata/errors.h"
#include "jsonata/regex.h"

namespace stratus::jsonata::internal {

Node* Optimize(Program& program, Node* raw);  // optimize.cc

namespace {

// Maximum syntactic nesting: deeper input is rejected (S0201-like) instead of overflowing the
// parser's stack.
constexpr int kMaxParseDepth = 500;

enum class TokType : uint8_t { kEnd, kName, kVariable, kString, kNumber, kValue, kRegex, kOperator };

struct Token {
  TokType type = TokType::kEnd;
  std::string value;  // operator text, name, string contents
  double number = 0;
  Value literal;  // kValue: true/false/null
  std::shared_ptr<const Regex> regex;
  int position = 0;  // offset just after the token (as the reference)
};

int BindingPower(std::string_view op) {
  struct Entry {
    const char* op;
    int bp;
  };
  static constexpr Entry kTable[] = {
      {".", 75},  {"[", 80},  {"]", 0},   {"{", 70},  {"}", 0},   {"(", 80},  {")", 0},
      {",", 0},   {"@", 80},  {"#", 80},  {";", 80},  {":", 80},  {"?", 20},  {"+", 50},
      {"-", 50},  {"*", 60},  {"/", 60},  {"%", 60},  {"|", 20},  {"=", 40},  {"<", 40},
      {">", 40},  {"^", 40},  {"**", 60}, {"..", 20}, {":=", 10}, {"!=", 40}, {"<=", 40},
      {">=", 40}, {"~>", 40}, {"?:", 40}, {"??", 40}, {"and", 30}, {"or", 25}, {"in", 40},
      {"&", 50},  {"!", 0},   {"~", 0},
  };
  for (const auto& e : kTable) {
    if (op == e.op) return e.bp;
  }
  return -1;
}

bool IsSingleOperatorChar(char c) {
  switch (c) {
    case '.': case '[': case ']': case '{': case '}': case '(': case ')': case ',': case '@':
    case '#': case ';': case ':': case '?': case '+': case '-': case '*': case '/': case '%':
    case '|': case '=': case '<': case '>': case '^': case '&': case '!': case '~':
      return true;
    default:
      return false;
  }
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  // Returns the next token; `prefix` is true when an operand is expected, in which case a
  // '/' starts a regular expression rather than being division.
  Token Next(bool infix) {
    Token t;
    SkipSpaceAndComments();
    if (pos_ >= src_.size()) {
      t.type = TokType::kEnd;
      t.position = static_cast<int>(src_.size());
      return t;
    }
    char c = src_[pos_];
    if (!infix && c == '/') {
      ++pos_;
      return ScanRegex();
    }
    static constexpr const char* kDouble[] = {"..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"};
    for (const char* d : kDouble) {
      if (pos_ + 1 < src_.size() && src_[pos_] == d[0] && src_[pos_ + 1] == d[1]) {
        pos_ += 2;
        return Op(d);
      }
    }
    if (IsSingleOperatorChar(c)) {
      ++pos_;
      return Op(std::string(1, c));
    }
    if (c == '"' || c == '\'') return ScanString(c);
    if (c >= '0' && c <= '9') return ScanNumber();
    if (c == '`') {
      size_t end = src_.find('`', pos_ + 1);
      if (end == std::string_view::npos) {
        throw JError("S0105", static_cast<int>(src_.size()));
      }
      t.type = TokType::kName;
      t.value = std::string(src_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      t.position = static_cast<int>(pos_);
      return t;
    }
    size_t i = pos_;
    while (i < src_.size()) {
      char ch = src_[i];
      if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || IsSingleOperatorChar(ch)) break;
      ++i;
    }
    if (src_[pos_] == '$') {
      t.type = TokType::kVariable;
      t.value = std::string(src_.substr(pos_ + 1, i - pos_ - 1));
      pos_ = i;
      t.position = static_cast<int>(pos_);
      return t;
    }
    std::string name(src_.substr(pos_, i - pos_));
    pos_ = i;
    t.position = static_cast<int>(pos_);
    if (name == "and" || name == "or" || name == "in") {
      t.type = TokType::kOperator;
      t.value = name;
    } else if (name == "true" || name == "false") {
      t.type = TokType::kValue;
      t.literal = Value::Bool(name == "true");
      t.value = name;
    } else if (name == "null") {
      t.type = TokType::kValue;
      t.literal = Value::Null();
      t.value = name;
    } else {
      t.type = TokType::kName;
      t.value = std::move(name);
    }
    return t;
  }

 private:
  Token Op(std::string op) {
    Token t;
    t.type = TokType::kOperator;
    t.value = std::move(op);
    t.position = static_cast<int>(pos_);
    return t;
  }

  void SkipSpaceAndComments() {
    for (;;) {
      while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' ||
                                    src_[pos_] == '\r' || src_[pos_] == '\v')) {
        ++pos_;
      }
      if (pos_ + 1 < src_.size() && src_[pos_] == '/' && src_[pos_ + 1] == '*') {
        size_t end = src_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) throw JError("S0106", static_cast<int>(pos_));
        pos_ = end + 2;
        continue;
      }
      return;
    }
  }

  Token ScanString(char quote) {
    ++pos_;
    std::string out;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '\\') {
        ++pos_;
        if (pos_ >= src_.size()) break;
        char e = src_[pos_];
        switch (e) {
          case '"': out.push_back('"'); break;
          case '\\': out.push_back('\\'); break;
          case '/': out.push_back('/'); break;
          case 'b': out.push_back('\b'); break;
          case 'f': out.push_back('\f'); break;
          case 'n': out.push_back('\n'); break;
          case 'r': out.push_back('\r'); break;
          case 't': out.push_back('\t'); break;
          case 'u': {
            uint32_t cp = 0;
            if (!Hex4(pos_ + 1, cp)) throw JError("S0104", static_cast<int>(pos_));
            pos_ += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 6 < src_.size() + 0 && src_[pos_ + 1] == '\\' &&
                src_[pos_ + 2] == 'u') {
              uint32_t lo = 0;
              if (Hex4(pos_ + 3, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                pos_ += 6;
              }
            }
            // A lone surrogate is kept as its 3-byte (WTF-8) form so that URL encoding can
            // reject it as JavaScript does.
            AppendUtf8(out, cp);
            break;
          }
          default: {
            JError err("S0103", static_cast<int>(pos_));
            err.Token(std::string(1, e));
            throw err;
          }
        }
        ++pos_;
      } else if (c == quote) {
        ++pos_;
        Token t;
        t.type = TokType::kString;
        t.value = std::move(out);
        t.position = static_cast<int>(pos_);
        return t;
      } else {
        out.push_back(c);
        ++pos_;
      }
    }
    throw JError("S0101", static_cast<int>(pos_));
  }

  bool Hex4(size_t at, uint32_t& cp) {
    if (at + 4 > src_.size()) return false;
    cp = 0;
    for (size_t i = at; i < at + 4; ++i) {
      char h = src_[i];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') cp |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') cp |= static_cast<uint32_t>(h - 'A' + 10);
      else return false;
    }
    return true;
  }

  Token ScanNumber() {
    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?  (the sign is a separate operator token)
    size_t i = pos_;
    if (src_[i] == '0') {
      ++i;
    } else {
      while (i < src_.size() && src_[i] >= '0' && src_[i] <= '9') ++i;
    }
    if (i + 1 < src_.size() && src_[i] == '.' && src_[i + 1] >= '0' && src_[i + 1] <= '9') {
      ++i;
      while (i < src_.size() && src_[i] >= '0' && src_[i] <= '9') ++i;
    }
    if (i < src_.size() && (src_[i] == 'e' || src_[i] == 'E')) {
      size_t j = i + 1;
      if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
      if (j < src_.size() && src_[j] >= '0' && src_[j] <= '9') {
        while (j < src_.size() && src_[j] >= '0' && src_[j] <= '9') ++j;
        i = j;
      }
    }
    std::string text(src_.substr(pos_, i - pos_));
    double d = std::strtod(text.c_str(), nullptr);
    pos_ = i;
    if (!std::isfinite(d)) {
      JError e("S0102", static_cast<int>(pos_));
      e.Token(text);
      throw e;
    }
    Token t;
    t.type = TokType::kNumber;
    t.number = d;
    t.value = std::move(text);
    t.position = static_cast<int>(pos_);
    return t;
  }

  Token ScanRegex() {
    size_t start = pos_;
    int depth = 0;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '/' && depth == 0) {
        size_t backslashes = 0;
        while (pos_ >= backslashes + 1 && src_[pos_ - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) {
          std::string pattern(src_.substr(start, pos_ - start));
          if (pattern.empty()) throw JError("S0301", static_cast<int>(pos_));
          ++pos_;
          size_t fstart = pos_;
          while (pos_ < src_.size() && (src_[pos_] == 'i' || src_[pos_] == 'm')) ++pos_;
          std::string flags(src_.substr(fstart, pos_ - fstart));
          Token t;
          t.type = TokType::kRegex;
          t.value = pattern;
          t.position = static_cast<int>(pos_);
          t.regex = CompileRegex(pattern, flags, t.position);
          return t;
        }
      }
      bool escaped = pos_ > 0 && src_[pos_ - 1] == '\\';
      if ((c == '(' || c == '[' || c == '{') && !escaped) ++depth;
      if ((c == ')' || c == ']' || c == '}') && !escaped) --depth;
      ++pos_;
    }
    throw JError("S0302", static_cast<int>(pos_));
  }

  std::string_view src_;
  size_t pos_ = 0;
};

class Parser {
 public:
  Parser(Program& program, std::string_view src) : program_(program), lexer_(src), src_(src) {}

  Node* ParseAll() {
    Advance("", false);
    Node* expr = Expression(0);
    if (tok_.type != TokType::kEnd) {
      JError e("S0201", tok_.position);
      e.Token(tok_.value);
      throw e;
    }
    return expr;
  }

 private:
  // The id the grammar dispatches on: operators by their text, everything else by class.
  std::string Id() const {
    switch (tok_.type) {
      case TokType::kEnd: return "(end)";
      case TokType::kName:
      case TokType::kVariable: return "(name)";
      case TokType::kString:
      case TokType::kNumber:
      case TokType::kValue: return "(literal)";
      case TokType::kRegex: return "(regex)";
      case TokType::kOperator: return tok_.value;
    }
    return "";
  }
  bool Is(std::string_view id) const {
    if (tok_.type == TokType::kOperator) return tok_.value == id;
    return id == Id();
  }
  // Left binding power: only operators the grammar registers as infix bind; separators
  // (`:` `;` `,` `..` closing brackets) and prefix-only operators (`|` `**`) have none.
  int Lbp() const {
    if (tok_.type != TokType::kOperator) return 0;
    static constexpr const char* kInfix[] = {".", "+", "-", "*", "/", "%", "=", "<", ">", "!=",
                                             "<=", ">=", "&", "and", "or", "in", "(", "[", "{",
                                             "^", ":=", "@", "#", "?", "?:", "??", "~>"};
    for (const char* op : kInfix) {
      if (tok_.value == op) return BindingPower(op);
    }
    return 0;
  }

  void Advance(std::string_view id = "", bool infix = false) {
    if (!id.empty() && !Is(id)) {
      JError e(tok_.type == TokType::kEnd ? "S0203" : "S0202", tok_.position);
      e.Token(tok_.value);
      e.value = Value::String(std::string(id));
      throw e;
    }
    tok_ = lexer_.Next(infix);
    if (tok_.type == TokType::kOperator &&
        (BindingPower(tok_.value) < 0 || tok_.value == "!" || tok_.value == "~")) {
      JError e("S0204", tok_.position);
      e.Token(tok_.value);
      throw e;
    }
  }

  Node* Expression(int rbp) {
    if (++depth_ > kMaxParseDepth) {
      JError e("S0201", tok_.position);
      e.Token(tok_.value);
      e.detail = "expression nesting too deep";
      throw e;
    }
    Token t = std::move(tok_);
    Advance("", true);
    Node* left = Nud(t);
    while (rbp < Lbp()) {
      Token op = std::move(tok_);
      Advance();
      left = Led(op, left);
    }
    --depth_;
    return left;
  }

  Node* Nud(Token& t) {
    switch (t.type) {
      case TokType::kName: {
        Node* n = program_.NewNode(NodeType::kName, t.position);
        n->op_text = t.value;
        return n;
      }
      case TokType::kVariable: {
        Node* n = program_.NewNode(NodeType::kVariable, t.position);
        n->op_text = t.value;
        return n;
      }
      case TokType::kString: {
        Node* n = program_.NewNode(NodeType::kLiteral, t.position);
        n->literal = Value::String(t.value);
        n->is_string_literal = true;
        n->op_text = t.value;
        return n;
      }
      case TokType::kNumber: {
        Node* n = program_.NewNode(NodeType::kLiteral, t.position);
        n->literal = Value::Number(t.number);
        n->is_number_literal = true;
        return n;
      }
      case TokType::kValue: {
        Node* n = program_.NewNode(NodeType::kLiteral, t.position);
        n->literal = t.literal;
        n->op_text = t.value;
        return n;
      }
      case TokType::kRegex: {
        Node* n = program_.NewNode(NodeType::kRegex, t.position);
        n->regex = t.regex;
        n->op_text = t.value;
        return n;
      }
      case TokType::kEnd: {
        JError e("S0207", t.position);
        throw e;
      }
      case TokType::kOperator:
        break;
    }
    const std::string& op = t.value;
    if (op == "and" || op == "or" || op == "in") {
      // an operator word used as a name
      Node* n = program_.NewNode(NodeType::kRawOperator, t.position);
      n->op_text = op;
      return n;
    }
    if (op == "-") {
      Node* n = program_.NewNode(NodeType::kRawUnary, t.position);
      n->op_text = "-";
      n->expression = Expression(70);
      return n;
    }
    if (op == "*") return program_.NewNode(NodeType::kWildcard, t.position);
    if (op == "**") return program_.NewNode(NodeType::kDescendant, t.position);
    if (op == "%") return program_.NewNode(NodeType::kParent, t.position);
    if (op == "(") {
      Node* n = program_.NewNode(NodeType::kBlock, t.position);
      while (!Is(")")) {
        n->items.push_back(Expression(0));
        if (!Is(";")) break;
        Advance(";");
      }
      Advance(")", true);
      return n;
    }
    if (op == "[") {
      Node* n = program_.NewNode(NodeType::kRawUnary, t.position);
      n->op_text = "[";
      if (!Is("]")) {
        for (;;) {
          Node* item = Expression(0);
          if (Is("..")) {
            Node* range = program_.NewNode(NodeType::kRawBinary, tok_.position);
            range->op_text = "..";
            range->lhs = item;
            Advance("..");
            range->rhs = Expression(0);
            item = range;
          }
          n->items.push_back(item);
          if (!Is(",")) break;
          Advance(",");
        }
      }
      Advance("]", true);
      return n;
    }
    if (op == "{") {
      Node* n = program_.NewNode(NodeType::kRawUnary, t.position);
      n->op_text = "{";
      n->pairs = ObjectPairs();
      return n;
    }
    if (op == "|") {
      Node* n = program_.NewNode(NodeType::kTransform, t.position);
      n->pattern = Expression(0);
      Advance("|");
      n->update = Expression(0);
      if (Is(",")) {
        Advance(",");
        n->del = Expression(0);
      }
      Advance("|");
      return n;
    }
    if (op == "?") {
      // placeholder in a partial application (only legal as an argument; Optimize checks)
      Node* n = program_.NewNode(NodeType::kRawOperator, t.position);
      n->op_text = "?";
      return n;
    }
    JError e("S0211", t.position);
    e.Token(op);
    throw e;
  }

  std::vector<std::pair<Node*, Node*>> ObjectPairs() {
    std::vector<std::pair<Node*, Node*>> pairs;
    if (!Is("}")) {
      for (;;) {
        Node* k = Expression(0);
        Advance(":");
        Node* v = Expression(0);
        pairs.emplace_back(k, v);
        if (!Is(",")) break;
        Advance(",");
      }
    }
    Advance("}", true);
    return pairs;
  }

  Node* Binary(const Token& op, Node* left, Node* right) {
    Node* n = program_.NewNode(NodeType::kRawBinary, op.position);
    n->op_text = op.value;
    n->lhs = left;
    n->rhs = right;
    return n;
  }

  Node* Led(Token& t, Node* left) {
    const std::string& op = t.value;
    int bp = BindingPower(op);
    if (op == "(") return CallOrLambda(t, left);
    if (op == "[") {
      if (Is("]")) {
        Node* step = left;
        while (step->type == NodeType::kRawBinary && step->op_text == "[") step = step->lhs;
        step->keep_array = true;
        Advance("]");
        return left;
      }
      Node* rhs = Expression(BindingPower("]"));
      Advance("]", true);
      return Binary(t, left, rhs);
    }
    if (op == "{") {
      Node* n = program_.NewNode(NodeType::kRawBinary, t.position);
      n->op_text = "{";
      n->lhs = left;
      n->pairs = ObjectPairs();
      return n;
    }
    if (op == "^") {
      Advance("(");
      Node* n = program_.NewNode(NodeType::kRawBinary, t.position);
      n->op_text = "^";
      n->lhs = left;
      for (;;) {
        SortTerm term;
        if (Is("<")) {
          Advance("<");
        } else if (Is(">")) {
          term.descending = true;
          Advance(">");
        }
        term.expr = Expression(0);
        n->raw_terms.push_back(term);
        if (!Is(",")) break;
        Advance(",");
      }
      Advance(")");
      return n;
    }
    if (op == ":=") {
      if (left->type != NodeType::kVariable) {
        JError e("S0212", left->position);
        e.Token(left->op_text);
        throw e;
      }
      return Binary(t, left, Expression(bp - 1));
    }
    if (op == "@" || op == "#") {
      Node* rhs = Expression(bp);
      if (rhs->type != NodeType::kVariable) {
        JError e("S0214", rhs->position);
        e.Token(op);
        throw e;
      }
      return Binary(t, left, rhs);
    }
    if (op == "?") {
      Node* n = program_.NewNode(NodeType::kCondition, t.position);
      n->condition = left;
      n->then = Expression(0);
      if (Is(":")) {
        Advance(":");
        n->otherwise = Expression(0);
      }
      return n;
    }
    if (op == "?:") {
      Node* n = program_.NewNode(NodeType::kCondition, t.position);
      n->condition = left;
      n->then = left;
      n->otherwise = Expression(0);
      return n;
    }
    static constexpr const char* kPlainInfix[] = {".", "+", "-", "*", "/", "%", "=", "<", ">", "!=", "<=",
                                                  ">=", "&", "and", "or", "in", "~>", "..", "??"};
    for (const char* p : kPlainInfix) {
      if (op == p) return Binary(t, left, Expression(bp));
    }
    JError e("S0201", t.position);
    e.Token(op);
    throw e;
  }

  Node* CallOrLambda(Token& t, Node* left) {
    Node* n = program_.NewNode(NodeType::kCall, t.position);
    n->procedure = left;
    if (!Is(")")) {
      for (;;) {
        if (tok_.type == TokType::kOperator && tok_.value == "?") {
          n->type = NodeType::kPartial;
          Node* ph = program_.NewNode(NodeType::kPlaceholder, tok_.position);
          n->items.push_back(ph);
          Advance("?");
        } else {
          n->items.push_back(Expression(0));
        }
        if (!Is(",")) break;
        Advance(",");
      }
    }
    Advance(")", true);
    if (left->type == NodeType::kName && (left->op_text == "function" || left->op_text == "\u03BB")) {
      for (size_t i = 0; i < n->items.size(); ++i) {
        Node* arg = n->items[i];
        if (arg->type != NodeType::kVariable) {
          JError e("S0208", arg->position);
          e.Token(arg->op_text);
          e.index = static_cast<int>(i) + 1;
          throw e;
        }
        n->params.push_back(arg->op_text);
      }
      n->items.clear();
      n->type = NodeType::kLambda;
      if (Is("<")) {
        int sig_pos = tok_.position;
        int depth = 1;
        std::string sig = "<";
        while (depth > 0 && !Is("{") && tok_.type != TokType::kEnd) {
          Advance();
          if (Is(">")) {
            --depth;
          } else if (Is("<")) {
            ++depth;
          }
          sig += TokenText(tok_);
        }
        Advance(">");
        try {
          n->signature = ParseSignature(sig);
        } catch (JError& e) {
          e.position = sig_pos + (e.position < 0 ? 0 : e.position);
          throw;
        }
      }
      Advance("{");
      n->body = Expression(0);
      Advance("}");
    }
    return n;
  }

  static std::string TokenText(const Token& t) {
    if (t.type == TokType::kNumber) return t.value;
    return t.value;
  }

  Program& program_;
  Lexer lexer_;
  std::string_view src_;
  Token tok_;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Program> ParseProgram(std::string_view source) {
  auto program = std::make_unique<Program>();
  program->source = std::string(source);
  Parser parser(*program, program->source);
  Node* raw = parser.ParseAll();
  program->root = Optimize(*program, raw);
  return program;
}

}  // namespace stratus::jsonata::internal
