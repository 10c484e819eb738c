#include "identity/policy/condition.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "core/strings.h"
#include "core/time_format.h"

namespace stratus::identity::policy {

namespace {

struct OperatorInfo {
  std::string_view name;
  Operator op;
};

constexpr std::array<OperatorInfo, 27> kOperators = {{
    {"StringEquals", Operator::kStringEquals},
    {"StringNotEquals", Operator::kStringNotEquals},
    {"StringEqualsIgnoreCase", Operator::kStringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", Operator::kStringNotEqualsIgnoreCase},
    {"StringLike", Operator::kStringLike},
    {"StringNotLike", Operator::kStringNotLike},
    {"NumericEquals", Operator::kNumericEquals},
    {"NumericNotEquals", Operator::kNumericNotEquals},
    {"NumericLessThan", Operator::kNumericLessThan},
    {"NumericLessThanEquals", Operator::kNumericLessThanEquals},
    {"NumericGreaterThan", Operator::kNumericGreaterThan},
    {"NumericGreaterThanEquals", Operator::kNumericGreaterThanEquals},
    {"DateEquals", Operator::kDateEquals},
    {"DateNotEquals", Operator::kDateNotEquals},
    {"DateLessThan", Operator::kDateLessThan},
    {"DateLessThanEquals", Operator::kDateLessThanEquals},
    {"DateGreaterThan", Operator::kDateGreaterThan},
    {"DateGreaterThanEquals", Operator::kDateGreaterThanEquals},
    {"Bool", Operator::kBool},
    {"BinaryEquals", Operator::kBinaryEquals},
    {"IpAddress", Operator::kIpAddress},
    {"NotIpAddress", Operator::kNotIpAddress},
    {"ArnEquals", Operator::kArnEquals},
    {"ArnLike", Operator::kArnLike},
    {"ArnNotEquals", Operator::kArnNotEquals},
    {"ArnNotLike", Operator::kArnNotLike},
    {"Null", Operator::kNull},
}};

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

enum class Family { kString, kNumeric, kDate, kBool, kBinary, kIp, kArn, kNull };

Family FamilyOf(Operator op) {
  switch (op) {
    case Operator::kStringEquals:
    case Operator::kStringNotEquals:
    case Operator::kStringEqualsIgnoreCase:
    case Operator::kStringNotEqualsIgnoreCase:
    case Operator::kStringLike:
    case Operator::kStringNotLike: return Family::kString;
    case Operator::kNumericEquals:
    case Operator::kNumericNotEquals:
    case Operator::kNumericLessThan:
    case Operator::kNumericLessThanEquals:
    case Operator::kNumericGreaterThan:
    case Operator::kNumericGreaterThanEquals: return Family::kNumeric;
    case Operator::kDateEquals:
    case Operator::kDateNotEquals:
    case Operator::kDateLessThan:
    case Operator::kDateLessThanEquals:
    case Operator::kDateGreaterThan:
    case Operator::kDateGreaterThanEquals: return Family::kDate;
    case Operator::kBool: return Family::kBool;
    case Operator::kBinaryEquals: return Family::kBinary;
    case Operator::kIpAddress:
    case Operator::kNotIpAddress: return Family::kIp;
    case Operator::kArnEquals:
    case Operator::kArnLike:
    case Operator::kArnNotEquals:
    case Operator::kArnNotLike: return Family::kArn;
    case Operator::kNull: return Family::kNull;
  }
  return Family::kString;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  size_t dots = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '-' && i == 0) continue;
    if (c == '.') {
      ++dots;
      continue;
    }
    if (c < '0' || c > '9') return false;
  }
  return dots <= 1;
}

bool InNetwork(const uint8_t (&addr)[16], const ConditionValue& net) {
  int bits = net.prefix_bits;
  int full = bits / 8;
  if (std::memcmp(addr, net.ip, static_cast<size_t>(full)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (addr[full] & mask) == (net.ip[full] & mask);
}

// Does the single request value `v` match `policy_value` under the positive form of `op`?
bool PositiveMatch(Operator op, std::string_view v, const ConditionValue& pv,
                   const RequestContext* context, bool variables) {
  Family family = FamilyOf(op);
  std::string resolved_storage;
  std::string_view pattern = pv.text;
  bool dynamic = variables && pv.has_variables;
  if (dynamic) {
    auto r = ResolveVariables(pv.text, context);
    if (!r) return false;
    resolved_storage = std::move(*r);
    pattern = resolved_storage;
  }
  switch (family) {
    case Family::kString:
      switch (op) {
        case Operator::kStringEquals:
        case Operator::kStringNotEquals: return v == pattern;
        case Operator::kStringEqualsIgnoreCase:
        case Operator::kStringNotEqualsIgnoreCase: return IEquals(v, pattern);
        default: return dynamic ? GlobMatch(pattern, v) : pv.glob.Matches(v);
      }
    case Family::kNumeric: {
      if (!pv.number_ok) return false;
      auto n = ParseDouble(v);
      if (!n) return false;
      switch (op) {
        case Operator::kNumericEquals:
        case Operator::kNumericNotEquals: return *n == pv.number;
        case Operator::kNumericLessThan: return *n < pv.number;
        case Operator::kNumericLessThanEquals: return *n <= pv.number;
        case Operator::kNumericGreaterThan: return *n > pv.number;
        default: return *n >= pv.number;
      }
    }
    case Family::kDate: {
      if (!pv.number_ok) return false;
      auto d = ParsePolicyDate(v);
      if (!d) return false;
      switch (op) {
        case Operator::kDateEquals:
        case Operator::kDateNotEquals: return *d == pv.number;
        case Operator::kDateLessThan: return *d < pv.number;
        case Operator::kDateLessThanEquals: return *d <= pv.number;
        case Operator::kDateGreaterThan: return *d > pv.number;
        default: return *d >= pv.number;
      }
    }
    case Family::kBool: return IEquals(v, pattern);
    case Family::kBinary: return v == pattern;
    case Family::kIp: {
      if (pv.prefix_bits < 0) return false;
      uint8_t addr[16];
      int bits = 0;
      if (!ParseIpNetwork(v, addr, bits) || bits != 128) return false;
      return InNetwork(addr, pv);
    }
    case Family::kArn: {
      std::string_view f[5], r;
      if (!SplitArn(v, f, r)) return false;
      if (dynamic) return ResourcePattern::Compile(pattern).Matches(v);
      return pv.arn.Matches(v);
    }
    case Family::kNull: return false;
  }
  return false;
}

// The per-value test: positive operators match when any policy value matches; negated ones when
// none does.
bool ValueTest(const Condition& c, std::string_view v, const RequestContext* context,
               bool variables) {
  bool any = false;
  for (const auto& pv : c.values) {
    if (PositiveMatch(c.op, v, pv, context, variables)) {
      any = true;
      break;
    }
  }
  return IsNegated(c.op) ? !any : any;
}

}  // namespace

std::optional<ParsedOperator> ParseOperator(std::string_view name) {
  ParsedOperator p;
  if (IStartsWith(name, "ForAllValues:")) {
    p.qualifier = SetQualifier::kForAllValues;
    name.remove_prefix(13);
  } else if (IStartsWith(name, "ForAnyValue:")) {
    p.qualifier = SetQualifier::kForAnyValue;
    name.remove_prefix(12);
  }
  constexpr std::string_view kIfExists = "IfExists";
  if (name.size() > kIfExists.size() &&
      IEquals(name.substr(name.size() - kIfExists.size()), kIfExists)) {
    p.if_exists = true;
    name.remove_suffix(kIfExists.size());
  }
  for (const auto& info : kOperators) {
    if (IEquals(info.name, name)) {
      p.op = info.op;
      if (p.op == Operator::kNull && p.if_exists) return std::nullopt;  // no NullIfExists
      return p;
    }
  }
  return std::nullopt;
}

std::string_view OperatorName(Operator op) {
  for (const auto& info : kOperators) {
    if (info.op == op) return info.name;
  }
  return "?";
}

bool IsNegated(Operator op) {
  switch (op) {
    case Operator::kStringNotEquals:
    case Operator::kStringNotEqualsIgnoreCase:
    case Operator::kStringNotLike:
    case Operator::kNumericNotEquals:
    case Operator::kDateNotEquals:
    case Operator::kNotIpAddress:
    case Operator::kArnNotEquals:
    case Operator::kArnNotLike: return true;
    default: return false;
  }
}

bool AcceptsVariables(Operator op) {
  Family f = FamilyOf(op);
  return f == Family::kString || f == Family::kArn;
}

bool ParseIpNetwork(std::string_view text, uint8_t (&bytes)[16], int& prefix_bits) {
  std::memset(bytes, 0, 16);
  std::string_view addr = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto n = ParseInt64(text.substr(slash + 1));
    if (!n || *n < 0 || *n > 128) return false;
    prefix = static_cast<int>(*n);
    addr = text.substr(0, slash);
  }
  if (addr.empty() || addr.size() > 45) return false;
  char buf[64];
  std::memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = '\0';
  if (addr.find(':') == std::string_view::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, buf, &v4) != 1) return false;
    if (prefix > 32) return false;
    bytes[10] = 0xFF;
    bytes[11] = 0xFF;
    std::memcpy(bytes + 12, &v4, 4);
    prefix_bits = prefix < 0 ? 128 : 96 + prefix;
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) != 1) return false;
  std::memcpy(bytes, &v6, 16);
  prefix_bits = prefix < 0 ? 128 : prefix;
  return true;
}

