#include "services/stepfunctions/json_path.h"

#include <cctype>
#include <charconv>

#include "core/strings.h"

namespace stratus::services::stepfunctions {

namespace {

Error PathError(std::string message) { return Error("States.Runtime", std::move(message)); }

bool IsNameEnd(char c) { return c == '.' || c == '['; }

std::optional<int64_t> ParseIntText(std::string_view s) {
  s = std::string_view(s.data(), s.size());
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Reads a quoted string starting at text[pos] (' or "); advances pos past the closing quote.
std::optional<std::string> ReadQuoted(std::string_view text, size_t& pos) {
  char q = text[pos++];
  std::string out;
  while (pos < text.size() && text[pos] != q) {
    if (text[pos] == '\\' && pos + 1 < text.size() && text[pos + 1] == q) ++pos;
    out.push_back(text[pos++]);
  }
  if (pos >= text.size()) return std::nullopt;
  ++pos;
  return out;
}

void SkipSpaces(std::string_view t, size_t& p) {
  while (p < t.size() && t[p] == ' ') ++p;
}

class FilterParser {
 public:
  explicit FilterParser(std::string_view t) : t_(t) {}
  Result<std::shared_ptr<const PathFilter>> Parse() {
    auto f = Or();
    if (!f.ok()) return f;
    SkipSpaces(t_, p_);
    if (p_ != t_.size()) return PathError("Invalid filter expression: " + std::string(t_));
    return f;
  }

 private:
  using Ptr = std::shared_ptr<const PathFilter>;
  Result<Ptr> Or() {
    auto left = And();
    if (!left.ok()) return left;
    Ptr acc = *left;
    while (true) {
      SkipSpaces(t_, p_);
      if (t_.substr(p_, 2) != "||") return acc;
      p_ += 2;
      auto right = And();
      if (!right.ok()) return right;
      auto n = std::make_shared<PathFilter>();
      n->op = PathFilter::Op::kOr;
      n->children = {acc, *right};
      acc = n;
    }
  }
  Result<Ptr> And() {
    auto left = Unary();
    if (!left.ok()) return left;
    Ptr acc = *left;
    while (true) {
      SkipSpaces(t_, p_);
      if (t_.substr(p_, 2) != "&&") return acc;
      p_ += 2;
      auto right = Unary();
      if (!right.ok()) return right;
      auto n = std::make_shared<PathFilter>();
      n->op = PathFilter::Op::kAnd;
      n->children = {acc, *right};
      acc = n;
    }
  }
  Result<Ptr> Unary() {
    SkipSpaces(t_, p_);
    if (p_ < t_.size() && t_[p_] == '!' && t_.substr(p_, 2) != "!=") {
      ++p_;
      auto inner = Unary();
      if (!inner.ok()) return inner;
      auto n = std::make_shared<PathFilter>();
      n->op = PathFilter::Op::kNot;
      n->children = {*inner};
      return Ptr(n);
    }
    if (p_ < t_.size() && t_[p_] == '(') {
      ++p_;
      auto inner = Or();
      if (!inner.ok()) return inner;
      SkipSpaces(t_, p_);
      if (p_ >= t_.size() || t_[p_] != ')') return PathError("Invalid filter expression: " + std::string(t_));
      ++p_;
      return inner;
    }
    auto n = std::make_shared<PathFilter>();
    auto left = Operand();
    if (!left.ok()) return left.error();
    n->left = std::move(*left);
    SkipSpaces(t_, p_);
    static const std::pair<std::string_view, PathFilter::Op> kOps[] = {
        {"==", PathFilter::Op::kEq}, {"!=", PathFilter::Op::kNe}, {"<=", PathFilter::Op::kLe},
        {">=", PathFilter::Op::kGe}, {"<", PathFilter::Op::kLt},  {">", PathFilter::Op::kGt}};
    for (const auto& [text, op] : kOps) {
      if (t_.substr(p_, text.size()) == text) {
        p_ += text.size();
        auto right = Operand();
        if (!right.ok()) return right.error();
        n->op = op;
        n->right = std::move(*right);
        return Ptr(n);
      }
    }
    n->op = PathFilter::Op::kExists;
    return Ptr(n);
  }
  Result<PathFilter::Operand> Operand() {
    SkipSpaces(t_, p_);
    PathFilter::Operand o;
    if (p_ >= t_.size()) return PathError("Invalid filter expression: " + std::string(t_));
    char c = t_[p_];
    if (c == '@' || c == '$') {
      size_t start = p_++;
      int depth = 0;
      while (p_ < t_.size()) {
        char d = t_[p_];
        if (d == '[') ++depth;
        if (d == ']') --depth;
        if (depth == 0 && (d == ' ' || d == '=' || d == '!' || d == '<' || d == '>' || d == '&' ||
                           d == '|' || d == ')')) {
          break;
        }
        ++p_;
      }
      std::string text = "$" + std::string(t_.substr(start + 1, p_ - start - 1));
      auto path = JsonPath::Parse(text);
      if (!path.ok()) return path.error();
      o.is_path = true;
      o.from_root = c == '$';
      o.path = std::make_shared<JsonPath>(std::move(*path));
      return o;
    }
    if (c == '\'' || c == '"') {
      auto s = ReadQuoted(t_, p_);
      if (!s) return PathError("Invalid filter expression: " + std::string(t_));
      o.literal = *s;
      return o;
    }
    size_t start = p_;
    while (p_ < t_.size() && t_[p_] != ' ' && t_[p_] != ')' && t_[p_] != '&' && t_[p_] != '|' &&
           t_[p_] != '=' && t_[p_] != '<' && t_[p_] != '>' && t_[p_] != '!') {
      ++p_;
    }
    Json lit = ParseJsonOrDiscarded(t_.substr(start, p_ - start));
    if (lit.is_discarded()) return PathError("Invalid filter expression: " + std::string(t_));
    o.literal = std::move(lit);
    return o;
  }

  std::string_view t_;
  size_t p_ = 0;
};

void Collect(const std::vector<PathSegment>& segs, size_t i, const Json& node, const Json& root,
             std::vector<const Json*>& out, Json& owned);

void DeepCollect(const std::vector<PathSegment>& segs, size_t i, const Json& node, const Json& root,
                 std::vector<const Json*>& out, Json& owned) {
  const PathSegment& s = segs[i];
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (s.kind == PathSegment::Kind::kDeepWildcard || it.key() == s.field) {
        Collect(segs, i + 1, it.value(), root, out, owned);
      }
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.value().is_structured()) DeepCollect(segs, i, it.value(), root, out, owned);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) {
      if (s.kind == PathSegment::Kind::kDeepWildcard) Collect(segs, i + 1, v, root, out, owned);
    }
    for (const auto& v : node) {
      if (v.is_structured()) DeepCollect(segs, i, v, root, out, owned);
    }
  }
}

int64_t NormIndex(int64_t idx, size_t size) { return idx < 0 ? idx + static_cast<int64_t>(size) : idx; }

void Collect(const std::vector<PathSegment>& segs, size_t i, const Json& node, const Json& root,
             std::vector<const Json*>& out, Json& owned) {
  if (i == segs.size()) {
    out.push_back(&node);
    return;
  }
  const PathSegment& s = segs[i];
  using K = PathSegment::Kind;
  switch (s.kind) {
    case K::kField:
      if (node.is_object()) {
        auto it = node.find(s.field);
        if (it != node.end()) Collect(segs, i + 1, *it, root, out, owned);
      }
      break;
    case K::kFieldUnion:
      if (node.is_object()) {
        for (const auto& f : s.fields) {
          auto it = node.find(f);
          if (it != node.end()) Collect(segs, i + 1, *it, root, out, owned);
        }
      }
      break;
    case K::kIndex:
      if (node.is_array()) {
        int64_t idx = NormIndex(s.index, node.size());
        if (idx >= 0 && idx < static_cast<int64_t>(node.size())) Collect(segs, i + 1, node[idx], root, out, owned);
      }
      break;
    case K::kIndexUnion:
      if (node.is_array()) {
        for (int64_t raw : s.indexes) {
          int64_t idx = NormIndex(raw, node.size());
          if (idx >= 0 && idx < static_cast<int64_t>(node.size())) Collect(segs, i + 1, node[idx], root, out, owned);
        }
      }
      break;
    case K::kWildcard:
      if (node.is_array() || node.is_object()) {
        for (const auto& v : node) Collect(segs, i + 1, v, root, out, owned);
      }
      break;
    case K::kSlice:
      if (node.is_array()) {
        int64_t n = static_cast<int64_t>(node.size());
        int64_t from = s.start ? NormIndex(*s.start, node.size()) : 0;
        int64_t to = s.end ? NormIndex(*s.end, node.size()) : n;
        from = std::max<int64_t>(0, from);
        to = std::min(n, to);
        for (int64_t k = from; k < to; ++k) Collect(segs, i + 1, node[k], root, out, owned);
      }
      break;
    case K::kDeepField:
    case K::kDeepWildcard:
      DeepCollect(segs, i, node, root, out, owned);
      break;
    case K::kFilter:
      if (node.is_array()) {
        for (const auto& v : node) {
          if (s.filter->Matches(v, root)) Collect(segs, i + 1, v, root, out, owned);
        }
      } else if (node.is_object() && s.filter->Matches(node, root)) {
        Collect(segs, i + 1, node, root, out, owned);
      }
      break;
    case K::kLength:
      if (node.is_array() || node.is_object() || node.is_string()) {
        owned.push_back(node.is_string() ? node.get_ref<const std::string&>().size() : node.size());
        // owned is an array reserved by the caller so references stay valid.
        out.push_back(&owned.back());
      }
      break;
  }
}

int CompareJson(const Json& a, const Json& b, bool& comparable) {
  comparable = true;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    return a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
  }
  comparable = false;
  return 0;
}

}  // namespace

