// Static checks of parsed expressions (see expr_internal.h) and of the placeholder tables.
#include <algorithm>
#include <functional>

#include "services/dynamodb/attr.h"
#include "services/dynamodb/expr.h"
#include "services/dynamodb/expr_internal.h"

namespace stratus::services::dynamodb {

namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The static type of an operand: a value's type, "N" for size(), "" when only known at runtime.
std::string StaticType(const Node& n) {
  if (n.kind == Node::kValue && n.value) return std::string(TypeOf(*n.value));
  if (n.kind == Node::kCall && n.op == "size") return "N";
  return {};
}

std::string ShortValue(const Json& v) {
  std::string_view t = TypeOf(v);
  const Json& x = v.begin().value();
  return "{" + std::string(t) + ":" + (x.is_string() ? x.get<std::string>() : x.dump()) + "}";
}

}  // namespace

namespace internal {

// Walks the tree for function names that do not exist.
const Node* FindBadFunction(const Node& n, bool update) {
  if (n.kind == Node::kCall) {
    bool known = IsConditionFunction(n.op) || n.op == "size" || IsUpdateFunction(n.op);
    if (!known) return &n;
  }
  for (const auto& k : n.kids) {
    if (const Node* b = FindBadFunction(k, update)) return b;
  }
  return nullptr;
}

// A function used where it cannot be: condition functions as operands, size as a condition.
const Node* FindMisusedFunction(const Node& n, bool want_condition) {
  switch (n.kind) {
    case Node::kAnd:
    case Node::kOr:
    case Node::kNot:
      for (const auto& k : n.kids) {
        if (const Node* b = FindMisusedFunction(k, true)) return b;
      }
      return nullptr;
    case Node::kCompare:
    case Node::kBetween:
    case Node::kIn:
      for (const auto& k : n.kids) {
        if (const Node* b = FindMisusedFunction(k, false)) return b;
      }
      return nullptr;
    case Node::kPath:
    case Node::kValue:
      return want_condition ? &n : nullptr;
    case Node::kCall: {
      bool is_cond = IsConditionFunction(n.op);
      if (want_condition != is_cond) return &n;
      for (const auto& k : n.kids) {
        if (const Node* b = FindMisusedFunction(k, false)) return b;
      }
      return nullptr;
    }
    default: return nullptr;
  }
}

// Per-node operand checks, children first (DynamoDB's order).
Status CheckOperands(const Node& n, const std::function<Error(std::string)>& fail) {
  for (const auto& k : n.kids) STRATUS_RETURN_IF_ERROR(CheckOperands(k, fail));
  auto count = [&](size_t want) -> Status {
    if (n.kids.size() != want) {
      return fail("Incorrect number of operands for operator or function; operator or function: " +
                  n.op + ", number of operands: " + std::to_string(n.kids.size()));
    }
    return Status::Ok();
  };
  auto bad_type = [&](const std::string& type) {
    return fail("Incorrect operand type for operator or function; operator or function: " + n.op +
                ", operand type: " + type);
  };
  auto distinct = [&](const std::string& op) -> Status {
    if (n.kids.empty() || n.kids[0].kind != Node::kPath) return Status::Ok();
    for (size_t i = 1; i < n.kids.size(); ++i) {
      if (n.kids[i].kind == Node::kPath && n.kids[i].path == n.kids[0].path) {
        return fail("The first operand must be distinct from the remaining operands for this "
                    "operator or function; operator: " + op + ", first operand: " +
                    PathToString(n.kids[0].path));
      }
    }
    return Status::Ok();
  };
  if (n.kind == Node::kCall) {
    if (n.op == "attribute_exists" || n.op == "attribute_not_exists") {
      STRATUS_RETURN_IF_ERROR(count(1));
      if (n.kids[0].kind != Node::kPath) {
        return fail("Operator or function requires a document path; operator or function: " + n.op);
      }
    } else if (n.op == "attribute_type") {
      STRATUS_RETURN_IF_ERROR(count(2));
      if (n.kids[0].kind != Node::kPath) {
        return fail("Operator or function requires a document path; operator or function: " + n.op);
      }
      std::string t = StaticType(n.kids[1]);
      if (!t.empty() && t != "S") return bad_type(t);
      if (t == "S") {
        const std::string& name = n.kids[1].value->begin().value().get_ref<const std::string&>();
        static const char* kNames[] = {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"};
        bool ok = false;
        for (const char* k : kNames) ok = ok || name == k;
        if (!ok) {
          return fail("Invalid attribute type name found; type: " + name +
                      ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
        }
      }
      STRATUS_RETURN_IF_ERROR(distinct(n.op));
    } else if (n.op == "begins_with") {
      STRATUS_RETURN_IF_ERROR(count(2));
      for (const auto& k : n.kids) {
        std::string t = StaticType(k);
        if (!t.empty() && t != "S" && t != "B") return bad_type(t);
      }
      STRATUS_RETURN_IF_ERROR(distinct(n.op));
    } else if (n.op == "contains") {
      STRATUS_RETURN_IF_ERROR(count(2));
      STRATUS_RETURN_IF_ERROR(distinct(n.op));
    } else if (n.op == "size") {
      STRATUS_RETURN_IF_ERROR(count(1));
      std::string t = StaticType(n.kids[0]);
      if (t == "N" || t == "BOOL" || t == "NULL") return bad_type(t);
    } else if (n.op == "if_not_exists") {
      STRATUS_RETURN_IF_ERROR(count(2));
      if (n.kids[0].kind != Node::kPath) {
        return fail("Operator or function requires a document path; operator or function: " + n.op);
      }
    } else if (n.op == "list_append") {
      STRATUS_RETURN_IF_ERROR(count(2));
      for (const auto& k : n.kids) {
        std::string t = StaticType(k);
        if (!t.empty() && t != "L") return bad_type(t);
      }
    }
  } else if (n.kind == Node::kArith) {
    for (const auto& k : n.kids) {
      std::string t = StaticType(k);
      if (!t.empty() && t != "N") return bad_type(t);
    }
  } else if (n.kind == Node::kCompare || n.kind == Node::kBetween || n.kind == Node::kIn) {
    if (n.kind == Node::kCompare && n.op != "=" && n.op != "<>") {
      for (const auto& k : n.kids) {
        std::string t = StaticType(k);
        if (!t.empty() && !IsScalarKeyType(t)) return bad_type(t);
      }
    }
    if (n.kind == Node::kBetween) {
      for (const auto& k : n.kids) {
        std::string t = StaticType(k);
        if (!t.empty() && !IsScalarKeyType(t)) return bad_type(t);
      }
    }
    STRATUS_RETURN_IF_ERROR(distinct(n.kind == Node::kCompare ? n.op : n.op));
    if (n.kind == Node::kBetween && n.kids[1].kind == Node::kValue && n.kids[2].kind == Node::kValue &&
        n.kids[1].value && n.kids[2].value) {
      int c = 0;
      if (CompareScalars(*n.kids[1].value, *n.kids[2].value, c) && c > 0) {
        return fail("The BETWEEN operator requires upper bound to be greater than or equal to "
                    "lower bound; lower bound operand: AttributeValue: " +
                    ShortValue(*n.kids[1].value) + ", upper bound operand: AttributeValue: " +
                    ShortValue(*n.kids[2].value));
      }
    }
  }
  return Status::Ok();
}

// Overlap first, then conflicts, as DynamoDB reports them.
Status CheckPathClashes(const std::vector<const Path*>& paths,
                        const std::function<Error(std::string)>& fail) {
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      const Path& a = *paths[i];
      const Path& b = *paths[j];
      size_t m = std::min(a.size(), b.size());
      bool same = true;
      for (size_t k = 0; k < m && same; ++k) same = a[k] == b[k];
      if (same) {
        return fail("Two document paths overlap with each other; must remove or rewrite one of "
                    "these paths; path one: " + PathToString(a) + ", path two: " + PathToString(b));
      }
    }
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      const Path& a = *paths[i];
      const Path& b = *paths[j];
      size_t m = std::min(a.size(), b.size());
      for (size_t k = 0; k < m; ++k) {
        if (a[k] == b[k]) continue;
        if (a[k].is_index != b[k].is_index) {
          return fail("Two document paths conflict with each other; must remove or rewrite one "
                      "of these paths; path one: " + PathToString(a) + ", path two: " +
                      PathToString(b));
        }
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace internal

std::string PathToString(const Path& p) {
  std::string s = "[";
  for (size_t i = 0; i < p.size(); ++i) {
    if (i > 0) s += ", ";
    s += p[i].is_index ? "[" + std::to_string(p[i].index) + "]" : p[i].name;
  }
  return s + "]";
}

Status CheckUnused(const ExprContext& ctx) {
  auto unused = [](const Json* table, const std::set<std::string>& used) {
    std::vector<std::string> out;
    if (!table) return out;
    for (const auto& [k, v] : table->items()) {
      if (!used.count(k)) out.push_back(k);
    }
    return out;
  };
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  auto names = unused(ctx.names, ctx.used_names);
  if (!names.empty()) {
    return Validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {" + join(names) + "}");
  }
  auto values = unused(ctx.values, ctx.used_values);
  if (!values.empty()) {
    return Validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {" + join(values) + "}");
  }
  return Status::Ok();
}

Status CheckPlaceholderTables(Json* names, Json* values) {
  auto valid_key = [](const std::string& k, char lead) {
    if (k.size() < 2 || k[0] != lead) return false;
    for (size_t i = 1; i < k.size(); ++i) {
      if (!IsWordChar(k[i])) return false;
    }
    return true;
  };
  if (names) {
    if (names->empty()) return Validation("ExpressionAttributeNames must not be empty");
    for (const auto& [k, v] : names->items()) {
      if (!valid_key(k, '#')) {
        return Validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"" + k + "\"");
      }
    }
  }
  if (values) {
    if (values->empty()) return Validation("ExpressionAttributeValues must not be empty");
    for (const auto& [k, v] : values->items()) {
      if (!valid_key(k, ':')) {
        return Validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"" + k + "\"");
      }
    }
    for (auto& [k, v] : values->items()) {
      Status st = NormalizeValue(v);
      if (!st.ok()) {
        return Validation("ExpressionAttributeValues contains invalid value: " + st.error().message +
                          " for key " + k);
      }
    }
  }
  return Status::Ok();
}

}  // namespace stratus::services::dynamodb
