#include "services/apigateway/request_validation.h"

#include <cmath>
#include <map>
#include <memory>
#include <set>

#include <re2/re2.h>

#include "core/strings.h"

namespace stratus::services::apigateway {
namespace {

constexpr std::string_view kModelUrlPrefix = "https://apigateway.amazonaws.com/restapis/";
constexpr int kMaxPrintDepth = 16;     // instance values quoted in messages
constexpr int kMaxCompareDepth = 256;  // enum / uniqueItems comparisons
constexpr int64_t kRegexMemBytes = 1 << 20;

std::string TypeName(const Json& v) {
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_null()) return "null";
  if (v.is_number_integer()) return "integer";
  return "number";
}

bool TypeMatches(std::string_view t, const Json& v) {
  if (t == "number") return v.is_number();
  return TypeName(v) == t;
}

bool ShallowerThan(const Json& v, int depth) {
  if (depth <= 0) return false;
  if (v.is_object() || v.is_array()) {
    for (const auto& e : v) {
      if (!ShallowerThan(e, depth - 1)) return false;
    }
  }
  return true;
}

// A value quoted in a message: JSON text, unless too nested to print safely.
std::string Quote(const Json& v) {
  return ShallowerThan(v, kMaxPrintDepth) ? v.dump() : std::string("(deeply nested value)");
}

// JSON equality as draft 4 defines it: objects regardless of member order, numbers by value.
// Returns nullopt when the values are too deep to compare.
std::optional<bool> JsonEquals(const Json& a, const Json& b, int depth = 0) {
  if (depth > kMaxCompareDepth) return std::nullopt;
  if (a.is_number() && b.is_number()) return a == b;  // nlohmann compares across kinds
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, av] : a.items()) {
      auto it = b.find(k);
      if (it == b.end()) return false;
      auto eq = JsonEquals(av, *it, depth + 1);
      if (!eq || !*eq) return eq;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      auto eq = JsonEquals(a[i], b[i], depth + 1);
      if (!eq || !*eq) return eq;
    }
    return true;
  }
  return a == b;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string JsonList(const std::vector<std::string>& names) {
  Json a = Json::array();
  for (const auto& n : names) a.push_back(n);
  return a.dump();
}

