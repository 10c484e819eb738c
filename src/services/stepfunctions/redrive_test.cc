// RedriveExecution in the engine: a failed Map or Parallel runs again only the iterations or
// branches that did not succeed; a distributed Map resumes its map run.
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

TaskResult Ok(Json output) {
  TaskResult r;
  r.output = std::move(output);
  return r;
}

TaskResult Failed(const char* error) {
  TaskResult r;
  r.kind = TaskResult::Kind::kFailed;
  r.error = error;
  r.cause = "c";
  return r;
}

// The execution as RedriveExecution finds it: restored from its record alone (the runner keeps
// no frames of an execution that ended), then redriven.
std::unique_ptr<Execution> Redriven(std::shared_ptr<const Definition> def, FakeHost& host, const Execution& e) {
  auto r = Execution::Restore(def, TestInfo(), host, e.ExecutionRecord(), {});
  EXPECT_TRUE(r->Redrive());
  return r;
}

TEST(RedriveTest, ParallelRerunsOnlyTheFailedBranch) {
  auto def = Def(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
    {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
    {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}]}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::object());
  e.Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Ok("a"));
  e.Run();
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, Failed("Boom"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);

  auto r = Redriven(def, host, e);
  r->Run();
  ASSERT_EQ(host.tasks.size(), 3u);  // only branch B's task again
  EXPECT_EQ(host.tasks[2].state_name, "B");
  r->OnTaskResult(host.tasks[2].frame, host.tasks[2].seq, Ok("b"));
  r->Run();
  ASSERT_EQ(r->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(r->output(), Json::parse(R"J(["a","b"])J"));
}

TEST(RedriveTest, MapRerunsOnlyUnsuccessfulIterationsAcrossARestart) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,
    "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse("[0,1,2,3]"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 4u);
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Ok("r0"));
  e.OnTaskResult(host.tasks[2].frame, host.tasks[2].seq, Ok("r2"));
  e.Run();
  // Iteration 1 fails while 3 still runs: the Map fails, 3 is aborted.
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, Failed("Boom"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);

  auto r = Redriven(def, host, e);
  std::map<std::string, Json> store;
  r->Run();
  Apply(store, *r);
  ASSERT_EQ(host.tasks.size(), 6u);
  EXPECT_EQ(host.tasks[4].parameters, Json(1));
  EXPECT_EQ(host.tasks[5].parameters, Json(3));
  // A restart in the middle of the redrive keeps what the first attempt achieved.
  auto again = Execution::Restore(def, r->info(), host, r->ExecutionRecord(), Records(store));
  again->ResumePendingWork();
  ASSERT_EQ(host.tasks.size(), 8u);
  again->OnTaskResult(host.tasks[6].frame, host.tasks[6].seq, Ok("r1"));
  again->OnTaskResult(host.tasks[7].frame, host.tasks[7].seq, Ok("r3"));
  again->Run();
  ASSERT_EQ(again->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(again->output(), Json::parse(R"J(["r0","r1","r2","r3"])J"));
  EXPECT_EQ(again->info().redrive_count, 1);
}

TEST(RedriveTest, RetriedMapRunsWholeAndStoppedMapKeepsFinishedIterations) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,"MaxConcurrency":1,
    "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse("[0,1,2]"));
  e.Run();
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Ok("r0"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  e.Abort("", "");  // StopExecution while iteration 1 runs
  ASSERT_EQ(e.status(), ExecutionStatus::kAborted);
  auto r = Redriven(def, host, e);
  r->Run();
  ASSERT_EQ(host.tasks.size(), 3u);
  EXPECT_EQ(host.tasks[2].parameters, Json(1));
  r->OnTaskResult(host.tasks[2].frame, host.tasks[2].seq, Ok("r1"));
  r->Run();
  ASSERT_EQ(host.tasks.size(), 4u);
  EXPECT_EQ(host.tasks[3].parameters, Json(2));
  r->OnTaskResult(host.tasks[3].frame, host.tasks[3].seq, Ok("r2"));
  r->Run();
  ASSERT_EQ(r->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(r->output(), Json::parse(R"J(["r0","r1","r2"])J"));
}

TEST(RedriveTest, DistributedMapResumesItsMapRun) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
      "StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse("[0,1]"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Ok("r0"));
  e.Run();
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, Failed("Boom"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);
  MapRunChanges first = e.TakeMapRunChanges();
  ASSERT_EQ(first.runs.size(), 1u);
  std::string run_arn = first.runs.begin()->first;
  EXPECT_EQ(first.runs.begin()->second["status"], "FAILED");
  int64_t entered = 0;
  for (const auto& ev : e.pending_events()) {
    if (ev.type == "MapStateEntered") entered = ev.id;
  }

  auto r = Redriven(def, host, e);
  r->Run();
  ASSERT_EQ(host.tasks.size(), 3u);
  EXPECT_EQ(host.tasks[2].parameters, Json(1));
  r->OnTaskResult(host.tasks[2].frame, host.tasks[2].seq, Ok("r1"));
  r->Run();
  ASSERT_EQ(r->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(r->output(), Json::parse(R"J(["r0","r1"])J"));
  MapRunChanges second = r->TakeMapRunChanges();
  ASSERT_EQ(second.runs.size(), 1u);
  EXPECT_EQ(second.runs.begin()->first, run_arn);  // the same map run
  const Json& rec = second.runs.begin()->second;
  EXPECT_EQ(rec["status"], "SUCCEEDED");
  EXPECT_EQ(rec["redriveCount"], 1);
  EXPECT_EQ(rec["itemCounts"]["succeeded"], 2);
  // The re-run iteration's child execution is redriven (its record says so).
  ASSERT_FALSE(second.children.empty());
  for (const auto& child : second.children) {
    EXPECT_TRUE(child["arn"].get<std::string>().ends_with("_1"));
    EXPECT_EQ(child["redriveCount"], 1);
  }
  bool redriven_event = false, entered_again = false;
  for (const auto& ev : r->pending_events()) {
    if (ev.type == "MapRunRedriven") {
      redriven_event = true;
      EXPECT_EQ(ev.details["mapRunArn"], run_arn);
      EXPECT_EQ(ev.details["redriveCount"], 1);
    }
    if (ev.type == "MapStateEntered") entered_again = true;
    if (ev.type == "MapStateExited") EXPECT_GT(ev.id, entered);
  }
  EXPECT_TRUE(redriven_event);
  EXPECT_FALSE(entered_again);
}

TEST(RedriveTest, TaskStateStillRunsAgainFromItsInput) {
  auto def = Def(R"J({"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"ResultPath":"$.a","Next":"T"},
    "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::object());
  e.Run();
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Failed("Boom"));
  e.Run();
  auto r = Redriven(def, host, e);
  r->Run();
  ASSERT_EQ(host.tasks.size(), 2u);
  EXPECT_EQ(host.tasks[1].parameters, Json::parse(R"J({"a":1})J"));
}

}  // namespace
}  // namespace stratus::services::stepfunctions
