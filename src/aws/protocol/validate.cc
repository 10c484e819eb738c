// Input validation against the model's constraints, with AWS's (Coral's) message wording.
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <re2/re2.h>
#include <unordered_map>

#include "aws/protocol/codec.h"
#include "aws/protocol/internal.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

// AWS reports member paths in lowerCamelCase: "TableName" -> "tableName", "SSESpecification" ->
// "sSESpecification" (only the first letter changes).
std::string LowerCamel(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

std::string Join(const std::string& path, std::string_view child) {
  return path.empty() ? std::string(child) : path + "." + std::string(child);
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// A compiled pattern. Patterns that are one bracket expression repeated ("[A-Za-z0-9-_=.]+",
// "^[\\w+=,.@-]*$") also get the set of ASCII characters the bracket admits, asked of RE2 itself
// one character at a time when the pattern is compiled: an ASCII string then matches when every
// character is in the set, a test ~20x cheaper than running the automaton (a 1 KB Cognito access
// token took RE2 ~23 000 instructions). Any other string still goes to RE2.
struct CompiledPattern {
  std::unique_ptr<RE2> re;                   // null when RE2 cannot compile the pattern
  std::optional<std::array<bool, 128>> ascii;  // set for bracket-repeat patterns
  bool allow_empty = false;                  // "*" rather than "+"
};

// The bracket-repeat form of `pattern`: its bracket expression and whether it may match "".
std::optional<std::pair<std::string, bool>> BracketRepeat(std::string_view pattern) {
  if (!pattern.empty() && pattern.front() == '^') pattern.remove_prefix(1);
  if (!pattern.empty() && pattern.back() == '$') pattern.remove_suffix(1);
  if (pattern.size() < 4 || pattern.front() != '[' || (pattern.back() != '+' && pattern.back() != '*')) {
    return std::nullopt;
  }
  size_t j = 1;
  if (pattern[j] == '^') ++j;
  if (j < pattern.size() && pattern[j] == ']') ++j;  // a leading ']' is a literal
  while (j < pattern.size() && pattern[j] != ']') {
    if (pattern[j] == '\\') {
      j += 2;
    } else if (pattern[j] == '[' && j + 1 < pattern.size() && pattern[j + 1] == ':') {
      size_t end = pattern.find(":]", j + 2);
      if (end == std::string_view::npos) return std::nullopt;
      j = end + 2;
    } else {
      ++j;
    }
  }
  if (j != pattern.size() - 2) return std::nullopt;  // the bracket must be all but the repeat
  return std::make_pair(std::string(pattern.substr(0, j + 1)), pattern.back() == '*');
}

CompiledPattern Compile(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  CompiledPattern out;
  out.re = std::make_unique<RE2>(pattern, options);
  if (!out.re->ok()) {
    out.re.reset();
    return out;
  }
  if (auto bracket = BracketRepeat(pattern)) {
    RE2 one(bracket->first, options);
    if (one.ok()) {
      std::array<bool, 128> set{};
      for (int c = 0; c < 128; ++c) set[c] = RE2::FullMatch(std::string(1, static_cast<char>(c)), one);
      out.ascii = set;
      out.allow_empty = bracket->second;
    }
  }
  return out;
}

bool FullMatch(const CompiledPattern& p, std::string_view s) {
  if (p.ascii) {
    bool ascii = true;
    bool in_set = true;
    for (unsigned char c : s) {
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      in_set = in_set && (*p.ascii)[c];
    }
    if (ascii) return in_set && (p.allow_empty || !s.empty());
  }
  return RE2::FullMatch(s, *p.re);
}

// Compiled patterns, shared by all validations (a memo, not behaviour: every caller sees the
// same compilation of the same pattern). Guarded by mu.
class PatternCache {
 public:
  // Null when RE2 cannot compile the (Java-flavoured) pattern; such patterns are not enforced.
  const CompiledPattern* Get(const std::string& pattern) {
    {
      std::shared_lock<std::shared_mutex> read(mu_);  // the common case: already compiled
      auto it = cache_.find(pattern);
      if (it != cache_.end()) return it->second->re ? it->second.get() : nullptr;
    }
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto it = cache_.find(pattern);
    if (it == cache_.end()) {
      it = cache_.emplace(pattern, std::make_unique<CompiledPattern>(Compile(pattern))).first;
    }
    return it->second->re ? it->second.get() : nullptr;
  }

 private:
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<CompiledPattern>> cache_;  // guarded by mu_
};

PatternCache& Patterns() {
  static PatternCache* cache = new PatternCache();  // never destroyed: used until exit
  return *cache;
}

std::string Quoted(const Json& v) {
  if (v.is_string()) return "'" + v.get<std::string>() + "'";
  if (v.is_number_float()) return "'" + FormatDouble(v.get<double>()) + "'";
  return "'" + DumpJson(v) + "'";
}

// Where a value sits in the input, as a chain of stack frames: the path text AWS reports is only
// built when a value violates a constraint, so a valid request allocates nothing for paths.
struct PathNode {
  enum Kind { kRoot, kMember, kListItem, kMapKey, kMapValue };
  Kind kind = kRoot;
  const PathNode* parent = nullptr;
  std::string_view member;  // kMember: the member's model name
  size_t index = 0;         // kListItem: 1-based

  std::string Text() const {
    switch (kind) {
      case kRoot: return std::string();
      case kMember: return Join(parent->Text(), LowerCamel(member));
      case kListItem: return parent->Text() + "." + std::to_string(index) + ".member";
      case kMapKey: return parent->Text() + ".key";
      case kMapValue: return parent->Text() + ".value";
    }
    return std::string();
  }
};

class Validator {
 public:
  std::vector<Violation> out;

  void Structure(const Shape& shape, const Json& value, const PathNode& path) {
    if (shape.document || !value.is_object()) return;
    if (shape.members.size() <= kMaxIndexedMembers && value.size() < shape.members.size()) {
      SparseStructure(shape, value, path);
      return;
    }
    for (const Member& m : shape.members) {
      auto it = value.find(m.name);
      if (it == value.end() || it->is_null()) {
        if (shape.IsRequired(m.name)) {
          out.push_back({PathNode{PathNode::kMember, &path, m.name}.Text(), "null",
                         "Member must not be null"});
        }
        continue;
      }
      Value(*m.shape, *it, PathNode{PathNode::kMember, &path, m.name});
    }
  }

  // Structure() for a value that sets fewer members than its shape has (a DynamoDB
  // AttributeValue sets one of ten): the value's few members are matched to the shape's once,
  // instead of every member of the shape being looked up in the value. Same checks, same order.
  static constexpr size_t kMaxIndexedMembers = 64;
  void SparseStructure(const Shape& shape, const Json& value, const PathNode& path) {
    uint64_t present = 0;
    std::array<const Json*, kMaxIndexedMembers> found;  // read only where `present` has the bit
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string& key = it.key();
      for (size_t j = 0; j < shape.members.size(); ++j) {
        if (shape.members[j].name != key) continue;
        if ((present >> j & 1) == 0) {  // the first of equal keys, as find() would return
          present |= uint64_t{1} << j;
          found[j] = &*it;
        }
        break;
      }
    }
    // When every required member is among the value's, the absent ones need no check (S3's
    // PutObject sets 5 of 46 members, 2 of them required).
    size_t required_present = 0;
    if (!shape.required.empty()) {
      for (size_t j = 0; j < shape.members.size(); ++j) {
        if ((present >> j & 1) != 0 && !found[j]->is_null() && shape.IsRequired(shape.members[j].name)) {
          ++required_present;
        }
      }
    }
    const bool check_absent = required_present != shape.required.size();
    for (size_t j = 0; j < shape.members.size(); ++j) {
      const Member& m = shape.members[j];
      if ((present >> j & 1) == 0 || found[j]->is_null()) {
        if (check_absent && shape.IsRequired(m.name)) {
          out.push_back({PathNode{PathNode::kMember, &path, m.name}.Text(), "null",
                         "Member must not be null"});
        }
        continue;
      }
      Value(*m.shape, *found[j], PathNode{PathNode::kMember, &path, m.name});
    }
  }

  void Value(const Shape& shape, const Json& v, const PathNode& path) {
    switch (shape.type) {
      case ShapeType::kStructure: Structure(shape, v, path); return;
      case ShapeType::kList: {
        if (!v.is_array()) return;
        Length(shape, v, v.size(), path);
        size_t i = 1;
        for (const Json& item : v) {
          Value(*shape.list_member->shape, item, PathNode{PathNode::kListItem, &path, {}, i++});
        }
        return;
      }
      case ShapeType::kMap: {
        if (!v.is_object()) return;
        Length(shape, v, v.size(), path);
        PathNode key_path{PathNode::kMapKey, &path};
        PathNode value_path{PathNode::kMapValue, &path};
        for (const auto& [k, item] : v.items()) {
          String(*shape.map_key->shape, k, nullptr, key_path);
          Value(*shape.map_value->shape, item, value_path);
        }
        return;
      }
      case ShapeType::kString: {
        if (!v.is_string()) return;
        String(shape, v.get_ref<const std::string&>(), &v, path);
        return;
      }
      case ShapeType::kBlob: {
        if (!v.is_string()) return;
        if (!shape.min && !shape.max) return;
        auto bytes = Base64Decode(v.get_ref<const std::string&>());
        Length(shape, v, bytes ? bytes->size() : 0, path);
        return;
      }
      case ShapeType::kInteger:
      case ShapeType::kLong:
      case ShapeType::kByte:
      case ShapeType::kShort:
      case ShapeType::kFloat:
      case ShapeType::kDouble:
      case ShapeType::kBigDecimal: {
        if (!v.is_number()) return;
        double d = v.get<double>();
        if (shape.min && d < *shape.min) {
          Add(v, path, "Member must have value greater than or equal to " + FormatDouble(*shape.min));
        }
        if (shape.max && d > *shape.max) {
          Add(v, path, "Member must have value less than or equal to " + FormatDouble(*shape.max));
        }
        return;
      }
      default: return;
    }
  }

 private:
  // A string value (a member's, or a map key when `json` is null).
  void String(const Shape& shape, const std::string& s, const Json* json, const PathNode& path) {
    if (shape.type != ShapeType::kString) {
      if (json == nullptr) Value(shape, Json(s), path);  // a map key of another shape (rare)
      return;
    }
    std::optional<Json> owned;
    auto value = [&]() -> const Json& {
      if (json != nullptr) return *json;
      if (!owned) owned = Json(s);
      return *owned;
    };
    if (shape.min || shape.max) {
      size_t n = CodePoints(s);
      if (shape.min && static_cast<double>(n) < *shape.min) {
        Add(value(), path, "Member must have length greater than or equal to " + FormatDouble(*shape.min));
      }
      if (shape.max && static_cast<double>(n) > *shape.max) {
        Add(value(), path, "Member must have length less than or equal to " + FormatDouble(*shape.max));
      }
    }
    if (!shape.pattern.empty()) {
      const CompiledPattern* re = Patterns().Get(shape.pattern);
      if (re != nullptr && !FullMatch(*re, s)) {
        Add(value(), path, "Member must satisfy regular expression pattern: " + shape.pattern);
      }
    }
    if (!shape.enum_values.empty()) {
      bool found = false;
      for (const auto& e : shape.enum_values) found = found || e == s;
      if (!found) {
        Add(value(), path, "Member must satisfy enum value set: [" + stratus::Join(shape.enum_values, ", ") + "]");
      }
    }
  }

  void Length(const Shape& shape, const Json& v, size_t n, const PathNode& path) {
    if (shape.min && static_cast<double>(n) < *shape.min) {
      Add(v, path, "Member must have length greater than or equal to " + FormatDouble(*shape.min));
    }
    if (shape.max && static_cast<double>(n) > *shape.max) {
      Add(v, path, "Member must have length less than or equal to " + FormatDouble(*shape.max));
    }
  }

  void Add(const Json& v, const PathNode& path, std::string constraint) {
    out.push_back({path.Text(), Quoted(v), std::move(constraint)});
  }
};

}  // namespace

std::vector<Violation> ValidateInput(const Shape& shape, const Json& input) {
  Validator v;
  v.Structure(shape, input, PathNode{});
  return std::move(v.out);
}

std::string ValidationMessage(const std::vector<Violation>& violations) {
  std::string out = std::to_string(violations.size()) +
                    (violations.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (size_t i = 0; i < violations.size(); ++i) {
    if (i > 0) out += "; ";
    const Violation& v = violations[i];
    out += "Value " + v.value + " at '" + v.path + "' failed to satisfy constraint: " + v.constraint;
  }
  return out;
}

}  // namespace stratus::aws