const Json* Find(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string PointerUnescape(std::string s) {
  s = ReplaceAll(std::move(s), "~1", "/");
  return ReplaceAll(std::move(s), "~0", "~");
}

// One validation run: owns the parsed models and compiled patterns it needed, counts its work.
class Validator {
 public:
  explicit Validator(const ModelSet& set) : set_(set), api_id_(set.api_id()) {}

  bool Validate(const Json& schema, const Json& doc, const Json& v, int depth, bool report);

  BodyValidation Take(bool ok) {
    result_.ok = ok && result_.config_error.empty();
    if (!result_.config_error.empty()) result_.errors.clear();
    return std::move(result_);
  }

  void ConfigError(std::string why) {
    if (result_.config_error.empty()) result_.config_error = std::move(why);
  }

 private:
  bool Aborted() const { return !result_.config_error.empty(); }

  void Fail(bool report, std::string message) {
    if (report && result_.errors.size() < kMaxReportedErrors) {
      result_.errors.push_back(std::move(message));
    }
  }

  const Json* Model(const std::string& name) {
    bool bad = false;
    const Json* m = set_.Schema(name, &bad);
    if (bad) ConfigError("model " + name + " has a schema that is not a JSON object");
    return m;
  }

  // The schema a $ref names and the document it lives in, or nullopt (config error set).
  std::optional<std::pair<const Json*, const Json*>> Resolve(const std::string& ref,
                                                             const Json& doc) {
    const Json* target_doc = &doc;
    std::string pointer;
    if (StartsWith(ref, kModelUrlPrefix)) {
      std::string rest = ref.substr(kModelUrlPrefix.size());
      auto hash = rest.find('#');
      if (hash != std::string::npos) {
        pointer = rest.substr(hash + 1);
        rest.resize(hash);
      }
      auto parts = Split(rest, '/');
      if (parts.size() != 3 || parts[1] != "models" || parts[2].empty()) {
        ConfigError("unsupported $ref " + ref);
        return std::nullopt;
      }
      if (!api_id_.empty() && parts[0] != api_id_) {
        ConfigError("$ref " + ref + " names a model of another API");
        return std::nullopt;
      }
      target_doc = Model(parts[2]);
      if (!target_doc) {
        ConfigError("$ref " + ref + " names no model of this API");
        return std::nullopt;
      }
    } else if (StartsWith(ref, "#")) {
      pointer = ref.substr(1);
    } else {
      ConfigError("unsupported $ref " + ref);
      return std::nullopt;
    }
    const Json* cur = target_doc;
    if (!pointer.empty()) {
      auto segs = Split(std::string_view(pointer).substr(pointer[0] == '/' ? 1 : 0), '/');
      for (const auto& raw : segs) {
        std::string seg = PointerUnescape(raw);
        if (cur->is_object() && cur->contains(seg)) {
          cur = &(*cur)[seg];
        } else if (cur->is_array() && ParseInt64(seg) && *ParseInt64(seg) >= 0 &&
                   static_cast<size_t>(*ParseInt64(seg)) < cur->size()) {
          cur = &(*cur)[static_cast<size_t>(*ParseInt64(seg))];
        } else {
          cur = nullptr;
          break;
        }
      }
      if (!cur && target_doc == &doc) {
        // Imported OpenAPI documents point at their definitions; each became a model.
        for (std::string_view prefix : {"/definitions/", "/components/schemas/"}) {
          if (StartsWith(pointer, prefix) &&
              pointer.find('/', prefix.size()) == std::string::npos) {
            std::string name = PointerUnescape(pointer.substr(prefix.size()));
            if (const Json* m = Model(name)) return std::make_pair(m, m);
          }
        }
      }
    }
    if (!cur) {
      if (!Aborted()) ConfigError("unresolvable $ref " + ref);
      return std::nullopt;
    }
    return std::make_pair(cur, target_doc);
  }

  const RE2* Regex(const std::string& pattern) {
    if (const RE2* pre = set_.Pattern(pattern)) return pre;
    auto it = regexes_.find(pattern);
    if (it != regexes_.end()) return it->second.get();
    if (pattern.size() > kMaxPatternBytes) {
      ConfigError("pattern longer than " + std::to_string(kMaxPatternBytes) + " bytes");
      return nullptr;
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(kRegexMemBytes);
    auto re = std::make_unique<RE2>(pattern, opts);
    if (!re->ok()) {
      ConfigError("pattern " + Json(pattern).dump() + " is not supported: " + re->error());
      return nullptr;
    }
    return regexes_.emplace(pattern, std::move(re)).first->second.get();
  }

  bool Count(int64_t n = 1) {
    steps_ += n;
    if (steps_ <= kMaxValidationSteps) return true;
    ConfigError("validation needed more than " + std::to_string(kMaxValidationSteps) + " steps");
    return false;
  }

  bool Numbers(const Json& s, const Json& v, bool report);
  bool Strings(const Json& s, const Json& v, bool report);
  bool Arrays(const Json& s, const Json& doc, const Json& v, int depth, bool report);
  bool Objects(const Json& s, const Json& doc, const Json& v, int depth, bool report);
  bool Combinators(const Json& s, const Json& doc, const Json& v, int depth, bool report);

  const ModelSet& set_;
  const std::string& api_id_;
  std::map<std::string, std::unique_ptr<RE2>> regexes_;  // patterns the set did not compile
  int64_t steps_ = 0;
  BodyValidation result_;
};

bool Validator::Validate(const Json& s, const Json& doc, const Json& v, int depth, bool report) {
  if (Aborted() || !Count()) return false;
  if (depth > kMaxSchemaDepth) {
    ConfigError("schema nesting or $ref chain deeper than " + std::to_string(kMaxSchemaDepth));
    return false;
  }
  if (!s.is_object()) return true;
  if (const Json* ref = Find(s, "$ref"); ref && ref->is_string()) {
    // Draft 4: a $ref replaces the schema it appears in; its siblings are ignored.
    auto target = Resolve(ref->get<std::string>(), doc);
    if (!target) return false;
    return Validate(*target->first, *target->second, v, depth + 1, report);
  }
  bool ok = true;
  if (const Json* t = Find(s, "type")) {
    std::vector<std::string> allowed;
    if (t->is_string()) allowed.push_back(t->get<std::string>());
    if (t->is_array()) {
      for (const auto& e : *t) {
        if (e.is_string()) allowed.push_back(e.get<std::string>());
      }
    }
    bool match = false;
    for (const auto& a : allowed) match = match || TypeMatches(a, v);
    if (!match && !allowed.empty()) {
      ok = false;
      Fail(report, "instance type (" + TypeName(v) +
                       ") does not match any allowed primitive type (allowed: " +
                       JsonList(allowed) + ")");
    }
  }
  if (const Json* e = Find(s, "enum"); e && e->is_array()) {
    bool found = false;
    for (const auto& candidate : *e) {
      if (!Count()) return false;
      auto eq = JsonEquals(candidate, v);
      if (!eq) {
        ConfigError("enum comparison nested deeper than " + std::to_string(kMaxCompareDepth));
        return false;
      }
      if (*eq) {
        found = true;
        break;
      }
    }
    if (!found) {
      ok = false;
      Fail(report, "instance value (" + Quote(v) + ") not found in enum (possible values: " +
                       Quote(*e) + ")");
    }
  }
  if (v.is_number()) ok = Numbers(s, v, report) && ok;
  if (v.is_string()) ok = Strings(s, v, report) && ok;
  if (v.is_array()) ok = Arrays(s, doc, v, depth, report) && ok;
  if (v.is_object()) ok = Objects(s, doc, v, depth, report) && ok;
  ok = Combinators(s, doc, v, depth, report) && ok;
  return ok && !Aborted();
}

bool Validator::Numbers(const Json& s, const Json& v, bool report) {
  bool ok = true;
  double d = v.get<double>();
  if (const Json* m = Find(s, "minimum"); m && m->is_number()) {
    bool exclusive = s.value("exclusiveMinimum", Json(false)) == Json(true);
    double lo = m->get<double>();
    if (exclusive ? !(d > lo) : d < lo) {
      ok = false;
      Fail(report, exclusive ? "numeric instance is not strictly greater than the required "
                               "minimum " + m->dump()
                             : "numeric instance is lower than the required minimum (minimum: " +
                                   m->dump() + ", found: " + v.dump() + ")");
    }
  }
  if (const Json* m = Find(s, "maximum"); m && m->is_number()) {
    bool exclusive = s.value("exclusiveMaximum", Json(false)) == Json(true);
    double hi = m->get<double>();
    if (exclusive ? !(d < hi) : d > hi) {
      ok = false;
      Fail(report, exclusive ? "numeric instance is not strictly lower than the required "
                               "maximum " + m->dump()
                             : "numeric instance is greater than the required maximum "
                               "(maximum: " + m->dump() + ", found: " + v.dump() + ")");
    }
  }
  if (const Json* m = Find(s, "multipleOf"); m && m->is_number() && m->get<double>() > 0) {
    bool multiple;
    if (m->is_number_integer() && v.is_number_integer() && m->get<double>() <= 9.0e18) {
      int64_t mm = m->get<int64_t>();  // >= 1
      multiple = v.is_number_unsigned() ? v.get<uint64_t>() % static_cast<uint64_t>(mm) == 0
                                        : v.get<int64_t>() % mm == 0;
    } else {
      double q = d / m->get<double>();
      multiple = std::isfinite(q) &&
                 std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
    }
    if (!multiple) {
      ok = false;
      Fail(report, "remainder of division is not zero (" + v.dump() + " / " + m->dump() + ")");
    }
  }
  return ok;
}

bool Validator::Strings(const Json& s, const Json& v, bool report) {
  bool ok = true;
  const std::string& str = v.get_ref<const std::string&>();
  if (const Json* m = Find(s, "minLength"); m && m->is_number_integer()) {
    size_t n = CodePoints(str);
    if (static_cast<int64_t>(n) < m->get<int64_t>()) {
      ok = false;
      Fail(report, "string " + Quote(v) + " is too short (length: " + std::to_string(n) +
                       ", required minimum: " + m->dump() + ")");
    }
  }
  if (const Json* m = Find(s, "maxLength"); m && m->is_number_integer()) {
    size_t n = CodePoints(str);
    if (static_cast<int64_t>(n) > m->get<int64_t>()) {
      ok = false;
      Fail(report, "string " + Quote(v) + " is too long (length: " + std::to_string(n) +
                       ", maximum allowed: " + m->dump() + ")");
    }
  }
  if (const Json* p = Find(s, "pattern"); p && p->is_string()) {
    const RE2* re = Regex(p->get<std::string>());
    if (!re) return false;
    if (!Count(static_cast<int64_t>(str.size() / 64))) return false;
    if (!RE2::PartialMatch(str, *re)) {
      ok = false;
      Fail(report, "ECMA 262 regex " + p->dump() + " does not match input string " + Quote(v));
    }
  }
  return ok;
}

bool Validator::Arrays(const Json& s, const Json& doc, const Json& v, int depth, bool report) {
  bool ok = true;
  int64_t n = static_cast<int64_t>(v.size());
  if (const Json* m = Find(s, "minItems"); m && m->is_number_integer() && n < m->get<int64_t>()) {
    ok = false;
    Fail(report, "array is too short: must have at least " + m->dump() +
                     " elements but instance has " + std::to_string(n) + " elements");
  }
  if (const Json* m = Find(s, "maxItems"); m && m->is_number_integer() && n > m->get<int64_t>()) {
    ok = false;
    Fail(report, "array is too long: must have at most " + m->dump() +
                     " elements but instance has " + std::to_string(n) + " elements");
  }
  if (s.value("uniqueItems", Json(false)) == Json(true) && n > 1) {
    bool unique = true;
    for (size_t i = 0; i < v.size() && unique; ++i) {
      if (!Count(static_cast<int64_t>(i))) return false;
      for (size_t j = 0; j < i; ++j) {
        auto eq = JsonEquals(v[i], v[j]);
        if (!eq) {
          ConfigError("uniqueItems comparison nested deeper than " +
                      std::to_string(kMaxCompareDepth));
          return false;
        }
        if (*eq) {
          unique = false;
          break;
        }
      }
    }
    if (!unique) {
      ok = false;
      Fail(report, "array must not contain duplicate elements");
    }
  }
  const Json* items = Find(s, "items");
  if (items && items->is_object()) {
    for (const auto& e : v) ok = Validate(*items, doc, e, depth + 1, report) && ok;
  } else if (items && items->is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (i < items->size()) {
        ok = Validate((*items)[i], doc, v[i], depth + 1, report) && ok;
        continue;
      }
      const Json* extra = Find(s, "additionalItems");
      if (extra && extra->is_boolean() && !extra->get<bool>()) {
        ok = false;
        Fail(report, "array only allows " + std::to_string(items->size()) +
                         " elements (found " + std::to_string(n) + ")");
        break;
      }
      if (extra && extra->is_object()) ok = Validate(*extra, doc, v[i], depth + 1, report) && ok;
    }
  }
  return ok;
}

bool Validator::Objects(const Json& s, const Json& doc, const Json& v, int depth, bool report) {
  bool ok = true;
  if (const Json* r = Find(s, "required"); r && r->is_array()) {
    std::vector<std::string> missing;
    for (const auto& name : *r) {
      if (name.is_string() && !v.contains(name.get<std::string>())) {
        missing.push_back(name.get<std::string>());
      }
    }
    if (!missing.empty()) {
      ok = false;
      Fail(report, "object has missing required properties (" + JsonList(missing) + ")");
    }
  }
  int64_t n = static_cast<int64_t>(v.size());
  if (const Json* m = Find(s, "minProperties"); m && m->is_number_integer() && n < m->get<int64_t>()) {
    ok = false;
    Fail(report, "object has too few properties (found " + std::to_string(n) +
                     " but schema requires at least " + m->dump() + ")");
  }
  if (const Json* m = Find(s, "maxProperties"); m && m->is_number_integer() && n > m->get<int64_t>()) {
    ok = false;
    Fail(report, "object has too many properties (found " + std::to_string(n) +
                     " but schema requires at most " + m->dump() + ")");
  }
  const Json* props = Find(s, "properties");
  const Json* patterns = Find(s, "patternProperties");
  const Json* additional = Find(s, "additionalProperties");
  std::vector<std::string> not_allowed;
  for (const auto& [k, sub] : v.items()) {
    bool matched = false;
    if (const Json* p = props ? Find(*props, k) : nullptr) {
      matched = true;
      ok = Validate(*p, doc, sub, depth + 1, report) && ok;
    }
    if (patterns && patterns->is_object()) {
      for (const auto& [pattern, psub] : patterns->items()) {
        const RE2* re = Regex(pattern);
        if (!re || !Count()) return false;
        if (RE2::PartialMatch(k, *re)) {
          matched = true;
          ok = Validate(psub, doc, sub, depth + 1, report) && ok;
        }
      }
    }
    if (matched || !additional) continue;
    if (additional->is_boolean() && !additional->get<bool>()) {
      not_allowed.push_back(k);
    } else if (additional->is_object()) {
      ok = Validate(*additional, doc, sub, depth + 1, report) && ok;
    }
  }
  if (!not_allowed.empty()) {
    ok = false;
    Fail(report, "object instance has properties which are not allowed by the schema: " +
                     JsonList(not_allowed));
  }
  return ok;
}

bool Validator::Combinators(const Json& s, const Json& doc, const Json& v, int depth,
                            bool report) {
  bool ok = true;
  auto matches = [&](const Json& list) {
    size_t n = 0;
    for (const auto& sub : list) {
      if (Validate(sub, doc, v, depth + 1, /*report=*/false)) ++n;
      if (Aborted()) break;
    }
    return n;
  };
  if (const Json* all = Find(s, "allOf"); all && all->is_array()) {
    size_t n = matches(*all);
    if (n != all->size()) {
      ok = false;
      Fail(report, "instance failed to match all required schemas (matched only " +
                       std::to_string(n) + " out of " + std::to_string(all->size()) + ")");
    }
  }
  if (const Json* any = Find(s, "anyOf"); any && any->is_array()) {
    if (matches(*any) == 0) {
      ok = false;
      Fail(report, "instance failed to match at least one required schema among " +
                       std::to_string(any->size()));
    }
  }
  if (const Json* one = Find(s, "oneOf"); one && one->is_array()) {
    size_t n = matches(*one);
    if (n != 1) {
      ok = false;
      Fail(report, "instance failed to match exactly one schema (matched " + std::to_string(n) +
                       " out of " + std::to_string(one->size()) + ")");
    }
  }
  if (const Json* no = Find(s, "not"); no && no->is_object()) {
    if (Validate(*no, doc, v, depth + 1, /*report=*/false) && !Aborted()) {
      ok = false;
      Fail(report, "instance matched a schema which it should not have");
    }
  }
  return ok;
}

// ---- CheckModelSchema ----------------------------------------------------------------------

std::optional<std::string> CheckSchema(const Json& s, int depth);

std::optional<std::string> CheckSchemaMap(const Json& m, const char* keyword, int depth) {
  if (!m.is_object()) return std::string(keyword) + " must be an object";
  for (const auto& [k, sub] : m.items()) {
    if (auto e = CheckSchema(sub, depth + 1)) return e;
  }
  return std::nullopt;
}

std::optional<std::string> CheckSchemaList(const Json& l, const char* keyword, int depth) {
  if (!l.is_array() || l.empty()) return std::string(keyword) + " must be a non-empty array";
  for (const auto& sub : l) {
    if (auto e = CheckSchema(sub, depth + 1)) return e;
  }
  return std::nullopt;
}

bool CompilesInRe2(const std::string& pattern) {
  if (pattern.size() > kMaxPatternBytes) return false;
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(kRegexMemBytes);
  RE2 re(pattern, opts);
  return re.ok();
}

std::optional<std::string> CheckSchema(const Json& s, int depth) {
  if (depth > kMaxSchemaDepth) {
    return "schema nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels";
  }
  if (!s.is_object()) return "a schema must be a JSON object";
  static const std::set<std::string, std::less<>> kTypes = {
      "array", "boolean", "integer", "null", "number", "object", "string"};
  for (const auto& [k, v] : s.items()) {
    if (k == "type") {
      Json list = v.is_array() ? v : Json::array({v});
      if (list.empty()) return std::string("type must not be empty");
      for (const auto& t : list) {
        if (!t.is_string() || !kTypes.count(t.get<std::string>())) {
          return "invalid type " + Quote(t);
        }
      }
    } else if (k == "properties" || k == "patternProperties" || k == "definitions") {
      if (auto e = CheckSchemaMap(v, k.c_str(), depth)) return e;
      if (k == "patternProperties") {
        for (const auto& [p, unused] : v.items()) {
          if (!CompilesInRe2(p)) return "pattern " + Json(p).dump() + " is not supported";
        }
      }
    } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
      if (auto e = CheckSchemaList(v, k.c_str(), depth)) return e;
    } else if (k == "not") {
      if (auto e = CheckSchema(v, depth + 1)) return e;
    } else if (k == "items") {
      if (v.is_array()) {
        for (const auto& sub : v) {
          if (auto e = CheckSchema(sub, depth + 1)) return e;
        }
      } else if (auto e = CheckSchema(v, depth + 1)) {
        return e;
      }
    } else if (k == "additionalProperties" || k == "additionalItems") {
      if (!v.is_boolean()) {
        if (auto e = CheckSchema(v, depth + 1)) return e;
      }
    } else if (k == "required") {
      if (!v.is_array()) return std::string("required must be an array");
      for (const auto& r : v) {
        if (!r.is_string()) return std::string("required must list property names");
      }
    } else if (k == "enum") {
      if (!v.is_array() || v.empty()) return std::string("enum must be a non-empty array");
    } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" ||
               k == "minProperties" || k == "maxProperties") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        return k + " must be a non-negative integer";
      }
    } else if (k == "minimum" || k == "maximum") {
      if (!v.is_number()) return k + " must be a number";
    } else if (k == "multipleOf") {
      if (!v.is_number() || !(v.get<double>() > 0)) return k + " must be a positive number";
    } else if (k == "exclusiveMinimum" || k == "exclusiveMaximum" || k == "uniqueItems") {
      if (!v.is_boolean()) return k + " must be a boolean";
    } else if (k == "pattern") {
      if (!v.is_string()) return std::string("pattern must be a string");
      if (!CompilesInRe2(v.get<std::string>())) {
        return "pattern " + v.dump() + " is not supported";
      }
    } else if (k == "$ref") {
      if (!v.is_string()) return std::string("$ref must be a string");
    }
  }
  return std::nullopt;
}

