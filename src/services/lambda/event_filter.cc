#include "services/lambda/event_filter.h"

#include <charconv>
#include <optional>

#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

constexpr std::string_view kInvalidPattern = "Invalid filter pattern definition.";
constexpr std::string_view kOr = "$or";
constexpr size_t kMaxNumericComparisons = 2;

Error InvalidPattern() { return InvalidParameterValue(std::string(kInvalidPattern)); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// ---- validation ----

bool IsLiteral(const Json& v) { return v.is_string() || v.is_number() || v.is_boolean() || v.is_null(); }

// {"prefix": "x"} / {"prefix": {"equals-ignore-case": "x"}}.
bool ValidAffix(const Json& v) {
  if (v.is_string()) return true;
  return v.is_object() && v.size() == 1 && v.contains("equals-ignore-case") &&
         v["equals-ignore-case"].is_string();
}

bool ValidAnythingBut(const Json& v) {
  if (v.is_string() || v.is_number()) return true;
  if (v.is_array()) {
    if (v.empty()) return false;
    for (const auto& x : v) {
      if (!x.is_string() && !x.is_number()) return false;
    }
    return true;
  }
  if (v.is_object() && v.size() == 1) {
    const std::string& op = v.begin().key();
    const Json& arg = v.begin().value();
    return (op == "prefix" || op == "suffix" || op == "equals-ignore-case") && arg.is_string();
  }
  return false;
}

bool IsLowerBound(const std::string& op) { return op == ">" || op == ">="; }
bool IsUpperBound(const std::string& op) { return op == "<" || op == "<="; }

bool ValidNumeric(const Json& v) {
  if (!v.is_array() || v.empty() || v.size() % 2 != 0 || v.size() / 2 > kMaxNumericComparisons) return false;
  std::optional<double> lower, upper;
  for (size_t i = 0; i < v.size(); i += 2) {
    if (!v[i].is_string() || !v[i + 1].is_number()) return false;
    std::string op = v[i].get<std::string>();
    double n = v[i + 1].get<double>();
    if (op == "=") {
      if (v.size() != 2) return false;
    } else if (IsLowerBound(op)) {
      if (lower) return false;
      lower = n;
    } else if (IsUpperBound(op)) {
      if (upper) return false;
      upper = n;
    } else {
      return false;
    }
  }
  return !(lower && upper && *lower >= *upper);
}

bool ValidRule(const Json& rule) {
  if (IsLiteral(rule)) return true;
  if (!rule.is_object() || rule.size() != 1) return false;
  const std::string& op = rule.begin().key();
  const Json& arg = rule.begin().value();
  if (op == "prefix" || op == "suffix") return ValidAffix(arg);
  if (op == "equals-ignore-case") return arg.is_string();
  if (op == "anything-but") return ValidAnythingBut(arg);
  if (op == "numeric") return ValidNumeric(arg);
  if (op == "exists") return arg.is_boolean();
  return false;
}

bool ValidPattern(const Json& p) {
  if (!p.is_object() || p.empty()) return false;
  for (const auto& [key, v] : p.items()) {
    if (key == kOr) {
      if (!v.is_array() || v.empty()) return false;
      for (const auto& alt : v) {
        if (!ValidPattern(alt)) return false;
      }
    } else if (v.is_object()) {
      if (!ValidPattern(v)) return false;
    } else if (v.is_array()) {
      if (v.empty()) return false;
      for (const auto& rule : v) {
        if (!ValidRule(rule)) return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

// ---- matching ----

std::optional<double> NumberOf(const Json& v, const FilterOptions& o) {
  if (v.is_number()) return v.get<double>();
  if (o.numeric_strings && v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return d;
  }
  return std::nullopt;
}

bool LiteralEquals(const Json& rule, const Json& v, const FilterOptions& o) {
  if (rule.is_number()) {
    auto n = NumberOf(v, o);
    return n && *n == rule.get<double>();
  }
  if (rule.is_string()) return v.is_string() && v.get_ref<const std::string&>() == rule.get_ref<const std::string&>();
  if (rule.is_boolean()) return v.is_boolean() && v.get<bool>() == rule.get<bool>();
  return rule.is_null() && v.is_null();
}

bool AffixMatches(const Json& arg, const Json& v, bool prefix) {
  if (!v.is_string()) return false;
  std::string_view s = v.get_ref<const std::string&>();
  if (arg.is_string()) {
    std::string_view a = arg.get_ref<const std::string&>();
    return prefix ? StartsWith(s, a) : EndsWith(s, a);
  }
  std::string lower_s = Lower(s);
  std::string a = Lower(arg["equals-ignore-case"].get_ref<const std::string&>());
  return prefix ? StartsWith(lower_s, a) : EndsWith(lower_s, a);
}

bool AnythingBut(const Json& arg, const Json& v, const FilterOptions& o) {
  if (arg.is_array()) {
    for (const auto& x : arg) {
      if (LiteralEquals(x, v, o)) return false;
    }
    return true;
  }
  if (arg.is_object()) {
    const std::string& op = arg.begin().key();
    const Json& s = arg.begin().value();
    if (!v.is_string()) return true;
    if (op == "equals-ignore-case") return Lower(v.get_ref<const std::string&>()) != Lower(s.get_ref<const std::string&>());
    return !AffixMatches(s, v, op == "prefix");
  }
  return !LiteralEquals(arg, v, o);
}

bool NumericMatches(const Json& arg, const Json& v, const FilterOptions& o) {
  auto n = NumberOf(v, o);
  if (!n) return false;
  for (size_t i = 0; i < arg.size(); i += 2) {
    const std::string& op = arg[i].get_ref<const std::string&>();
    double bound = arg[i + 1].get<double>();
    bool ok = op == "=" ? *n == bound : op == "<" ? *n < bound : op == "<=" ? *n <= bound
            : op == ">" ? *n > bound : *n >= bound;
    if (!ok) return false;
  }
  return true;
}

// One rule against one present leaf value.
bool RuleMatches(const Json& rule, const Json& v, const FilterOptions& o) {
  if (!rule.is_object()) return LiteralEquals(rule, v, o);
  const std::string& op = rule.begin().key();
  const Json& arg = rule.begin().value();
  if (op == "prefix") return AffixMatches(arg, v, true);
  if (op == "suffix") return AffixMatches(arg, v, false);
  if (op == "equals-ignore-case") {
    return v.is_string() && Lower(v.get_ref<const std::string&>()) == Lower(arg.get_ref<const std::string&>());
  }
  if (op == "anything-but") return AnythingBut(arg, v, o);
  if (op == "numeric") return NumericMatches(arg, v, o);
  if (op == "exists") return arg.get<bool>();
  return false;
}

// A list of rules against the record's value at a key (nullptr: the key is missing).
bool RulesMatch(const Json& rules, const Json* value, const FilterOptions& o) {
  std::vector<const Json*> leaves;
  if (value && value->is_array()) {
    for (const auto& e : *value) {
      if (!e.is_object() && !e.is_array()) leaves.push_back(&e);
    }
  } else if (value && !value->is_object()) {
    leaves.push_back(value);
  }
  for (const auto& rule : rules) {
    if (rule.is_object() && rule.begin().key() == "exists" && !rule.begin().value().get<bool>()) {
      if (!value) return true;
      continue;
    }
    for (const Json* leaf : leaves) {
      if (RuleMatches(rule, *leaf, o)) return true;
    }
  }
  return false;
}

bool ObjectMatches(const Json& pattern, const Json& event, const FilterOptions& o);

// A nested pattern against the record's value at a key (nullptr: missing).
bool NestedMatches(const Json& pattern, const Json* value, const FilterOptions& o) {
  static const Json kEmpty = Json::object();
  if (value && value->is_object()) return ObjectMatches(pattern, *value, o);
  if (value && value->is_array()) {
    for (const auto& e : *value) {
      if (e.is_object() && ObjectMatches(pattern, e, o)) return true;
    }
    return false;
  }
  return ObjectMatches(pattern, kEmpty, o);  // only `exists: false` can match what is not there
}

bool ObjectMatches(const Json& pattern, const Json& event, const FilterOptions& o) {
  for (const auto& [key, v] : pattern.items()) {
    if (key == kOr) {
      bool any = false;
      for (const auto& alt : v) {
        if (ObjectMatches(alt, event, o)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
      continue;
    }
    auto it = event.find(key);
    const Json* value = it == event.end() ? nullptr : &*it;
    bool ok = v.is_object() ? NestedMatches(v, value, o) : RulesMatch(v, value, o);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<Json> EventFilter::ParsePattern(std::string_view pattern) {
  Json p = ParseJsonOrDiscarded(pattern);
  if (p.is_discarded() || !ValidPattern(p)) return InvalidPattern();
  return p;
}

Result<EventFilter> EventFilter::Parse(const Json& criteria) {
  EventFilter f;
  if (criteria.is_null()) return f;
  if (!criteria.is_object()) return InvalidPattern();
  auto it = criteria.find("Filters");
  if (it == criteria.end() || it->is_null()) return f;
  if (!it->is_array()) return InvalidPattern();
  if (it->size() > kMaxFilters) {
    return InvalidParameterValue("The number of filters in FilterCriteria (" + std::to_string(it->size()) +
                                 ") exceeds the limit of " + std::to_string(kMaxFilters) + ".");
  }
  for (const auto& filter : *it) {
    if (!filter.is_object() || !filter.contains("Pattern") || !filter["Pattern"].is_string()) {
      return InvalidPattern();
    }
    STRATUS_ASSIGN_OR_RETURN(Json p, ParsePattern(filter["Pattern"].get<std::string>()));
    f.patterns_.push_back(std::move(p));
  }
  return f;
}

bool EventFilter::Matches(const Json& record, const FilterOptions& options) const {
  if (patterns_.empty()) return true;
  for (const auto& p : patterns_) {
    if (PatternMatches(p, record, options)) return true;
  }
  return false;
}

bool PatternMatches(const Json& pattern, const Json& event, const FilterOptions& options) {
  if (!event.is_object()) return false;
  return ObjectMatches(pattern, event, options);
}

}  // namespace stratus::services::lambda