bool PathFilter::Matches(const Json& current, const Json& root) const {
  auto value_of = [&](const Operand& o, bool& found) -> Json {
    found = true;
    if (!o.is_path) return o.literal;
    const Json& base = o.from_root ? root : current;
    if (o.path->definite()) {
      const Json* v = o.path->Find(base);
      if (!v) {
        found = false;
        return Json();
      }
      return *v;
    }
    auto r = o.path->Read(base);
    if (!r.ok()) {
      found = false;
      return Json();
    }
    return *r;
  };
  switch (op) {
    case Op::kAnd: return children[0]->Matches(current, root) && children[1]->Matches(current, root);
    case Op::kOr: return children[0]->Matches(current, root) || children[1]->Matches(current, root);
    case Op::kNot: return !children[0]->Matches(current, root);
    case Op::kExists: {
      bool found = false;
      Json v = value_of(left, found);
      if (!left.is_path) return v.is_boolean() ? v.get<bool>() : !v.is_null();
      return found;
    }
    default: break;
  }
  bool lf = false, rf = false;
  Json l = value_of(left, lf);
  Json r = value_of(right, rf);
  if (!lf || !rf) return op == Op::kNe && lf != rf;
  if (op == Op::kEq) {
    if (l.is_number() && r.is_number()) return l.get<double>() == r.get<double>();
    return l == r;
  }
  if (op == Op::kNe) {
    if (l.is_number() && r.is_number()) return l.get<double>() != r.get<double>();
    return l != r;
  }
  bool comparable = false;
  int c = CompareJson(l, r, comparable);
  if (!comparable) return false;
  switch (op) {
    case Op::kLt: return c < 0;
    case Op::kLe: return c <= 0;
    case Op::kGt: return c > 0;
    case Op::kGe: return c >= 0;
    default: return false;
  }
}

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  JsonPath p;
  p.text_ = std::string(text);
  auto bad = [&]() { return PathError("Invalid JSONPath: " + std::string(text)); };
  if (text.empty() || text[0] != '$') return bad();
  size_t pos = 1;
  using K = PathSegment::Kind;
  while (pos < text.size()) {
    char c = text[pos];
    PathSegment seg;
    if (c == '.') {
      if (pos + 1 < text.size() && text[pos + 1] == '.') {
        pos += 2;
        if (pos < text.size() && text[pos] == '*') {
          seg.kind = K::kDeepWildcard;
          ++pos;
        } else if (pos < text.size() && text[pos] == '[') {
          // "..['name']": deep scan for a bracketed name.
          size_t q = pos + 1;
          if (q < text.size() && (text[q] == '\'' || text[q] == '"')) {
            auto name = ReadQuoted(text, q);
            if (!name || q >= text.size() || text[q] != ']') return bad();
            seg.kind = K::kDeepField;
            seg.field = *name;
            pos = q + 1;
          } else {
            seg.kind = K::kDeepWildcard;
          }
        } else {
          size_t start = pos;
          while (pos < text.size() && !IsNameEnd(text[pos])) ++pos;
          if (pos == start) return bad();
          seg.kind = K::kDeepField;
          seg.field = std::string(text.substr(start, pos - start));
        }
        p.definite_ = false;
        p.segments_.push_back(std::move(seg));
        continue;
      }
      ++pos;
      if (pos < text.size() && text[pos] == '*') {
        seg.kind = K::kWildcard;
        p.definite_ = false;
        ++pos;
      } else {
        size_t start = pos;
        while (pos < text.size() && !IsNameEnd(text[pos])) ++pos;
        if (pos == start) return bad();
        seg.field = std::string(text.substr(start, pos - start));
        if (seg.field == "length()" && pos == text.size()) {
          seg.kind = K::kLength;
        } else {
          seg.kind = K::kField;
        }
      }
      p.segments_.push_back(std::move(seg));
      continue;
    }
    if (c != '[') return bad();
    ++pos;
    SkipSpaces(text, pos);
    if (pos >= text.size()) return bad();
    if (text[pos] == '*') {
      ++pos;
      SkipSpaces(text, pos);
      if (pos >= text.size() || text[pos] != ']') return bad();
      ++pos;
      seg.kind = K::kWildcard;
      p.definite_ = false;
    } else if (text[pos] == '?') {
      // [?( ... )]
      ++pos;
      if (pos >= text.size() || text[pos] != '(') return bad();
      int depth = 0;
      size_t start = pos;
      bool in_quote = false;
      char quote = 0;
      for (; pos < text.size(); ++pos) {
        char d = text[pos];
        if (in_quote) {
          if (d == quote) in_quote = false;
          continue;
        }
        if (d == '\'' || d == '"') {
          in_quote = true;
          quote = d;
        } else if (d == '(') {
          ++depth;
        } else if (d == ')') {
          if (--depth == 0) break;
        }
      }
      if (pos >= text.size()) return bad();
      std::string_view inner = text.substr(start + 1, pos - start - 1);
      ++pos;
      SkipSpaces(text, pos);
      if (pos >= text.size() || text[pos] != ']') return bad();
      ++pos;
      FilterParser fp(inner);
      auto f = fp.Parse();
      if (!f.ok()) return f.error();
      seg.kind = K::kFilter;
      seg.filter = *f;
      p.definite_ = false;
    } else if (text[pos] == '\'' || text[pos] == '"') {
      std::vector<std::string> names;
      while (true) {
        SkipSpaces(text, pos);
        if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"')) return bad();
        auto name = ReadQuoted(text, pos);
        if (!name) return bad();
        names.push_back(*name);
        SkipSpaces(text, pos);
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        break;
      }
      if (pos >= text.size() || text[pos] != ']') return bad();
      ++pos;
      if (names.size() == 1) {
        seg.kind = K::kField;
        seg.field = names[0];
      } else {
        seg.kind = K::kFieldUnion;
        seg.fields = std::move(names);
        p.definite_ = false;
      }
    } else {
      size_t close = text.find(']', pos);
      if (close == std::string_view::npos) return bad();
      std::string_view inner = text.substr(pos, close - pos);
      pos = close + 1;
      if (auto colon = inner.find(':'); colon != std::string_view::npos) {
        seg.kind = K::kSlice;
        auto a = inner.substr(0, colon);
        auto b = inner.substr(colon + 1);
        if (auto c2 = b.find(':'); c2 != std::string_view::npos) b = b.substr(0, c2);
        if (!Trim(a).empty()) {
          auto v = ParseIntText(a);
          if (!v) return bad();
          seg.start = *v;
        }
        if (!Trim(b).empty()) {
          auto v = ParseIntText(b);
          if (!v) return bad();
          seg.end = *v;
        }
        p.definite_ = false;
      } else if (inner.find(',') != std::string_view::npos) {
        seg.kind = K::kIndexUnion;
        size_t start = 0;
        while (start <= inner.size()) {
          size_t comma = inner.find(',', start);
          auto part = inner.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
          auto v = ParseIntText(part);
          if (!v) return bad();
          seg.indexes.push_back(*v);
          if (comma == std::string_view::npos) break;
          start = comma + 1;
        }
        p.definite_ = false;
      } else {
        auto v = ParseIntText(inner);
        if (!v) return bad();
        seg.kind = K::kIndex;
        seg.index = *v;
      }
    }
    p.segments_.push_back(std::move(seg));
  }
  return p;
}

