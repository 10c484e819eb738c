// PartiQL for DynamoDB (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction): SELECT,
// INSERT, UPDATE and DELETE statements are parsed into the same condition trees, updates and
// write operations the expression API uses, so they share its evaluation, indexes, streams and
// transactions. A SELECT whose WHERE fixes the partition key reads that partition only.
#include <cctype>
#include <map>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/dynamodb/attr.h"
#include "services/dynamodb/engine.h"

namespace stratus::services::dynamodb {

namespace {

constexpr size_t kMaxBatchStatements = 25;
constexpr size_t kMaxTransactionStatements = 100;

Error Syntax(const std::string& what) {
  return Validation("Statement wasn't well formed, can't be processed: " + what);
}

struct PTok {
  enum Type { kIdent, kQuoted, kString, kNumber, kOp, kParam, kEof };
  Type type = kEof;
  std::string text;
};

Result<std::vector<PTok>> LexPartiql(std::string_view s) {
  std::vector<PTok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    PTok t;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      t.type = PTok::kIdent;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (c == '"' || c == '\'') {
      std::string v;
      size_t j = i + 1;
      for (;;) {
        if (j >= s.size()) return Syntax("unterminated quoted text");
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) {
            v.push_back(c);
            j += 2;
            continue;
          }
          break;
        }
        v.push_back(s[j++]);
      }
      t.type = c == '"' ? PTok::kQuoted : PTok::kString;
      t.text = std::move(v);
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '.') && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == 'e' ||
                              s[j] == 'E' || ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) {
        ++j;
      }
      t.type = PTok::kNumber;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (c == '?') {
      t.type = PTok::kParam;
      t.text = "?";
      ++i;
    } else {
      static const char* kTwo[] = {"<=", ">=", "<>", "!=", "<<", ">>"};
      t.type = PTok::kOp;
      t.text = std::string(1, c);
      for (const char* two : kTwo) {
        if (s.substr(i, 2) == two) t.text = two;
      }
      if (std::string_view("=<>()[]{},.:*+-").find(c) == std::string_view::npos && t.text.size() == 1) {
        return Syntax("unexpected character '" + t.text + "'");
      }
      i += t.text.size();
    }
    out.push_back(std::move(t));
  }
  out.push_back(PTok{});
  return out;
}

struct Statement {
  enum Kind { kSelect, kInsert, kUpdate, kDelete };
  Kind kind = kSelect;
  std::string table;
  std::string index;
  std::vector<Path> projection;  // empty = *
  std::optional<Node> where;
  Json item;  // INSERT
  UpdateExpr update;
  std::string returning;  // UPDATE/DELETE ... RETURNING ALL_OLD *
};

class PartiqlParser {
 public:
  PartiqlParser(std::vector<PTok> toks, const Json& params, std::deque<Json>& values)
      : toks_(std::move(toks)), params_(params), values_(values) {}