std::optional<double> ParsePolicyDate(std::string_view text) {
  text = Trim(text);
  if (IsDigits(text)) return ParseDouble(text);
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    return ParseIso8601(std::string(text) + "T00:00:00Z");
  }
  if (auto d = ParseIso8601(text)) return d;
  // "2024-01-02T03:04Z" (no seconds), as some policies write it.
  if (text.size() >= 16 && text[13] == ':' && (text.size() == 16 || text[16] != ':')) {
    std::string with_seconds = std::string(text.substr(0, 16)) + ":00" + std::string(text.substr(16));
    return ParseIso8601(with_seconds);
  }
  return std::nullopt;
}

ConditionValue CompileConditionValue(Operator op, std::string_view text, bool variables) {
  ConditionValue v;
  v.text.assign(text);
  v.has_variables = variables && AcceptsVariables(op) && text.find("${") != std::string_view::npos;
  switch (FamilyOf(op)) {
    case Family::kString:
      if (!v.has_variables) v.glob = Glob::Compile(text, false);
      break;
    case Family::kNumeric:
      if (auto n = ParseDouble(Trim(text))) {
        v.number = *n;
        v.number_ok = true;
      }
      break;
    case Family::kDate:
      if (auto d = ParsePolicyDate(text)) {
        v.number = *d;
        v.number_ok = true;
      }
      break;
    case Family::kIp: {
      int bits = -1;
      if (ParseIpNetwork(Trim(text), v.ip, bits)) v.prefix_bits = bits;
      break;
    }
    case Family::kArn:
      if (!v.has_variables) v.arn = ResourcePattern::Compile(text);
      break;
    default: break;
  }
  return v;
}

