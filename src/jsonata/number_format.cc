// $formatNumber (XPath F&O 4.7 picture strings), $formatBase, $formatInteger and
// $parseInteger (XPath format-integer pictures: decimal patterns, letters, roman numerals,
// English words, ordinals).
#include "jsonata/number_format.h"

#include <cmath>
#include <numeric>

#include "jsonata/functions.h"

namespace stratus::jsonata::internal {

std::u32string ToU32(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t cp;
    int extra;
    if (c < 0x80) {
      cp = c;
      extra = 0;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      extra = 2;
    } else {
      cp = c & 0x07;
      extra = 3;
    }
    ++i;
    while (extra-- > 0 && i < s.size()) cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
    out.push_back(cp);
  }
  return out;
}

std::string FromU32(const std::u32string& s) {
  std::string out;
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

namespace {

// Zero digits of the Unicode decimal digit families accepted in integer pictures.
constexpr char32_t kDecimalGroups[] = {
    0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

const char* const kFew[] = {"Zero",    "One",     "Two",       "Three",    "Four",     "Five",    "Six",
                            "Seven",   "Eight",   "Nine",      "Ten",      "Eleven",   "Twelve",  "Thirteen",
                            "Fourteen", "Fifteen", "Sixteen",  "Seventeen", "Eighteen", "Nineteen"};
const char* const kOrdinals[] = {"Zeroth",     "First",      "Second",     "Third",       "Fourth",
                                 "Fifth",      "Sixth",      "Seventh",    "Eighth",      "Ninth",
                                 "Tenth",      "Eleventh",   "Twelfth",    "Thirteenth",  "Fourteenth",
                                 "Fifteenth",  "Sixteenth",  "Seventeenth", "Eighteenth", "Nineteenth"};
const char* const kDecades[] = {"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"};
const char* const kMagnitudes[] = {"Thousand", "Million", "Billion", "Trillion"};

std::string Words(double num, bool prev, bool ord) {
  std::string w;
  if (num <= 19) {
    w = std::string(prev ? " and " : "") + (ord ? kOrdinals[static_cast<int>(num)] : kFew[static_cast<int>(num)]);
  } else if (num < 100) {
    int tens = static_cast<int>(num / 10);
    int rem = static_cast<int>(std::fmod(num, 10));
    w = std::string(prev ? " and " : "") + kDecades[tens - 2];
    if (rem > 0) {
      w += "-" + Words(rem, false, ord);
    } else if (ord) {
      w = w.substr(0, w.size() - 1) + "ieth";
    }
  } else if (num < 1000) {
    int hundreds = static_cast<int>(num / 100);
    double rem = std::fmod(num, 100);
    w = std::string(prev ? ", " : "") + kFew[hundreds] + " Hundred";
    if (rem > 0) {
      w += Words(rem, true, ord);
    } else if (ord) {
      w += "th";
    }
  } else {
    int mag = static_cast<int>(std::floor(std::log10(num) / 3));
    if (mag > 4) mag = 4;
    double factor = std::pow(10, mag * 3);
    double mant = std::floor(num / factor);
    double rem = num - mant * factor;
    w = std::string(prev ? ", " : "") + Words(mant, false, false) + " " + kMagnitudes[mag - 1];
    if (rem > 0) {
      w += Words(rem, true, ord);
    } else if (ord) {
      w += "th";
    }
  }
  return w;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

double WordValue(const std::string& w, bool& ok) {
  ok = true;
  for (int i = 0; i < 20; ++i) {
    if (w == Lower(kFew[i]) || w == Lower(kOrdinals[i])) return i;
  }
  for (int i = 0; i < 9; ++i) {
    std::string d = Lower(kDecades[i]);
    if (w == d || w == d.substr(0, d.size() - 1) + "ieth") return (i + 2) * 10;
  }
  if (w == "hundredth") return 100;
  for (int i = 0; i < 4; ++i) {
    std::string m = Lower(kMagnitudes[i]);
    if (w == m || w == m + "th") return std::pow(10, (i + 1) * 3);
  }
  ok = false;
  return 0;
}

}  // namespace

double WordsToNumber(const std::string& text) {
  // split on ", ", " and ", whitespace and '-'
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ',' && i + 1 < text.size() && text[i + 1] == ' ') {
      parts.push_back(cur);
      cur.clear();
      ++i;
    } else if (c == ' ' && text.compare(i, 5, " and ") == 0) {
      parts.push_back(cur);
      cur.clear();
      i += 4;
    } else if (c == ' ' || c == '-' || c == '\t' || c == '\\') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  std::vector<double> segs{0};
  for (const auto& p : parts) {
    bool ok;
    double v = WordValue(p, ok);
    if (!ok) return NAN;
    if (v < 100) {
      double top = segs.back();
      segs.pop_back();
      if (top >= 1000) {
        segs.push_back(top);
        top = 0;
      }
      segs.push_back(top + v);
    } else {
      double top = segs.back();
      segs.pop_back();
      segs.push_back(top * v);
    }
  }
  return std::accumulate(segs.begin(), segs.end(), 0.0);
}

IntegerPicture AnalyseIntegerPicture(const std::string& picture) {
  IntegerPicture f;
  std::string primary = picture;
  size_t semi = picture.rfind(';');
  if (semi != std::string::npos) {
    primary = picture.substr(0, semi);
    std::string mod = picture.substr(semi + 1);
    if (!mod.empty() && mod[0] == 'o') f.ordinal = true;
  }
  if (primary == "A" || primary == "a") {
    f.primary = IntegerPicture::kLetters;
    f.text_case = primary == "A" ? IntegerPicture::kUpper : IntegerPicture::kLower;
    return f;
  }
  if (primary == "I" || primary == "i") {
    f.primary = IntegerPicture::kRoman;
    f.text_case = primary == "I" ? IntegerPicture::kUpper : IntegerPicture::kLower;
    return f;
  }
  if (primary == "W" || primary == "w" || primary == "Ww") {
    f.primary = IntegerPicture::kWords;
    f.text_case = primary == "W" ? IntegerPicture::kUpper : primary == "w" ? IntegerPicture::kLower : IntegerPicture::kTitle;
    return f;
  }
  std::u32string cps = ToU32(primary);
  bool have_zero = false;
  int sep_pos = 0;
  for (auto it = cps.rbegin(); it != cps.rend(); ++it) {
    char32_t cp = *it;
    bool digit = false;
    for (char32_t g : kDecimalGroups) {
      if (cp >= g && cp <= g + 9) {
        digit = true;
        f.mandatory++;
        sep_pos++;
        if (!have_zero) {
          f.zero = g;
          have_zero = true;
        } else if (g != f.zero) {
          ThrowError("D3131");
        }
        break;
      }
    }
    if (!digit) {
      if (cp == U'#') {
        sep_pos++;
        f.optional++;
      } else {
        f.separators.emplace_back(sep_pos, cp);
      }
    }
  }
  if (f.mandatory == 0) {
    f.primary = IntegerPicture::kSequence;
    f.token = primary;
    return f;
  }
  // regular grouping: same character at multiples of one interval
  if (!f.separators.empty()) {
    bool same = true;
    for (const auto& s : f.separators) same = same && s.second == f.separators[0].second;
    if (same) {
      int factor = 0;
      for (const auto& s : f.separators) factor = std::gcd(factor, s.first);
      bool reg = factor > 0;
      for (size_t i = 1; reg && i <= f.separators.size(); ++i) {
        bool found = false;
        for (const auto& s : f.separators) found = found || s.first == static_cast<int>(i) * factor;
        reg = found;
      }
      if (reg) {
        f.regular = true;
        f.regular_position = factor;
        f.regular_char = f.separators[0].second;
      }
    }
  }
  return f;
}

namespace {

std::string Roman(double value) {
  static const std::pair<int, const char*> kNumerals[] = {{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"},
                                                          {100, "c"},  {90, "xc"},  {50, "l"},  {40, "xl"},
                                                          {10, "x"},   {9, "ix"},   {5, "v"},   {4, "iv"},
                                                          {1, "i"}};
  std::string out;
  for (const auto& [v, s] : kNumerals) {
    while (value >= v) {
      out += s;
      value -= v;
    }
  }
  return out;
}

}  // namespace

std::string FormatIntegerWith(double value, const IntegerPicture& f) {
  bool negative = value < 0;
  value = std::fabs(value);
  std::string out;
  switch (f.primary) {
    case IntegerPicture::kLetters: {
      std::string letters;
      char a = f.text_case == IntegerPicture::kUpper ? 'A' : 'a';
      while (value > 0) {
        letters.insert(letters.begin(), static_cast<char>(a + static_cast<int>(std::fmod(value - 1, 26))));
        value = std::floor((value - 1) / 26);
      }
      out = letters;
      break;
    }
    case IntegerPicture::kRoman:
      out = Roman(value);
      if (f.text_case == IntegerPicture::kUpper) out = Upper(out);
      break;
    case IntegerPicture::kWords:
      out = Words(value, false, f.ordinal);
      if (f.text_case == IntegerPicture::kUpper) out = Upper(out);
      if (f.text_case == IntegerPicture::kLower) out = Lower(out);
      break;
    case IntegerPicture::kDecimal: {
      if (f.zero == U'0' && !f.regular && f.separators.empty()) {
        // ASCII digits without grouping (most date components): no UTF-32 round trip.
        out = NumberToString(value);
        if (static_cast<int>(out.size()) < f.mandatory) {
          out.insert(0, static_cast<size_t>(f.mandatory) - out.size(), '0');
        }
      } else {
        std::u32string digits = ToU32(NumberToString(value));
        while (static_cast<int>(digits.size()) < f.mandatory) digits.insert(digits.begin(), U'0');
        if (f.zero != 0x30) {
          for (auto& c : digits) {
            if (c >= U'0' && c <= U'9') c = c - U'0' + f.zero;
          }
        }
        if (f.regular) {
          int n = (static_cast<int>(digits.size()) - 1) / f.regular_position;
          for (int i = n; i > 0; --i) {
            size_t pos = digits.size() - static_cast<size_t>(i * f.regular_position);
            digits.insert(digits.begin() + static_cast<std::ptrdiff_t>(pos), f.regular_char);
          }
        } else {
          for (auto it = f.separators.rbegin(); it != f.separators.rend(); ++it) {
            if (static_cast<size_t>(it->first) > digits.size()) continue;
            size_t pos = digits.size() - static_cast<size_t>(it->first);
            digits.insert(digits.begin() + static_cast<std::ptrdiff_t>(pos), it->second);
          }
        }
        out = FromU32(digits);
      }
      if (f.ordinal) {
        char last = out.empty() ? '0' : out.back();
        const char* suffix = last == '1' ? "st" : last == '2' ? "nd" : last == '3' ? "rd" : "th";
        if (out.size() > 1 && out[out.size() - 2] == '1') suffix = "th";
        out += suffix;
      }
      break;
    }
    case IntegerPicture::kSequence:
      ThrowError("D3130", MakeString(f.token));
  }
  return negative ? "-" + out : out;
}

namespace {

Value FnFormatInteger(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return MakeString(FormatInteger(std::floor(Arg(a, 0).AsNumber()), RequireString(a, 1)));
}

Value FnParseInteger(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double r = ParseInteger(Arg(a, 0).AsString(), RequireString(a, 1));
  if (std::isnan(r)) return Value();
  return Value::Number(r);
}

Value FnFormatBase(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double v = std::nearbyint(Arg(a, 0).AsNumber());
  double radix = Arg(a, 1).IsDefined() ? std::nearbyint(Arg(a, 1).AsNumber()) : 10;
  if (radix < 2 || radix > 36) ThrowError("D3100", Value::Number(radix));
  bool neg = v < 0;
  v = std::fabs(v);
  std::string digits;
  int r = static_cast<int>(radix);
  if (v == 0) digits = "0";
  while (v >= 1) {
    int d = static_cast<int>(std::fmod(v, r));
    digits.insert(digits.begin(), static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10));
    v = std::floor(v / r);
  }
  return MakeString(neg ? "-" + digits : digits);
}

}  // namespace

std::string NumberWordsRegex() {
  std::string alt = "and";
  for (const char* w : kFew) alt += std::string("|") + w;
  for (const char* w : kOrdinals) alt += std::string("|") + w;
  for (const char* w : kDecades) {
    std::string d(w);
    alt += "|" + d + "|" + d.substr(0, d.size() - 1) + "ieth";
  }
  alt += "|hundredth";
  for (const char* w : kMagnitudes) alt += std::string("|") + w + "|" + w + "th";
  return "(?:" + alt + "|,| |-)+";
}

std::string NumberWords(double value, bool ordinal) { return Words(value, false, ordinal); }

std::string FormatInteger(double value, const std::string& picture) {
  return FormatIntegerWith(value, AnalyseIntegerPicture(picture));
}

double ParseInteger(const std::string& text, const std::string& picture) {
  IntegerPicture f = AnalyseIntegerPicture(picture);
  switch (f.primary) {
    case IntegerPicture::kLetters: {
      double v = 0;
      char a = f.text_case == IntegerPicture::kUpper ? 'A' : 'a';
      for (size_t i = 0; i < text.size(); ++i) {
        v += (text[text.size() - i - 1] - a + 1) * std::pow(26, static_cast<double>(i));
      }
      return v;
    }
    case IntegerPicture::kRoman: {
      std::string r = Lower(text);
      double v = 0, max = 1;
      for (size_t i = r.size(); i-- > 0;) {
        int d = r[i] == 'm' ? 1000 : r[i] == 'd' ? 500 : r[i] == 'c' ? 100 : r[i] == 'l' ? 50 : r[i] == 'x' ? 10 : r[i] == 'v' ? 5 : r[i] == 'i' ? 1 : 0;
        if (d < max) {
          v -= d;
        } else {
          max = d;
          v += d;
        }
      }
      return v;
    }
    case IntegerPicture::kWords:
      return WordsToNumber(Lower(text));
    case IntegerPicture::kDecimal: {
      std::u32string d = ToU32(text);
      if (f.ordinal && d.size() >= 2) d.resize(d.size() - 2);
      std::u32string digits;
      for (char32_t c : d) {
        bool sep = false;
        if (f.regular) {
          sep = c == f.regular_char;
        } else {
          for (const auto& s : f.separators) sep = sep || s.second == c;
        }
        if (sep) continue;
        if (f.zero != 0x30 && c >= f.zero && c <= f.zero + 9) c = c - f.zero + U'0';
        digits.push_back(c);
      }
      std::string ascii = FromU32(digits);
      if (ascii.empty() || !((ascii[0] >= '0' && ascii[0] <= '9') || ascii[0] == '-')) return NAN;
      return std::strtod(ascii.c_str(), nullptr);
    }
    case IntegerPicture::kSequence:
      ThrowError("D3130", MakeString(f.token));
  }
  return NAN;
}

void AddFormatFunctions(std::vector<Builtin>& t) {
  std::vector<Builtin> add = {
      {"formatNumber", "<n-so?:s>", FnFormatNumber, 3, nullptr},
      {"formatBase", "<n-n?:s>", FnFormatBase, 2, nullptr},
      {"formatInteger", "<n-s:s>", FnFormatInteger, 2, nullptr},
      {"parseInteger", "<s-s:n>", FnParseInteger, 2, nullptr},
  };
  t.insert(t.end(), add.begin(), add.end());
}

}  // namespace stratus::jsonata::internal