// Compiles the patterns a parsed schema uses (`pattern` values, `patternProperties` keys),
// visiting at most `budget` nodes no deeper than kMaxSchemaDepth.
void CollectPatterns(const Json& node, int depth, int64_t& budget,
                     std::map<std::string, std::unique_ptr<RE2>, std::less<>>& out) {
  if (depth > kMaxSchemaDepth || --budget < 0) return;
  auto add = [&](const std::string& p) {
    if (p.size() > kMaxPatternBytes || out.count(p)) return;
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(kRegexMemBytes);
    auto re = std::make_unique<RE2>(p, opts);
    if (re->ok()) out.emplace(p, std::move(re));
  };
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) {
      if (k == "pattern" && v.is_string()) add(v.get<std::string>());
      if (k == "patternProperties" && v.is_object()) {
        for (const auto& [p, unused] : v.items()) add(p);
      }
      if (v.is_structured()) CollectPatterns(v, depth + 1, budget, out);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) {
      if (v.is_structured()) CollectPatterns(v, depth + 1, budget, out);
    }
  }
}

constexpr int64_t kMaxPatternScanNodes = 1'000'000;

}  // namespace

ModelSet::ModelSet(const Json& models, std::string api_id) : api_id_(std::move(api_id)) {
  if (!models.is_object()) return;
  int64_t budget = kMaxPatternScanNodes;
  for (const auto& [name, m] : models.items()) {
    const Json* text = Find(m, "schema");
    Json schema = text && text->is_string() ? ParseJsonOrDiscarded(text->get<std::string>())
                                            : Json(Json::value_t::discarded);
    if (!schema.is_object()) {
      bad_.emplace(name, true);
      continue;
    }
    CollectPatterns(schema, 0, budget, patterns_);
    schemas_.emplace(name, std::move(schema));
  }
}

