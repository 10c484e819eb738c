#include "core/time_format.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/strings.h"

namespace stratus {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {
struct Civil {
  int64_t y;
  unsigned m, d, hh, mm, ss, wday;
};

Civil CivilFromEpoch(int64_t secs) {
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  Civil c{};
  c.hh = static_cast<unsigned>(rem / 3600);
  c.mm = static_cast<unsigned>((rem % 3600) / 60);
  c.ss = static_cast<unsigned>(rem % 60);
  c.wday = static_cast<unsigned>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  c.d = doy - (153 * mp + 2) / 5 + 1;
  c.m = mp < 10 ? mp + 3 : mp - 9;
  c.y = y + (c.m <= 2);
  return c;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool ParseDigits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}
}  // namespace

namespace {
// Writes `v` as exactly `width` decimal digits (zero-padded) at `out`.
char* PutDigits(char* out, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return out + width;
}
}  // namespace

std::string FormatIso8601(double epoch_seconds, bool always_millis) {
  // Hot in XML encoders (every timestamp of every listing): formatted by hand, not snprintf.
  double whole = std::floor(epoch_seconds);
  int millis = static_cast<int>(std::llround((epoch_seconds - whole) * 1000.0));
  if (millis == 1000) {
    whole += 1;
    millis = 0;
  }
  Civil c = CivilFromEpoch(static_cast<int64_t>(whole));
  if (c.y < 0 || c.y > 9999) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02uZ",
                  static_cast<long long>(c.y), c.m, c.d, c.hh, c.mm, c.ss);
    return buf;
  }
  char buf[32];
  char* p = PutDigits(buf, c.y, 4);
  *p++ = '-';
  p = PutDigits(p, c.m, 2);
  *p++ = '-';
  p = PutDigits(p, c.d, 2);
  *p++ = 'T';
  p = PutDigits(p, c.hh, 2);
  *p++ = ':';
  p = PutDigits(p, c.mm, 2);
  *p++ = ':';
  p = PutDigits(p, c.ss, 2);
  if (millis != 0 || always_millis) {
    *p++ = '.';
    p = PutDigits(p, millis, 3);
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

std::string FormatAmzDate(int64_t epoch_seconds) {
  Civil c = CivilFromEpoch(epoch_seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02uT%02u%02u%02uZ", static_cast<long long>(c.y), c.m,
                c.d, c.hh, c.mm, c.ss);
  return buf;
}

std::string FormatHttpDate(double epoch_seconds) {
  Civil c = CivilFromEpoch(static_cast<int64_t>(std::floor(epoch_seconds)));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02u:%02u:%02u GMT", kDays[c.wday], c.d,
                kMonths[c.m - 1], static_cast<long long>(c.y), c.hh, c.mm, c.ss);
  return buf;
}

std::optional<double> ParseIso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]; also the basic form YYYYMMDDTHHMMSSZ.
  unsigned y, mo, d, h, mi, sec;
  size_t pos;
  if (s.size() >= 16 && s[8] == 'T' && s.find('-') == std::string_view::npos) {
    if (!ParseDigits(s, 0, 4, y) || !ParseDigits(s, 4, 2, mo) || !ParseDigits(s, 6, 2, d) ||
        !ParseDigits(s, 9, 2, h) || !ParseDigits(s, 11, 2, mi) || !ParseDigits(s, 13, 2, sec)) {
      return std::nullopt;
    }
    pos = 15;
  } else {
    if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':') {
      return std::nullopt;
    }
    if (!ParseDigits(s, 0, 4, y) || !ParseDigits(s, 5, 2, mo) || !ParseDigits(s, 8, 2, d) ||
        !ParseDigits(s, 11, 2, h) || !ParseDigits(s, 14, 2, mi) || !ParseDigits(s, 17, 2, sec)) {
      return std::nullopt;
    }
    pos = 19;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  double frac = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    double scale = 0.1;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int sign = s[pos] == '+' ? 1 : -1;
      unsigned oh, om = 0;
      if (!ParseDigits(s, pos + 1, 2, oh)) return std::nullopt;
      size_t p = pos + 3;
      if (p < s.size() && s[p] == ':') ++p;
      if (p < s.size()) {
        if (!ParseDigits(s, p, 2, om)) return std::nullopt;
        p += 2;
      }
      offset = sign * static_cast<int64_t>(oh * 3600 + om * 60);
      pos = p;
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(y, mo, d);
  double secs = static_cast<double>(days * 86400 + h * 3600 + mi * 60 + sec - offset);
  return secs + frac;
}

std::optional<double> ParseHttpDate(std::string_view s) {
  // "Tue, 02 Jan 2024 03:04:05 GMT"
  size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view r = s.substr(comma + 2);
  unsigned d, y, h, mi, sec;
  if (r.size() < 24 || !ParseDigits(r, 0, 2, d) || r[2] != ' ' || r[6] != ' ' ||
      !ParseDigits(r, 7, 4, y) || r[11] != ' ' || !ParseDigits(r, 12, 2, h) || r[14] != ':' ||
      !ParseDigits(r, 15, 2, mi) || r[17] != ':' || !ParseDigits(r, 18, 2, sec)) {
    return std::nullopt;
  }
  std::string_view mon = r.substr(3, 3);
  unsigned m = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (mon == kMonths[i]) m = i + 1;
  }
  if (m == 0) return std::nullopt;
  double frac = 0;
  size_t pos = 20;
  if (pos < r.size() && r[pos] == '.') {
    ++pos;
    double scale = 0.1;
    while (pos < r.size() && r[pos] >= '0' && r[pos] <= '9') {
      frac += (r[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  std::string_view tz = Trim(r.substr(pos));
  if (tz != "GMT" && tz != "UTC" && tz != "Z" && tz != "+0000") return std::nullopt;
  return static_cast<double>(DaysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec) + frac;
}

std::optional<double> ParseTimestamp(std::string_view text) {
  if (auto v = ParseIso8601(text)) return v;
  if (auto v = ParseHttpDate(text)) return v;
  if (auto v = ParseDouble(text)) return v;
  return std::nullopt;
}

}  // namespace stratus
