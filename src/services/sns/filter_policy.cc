#include "services/sns/filter_policy.h"

#include <arpa/inet.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "core/strings.h"

namespace stratus::services::sns {

namespace {

constexpr size_t kMaxKeys = 5;
constexpr double kMaxComplexity = 150;

enum class Op {
  kExactString, kExactNumber, kExactBool, kExactNull, kPrefix, kPrefixIgnoreCase, kSuffix,
  kSuffixIgnoreCase, kEqualsIgnoreCase, kAnythingBut, kAnythingButPrefix,
  kAnythingButIgnoreCase, kNumeric, kExists, kCidr
};

struct Condition {
  Op op = Op::kExactString;
  std::string text;
  double number = 0;
  bool flag = false;
  std::vector<Json> values;  // anything-but list
  // numeric range
  bool has_low = false, low_inclusive = false, has_high = false, high_inclusive = false;
  double low = 0, high = 0;
  // cidr
  int family = 0;
  unsigned char net[16] = {};
  int mask_bits = 0;
};

struct KeyRule {
  std::string path;  // keys joined by '.'
  int depth = 1;
  std::vector<Condition> conditions;
};

using Alternative = std::vector<KeyRule>;

// A validation failure: `nested_scope` marks the MessageAttributes-scope nesting error, which
// AWS words without the "FilterPolicy: " prefix.
struct Reason {
  std::string text;
};

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

// Jackson's wording for the most common syntax errors.
std::string ParseErrorMessage(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i == text.size()) return "failed to parse JSON. No content to map due to end-of-input";
  // Find the first offending bare token anywhere a value is expected: scan for identifiers
  // outside strings that are not true/false/null.
  bool in_string = false;
  for (size_t k = i; k < text.size(); ++k) {
    char c = text[k];
    if (in_string) {
      if (c == '\\') ++k;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t e = k;
      while (e < text.size() && IsIdentChar(text[e])) ++e;
      std::string tok = text.substr(k, e - k);
      if (tok != "true" && tok != "false" && tok != "null") {
        return "failed to parse JSON. Unrecognized token '" + tok +
               "': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or "
               "'false')";
      }
      k = e - 1;
    }
  }
  if (in_string) return "failed to parse JSON. Unexpected end-of-input in VALUE_STRING";
  return "failed to parse JSON. Unexpected end-of-input: expected close marker for Object";
}

std::optional<Reason> Fail(std::string text) { return Reason{std::move(text)}; }

std::optional<Reason> ParseCidr(const Json& v, Condition& c) {
  if (!v.is_string()) return Fail("prefix match pattern must be a string");
  std::string s = v.get<std::string>();
  auto slash = s.find('/');
  if (slash == std::string::npos || s.find('/', slash + 1) != std::string::npos) {
    return Fail("Malformed CIDR, one '/' required");
  }
  std::string ip = s.substr(0, slash);
  std::string bits = s.substr(slash + 1);
  auto n = ParseInt64(bits);
  if (!n || bits.empty()) return Fail("Malformed CIDR, mask bits must be an integer");
  if (inet_pton(AF_INET, ip.c_str(), c.net) == 1) {
    c.family = 4;
    if (*n < 0 || *n > 32) return Fail("Malformed CIDR, mask bits must be between 0 and 32");
  } else if (inet_pton(AF_INET6, ip.c_str(), c.net) == 1) {
    c.family = 6;
    if (*n < 0 || *n > 128) return Fail("Malformed CIDR, mask bits must be between 0 and 128");
  } else {
    return Fail("Nonstandard IP address: " + ip);
  }
  c.mask_bits = static_cast<int>(*n);
  c.op = Op::kCidr;
  return std::nullopt;
}

// prefix / suffix: a string, or {"equals-ignore-case": "..."}.
std::optional<Reason> ParseAffix(const std::string& name, const Json& v, Condition& c, Op plain,
                                 Op ignore_case) {
  if (v.is_object() && v.size() == 1 && v.begin().key() == "equals-ignore-case") {
    const Json& s = v.begin().value();
    if (!s.is_string()) return Fail("equals-ignore-case match pattern must be a string");
    c.op = ignore_case;
    c.text = ToLower(s.get<std::string>());
    return std::nullopt;
  }
  if (!v.is_string()) return Fail(name + " match pattern must be a string");
  c.op = plain;
  c.text = v.get<std::string>();
  return std::nullopt;
}

std::optional<Reason> ParseAnythingBut(const Json& v, Condition& c) {
  if (v.is_string() || v.is_number()) {
    c.op = Op::kAnythingBut;
    c.values = {v};
    return std::nullopt;
  }
  if (v.is_array()) {
    if (v.empty()) return Fail("Empty arrays are not allowed");
    for (const auto& e : v) {
      if (!e.is_string() && !e.is_number()) {
        return Fail("Inside anything but list, start|null|boolean is not supported.");
      }
    }
    c.op = Op::kAnythingBut;
    c.values = v.get<std::vector<Json>>();
    return std::nullopt;
  }
  if (v.is_object()) {
    if (v.empty()) return Fail("Empty objects are not allowed");
    const std::string& key = v.begin().key();
    const Json& inner = v.begin().value();
    if (key == "prefix") {
      if (!inner.is_string()) return Fail("prefix match pattern must be a string");
      c.op = Op::kAnythingButPrefix;
      c.text = inner.get<std::string>();
    } else if (key == "equals-ignore-case") {
      if (inner.is_string()) {
        c.values = {ToLower(inner.get<std::string>())};
      } else if (inner.is_array() && !inner.empty()) {
        for (const auto& e : inner) {
          if (!e.is_string()) return Fail("equals-ignore-case match pattern must be a string");
          c.values.push_back(ToLower(e.get<std::string>()));
        }
      } else {
        return Fail("equals-ignore-case match pattern must be a string");
      }
      c.op = Op::kAnythingButIgnoreCase;
    } else {
      return Fail("Unsupported anything-but pattern: " + key);
    }
    if (v.size() > 1) return Fail("Only one key allowed in match expression");
    return std::nullopt;
  }
  return Fail("Value of anything-but must be an array or single string/number value.");
}

std::string NumberText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::optional<Reason> ParseNumeric(const Json& v, Condition& c) {
  if (!v.is_array()) return Fail("Value of numeric must be an array.");
  c.op = Op::kNumeric;
  size_t i = 0;
  auto op_name = [](const std::string& op) { return op == "=" ? std::string("equals") : op; };
  if (v.empty()) return Fail("Invalid member in numeric match: ]");
  if (!v[0].is_string()) return Fail("Invalid member in numeric match: " + NumberText(v[0]));
  std::string op = v[0].get<std::string>();
  if (op != "=" && op != "<" && op != "<=" && op != ">" && op != ">=") {
    return Fail("Unrecognized numeric range operator: " + op);
  }
  if (v.size() < 2 || !v[1].is_number()) return Fail("Value of " + op_name(op) + " must be numeric");
  double n = v[1].get<double>();
  i = 2;
  if (op == "=") {
    c.has_low = c.has_high = c.low_inclusive = c.high_inclusive = true;
    c.low = c.high = n;
    if (v.size() > i) return Fail("Too many elements in numeric expression");
    return std::nullopt;
  }
  if (op == "<" || op == "<=") {
    c.has_high = true;
    c.high = n;
    c.high_inclusive = op == "<=";
    if (v.size() > i) return Fail("Too many elements in numeric expression");
    return std::nullopt;
  }
  c.has_low = true;
  c.low = n;
  c.low_inclusive = op == ">=";
  if (v.size() == i) return std::nullopt;
  if (!v[i].is_string()) return Fail("Bad value in numeric range: " + NumberText(v[i]));
  std::string op2 = v[i].get<std::string>();
  if (op2 != "<" && op2 != "<=") return Fail("Bad numeric range operator: " + op2);
  if (v.size() < i + 2 || !v[i + 1].is_number()) return Fail("Value of " + op2 + " must be numeric");
  c.has_high = true;
  c.high = v[i + 1].get<double>();
  c.high_inclusive = op2 == "<=";
  if (v.size() > i + 2) return Fail("Too many terms in numeric range expression");
  if (c.low >= c.high) return Fail("Bottom must be less than top");
  return std::nullopt;
}

std::optional<Reason> ParseCondition(const Json& v, Condition& c) {
  if (v.is_string()) {
    c.op = Op::kExactString;
    c.text = v.get<std::string>();
    return std::nullopt;
  }
  if (v.is_number()) {
    c.op = Op::kExactNumber;
    c.number = v.get<double>();
    return std::nullopt;
  }
  if (v.is_boolean()) {
    c.op = Op::kExactBool;
    c.flag = v.get<bool>();
    return std::nullopt;
  }
  if (v.is_null()) {
    c.op = Op::kExactNull;
    return std::nullopt;
  }
  if (v.is_array()) return Fail("Match value must be String, number, true, false, or null");
  if (v.empty()) return Fail("Empty objects are not allowed");
  const std::string& key = v.begin().key();
  const Json& arg = v.begin().value();
  std::optional<Reason> r;
  if (key == "prefix") {
    r = ParseAffix("prefix", arg, c, Op::kPrefix, Op::kPrefixIgnoreCase);
  } else if (key == "suffix") {
    r = ParseAffix("suffix", arg, c, Op::kSuffix, Op::kSuffixIgnoreCase);
  } else if (key == "equals-ignore-case") {
    if (!arg.is_string()) return Fail("equals-ignore-case match pattern must be a string");
    c.op = Op::kEqualsIgnoreCase;
    c.text = ToLower(arg.get<std::string>());
  } else if (key == "anything-but") {
    r = ParseAnythingBut(arg, c);
  } else if (key == "numeric") {
    r = ParseNumeric(arg, c);
  } else if (key == "exists") {
    if (!arg.is_boolean()) return Fail("exists match pattern must be either true or false.");
    c.op = Op::kExists;
    c.flag = arg.get<bool>();
  } else if (key == "cidr") {
    r = ParseCidr(arg, c);
  } else {
    return Fail("Unrecognized match type " + key);
  }
  if (r) return r;
  if (v.size() > 1) return Fail("Only one key allowed in match expression");
  return std::nullopt;
}

// One object of the policy (the top level or a nested key's value, or an $or branch), with the
// path and depth it sits at. Produces its alternatives (the $or expansion).
struct Compiler {
  bool nested_seen = false;