ModelSet::~ModelSet() = default;

const Json* ModelSet::Schema(const std::string& name, bool* bad) const {
  auto it = schemas_.find(name);
  if (it != schemas_.end()) return &it->second;
  *bad = bad_.count(name) > 0;
  if (!*bad && name == "Empty") {
    // Every AWS REST API has the built-in "Empty" model (CDK's Model.EMPTY_MODEL names it).
    static const Json kEmpty = Json{{"$schema", "http://json-schema.org/draft-04/schema#"},
                                    {"title", "Empty Schema"},
                                    {"type", "object"}};
    return &kEmpty;
  }
  return nullptr;
}

const RE2* ModelSet::Pattern(const std::string& pattern) const {
  auto it = patterns_.find(pattern);
  return it == patterns_.end() ? nullptr : it->second.get();
}

BodyValidation ModelSet::Validate(const Json& schema, const Json& instance) const {
  Validator v(*this);
  bool ok = v.Validate(schema, schema, instance, 0, /*report=*/true);
  return v.Take(ok);
}

BodyValidation ModelSet::ValidateBody(const std::string& model_name, std::string_view body) const {
  BodyValidation out;
  bool bad = false;
  const Json* schema = Schema(model_name, &bad);
  if (!schema) {
    out.ok = false;
    out.config_error = bad ? "model " + model_name + " has no JSON object schema"
                           : "model " + model_name + " does not exist";
    return out;
  }
  Json instance = Trim(body).empty() ? Json::object() : ParseJsonOrDiscarded(body);
  if (instance.is_discarded()) {
    out.ok = false;
    out.errors.push_back("request body is not valid JSON");
    return out;
  }
  return Validate(*schema, instance);
}

