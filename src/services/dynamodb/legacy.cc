// The legacy (pre-expression) parameters SDKs still send — Expected, QueryFilter, ScanFilter,
// KeyConditions and AttributeUpdates — translated into the same trees the expression parser
// builds, so one evaluator serves both.
#include "services/dynamodb/attr.h"
#include "services/dynamodb/engine.h"

namespace stratus::services::dynamodb {

namespace {

Node PathNode(const std::string& name) {
  Node n;
  n.kind = Node::kPath;
  n.path.push_back(PathElem{false, name, 0});
  n.ref = name;
  return n;
}

Node ValueNode(std::deque<Json>& values, Json v) {
  values.push_back(std::move(v));
  Node n;
  n.kind = Node::kValue;
  n.value = &values.back();
  return n;
}

Node Call(const std::string& fn, std::vector<Node> kids) {
  Node n;
  n.kind = Node::kCall;
  n.op = fn;
  n.kids = std::move(kids);
  return n;
}

Result<Node> OneCondition(const std::string& attr, const Json& spec, std::deque<Json>& values,
                          bool expected_form) {
  std::string op = spec.value("ComparisonOperator", "");
  Json list = spec.value("AttributeValueList", Json::array());
  if (expected_form && op.empty()) {
    bool has_value = spec.contains("Value");
    if (spec.contains("Exists") && !spec["Exists"].get<bool>()) {
      if (has_value) {
        return InvalidParam("Value cannot be used when Exists is false for Attribute: " + attr);
      }
      return Call("attribute_not_exists", {PathNode(attr)});
    }
    if (!has_value) {
      return InvalidParam(std::string("Value must be provided when Exists is ") +
                          (spec.contains("Exists") ? "true" : "null") + " for Attribute: " + attr);
    }
    op = "EQ";
    list = Json::array({spec["Value"]});
  } else if (expected_form && spec.contains("Value")) {
    list = Json::array({spec["Value"]});
  }
  for (auto& v : list) STRATUS_RETURN_IF_ERROR(NormalizeValue(v));
  auto want = [&](size_t n) -> Status {
    if (list.size() != n) {
      return InvalidParam("Invalid number of argument(s) for the " + op + " ComparisonOperator");
    }
    return Status::Ok();
  };
  auto scalar_only = [&](bool allow_b) -> Status {
    for (const auto& v : list) {
      std::string_view t = TypeOf(v);
      if (!(t == "S" || t == "N" || (allow_b && t == "B"))) {
        return InvalidParam("ComparisonOperator " + op + " is not valid for " + std::string(t) + " AttributeValue type");
      }
    }
    return Status::Ok();
  };
  Node n;
  static const std::map<std::string, std::string> kCompare = {
      {"EQ", "="}, {"NE", "<>"}, {"LE", "<="}, {"LT", "<"}, {"GE", ">="}, {"GT", ">"}};
  auto cmp = kCompare.find(op);
  if (cmp != kCompare.end()) {
    STRATUS_RETURN_IF_ERROR(want(1));
    if (op != "EQ" && op != "NE") STRATUS_RETURN_IF_ERROR(scalar_only(true));
    n.kind = Node::kCompare;
    n.op = cmp->second;
    n.kids.push_back(PathNode(attr));
    n.kids.push_back(ValueNode(values, list[0]));
    return n;
  }
  if (op == "NOT_NULL") {
    STRATUS_RETURN_IF_ERROR(want(0));
    return Call("attribute_exists", {PathNode(attr)});
  }
  if (op == "NULL") {
    STRATUS_RETURN_IF_ERROR(want(0));
    return Call("attribute_not_exists", {PathNode(attr)});
  }
  if (op == "CONTAINS" || op == "NOT_CONTAINS") {
    STRATUS_RETURN_IF_ERROR(want(1));
    STRATUS_RETURN_IF_ERROR(scalar_only(true));
    Node c = Call("contains", {PathNode(attr), ValueNode(values, list[0])});
    if (op == "CONTAINS") return c;
    n.kind = Node::kNot;
    n.kids.push_back(std::move(c));
    return n;
  }
  if (op == "BEGINS_WITH") {
    STRATUS_RETURN_IF_ERROR(want(1));
    std::string_view t = TypeOf(list[0]);
    if (t != "S" && t != "B") {
      return InvalidParam("ComparisonOperator BEGINS_WITH is not valid for " + std::string(t) + " AttributeValue type");
    }
    return Call("begins_with", {PathNode(attr), ValueNode(values, list[0])});
  }
  if (op == "IN") {
    if (list.empty()) return InvalidParam("Invalid number of argument(s) for the IN ComparisonOperator");
    STRATUS_RETURN_IF_ERROR(scalar_only(true));
    n.kind = Node::kIn;
    n.op = "IN";
    n.kids.push_back(PathNode(attr));
    for (const auto& v : list) n.kids.push_back(ValueNode(values, v));
    return n;
  }
  if (op == "BETWEEN") {
    STRATUS_RETURN_IF_ERROR(want(2));
    STRATUS_RETURN_IF_ERROR(scalar_only(true));
    if (TypeOf(list[0]) != TypeOf(list[1])) {
      return InvalidParam("AttributeValues inside AttributeValueList must be of same type");
    }
    int c = 0;
    if (CompareScalars(list[0], list[1], c) && c > 0) {
      return InvalidParam("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound");
    }
    n.kind = Node::kBetween;
    n.op = "BETWEEN";
    n.kids.push_back(PathNode(attr));
    n.kids.push_back(ValueNode(values, list[0]));
    n.kids.push_back(ValueNode(values, list[1]));
    return n;
  }
  return InvalidParam("Unsupported ComparisonOperator: " + op);
}

}  // namespace

Result<std::optional<Node>> LegacyCondition(const Json& conditions, const std::string& op,
                                            std::deque<Json>& values, bool expected_form) {
  std::optional<Node> root;
  for (const auto& [attr, spec] : conditions.items()) {
    STRATUS_ASSIGN_OR_RETURN(Node c, OneCondition(attr, spec, values, expected_form));
    if (!root) {
      root = std::move(c);
      continue;
    }
    Node both;
    both.kind = op == "OR" ? Node::kOr : Node::kAnd;
    both.kids.push_back(std::move(*root));
    both.kids.push_back(std::move(c));
    root = std::move(both);
  }
  return root;
}

Result<UpdateExpr> LegacyUpdate(const Json& updates, std::deque<Json>& values) {
  UpdateExpr u;
  for (const auto& [attr, spec] : updates.items()) {
    std::string action = spec.value("Action", "PUT");
    bool has_value = spec.contains("Value");
    UpdateAction a;
    a.path.push_back(PathElem{false, attr, 0});
    Json v = has_value ? spec["Value"] : Json();
    if (has_value) STRATUS_RETURN_IF_ERROR(NormalizeValue(v));
    std::string_view t = has_value ? TypeOf(v) : "";
    if (!has_value && action != "DELETE") {
      return InvalidParam("Only DELETE action is allowed when no attribute value is specified");
    }
    if (action == "PUT") {
      a.kind = UpdateAction::kSet;
      a.value = ValueNode(values, v);
    } else if (action == "DELETE") {
      if (!has_value) {
        a.kind = UpdateAction::kRemove;
      } else {
        if (t != "SS" && t != "NS" && t != "BS") {
          return InvalidParam("DELETE action with value is not supported for the type " + std::string(t));
        }
        a.kind = UpdateAction::kDelete;
        a.value = ValueNode(values, v);
      }
    } else if (action == "ADD") {
      if (t == "L") {
        // ADD to a list appends (legacy semantics): list_append(if_not_exists(a, []), v).
        a.kind = UpdateAction::kSet;
        Node empty = ValueNode(values, Json{{"L", Json::array()}});
        Node ine = Call("if_not_exists", {PathNode(attr), std::move(empty)});
        a.value = Call("list_append", {std::move(ine), ValueNode(values, v)});
      } else if (t == "N" || t == "SS" || t == "NS" || t == "BS") {
        a.kind = UpdateAction::kAdd;
        a.value = ValueNode(values, v);
      } else {
        return InvalidParam("ADD action is not supported for the type " + std::string(t));
      }
    } else {
      return InvalidParam("Unsupported Action: " + action);
    }
    u.actions.push_back(std::move(a));
  }
  return u;
}

}  // namespace stratus::services::dynamodb
