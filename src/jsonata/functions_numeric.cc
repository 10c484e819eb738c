// Numeric and aggregation functions.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>

#include "core/random.h"
#include "jsonata/functions.h"

namespace stratus::jsonata::internal {

namespace {

double Num(const Args& a, size_t i) { return Arg(a, i).AsNumber(); }

Value FnNumber(Evaluator&, Args& a, const CallSite&) {
  const Value& v = Arg(a, 0);
  if (v.IsUndefined()) return Value();
  if (v.IsNumber()) return v;
  if (v.IsBool()) return Value::Number(v.AsBool() ? 1 : 0);
  if (v.IsString()) {
    const std::string& s = v.AsString();
    // -?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?
    size_t i = 0;
    if (i < s.size() && s[i] == '-') ++i;
    size_t d0 = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    bool ok = i > d0;
    if (ok && i < s.size() && s[i] == '.') {
      size_t f0 = ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      ok = i > f0;
    }
    if (ok && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      size_t e0 = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      ok = i > e0;
    }
    if (ok && i == s.size()) {
      double d = std::strtod(s.c_str(), nullptr);
      if (std::isfinite(d)) return Value::Number(d);
    }
    if (s.size() > 2 && s[0] == '0') {
      int base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : (s[1] == 'b' || s[1] == 'B') ? 2 : 0;
      if (base != 0) {
        double r = 0;
        bool valid = true;
        for (size_t k = 2; k < s.size(); ++k) {
          char c = s[k];
          int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
          if (d >= base) {
            valid = false;
            break;
          }
          r = r * base + d;
        }
        if (valid) return Value::Number(r);
      }
    }
  }
  ThrowError("D3030", v);
}

Value FnAbs(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Number(std::fabs(Num(a, 0)));
}
Value FnFloor(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Number(std::floor(Num(a, 0)));
}
Value FnCeil(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Number(std::ceil(Num(a, 0)));
}

}  // namespace

// Shifts the decimal point of x by `places` through its decimal text, as the reference does to
// avoid binary floating point artefacts.
double ShiftDecimalByText(double x, int places) {
  std::string s = NumberToString(x);
  size_t e = s.find('e');
  int exp = places;
  std::string mant = s;
  if (e != std::string::npos) {
    mant = s.substr(0, e);
    exp += std::stoi(s.substr(e + 1));
  }
  std::string t = mant + "e" + std::to_string(exp);
  return std::strtod(t.c_str(), nullptr);
}

// The same value without text: x's shortest decimal digits D and exponent make x = D * 10^p;
// when D <= 2^53 and |p| <= 22 both D and 10^p are exact doubles, so one multiplication or
// division rounds correctly, exactly as parsing the text would.
double ShiftDecimal(double x, int places) {
  if (x == 0) return 0;  // the text of -0 is "0"
  if (!std::isfinite(x)) return x;
  constexpr int kMaxDigits = 17;  // shortest round-trip digits of a double (fit an int64)
  constexpr int kMaxExactPow10 = 22;
  static constexpr double kPow10[kMaxExactPow10 + 1] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                         1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                         1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  constexpr double kMaxExactInteger = 1e15;  // its digits are its shortest text (< 2^53)
  if (std::fabs(x) < kMaxExactInteger && std::floor(x) == x && places <= kMaxExactPow10 &&
      places >= -kMaxExactPow10) {
    return places >= 0 ? x * kPow10[places] : x / kPow10[-places];
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  const char* p = buf;
  const bool neg = *p == '-';
  if (neg) ++p;
  int64_t digits = 0;
  int k = 0;
  while (p < r.ptr && *p != 'e') {
    if (*p != '.') {
      digits = digits * 10 + (*p - '0');
      ++k;
    }
    ++p;
  }
  ++p;  // 'e'
  const bool exp_neg = *p == '-';
  ++p;  // sign
  int exp = 0;
  std::from_chars(p, r.ptr, exp);
  if (exp_neg) exp = -exp;
  const int pow = exp - (k - 1) + places;
  constexpr int64_t kMaxExactDigitValue = int64_t{1} << 53;  // every integer up to it is a double
  if (k > kMaxDigits || digits > kMaxExactDigitValue || pow > kMaxExactPow10 || pow < -kMaxExactPow10) {
    return ShiftDecimalByText(x, places);
  }
  const double d = static_cast<double>(digits);
  const double v = pow >= 0 ? d * kPow10[pow] : d / kPow10[-pow];
  return neg ? -v : v;
}

double RoundHalfEven(double x, int precision) {
  if (precision != 0) x = ShiftDecimal(x, precision);
  double r = std::floor(x + 0.5);  // Math.round
  double diff = r - x;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;  // half to even
  if (precision != 0) r = ShiftDecimal(r, -precision);
  if (r == 0) r = 0;  // no negative zero
  return r;
}

namespace {

Value FnRound(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  int precision = Arg(a, 1).IsNumber() ? static_cast<int>(Num(a, 1)) : 0;
  return Value::Number(RoundHalfEven(Num(a, 0), precision));
}

Value FnPower(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double r = std::pow(Num(a, 0), Arg(a, 1).IsNumber() ? Num(a, 1) : NAN);
  if (!std::isfinite(r)) {
    JError e("D3061");
    e.value = Arg(a, 0);
    e.value2 = Arg(a, 1);
    throw e;
  }
  return Value::Number(r);
}

Value FnSqrt(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  if (Num(a, 0) < 0) ThrowError("D3060", Arg(a, 0));
  return Value::Number(std::sqrt(Num(a, 0)));
}

Value FnRandom(Evaluator&, Args&, const CallSite&) {
  std::mt19937_64& rng = ThreadRng();
  return Value::Number(std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

Value FnSum(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double total = 0;
  for (const auto& v : Arg(a, 0).AsArray().items) total += v.AsNumber();
  return Value::Number(total);
}

Value FnCount(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value::Number(0);
  return Value::Number(static_cast<double>(Arg(a, 0).AsArray().items.size()));
}

Value FnMax(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined() || Arg(a, 0).AsArray().items.empty()) return Value();
  double m = -INFINITY;
  for (const auto& v : Arg(a, 0).AsArray().items) m = std::max(m, v.AsNumber());
  return Value::Number(m);
}

Value FnMin(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined() || Arg(a, 0).AsArray().items.empty()) return Value();
  double m = INFINITY;
  for (const auto& v : Arg(a, 0).AsArray().items) m = std::min(m, v.AsNumber());
  return Value::Number(m);
}

Value FnAverage(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined() || Arg(a, 0).AsArray().items.empty()) return Value();
  double total = 0;
  for (const auto& v : Arg(a, 0).AsArray().items) total += v.AsNumber();
  return Value::Number(total / static_cast<double>(Arg(a, 0).AsArray().items.size()));
}

}  // namespace

void AddNumericFunctions(std::vector<Builtin>& t) {
  std::vector<Builtin> add = {
      {"number", "<(nsb)-:n>", FnNumber, 1, nullptr},
      {"abs", "<n-:n>", FnAbs, 1, nullptr},
      {"floor", "<n-:n>", FnFloor, 1, nullptr},
      {"ceil", "<n-:n>", FnCeil, 1, nullptr},
      {"round", "<n-n?:n>", FnRound, 2, nullptr},
      {"power", "<n-n:n>", FnPower, 2, nullptr},
      {"sqrt", "<n-:n>", FnSqrt, 1, nullptr},
      {"random", "<:n>", FnRandom, 0, nullptr},
      {"sum", "<a<n>:n>", FnSum, 1, nullptr},
      {"count", "<a:n>", FnCount, 1, nullptr},
      {"max", "<a<n>:n>", FnMax, 1, nullptr},
      {"min", "<a<n>:n>", FnMin, 1, nullptr},
      {"average", "<a<n>:n>", FnAverage, 1, nullptr},
  };
  t.insert(t.end(), add.begin(), add.end());
}

}  // namespace stratus::jsonata::internal