  Result<Statement> Parse() {
    Statement st;
    if (Kw("SELECT")) {
      st.kind = Statement::kSelect;
      if (Op("*")) {
      } else {
        for (;;) {
          STRATUS_ASSIGN_OR_RETURN(Path p, ParsePath());
          st.projection.push_back(std::move(p));
          if (!Op(",")) break;
        }
      }
      if (!Kw("FROM")) return Syntax("expected FROM");
      STRATUS_RETURN_IF_ERROR(ParseTable(st, true));
      if (Kw("WHERE")) {
        STRATUS_ASSIGN_OR_RETURN(Node w, ParseOr());
        st.where = std::move(w);
      }
    } else if (Kw("INSERT")) {
      st.kind = Statement::kInsert;
      if (!Kw("INTO")) return Syntax("expected INTO");
      STRATUS_RETURN_IF_ERROR(ParseTable(st, false));
      if (!Kw("VALUE")) return Syntax("expected VALUE");
      STRATUS_ASSIGN_OR_RETURN(Json v, ParseValue());
      if (TypeOf(v) != "M") return Syntax("INSERT VALUE must be a tuple {...}");
      st.item = v["M"];
    } else if (Kw("UPDATE")) {
      st.kind = Statement::kUpdate;
      STRATUS_RETURN_IF_ERROR(ParseTable(st, false));
      bool any = false;
      for (;;) {
        if (Kw("SET")) {
          do {
            UpdateAction a;
            a.kind = UpdateAction::kSet;
            STRATUS_ASSIGN_OR_RETURN(a.path, ParsePath());
            if (!Op("=")) return Syntax("expected = in SET");
            STRATUS_ASSIGN_OR_RETURN(a.value, ParseArith());
            st.update.actions.push_back(std::move(a));
          } while (Op(","));
          any = true;
        } else if (Kw("REMOVE")) {
          do {
            UpdateAction a;
            a.kind = UpdateAction::kRemove;
            STRATUS_ASSIGN_OR_RETURN(a.path, ParsePath());
            st.update.actions.push_back(std::move(a));
          } while (Op(","));
          any = true;
        } else {
          break;
        }
      }
      if (!any) return Syntax("expected SET or REMOVE");
      if (!Kw("WHERE")) return Syntax("UPDATE requires a WHERE clause");
      STRATUS_ASSIGN_OR_RETURN(Node w, ParseOr());
      st.where = std::move(w);
      STRATUS_RETURN_IF_ERROR(ParseReturning(st));
    } else if (Kw("DELETE")) {
      st.kind = Statement::kDelete;
      if (!Kw("FROM")) return Syntax("expected FROM");
      STRATUS_RETURN_IF_ERROR(ParseTable(st, false));
      if (!Kw("WHERE")) return Syntax("DELETE requires a WHERE clause");
      STRATUS_ASSIGN_OR_RETURN(Node w, ParseOr());
      st.where = std::move(w);
      STRATUS_RETURN_IF_ERROR(ParseReturning(st));
    } else {
      return Syntax("unsupported statement");
    }
    if (Peek().type != PTok::kEof) return Syntax("unexpected token '" + Peek().text + "'");
    if (param_ != params_.size()) {
      return Validation("Number of parameters in request and statement don't match.");
    }
    return st;
  }