std::optional<std::string> ResolveVariables(std::string_view text, const RequestContext* context) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("${", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    std::string_view inner = Trim(text.substr(open + 2, close - open - 2));
    pos = close + 1;
    if (inner == "*" || inner == "?" || inner == "$") {
      out.append(inner);
      continue;
    }
    std::optional<std::string_view> fallback;
    if (auto comma = inner.find(','); comma != std::string_view::npos) {
      std::string_view def = Trim(inner.substr(comma + 1));
      inner = Trim(inner.substr(0, comma));
      if (def.size() >= 2 && def.front() == '\'' && def.back() == '\'') {
        fallback = def.substr(1, def.size() - 2);
      }
    }
    const ContextValue* value = context ? context->Find(ToLower(inner)) : nullptr;
    if (value && !value->multivalued && !value->values.empty()) {
      out.append(value->values.front());
    } else if (fallback) {
      out.append(*fallback);
    } else {
      return std::nullopt;
    }
  }
  out.append(text.substr(pos));
  return out;
}

bool EvaluateCondition(const Condition& c, const RequestContext* context, bool variables) {
  const ContextValue* value = context ? context->Find(c.key) : nullptr;
  if (c.op == Operator::kNull) {
    bool absent = value == nullptr || (value->multivalued && value->values.empty());
    for (const auto& pv : c.values) {
      if (IEquals(pv.text, absent ? "true" : "false")) return true;
    }
    return false;
  }
  switch (c.qualifier) {
    case SetQualifier::kNone:
      if (!value) return c.if_exists || IsNegated(c.op);
      if (value->multivalued || value->values.size() != 1) return false;
      return ValueTest(c, value->values.front(), context, variables);
    case SetQualifier::kForAllValues:
      if (!value) return true;
      for (const auto& v : value->values) {
        if (!ValueTest(c, v, context, variables)) return false;
      }
      return true;
    case SetQualifier::kForAnyValue:
      if (!value) return c.if_exists;
      for (const auto& v : value->values) {
        if (ValueTest(c, v, context, variables)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace stratus::identity::policy
