// Applying UpdateExpressions to items: every SET value is computed against the item as it was
// before the update, then SET, REMOVE, ADD and DELETE actions are applied.
#include <algorithm>
#include <set>

#include "services/dynamodb/attr.h"
#include "services/dynamodb/expr.h"

namespace stratus::services::dynamodb {

namespace {

Error BadType() { return Validation("An operand in the update expression has an incorrect data type"); }
Error BadPath() {
  return Validation("The document path provided in the update expression is invalid for update");
}

Result<Json> Compute(const Node& n, const Json& item) {
  switch (n.kind) {
    case Node::kPath: {
      const Json* v = Resolve(item, n.path);
      if (!v) {
        return Validation("The provided expression refers to an attribute that does not exist in the item");
      }
      return *v;
    }
    case Node::kValue: return *n.value;
    case Node::kCall: {
      if (n.op == "if_not_exists") {
        if (const Json* v = Resolve(item, n.kids[0].path)) return *v;
        return Compute(n.kids[1], item);
      }
      // list_append
      STRATUS_ASSIGN_OR_RETURN(Json a, Compute(n.kids[0], item));
      STRATUS_ASSIGN_OR_RETURN(Json b, Compute(n.kids[1], item));
      if (TypeOf(a) != "L" || TypeOf(b) != "L") return BadType();
      Json out = a;
      for (const auto& e : b["L"]) out["L"].push_back(e);
      return out;
    }
    case Node::kArith: {
      STRATUS_ASSIGN_OR_RETURN(Json a, Compute(n.kids[0], item));
      STRATUS_ASSIGN_OR_RETURN(Json b, Compute(n.kids[1], item));
      if (TypeOf(a) != "N" || TypeOf(b) != "N") return BadType();
      auto r = n.op == "+" ? Decimal::Add(NumberOf(a), NumberOf(b))
                           : Decimal::Subtract(NumberOf(a), NumberOf(b));
      if (!r.ok()) return r.error();
      return Json{{"N", r->Format()}};
    }
    default: return BadType();
  }
}

// The AttributeValue that holds path[0..n-1] (the parent of the last element), or null.
Json* Parent(Json& item, const Path& path) {
  if (path.size() < 2) return nullptr;
  auto it = item.find(path[0].name);
  if (it == item.end()) return nullptr;
  Json* cur = &*it;
  for (size_t i = 1; i + 1 < path.size(); ++i) {
    std::string_view t = TypeOf(*cur);
    Json& x = cur->begin().value();
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

Status Assign(Json& item, const Path& path, Json value) {
  if (path.size() == 1) {
    item[path[0].name] = std::move(value);
    return Status::Ok();
  }
  Json* parent = Parent(item, path);
  if (!parent) return BadPath();
  const PathElem& last = path.back();
  std::string_view t = TypeOf(*parent);
  Json& x = parent->begin().value();
  if (last.is_index) {
    if (t != "L") return BadPath();
    if (static_cast<size_t>(last.index) < x.size()) {
      x[static_cast<size_t>(last.index)] = std::move(value);
    } else {
      x.push_back(std::move(value));
    }
    return Status::Ok();
  }
  if (t != "M") return BadPath();
  x[last.name] = std::move(value);
  return Status::Ok();
}

// The current value at `path` for ADD/DELETE (null when missing), validating the parent.
Result<Json*> Target(Json& item, const Path& path) {
  if (path.size() == 1) {
    auto it = item.find(path[0].name);
    return it == item.end() ? nullptr : &*it;
  }
  Json* parent = Parent(item, path);
  if (!parent) return BadPath();
  const PathElem& last = path.back();
  std::string_view t = TypeOf(*parent);
  Json& x = parent->begin().value();
  if (last.is_index) {
    if (t != "L") return BadPath();
    return static_cast<size_t>(last.index) < x.size() ? &x[static_cast<size_t>(last.index)] : nullptr;
  }
  if (t != "M") return BadPath();
  auto it = x.find(last.name);
  return it == x.end() ? nullptr : &*it;
}

std::string SetKey(std::string_view type, const Json& e) {
  if (type == "NS") return NumberOf(Json{{"N", e}}).Format();
  if (type == "BS") return BytesOf(Json{{"B", e}});
  return e.get<std::string>();
}

}  // namespace

Status CheckUpdateKeys(const UpdateExpr& update, const std::vector<std::string>& key_names) {
  for (const auto& a : update.actions) {
    for (const auto& k : key_names) {
      if (!a.path.empty() && a.path[0].name == k) {
        return InvalidParam("Cannot update attribute " + k + ". This attribute is part of the key");
      }
    }
  }
  return Status::Ok();
}

Status ApplyUpdate(const UpdateExpr& update, Json& item, std::vector<Path>& touched) {
  // 1. Every SET value against the original item.
  std::vector<Json> set_values;
  for (const auto& a : update.actions) {
    if (a.kind != UpdateAction::kSet) continue;
    STRATUS_ASSIGN_OR_RETURN(Json v, Compute(a.value, item));
    set_values.push_back(std::move(v));
  }
  touched.clear();
  for (const auto& a : update.actions) touched.push_back(a.path);
  // 2. SET.
  size_t si = 0;
  for (const auto& a : update.actions) {
    if (a.kind != UpdateAction::kSet) continue;
    STRATUS_RETURN_IF_ERROR(Assign(item, a.path, std::move(set_values[si++])));
  }
  // 3. REMOVE: list elements by their original indexes, highest first.
  std::vector<const UpdateAction*> removes;
  for (const auto& a : update.actions) {
    if (a.kind == UpdateAction::kRemove) removes.push_back(&a);
  }
  std::stable_sort(removes.begin(), removes.end(), [](const UpdateAction* x, const UpdateAction* y) {
    if (x->path.size() != y->path.size() || !x->path.back().is_index || !y->path.back().is_index) return false;
    return x->path.back().index > y->path.back().index;
  });
  for (const UpdateAction* a : removes) {
    const Path& path = a->path;
    if (path.size() == 1) {
      item.erase(path[0].name);
      continue;
    }
    Json* parent = Parent(item, path);
    if (!parent) return BadPath();
    std::string_view t = TypeOf(*parent);
    Json& x = parent->begin().value();
    if (path.back().is_index) {
      if (t != "L") return BadPath();
      if (static_cast<size_t>(path.back().index) < x.size()) {
        x.erase(static_cast<size_t>(path.back().index));
      }
    } else {
      if (t != "M") return BadPath();
      x.erase(path.back().name);
    }
  }
  // 4. ADD and DELETE.
  for (const auto& a : update.actions) {
    if (a.kind != UpdateAction::kAdd && a.kind != UpdateAction::kDelete) continue;
    const Json& v = *a.value.value;
    std::string_view vt = TypeOf(v);
    STRATUS_ASSIGN_OR_RETURN(Json * cur, Target(item, a.path));
    if (a.kind == UpdateAction::kAdd) {
      if (!cur) {
        STRATUS_RETURN_IF_ERROR(Assign(item, a.path, v));
        continue;
      }
      if (TypeOf(*cur) != vt) return BadType();
      if (vt == "N") {
        STRATUS_ASSIGN_OR_RETURN(Decimal sum, Decimal::Add(NumberOf(*cur), NumberOf(v)));
        *cur = Json{{"N", sum.Format()}};
        continue;
      }
      Json& set = cur->begin().value();
      std::set<std::string> have;
      for (const auto& e : set) have.insert(SetKey(vt, e));
      for (const auto& e : v.begin().value()) {
        if (have.insert(SetKey(vt, e)).second) set.push_back(e);
      }
    } else {
      if (!cur) continue;
      if (TypeOf(*cur) != vt) return BadType();
      std::set<std::string> drop;
      for (const auto& e : v.begin().value()) drop.insert(SetKey(vt, e));
      Json kept = Json::array();
      for (const auto& e : cur->begin().value()) {
        if (!drop.count(SetKey(vt, e))) kept.push_back(e);
      }
      if (kept.empty()) {
        // An empty set is no set: the attribute goes.
        if (a.path.size() == 1) {
          item.erase(a.path[0].name);
        } else {
          Json* parent = Parent(item, a.path);
          Json& x = parent->begin().value();
          if (a.path.back().is_index) {
            x.erase(static_cast<size_t>(a.path.back().index));
          } else {
            x.erase(a.path.back().name);
          }
        }
      } else {
        cur->begin().value() = std::move(kept);
      }
    }
  }
  return Status::Ok();
}

}  // namespace stratus::services::dynamodb