 private:
  const PTok& Peek(size_t k = 0) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  bool Kw(std::string_view kw) {
    if (Peek().type == PTok::kIdent && ToUpper(Peek().text) == kw) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Op(std::string_view op) {
    if (Peek().type == PTok::kOp && Peek().text == op) {
      ++i_;
      return true;
    }
    return false;
  }

  Status ParseTable(Statement& st, bool allow_index) {
    const PTok& t = Peek();
    if (t.type != PTok::kQuoted && t.type != PTok::kIdent) return Syntax("expected a table name");
    st.table = t.text;
    ++i_;
    if (allow_index && Op(".")) {
      if (Peek().type != PTok::kQuoted && Peek().type != PTok::kIdent) return Syntax("expected an index name");
      st.index = Peek().text;
      ++i_;
    }
    return Status::Ok();
  }

  Status ParseReturning(Statement& st) {
    if (!Kw("RETURNING")) return Status::Ok();
    std::string which = Peek().text;
    ++i_;
    if (!Op("*")) return Syntax("expected * after RETURNING " + which);
    st.returning = ToUpper(which);
    return Status::Ok();
  }

  Result<Path> ParsePath() {
    Path p;
    const PTok& t = Peek();
    if (t.type != PTok::kIdent && t.type != PTok::kQuoted) return Syntax("expected an attribute name");
    p.push_back(PathElem{false, t.text, 0});
    ++i_;
    for (;;) {
      if (Op(".")) {
        const PTok& n = Peek();
        if (n.type != PTok::kIdent && n.type != PTok::kQuoted) return Syntax("expected an attribute name");
        p.push_back(PathElem{false, n.text, 0});
        ++i_;
      } else if (Peek().type == PTok::kOp && Peek().text == "[") {
        ++i_;
        if (Peek().type == PTok::kNumber) {
          const std::string& digits = Peek().text;
          bool plain = !digits.empty() && digits.size() <= 7 &&
                       digits.find_first_not_of("0123456789") == std::string::npos;
          if (!plain) return Syntax("a list index is a non-negative integer");
          p.push_back(PathElem{true, "", std::stoll(digits)});
        } else if (Peek().type == PTok::kString) {
          p.push_back(PathElem{false, Peek().text, 0});
        } else {
          return Syntax("expected an index");
        }
        ++i_;
        if (!Op("]")) return Syntax("expected ]");
      } else {
        return p;
      }
    }
  }

  // A literal or ? parameter as an AttributeValue.
  Result<Json> ParseValue() {
    const PTok& t = Peek();
    if (t.type == PTok::kParam) {
      ++i_;
      if (param_ >= params_.size()) {
        return Validation("Number of parameters in request and statement don't match.");
      }
      Json v = params_[param_++];
      STRATUS_RETURN_IF_ERROR(NormalizeValue(v));
      return v;
    }
    if (t.type == PTok::kString) {
      ++i_;
      return Json{{"S", t.text}};
    }
    if (t.type == PTok::kNumber) {
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(t.text));
      return Json{{"N", d.Format()}};
    }
    if (t.type == PTok::kIdent) {
      std::string u = ToUpper(t.text);
      if (u == "TRUE" || u == "FALSE") {
        ++i_;
        return Json{{"BOOL", u == "TRUE"}};
      }
      if (u == "NULL") {
        ++i_;
        return Json{{"NULL", true}};
      }
    }
    if (Op("{")) {
      Json m = Json::object();
      if (!Op("}")) {
        for (;;) {
          const PTok& k = Peek();
          if (k.type != PTok::kString && k.type != PTok::kQuoted && k.type != PTok::kIdent) {
            return Syntax("expected a key in tuple");
          }
          std::string key = k.text;
          ++i_;
          if (!Op(":")) return Syntax("expected : in tuple");
          STRATUS_ASSIGN_OR_RETURN(Json v, ParseValue());
          m[key] = std::move(v);
          if (Op("}")) break;
          if (!Op(",")) return Syntax("expected , or } in tuple");
        }
      }
      return Json{{"M", m}};
    }
    if (Op("[")) {
      Json l = Json::array();
      if (!Op("]")) {
        for (;;) {
          STRATUS_ASSIGN_OR_RETURN(Json v, ParseValue());
          l.push_back(std::move(v));
          if (Op("]")) break;
          if (!Op(",")) return Syntax("expected , or ] in list");
        }
      }
      return Json{{"L", l}};
    }
    if (Op("<<")) {
      Json elems = Json::array();
      std::string type;
      for (;;) {
        STRATUS_ASSIGN_OR_RETURN(Json v, ParseValue());
        std::string_view t2 = TypeOf(v);
        if (t2 != "S" && t2 != "N" && t2 != "B") return Syntax("sets hold strings, numbers or binaries");
        if (!type.empty() && type != t2) return Syntax("a set's elements must have one type");
        type = std::string(t2);
        elems.push_back(v.begin().value());
        if (Op(">>")) break;
        if (!Op(",")) return Syntax("expected , or >> in set");
      }
      Json set = Json{{type + "S", elems}};
      STRATUS_RETURN_IF_ERROR(NormalizeValue(set));
      return set;
    }
    return Syntax("expected a value, found '" + t.text + "'");
  }

  Node ValueNode(Json v) {
    values_.push_back(std::move(v));
    Node n;
    n.kind = Node::kValue;
    n.value = &values_.back();
    return n;
  }

  Result<Node> ParseOperand() {
    const PTok& t = Peek();
    bool is_path = (t.type == PTok::kIdent || t.type == PTok::kQuoted) &&
                   !(t.type == PTok::kIdent && (ToUpper(t.text) == "TRUE" || ToUpper(t.text) == "FALSE" ||
                                                ToUpper(t.text) == "NULL"));
    if (is_path && t.type == PTok::kIdent && Peek(1).type == PTok::kOp && Peek(1).text == "(") {
      Node n;
      n.kind = Node::kCall;
      n.op = ToLower(t.text);
      i_ += 2;
      if (!Op(")")) {
        for (;;) {
          STRATUS_ASSIGN_OR_RETURN(Node arg, ParseOperand());
          n.kids.push_back(std::move(arg));
          if (Op(")")) break;
          if (!Op(",")) return Syntax("expected , or ) in function call");
        }
      }
      return n;
    }
    if (is_path) {
      Node n;
      n.kind = Node::kPath;
      STRATUS_ASSIGN_OR_RETURN(n.path, ParsePath());
      return n;
    }
    STRATUS_ASSIGN_OR_RETURN(Json v, ParseValue());
    return ValueNode(std::move(v));
  }

