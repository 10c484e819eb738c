// String functions, regex matchers, URL and base64 coding (value rendering: render.cc).
#include <charconv>
#include <cmath>
#include <cstring>
#include <cwctype>
#include <locale>
#include <optional>

#include "jsonata/functions.h"

namespace stratus::jsonata::internal {

// ---- UTF-8 helpers ----
namespace {
inline bool IsCont(unsigned char c) { return (c & 0xC0) == 0x80; }

uint32_t DecodeAt(const std::string& s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  uint32_t cp;
  int extra;
  if (c < 0x80) {
    ++i;
    return c;
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
  while (extra-- > 0 && i < s.size() && IsCont(static_cast<unsigned char>(s[i]))) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
    ++i;
  }
  return cp;
}

void EncodeUtf8(std::string& out, uint32_t cp) {
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
}  // namespace

size_t CodePointLength(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += IsCont(c) ? 0 : 1;
  return n;
}

size_t CodePointOffset(const std::string& s, size_t cp) {
  size_t i = 0;
  while (i < s.size() && cp > 0) {
    ++i;
    while (i < s.size() && IsCont(static_cast<unsigned char>(s[i]))) ++i;
    --cp;
  }
  return i;
}

size_t Utf16Index(const std::string& s, size_t byte_offset) {
  size_t units = 0;
  for (size_t i = 0; i < byte_offset && i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (IsCont(c)) continue;
    units += (c >= 0xF0) ? 2 : 1;
  }
  return units;
}


namespace {

void CheckSize(double n) {
  if (n > static_cast<double>(kMaxStringBytes)) {
    JError e(kCodeSizeLimit);
    e.detail = "string too long";
    throw e;
  }
}

const std::string& Str(const Args& a, size_t i) { return Arg(a, i).AsString(); }

Value FnString(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  bool pretty = Arg(a, 1).IsBool() && Arg(a, 1).AsBool();
  return MakeString(ToJsString(Arg(a, 0), pretty));
}

// JavaScript slice index normalisation on a length.
int64_t SliceIndex(double x, int64_t len) {
  if (std::isnan(x)) return 0;
  double t = std::trunc(x);
  if (t < 0) t = std::max(0.0, static_cast<double>(len) + t);
  return static_cast<int64_t>(std::min(t, static_cast<double>(len)));
}

Value FnSubstring(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  int64_t len = static_cast<int64_t>(CodePointLength(s));
  double start = Arg(a, 1).IsNumber() ? Arg(a, 1).AsNumber() : 0;
  if (static_cast<double>(len) + start < 0) start = 0;
  int64_t b = SliceIndex(start, len);
  int64_t e = len;
  if (Arg(a, 2).IsDefined()) {
    double length = Arg(a, 2).AsNumber();
    if (length <= 0) return MakeString("");
    double end = start >= 0 ? start + length : static_cast<double>(len) + start + length;
    e = SliceIndex(end, len);
  }
  if (e <= b) return MakeString("");
  size_t bo = CodePointOffset(s, static_cast<size_t>(b));
  size_t eo = CodePointOffset(s, static_cast<size_t>(e));
  return MakeString(s.substr(bo, eo - bo));
}

Value FnSubstringBefore(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  if (!Arg(a, 1).IsString()) return Arg(a, 0);
  size_t i = s.find(Str(a, 1));
  return i == std::string::npos ? Arg(a, 0) : MakeString(s.substr(0, i));
}

Value FnSubstringAfter(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  if (!Arg(a, 1).IsString()) return Arg(a, 0);
  size_t i = s.find(Str(a, 1));
  return i == std::string::npos ? Arg(a, 0) : MakeString(s.substr(i + Str(a, 1).size()));
}

Value CaseMap(const Args& a, bool upper) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = DecodeAt(s, i);
    if (cp < 0x80) {
      if (upper && cp >= 'a' && cp <= 'z') cp -= 32;
      if (!upper && cp >= 'A' && cp <= 'Z') cp += 32;
    } else {
      cp = static_cast<uint32_t>(upper ? std::towupper(static_cast<wint_t>(cp)) : std::towlower(static_cast<wint_t>(cp)));
    }
    EncodeUtf8(out, cp);
  }
  return MakeString(std::move(out));
}

Value FnLowercase(Evaluator&, Args& a, const CallSite&) { return CaseMap(a, false); }
Value FnUppercase(Evaluator&, Args& a, const CallSite&) { return CaseMap(a, true); }

Value FnLength(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Number(static_cast<double>(CodePointLength(Str(a, 0))));
}

Value FnTrim(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  std::string out;
  bool in_space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  if (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return MakeString(std::move(out));
}

Value FnPad(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  double width = Arg(a, 1).IsNumber() ? Arg(a, 1).AsNumber() : 0;
  std::string ch = Arg(a, 2).IsString() && !Str(a, 2).empty() ? Str(a, 2) : " ";
  double pad = std::trunc(std::fabs(width)) - static_cast<double>(CodePointLength(s));
  if (!(pad > 0)) return Arg(a, 0);
  CheckSize(pad * static_cast<double>(ch.size()));
  size_t n = static_cast<size_t>(pad);
  std::string padding;
  size_t chlen = CodePointLength(ch);
  for (size_t i = 0; i < n; ++i) {
    if (chlen == 1) {
      padding += ch;
    } else {
      // cycle through the characters of a multi-character pad string
      size_t k = i % chlen;
      size_t b = CodePointOffset(ch, k), e = CodePointOffset(ch, k + 1);
      padding += ch.substr(b, e - b);
    }
  }
  return MakeString(width > 0 ? s + padding : padding + s);
}

// Calls a matcher (a regex or a user function) on `str`: the match object or undefined.
Value CallMatcher(Evaluator& ev, const Value& matcher, const Value& str, Frame* env) {
  Value r = ev.Apply(matcher, Args{str}, Value(), env);
  if (r.IsDefined()) {
    bool ok = false;
    if (r.IsObject()) {
      const Value* start = r.AsObject().Find("start");
      const Value* end = r.AsObject().Find("end");
      const Value* groups = r.AsObject().Find("groups");
      const Value* next = r.AsObject().Find("next");
      ok = (start && start->IsNumber()) || (end && end->IsNumber()) || (groups && groups->IsArray()) ||
           (next && next->IsFunction());
    }
    if (!ok) ThrowError("T1010");
  }
  return r;
}

Value MatchNext(Evaluator& ev, const Value& m, Frame* env) {
  const Value* next = m.AsObject().Find("next");
  if (next == nullptr || !next->IsFunction()) return Value();
  Value r = ev.Apply(*next, Args{}, Value(), env);
  if (r.IsDefined() && !r.IsObject()) ThrowError("T1010");
  return r;
}

double Field(const Value& m, const char* name) {
  const Value* v = m.AsObject().Find(name);
  return v != nullptr && v->IsNumber() ? v->AsNumber() : 0;
}

std::string FieldStr(const Value& m, const char* name) {
  const Value* v = m.AsObject().Find(name);
  return v != nullptr && v->IsString() ? v->AsString() : std::string();
}

bool IsNativeRegex(const Value& f) {
  return f.IsFunction() && f.AsFunction().type == FunctionData::Type::kRegex;
}

Value FnContains(Evaluator& ev, Args& a, const CallSite& site) {
  if (Arg(a, 0).IsUndefined()) return Value();
  if (Arg(a, 1).IsString()) return Value::Bool(Str(a, 0).find(Str(a, 1)) != std::string::npos);
  if (IsNativeRegex(Arg(a, 1))) return Value::Bool(Arg(a, 1).AsFunction().regex->Find(Str(a, 0), 0).has_value());
  return Value::Bool(CallMatcher(ev, Arg(a, 1), Arg(a, 0), site.env).IsDefined());
}

Value FnSplit(Evaluator& ev, Args& a, const CallSite& site) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  double limit = Arg(a, 2).IsDefined() ? Arg(a, 2).AsNumber() : -1;
  if (Arg(a, 2).IsDefined() && limit < 0) ThrowError("D3020", Arg(a, 2));
  Value out = NewArray();
  auto& items = out.MutArray().items;
  bool unlimited = Arg(a, 2).IsUndefined();
  size_t lim = unlimited ? SIZE_MAX : static_cast<size_t>(std::floor(limit));
  if (lim == 0) return out;
  if (Arg(a, 1).IsString()) {
    const std::string& sep = Str(a, 1);
    if (sep.empty()) {
      for (size_t i = 0; i < s.size() && items.size() < lim;) {
        size_t j = i + 1;
        while (j < s.size() && IsCont(static_cast<unsigned char>(s[j]))) ++j;
        items.push_back(MakeString(s.substr(i, j - i)));
        i = j;
      }
      return out;
    }
    size_t pos = 0;
    while (items.size() < lim) {
      size_t i = s.find(sep, pos);
      if (i == std::string::npos) {
        items.push_back(MakeString(s.substr(pos)));
        break;
      }
      items.push_back(MakeString(s.substr(pos, i - pos)));
      pos = i + sep.size();
    }
    return out;
  }
  Value m = CallMatcher(ev, Arg(a, 1), Arg(a, 0), site.env);
  if (m.IsUndefined()) {
    items.push_back(Arg(a, 0));
    return out;
  }
  size_t start = 0, count = 0;
  while (m.IsDefined() && count < lim) {
    size_t ms = static_cast<size_t>(Field(m, "start"));
    if (ms < start) ms = start;
    items.push_back(MakeString(s.substr(start, ms - start)));
    start = static_cast<size_t>(Field(m, "end"));
    m = MatchNext(ev, m, site.env);
    ++count;
  }
  if (count < lim) items.push_back(MakeString(start <= s.size() ? s.substr(start) : ""));
  return out;
}

Value FnJoin(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  std::string sep = Arg(a, 1).IsString() ? Str(a, 1) : "";
  std::string out;
  bool first = true;
  for (const auto& v : Arg(a, 0).AsArray().items) {
    if (!first) out += sep;
    first = false;
    out += v.AsString();
    CheckSize(static_cast<double>(out.size()));
  }
  return MakeString(std::move(out));
}

Value FnMatch(Evaluator& ev, Args& a, const CallSite& site) {
  if (Arg(a, 0).IsUndefined()) return Value();
  if (Arg(a, 2).IsDefined() && Arg(a, 2).AsNumber() < 0) ThrowError("D3040", Arg(a, 2));
  Value out = NewSequence();
  bool unlimited = Arg(a, 2).IsUndefined();
  double limit = unlimited ? 0 : Arg(a, 2).AsNumber();
  if (!unlimited && limit <= 0) return out;
  const std::string& s = Str(a, 0);
  bool native = IsNativeRegex(Arg(a, 1));
  Value m = CallMatcher(ev, Arg(a, 1), Arg(a, 0), site.env);
  double count = 0;
  while (m.IsDefined() && (unlimited || count < limit)) {
    Value o = NewObject();
    const Value* mv = m.AsObject().Find("match");
    o.MutObject().Set("match", mv != nullptr ? *mv : Value());
    double start = Field(m, "start");
    if (native) start = static_cast<double>(Utf16Index(s, static_cast<size_t>(start)));
    o.MutObject().Set("index", Value::Number(start));
    const Value* g = m.AsObject().Find("groups");
    o.MutObject().Set("groups", g != nullptr ? *g : NewArray());
    out.MutArray().items.push_back(o);
    m = MatchNext(ev, m, site.env);
    ++count;
  }
  return out;
}

// Expands $0, $1.. $nn and $$ in a replacement string, as the reference does.
std::string ExpandReplacement(const std::string& rep, std::string_view match,
                              const std::vector<std::optional<std::string>>& groups) {
  std::string out;
  size_t pos = 0;
  size_t idx = rep.find('$', pos);
  while (idx != std::string::npos && pos < rep.size()) {
    out += rep.substr(pos, idx - pos);
    pos = idx + 1;
    char c = pos < rep.size() ? rep[pos] : '\0';
    if (c == '$') {
      out.push_back('$');
      ++pos;
    } else if (c == '0') {
      out += match;
      ++pos;
    } else {
      size_t max_digits = groups.empty() ? 1 : static_cast<size_t>(std::floor(std::log10(static_cast<double>(groups.size())))) + 1;
      auto parse = [&](size_t nd) -> long {
        std::string d;
        for (size_t k = pos; k < rep.size() && k < pos + nd && rep[k] >= '0' && rep[k] <= '9'; ++k) d.push_back(rep[k]);
        return d.empty() ? -1 : std::stol(d);
      };
      long n = parse(max_digits);
      if (max_digits > 1 && n > static_cast<long>(groups.size())) n = parse(max_digits - 1);
      if (n >= 0) {
        if (!groups.empty() && n >= 1 && static_cast<size_t>(n) <= groups.size()) {
          const auto& g = groups[static_cast<size_t>(n - 1)];
          if (g) out += *g;
        }
        pos += std::to_string(n).size();
      } else {
        out.push_back('$');
      }
    }
    idx = rep.find('$', pos);
  }
  if (pos < rep.size()) out += rep.substr(pos);
  return out;
}

Value FnReplace(Evaluator& ev, Args& a, const CallSite& site) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  if (Arg(a, 1).IsString() && Str(a, 1).empty()) ThrowError("D3010", Arg(a, 1));
  if (Arg(a, 3).IsDefined() && Arg(a, 3).AsNumber() < 0) ThrowError("D3011", Arg(a, 3));
  bool unlimited = Arg(a, 3).IsUndefined();
  double limit = unlimited ? 0 : Arg(a, 3).AsNumber();
  if (!unlimited && limit <= 0) return Arg(a, 0);
  std::string out;
  double count = 0;
  if (Arg(a, 1).IsString()) {
    const std::string& pat = Str(a, 1);
    std::string rep = Arg(a, 2).IsString() ? Str(a, 2) : ToJsString(Arg(a, 2));
    size_t pos = 0;
    size_t i = s.find(pat, pos);
    while (i != std::string::npos && (unlimited || count < limit)) {
      out += s.substr(pos, i - pos);
      out += rep;
      CheckSize(static_cast<double>(out.size()));
      pos = i + pat.size();
      ++count;
      i = s.find(pat, pos);
    }
    out += s.substr(pos);
    return MakeString(std::move(out));
  }
  if (IsNativeRegex(Arg(a, 1)) && Arg(a, 2).IsString()) {
    // Native regex with a string replacement: no match objects are built.
    const Regex& re = *Arg(a, 1).AsFunction().regex;
    auto m = re.Find(s, 0);
    if (!m) return Arg(a, 0);
    size_t pos = 0;
    while (m && (unlimited || count < limit)) {
      out.append(s, pos, m->start - pos);
      out += ExpandReplacement(Str(a, 2), std::string_view(s).substr(m->start, m->end - m->start), m->groups);
      CheckStringSize(out.size());
      pos = m->end;
      ++count;
      if (m->end >= s.size()) break;
      m = re.Find(s, m->end);
      if (m && m->start == m->end) ThrowError("D1004", MakeString(re.source()));
    }
    out.append(s, pos, std::string::npos);
    return MakeString(std::move(out));
  }
  Value m = CallMatcher(ev, Arg(a, 1), Arg(a, 0), site.env);
  if (m.IsUndefined()) return Arg(a, 0);
  size_t pos = 0;
  while (m.IsDefined() && (unlimited || count < limit)) {
    size_t ms = static_cast<size_t>(Field(m, "start"));
    if (ms >= pos && ms <= s.size()) out += s.substr(pos, ms - pos);
    std::string with;
    if (Arg(a, 2).IsString()) {
      std::vector<std::optional<std::string>> groups;
      if (const Value* gv = m.AsObject().Find("groups"); gv != nullptr && gv->IsArray()) {
        for (const auto& g : gv->AsArray().items) {
          groups.push_back(g.IsString() ? std::optional<std::string>(g.AsString()) : std::nullopt);
        }
      }
      with = ExpandReplacement(Str(a, 2), FieldStr(m, "match"), groups);
    } else {
      Value r = ev.Apply(Arg(a, 2), Args{m}, Value(), site.env);
      if (!r.IsString()) ThrowError("D3012", r);
      with = r.AsString();
    }
    out += with;
    CheckSize(static_cast<double>(out.size()));
    pos = ms + FieldStr(m, "match").size();
    ++count;
    m = MatchNext(ev, m, site.env);
  }
  if (pos < s.size()) out += s.substr(pos);
  return MakeString(std::move(out));
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Value FnBase64Encode(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  std::string out;
  size_t i = 0;
  while (i + 2 < s.size()) {
    uint32_t n = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) |
                 static_cast<unsigned char>(s[i + 2]);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
    i += 3;
  }
  if (i + 1 == s.size()) {
    uint32_t n = static_cast<unsigned char>(s[i]) << 16;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t n = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += '=';
  }
  return MakeString(std::move(out));
}

