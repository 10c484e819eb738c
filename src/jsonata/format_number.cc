// $formatNumber: XPath F&O 3.1 section 4.7 (fn:format-number) picture strings.
#include <cmath>
#include <numeric>

#include "jsonata/functions.h"
#include "jsonata/number_format.h"

namespace stratus::jsonata::internal {

namespace {

struct Props {
  char32_t decimal = U'.', grouping = U',', exponent = U'e', percent = U'%', permille = 0x2030, zero = U'0',
           digit = U'#', pattern = U';';
  std::u32string minus = U"-";
};

struct Parts {
  std::u32string prefix, suffix, active, mantissa, exponent, integer, fractional, sub;
  bool has_exponent = false;
};

struct Pic {
  std::vector<int> int_groups;
  int regular = 0;
  int min_int = 0;
  int scaling = 0;
  std::u32string prefix, suffix, picture;
  std::vector<int> frac_groups;
  int min_frac = 0, max_frac = 0, min_exp = 0;
};

size_t Find(const std::u32string& s, char32_t c, size_t from = 0) { return s.find(c, from); }

}  // namespace

Value FnFormatNumber(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double value = Arg(a, 0).AsNumber();
  Props p;
  if (Arg(a, 2).IsObject()) {
    for (const auto& [k, v] : Arg(a, 2).AsObject().entries) {
      if (!v.IsString()) continue;
      std::u32string s = ToU32(v.AsString());
      char32_t c = s.empty() ? 0 : s[0];
      if (k == "decimal-separator") p.decimal = c;
      else if (k == "grouping-separator") p.grouping = c;
      else if (k == "exponent-separator") p.exponent = c;
      else if (k == "percent") p.percent = c;
      else if (k == "per-mille") p.permille = c;
      else if (k == "zero-digit") p.zero = c;
      else if (k == "digit") p.digit = c;
      else if (k == "pattern-separator") p.pattern = c;
      else if (k == "minus-sign") p.minus = s;
    }
  }
  auto is_digit = [&](char32_t c) { return c >= p.zero && c <= p.zero + 9; };
  auto is_active = [&](char32_t c) {
    return is_digit(c) || c == p.decimal || c == p.exponent || c == p.grouping || c == p.digit || c == p.pattern;
  };
  std::u32string picture = ToU32(RequireString(a, 1));
  std::vector<std::u32string> subs;
  {
    size_t start = 0;
    for (;;) {
      size_t i = picture.find(p.pattern, start);
      if (i == std::u32string::npos) {
        subs.push_back(picture.substr(start));
        break;
      }
      subs.push_back(picture.substr(start, i - start));
      start = i + 1;
    }
  }
  if (subs.size() > 2) ThrowError("D3080");

  auto split = [&](const std::u32string& sub) {
    Parts r;
    r.sub = sub;
    size_t pre = 0;  // no active character at all: everything is the active part
    for (size_t i = 0; i < sub.size(); ++i) {
      if (is_active(sub[i]) && sub[i] != p.exponent) {
        pre = i;
        break;
      }
    }
    r.prefix = sub.substr(0, pre);
    size_t suf_start = sub.size();
    for (size_t i = sub.size(); i-- > 0;) {
      if (is_active(sub[i]) && sub[i] != p.exponent) {
        suf_start = i + 1;
        break;
      }
    }
    r.suffix = sub.substr(suf_start);
    size_t active_len = sub.size() >= r.prefix.size() + r.suffix.size() ? sub.size() - r.prefix.size() - r.suffix.size() : 0;
    r.active = sub.substr(r.prefix.size(), active_len);
    size_t exp_pos = Find(sub, p.exponent, r.prefix.size());
    if (exp_pos == std::u32string::npos || exp_pos > sub.size() - r.suffix.size()) {
      r.mantissa = r.active;
    } else {
      r.mantissa = r.active.substr(0, std::min(exp_pos, r.active.size()));
      r.exponent = exp_pos + 1 <= r.active.size() ? r.active.substr(exp_pos + 1) : U"";
      r.has_exponent = true;
    }
    size_t dec = Find(r.mantissa, p.decimal);
    if (dec == std::u32string::npos) {
      r.integer = r.mantissa;
      r.fractional = r.suffix;
    } else {
      r.integer = r.mantissa.substr(0, dec);
      r.fractional = r.mantissa.substr(dec + 1);
    }
    return r;
  };

  auto count = [](const std::u32string& s, char32_t c) {
    return static_cast<int>(std::count(s.begin(), s.end(), c));
  };
  auto validate = [&](const Parts& r) {
    const char* err = nullptr;
    const std::u32string& sub = r.sub;
    size_t dec = Find(sub, p.decimal);
    if (count(sub, p.decimal) > 1) err = "D3081";
    if (count(sub, p.percent) > 1) err = "D3082";
    if (count(sub, p.permille) > 1) err = "D3083";
    if (count(sub, p.percent) > 0 && count(sub, p.permille) > 0) err = "D3084";
    bool valid = false;
    for (char32_t c : r.mantissa) valid = valid || is_digit(c) || c == p.digit;
    if (!valid) err = "D3085";
    for (char32_t c : r.active) {
      if (!is_active(c)) err = "D3086";
    }
    if (dec != std::u32string::npos) {
      if ((dec > 0 && sub[dec - 1] == p.grouping) || (dec + 1 < sub.size() && sub[dec + 1] == p.grouping)) err = "D3087";
    } else if (!r.integer.empty() && r.integer.back() == p.grouping) {
      err = "D3088";
    }
    for (size_t i = 0; i + 1 < sub.size(); ++i) {
      if (sub[i] == p.grouping && sub[i + 1] == p.grouping) err = "D3089";
    }
    size_t opt = Find(r.integer, p.digit);
    if (opt != std::u32string::npos) {
      for (size_t i = 0; i < opt; ++i) {
        if (is_digit(r.integer[i])) err = "D3090";
      }
    }
    size_t lopt = r.fractional.rfind(p.digit);
    if (lopt != std::u32string::npos) {
      for (size_t i = lopt; i < r.fractional.size(); ++i) {
        if (is_digit(r.fractional[i])) err = "D3091";
      }
    }
    if (r.has_exponent && !r.exponent.empty() && (count(sub, p.percent) > 0 || count(sub, p.permille) > 0)) err = "D3092";
    if (r.has_exponent) {
      bool bad = r.exponent.empty();
      for (char32_t c : r.exponent) bad = bad || !is_digit(c);
      if (bad) err = "D3093";
    }
    if (err != nullptr) ThrowError(err);
  };

  auto analyse = [&](const Parts& r) {
    Pic pic;
    auto grouping_positions = [&](const std::u32string& part, bool to_left) {
      std::vector<int> pos;
      size_t g = Find(part, p.grouping);
      while (g != std::u32string::npos) {
        std::u32string side = to_left ? part.substr(0, g) : part.substr(g);
        int n = 0;
        for (char32_t c : side) n += (is_digit(c) || c == p.digit) ? 1 : 0;
        pos.push_back(n);
        g = Find(r.integer, p.grouping, g + 1);
      }
      return pos;
    };
    pic.int_groups = grouping_positions(r.integer, false);
    if (!pic.int_groups.empty()) {
      int factor = 0;
      for (int x : pic.int_groups) factor = std::gcd(factor, x);
      bool reg = factor > 0;
      for (size_t i = 1; reg && i <= pic.int_groups.size(); ++i) {
        reg = std::find(pic.int_groups.begin(), pic.int_groups.end(), static_cast<int>(i) * factor) != pic.int_groups.end();
      }
      pic.regular = reg ? factor : 0;
    }
    pic.frac_groups = grouping_positions(r.fractional, true);
    for (char32_t c : r.integer) pic.min_int += is_digit(c) ? 1 : 0;
    pic.scaling = pic.min_int;
    for (char32_t c : r.fractional) {
      pic.min_frac += is_digit(c) ? 1 : 0;
      pic.max_frac += (is_digit(c) || c == p.digit) ? 1 : 0;
    }
    if (pic.min_int == 0 && pic.max_frac == 0) {
      if (r.has_exponent) {
        pic.min_frac = 1;
        pic.max_frac = 1;
      } else {
        pic.min_int = 1;
      }
    }
    if (r.has_exponent && pic.min_int == 0 && Find(r.integer, p.digit) != std::u32string::npos) pic.min_int = 1;
    if (pic.min_int == 0 && pic.min_frac == 0) pic.min_frac = 1;
    if (r.has_exponent) {
      for (char32_t c : r.exponent) pic.min_exp += is_digit(c) ? 1 : 0;
    }
    pic.prefix = r.prefix;
    pic.suffix = r.suffix;
    pic.picture = r.sub;
    return pic;
  };

  std::vector<Parts> parts;
  for (const auto& s : subs) parts.push_back(split(s));
  for (const auto& r : parts) validate(r);
  std::vector<Pic> pics;
  for (const auto& r : parts) pics.push_back(analyse(r));
  if (pics.size() == 1) {
    pics.push_back(pics[0]);
    pics[1].prefix = p.minus + pics[1].prefix;
  }
  const Pic& pic = value >= 0 ? pics[0] : pics[1];
  double adjusted = value;
  if (Find(pic.picture, p.percent) != std::u32string::npos) {
    adjusted = value * 100;
  } else if (Find(pic.picture, p.permille) != std::u32string::npos) {
    adjusted = value * 1000;
  }
  double mantissa = adjusted;
  bool has_exp = false;
  int exponent = 0;
  if (pic.min_exp != 0) {
    has_exp = true;
    double max_m = std::pow(10, pic.scaling);
    double min_m = std::pow(10, pic.scaling - 1);
    const double sign = mantissa < 0 ? -1 : 1;
    mantissa = std::fabs(mantissa);
    while (mantissa < min_m && mantissa != 0) {
      mantissa *= 10;
      exponent -= 1;
    }
    while (mantissa > max_m) {
      mantissa /= 10;
      exponent += 1;
    }
    mantissa *= sign;
  }
  // round half to even at max_frac decimals (the reference's $round)
  double rounded = RoundHalfEven(mantissa, pic.max_frac);

  auto make_string = [&](double v, int dp) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", dp, std::fabs(v));
    std::u32string s = ToU32(buf);
    if (p.zero != U'0') {
      for (auto& c : s) {
        if (c >= U'0' && c <= U'9') c = c - U'0' + p.zero;
      }
    }
    return s;
  };
  std::u32string sv = make_string(rounded, pic.max_frac);
  size_t dot = sv.find(U'.');
  if (dot == std::u32string::npos) {
    sv.push_back(p.decimal);
  } else {
    sv[dot] = p.decimal;
  }
  while (!sv.empty() && sv.front() == p.zero) sv.erase(0, 1);
  while (!sv.empty() && sv.back() == p.zero) sv.pop_back();
  size_t dp = Find(sv, p.decimal);
  int pad_left = pic.min_int - static_cast<int>(dp);
  int pad_right = pic.min_frac - static_cast<int>(sv.size() - dp - 1);
  if (pad_left > 0) sv.insert(0, static_cast<size_t>(pad_left), p.zero);
  if (pad_right > 0) sv.append(static_cast<size_t>(pad_right), p.zero);
  dp = Find(sv, p.decimal);
  if (pic.regular > 0) {
    int groups = (static_cast<int>(dp) - 1) / pic.regular;
    for (int g = 1; g <= groups; ++g) sv.insert(dp - static_cast<size_t>(g * pic.regular), 1, p.grouping);
  } else {
    for (int pos : pic.int_groups) {
      if (static_cast<size_t>(pos) > dp) continue;
      sv.insert(dp - static_cast<size_t>(pos), 1, p.grouping);
      ++dp;
    }
  }
  dp = Find(sv, p.decimal);
  for (int pos : pic.frac_groups) {
    size_t at = static_cast<size_t>(pos) + dp + 1;
    if (at <= sv.size()) sv.insert(at, 1, p.grouping);
  }
  dp = Find(sv, p.decimal);
  if (pic.min_frac == 0 && dp == sv.size() - 1) sv.pop_back();
  if (has_exp) {
    std::u32string se = make_string(exponent, 0);
    int pl = pic.min_exp - static_cast<int>(se.size());
    if (pl > 0) se.insert(0, static_cast<size_t>(pl), p.zero);
    sv.push_back(p.exponent);
    if (exponent < 0) sv += p.minus;
    sv += se;
  }
  sv = pic.prefix + sv + pic.suffix;
  return MakeString(FromU32(sv));
}

}  // namespace stratus::jsonata::internal