  Result<Node> ParseArith() {
    STRATUS_ASSIGN_OR_RETURN(Node left, ParseOperand());
    if (Peek().type == PTok::kOp && (Peek().text == "+" || Peek().text == "-")) {
      Node n;
      n.kind = Node::kArith;
      n.op = Peek().text;
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node right, ParseOperand());
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(right));
      return n;
    }
    return left;
  }

  Result<Node> ParseOr() {
    STRATUS_ASSIGN_OR_RETURN(Node left, ParseAnd());
    while (Kw("OR")) {
      STRATUS_ASSIGN_OR_RETURN(Node right, ParseAnd());
      Node n;
      n.kind = Node::kOr;
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<Node> ParseAnd() {
    STRATUS_ASSIGN_OR_RETURN(Node left, ParseNot());
    while (Kw("AND")) {
      STRATUS_ASSIGN_OR_RETURN(Node right, ParseNot());
      Node n;
      n.kind = Node::kAnd;
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<Node> ParseNot() {
    if (++depth_ > 100) return Syntax("expression nested too deeply");
    struct Undepth {
      int& d;
      ~Undepth() { --d; }
    } undepth{depth_};
    if (Kw("NOT")) {
      STRATUS_ASSIGN_OR_RETURN(Node inner, ParseNot());
      Node n;
      n.kind = Node::kNot;
      n.kids.push_back(std::move(inner));
      return n;
    }
    if (Peek().type == PTok::kOp && Peek().text == "(") {
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node inner, ParseOr());
      if (!Op(")")) return Syntax("expected )");
      return inner;
    }
    STRATUS_ASSIGN_OR_RETURN(Node left, ParseOperand());
    if (left.kind == Node::kCall) return left;
    const PTok& t = Peek();
    static const std::map<std::string, std::string> kOps = {
        {"=", "="}, {"<>", "<>"}, {"!=", "<>"}, {"<", "<"}, {"<=", "<="}, {">", ">"}, {">=", ">="}};
    if (t.type == PTok::kOp && kOps.count(t.text)) {
      Node n;
      n.kind = Node::kCompare;
      n.op = kOps.at(t.text);
      ++i_;
      STRATUS_ASSIGN_OR_RETURN(Node right, ParseOperand());
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(right));
      return n;
    }
    if (Kw("BETWEEN")) {
      Node n;
      n.kind = Node::kBetween;
      STRATUS_ASSIGN_OR_RETURN(Node lo, ParseOperand());
      if (!Kw("AND")) return Syntax("expected AND in BETWEEN");
      STRATUS_ASSIGN_OR_RETURN(Node hi, ParseOperand());
      n.kids.push_back(std::move(left));
      n.kids.push_back(std::move(lo));
      n.kids.push_back(std::move(hi));
      return n;
    }
    if (Kw("IN")) {
      Node n;
      n.kind = Node::kIn;
      n.kids.push_back(std::move(left));
      std::string close;
      if (Op("[")) {
        close = "]";
      } else if (Op("(")) {
        close = ")";
      } else {
        return Syntax("expected [ or ( after IN");
      }
      for (;;) {
        STRATUS_ASSIGN_OR_RETURN(Node v, ParseOperand());
        n.kids.push_back(std::move(v));
        if (Op(close)) break;
        if (!Op(",")) return Syntax("expected , in IN list");
      }
      return n;
    }
    if (Kw("IS")) {
      bool negate = Kw("NOT");
      std::string what = ToUpper(Peek().text);
      ++i_;
      if (left.kind != Node::kPath) return Syntax("IS needs an attribute");
      Node n;
      if (what == "MISSING") {
        n.kind = Node::kCall;
        n.op = negate ? "attribute_exists" : "attribute_not_exists";
        n.kids.push_back(std::move(left));
        return n;
      }
      if (what == "NULL") {
        n.kind = Node::kCall;
        n.op = "attribute_type";
        n.kids.push_back(std::move(left));
        n.kids.push_back(ValueNode(Json{{"S", "NULL"}}));
        if (!negate) return n;
        Node neg;
        neg.kind = Node::kNot;
        neg.kids.push_back(std::move(n));
        return neg;
      }
      return Syntax("expected MISSING or NULL after IS");
    }
    return Syntax("expected a comparison");
  }

  std::vector<PTok> toks_;
  size_t i_ = 0;
  const Json& params_;
  size_t param_ = 0;
  std::deque<Json>& values_;
  int depth_ = 0;
};

// The value each top-level AND-ed equality gives an attribute (the statement's key).
void KeyEqualities(const Node& n, std::map<std::string, const Json*>& out) {
  if (n.kind == Node::kAnd) {
    KeyEqualities(n.kids[0], out);
    KeyEqualities(n.kids[1], out);
  } else if (n.kind == Node::kCompare && n.op == "=") {
    const Node* p = &n.kids[0];
    const Node* v = &n.kids[1];
    if (p->kind != Node::kPath) std::swap(p, v);
    if (p->kind == Node::kPath && p->path.size() == 1 && v->kind == Node::kValue) out[p->path[0].name] = v->value;
  }
}

}  // namespace

