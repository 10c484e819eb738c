// A distributed Map's map run status at its edges: a ResultWriter whose write fails fails the
// map run (as DescribeMapRun shows on AWS), also when a restart came between.
#include <gtest/gtest.h>

#include "services/stepfunctions/engine.h"
#include "services/stepfunctions/engine_test_util.h"

namespace stratus::services::stepfunctions {
namespace {

constexpr const char* kWriterMap = R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,
  "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"p"}},
  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}})J";

std::shared_ptr<const Definition> Def(const char* text) {
  auto d = ParseDefinition(text);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : nullptr;
}

void Apply(std::map<std::string, Json>& store, Execution& e) {
  for (auto& [key, rec] : e.TakeFrameChanges()) {
    if (rec) store[key] = std::move(*rec);
    else store.erase(key);
  }
}

std::vector<Json> Records(const std::map<std::string, Json>& store) {
  std::vector<Json> out;
  for (const auto& [key, rec] : store) out.push_back(rec);
  return out;
}

TaskResult WriteFailed() {
  TaskResult r;
  r.kind = TaskResult::Kind::kFailed;
  r.error = "S3.NoSuchBucket";
  r.cause = "no bucket";
  return r;
}

// Runs the Map until its ResultWriter's write is dispatched; returns the map run's record then.
Json RunToWrite(Execution& e, FakeHost& host) {
  e.Start(Json::parse("[1,2,3]"));
  e.Run();
  EXPECT_FALSE(host.tasks.empty());
  if (host.tasks.empty()) return Json();
  EXPECT_EQ(host.tasks.back().purpose, TaskCall::Purpose::kResultWriter);
  MapRunChanges changes = e.TakeMapRunChanges();
  EXPECT_EQ(changes.runs.size(), 1u);
  return changes.runs.empty() ? Json() : changes.runs.begin()->second;
}

TEST(MapRunStatusTest, FailedResultWriteFailsTheMapRun) {
  auto def = Def(kWriterMap);
  FakeHost host;
  Execution e(def, TestInfo(), host);
  Json before = RunToWrite(e, host);
  EXPECT_EQ(before["status"], "SUCCEEDED");  // the iterations are done while the write runs
  e.OnTaskResult(host.tasks.back().frame, host.tasks.back().seq, WriteFailed());
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(e.error(), "States.ResultWriterFailed");
  MapRunChanges changes = e.TakeMapRunChanges();
  ASSERT_EQ(changes.runs.size(), 1u);
  const Json& run = changes.runs.begin()->second;
  EXPECT_EQ(run["mapRunArn"], before["mapRunArn"]);
  EXPECT_EQ(run["status"], "FAILED");
  EXPECT_TRUE(run.contains("stopMs"));
  EXPECT_EQ(run["itemCounts"]["succeeded"], 3);
  EXPECT_EQ(run["itemCounts"]["resultsWritten"], 0);
  EXPECT_EQ(run["executionCounts"]["resultsWritten"], 0);
}

TEST(MapRunStatusTest, FailedResultWriteAfterARestartFailsTheMapRun) {
  auto def = Def(kWriterMap);
  FakeHost host;
  Execution e(def, TestInfo(), host);
  Json before = RunToWrite(e, host);
  std::map<std::string, Json> store;
  Apply(store, e);
  auto r = Execution::Restore(def, TestInfo(), host, e.ExecutionRecord(), Records(store));
  r->ResumePendingWork();
  ASSERT_EQ(host.tasks.back().purpose, TaskCall::Purpose::kResultWriter);
  r->OnTaskResult(host.tasks.back().frame, host.tasks.back().seq, WriteFailed());
  r->Run();
  ASSERT_EQ(r->status(), ExecutionStatus::kFailed);
  MapRunChanges changes = r->TakeMapRunChanges();
  ASSERT_EQ(changes.runs.size(), 1u);
  EXPECT_EQ(changes.runs.begin()->second["mapRunArn"], before["mapRunArn"]);
  EXPECT_EQ(changes.runs.begin()->second["status"], "FAILED");
}

TEST(MapRunStatusTest, SuccessfulResultWriteLeavesTheMapRunSucceeded) {
  auto def = Def(kWriterMap);
  FakeHost host;
  Execution e(def, TestInfo(), host);
  Json before = RunToWrite(e, host);
  e.OnTaskResult(host.tasks.back().frame, host.tasks.back().seq, TaskResult{});
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded);
  EXPECT_TRUE(e.TakeMapRunChanges().runs.empty());  // the SUCCEEDED record stands
}

}  // namespace
}  // namespace stratus::services::stepfunctions
