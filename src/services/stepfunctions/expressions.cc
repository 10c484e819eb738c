#include "services/stepfunctions/expressions.h"

#include <cctype>

namespace stratus::services::stepfunctions {

namespace {

Error RuntimeError(std::string message) { return Error("States.Runtime", std::move(message)); }

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

Result<ValueRef> ValueRef::Parse(std::string_view text) {
  ValueRef r;
  r.text = std::string(text);
  if (text.starts_with("$$")) {
    r.root = Root::kContext;
    auto p = JsonPath::Parse(text.substr(1));
    if (!p.ok()) return p.error();
    r.path = std::move(*p);
    return r;
  }
  if (text.size() > 1 && text[0] == '$' && IsIdentStart(text[1])) {
    size_t i = 1;
    while (i < text.size() && IsIdentChar(text[i])) ++i;
    r.root = Root::kVariable;
    r.variable = std::string(text.substr(1, i - 1));
    auto p = JsonPath::Parse("$" + std::string(text.substr(i)));
    if (!p.ok()) return p.error();
    r.path = std::move(*p);
    return r;
  }
  auto p = JsonPath::Parse(text);
  if (!p.ok()) return p.error();
  r.path = std::move(*p);
  return r;
}

const Json* ValueRef::Find(const EvalEnv& env) const {
  const Json* base = nullptr;
  switch (root) {
    case Root::kInput: base = &env.input; break;
    case Root::kContext: base = &env.context; break;
    case Root::kVariable: base = env.vars ? env.vars->Find(variable) : nullptr; break;
  }
  if (!base) return nullptr;
  return path.Find(*base);
}

Result<Json> ValueRef::Read(const EvalEnv& env) const {
  const Json* base = nullptr;
  switch (root) {
    case Root::kInput: base = &env.input; break;
    case Root::kContext: base = &env.context; break;
    case Root::kVariable:
      base = env.vars ? env.vars->Find(variable) : nullptr;
      if (!base) {
        return RuntimeError("Invalid path '" + text + "': The variable '" + variable +
                            "' is not defined.");
      }
      break;
  }
  return path.Read(*base);
}

// ---- intrinsic call parsing -------------------------------------------------------------------

namespace {

class IntrinsicParser {
 public:
  explicit IntrinsicParser(std::string_view t) : t_(t) {}

  Result<IntrinsicCall> ParseAll() {
    auto c = Call();
    if (!c.ok()) return c;
    Skip();
    if (p_ != t_.size()) return Bad();
    return c;
  }

 private:
  Error Bad() const {
    return Error("States.Runtime", "The value '" + std::string(t_) + "' is not a valid intrinsic function call.");
  }
  void Skip() {
    while (p_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[p_]))) ++p_;
  }
  Result<IntrinsicCall> Call() {
    Skip();
    size_t start = p_;
    while (p_ < t_.size() && (IsIdentChar(t_[p_]) || t_[p_] == '.')) ++p_;
    IntrinsicCall call;
    call.name = std::string(t_.substr(start, p_ - start));
    if (!call.name.starts_with("States.")) return Bad();
    Skip();
    if (p_ >= t_.size() || t_[p_] != '(') return Bad();
    ++p_;
    Skip();
    if (p_ < t_.size() && t_[p_] == ')') {
      ++p_;
      call.text = std::string(t_.substr(start, p_ - start));
      return call;
    }
    while (true) {
      auto a = Arg();
      if (!a.ok()) return a.error();
      call.args.push_back(std::move(*a));
      Skip();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == ')') {
        ++p_;
        break;
      }
      return Bad();
    }
    call.text = std::string(t_.substr(start, p_ - start));
    return call;
  }
  Result<IntrinsicArg> Arg() {
    Skip();
    IntrinsicArg a;
    if (p_ >= t_.size()) return Bad();
    char c = t_[p_];
    if (c == '\'') {
      ++p_;
      std::string s;
      while (p_ < t_.size() && t_[p_] != '\'') {
        if (t_[p_] == '\\' && p_ + 1 < t_.size()) {
          char n = t_[p_ + 1];
          // \' \\ are unescaped; \{ \} stay escaped for States.Format to interpret.
          if (n == '\'' || n == '\\') {
            s.push_back(n);
            p_ += 2;
            continue;
          }
        }
        s.push_back(t_[p_++]);
      }
      if (p_ >= t_.size()) return Bad();
      ++p_;
      a.literal = std::move(s);
      return a;
    }
    if (c == '$') {
      size_t start = p_;
      int depth = 0;
      bool quote = false;
      while (p_ < t_.size()) {
        char d = t_[p_];
        if (quote) {
          if (d == '\'') quote = false;
        } else if (d == '\'') {
          quote = true;
        } else if (d == '[' || d == '(') {
          ++depth;
        } else if (d == ']' || d == ')') {
          if (depth == 0) break;
          --depth;
        } else if (depth == 0 && (d == ',' || std::isspace(static_cast<unsigned char>(d)))) {
          break;
        }
        ++p_;
      }
      auto ref = ValueRef::Parse(t_.substr(start, p_ - start));
      if (!ref.ok()) return ref.error();
      a.kind = IntrinsicArg::Kind::kRef;
      a.ref = std::make_shared<ValueRef>(std::move(*ref));
      return a;
    }
    if (t_.substr(p_).starts_with("States.")) {
      auto inner = Call();
      if (!inner.ok()) return inner.error();
      a.kind = IntrinsicArg::Kind::kCall;
      a.call = std::make_shared<IntrinsicCall>(std::move(*inner));
      return a;
    }
    size_t start = p_;
    while (p_ < t_.size() && t_[p_] != ',' && t_[p_] != ')' && !std::isspace(static_cast<unsigned char>(t_[p_]))) ++p_;
    Json lit = ParseJsonOrDiscarded(t_.substr(start, p_ - start));
    if (lit.is_discarded() || lit.is_structured()) return Bad();
    a.literal = std::move(lit);
    return a;
  }

