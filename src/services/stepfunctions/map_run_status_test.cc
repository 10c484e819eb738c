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

// AWS's hard limit of 1000 redrives of a map run: the 1001st fails the Map with States.Runtime
// and leaves the map run as it was, so the next redrive is refused the same way.
TEST(MapRunStatusTest, MapRunRedrivesStopAtTheLimit) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
      "StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse("[0]"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 1u);
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, WriteFailed());
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);
  std::string run_arn = e.TakeMapRunChanges().runs.begin()->first;
  // The map run as if redriven 999 times: the 1000th redrive still runs it.
  Json rec = e.ExecutionRecord();
  ASSERT_EQ(rec["redrive"]["map_run_redrives"], 0);
  rec["redrive"]["map_run_redrives"] = kMaxMapRunRedrives - 1;
  auto r = Execution::Restore(def, TestInfo(), host, rec, {});
  ASSERT_TRUE(r->Redrive());
  r->Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  bool redriven = false;
  for (const auto& ev : r->pending_events()) {
    if (ev.type == "MapRunRedriven") redriven = ev.details["redriveCount"] == kMaxMapRunRedrives;
  }
  EXPECT_TRUE(redriven);
  r->OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, WriteFailed());
  r->Run();
  ASSERT_EQ(r->status(), ExecutionStatus::kFailed);
  (void)r->TakeMapRunChanges();

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto over = Execution::Restore(def, TestInfo(), host, attempt == 0 ? r->ExecutionRecord() : rec, {});
    ASSERT_TRUE(over->Redrive());
    over->Run();
    ASSERT_EQ(over->status(), ExecutionStatus::kFailed);
    EXPECT_EQ(over->error(), "States.Runtime");
    EXPECT_TRUE(over->cause().ends_with("The Map Run has exceeded the limit of 1000 redrives.")) << over->cause();
    EXPECT_EQ(host.tasks.size(), 2u);  // no iteration ran again
    for (const auto& ev : over->pending_events()) EXPECT_NE(ev.type, "MapRunRedriven");
    for (const auto& [arn, run] : over->TakeMapRunChanges().runs) {
      EXPECT_EQ(arn, run_arn);
      EXPECT_EQ(run.value("redriveCount", int64_t{0}), kMaxMapRunRedrives);
    }
    rec = over->ExecutionRecord();
    EXPECT_EQ(rec["redrive"]["map_run_redrives"], kMaxMapRunRedrives);
  }
}

}  // namespace
}  // namespace stratus::services::stepfunctions
