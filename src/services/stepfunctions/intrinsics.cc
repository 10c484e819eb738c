// The intrinsic functions of the JSONPath query language (States.Format, States.Array, ...),
// with AWS's argument rules. Errors are States.Runtime as AWS reports them.
#include <openssl/evp.h>

#include <cmath>
#include <random>
#include <set>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/stepfunctions/expressions.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr size_t kMaxArrayRangeItems = 1000;

Error Runtime(std::string m) { return Error("States.Runtime", std::move(m)); }

Error ArgCount(std::string_view name, size_t want_min, size_t want_max, size_t got) {
  return Runtime("The intrinsic function " + std::string(name) + " expects " +
                 (want_min == want_max ? std::to_string(want_min)
                                       : std::to_string(want_min) + " to " + std::to_string(want_max)) +
                 " argument(s) but got " + std::to_string(got) + ".");
}

Error ArgType(std::string_view name, size_t index, std::string_view want) {
  return Runtime("The intrinsic function " + std::string(name) + " expects argument " +
                 std::to_string(index + 1) + " to be of type " + std::string(want) + ".");
}

std::string FormatNumber(const Json& v) {
  if (v.is_number_integer()) return v.dump();
  double d = v.get<double>();
  if (std::floor(d) == d && std::fabs(d) < 1e15) {
    // Java prints a whole double as "1.0"; AWS's Format shows the JSON text it parsed.
    return v.dump();
  }
  return v.dump();
}

// Java's toString of the JSON value (Map/List forms), as States.Format renders arguments.
std::string JavaString(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return FormatNumber(v);
  if (v.is_array()) {
    std::string out = "[";
    bool first = true;
    for (const auto& e : v) {
      if (!first) out += ", ";
      first = false;
      out += JavaString(e);
    }
    return out + "]";
  }
  std::string out = "{";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!first) out += ", ";
    first = false;
    out += it.key() + "=" + JavaString(it.value());
  }
  return out + "}";
}

Result<Json> Format(std::vector<Json>& a) {
  if (a.empty()) return ArgCount("States.Format", 1, 1, 0);
  if (!a[0].is_string()) return ArgType("States.Format", 0, "string");
  const std::string& t = a[0].get_ref<const std::string&>();
  std::string out;
  size_t next = 1;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '\\' && i + 1 < t.size() && (t[i + 1] == '{' || t[i + 1] == '}' || t[i + 1] == '\\' || t[i + 1] == '\'')) {
      out.push_back(t[++i]);
      continue;
    }
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '}') {
      if (next >= a.size()) {
        return Runtime("The number of arguments to States.Format does not match the number of placeholders.");
      }
      out += JavaString(a[next++]);
      ++i;
      continue;
    }
    out.push_back(c);
  }
  if (next != a.size()) {
    return Runtime("The number of arguments to States.Format does not match the number of placeholders.");
  }
  return Json(out);
}

bool IsInt(const Json& v) {
  return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
}

int64_t JavaRound(double d) { return static_cast<int64_t>(std::floor(d + 0.5)); }

Result<Json> HashOf(const Json& data, const Json& algo) {
  if (!algo.is_string()) return ArgType("States.Hash", 1, "string");
  std::string name = algo.get<std::string>();
  const EVP_MD* md = nullptr;
  if (name == "MD5") md = EVP_md5();
  if (name == "SHA-1") md = EVP_sha1();
  if (name == "SHA-256") md = EVP_sha256();
  if (name == "SHA-384") md = EVP_sha384();
  if (name == "SHA-512") md = EVP_sha512();
  if (!md) {
    return Runtime("The hashing algorithm '" + name +
                   "' is not supported. Supported algorithms: MD5, SHA-1, SHA-256, SHA-384, SHA-512.");
  }
  std::string text = data.is_string() ? data.get<std::string>() : DumpJson(data);
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), buf, &len, md, nullptr);
  return Json(HexEncode(std::string_view(reinterpret_cast<const char*>(buf), len)));
}

}  // namespace