  std::optional<Reason> Object(const Json& obj, const std::string& path, int depth,
                               std::vector<Alternative>& out) {
    std::vector<Alternative> alts(1);
    for (const auto& [key, value] : obj.items()) {
      std::vector<Alternative> branch;
      if (key == "$or") {
        if (!value.is_array()) return Fail("\"$or\" must be an object or an array");
        if (value.size() < 2) return Fail("Or relationship must have at least two sub-filters");
        for (const auto& sub : value) {
          if (!sub.is_object()) return Fail("Or relationship must be an array of objects");
          std::vector<Alternative> sub_alts;
          if (auto r = Object(sub, path, depth, sub_alts)) return r;
          branch.insert(branch.end(), sub_alts.begin(), sub_alts.end());
        }
      } else {
        std::string child = path.empty() ? key : path + "." + key;
        if (value.is_object()) {
          nested_seen = true;
          if (auto r = Object(value, child, depth + 1, branch)) return r;
        } else if (value.is_array()) {
          if (value.empty()) return Fail("Empty arrays are not allowed");
          KeyRule rule{child, depth, {}};
          for (const auto& v : value) {
            Condition c;
            if (auto r = ParseCondition(v, c)) return r;
            rule.conditions.push_back(std::move(c));
          }
          branch.push_back(Alternative{std::move(rule)});
        } else {
          return Fail("\"" + key + "\" must be an object or an array");
        }
      }
      // AND: cross product of what we have with the branch's alternatives.
      std::vector<Alternative> next;
      for (const auto& a : alts) {
        for (const auto& b : branch) {
          Alternative m = a;
          m.insert(m.end(), b.begin(), b.end());
          next.push_back(std::move(m));
        }
      }
      alts = std::move(next);
      if (alts.size() > 10000) return Fail("Filter policy is too complex");
    }
    out = std::move(alts);
    return std::nullopt;
  }
};

}  // namespace

