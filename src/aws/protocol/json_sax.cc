// Streams a JSON body straight into canonical JSON (one pass, no intermediate DOM), checking
// each value against the model as it arrives. Unknown members are skipped without being built.
#include <array>
#include <optional>
#include <vector>

#include "aws/protocol/internal.h"

namespace stratus::aws::internal {
namespace {

const char* ContainerToken(bool object) { return object ? "START_OBJECT" : "START_ARRAY"; }

const char* ShapeTypeName(ShapeType t) {
  switch (t) {
    case ShapeType::kStructure: return "Structure";
    case ShapeType::kList: return "List";
    case ShapeType::kMap: return "Map";
    default: return "a scalar";
  }
}

// The nlohmann SAX interface. Every callback returns false to stop at the first error.
class CanonicalSax {
 public:
  explicit CanonicalSax(const Member& top) : top_(top) {}

  Json result;
  std::optional<Error> error;

  bool null() { return Value(Json()); }
  bool boolean(bool v) { return Value(Json(v)); }
  bool number_integer(int64_t v) { return Value(Json(v)); }
  bool number_unsigned(uint64_t v) { return Value(Json(v)); }
  bool number_float(double v, const std::string& /*text*/) { return Value(Json(v)); }
  bool string(std::string& v) { return Value(Json(std::move(v))); }
  bool binary(Json::binary_t& /*v*/) { return Fail(SerializationError("Unexpected binary value")); }
  bool start_object(std::size_t /*size*/) { return Open(true); }
  bool start_array(std::size_t /*size*/) { return Open(false); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(std::string& k) {
    Frame& f = stack_.back();
    if (f.kind == Kind::kStructure) {
      f.next = nullptr;
      for (const Member& m : f.member->shape->members) {
        if (m.WireName() == k) {
          f.next = &m;
          break;
        }
      }
    } else {
      f.key = std::move(k);
    }
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& /*e*/) {
    if (!error) error = SerializationError("Unexpected character or malformed JSON");
    return false;
  }

 private:
  enum class Kind { kStructure, kList, kMap, kSkip, kRaw };
  struct Frame {
    Kind kind;
    const Member* member;   // the member whose value this container is (kStructure/kList/kMap)
    Json* target;           // the container being filled (null for kSkip)
    const Member* next = nullptr;  // kStructure: the member the last key named (null: unknown)
    std::string key;        // kMap / kRaw objects: the last key
  };

  bool Fail(Error e) {
    if (!error) error = std::move(e);
    return false;
  }

  // The member the next value describes, or null when it is to be skipped. Sets `raw` when the
  // value belongs to a document being copied as it is.
  const Member* Expected(bool& raw) const {
    raw = false;
    if (stack_.empty()) return &top_;
    const Frame& f = stack_.back();
    switch (f.kind) {
      case Kind::kStructure: return f.next;
      case Kind::kList: return f.member->shape->list_member.get();
      case Kind::kMap: return f.member->shape->map_value.get();
      case Kind::kRaw: raw = true; return nullptr;
      case Kind::kSkip: return nullptr;
    }
    return nullptr;
  }

  // Where the next value goes in the current container.
  Json& Slot(const Member* m) {
    if (stack_.empty()) return result;
    Frame& f = stack_.back();
    switch (f.kind) {
      case Kind::kStructure: return (*f.target)[m->name];
      case Kind::kList: return f.target->emplace_back();
      case Kind::kRaw:
        if (f.target->is_array()) return f.target->emplace_back();
        return (*f.target)[f.key];
      default: return (*f.target)[f.key];
    }
  }

  bool Value(Json v) {
    bool raw;
    const Member* m = Expected(raw);
    if (raw) {
      Slot(nullptr) = std::move(v);
      return true;
    }
    if (m == nullptr || v.is_null()) return true;  // unknown member, or null: absent
    auto converted = JsonFromWire(*m, v, static_cast<int>(stack_.size()));
    if (!converted.ok()) return Fail(std::move(converted).error());
    Slot(m) = std::move(converted).value();
    return true;
  }

  bool Open(bool object) {
    if (stack_.size() >= static_cast<size_t>(kMaxNestingDepth)) {
      return Fail(SerializationError("Input nesting is too deep"));
    }
    bool raw;
    const Member* m = Expected(raw);
    if (raw) {
      Json& slot = Slot(nullptr);
      slot = object ? Json::object() : Json::array();
      stack_.push_back({Kind::kRaw, nullptr, &slot});
      return true;
    }
    if (m == nullptr) {
      stack_.push_back({Kind::kSkip, nullptr, nullptr});
      return true;
    }
    const Shape& shape = *m->shape;
    if (shape.document) {
      Json& slot = Slot(m);
      slot = object ? Json::object() : Json::array();
      stack_.push_back({Kind::kRaw, m, &slot});
      return true;
    }
    Kind kind;
    if (shape.type == ShapeType::kStructure && object) {
      kind = Kind::kStructure;
    } else if (shape.type == ShapeType::kMap && object) {
      kind = Kind::kMap;
    } else if (shape.type == ShapeType::kList && !object) {
      kind = Kind::kList;
    } else {
      return Fail(SerializationError(std::string(ContainerToken(object)) + " cannot be converted to " +
                                     (IsScalar(shape.type) ? "a scalar" : ShapeTypeName(shape.type))));
    }
    Json& slot = Slot(m);
    slot = kind == Kind::kList ? Json::array() : Json::object();
    stack_.push_back({kind, m, &slot});
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  const Member& top_;
  std::vector<Frame> stack_;
};

// The commonest request body, one object whose members are all strings of printable ASCII
// without escapes ({"AccessToken": "eyJ..."}), read without nlohmann's lexer: that copies each
// character of a string twice, one push_back at a time (~80 000 instructions for a Cognito access
// token). Checks the whole text first, then gives `sax` exactly the events sax_parse would.
// nullopt, with no event given, when the text is anything else (the caller then parses it fully);
// otherwise whether `sax` accepted every event.
constexpr size_t kMaxFlatMembers = 16;

std::optional<bool> ParseFlatStringObject(std::string_view text, CanonicalSax& sax) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  };
  // A string of printable ASCII without escapes; its contents, or nullopt.
  auto plain_string = [&]() -> std::optional<std::string_view> {
    if (i >= text.size() || text[i] != '"') return std::nullopt;
    size_t start = ++i;
    while (i < text.size()) {
      auto c = static_cast<unsigned char>(text[i]);
      if (c == '"') {
        std::string_view contents = text.substr(start, i - start);
        ++i;
        return contents;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return std::nullopt;
      ++i;
    }
    return std::nullopt;
  };
  std::array<std::pair<std::string_view, std::string_view>, kMaxFlatMembers> members;
  size_t n = 0;
  skip_space();
  if (i >= text.size() || text[i++] != '{') return std::nullopt;
  skip_space();
  if (i < text.size() && text[i] == '}') {
    ++i;
  } else {
    while (true) {
      if (n == members.size()) return std::nullopt;
      auto key = plain_string();
      if (!key) return std::nullopt;
      skip_space();
      if (i >= text.size() || text[i++] != ':') return std::nullopt;
      skip_space();
      auto value = plain_string();
      if (!value) return std::nullopt;
      members[n++] = {*key, *value};
      skip_space();
      if (i >= text.size()) return std::nullopt;
      char c = text[i++];
      if (c == '}') break;
      if (c != ',') return std::nullopt;
      skip_space();
    }
  }
  skip_space();
  if (i != text.size()) return std::nullopt;
  if (!sax.start_object(static_cast<std::size_t>(-1))) return false;
  for (size_t m = 0; m < n; ++m) {
    std::string key(members[m].first);
    if (!sax.key(key)) return false;
    std::string value(members[m].second);
    if (!sax.string(value)) return false;
  }
  return sax.end_object();
}

}  // namespace

Result<Json> ParseJsonAs(const Member& member, std::string_view text) {
  CanonicalSax sax(member);
  if (auto flat = ParseFlatStringObject(text, sax)) {
    if (!*flat || sax.error) {
      return sax.error ? std::move(*sax.error) : SerializationError("Unexpected character or malformed JSON");
    }
    return std::move(sax.result);
  }
  try {
    bool ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
                              /*strict=*/true);
    if (!ok || sax.error) {
      return sax.error ? std::move(*sax.error) : SerializationError("Unexpected character or malformed JSON");
    }
  } catch (const std::exception&) {
    return SerializationError("Unexpected character or malformed JSON");
  }
  return std::move(sax.result);
}

}  // namespace stratus::aws::internal