Value FnBase64Decode(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : s) {
    const char* p = std::strchr(kB64, c);
    if (c == '=' || c == '\0' || p == nullptr) continue;
    buf = (buf << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  return MakeString(std::move(out));
}

bool Unreserved(unsigned char c, bool component) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  if (std::strchr("-_.!~*'()", c) != nullptr && c != 0) return true;
  if (!component && c != 0 && std::strchr(";,/?:@&=+$#", c) != nullptr) return true;
  return false;
}

Value Encode(const Args& a, bool component, const char* name) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (Unreserved(c, component)) {
      out.push_back(static_cast<char>(c));
    } else {
      if (c == 0xED && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xE0) == 0xA0) {
        JError e("D3140");  // an encoded lone surrogate
        e.Token(name);
        e.value = Arg(a, 0);
        throw e;
      }
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return MakeString(std::move(out));
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Value Decode(const Args& a, bool component, const char* name) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string& s = Str(a, 0);
  auto fail = [&]() {
    JError e("D3140");
    e.Token(name);
    e.value = Arg(a, 0);
    throw e;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    // decode one UTF-8 sequence of %XX escapes
    auto byte_at = [&](size_t at) -> int {
      if (at + 2 >= s.size() || s[at] != '%') return -1;
      int h = HexVal(s[at + 1]), l = HexVal(s[at + 2]);
      if (h < 0 || l < 0) return -1;
      return h * 16 + l;
    };
    int b0 = byte_at(i);
    if (b0 < 0) fail();
    int extra = b0 < 0x80 ? 0 : (b0 & 0xE0) == 0xC0 ? 1 : (b0 & 0xF0) == 0xE0 ? 2 : (b0 & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0) fail();
    std::string seq(1, static_cast<char>(b0));
    size_t j = i + 3;
    for (int k = 0; k < extra; ++k) {
      int b = byte_at(j);
      if (b < 0 || (b & 0xC0) != 0x80) fail();
      seq.push_back(static_cast<char>(b));
      j += 3;
    }
    if (extra == 0 && !component && b0 != 0 && std::strchr(";,/?:@&=+$#", b0) != nullptr) {
      out += s.substr(i, 3);  // decodeURI keeps reserved characters escaped
    } else {
      out += seq;
    }
    i = j - 1;
  }
  return MakeString(std::move(out));
}

