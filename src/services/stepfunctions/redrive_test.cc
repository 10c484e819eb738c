// RedriveExecution in the engine: a failed Map or Parallel runs again only the iterations or
// branches that did not succeed, each from the state where it stopped, at every nesting depth;
// a distributed Map resumes its map run (also when nested).
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
    if (ev.type == "MapStateExited") {
      EXPECT_GT(ev.id, entered);
    }
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

// How often each Task state was dispatched (the engine's task invocations), by state name and
// parameters, from task `from` on.
std::map<std::string, int> Runs(const FakeHost& host, size_t from = 0) {
  std::map<std::string, int> out;
  for (size_t i = from; i < host.tasks.size(); ++i) {
    ++out[host.tasks[i].state_name + ":" + DumpJson(host.tasks[i].parameters)];
  }
  return out;
}

size_t TaskIndex(const FakeHost& host, const std::string& state, const Json& params, size_t from = 0) {
  for (size_t i = from; i < host.tasks.size(); ++i) {
    if (host.tasks[i].state_name == state && host.tasks[i].parameters == params) return i;
  }
  ADD_FAILURE() << "no task " << state << " " << DumpJson(params);
  return 0;
}

std::vector<std::string> EventTypes(const std::vector<HistoryEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

// Parallel → Map → Parallel: only the innermost branch that failed runs again, from its failed
// Task (the Pass before it is not repeated), also across a restart in the middle of the redrive.
TEST(RedriveTest, NestedParallelInMapInParallelRerunsOnlyTheFailedInnerBranch) {
  auto def = Def(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
    {"StartAt":"Outer","States":{"Outer":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
    {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","End":true,"ItemProcessor":{
      "StartAt":"P2","States":{"P2":{"Type":"Parallel","End":true,"Branches":[
        {"StartAt":"X","States":{"X":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
        {"StartAt":"Py","States":{"Py":{"Type":"Pass","Result":"p","ResultPath":"$.p","Next":"Y"},
                                  "Y":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}]}}}}}}]}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse(R"J({"items":[{"i":0},{"i":1}]})J"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 5u);  // Outer, X and Y of both items
  e.OnTaskResult(host.tasks[TaskIndex(host, "Outer", Json::parse(R"J({"items":[{"i":0},{"i":1}]})J"))].frame,
                 host.tasks[TaskIndex(host, "Outer", Json::parse(R"J({"items":[{"i":0},{"i":1}]})J"))].seq, Ok("o"));
  for (const char* state : {"X", "Y"}) {
    Json params = std::string(state) == "X" ? Json::parse(R"J({"i":0})J") : Json::parse(R"J({"i":0,"p":"p"})J");
    size_t t = TaskIndex(host, state, params);
    e.OnTaskResult(host.tasks[t].frame, host.tasks[t].seq, Ok(std::string(state) + "0"));
  }
  size_t x1 = TaskIndex(host, "X", Json::parse(R"J({"i":1})J"));
  e.OnTaskResult(host.tasks[x1].frame, host.tasks[x1].seq, Ok("X1"));
  e.Run();
  size_t y1 = TaskIndex(host, "Y", Json::parse(R"J({"i":1,"p":"p"})J"));
  e.OnTaskResult(host.tasks[y1].frame, host.tasks[y1].seq, Failed("Boom"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);
  e.TakeEvents();

  size_t before = host.tasks.size();
  auto r = Redriven(def, host, e);
  std::map<std::string, Json> store;
  r->Run();
  Apply(store, *r);
  // Only item 1's Y ran again, with the input it had (the Pass's output).
  EXPECT_EQ(Runs(host, before), (std::map<std::string, int>{{"Y:{\"i\":1,\"p\":\"p\"}", 1}}));
  std::vector<std::string> types = EventTypes(r->TakeEvents());
  EXPECT_EQ(types, (std::vector<std::string>{"ExecutionRedriven", "ParallelStateEntered", "ParallelStateStarted",
                                             "MapStateEntered", "MapStateStarted", "MapIterationStarted",
                                             "ParallelStateEntered", "ParallelStateStarted", "TaskStateEntered",
                                             "TaskScheduled", "TaskStarted"}));

  // A restart in the middle of the redrive: the task is dispatched again, nothing else runs.
  auto again = Execution::Restore(def, r->info(), host, r->ExecutionRecord(), Records(store));
  again->ResumePendingWork();
  ASSERT_EQ(host.tasks.size(), before + 2);
  EXPECT_EQ(host.tasks.back().state_name, "Y");
  again->OnTaskResult(host.tasks.back().frame, host.tasks.back().seq, Ok("Y1"));
  again->Run();
  ASSERT_EQ(again->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(again->output(), Json::parse(R"J(["o",[["X0","Y0"],["X1","Y1"]]])J"));
  EXPECT_EQ(host.tasks.size(), before + 2);
  for (const auto& ev : again->TakeEvents()) {
    EXPECT_NE(ev.type, "PassStateEntered");
    if (ev.type == "MapIterationSucceeded") {
      EXPECT_EQ(ev.details["index"], 1);
    }
  }
}

// An inline Map inside a branch whose iterations failed within the tolerated threshold before
// the Map failed: each failed iteration resumes at its failed Task, the succeeded one does not
// run; the tolerated failure's position survives a restart before the Map fails.
TEST(RedriveTest, MapInBranchResumesToleratedFailuresAtTheirFailedStateAcrossARestart) {
  auto def = Def(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
    {"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ToleratedFailureCount":1,"ItemProcessor":{
      "StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"$"},"Next":"T"},
        "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}}]}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  std::map<std::string, Json> store;
  e.Start(Json::parse("[0,1,2]"));
  e.Run();
  Apply(store, e);
  ASSERT_EQ(host.tasks.size(), 3u);
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Failed("Boom"));  // tolerated
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, Ok("r1"));
  e.Run();
  Apply(store, e);
  // kill -9 here: the execution resumes from its records.
  auto restored = Execution::Restore(def, e.info(), host, e.ExecutionRecord(), Records(store));
  restored->ResumePendingWork();
  ASSERT_EQ(host.tasks.size(), 4u);  // item 2's task again
  restored->OnTaskResult(host.tasks[3].frame, host.tasks[3].seq, Failed("Boom"));  // over the threshold
  restored->Run();
  ASSERT_EQ(restored->status(), ExecutionStatus::kFailed);
  EXPECT_EQ(restored->error(), "States.ExceedToleratedFailureThreshold");

  auto r = Redriven(def, host, *restored);
  r->Run();
  EXPECT_EQ(Runs(host, 4), (std::map<std::string, int>{{"T:{\"v\":0}", 1}, {"T:{\"v\":2}", 1}}));
  for (const auto& ev : r->TakeEvents()) EXPECT_NE(ev.type, "PassStateEntered");
  r->OnTaskResult(host.tasks[4].frame, host.tasks[4].seq, Ok("r0"));
  r->OnTaskResult(host.tasks[5].frame, host.tasks[5].seq, Ok("r2"));
  r->Run();
  ASSERT_EQ(r->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(r->output(), Json::parse(R"J([["r0","r1","r2"]])J"));
}

// StopExecution while a nested Map runs: a redrive runs only the iterations that had not
// succeeded, and the branch that had finished does not run.
TEST(RedriveTest, AbortedNestedMapKeepsFinishedIterations) {
  auto def = Def(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
    {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
    {"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemsPath":"$.items","ItemProcessor":{
      "StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}}]}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse(R"J({"items":[0,1,2]})J"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 4u);
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Ok("a"));
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, Ok("r0"));
  e.Run();
  e.Abort("", "");
  ASSERT_EQ(e.status(), ExecutionStatus::kAborted);
  auto r = Redriven(def, host, e);
  r->Run();
  EXPECT_EQ(Runs(host, 4), (std::map<std::string, int>{{"T:1", 1}, {"T:2", 1}}));
  r->OnTaskResult(host.tasks[4].frame, host.tasks[4].seq, Ok("r1"));
  r->OnTaskResult(host.tasks[5].frame, host.tasks[5].seq, Ok("r2"));
  r->Run();
  ASSERT_EQ(r->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(r->output(), Json::parse(R"J(["a",["r0","r1","r2"]])J"));
}

// A distributed Map inside a Parallel branch: the redrive resumes its map run (same ARN,
// MapRunRedriven, no new MapStateEntered or MapRunStarted) and re-runs only the failed child.
TEST(RedriveTest, DistributedMapInABranchResumesItsMapRun) {
  auto def = Def(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
    {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
    {"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemsPath":"$.items",
      "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
        "StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}}]}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  std::map<std::string, Json> store;
  e.Start(Json::parse(R"J({"items":[0,1]})J"));
  e.Run();
  ASSERT_EQ(host.tasks.size(), 3u);
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, Ok("a"));
  e.OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, Ok("r0"));
  e.Run();
  e.OnTaskResult(host.tasks[2].frame, host.tasks[2].seq, Failed("Boom"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);
  MapRunChanges first = e.TakeMapRunChanges();
  ASSERT_EQ(first.runs.size(), 1u);
  std::string run_arn = first.runs.begin()->first;
  e.TakeEvents();

  auto r = Redriven(def, host, e);
  r->Run();
  Apply(store, *r);
  EXPECT_EQ(Runs(host, 3), (std::map<std::string, int>{{"T:1", 1}}));
  // A restart in the middle of the redrive keeps the map run.
  auto again = Execution::Restore(def, r->info(), host, r->ExecutionRecord(), Records(store));
  again->ResumePendingWork();
  ASSERT_EQ(host.tasks.size(), 5u);
  again->OnTaskResult(host.tasks[4].frame, host.tasks[4].seq, Ok("r1"));
  again->Run();
  ASSERT_EQ(again->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(again->output(), Json::parse(R"J(["a",["r0","r1"]])J"));
  MapRunChanges second = r->TakeMapRunChanges();
  MapRunChanges third = again->TakeMapRunChanges();
  ASSERT_EQ(third.runs.size(), 1u);
  EXPECT_EQ(third.runs.begin()->first, run_arn);
  EXPECT_EQ(third.runs.begin()->second["status"], "SUCCEEDED");
  EXPECT_EQ(third.runs.begin()->second["redriveCount"], 1);
  ASSERT_EQ(second.runs.size(), 1u);
  EXPECT_EQ(second.runs.begin()->first, run_arn);
  std::vector<HistoryEvent> events = r->TakeEvents();
  for (auto& ev : again->TakeEvents()) events.push_back(std::move(ev));
  int redriven = 0, child_redriven = 0;
  for (const auto& ev : events) {
    EXPECT_NE(ev.type, "MapStateEntered");
    EXPECT_NE(ev.type, "MapRunStarted");
    if (ev.type == "MapRunRedriven" && ev.execution_arn.empty()) {
      ++redriven;
      EXPECT_EQ(ev.details["mapRunArn"], run_arn);
    }
    if (ev.type == "ExecutionRedriven" && ev.execution_arn.ends_with("_1")) ++child_redriven;
    EXPECT_FALSE(ev.execution_arn.ends_with("_0")) << ev.type;  // the succeeded child is untouched
  }
  EXPECT_EQ(redriven, 1);
  EXPECT_EQ(child_redriven, 1);
}

}  // namespace
}  // namespace stratus::services::stepfunctions