std::string BodyValidation::ErrorString() const {
  std::string out = "[";  // appended, not concatenated: GCC 12 warns falsely (-Wrestrict)
  out += Join(errors, ", ");
  out += ']';
  return out;
}

std::string SelectRequestModel(const Json& request_models, std::string_view content_type) {
  if (!request_models.is_object() || request_models.empty()) return {};
  std::string ct = ToLower(Trim(content_type.substr(0, content_type.find(';'))));
  for (const auto& [k, v] : request_models.items()) {
    if (v.is_string() && ToLower(k) == ct) return v.get<std::string>();
  }
  const Json* fallback = Find(request_models, "$default");
  return fallback && fallback->is_string() ? fallback->get<std::string>() : std::string();
}

BodyValidation ValidateJson(const Json& schema, const Json& instance, const Json& models,
                            std::string_view api_id) {
  return ModelSet(models, std::string(api_id)).Validate(schema, instance);
}

BodyValidation ValidateRequestBody(const Json& models, std::string_view api_id,
                                   const std::string& model_name, std::string_view body) {
  return ModelSet(models, std::string(api_id)).ValidateBody(model_name, body);
}

std::vector<std::string> MissingRequiredParameters(
    const Json& request_parameters,
    const std::function<bool(std::string_view where, std::string_view name)>& present) {
  std::vector<std::string> missing;
  if (!request_parameters.is_object()) return missing;
  constexpr std::string_view kPrefix = "method.request.";
  for (const auto& [k, required] : request_parameters.items()) {
    if (!required.is_boolean() || !required.get<bool>() || !StartsWith(k, kPrefix)) continue;
    std::string_view rest = std::string_view(k).substr(kPrefix.size());
    auto dot = rest.find('.');
    if (dot == std::string_view::npos) continue;
    std::string_view where = rest.substr(0, dot);
    std::string_view name = rest.substr(dot + 1);
    if (where != "querystring" && where != "header" && where != "path") continue;
    if (!present(where, name)) missing.emplace_back(name);
  }
  return missing;
}

std::string MissingParametersMessage(const std::vector<std::string>& missing) {
  std::string out = "Missing required request parameters: [";
  out += Join(missing, ", ");
  out += ']';
  return out;
}

std::optional<std::string> CheckModelSchema(std::string_view schema_text) {
  Json schema = ParseJsonOrDiscarded(schema_text);
  if (schema.is_discarded()) return std::string("the schema is not valid JSON");
  return CheckSchema(schema, 0);
}

}  // namespace stratus::services::apigateway
