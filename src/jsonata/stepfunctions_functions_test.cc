#include "jsonata/stepfunctions_functions.h"

#include <gtest/gtest.h>

namespace stratus::jsonata {
namespace {

Json Eval(std::string_view expr, const Json& input = Json::object()) {
  Bindings b;
  EXPECT_TRUE(AddStepFunctionsFunctions(b).ok());
  BindStates(b, Json{{"input", input}, {"context", {{"Execution", {{"Name", "run1"}}}}}});
  auto r = Evaluate(expr, input, b);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code + ": " + r.error().message);
  return r.ok() && r->has_value() ? **r : Json();
}

TEST(StepFunctionsJsonata, Partition) {
  EXPECT_EQ(Eval("$partition([1,2,3,4,5], 2)"), Json::parse("[[1,2],[3,4],[5]]"));
}
TEST(StepFunctionsJsonata, Range) {
  EXPECT_EQ(Eval("$range(0, 10, 2)"), Json::parse("[0,2,4,6,8,10]"));
  EXPECT_EQ(Eval("$range(1, 3)"), Json::parse("[1,2,3]"));
}
TEST(StepFunctionsJsonata, Hash) {
  EXPECT_EQ(Eval("$hash('abc', 'SHA-256')"), Json("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_EQ(Eval("$hash('abc', 'MD5')"), Json("900150983cd24fb0d6963f7d28e17f72"));
}
TEST(StepFunctionsJsonata, RandomUuidParse) {
  EXPECT_EQ(Eval("$random(42) = $random(42)"), Json(true));
  EXPECT_EQ(Eval("$length($uuid())"), Json(36));
  EXPECT_EQ(Eval("$parse('{\"a\": [1]}').a"), Json::parse("[1]"));
}
TEST(StepFunctionsJsonata, StatesVariable) {
  EXPECT_EQ(Eval("$states.input.x & $states.context.Execution.Name", Json{{"x", "a"}}), Json("arun1"));
}
TEST(StepFunctionsJsonata, NotRegisteredByDefault) {
  auto r = Evaluate("$partition([1], 1)", Json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "T1006");
}

}  // namespace
}  // namespace stratus::jsonata
