#include "services/stepfunctions/json_path.h"

#include <gtest/gtest.h>

#include "services/stepfunctions/expressions.h"

namespace stratus::services::stepfunctions {
namespace {

Json Doc() {
  return Json::parse(R"J({"a":{"b":[1,2,3],"c":"x"},"items":[{"p":5,"n":"a"},{"p":15,"n":"b"}],"k y":1})J");
}

TEST(JsonPathTest, DefiniteReads) {
  auto p = JsonPath::Parse("$.a.b[1]");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->definite());
  EXPECT_EQ(*p->Read(Doc()), 2);
  EXPECT_EQ(*JsonPath::Parse("$['k y']")->Read(Doc()), 1);
  EXPECT_EQ(*JsonPath::Parse("$.a.b[-1]")->Read(Doc()), 3);
  EXPECT_EQ(*JsonPath::Parse("$.a.b.length()")->Read(Doc()), 3);
}

TEST(JsonPathTest, JaywayErrors) {
  auto r = JsonPath::Parse("$.nope")->Read(Doc());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "No results for path: $['nope']");
  r = JsonPath::Parse("$.no.such.path")->Read(Doc());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Missing property in path $['no']");
}

TEST(JsonPathTest, IndefiniteReads) {
  EXPECT_EQ(*JsonPath::Parse("$.items[*].n")->Read(Doc()), Json::parse(R"J(["a","b"])J"));
  EXPECT_EQ(*JsonPath::Parse("$..p")->Read(Doc()), Json::parse("[5,15]"));
  EXPECT_EQ(*JsonPath::Parse("$.items[?(@.p > 10)].n")->Read(Doc()), Json::parse(R"J(["b"])J"));
  EXPECT_EQ(*JsonPath::Parse("$.a.b[0:2]")->Read(Doc()), Json::parse("[1,2]"));
  EXPECT_EQ(*JsonPath::Parse("$.a.b[0,2]")->Read(Doc()), Json::parse("[1,3]"));
  EXPECT_EQ(*JsonPath::Parse("$.items[?(@.n == 'a' || @.p >= 15)].p")->Read(Doc()), Json::parse("[5,15]"));
}

TEST(JsonPathTest, Write) {
  Json d = Doc();
  ASSERT_TRUE(JsonPath::Parse("$.new.deep")->Write(d, 7).ok());
  EXPECT_EQ(d["new"]["deep"], 7);
  EXPECT_FALSE(JsonPath::Parse("$.a.c.x")->Write(d, 1).ok());
}

TEST(JsonPathTest, RejectsGarbage) {
  EXPECT_FALSE(JsonPath::Parse("a.b").ok());
  EXPECT_FALSE(JsonPath::Parse("$[").ok());
  EXPECT_FALSE(JsonPath::Parse("$.").ok());
  EXPECT_FALSE(JsonPath::Parse("$[?(@.a <)]").ok());
}

TEST(IntrinsicTest, Functions) {
  Json in = Json::parse(R"J({"n":"World","arr":[1,2,2,3],"o":{"a":1}})J");
  Json ctx = Json::object();
  EvalEnv env{in, ctx, nullptr};
  auto eval = [&](const char* text) {
    auto c = IntrinsicCall::Parse(text);
    EXPECT_TRUE(c.ok()) << text;
    auto v = c->Evaluate(env);
    EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().message);
    return v.ok() ? *v : Json();
  };
  EXPECT_EQ(eval("States.Format('Hello {}, \\{x\\}', $.n)"), "Hello World, {x}");
  EXPECT_EQ(eval("States.Format('{}', $.o)"), "{a=1}");
  EXPECT_EQ(eval("States.ArrayUnique($.arr)"), Json::parse("[1,2,3]"));
  EXPECT_EQ(eval("States.ArrayPartition($.arr, 3)"), Json::parse("[[1,2,2],[3]]"));
  EXPECT_EQ(eval("States.ArrayRange(1, 9, 2)"), Json::parse("[1,3,5,7,9]"));
  EXPECT_EQ(eval("States.MathAdd(-1.5, 0)"), -1);
  EXPECT_EQ(eval("States.StringSplit('a,b,,c', ',')"), Json::parse(R"J(["a","b","c"])J"));
  EXPECT_EQ(eval("States.Hash('input data', 'MD5')"), "812f45842bc6d66ee14572ce20db8e86");
  EXPECT_EQ(eval("States.JsonToString($.o)"), "{\"a\":1}");
  EXPECT_EQ(eval("States.StringToJson(States.JsonToString($.o))"), Json::parse(R"J({"a":1})J"));
  EXPECT_EQ(eval("States.Base64Decode(States.Base64Encode('hi'))"), "hi");
  EXPECT_EQ(eval("States.ArrayLength(States.Array(1, 'a', true, null))"), 4);
  EXPECT_EQ(eval("States.UUID()").get<std::string>().size(), 36u);
  auto bad = IntrinsicCall::Parse("States.ArrayGetItem($.arr, 10)");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->Evaluate(env).ok());
  EXPECT_FALSE(IntrinsicCall::Parse("States.Format('x'").ok());
}

}  // namespace
}  // namespace stratus::services::stepfunctions