Result<Json> CallIntrinsic(std::string_view name, std::vector<Json> a) {
  auto need = [&](size_t lo, size_t hi) -> std::optional<Error> {
    if (a.size() < lo || a.size() > hi) return ArgCount(name, lo, hi, a.size());
    return std::nullopt;
  };
  if (name == "States.Format") return Format(a);
  if (name == "States.StringToJson") {
    if (auto e = need(1, 1)) return *e;
    if (!a[0].is_string()) return ArgType(name, 0, "string");
    const std::string& s = a[0].get_ref<const std::string&>();
    if (Trim(s).empty()) return Json();
    Json j = ParseJsonOrDiscarded(s);
    if (j.is_discarded()) return Runtime("The input '" + s + "' to States.StringToJson is not valid JSON.");
    return j;
  }
  if (name == "States.JsonToString") {
    if (auto e = need(1, 1)) return *e;
    return Json(DumpJson(a[0]));
  }
  if (name == "States.Array") return Json(std::move(a));
  if (name == "States.ArrayPartition") {
    if (auto e = need(2, 2)) return *e;
    if (!a[0].is_array()) return ArgType(name, 0, "array");
    if (!IsInt(a[1]) || a[1].get<double>() <= 0) {
      return Runtime("The chunk size argument to States.ArrayPartition must be a positive integer.");
    }
    size_t size = static_cast<size_t>(a[1].get<double>());
    Json out = Json::array(), chunk = Json::array();
    for (auto& v : a[0]) {
      chunk.push_back(std::move(v));
      if (chunk.size() == size) {
        out.push_back(std::move(chunk));
        chunk = Json::array();
      }
    }
    if (!chunk.empty()) out.push_back(std::move(chunk));
    return out;
  }
  if (name == "States.ArrayContains") {
    if (auto e = need(2, 2)) return *e;
    if (!a[0].is_array()) return ArgType(name, 0, "array");
    for (const auto& v : a[0]) {
      if (v == a[1]) return Json(true);
    }
    return Json(false);
  }
  if (name == "States.ArrayRange") {
    if (auto e = need(3, 3)) return *e;
    for (size_t i = 0; i < 3; ++i) {
      if (!a[i].is_number()) return ArgType(name, i, "number");
    }
    int64_t start = JavaRound(a[0].get<double>()), end = JavaRound(a[1].get<double>()),
            step = JavaRound(a[2].get<double>());
    if (step == 0) return Runtime("The step argument to States.ArrayRange must not be zero.");
    Json out = Json::array();
    for (int64_t v = start; step > 0 ? v <= end : v >= end; v += step) {
      if (out.size() >= kMaxArrayRangeItems) {
        return Runtime("The array created by States.ArrayRange exceeds the maximum of 1000 items.");
      }
      out.push_back(v);
    }
    return out;
  }
  if (name == "States.ArrayGetItem") {
    if (auto e = need(2, 2)) return *e;
    if (!a[0].is_array()) return ArgType(name, 0, "array");
    if (!IsInt(a[1])) return ArgType(name, 1, "integer");
    int64_t i = static_cast<int64_t>(a[1].get<double>());
    if (i < 0 || i >= static_cast<int64_t>(a[0].size())) {
      return Runtime("The index " + std::to_string(i) + " is out of bounds for States.ArrayGetItem.");
    }
    return a[0][i];
  }
  if (name == "States.ArrayLength") {
    if (auto e = need(1, 1)) return *e;
    if (!a[0].is_array()) return ArgType(name, 0, "array");
    return Json(a[0].size());
  }
  if (name == "States.ArrayUnique") {
    if (auto e = need(1, 1)) return *e;
    if (!a[0].is_array()) return ArgType(name, 0, "array");
    Json out = Json::array();
    std::set<std::string> seen;
    for (auto& v : a[0]) {
      if (seen.insert(DumpJson(v)).second) out.push_back(std::move(v));
    }
    return out;
  }
  if (name == "States.Base64Encode") {
    if (auto e = need(1, 1)) return *e;
    if (!a[0].is_string()) return ArgType(name, 0, "string");
    return Json(Base64Encode(a[0].get<std::string>()));
  }
  if (name == "States.Base64Decode") {
    if (auto e = need(1, 1)) return *e;
    if (!a[0].is_string()) return ArgType(name, 0, "string");
    auto d = Base64Decode(a[0].get<std::string>());
    if (!d) return Runtime("The input to States.Base64Decode is not valid base64.");
    return Json(*d);
  }
  if (name == "States.Hash") {
    if (auto e = need(2, 2)) return *e;
    if (a[0].is_null()) return Runtime("The input to States.Hash must not be null.");
    return HashOf(a[0], a[1]);
  }
  if (name == "States.JsonMerge") {
    if (auto e = need(3, 3)) return *e;
    if (!a[0].is_object()) return ArgType(name, 0, "object");
    if (!a[1].is_object()) return ArgType(name, 1, "object");
    if (!a[2].is_boolean()) return ArgType(name, 2, "boolean");
    if (a[2].get<bool>()) return Runtime("States.JsonMerge supports only a shallow merge (false).");
    Json out = std::move(a[0]);
    for (auto it = a[1].begin(); it != a[1].end(); ++it) out[it.key()] = std::move(it.value());
    return out;
  }
  if (name == "States.MathRandom") {
    if (auto e = need(2, 3)) return *e;
    if (!a[0].is_number()) return ArgType(name, 0, "number");
    if (!a[1].is_number()) return ArgType(name, 1, "number");
    int64_t lo = JavaRound(a[0].get<double>()), hi = JavaRound(a[1].get<double>());
    if (hi <= lo) return Runtime("The end argument to States.MathRandom must be greater than the start.");
    std::mt19937_64 gen;
    if (a.size() == 3 && a[2].is_number()) {
      gen.seed(static_cast<uint64_t>(JavaRound(a[2].get<double>())));
    } else {
      std::random_device rd;
      gen.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
    }
    std::uniform_int_distribution<int64_t> dist(lo, hi - 1);
    return Json(dist(gen));
  }
  if (name == "States.MathAdd") {
    if (auto e = need(2, 2)) return *e;
    if (!a[0].is_number()) return ArgType(name, 0, "number");
    if (!a[1].is_number()) return ArgType(name, 1, "number");
    return Json(JavaRound(a[0].get<double>()) + JavaRound(a[1].get<double>()));
  }
  if (name == "States.StringSplit") {
    if (auto e = need(2, 2)) return *e;
    if (!a[0].is_string()) return ArgType(name, 0, "string");
    if (!a[1].is_string()) return ArgType(name, 1, "string");
    const std::string& s = a[0].get_ref<const std::string&>();
    const std::string& d = a[1].get_ref<const std::string&>();
    Json out = Json::array();
    std::string cur;
    for (char c : s) {
      if (d.find(c) != std::string::npos) {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
  }
  if (name == "States.UUID") {
    if (auto e = need(0, 0)) return *e;
    return Json(NewUuid());
  }
  return Runtime("The intrinsic function '" + std::string(name) + "' is not supported.");
}

}  // namespace stratus::services::stepfunctions
