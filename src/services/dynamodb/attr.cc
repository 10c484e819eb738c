#include "services/dynamodb/attr.h"

#include <algorithm>
#include <set>

#include "core/strings.h"

namespace stratus::services::dynamodb {

namespace {

constexpr std::string_view kTypes[] = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"};

// Key type tags inside encoded keys, so that values of different types never collide.
constexpr char kTagS = 'S';
constexpr char kTagN = 'N';
constexpr char kTagB = 'B';

void AppendEscaped(std::string& out, std::string_view bytes) {
  // 0x00 -> 0x00 0xFF, terminated by 0x00 0x01: order-preserving and self-delimiting. The runs
  // between zero bytes (usually the whole value) are appended whole.
  for (size_t zero = bytes.find('\0'); zero != std::string_view::npos; zero = bytes.find('\0')) {
    out.append(bytes.data(), zero + 1);
    out.push_back('\xFF');
    bytes.remove_prefix(zero + 1);
  }
  out.append(bytes.data(), bytes.size());
  out.push_back('\0');
  out.push_back('\x01');
}

// A number already in the form Decimal::Format writes: an integer without leading zeros (or
// "0") of at most 38 digits. Normalizing it would give it back unchanged.
bool CanonicalInteger(std::string_view s) {
  if (s == "0") return true;
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  size_t digits = s.size() - i;
  if (digits == 0 || digits > 38 || s[i] == '0') return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool ReadEscaped(std::string_view in, size_t& pos, std::string& out) {
  while (pos < in.size()) {
    char c = in[pos++];
    if (c != '\0') {
      out.push_back(c);
      continue;
    }
    if (pos >= in.size()) return false;
    char n = in[pos++];
    if (n == '\x01') return true;
    if (n != '\xFF') return false;
    out.push_back('\0');
  }
  return false;
}

std::string Preview(const Json& list) {
  std::string s = "[";
  bool first = true;
  for (const auto& e : list) {
    if (!first) s += ", ";
    first = false;
    s += e.is_string() ? e.get<std::string>() : e.dump();
  }
  return s + "]";
}

// The significant digits of a plain decimal ("-012.50" has 3: "125"), or -1 when `s` is not
// -?[0-9]+(.[0-9]+)? of at most kMaxPlainLength characters and 38 significant digits: such a
// string is within DynamoDB's range, so Decimal::Parse would accept it with the same digits.
int PlainSignificantDigits(std::string_view s) {
  constexpr size_t kMaxPlainLength = 100;  // magnitudes 1E-98 .. 1E+100, inside the limits
  if (s.size() > kMaxPlainLength) return -1;
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  int position = 0, first_nonzero = -1, last_nonzero = -1;
  bool dot = false, digit_before = false, digit_after = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (dot || !digit_before) return -1;
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return -1;
    (dot ? digit_after : digit_before) = true;
    if (c != '0') {
      if (first_nonzero < 0) first_nonzero = position;
      last_nonzero = position;
    }
    ++position;
  }
  if (!digit_before || (dot && !digit_after)) return -1;
  int n = first_nonzero < 0 ? 0 : last_nonzero - first_nonzero + 1;
  return n > 38 ? -1 : n;
}

size_t NumberStorageSize(const std::string& text) {
  int digits = PlainSignificantDigits(text);
  if (digits >= 0) return (static_cast<size_t>(digits) + 1) / 2 + 1;  // Decimal::StorageSize
  auto d = Decimal::Parse(text);
  return d.ok() ? d->StorageSize() : Decimal().StorageSize();
}

// Appends `v` as DumpJson writes it (AppendJsonString escapes strings as nlohmann's serializer
// does); false on what the fast writer leaves to DumpJson (numbers, null, binary, invalid
// UTF-8, which DumpJson replaces), none of which occur in a normalized item.
bool AppendItemJson(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      // The ordered map's pairs directly: nlohmann's iterators cost more than the writing.
      for (const auto& [key, member] : v.get_ref<const Json::object_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        if (!AppendJsonString(out, key)) return false;
        out.push_back(':');
        if (!AppendItemJson(out, member)) return false;
      }
      out.push_back('}');
      return true;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const Json& e : v.get_ref<const Json::array_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        if (!AppendItemJson(out, e)) return false;
      }
      out.push_back(']');
      return true;
    }
    case Json::value_t::string: return AppendJsonString(out, v.get_ref<const std::string&>());
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return true;
    default: return false;
  }
}

}  // namespace

std::string ItemText(const Json& item) {
  std::string out;
  out.reserve(256);
  if (!AppendItemJson(out, item)) return DumpJson(item);
  return out;
}

Error Validation(std::string message) { return Error("ValidationException", std::move(message)); }
Error InvalidParam(std::string message) {
  return Validation("One or more parameter values were invalid: " + std::move(message));
}

std::string_view TypeOf(const Json& v) {
  if (!v.is_object() || v.size() != 1) return {};
  const std::string& k = v.begin().key();
  for (auto t : kTypes) {
    if (k == t) return t;
  }
  return {};
}

