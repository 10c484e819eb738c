// TestState's inspection data (Execution::InspectState) and starting variables.
#include <gtest/gtest.h>

#include "services/stepfunctions/engine.h"
#include "services/stepfunctions/engine_test_util.h"

namespace stratus::services::stepfunctions {
namespace {

std::shared_ptr<const Definition> Def(const char* text) {
  auto d = ParseDefinition(text);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : nullptr;
}

Json Parsed(const Json& inspection, const char* step) {
  EXPECT_TRUE(inspection.contains(step)) << step << " missing in " << DumpJson(inspection);
  if (!inspection.contains(step)) return Json();
  return Json::parse(inspection[step].get<std::string>());
}

TEST(InspectionTest, TaskDataFlowStepByStep) {
  auto def = Def(R"J({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","InputPath":"$.in",
         "Parameters":{"FunctionName":"f","Payload.$":"$.v","Seen.$":"$seen"},
         "ResultSelector":{"p.$":"$.Payload"},"ResultPath":"$.res",
         "Assign":{"got.$":"$.p"},"OutputPath":"$.res","Next":"N"},
    "N":{"Type":"Pass","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.InspectState("T");
  e.SetVariables(Json{{"seen", "before"}});
  e.Start(Json::parse(R"J({"in":{"v":7},"other":1})J"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 1u);
  EXPECT_EQ(host.tasks[0].parameters["Seen"], "before");  // the starting variables are visible
  TaskResult r;
  r.output = Json{{"Payload", 8}, {"StatusCode", 200}};
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, r);
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded);
  const Json& in = e.inspection();
  EXPECT_EQ(Parsed(in, "afterInputPath"), Json::parse(R"J({"v":7})J"));
  EXPECT_EQ(Parsed(in, "afterParameters"), Json::parse(R"J({"FunctionName":"f","Payload":7,"Seen":"before"})J"));
  EXPECT_EQ(Parsed(in, "result"), Json::parse(R"J({"Payload":8,"StatusCode":200})J"));
  EXPECT_EQ(Parsed(in, "afterResultSelector"), Json::parse(R"J({"p":8})J"));
  // ResultPath places the result into the state's raw input.
  EXPECT_EQ(Parsed(in, "afterResultPath"), Json::parse(R"J({"in":{"v":7},"other":1,"res":{"p":8}})J"));
  EXPECT_EQ(Parsed(in, "variables"), Json::parse(R"J({"seen":"before","got":8})J"));
  EXPECT_EQ(e.output(), Json::parse(R"J({"p":8})J"));
  // Only the inspected state is recorded (N, a plain Pass, would have overwritten the steps).
  EXPECT_FALSE(in.contains("afterArguments"));
}

TEST(InspectionTest, PassAndJsonata) {
  auto def = Def(R"J({"StartAt":"P","States":{
    "P":{"Type":"Pass","Result":{"r":1},"ResultPath":"$.out","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.InspectState("P");
  e.Start(Json{{"a", 1}});
  e.Run();
  EXPECT_EQ(Parsed(e.inspection(), "afterInputPath"), Json::parse(R"J({"a":1})J"));
  EXPECT_EQ(Parsed(e.inspection(), "afterParameters"), Json::parse(R"J({"a":1})J"));
  EXPECT_EQ(Parsed(e.inspection(), "result"), Json::parse(R"J({"r":1})J"));
  EXPECT_EQ(Parsed(e.inspection(), "afterResultPath"), Json::parse(R"J({"a":1,"out":{"r":1}})J"));
  EXPECT_FALSE(e.inspection().contains("variables"));

  auto jdef = Def(R"J({"QueryLanguage":"JSONata","StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
         "Arguments":{"FunctionName":"f","Payload":"{% $states.input.n + $base %}"},
         "Assign":{"last":"{% $states.result.Payload %}"},"Output":"{% $states.result.Payload * 2 %}","End":true}}})J");
  FakeHost jhost;
  Execution j(jdef, TestInfo(), jhost);
  j.InspectState("T");
  j.SetVariables(Json{{"base", 100}});
  j.Start(Json{{"n", 1}});
  j.Run();
  ASSERT_EQ(jhost.tasks.size(), 1u);
  TaskResult r;
  r.output = Json{{"Payload", 5}};
  j.OnTaskResult(jhost.tasks[0].frame, jhost.tasks[0].seq, r);
  j.Run();
  ASSERT_EQ(j.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(j.output(), Json(10));
  EXPECT_EQ(Parsed(j.inspection(), "afterArguments"), Json::parse(R"J({"FunctionName":"f","Payload":101})J"));
  EXPECT_EQ(Parsed(j.inspection(), "result"), Json::parse(R"J({"Payload":5})J"));
  EXPECT_EQ(Parsed(j.inspection(), "variables"), Json::parse(R"J({"base":100,"last":5})J"));
  EXPECT_FALSE(j.inspection().contains("afterInputPath"));
  EXPECT_FALSE(j.inspection().contains("afterResultPath"));
}

TEST(InspectionTest, FailedStateKeepsTheStepsItReached) {
  auto def = Def(R"J({"StartAt":"P","States":{
    "P":{"Type":"Pass","InputPath":"$.a","Parameters":{"x.$":"$.missing"},"End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.InspectState("P");
  e.Start(Json::parse(R"J({"a":{"b":1}})J"));
  e.Run();
  EXPECT_EQ(e.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(Parsed(e.inspection(), "afterInputPath"), Json::parse(R"J({"b":1})J"));
  EXPECT_FALSE(e.inspection().contains("afterParameters"));
  EXPECT_FALSE(e.inspection().contains("result"));
}

}  // namespace
}  // namespace stratus::services::stepfunctions
