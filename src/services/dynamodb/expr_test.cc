// Expression parsing, DynamoDB's error texts, evaluation, projection and update application.
#include "services/dynamodb/expr.h"

#include <gtest/gtest.h>

#include "services/dynamodb/attr.h"

namespace stratus::services::dynamodb {
namespace {

struct Env {
  Json names = Json::object();
  Json values = Json::object();
  ExprContext ctx;
  Env(Json n, Json v) : names(std::move(n)), values(std::move(v)) {
    ctx.names = names.empty() ? nullptr : &names;
    ctx.values = values.empty() ? nullptr : &values;
  }
};

std::string CondError(const std::string& text, Json names = Json::object(),
                      Json values = Json::object(), ExprKind kind = ExprKind::kFilter) {
  Env env(std::move(names), std::move(values));
  auto r = ParseCondition(text, kind, env.ctx);
  return r.ok() ? "OK" : r.error().message;
}

std::string UpdateError(const std::string& text, Json names = Json::object(),
                        Json values = Json::object()) {
  Env env(std::move(names), std::move(values));
  auto r = ParseUpdate(text, env.ctx);
  return r.ok() ? "OK" : r.error().message;
}

TEST(ExprParse, SyntaxErrorsNameTokenAndNeighbourhood) {
  EXPECT_EQ(CondError("foo", {}, {}, ExprKind::kCondition),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"foo\"");
  EXPECT_EQ(CondError("a = = b"), "Invalid FilterExpression: Syntax error; token: \"=\", near: \"= =\"");
  EXPECT_EQ(CondError("a > 4"), "Invalid FilterExpression: Syntax error; token: \"4\", near: \"> 4\"");
  EXPECT_EQ(CondError(":hashId a", {}, Json{{":hashId", S("x")}}, ExprKind::kKeyCondition),
            "Invalid KeyConditionExpression: Syntax error; token: \"a\", near: \":hashId a\"");
  for (std::string e : {"things are not gonna be ok", "attribute_exists(Pictures-RearView)",
                        "attribute_exists(Pictures..RearView)", "attribute_exists(asdf[a])",
                        "a in b, c", "a > between", "a in b", "a in (b,c,)", "#$.b > a",
                        "b[:a] > a", "\xC3\xBC > a", "size(a).b > a", "size(a)[0] > a",
                        "(a = b", "a = b)", "a.:a < b.:b"}) {
    EXPECT_TRUE(CondError(e).starts_with("Invalid FilterExpression: Syntax error; ")) << e << ": " << CondError(e);
  }
  EXPECT_EQ(CondError(""), "Invalid FilterExpression: The expression can not be empty;");
}

TEST(ExprParse, CheckOrderAndTexts) {
  EXPECT_EQ(CondError("a=a and a > ((views))"),
            "Invalid FilterExpression: The expression has redundant parentheses;");
  EXPECT_EQ(CondError("a=a and whatever((:things)) > a"),
            "Invalid FilterExpression: Invalid function name; function: whatever");
  EXPECT_EQ(CondError("attRIbute_exIsts((views), #a)"),
            "Invalid FilterExpression: Invalid function name; function: attRIbute_exIsts");
  EXPECT_EQ(CondError("size(things)"),
            "Invalid FilterExpression: The function is not allowed to be used this way in an "
            "expression; function: size");
  EXPECT_EQ(CondError("a between b and attribute_exists(things)"),
            "Invalid FilterExpression: The function is not allowed to be used this way in an "
            "expression; function: attribute_exists");
  EXPECT_EQ(CondError(":a < abOrT"),
            "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: abOrT");
  EXPECT_EQ(CondError("#P between :lo and :hi"),
            "Invalid FilterExpression: An expression attribute name used in the document path is "
            "not defined; attribute name: #P");
  EXPECT_EQ(CondError("begins_with(:hello, #a, #b)"),
            "Invalid FilterExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :hello");
  EXPECT_EQ(CondError("attribute_type(things)"),
            "Invalid FilterExpression: Incorrect number of operands for operator or function; "
            "operator or function: attribute_type, number of operands: 1");
  EXPECT_EQ(CondError("begins_with(a, :a)", {}, Json{{":a", N("1")}}),
            "Invalid FilterExpression: Incorrect operand type for operator or function; operator "
            "or function: begins_with, operand type: N");
  EXPECT_EQ(CondError("attribute_type(a, :a)", {}, Json{{":a", S("X")}}),
            "Invalid FilterExpression: Invalid attribute type name found; type: X, valid types: "
            "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
  EXPECT_EQ(CondError("attribute_exists(:a) and a=a", {}, Json{{":a", S("1")}}),
            "Invalid FilterExpression: Operator or function requires a document path; operator "
            "or function: attribute_exists");
  EXPECT_EQ(CondError("#a <> a", Json{{"#a", "a"}}),
            "Invalid FilterExpression: The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: <>, first operand: [a]");
  EXPECT_EQ(CondError("a between :x and :y", {}, Json{{":x", N("2")}, {":y", N("1")}}),
            "Invalid FilterExpression: The BETWEEN operator requires upper bound to be greater "
            "than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper "
            "bound operand: AttributeValue: {N:1}");
  EXPECT_EQ(CondError("size(size(a)) > :a", {}, Json{{":a", N("1")}}),
            "Invalid FilterExpression: Incorrect operand type for operator or function; operator "
            "or function: size, operand type: N");
}

TEST(ExprParse, UnusedPlaceholders) {
  Env env(Json{{"#a", "a"}, {"#b", "b"}}, Json{{":v", S("x")}, {":w", S("y")}});
  ASSERT_TRUE(ParseCondition("#a = :v", ExprKind::kCondition, env.ctx).ok());
  EXPECT_EQ(CheckUnused(env.ctx).error().message,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}");
  env.ctx.used_names.insert("#b");
  EXPECT_EQ(CheckUnused(env.ctx).error().message,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}");
  Json names = Json{{"a", "x"}};
  EXPECT_EQ(CheckPlaceholderTables(&names, nullptr).error().message,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\"");
  Json values = Json{{":b", {{"N", "x"}}}};
  EXPECT_EQ(CheckPlaceholderTables(nullptr, &values).error().message,
            "ExpressionAttributeValues contains invalid value: The parameter cannot be converted "
            "to a numeric value: x for key :b");
  Json empty = Json::object();
  EXPECT_EQ(CheckPlaceholderTables(nullptr, &empty).error().message,
            "ExpressionAttributeValues must not be empty");
}

TEST(ExprParse, UpdateErrors) {
  for (std::string e : {"whatever", "set a", "add a", "set a=set", "remove a = b", "delete a b",
                        "set :a = b", "remove :a", "set a = b / c", "set a[1] = \"eight\"",
                        "SET if_not_exist(a, b) = a", "set a = b + c + d",
                        "set a = (b.c).d + e"}) {
    EXPECT_TRUE(UpdateError(e).starts_with("Invalid UpdateExpression: Syntax error; ")) << e << ": " << UpdateError(e);
  }
  EXPECT_EQ(UpdateError("SET MyStr = my Num"),
            "Invalid UpdateExpression: Syntax error; token: \"Num\", near: \"my Num\"");
  EXPECT_EQ(UpdateError(" remove Absolute "),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Absolute");
  EXPECT_EQ(UpdateError("set #c = if_not_exist(:c) set c = d"),
            "Invalid UpdateExpression: Invalid function name; function: if_not_exist");
  EXPECT_EQ(UpdateError("remove #d set a = b remove e"),
            "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update expression;");
  EXPECT_EQ(UpdateError("set d[1] = a, d.b = a, c[1].a = a, #c = if_not_exists(a)", Json{{"#c", "c"}}),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
            "rewrite one of these paths; path one: [c, [1], a], path two: [c]");
  EXPECT_EQ(UpdateError("remove a.#c set a[1] = #d", Json{{"#c", "c"}, {"#d", "[3]"}}),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove "
            "or rewrite one of these paths; path one: [a, c], path two: [a, [1]]");
  EXPECT_EQ(UpdateError("delete a.b :a", {}, Json{{":a", S("a")}}),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "DELETE, operand type: STRING");
  EXPECT_EQ(UpdateError("set a = if_not_exists(c)"),
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
            "operator or function: if_not_exists, number of operands: 1");
  EXPECT_EQ(UpdateError("set a = if_not_exists(:a, c)", {}, Json{{":a", S("a")}}),
            "Invalid UpdateExpression: Operator or function requires a document path; operator or "
            "function: if_not_exists");
  EXPECT_EQ(UpdateError("set a = a + :a", {}, Json{{":a", S("a")}}),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: +, operand type: S");
  EXPECT_EQ(UpdateError("set a = list_append(:a, a)", {}, Json{{":a", N("1")}}),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: list_append, operand type: N");
  EXPECT_EQ(UpdateError("SET #c = if_not_exists(:c)", Json{{"#a", "a"}}),
            "Invalid UpdateExpression: An expression attribute name used in the document path is "
            "not defined; attribute name: #c");
}

Json Item() {
  return Json{{"id", S("k")},
              {"n", N("5")},
              {"s", S("hello")},
              {"tags", Json{{"SS", {"a", "b"}}}},
              {"lst", Json{{"L", {S("x"), N("2"), Json{{"M", {{"deep", S("d")}}}}}}}},
              {"m", Json{{"M", {{"a", N("1")}, {"b", Json{{"L", {S("p"), S("q")}}}}}}}}};
}

bool Eval(const std::string& text, Json values = Json::object(), Json names = Json::object()) {
  Env env(std::move(names), std::move(values));
  auto r = ParseCondition(text, ExprKind::kCondition, env.ctx);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() && EvalCondition(*r, Item());
}

TEST(ExprEval, Conditions) {
  EXPECT_TRUE(Eval("n = :v", Json{{":v", N("5")}}));
  EXPECT_TRUE(Eval("n < :v", Json{{":v", N("10")}}));
  EXPECT_FALSE(Eval("s < :v", Json{{":v", N("10")}}));
  EXPECT_TRUE(Eval("n between :a and :b", Json{{":a", N("5")}, {":b", N("6")}}));
  EXPECT_TRUE(Eval("n IN (:a, :b)", Json{{":a", N("4")}, {":b", N("5")}}));
  EXPECT_TRUE(Eval("attribute_exists(m.b[1]) AND NOT attribute_exists(m.b[2])"));
  EXPECT_TRUE(Eval("attribute_type(tags, :t)", Json{{":t", S("SS")}}));
  EXPECT_TRUE(Eval("begins_with(s, :p)", Json{{":p", S("he")}}));
  EXPECT_TRUE(Eval("contains(tags, :p) and contains(s, :q)", Json{{":p", S("a")}, {":q", S("ll")}}));
  EXPECT_TRUE(Eval("contains(#l, :p)", Json{{":p", N("2")}}, Json{{"#l", "lst"}}));
  EXPECT_TRUE(Eval("size(s) = :five and size(tags) < :five", Json{{":five", N("5")}}));
  EXPECT_TRUE(Eval("lst[2].deep = :d", Json{{":d", S("d")}}));
  EXPECT_TRUE(Eval("nope <> :d", Json{{":d", S("d")}}));
  EXPECT_FALSE(Eval("nope = :d OR n > :d", Json{{":d", N("9")}}));
}

TEST(ExprEval, Projection) {
  Env env(Json::object(), Json::object());
  auto paths = ParseProjection("s, m.b[1], lst[2].deep, lst[0]", env.ctx);
  ASSERT_TRUE(paths.ok()) << paths.error().message;
  Json p = Project(Item(), *paths);
  EXPECT_EQ(p.dump(),
            R"({"s":{"S":"hello"},"m":{"M":{"b":{"L":[{"S":"q"}]}}},"lst":{"L":[{"S":"x"},{"M":{"deep":{"S":"d"}}}]}})");
  auto bad = ParseProjection("a, a.b", env.ctx);
  EXPECT_EQ(bad.error().message,
            "Invalid ProjectionExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [a], path two: [a, b]");
}

Json Apply(const std::string& text, Json values = Json::object(), std::string* err = nullptr) {
  Env env(Json::object(), std::move(values));
  auto u = ParseUpdate(text, env.ctx);
  EXPECT_TRUE(u.ok()) << (u.ok() ? "" : u.error().message);
  Json item = Item();
  std::vector<Path> touched;
  Status st = ApplyUpdate(*u, item, touched);
  if (!st.ok()) {
    if (err) *err = st.error().message;
    return Json();
  }
  return item;
}

TEST(Update, Actions) {
  Json r = Apply("SET n = n + :one, x = if_not_exists(x, :one), lst = list_append(lst, :l) "
                 "REMOVE s, m.b[0] ADD tags :t, c :one",
                 Json{{":one", N("1.5")}, {":l", Json{{"L", {S("z")}}}}, {":t", Json{{"SS", {"c"}}}},
                     });
  EXPECT_EQ(r["n"], N("6.5"));
  EXPECT_EQ(r["x"], N("1.5"));
  EXPECT_EQ(r["c"], N("1.5"));
  EXPECT_EQ(r["lst"]["L"].size(), 4u);
  EXPECT_FALSE(r.contains("s"));
  EXPECT_EQ(r["m"]["M"]["b"]["L"].dump(), R"([{"S":"q"}])");
  EXPECT_EQ(r["tags"]["SS"].dump(), R"(["a","b","c"])");
  Json d = Apply("DELETE tags :d", Json{{":d", Json{{"SS", {"a"}}}}});
  EXPECT_EQ(d["tags"]["SS"].dump(), R"(["b"])");
  std::string err;
  Apply("SET s = s + :one", Json{{":one", N("1")}}, &err);
  EXPECT_EQ(err, "An operand in the update expression has an incorrect data type");
  Apply("SET a = nope", Json::object(), &err);
  EXPECT_EQ(err, "The provided expression refers to an attribute that does not exist in the item");
  Apply("SET nope.a = :one", Json{{":one", N("1")}}, &err);
  EXPECT_EQ(err, "The document path provided in the update expression is invalid for update");
  Json all = Apply("DELETE tags :d", Json{{":d", Json{{"SS", {"a", "b"}}}}});
  EXPECT_FALSE(all.contains("tags"));
}

}  // namespace
}  // namespace stratus::services::dynamodb