Result<Json> Engine::ExecutePartiql(const Scope& s, const std::string& text, const Json& params,
                                    const Json& in, std::vector<WriteOp>* collect) {
  auto values = std::make_shared<std::deque<Json>>();
  STRATUS_ASSIGN_OR_RETURN(auto toks, LexPartiql(text));
  PartiqlParser parser(std::move(toks), params, *values);
  STRATUS_ASSIGN_OR_RETURN(Statement st, parser.Parse());
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, st.table));
  if (st.kind == Statement::kSelect) {
    if (collect) return Validation("Only write statements are supported in a write transaction");
    const IndexDef* index = nullptr;
    if (!st.index.empty()) {
      index = t->FindIndex(st.index);
      if (!index) return Validation("The table does not have the specified index: " + st.index);
    }
    const KeyAttr& hash = index ? index->hash : t->hash;
    std::string prefix = t->ItemPrefix(index ? index->id : 0);
    std::string start = prefix, end = store::PrefixEnd(prefix);
    if (st.where) {
      std::map<std::string, const Json*> eq;
      KeyEqualities(*st.where, eq);
      auto h = eq.find(hash.name);
      if (h != eq.end() && TypeOf(*h->second) == hash.type) {
        std::string pk = EncodeKeyValue(*h->second);
        start = prefix + t->PartitionTag(pk) + pk;
        end = store::PrefixEnd(start);
      }
    }
    if (in.contains("NextToken")) {
      auto after = Base64Decode(in["NextToken"].get<std::string>());
      if (!after || !StartsWith(*after, prefix)) return Validation("Invalid NextToken");
      start = *after + std::string(1, '\0');
    }
    std::string last_key;
    STRATUS_ASSIGN_OR_RETURN(Json out, ReadItems(*t, index, start, end, in.value("Limit", int64_t{0}),
                                                 st.where ? &*st.where : nullptr, &st.projection, last_key));
    Json result = {{"Items", out.value("Items", Json::array())}};
    if (!last_key.empty()) result["NextToken"] = Base64Encode(last_key);
    if (out.contains("LastEvaluatedKey")) result["LastEvaluatedKey"] = out["LastEvaluatedKey"];
    return result;
  }
  WriteOp op;
  op.table_name = t->name;
  op.table_uid = t->uid;
  op.owned_values = values;
  if (st.kind == Statement::kInsert) {
    Json put = {{"TableName", t->name}, {"Item", st.item}};
    STRATUS_ASSIGN_OR_RETURN(op, PreparePut(s, std::move(put), *t));
    op.owned_values = values;
    // INSERT never overwrites.
    Node cond;
    cond.kind = Node::kCall;
    cond.op = "attribute_not_exists";
    Node p;
    p.kind = Node::kPath;
    p.path.push_back(PathElem{false, t->hash.name, 0});
    cond.kids.push_back(std::move(p));
    op.condition = std::move(cond);
  } else {
    std::map<std::string, const Json*> eq;
    KeyEqualities(*st.where, eq);
    Json key = Json::object();
    for (const std::string& k : t->KeyNames()) {
      auto it = eq.find(k);
      if (it == eq.end()) {
        return Validation("Where clause does not contain a mandatory equality on all key attributes");
      }
      key[k] = *it->second;
    }
    STRATUS_RETURN_IF_ERROR(ValidateKey(*t, key));
    op.key = key;
    op.kind = st.kind == Statement::kUpdate ? WriteOp::kUpdate : WriteOp::kDelete;
    // The item must exist, and the rest of the WHERE clause holds.
    Node exists;
    exists.kind = Node::kAnd;
    exists.kids.push_back(std::move(*st.where));
    Node has;
    has.kind = Node::kCall;
    has.op = "attribute_exists";
    Node p;
    p.kind = Node::kPath;
    p.path.push_back(PathElem{false, t->hash.name, 0});
    has.kids.push_back(std::move(p));
    exists.kids.push_back(std::move(has));
    op.condition = std::move(exists);
    if (st.kind == Statement::kUpdate) {
      STRATUS_RETURN_IF_ERROR(CheckUpdateKeys(st.update, t->KeyNames()));
      op.update = std::move(st.update);
    }
    if (!st.returning.empty()) op.return_values = st.returning;
  }
  if (collect) {
    collect->push_back(std::move(op));
    return Json::object();
  }
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op));
  Status applied = ApplyWrites(s, ops, false);
  if (!applied.ok()) {
    if (applied.error().code == "ConditionalCheckFailedException" && st.kind == Statement::kInsert) {
      return Error("DuplicateItemException", "Duplicate primary key exists in table");
    }
    return applied.error();
  }
  Json items = Json::array();
  Json attrs = ReturnAttributes(ops[0]);
  if (attrs.contains("Attributes")) items.push_back(attrs["Attributes"]);
  return Json{{"Items", items}};
}

