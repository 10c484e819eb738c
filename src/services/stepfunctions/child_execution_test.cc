// Distributed Map iterations as child executions: their own histories and StopExecution.
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

constexpr const char* kDistributed = R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,
  "ToleratedFailureCount":1,
  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"P"},
    "P":{"Type":"Pass","End":true}}}}}})J";

// Events by execution ARN ("" for the parent).
std::map<std::string, std::vector<HistoryEvent>> ByExecution(std::vector<HistoryEvent> events) {
  std::map<std::string, std::vector<HistoryEvent>> out;
  for (auto& e : events) out[e.execution_arn].push_back(std::move(e));
  return out;
}

std::vector<std::string> Types(const std::vector<HistoryEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

TEST(ChildExecutionTest, IterationsHaveTheirOwnHistories) {
  auto def = Def(kDistributed);
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.TraceStates(true);
  e.Start(Json::parse("[10,20]"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  // The iterations' states are told apart from the parent's (their event ids repeat it).
  EXPECT_NE(host.tasks[0].span_scope, 0u);
  EXPECT_NE(host.tasks[0].span_scope, host.tasks[1].span_scope);
  for (const auto& t : host.tasks) {
    TaskResult r;
    r.output = t.parameters;
    e.OnTaskResult(t.frame, t.seq, r);
  }
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded);
  for (const auto& span : host.spans) EXPECT_EQ(span.scope == 0, span.state == "M") << span.state;
  auto by = ByExecution(e.TakeEvents());
  ASSERT_EQ(by.size(), 3u);  // the parent and two children
  // The parent's history holds the Map and its map run, not the iterations' states.
  EXPECT_EQ(Types(by[""]), (std::vector<std::string>{"ExecutionStarted", "MapStateEntered", "MapStateStarted",
                                                     "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded",
                                                     "MapStateExited", "ExecutionSucceeded"}));
  for (size_t i = 0; i < 2; ++i) {
    auto it = std::next(by.begin(), static_cast<long>(i + 1));
    EXPECT_TRUE(it->first.ends_with("_" + std::to_string(i))) << it->first;
    const auto& ev = it->second;
    EXPECT_EQ(Types(ev), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered", "TaskScheduled",
                                                   "TaskStarted", "TaskSucceeded", "TaskStateExited",
                                                   "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}));
    for (size_t k = 0; k < ev.size(); ++k) {
      EXPECT_EQ(ev[k].id, static_cast<int64_t>(k + 1));  // numbered from 1 in the child's history
      EXPECT_EQ(ev[k].previous_id, static_cast<int64_t>(k));
    }
    EXPECT_EQ(Json::parse(ev[0].details["input"].get<std::string>()), Json(i == 0 ? 10 : 20));
    EXPECT_EQ(Json::parse(ev.back().details["output"].get<std::string>()), Json(i == 0 ? 10 : 20));
  }
}

TEST(ChildExecutionTest, StopChildAbortsOneIteration) {
  auto def = Def(kDistributed);
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse("[1,2]"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  auto started = ByExecution(e.TakeEvents());
  std::string first = std::next(started.begin())->first;
  (void)e.TakeMapRunChanges();
  EXPECT_FALSE(e.StopChild(first + "x", "", ""));
  ASSERT_TRUE(e.StopChild(first, "Stopped", "by hand"));
  e.Run();
  EXPECT_FALSE(e.StopChild(first, "", ""));  // it no longer runs
  // Its late task result is ignored; the other iteration completes; one failure is tolerated.
  TaskResult r;
  r.output = 1;
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, r);
  r.output = 2;
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, r);
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded) << e.error() << e.cause();
  EXPECT_EQ(e.output()[0], (Json{{"Error", "Stopped"}, {"Cause", "by hand"}}));
  EXPECT_EQ(e.output()[1], Json(2));
  auto by = ByExecution(e.TakeEvents());
  EXPECT_EQ(by[first].back().type, "ExecutionAborted");
  EXPECT_EQ(by[first].back().details["error"], "Stopped");
  MapRunChanges changes = e.TakeMapRunChanges();
  bool aborted = false;
  for (const auto& c : changes.children) {
    if (c["arn"] == first) aborted = c["status"] == "ABORTED";
  }
  EXPECT_TRUE(aborted);
}

}  // namespace
}  // namespace stratus::services::stepfunctions