class FilterPolicy {
 public:
  FilterScope scope = FilterScope::kMessageAttributes;
  std::vector<Alternative> alternatives;
};

Result<std::shared_ptr<const FilterPolicy>> CompileFilterPolicy(const std::string& text,
                                                                FilterScope scope,
                                                                bool via_subscribe) {
  std::string prefix = std::string("Invalid parameter: ") +
                       (via_subscribe ? "Attributes Reason: " : "");
  auto fail = [&](const std::string& reason) {
    return Error("InvalidParameter", prefix + "FilterPolicy: " + reason);
  };
  Json doc = ParseJsonOrDiscarded(text);
  if (doc.is_discarded()) return fail(ParseErrorMessage(text));
  if (!doc.is_object()) return fail("Filter is not an object");
  Compiler compiler;
  auto policy = std::make_shared<FilterPolicy>();
  policy->scope = scope;
  if (auto r = compiler.Object(doc, "", 1, policy->alternatives)) return fail(r->text);
  if (scope == FilterScope::kMessageAttributes && compiler.nested_seen) {
    return Error("InvalidParameter",
                 prefix + "Filter policy scope MessageAttributes does not support nested filter "
                          "policy");
  }
  double complexity = 0;
  for (const auto& alt : policy->alternatives) {
    if (alt.size() > kMaxKeys) return fail("Filter policy can not have more than 5 keys");
    double product = 1;
    for (const auto& rule : alt) product *= rule.depth * static_cast<double>(rule.conditions.size());
    complexity += product;
  }
  if (complexity > kMaxComplexity) return fail("Filter policy is too complex");
  return std::shared_ptr<const FilterPolicy>(std::move(policy));
}

