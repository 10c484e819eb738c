#include "services/stepfunctions/jsonata_template.h"

#include "jsonata/stepfunctions_functions.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr const char* kQueryError = "States.QueryEvaluationError";

const jsonata::Bindings& BaseBindings() {
  static const jsonata::Bindings base = [] {
    jsonata::Bindings b;
    (void)jsonata::AddStepFunctionsFunctions(b);
    return b;
  }();
  return base;
}

}  // namespace

std::optional<std::string_view> JsonataExpressionText(std::string_view s) {
  if (s.size() < 4 || !s.starts_with("{%") || !s.ends_with("%}")) return std::nullopt;
  s = s.substr(2, s.size() - 4);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

jsonata::Bindings MakeJsonataBindings(const Json& states,
                                      const std::vector<std::pair<std::string, const Json*>>& vars) {
  jsonata::Bindings b = BaseBindings();
  for (const auto& [name, value] : vars) b.Set(name, *value);
  jsonata::BindStates(b, states);
  return b;
}

Result<std::shared_ptr<JsonataTemplate::Node>> JsonataTemplate::CompileNode(const Json& j,
                                                                            const std::string& path) {
  auto n = std::make_shared<Node>();
  n->path = path;
  if (j.is_string()) {
    if (auto text = JsonataExpressionText(j.get_ref<const std::string&>())) {
      auto e = jsonata::Expression::Compile(*text);
      if (!e.ok()) {
        return Error("States.QueryEvaluationError",
                     "The JSONata expression '" + std::string(*text) + "' specified for the field '" +
                         path + "' is not valid: " + e.error().message);
      }
      n->expr = std::move(*e);
      n->has_expr = true;
      return n;
    }
  } else if (j.is_object()) {
    n->is_object = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      auto c = CompileNode(it.value(), path + "/" + it.key());
      if (!c.ok()) return c;
      n->has_expr |= (*c)->has_expr;
      n->members.emplace_back(it.key(), *c);
    }
  } else if (j.is_array()) {
    n->is_array = true;
    size_t i = 0;
    for (const auto& v : j) {
      auto c = CompileNode(v, path + "[" + std::to_string(i++) + "]");
      if (!c.ok()) return c;
      n->has_expr |= (*c)->has_expr;
      n->items.push_back(*c);
    }
  }
  if (!n->has_expr) {
    n->literal = j;
    n->members.clear();
    n->items.clear();
  }
  return n;
}

Result<JsonataTemplate> JsonataTemplate::Compile(const Json& tmpl, std::string field) {
  JsonataTemplate t;
  t.field_ = field;
  auto n = CompileNode(tmpl, field);
  if (!n.ok()) return n.error();
  t.root_ = *n;
  return t;
}

std::string JsonataTemplate::source() const {
  if (root_ && root_->expr) return root_->expr->source();
  return {};
}

Result<Json> JsonataTemplate::EvalNode(const Node& n, const jsonata::Bindings& b) {
  if (n.expr) {
    static const jsonata::Input kUndefinedInput;  // immutable, shared by every evaluation
    auto r = n.expr->EvaluateDetailed(kUndefinedInput, b);
    if (!r.ok()) {
      const Error& e = r.error();
      if (e.code.starts_with("States.")) return Error(e.code, e.message);
      return Error(kQueryError, "The JSONata expression '" + n.expr->source() +
                                    "' specified for the field '" + n.path +
                                    "' threw an error during evaluation: " + e.code + ": " + e.message);
    }
    if (r->is_function) {
      return Error(kQueryError, "The JSONata expression '" + n.expr->source() +
                                    "' specified for the field '" + n.path +
                                    "' returned an unsupported result type.");
    }
    if (!r->value.has_value()) {
      return Error(kQueryError, "The JSONata expression '" + n.expr->source() +
                                    "' specified for the field '" + n.path +
                                    "' returned nothing (undefined).");
    }
    return std::move(*r->value);
  }
  if (!n.has_expr) return n.literal;
  if (n.is_object) {
    Json out = Json::object();
    for (const auto& [key, child] : n.members) {
      auto v = EvalNode(*child, b);
      if (!v.ok()) return v;
      out[key] = std::move(*v);
    }
    return out;
  }
  Json out = Json::array();
  for (const auto& child : n.items) {
    auto v = EvalNode(*child, b);
    if (!v.ok()) return v;
    out.push_back(std::move(*v));
  }
  return out;
}

Result<Json> JsonataTemplate::Evaluate(const jsonata::Bindings& bindings) const {
  if (!root_) return Json();
  return EvalNode(*root_, bindings);
}

}  // namespace stratus::services::stepfunctions
