// $now, $millis, $fromMillis, $toMillis: ISO 8601 and XPath F&O 9.8 date/time picture strings
// (formatting and parsing), on the proleptic Gregorian calendar in UTC plus a fixed offset.
#include <re2/re2.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include "jsonata/functions.h"
#include "jsonata/number_format.h"

namespace stratus::jsonata::internal {

namespace {

constexpr int64_t kMillisPerDay = 86400000;

// Whether `c` is one of the characters of `set` (no string is built; '\0' is in no set).
bool InSet(const char* set, char c) { return c != '\0' && std::strchr(set, c) != nullptr; }
constexpr double kMaxDateMillis = 8.64e15;  // the range of a JavaScript Date

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kDays[] = {"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// Days since 1970-01-01 of a civil date (month 1..12); months outside the range roll over.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y += (m - 1) / 12;
  m = (m - 1) % 12 + 1;
  if (m <= 0) {
    m += 12;
    y -= 1;
  }
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {y + (m <= 2 ? 1 : 0), m, d};
}

int64_t UtcMillis(int64_t y, int64_t mon0, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t ms) {
  return DaysFromCivil(y, mon0 + 1, d) * kMillisPerDay + ((h * 60 + mi) * 60 + s) * 1000 + ms;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

struct Date {
  int64_t millis;
  int64_t days;
  Civil c;
  int hour, minute, second, ms;
  int weekday;  // 0 = Sunday
};

Date MakeDate(int64_t millis) {
  Date d;
  d.millis = millis;
  d.days = FloorDiv(millis, kMillisPerDay);
  int64_t rem = millis - d.days * kMillisPerDay;
  d.c = CivilFromDays(d.days);
  d.hour = static_cast<int>(rem / 3600000);
  d.minute = static_cast<int>(rem / 60000 % 60);
  d.second = static_cast<int>(rem / 1000 % 60);
  d.ms = static_cast<int>(rem % 1000);
  d.weekday = static_cast<int>(((d.days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  return d;
}

// Start (millis) of the first ISO week of the given year/month (month0 may roll over).
int64_t StartOfFirstWeek(int64_t year, int64_t month0) {
  int64_t first = UtcMillis(year, month0, 1, 0, 0, 0, 0);
  int dow = MakeDate(first).weekday;
  if (dow == 0) dow = 7;
  return dow > 4 ? first + (8 - dow) * kMillisPerDay : first - (dow - 1) * kMillisPerDay;
}

double DeltaWeeks(int64_t start, int64_t end) {
  return static_cast<double>(end - start) / static_cast<double>(kMillisPerDay * 7) + 1;
}

// A component's value (numbers) or its text (P, C, E).
struct Fragment {
  double num = 0;
  std::string text;
};

Fragment GetFragment(const Date& d, char component) {
  Fragment f;
  switch (component) {
    case 'Y': f.num = static_cast<double>(d.c.year); break;
    case 'M': f.num = d.c.month; break;
    case 'D': f.num = d.c.day; break;
    case 'd': f.num = static_cast<double>(d.days - DaysFromCivil(d.c.year, 1, 1) + 1); break;
    case 'F': f.num = d.weekday == 0 ? 7 : d.weekday; break;
    case 'W': {
      int64_t today = UtcMillis(d.c.year, d.c.month - 1, d.c.day, 0, 0, 0, 0);
      double week = DeltaWeeks(StartOfFirstWeek(d.c.year, 0), today);
      if (week > 52) {
        if (today >= StartOfFirstWeek(d.c.year + 1, 0)) week = 1;
      } else if (week < 1) {
        week = DeltaWeeks(StartOfFirstWeek(d.c.year - 1, 0), today);
      }
      f.num = std::floor(week);
      break;
    }
    case 'w': {
      int64_t today = UtcMillis(d.c.year, d.c.month - 1, d.c.day, 0, 0, 0, 0);
      double week = DeltaWeeks(StartOfFirstWeek(d.c.year, d.c.month - 1), today);
      if (week > 4) {
        if (today >= StartOfFirstWeek(d.c.year, d.c.month)) week = 1;
      } else if (week < 1) {
        week = DeltaWeeks(StartOfFirstWeek(d.c.year, d.c.month - 2), today);
      }
      f.num = std::floor(week);
      break;
    }
    case 'X': {
      int64_t start = StartOfFirstWeek(d.c.year, 0);
      int64_t end = StartOfFirstWeek(d.c.year + 1, 0);
      f.num = static_cast<double>(d.millis < start ? d.c.year - 1 : d.millis >= end ? d.c.year + 1 : d.c.year);
      break;
    }
    case 'x': {
      int64_t start = StartOfFirstWeek(d.c.year, d.c.month - 1);
      int64_t end = StartOfFirstWeek(d.c.year, d.c.month);
      int m = d.c.month;
      if (d.millis < start) {
        m = m == 1 ? 12 : m - 1;
      } else if (d.millis >= end) {
        m = m == 12 ? 1 : m + 1;
      }
      f.num = m;
      break;
    }
    case 'H': f.num = d.hour; break;
    case 'h': f.num = d.hour % 12 == 0 ? 12 : d.hour % 12; break;
    case 'P': f.text = d.hour >= 12 ? "pm" : "am"; break;
    case 'm': f.num = d.minute; break;
    case 's': f.num = d.second; break;
    case 'f': f.num = d.ms; break;
    case 'C':
    case 'E': f.text = "ISO"; break;
    default: break;
  }
  return f;
}

enum class Names { kNone, kLower, kUpper, kTitle };

struct Marker {
  bool literal = true;
  std::string text;  // literal text
  char component = 0;
  std::string pres1, pres2;
  bool has_min = false, has_max = false;
  int min_width = 0, max_width = 0;
  Names names = Names::kNone;
  bool has_integer = false;
  IntegerPicture integer;
  int n = -1;  // year digits kept (Y), parse width (Y M D)
};

const char* DefaultPresentation(char c) {
  switch (c) {
    case 'Y': case 'M': case 'D': case 'd': case 'W': case 'w': case 'X': case 'x': case 'H': case 'h':
    case 'f':
      return "1";
    case 'F': case 'P': case 'C': case 'E':
      return "n";
    case 'm': case 's':
      return "01";
    case 'Z': case 'z':
      return "01:01";
    default:
      return nullptr;
  }
}

std::vector<Marker> AnalysePicture(const std::string& picture) {
  std::vector<Marker> spec;
  auto add_literal = [&](size_t start, size_t end) {
    if (end <= start) return;
    std::string lit = picture.substr(start, end - start);
    std::string out;
    for (size_t i = 0; i < lit.size(); ++i) {
      out.push_back(lit[i]);
      if (lit[i] == ']' && i + 1 < lit.size() && lit[i + 1] == ']') ++i;
    }
    Marker m;
    m.text = out;
    spec.push_back(m);
  };
  size_t start = 0, pos = 0;
  while (pos < picture.size()) {
    if (picture[pos] == '[') {
      if (pos + 1 < picture.size() && picture[pos + 1] == '[') {
        add_literal(start, pos);
        Marker m;
        m.text = "[";
        spec.push_back(m);
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(start, pos);
      start = pos;
      pos = picture.find(']', start);
      if (pos == std::string::npos) ThrowError("D3135");
      std::string raw = picture.substr(start + 1, pos - start - 1);
      std::string marker;
      for (char c : raw) {
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') marker.push_back(c);
      }
      Marker def;
      def.literal = false;
      def.component = marker.empty() ? '\0' : marker[0];
      size_t comma = marker.rfind(',');
      std::string pres;
      if (comma != std::string::npos) {
        std::string width = marker.substr(comma + 1);
        size_t dash = width.find('-');
        std::string mn = dash == std::string::npos ? width : width.substr(0, dash);
        std::string mx = dash == std::string::npos ? "" : width.substr(dash + 1);
        if (!mn.empty() && mn != "*") {
          def.has_min = true;
          def.min_width = std::atoi(mn.c_str());
        }
        if (!mx.empty() && mx != "*") {
          def.has_max = true;
          def.max_width = std::atoi(mx.c_str());
        }
        pres = marker.size() > 1 ? marker.substr(1, comma - 1) : "";
      } else {
        pres = marker.size() > 1 ? marker.substr(1) : "";
      }
      if (pres.size() == 1) {
        def.pres1 = pres;
      } else if (pres.size() > 1) {
        char last = pres.back();
        if (InSet("atco", last)) {
          def.pres2 = std::string(1, last);
          def.pres1 = pres.substr(0, pres.size() - 1);
        } else {
          def.pres1 = pres;
        }
      } else {
        const char* d = DefaultPresentation(def.component);
        if (d == nullptr) ThrowError("D3132", MakeString(std::string(1, def.component)));
        def.pres1 = d;
      }
      if (def.pres1[0] == 'n') {
        def.names = Names::kLower;
      } else if (def.pres1[0] == 'N') {
        def.names = def.pres1.size() > 1 && def.pres1[1] == 'n' ? Names::kTitle : Names::kUpper;
      } else if (InSet("YMDdFWwXxHhmsf", def.component)) {
        std::string pattern = def.pres1;
        if (!def.pres2.empty()) pattern += ";" + def.pres2;
        def.integer = AnalyseIntegerPicture(pattern);
        def.has_integer = true;
        if (def.has_min && def.integer.mandatory < def.min_width) def.integer.mandatory = def.min_width;
        if (def.component == 'Y' || def.component == 'M' || def.component == 'D') {
          def.n = -1;
          if (def.has_max) {
            def.n = def.max_width;
            def.integer.mandatory = def.n;
          } else {
            int w = def.integer.mandatory + def.integer.optional;
            if (w >= 2) def.n = w;
          }
        }
      }
      if (def.component == 'Z' || def.component == 'z') {
        def.integer = AnalyseIntegerPicture(def.pres1);
        def.has_integer = true;
      }
      spec.push_back(def);
      start = pos + 1;
    }
    ++pos;
  }
  add_literal(start, pos);
  return spec;
}

std::string CaseName(std::string s, Names names) {
  for (auto& c : s) {
    if (names == Names::kUpper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (names == Names::kLower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string FormatComponent(const Date& d, const Marker& m, int off_h, int off_m) {
  Fragment f = GetFragment(d, m.component);
  char c = m.component;
  if (InSet("YMDdFWwXxHhms", c)) {
    double v = f.num;
    if (c == 'Y' && m.n != -1) v = std::fmod(v, std::pow(10, m.n));
    if (m.names != Names::kNone) {
      std::string name;
      if (c == 'M' || c == 'x') {
        name = kMonths[static_cast<int>(v) - 1];
      } else if (c == 'F') {
        name = kDays[static_cast<int>(v)];
      } else {
        ThrowError("D3133", MakeString(std::string(1, c)));
      }
      name = CaseName(name, m.names);
      if (m.has_max && static_cast<int>(name.size()) > m.max_width) name = name.substr(0, static_cast<size_t>(m.max_width));
      return name;
    }
    return FormatIntegerWith(v, m.integer);
  }
  if (c == 'f') return FormatIntegerWith(f.num, m.integer);
  if (c == 'Z' || c == 'z') {
    int offset = off_h * 100 + off_m;
    std::string out;
    if (m.integer.regular) {
      out = FormatIntegerWith(offset, m.integer);
    } else {
      int digits = m.integer.mandatory;
      if (digits == 1 || digits == 2) {
        out = FormatIntegerWith(off_h, m.integer);
        if (off_m != 0) out += ":" + FormatInteger(off_m, "00");
      } else if (digits == 3 || digits == 4) {
        out = FormatIntegerWith(offset, m.integer);
      } else {
        ThrowError("D3134", Value::Number(digits));
      }
    }
    if (offset >= 0) out = "+" + out;
    if (c == 'z') out = "GMT" + out;
    if (offset == 0 && m.pres2 == "t") out = "Z";
    return out;
  }
  if (c == 'P') return m.names == Names::kUpper ? CaseName(f.text, Names::kUpper) : f.text;
  return f.text;
}

constexpr const char* kIsoPicture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

}  // namespace

namespace {

std::string FormatWithSpec(int64_t millis, const std::vector<Marker>& spec, const Value& timezone) {
  int off_h = 0, off_m = 0;
  if (timezone.IsString()) {
    int offset = std::atoi(timezone.AsString().c_str());
    off_h = static_cast<int>(std::floor(offset / 100.0));
    off_m = offset % 100;
  }
  Date d = MakeDate(millis + (60 * off_h + off_m) * 60 * 1000);
  std::string out;
  for (const Marker& m : spec) {
    if (m.literal) {
      out += m.text;
    } else {
      out += FormatComponent(d, m, off_h, off_m);
    }
  }
  return out;
}

}  // namespace

std::string FormatDateTime(int64_t millis, const Value& picture, const Value& timezone) {
  static const std::vector<Marker> kIso = AnalysePicture(kIsoPicture);
  if (picture.IsString()) return FormatWithSpec(millis, AnalysePicture(picture.AsString()), timezone);
  return FormatWithSpec(millis, kIso, timezone);
}

namespace {

std::string EscapeRegex(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (InSet(".*+?^${}()|[]\\", c)) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// A component's regex and how to turn its text into a number.
struct ParsePart {
  char component;
  std::string regex;
  const Marker* marker;
};

std::string IntegerRegex(const IntegerPicture& f, int n) {
  std::string occ = "+";
  if (n > 0) occ = f.optional == 0 ? "{" + std::to_string(n) + "}" : "{" + std::to_string(n - f.optional) + "," + std::to_string(n) + "}";
  switch (f.primary) {
    case IntegerPicture::kLetters: return f.text_case == IntegerPicture::kUpper ? "[A-Z]+" : "[a-z]+";
    case IntegerPicture::kRoman: return f.text_case == IntegerPicture::kUpper ? "[MDCLXVI]+" : "[mdclxvi]+";
    case IntegerPicture::kWords: return NumberWordsRegex();
    case IntegerPicture::kDecimal: {
      std::string r = "[0-9]" + occ;
      if (f.ordinal) r += "(?:th|st|nd|rd)";
      return r;
    }
    case IntegerPicture::kSequence: ThrowError("D3130", MakeString(f.token));
  }
  return "";
}

double ParseComponent(const Marker& m, const std::string& text, bool& ok) {
  ok = true;
  char c = m.component;
  if (c == 'Z' || c == 'z') {
    std::string v = c == 'z' ? text.substr(3) : text;
    size_t colon = v.find(':');
    int h = 0, mi = 0;
    if (colon != std::string::npos) {
      h = std::atoi(v.substr(0, colon).c_str());
      mi = std::atoi(v.substr(colon + 1).c_str());
    } else if (v.size() - 1 <= 2) {
      h = std::atoi(v.c_str());
    } else {
      h = std::atoi(v.substr(0, 3).c_str());
      mi = std::atoi(v.substr(3).c_str());
    }
    return h * 60 + mi;
  }
  if (m.has_integer) {
    const IntegerPicture& f = m.integer;
    if (f.primary == IntegerPicture::kLetters || f.primary == IntegerPicture::kRoman) {
      std::string pic = f.primary == IntegerPicture::kLetters ? (f.text_case == IntegerPicture::kUpper ? "A" : "a")
                                                             : (f.text_case == IntegerPicture::kUpper ? "I" : "i");
      return ParseInteger(text, pic);
    }
    if (f.primary == IntegerPicture::kWords) {
      std::string lower = text;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return WordsToNumber(lower);
    }
    std::string digits = f.ordinal && text.size() >= 2 ? text.substr(0, text.size() - 2) : text;
    if (c == 'f') return std::atoi((digits + "000").substr(0, 3).c_str());  // a fraction of a second
    return std::strtod(digits.c_str(), nullptr);
  }
  std::string lower = text;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (c == 'M' || c == 'x') {
    for (int i = 0; i < 12; ++i) {
      std::string name = kMonths[i];
      if (m.has_max) name = name.substr(0, static_cast<size_t>(m.max_width));
      if (CaseName(name, Names::kLower) == lower) return i + 1;
    }
    ok = false;
    return 0;
  }
  if (c == 'F') {
    for (int i = 1; i <= 7; ++i) {
      std::string name = kDays[i];
      if (m.has_max) name = name.substr(0, static_cast<size_t>(m.max_width));
      if (CaseName(name, Names::kLower) == lower) return i;
    }
    ok = false;
    return 0;
  }
  if (c == 'P') return lower == "pm" ? 1 : 0;
  ok = false;
  return 0;
}

// The regex that parses text written in a picture, and the marker of each of its groups.
struct PictureParser {
  std::unique_ptr<RE2> re;  // nullptr when the picture gives no valid regex (nothing matches)
  std::vector<const Marker*> groups;
};

// Throws D3133 for a component that cannot be parsed.
PictureParser BuildParser(const std::vector<Marker>& spec) {
  PictureParser parser;
  std::vector<const Marker*>& groups = parser.groups;
  std::string regex = "^";
  for (const Marker& m : spec) {
    if (m.literal) {
      regex += EscapeRegex(m.text);
      continue;
    }
    std::string r;
    if (m.component == 'Z' || m.component == 'z') {
      if (m.component == 'z') r = "GMT";
      r += "[-+][0-9]+";
      if (m.integer.regular) r += EscapeRegex(FromU32(std::u32string(1, m.integer.regular_char))) + "[0-9]+";
    } else if (m.has_integer) {
      int width = m.n;
      if (!InSet("YMD", m.component) && m.component != 'f') {
        int w = m.integer.mandatory + m.integer.optional;
        width = w >= 2 ? w : -1;
      }
      r = IntegerRegex(m.integer, width);
    } else {
      if (!InSet("MxFP", m.component)) {
        ThrowError("D3133", MakeString(std::string(1, m.component)));
      }
      r = "[a-zA-Z]+";
    }
    regex += "(" + r + ")";
    groups.push_back(&m);
  }
  regex += "$";
  RE2::Options opts;
  opts.set_case_sensitive(false);
  opts.set_log_errors(false);
  parser.re = std::make_unique<RE2>(regex, opts);
  if (!parser.re->ok()) parser.re.reset();
  return parser;
}

// Parses `text` with an analysed picture; returns false for "undefined" (no match).
bool ParseWithSpec(const std::string& text, const PictureParser& parser, int64_t now_millis, double& out) {
  if (parser.re == nullptr) return false;
  const std::vector<const Marker*>& groups = parser.groups;
  std::vector<re2::StringPiece> sub(groups.size() + 1);
  if (!parser.re->Match(text, 0, text.size(), RE2::ANCHOR_BOTH, sub.data(), static_cast<int>(sub.size()))) {
    return false;
  }

  std::map<char, double> comp;
  for (size_t i = 0; i < groups.size(); ++i) {
    bool ok;
    double v = ParseComponent(*groups[i], std::string(sub[i + 1].data(), sub[i + 1].size()), ok);
    if (ok) comp[groups[i]->component] = v;
  }
  if (comp.empty()) return false;
  auto has = [&](char c) { return comp.count(c) != 0; };
  auto is_type = [&](const char* order, int type) {
    int mask = 0;
    for (const char* p = order; *p != '\0'; ++p) mask = (mask << 1) | (has(*p) ? 1 : 0);
    return !(~type & mask) && (type & mask) != 0;
  };
  const bool date_a = is_type("YXMxWwdD", 161);
  const bool date_b = !date_a && is_type("YXMxWwdD", 130);
  const bool date_c = is_type("YXMxWwdD", 84);
  const bool date_d = !date_c && is_type("YXMxWwdD", 72);
  const bool time_a = is_type("PHhmsf", 23);
  const bool time_b = !time_a && is_type("PHhmsf", 47);
  std::string comps = std::string(date_b ? "Yd" : date_c ? "XxwF" : date_d ? "XWF" : "YMD") + (time_b ? "Phmsf" : "Hmsf");
  Date now = MakeDate(now_millis);
  bool start_specified = false, end_specified = false;
  for (char part : comps) {
    if (!has(part)) {
      if (start_specified) {
        comp[part] = InSet("MDd", part) ? 1 : 0;
        end_specified = true;
      } else {
        comp[part] = part == 'P' ? (now.hour >= 12 ? 1 : 0) : GetFragment(now, part).num;
      }
    } else {
      start_specified = true;
      if (end_specified) ThrowError("D3136");
    }
  }
  double month0 = comp['M'] > 0 ? comp['M'] - 1 : 0;
  double day = comp.count('D') ? comp['D'] : 1;
  if (date_b) {
    int64_t t = UtcMillis(static_cast<int64_t>(comp['Y']), 0, 1, 0, 0, 0, 0) +
                static_cast<int64_t>(comp['d'] - 1) * kMillisPerDay;
    Date dd = MakeDate(t);
    month0 = dd.c.month - 1;
    day = dd.c.day;
  }
  if (date_c || date_d) ThrowError("D3136");
  // Components outside any representable date (e.g. a 100-digit year) match nothing.
  constexpr double kMaxComponent = 1e8;
  for (const auto& [k, v] : comp) {
    if (!std::isfinite(v) || std::fabs(v) > kMaxComponent) return false;
  }
  if (!std::isfinite(month0) || !std::isfinite(day) || std::fabs(day) > kMaxComponent) return false;
  double hour = comp['H'];
  if (time_b) {
    hour = comp['h'] == 12 ? 0 : comp['h'];
    if (comp['P'] == 1) hour += 12;
  }
  double millis = static_cast<double>(UtcMillis(static_cast<int64_t>(comp['Y']), static_cast<int64_t>(month0),
                                                static_cast<int64_t>(day), static_cast<int64_t>(hour),
                                                static_cast<int64_t>(comp['m']), static_cast<int64_t>(comp['s']),
                                                static_cast<int64_t>(comp['f'])));
  double tz = has('Z') ? comp['Z'] : has('z') ? comp['z'] : 0;
  millis -= tz * 60 * 1000;
  out = millis;
  return true;
}

// Date.parse for the ISO 8601 forms the reference accepts.
bool ParseIso(const std::string& s, double& out) {
  static const RE2 kIso(
      "^(\\d{4})(?:-([01]\\d))?(?:-([0-3]\\d))?(?:T([0-2]\\d):([0-5]\\d)(?::([0-5]\\d))?(?:\\.(\\d+))?)?"
      "(Z|[+-][0-2]\\d:?[0-5]\\d)?$");
  std::string y, mo, d, h, mi, se, frac, tz;
  if (!RE2::FullMatch(s, kIso, &y, &mo, &d, &h, &mi, &se, &frac, &tz)) return false;
  int64_t ms = 0;
  if (!frac.empty()) ms = std::atoi((frac + "00").substr(0, 3).c_str());
  int64_t t = UtcMillis(std::atoi(y.c_str()), mo.empty() ? 0 : std::atoi(mo.c_str()) - 1, d.empty() ? 1 : std::atoi(d.c_str()),
                        h.empty() ? 0 : std::atoi(h.c_str()), mi.empty() ? 0 : std::atoi(mi.c_str()),
                        se.empty() ? 0 : std::atoi(se.c_str()), ms);
  if (!tz.empty() && tz != "Z") {
    int sign = tz[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : tz.substr(1)) {
      if (c != ':') digits.push_back(c);
    }
    int offset = std::atoi(digits.substr(0, 2).c_str()) * 60 + std::atoi(digits.substr(2).c_str());
    t -= sign * offset * 60000;
  }
  out = static_cast<double>(t);
  return true;
}

}  // namespace

// A picture string analysed once, when the expression is compiled (see PrecompilePicture).
struct CompiledPicture {
  std::string source;
  std::vector<Marker> spec;
  PictureParser parser;  // $toMillis only
};

std::shared_ptr<const CompiledPicture> PrecompilePicture(const Node& call) {
  const Node* pn = call.procedure;
  if (call.type != NodeType::kCall || pn == nullptr || pn->type != NodeType::kVariable) return nullptr;
  size_t index = 1;
  const bool parse = pn->op_text == "toMillis";
  if (pn->op_text == "now") {
    index = 0;
  } else if (pn->op_text != "fromMillis" && !parse) {
    return nullptr;
  }
  if (call.items.size() <= index) return nullptr;
  const Node* arg = call.items[index];
  if (arg->type != NodeType::kLiteral || !arg->is_string_literal || !arg->literal.IsString()) return nullptr;
  try {
    auto compiled = std::make_shared<CompiledPicture>();
    compiled->source = arg->literal.AsString();
    compiled->spec = AnalysePicture(compiled->source);
    if (parse) compiled->parser = BuildParser(compiled->spec);
    return compiled;
  } catch (const JError&) {
    return nullptr;  // an invalid picture fails at evaluation, with the reference's error
  }
}

namespace {

// The call's precompiled picture if `picture` is the text it was made from (the function may
// also be reached through a variable or with other arguments), else nullptr.
const CompiledPicture* Precompiled(const CallSite& site, const Value& picture) {
  if (site.call == nullptr || site.call->picture == nullptr || !picture.IsString()) return nullptr;
  const CompiledPicture* c = site.call->picture.get();
  return c->source == picture.AsString() ? c : nullptr;
}

Value FnFromMillis(Evaluator&, Args& a, const CallSite& site) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double m = Arg(a, 0).AsNumber();
  if (!(std::fabs(m) <= kMaxDateMillis)) {
    JError e(kCodeSizeLimit);
    e.detail = "timestamp out of range (JavaScript dates span +/-8.64e15 ms)";
    throw e;
  }
  const auto millis = static_cast<int64_t>(std::floor(m));
  if (const CompiledPicture* c = Precompiled(site, Arg(a, 1))) {
    return MakeString(FormatWithSpec(millis, c->spec, Arg(a, 2)));
  }
  return MakeString(FormatDateTime(millis, Arg(a, 1), Arg(a, 2)));
}

Value FnToMillis(Evaluator& ev, Args& a, const CallSite& site) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Arg(a, 0).AsString();
  double out;
  if (Arg(a, 1).IsUndefined()) {
    static const RE2 kShape(
        "^\\d{4}(-[01]\\d)*(-[0-3]\\d)*(T[0-2]\\d:[0-5]\\d:[0-5]\\d)*(\\.\\d+)?([+-][0-2]\\d:?[0-5]\\d|Z)?$");
    if (!RE2::FullMatch(s, kShape)) ThrowError("D3110", Arg(a, 0));
    if (!ParseIso(s, out)) return Value::Number(NAN);
    return Value::Number(out);
  }
  bool ok;
  if (const CompiledPicture* c = Precompiled(site, Arg(a, 1))) {
    ok = ParseWithSpec(s, c->parser, ev.NowMillis(), out);
  } else {
    ok = ParseWithSpec(s, BuildParser(AnalysePicture(Arg(a, 1).AsString())), ev.NowMillis(), out);
  }
  if (!ok) return Value();
  return Value::Number(out);
}

Value FnNow(Evaluator& ev, Args& a, const CallSite& site) {
  if (const CompiledPicture* c = Precompiled(site, Arg(a, 0))) {
    return MakeString(FormatWithSpec(ev.NowMillis(), c->spec, Arg(a, 1)));
  }
  return MakeString(FormatDateTime(ev.NowMillis(), Arg(a, 0), Arg(a, 1)));
}

Value FnMillis(Evaluator& ev, Args&, const CallSite&) { return Value::Number(static_cast<double>(ev.NowMillis())); }

}  // namespace

void AddDateTimeFunctions(std::vector<Builtin>& t) {
  std::vector<Builtin> add = {
      {"fromMillis", "<n-s?s?:s>", FnFromMillis, 3, nullptr},
      {"toMillis", "<s-s?:n>", FnToMillis, 2, nullptr},
      {"now", "<s?s?:s>", FnNow, 2, nullptr},
      {"millis", "<:n>", FnMillis, 0, nullptr},
  };
  t.insert(t.end(), add.begin(), add.end());
}

}  // namespace stratus::jsonata::internal
