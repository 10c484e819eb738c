// Evaluation of condition/filter expressions and projections against items in wire-form JSON.
#include <map>

#include "services/dynamodb/attr.h"
#include "services/dynamodb/expr.h"

namespace stratus::services::dynamodb {

namespace {

// An operand's value: borrowed from the item or the expression, or computed (size()).
struct Val {
  const Json* p = nullptr;
  Json owned;
  const Json* get() const { return p; }
};

// Length in UTF-16 code units, as DynamoDB's size() counts string characters.
int64_t Utf16Length(const std::string& s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

Val Eval(const Node& n, const Json& item) {
  Val v;
  switch (n.kind) {
    case Node::kPath: v.p = Resolve(item, n.path); break;
    case Node::kValue: v.p = n.value; break;
    case Node::kCall:
      if (n.op == "size" && n.kids.size() == 1) {
        Val a = Eval(n.kids[0], item);
        if (!a.get()) break;
        std::string_view t = TypeOf(*a.get());
        const Json& x = a.get()->begin().value();
        int64_t size = -1;
        if (t == "S") {
          size = Utf16Length(x.get<std::string>());
        } else if (t == "B") {
          size = static_cast<int64_t>(BytesOf(*a.get()).size());
        } else if (t == "SS" || t == "NS" || t == "BS" || t == "L" || t == "M") {
          size = static_cast<int64_t>(x.size());
        }
        if (size >= 0) {
          v.owned = Json{{"N", std::to_string(size)}};
          v.p = &v.owned;
        }
      }
      break;
    default: break;
  }
  if (v.p == &v.owned) return v;
  return v;
}

// Eval returns by value; a computed value must point at its own storage after the move.
Val EvalFixed(const Node& n, const Json& item) {
  Val v = Eval(n, item);
  if (!v.owned.is_null()) v.p = &v.owned;
  return v;
}

bool Compare(const std::string& op, const Json* a, const Json* b) {
  if (op == "=") return a && b && ValuesEqual(*a, *b);
  if (op == "<>") return !(a && b && ValuesEqual(*a, *b));
  if (!a || !b) return false;
  int c = 0;
  if (!CompareScalars(*a, *b, c)) return false;
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

bool Contains(const Json* hay, const Json* needle) {
  if (!hay || !needle) return false;
  std::string_view th = TypeOf(*hay), tn = TypeOf(*needle);
  const Json& h = hay->begin().value();
  if (th == "S" && tn == "S") {
    return h.get<std::string>().find(needle->begin().value().get<std::string>()) != std::string::npos;
  }
  if (th == "B" && tn == "B") return BytesOf(*hay).find(BytesOf(*needle)) != std::string::npos;
  if ((th == "SS" && tn == "S") || (th == "NS" && tn == "N") || (th == "BS" && tn == "B")) {
    std::string single = th.substr(0, 1) == "S" ? "S" : (th == "NS" ? "N" : "B");
    for (const auto& e : h) {
      if (ValuesEqual(Json{{single, e}}, *needle)) return true;
    }
    return false;
  }
  if (th == "L") {
    for (const auto& e : h) {
      if (ValuesEqual(e, *needle)) return true;
    }
  }
  return false;
}

bool BeginsWith(const Json* a, const Json* prefix) {
  if (!a || !prefix) return false;
  std::string_view ta = TypeOf(*a), tp = TypeOf(*prefix);
  if (ta != tp) return false;
  if (ta == "S") {
    return a->begin().value().get<std::string>().starts_with(prefix->begin().value().get<std::string>());
  }
  if (ta == "B") return BytesOf(*a).starts_with(BytesOf(*prefix));
  return false;
}

void ProjectInto(const Json& src, const Path& path, size_t i, Json& dst,
                 std::map<std::string, std::vector<int64_t>>& list_order) {
  // src and dst are AttributeValues; path[i] selects within them.
  const PathElem& e = path[i];
  bool last = i + 1 == path.size();
  if (e.is_index) {
    if (TypeOf(src) != "L") return;
    const Json& list = src.begin().value();
    if (e.index < 0 || static_cast<size_t>(e.index) >= list.size()) return;
    if (!dst.is_object() || dst.empty()) dst = Json{{"L", Json::array()}};
    if (TypeOf(dst) != "L") return;
    Json& out = dst["L"];
    auto& order = list_order[PathToString(Path(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i)))];
    size_t at = 0;
    while (at < order.size() && order[at] < e.index) ++at;
    if (at < order.size() && order[at] == e.index) {
      if (!last) ProjectInto(list[static_cast<size_t>(e.index)], path, i + 1, out[at], list_order);
      else out[at] = list[static_cast<size_t>(e.index)];
      return;
    }
    Json child = last ? list[static_cast<size_t>(e.index)] : Json::object();
    if (!last) {
      ProjectInto(list[static_cast<size_t>(e.index)], path, i + 1, child, list_order);
      if (child.empty()) return;
    }
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), std::move(child));
    order.insert(order.begin() + static_cast<std::ptrdiff_t>(at), e.index);
    return;
  }
  if (TypeOf(src) != "M") return;
  const Json& map = src.begin().value();
  auto it = map.find(e.name);
  if (it == map.end()) return;
  if (!dst.is_object() || dst.empty()) dst = Json{{"M", Json::object()}};
  if (TypeOf(dst) != "M") return;
  Json& out = dst["M"];
  if (last) {
    out[e.name] = *it;
    return;
  }
  Json child = out.contains(e.name) ? out[e.name] : Json::object();
  ProjectInto(*it, path, i + 1, child, list_order);
  if (!child.empty()) out[e.name] = std::move(child);
}

}  // namespace