Value FnEncodeUrlComponent(Evaluator&, Args& a, const CallSite&) { return Encode(a, true, "encodeUrlComponent"); }
Value FnEncodeUrl(Evaluator&, Args& a, const CallSite&) { return Encode(a, false, "encodeUrl"); }
Value FnDecodeUrlComponent(Evaluator&, Args& a, const CallSite&) { return Decode(a, true, "decodeUrlComponent"); }
Value FnDecodeUrl(Evaluator&, Args& a, const CallSite&) { return Decode(a, false, "decodeUrl"); }

}  // namespace

void AddStringFunctions(std::vector<Builtin>& t) {
  std::vector<Builtin> add = {
      {"string", "<x-b?:s>", FnString, 1, nullptr},
      {"substring", "<s-nn?:s>", FnSubstring, 3, nullptr},
      {"substringBefore", "<s-s:s>", FnSubstringBefore, 2, nullptr},
      {"substringAfter", "<s-s:s>", FnSubstringAfter, 2, nullptr},
      {"lowercase", "<s-:s>", FnLowercase, 1, nullptr},
      {"uppercase", "<s-:s>", FnUppercase, 1, nullptr},
      {"length", "<s-:n>", FnLength, 1, nullptr},
      {"trim", "<s-:s>", FnTrim, 1, nullptr},
      {"pad", "<s-ns?:s>", FnPad, 3, nullptr},
      {"contains", "<s-(sf):b>", FnContains, 2, nullptr},
      {"split", "<s-(sf)n?:a<s>>", FnSplit, 3, nullptr},
      {"join", "<a<s>s?:s>", FnJoin, 2, nullptr},
      {"match", "<s-f<s:o>n?:a<o>>", FnMatch, 3, nullptr},
      {"replace", "<s-(sf)(sf)n?:s>", FnReplace, 4, nullptr},
      {"base64encode", "<s-:s>", FnBase64Encode, 1, nullptr},
      {"base64decode", "<s-:s>", FnBase64Decode, 1, nullptr},
      {"encodeUrlComponent", "<s-:s>", FnEncodeUrlComponent, 1, nullptr},
      {"encodeUrl", "<s-:s>", FnEncodeUrl, 1, nullptr},
      {"decodeUrlComponent", "<s-:s>", FnDecodeUrlComponent, 1, nullptr},
      {"decodeUrl", "<s-:s>", FnDecodeUrl, 1, nullptr},
  };
  t.insert(t.end(), add.begin(), add.end());
}

}  // namespace stratus::jsonata::internal