Result<Json> Engine::ExecuteStatement(const Scope& s, Json in) {
  return ExecutePartiql(s, in.value("Statement", ""), in.value("Parameters", Json::array()), in, nullptr);
}

Result<Json> Engine::BatchExecuteStatement(const Scope& s, Json in) {
  Json statements = in.value("Statements", Json::array());
  if (statements.size() > kMaxBatchStatements) {
    return Validation("Member must have length less than or equal to 25");
  }
  Json responses = Json::array();
  for (const auto& st : statements) {
    auto r = ExecutePartiql(s, st.value("Statement", ""), st.value("Parameters", Json::array()), Json::object(), nullptr);
    if (r.ok()) {
      Json one = Json::object();
      if (!r->value("Items", Json::array()).empty()) one["Item"] = (*r)["Items"][0];
      responses.push_back(one);
    } else {
      std::string code = r.error().code;
      if (code.ends_with("Exception")) code.resize(code.size() - 9);
      if (code == "ConditionalCheckFailed") code = "ConditionalCheckFailed";
      responses.push_back(Json{{"Error", {{"Code", code}, {"Message", r.error().message}}}});
    }
  }
  return Json{{"Responses", responses}};
}

Result<Json> Engine::ExecuteTransaction(const Scope& s, Json in) {
  Json statements = in.value("TransactStatements", Json::array());
  if (statements.size() > kMaxTransactionStatements) {
    return Validation("Member must have length less than or equal to 100");
  }
  std::vector<WriteOp> ops;
  bool reads = false, writes = false;
  for (const auto& st : statements) {
    std::string text(Trim(st.value("Statement", "")));
    bool is_select = ToUpper(text.substr(0, 6)) == "SELECT";
    (is_select ? reads : writes) = true;
    if (!is_select) {
      auto r = ExecutePartiql(s, text, st.value("Parameters", Json::array()), Json::object(), &ops);
      if (!r.ok()) return r.error();
    }
  }
  if (reads && writes) return Validation("Transaction must contain either all reads or all writes");
  if (reads) {
    Json responses = Json::array();
    for (const auto& st : statements) {
      STRATUS_ASSIGN_OR_RETURN(Json r, ExecutePartiql(s, st.value("Statement", ""), st.value("Parameters", Json::array()), Json::object(), nullptr));
      Json one = Json::object();
      if (!r.value("Items", Json::array()).empty()) one["Item"] = r["Items"][0];
      responses.push_back(one);
    }
    return Json{{"Responses", responses}};
  }
  for (auto& op : ops) op.return_values = "NONE";
  return CommitTransaction(s, ops, in.value("ClientRequestToken", ""), Sha256Hex(statements.dump()),
                           in.value("ReturnConsumedCapacity", "NONE"));
}

}  // namespace stratus::services::dynamodb
