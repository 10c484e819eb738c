// Choice rules of the JSONPath query language: comparisons, And/Or/Not, the *Path variants,
// type tests and StringMatches wildcards.
#include <cmath>

#include "core/time_format.h"
#include "services/stepfunctions/state_runner.h"

namespace stratus::services::stepfunctions {

namespace {

using Op = ChoiceRule::Op;

// "*" matches any run of characters; "\*" a literal star and "\\" a backslash.
bool WildcardMatch(std::string_view s, std::string_view p) {
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  auto literal_at = [&](size_t i, char& c, size_t& width) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      c = p[i + 1];
      width = 2;
      return true;
    }
    c = p[i];
    width = 1;
    return c != '*';
  };
  while (si < s.size()) {
    char c;
    size_t w;
    if (pi < p.size() && !literal_at(pi, c, w)) {
      star_p = ++pi;
      star_s = si;
      continue;
    }
    if (pi < p.size() && c == s[si]) {
      pi += w;
      ++si;
      continue;
    }
    if (star_p != std::string_view::npos) {
      pi = star_p;
      si = ++star_s;
      continue;
    }
    return false;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::optional<double> Timestamp(const Json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() < 20 || s[10] != 'T') return std::nullopt;
  return ParseIso8601(s);
}

}  // namespace

Result<bool> EvaluateRule(const ChoiceRule& rule, const EvalEnv& env) {
  switch (rule.kind) {
    case ChoiceRule::Kind::kAnd:
      for (const auto& c : rule.children) {
        auto r = EvaluateRule(c, env);
        if (!r.ok() || !*r) return r;
      }
      return true;
    case ChoiceRule::Kind::kOr:
      for (const auto& c : rule.children) {
        auto r = EvaluateRule(c, env);
        if (!r.ok() || *r) return r;
      }
      return false;
    case ChoiceRule::Kind::kNot: {
      auto r = EvaluateRule(rule.children[0], env);
      if (!r.ok()) return r;
      return !*r;
    }
    case ChoiceRule::Kind::kCondition: return Error("States.Runtime", "Condition in a JSONPath state");
    case ChoiceRule::Kind::kCompare: break;
  }
  const Json* found = rule.variable->Find(env);
  Json owned;
  if (!found && !rule.variable->path.definite()) {
    auto r = rule.variable->Read(env);
    if (r.ok()) {
      owned = std::move(*r);
      found = &owned;
    }
  }
  if (rule.op == Op::kIsPresent) return found != nullptr ? rule.value.is_boolean() && rule.value.get<bool>()
                                                         : rule.value.is_boolean() && !rule.value.get<bool>();
  if (!found) {
    if (rule.op == Op::kIsNull || rule.op == Op::kIsNumeric || rule.op == Op::kIsString ||
        rule.op == Op::kIsBoolean || rule.op == Op::kIsTimestamp) {
      return Error("States.Runtime", "Invalid path '" + rule.variable->text + "': The choice state's condition path references an invalid value.");
    }
    return Error("States.Runtime", "Invalid path '" + rule.variable->text + "': The choice state's condition path references an invalid value.");
  }
  const Json& v = *found;
  bool want = rule.value.is_boolean() ? rule.value.get<bool>() : true;
  switch (rule.op) {
    case Op::kIsNull: return v.is_null() == want;
    case Op::kIsNumeric: return v.is_number() == want;
    case Op::kIsString: return v.is_string() == want;
    case Op::kIsBoolean: return v.is_boolean() == want;
    case Op::kIsTimestamp: return Timestamp(v).has_value() == want;
    default: break;
  }
  Json other;
  if (rule.value_path) {
    auto o = rule.value_path->Read(env);
    if (!o.ok()) return Error("States.Runtime", "Invalid path '" + rule.value_path->text + "' : " + o.error().message);
    other = std::move(*o);
  } else {
    other = rule.value;
  }
  switch (rule.op) {
    case Op::kStringEquals:
    case Op::kStringLessThan:
    case Op::kStringGreaterThan:
    case Op::kStringLessThanEquals:
    case Op::kStringGreaterThanEquals: {
      if (!v.is_string() || !other.is_string()) return false;
      int c = v.get_ref<const std::string&>().compare(other.get_ref<const std::string&>());
      switch (rule.op) {
        case Op::kStringEquals: return c == 0;
        case Op::kStringLessThan: return c < 0;
        case Op::kStringGreaterThan: return c > 0;
        case Op::kStringLessThanEquals: return c <= 0;
        default: return c >= 0;
      }
    }
    case Op::kStringMatches:
      if (!v.is_string() || !other.is_string()) return false;
      return WildcardMatch(v.get_ref<const std::string&>(), other.get_ref<const std::string&>());
    case Op::kNumericEquals:
    case Op::kNumericLessThan:
    case Op::kNumericGreaterThan:
    case Op::kNumericLessThanEquals:
    case Op::kNumericGreaterThanEquals: {
      if (!v.is_number() || !other.is_number()) return false;
      double a = v.get<double>(), b = other.get<double>();
      switch (rule.op) {
        case Op::kNumericEquals: return a == b;
        case Op::kNumericLessThan: return a < b;
        case Op::kNumericGreaterThan: return a > b;
        case Op::kNumericLessThanEquals: return a <= b;
        default: return a >= b;
      }
    }
    case Op::kBooleanEquals:
      if (!v.is_boolean() || !other.is_boolean()) return false;
      return v.get<bool>() == other.get<bool>();
    case Op::kTimestampEquals:
    case Op::kTimestampLessThan:
    case Op::kTimestampGreaterThan:
    case Op::kTimestampLessThanEquals:
    case Op::kTimestampGreaterThanEquals: {
      auto a = Timestamp(v), b = Timestamp(other);
      if (!a || !b) return false;
      switch (rule.op) {
        case Op::kTimestampEquals: return *a == *b;
        case Op::kTimestampLessThan: return *a < *b;
        case Op::kTimestampGreaterThan: return *a > *b;
        case Op::kTimestampLessThanEquals: return *a <= *b;
        default: return *a >= *b;
      }
    }
    default: return false;
  }
}

}  // namespace stratus::services::stepfunctions
