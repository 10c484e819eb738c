// JSONata's rendering of values as text: JavaScript's Number#toString (NumberToString) and
// the JSON that $string writes (ToJsString). Split from functions_string.cc.
#include <charconv>
#include <cmath>
#include <cstring>

#include "jsonata/functions.h"

namespace stratus::jsonata::internal {

std::string NumberToString(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  char buf[64];
  constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1: exact as an int64
  if (std::fabs(d) <= kMaxSafeInteger && std::floor(d) == d) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(d));
    return std::string(buf, r.ptr);
  }
  // Shortest round-trip digits in scientific form, [-]D[.DDD]e[+-]X, then JavaScript's layout.
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const char* p = buf;
  const bool neg = *p == '-';
  if (neg) ++p;
  char digits[32];
  int k = 0;
  while (p < r.ptr && *p != 'e') {
    if (*p != '.') digits[k++] = *p;
    ++p;
  }
  ++p;  // 'e'
  const bool exp_neg = *p == '-';
  ++p;  // sign
  int exp = 0;
  std::from_chars(p, r.ptr, exp);
  if (exp_neg) exp = -exp;
  const int n = exp + 1;  // position of the decimal point relative to the digits
  std::string out;
  out.reserve(static_cast<size_t>(k) + 26);
  if (neg) out.push_back('-');
  if (k <= n && n <= 21) {
    out.append(digits, static_cast<size_t>(k));
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits + n, static_cast<size_t>(k - n));
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits, static_cast<size_t>(k));
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits + 1, static_cast<size_t>(k - 1));
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

namespace {

// Number(x.toPrecision(15)): what $string prints for numbers.
double Precision15(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.14e", d);
  return std::strtod(buf, nullptr);
}

void JsonQuote(std::string& out, const std::string& s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

constexpr int kMaxStringifyDepth = 10000;

void Stringify(std::string& out, const Value& v, bool pretty, int indent, int depth) {
  if (depth > kMaxStringifyDepth) ThrowError(kCodeLimit);
  CheckStack();
  auto newline = [&](int level) {
    if (!pretty) return;
    out.push_back('\n');
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += v.AsBool() ? "true" : "false";
      return;
    case Kind::kNumber: {
      double d = v.AsNumber();
      if (std::isnan(d)) {
        out += "null";
        return;
      }
      if (!std::isfinite(d)) ThrowError("D1001", v);
      out += NumberToString(Precision15(d));
      return;
    }
    case Kind::kString:
      JsonQuote(out, v.AsString());
      return;
    case Kind::kFunction:
      out += "\"\"";
      return;
    case Kind::kArray:
    case Kind::kTuples: {
      std::vector<Value> tmp;
      const std::vector<Value>* items;
      if (v.IsTuples()) {
        for (const auto& t : v.AsTuples().tuples) tmp.push_back(t.at);
        items = &tmp;
      } else {
        items = &v.AsArray().items;
      }
      if (items->empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const auto& i : *items) {
        if (!first) out.push_back(',');
        first = false;
        newline(indent + 1);
        Stringify(out, i, pretty, indent + 1, depth + 1);
      }
      newline(indent);
      out.push_back(']');
      return;
    }
    case Kind::kObject: {
      bool first = true;
      out.push_back('{');
      for (const auto& [k, m] : v.AsObject().entries) {
        if (m.IsUndefined()) continue;
        if (!first) out.push_back(',');
        first = false;
        newline(indent + 1);
        JsonQuote(out, k);
        out.push_back(':');
        if (pretty) out.push_back(' ');
        Stringify(out, m, pretty, indent + 1, depth + 1);
      }
      if (!first) newline(indent);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string ToJsString(const Value& v, bool pretty) {
  if (v.IsString()) return v.AsString();
  if (v.IsFunction()) return "";
  if (v.IsNumber() && !std::isfinite(v.AsNumber())) ThrowError("D3001", v);
  std::string out;
  const Value* x = &v;
  if (v.IsArray() && v.AsArray().outer_wrapper && !v.AsArray().items.empty()) x = &v.AsArray().items[0];
  Stringify(out, *x, pretty, 0, 0);
  return out;
}

}  // namespace stratus::jsonata::internal