namespace {

bool InCidr(const Condition& c, const std::string& s) {
  unsigned char addr[16] = {};
  int family = 0;
  if (inet_pton(AF_INET, s.c_str(), addr) == 1) family = 4;
  else if (inet_pton(AF_INET6, s.c_str(), addr) == 1) family = 6;
  if (family != c.family) return false;
  int bits = c.mask_bits;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xFF : static_cast<unsigned char>(0xFF << (8 - bits));
    if ((addr[i] & mask) != (c.net[i] & mask)) return false;
  }
  return true;
}

bool ValueEquals(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

bool MatchOne(const Condition& c, const Json& v) {
  switch (c.op) {
    case Op::kExactString: return v.is_string() && v.get<std::string>() == c.text;
    case Op::kExactNumber: return v.is_number() && v.get<double>() == c.number;
    case Op::kExactBool: return v.is_boolean() && v.get<bool>() == c.flag;
    case Op::kExactNull: return v.is_null();
    case Op::kPrefix: return v.is_string() && StartsWith(v.get<std::string>(), c.text);
    case Op::kPrefixIgnoreCase: return v.is_string() && StartsWith(ToLower(v.get<std::string>()), c.text);
    case Op::kSuffix: return v.is_string() && EndsWith(v.get<std::string>(), c.text);
    case Op::kSuffixIgnoreCase: return v.is_string() && EndsWith(ToLower(v.get<std::string>()), c.text);
    case Op::kEqualsIgnoreCase: return v.is_string() && ToLower(v.get<std::string>()) == c.text;
    case Op::kAnythingBut:
      if (!v.is_string() && !v.is_number()) return false;
      for (const auto& x : c.values) {
        if (ValueEquals(x, v)) return false;
      }
      return true;
    case Op::kAnythingButPrefix: return v.is_string() && !StartsWith(v.get<std::string>(), c.text);
    case Op::kAnythingButIgnoreCase:
      if (!v.is_string()) return false;
      for (const auto& x : c.values) {
        if (x.get<std::string>() == ToLower(v.get<std::string>())) return false;
      }
      return true;
    case Op::kNumeric: {
      if (!v.is_number()) return false;
      double n = v.get<double>();
      if (c.has_low && (c.low_inclusive ? n < c.low : n <= c.low)) return false;
      if (c.has_high && (c.high_inclusive ? n > c.high : n >= c.high)) return false;
      return true;
    }
    case Op::kCidr: return v.is_string() && InCidr(c, v.get<std::string>());
    case Op::kExists: return false;
  }
  return false;
}

bool MatchRule(const KeyRule& rule, const std::vector<Json>* values) {
  bool present = values != nullptr && !values->empty();
  for (const auto& c : rule.conditions) {
    if (c.op == Op::kExists) {
      if (c.flag == present) return true;
      continue;
    }
    if (!present) continue;
    for (const auto& v : *values) {
      if (MatchOne(c, v)) return true;
    }
  }
  return false;
}

void Flatten(const Json& v, const std::string& path, std::map<std::string, std::vector<Json>>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) Flatten(child, path.empty() ? k : path + "." + k, out);
  } else if (v.is_array()) {
    for (const auto& e : v) Flatten(e, path, out);
  } else {
    out[path].push_back(v);
  }
}

}  // namespace

bool MatchesFilterPolicy(const FilterPolicy& policy, const Json& attributes,
                         const std::string& body) {
  std::map<std::string, std::vector<Json>> values;
  if (policy.scope == FilterScope::kMessageBody) {
    Json doc = ParseJsonOrDiscarded(body);
    if (!doc.is_object()) return false;
    Flatten(doc, "", values);
  } else if (attributes.is_object()) {
    for (const auto& [name, a] : attributes.items()) {
      std::string type = a.value("DataType", "");
      std::string text = a.value("StringValue", "");
      auto& list = values[name];
      if (StartsWith(type, "String.Array")) {
        Json arr = ParseJsonOrDiscarded(text);
        if (arr.is_array()) {
          for (const auto& e : arr) list.push_back(e);
        }
      } else if (StartsWith(type, "Number")) {
        if (auto d = ParseDouble(text)) list.push_back(*d);
      } else if (StartsWith(type, "String")) {
        list.push_back(text);
      } else {
        list.push_back(Json::object());  // Binary: present, matches only exists
      }
    }
  }
  if (policy.alternatives.empty()) return true;
  for (const auto& alt : policy.alternatives) {
    bool all = true;
    for (const auto& rule : alt) {
      auto it = values.find(rule.path);
      if (!MatchRule(rule, it == values.end() ? nullptr : &it->second)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace stratus::services::sns