std::string JsonPath::Bracketed(size_t n) const {
  std::string out = "$";
  for (size_t i = 0; i < n && i < segments_.size(); ++i) {
    const auto& s = segments_[i];
    switch (s.kind) {
      case PathSegment::Kind::kField: out += "['" + s.field + "']"; break;
      case PathSegment::Kind::kIndex: out += "[" + std::to_string(s.index) + "]"; break;
      case PathSegment::Kind::kWildcard: out += "[*]"; break;
      case PathSegment::Kind::kLength: out += ".length()"; break;
      default: out += "[...]"; break;
    }
  }
  return out;
}

const Json* JsonPath::Find(const Json& root) const {
  const Json* node = &root;
  for (const auto& s : segments_) {
    if (s.kind == PathSegment::Kind::kField) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(s.field);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (s.kind == PathSegment::Kind::kIndex) {
      if (!node->is_array()) return nullptr;
      int64_t idx = NormIndex(s.index, node->size());
      if (idx < 0 || idx >= static_cast<int64_t>(node->size())) return nullptr;
      node = &(*node)[idx];
    } else {
      return nullptr;
    }
  }
  return node;
}

Result<Json> JsonPath::Read(const Json& root) const {
  if (definite_) {
    const Json* node = &root;
    for (size_t i = 0; i < segments_.size(); ++i) {
      const auto& s = segments_[i];
      bool last = i + 1 == segments_.size();
      if (s.kind == PathSegment::Kind::kLength) {
        if (node->is_string()) return Json(node->get_ref<const std::string&>().size());
        if (node->is_structured()) return Json(node->size());
        return PathError("Invalid path '" + text_ + "' : length() not applicable");
      }
      if (s.kind == PathSegment::Kind::kField) {
        if (!node->is_object()) {
          if (last) return PathError("No results for path: " + Bracketed(i + 1));
          return PathError("Missing property in path " + Bracketed(i + 1));
        }
        auto it = node->find(s.field);
        if (it == node->end()) {
          if (last) return PathError("No results for path: " + Bracketed(i + 1));
          return PathError("Missing property in path " + Bracketed(i + 1));
        }
        node = &*it;
      } else {
        if (!node->is_array()) return PathError("No results for path: " + Bracketed(i + 1));
        int64_t idx = NormIndex(s.index, node->size());
        if (idx < 0 || idx >= static_cast<int64_t>(node->size())) {
          return PathError("No results for path: " + Bracketed(i + 1));
        }
        node = &(*node)[idx];
      }
    }
    return *node;
  }
  std::vector<const Json*> out;
  Json owned = Json::array();
  owned.get_ref<Json::array_t&>().reserve(1024);
  Collect(segments_, 0, root, root, out, owned);
  Json arr = Json::array();
  arr.get_ref<Json::array_t&>().reserve(out.size());
  for (const Json* v : out) arr.push_back(*v);
  return arr;
}