  std::string_view t_;
  size_t p_ = 0;
};

}  // namespace

Result<IntrinsicCall> IntrinsicCall::Parse(std::string_view text) {
  IntrinsicParser p(text);
  auto c = p.ParseAll();
  if (c.ok()) c->text = std::string(text);
  return c;
}

Result<Json> IntrinsicCall::Evaluate(const EvalEnv& env) const {
  std::vector<Json> values;
  values.reserve(args.size());
  for (const auto& a : args) {
    switch (a.kind) {
      case IntrinsicArg::Kind::kLiteral: values.push_back(a.literal); break;
      case IntrinsicArg::Kind::kRef: {
        auto v = a.ref->Read(env);
        if (!v.ok()) return v.error();
        values.push_back(std::move(*v));
        break;
      }
      case IntrinsicArg::Kind::kCall: {
        auto v = a.call->Evaluate(env);
        if (!v.ok()) return v.error();
        values.push_back(std::move(*v));
        break;
      }
    }
  }
  return CallIntrinsic(name, std::move(values));
}

Result<DynamicValue> DynamicValue::Parse(std::string_view text) {
  DynamicValue d;
  if (text.starts_with("States.")) {
    auto c = IntrinsicCall::Parse(text);
    if (!c.ok()) return c.error();
    d.call = std::make_shared<IntrinsicCall>(std::move(*c));
    return d;
  }
  auto r = ValueRef::Parse(text);
  if (!r.ok()) return r.error();
  d.ref = std::make_shared<ValueRef>(std::move(*r));
  return d;
}

Result<Json> DynamicValue::Evaluate(const EvalEnv& env, std::string_view field) const {
  if (call) return call->Evaluate(env);
  if (ref->root == ValueRef::Root::kInput && ref->path.definite()) {
    if (const Json* v = ref->Find(env)) return *v;
    return RuntimeError("The JSONPath '" + ref->text + "' specified for the field '" +
                        std::string(field) + "' could not be found in the input '" +
                        DumpJson(env.input) + "'");
  }
  auto v = ref->Read(env);
  if (!v.ok()) {
    if (ref->root == ValueRef::Root::kContext) {
      return RuntimeError("The JSONPath '" + ref->text + "' specified for the field '" +
                          std::string(field) + "' could not be found in the input '" +
                          DumpJson(env.context) + "'");
    }
    return v.error();
  }
  return v;
}

// ---- payload templates ---------------------------------------------------------------------

Result<std::shared_ptr<PayloadTemplate::Node>> PayloadTemplate::CompileNode(const Json& j) {
  auto n = std::make_shared<Node>();
  if (j.is_object()) {
    n->is_object = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() > 2 && key.ends_with(".$")) {
        if (!it.value().is_string()) {
          return Error("States.Runtime", "The value of the field '" + key + "' must be a string.");
        }
        auto child = std::make_shared<Node>();
        auto dv = DynamicValue::Parse(it.value().get_ref<const std::string&>());
        if (!dv.ok()) return dv.error();
        child->dynamic = std::move(*dv);
        child->has_dynamic = true;
        child->field = key;
        n->members.emplace_back(key.substr(0, key.size() - 2), child);
        n->has_dynamic = true;
      } else {
        auto child = CompileNode(it.value());
        if (!child.ok()) return child.error();
        n->has_dynamic |= (*child)->has_dynamic;
        n->members.emplace_back(key, *child);
      }
    }
  } else if (j.is_array()) {
    n->is_array = true;
    for (const auto& v : j) {
      auto child = CompileNode(v);
      if (!child.ok()) return child.error();
      n->has_dynamic |= (*child)->has_dynamic;
      n->items.push_back(*child);
    }
  }
  if (!n->has_dynamic) {
    n->literal = j;
    n->members.clear();
    n->items.clear();
    n->is_object = n->is_array = false;
  }
  return n;
}

Result<PayloadTemplate> PayloadTemplate::Compile(const Json& tmpl) {
  PayloadTemplate t;
  auto n = CompileNode(tmpl);
  if (!n.ok()) return n.error();
  t.root_ = *n;
  return t;
}

Result<Json> PayloadTemplate::EvalNode(const Node& n, const EvalEnv& env) {
  if (n.dynamic) return n.dynamic->Evaluate(env, n.field);
  if (!n.has_dynamic) return n.literal;
  if (n.is_object) {
    Json out = Json::object();
    for (const auto& [key, child] : n.members) {
      auto v = EvalNode(*child, env);
      if (!v.ok()) return v;
      out[key] = std::move(*v);
    }
    return out;
  }
  Json out = Json::array();
  for (const auto& child : n.items) {
    auto v = EvalNode(*child, env);
    if (!v.ok()) return v;
    out.push_back(std::move(*v));
  }
  return out;
}

Result<Json> PayloadTemplate::Evaluate(const EvalEnv& env) const {
  if (!root_) return Json::object();
  return EvalNode(*root_, env);
}

}  // namespace stratus::services::stepfunctions