bool IsScalarKeyType(std::string_view t) { return t == "S" || t == "N" || t == "B"; }

Status NormalizeValue(Json& v, int depth) {
  if (!v.is_object() || v.empty()) {
    return Validation(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  }
  if (v.size() > 1) {
    return Validation(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
        "supported datatypes");
  }
  if (depth > kMaxAttrDepth) {
    return Validation("Nesting Levels have exceeded supported limits: Nesting level (" +
                      std::to_string(depth) + ") exceeded maximum allowed nesting level (32)");
  }
  const std::string key = v.begin().key();
  Json& x = v.begin().value();
  if (key == "S") {
    if (!x.is_string()) return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    return Status::Ok();
  }
  if (key == "N") {
    if (!x.is_string()) return Validation("The parameter cannot be converted to a numeric value");
    if (CanonicalInteger(x.get_ref<const std::string&>())) return Status::Ok();
    STRATUS_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(x.get_ref<const std::string&>()));
    x.get_ref<std::string&>() = d.Format();  // in place: no new JSON string
    return Status::Ok();
  }
  if (key == "B") {
    if (!x.is_string()) return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    auto raw = Base64Decode(x.get_ref<const std::string&>());
    if (!raw) return Validation("Invalid Base64 value for a binary attribute");
    x = Base64Encode(*raw);
    return Status::Ok();
  }
  if (key == "BOOL") {
    if (!x.is_boolean()) return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    return Status::Ok();
  }
  if (key == "NULL") {
    if (!x.is_boolean() || !x.get<bool>()) {
      return InvalidParam("Null attribute value types must have the value of true");
    }
    return Status::Ok();
  }
  if (key == "SS") {
    if (!x.is_array() || x.empty()) return InvalidParam("An string set  may not be empty");
    std::set<std::string> seen;
    for (const auto& e : x) {
      if (!e.is_string()) return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
      if (!seen.insert(e.get<std::string>()).second) {
        return InvalidParam("Input collection " + Preview(x) + " contains duplicates.");
      }
    }
    return Status::Ok();
  }
  if (key == "NS") {
    if (!x.is_array() || x.empty()) return InvalidParam("An number set  may not be empty");
    std::set<std::string> seen;
    for (auto& e : x) {
      if (!e.is_string()) return Validation("The parameter cannot be converted to a numeric value");
      STRATUS_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(e.get_ref<const std::string&>()));
      e = d.Format();
      if (!seen.insert(e.get<std::string>()).second) {
        return Validation("Input collection contains duplicates");
      }
    }
    return Status::Ok();
  }
  if (key == "BS") {
    if (!x.is_array() || x.empty()) return InvalidParam("Binary sets should not be empty");
    std::set<std::string> seen;
    for (auto& e : x) {
      if (!e.is_string()) return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
      auto raw = Base64Decode(e.get_ref<const std::string&>());
      if (!raw) return Validation("Invalid Base64 value for a binary attribute");
      if (!seen.insert(*raw).second) {
        return InvalidParam("Input collection " + Preview(x) + "of type BS contains duplicates.");
      }
      e = Base64Encode(*raw);
    }
    return Status::Ok();
  }
  if (key == "M") {
    if (!x.is_object()) return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    for (Json& e : x) STRATUS_RETURN_IF_ERROR(NormalizeValue(e, depth + 1));  // a map's values
    return Status::Ok();
  }
  if (key == "L") {
    if (!x.is_array()) return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    for (auto& e : x) STRATUS_RETURN_IF_ERROR(NormalizeValue(e, depth + 1));
    return Status::Ok();
  }
  return Validation(
      "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
}

Status NormalizeItem(Json& item) {
  if (!item.is_object()) return Validation("Item must be a map");
  for (Json& v : item) STRATUS_RETURN_IF_ERROR(NormalizeValue(v));  // the attributes' values
  return Status::Ok();
}

size_t ValueSize(const Json& v) {
  std::string_view t = TypeOf(v);
  if (t.empty()) return 0;
  const Json& x = v.begin().value();
  if (t == "S") return x.get_ref<const std::string&>().size();
  if (t == "N") return NumberStorageSize(x.get_ref<const std::string&>());
  if (t == "B") return BytesOf(v).size();
  if (t == "BOOL" || t == "NULL") return 1;
  if (t == "SS") {
    size_t n = 0;
    for (const auto& e : x) n += e.get_ref<const std::string&>().size();
    return n;
  }
  if (t == "NS") {
    size_t n = 0;
    for (const auto& e : x) n += NumberStorageSize(e.get_ref<const std::string&>());
    return n;
  }
  if (t == "BS") {
    size_t n = 0;
    for (const auto& e : x) {
      auto raw = Base64Decode(e.get_ref<const std::string&>());
      n += raw ? raw->size() : 0;
    }
    return n;
  }
  if (t == "M") {
    size_t n = 3;
    for (auto it = x.begin(); it != x.end(); ++it) n += it.key().size() + ValueSize(*it) + 1;
    return n;
  }
  if (t == "L") {
    size_t n = 3;
    for (const auto& e : x) n += ValueSize(e) + 1;
    return n;
  }
  return 0;
}