Status JsonPath::Write(Json& root, Json value) const {
  if (segments_.empty()) {
    root = std::move(value);
    return Status::Ok();
  }
  Json* node = &root;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const auto& s = segments_[i];
    bool last = i + 1 == segments_.size();
    if (s.kind == PathSegment::Kind::kField) {
      if (node->is_null()) *node = Json::object();
      if (!node->is_object()) {
        return PathError("Invalid path '" + text_ + "': Unable to write into a non-object node at " + Bracketed(i));
      }
      if (last) {
        (*node)[s.field] = std::move(value);
        return Status::Ok();
      }
      node = &(*node)[s.field];
    } else if (s.kind == PathSegment::Kind::kIndex) {
      if (!node->is_array()) {
        return PathError("Invalid path '" + text_ + "': Unable to write into a non-array node at " + Bracketed(i));
      }
      int64_t idx = NormIndex(s.index, node->size());
      if (idx < 0 || idx >= static_cast<int64_t>(node->size())) {
        return PathError("Invalid path '" + text_ + "': index out of range");
      }
      if (last) {
        (*node)[idx] = std::move(value);
        return Status::Ok();
      }
      node = &(*node)[idx];
    } else {
      return PathError("Invalid path '" + text_ + "': not a reference path");
    }
  }
  return Status::Ok();
}

}  // namespace stratus::services::stepfunctions