const Json* Resolve(const Json& item, const Path& path) {
  if (path.empty() || path[0].is_index) return nullptr;
  auto it = item.find(path[0].name);
  if (it == item.end()) return nullptr;
  const Json* cur = &*it;
  for (size_t i = 1; i < path.size(); ++i) {
    std::string_view t = TypeOf(*cur);
    const Json& x = cur->begin().value();
    if (path[i].is_index) {
      if (t != "L" || path[i].index < 0 || static_cast<size_t>(path[i].index) >= x.size()) return nullptr;
      cur = &x[static_cast<size_t>(path[i].index)];
    } else {
      if (t != "M") return nullptr;
      auto m = x.find(path[i].name);
      if (m == x.end()) return nullptr;
      cur = &*m;
    }
  }
  return cur;
}

bool EvalCondition(const Node& n, const Json& item) {
  switch (n.kind) {
    case Node::kAnd: return EvalCondition(n.kids[0], item) && EvalCondition(n.kids[1], item);
    case Node::kOr: return EvalCondition(n.kids[0], item) || EvalCondition(n.kids[1], item);
    case Node::kNot: return !EvalCondition(n.kids[0], item);
    case Node::kCompare: {
      Val a = EvalFixed(n.kids[0], item), b = EvalFixed(n.kids[1], item);
      return Compare(n.op, a.get(), b.get());
    }
    case Node::kBetween: {
      Val a = EvalFixed(n.kids[0], item), lo = EvalFixed(n.kids[1], item),
          hi = EvalFixed(n.kids[2], item);
      return Compare(">=", a.get(), lo.get()) && Compare("<=", a.get(), hi.get());
    }
    case Node::kIn: {
      Val a = EvalFixed(n.kids[0], item);
      for (size_t i = 1; i < n.kids.size(); ++i) {
        Val b = EvalFixed(n.kids[i], item);
        if (Compare("=", a.get(), b.get())) return true;
      }
      return false;
    }
    case Node::kCall: {
      if (n.op == "attribute_exists") return Resolve(item, n.kids[0].path) != nullptr;
      if (n.op == "attribute_not_exists") return Resolve(item, n.kids[0].path) == nullptr;
      if (n.op == "attribute_type") {
        const Json* v = Resolve(item, n.kids[0].path);
        Val t = EvalFixed(n.kids[1], item);
        return v && t.get() && TypeOf(*t.get()) == "S" &&
               TypeOf(*v) == t.get()->begin().value().get<std::string>();
      }
      if (n.op == "begins_with") {
        Val a = EvalFixed(n.kids[0], item), b = EvalFixed(n.kids[1], item);
        return BeginsWith(a.get(), b.get());
      }
      if (n.op == "contains") {
        Val a = EvalFixed(n.kids[0], item), b = EvalFixed(n.kids[1], item);
        return Contains(a.get(), b.get());
      }
      return false;
    }
    default: return false;
  }
}

Json Project(const Json& item, const std::vector<Path>& paths) {
  Json wrapped_src = Json{{"M", item}};
  Json out = Json{{"M", Json::object()}};
  std::map<std::string, std::vector<int64_t>> list_order;
  for (const auto& p : paths) {
    if (p.empty()) continue;
    ProjectInto(wrapped_src, p, 0, out, list_order);
  }
  return out["M"];
}

}  // namespace stratus::services::dynamodb