size_t ItemSize(const Json& item) {
  size_t n = 0;
  for (auto it = item.begin(); it != item.end(); ++it) n += it.key().size() + ValueSize(*it);
  return n;
}

Decimal NumberOf(const Json& v) {
  auto d = Decimal::Parse(v.begin().value().get_ref<const std::string&>());
  return d.ok() ? *d : Decimal();
}

std::string BytesOf(const Json& v) {
  auto raw = Base64Decode(v.begin().value().get_ref<const std::string&>());
  return raw ? *raw : std::string();
}

bool ValuesEqual(const Json& a, const Json& b) {
  std::string_view ta = TypeOf(a), tb = TypeOf(b);
  if (ta != tb || ta.empty()) return false;
  const Json& x = a.begin().value();
  const Json& y = b.begin().value();
  if (ta == "N") return Decimal::Compare(NumberOf(a), NumberOf(b)) == 0;
  if (ta == "B") return BytesOf(a) == BytesOf(b);
  if (ta == "SS" || ta == "NS" || ta == "BS") {
    if (x.size() != y.size()) return false;
    std::set<std::string> sx, sy;
    for (const auto& e : x) sx.insert(ta == "NS" ? Decimal::Parse(e.get<std::string>())->Format() : e.get<std::string>());
    for (const auto& e : y) sy.insert(ta == "NS" ? Decimal::Parse(e.get<std::string>())->Format() : e.get<std::string>());
    return sx == sy;
  }
  if (ta == "M") {
    if (x.size() != y.size()) return false;
    for (const auto& [k, e] : x.items()) {
      auto it = y.find(k);
      if (it == y.end() || !ValuesEqual(e, *it)) return false;
    }
    return true;
  }
  if (ta == "L") {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!ValuesEqual(x[i], y[i])) return false;
    }
    return true;
  }
  return x == y;
}

bool CompareScalars(const Json& a, const Json& b, int& out) {
  std::string_view ta = TypeOf(a), tb = TypeOf(b);
  if (ta != tb || !IsScalarKeyType(ta)) return false;
  if (ta == "N") {
    out = Decimal::Compare(NumberOf(a), NumberOf(b));
    return true;
  }
  std::string x = ta == "B" ? BytesOf(a) : a.begin().value().get<std::string>();
  std::string y = ta == "B" ? BytesOf(b) : b.begin().value().get<std::string>();
  int c = x.compare(y);
  out = c < 0 ? -1 : (c > 0 ? 1 : 0);
  return true;
}

std::string EncodeKeyValue(const Json& v) {
  std::string_view t = TypeOf(v);
  std::string out;
  if (t == "N") {
    out.push_back(kTagN);
    out += NumberOf(v).EncodeOrdered();
  } else if (t == "B") {
    out.push_back(kTagB);
    AppendEscaped(out, BytesOf(v));
  } else {
    out.push_back(kTagS);
    AppendEscaped(out, v.begin().value().get_ref<const std::string&>());
  }
  return out;
}

bool DecodeKeyValue(std::string_view type, std::string_view in, size_t& pos, Json& out) {
  if (pos >= in.size()) return false;
  char tag = in[pos++];
  if (type == "S" && tag == kTagS) {
    std::string s;
    if (!ReadEscaped(in, pos, s)) return false;
    out = Json{{"S", std::move(s)}};
    return true;
  }
  if (type == "B" && tag == kTagB) {
    std::string s;
    if (!ReadEscaped(in, pos, s)) return false;
    out = Json{{"B", Base64Encode(s)}};
    return true;
  }
  if (type == "N" && tag == kTagN) {
    if (pos >= in.size()) return false;
    char cls = in[pos++];
    if (cls == '\x02') {
      out = Json{{"N", "0"}};
      return true;
    }
    bool neg = cls == '\x01';
    auto get = [&](unsigned char& b) {
      if (pos >= in.size()) return false;
      b = static_cast<unsigned char>(in[pos++]);
      if (neg) b = static_cast<unsigned char>(~b);
      return true;
    };
    unsigned char e;
    if (!get(e)) return false;
    int exponent = static_cast<int>(e) - 129;
    std::string digits;
    for (;;) {
      unsigned char d;
      if (!get(d)) return false;
      if (d == 0) break;
      digits.push_back(static_cast<char>('0' + d - 1));
    }
    std::string text = (neg ? "-0." : "0.") + digits + "E" + std::to_string(exponent);
    auto dec = Decimal::Parse(text);
    if (!dec.ok()) return false;
    out = Json{{"N", dec->Format()}};
    return true;
  }
  return false;
}

}  // namespace stratus::services::dynamodb
