#include "services/stepfunctions/engine.h"

#include <gtest/gtest.h>

#include "services/stepfunctions/engine_test_util.h"

namespace stratus::services::stepfunctions {
namespace {

std::shared_ptr<const Definition> Def(const char* text) {
  auto d = ParseDefinition(text);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : nullptr;
}

std::vector<std::string> Types(const std::vector<HistoryEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

TEST(EngineTest, PassChainWithDataFlow) {
  auto def = Def(R"J({"StartAt":"A","States":{
    "A":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","Next":"B"},
    "B":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.r.x, 41)","name.$":"$$.Execution.Name"},"OutputPath":"$","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse(R"J({"in":true})J"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(e.output(), Json::parse(R"J({"sum":42,"name":"exec"})J"));
  EXPECT_EQ(Types(e.pending_events()),
            (std::vector<std::string>{"ExecutionStarted", "PassStateEntered", "PassStateExited",
                                      "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}));
}

TEST(EngineTest, StateSpansWhenTraced) {
  auto def = Def(R"J({"StartAt":"A","States":{
    "A":{"Type":"Pass","Next":"W"},
    "W":{"Type":"Wait","Seconds":5,"Next":"F"},
    "F":{"Type":"Fail","Error":"Boom"}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.TraceStates(true);
  e.Start(Json::object());
  host.FireAll(e);
  ASSERT_EQ(e.status(), ExecutionStatus::kFailed);
  ASSERT_EQ(host.spans.size(), 3u);
  EXPECT_EQ(host.spans[0].state, "A");
  EXPECT_EQ(host.spans[0].error, "");
  EXPECT_EQ(host.spans[0].entered_event, 2);
  EXPECT_EQ(host.spans[1].state, "W");
  EXPECT_EQ(host.spans[1].exited_ms - host.spans[1].entered_ms, 5000);
  EXPECT_EQ(host.spans[2].state, "F");
  EXPECT_EQ(host.spans[2].error, "Boom");

  // A state cut off by the machine's timeout ends with the execution's error; untraced
  // executions report nothing.
  auto waits = Def(R"J({"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}})J");
  FakeHost host2;
  Execution timed(waits, TestInfo(), host2);
  timed.TraceStates(true);
  timed.Start(Json::object());
  host2.FireAll(timed);
  ASSERT_EQ(timed.status(), ExecutionStatus::kTimedOut);
  ASSERT_EQ(host2.spans.size(), 1u);
  EXPECT_EQ(host2.spans[0].error, "States.Timeout");
  FakeHost host3;
  Execution quiet(def, TestInfo(), host3);
  quiet.Start(Json::object());
  host3.FireAll(quiet);
  EXPECT_TRUE(host3.spans.empty());
}

TEST(EngineTest, ChoiceWaitAndFail) {
  auto def = Def(R"J({"StartAt":"C","States":{
    "C":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericGreaterThan":10,"Next":"W"}],"Default":"F"},
    "W":{"Type":"Wait","Seconds":5,"Next":"S"},
    "S":{"Type":"Succeed"},
    "F":{"Type":"Fail","Error":"Small","Cause":"too small"}}})J");
  FakeHost host;
  Execution big(def, TestInfo(), host);
  big.Start(Json::parse(R"J({"v":11})J"));
  host.FireAll(big);
  EXPECT_EQ(big.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(host.now, 1700000005000);
  FakeHost host2;
  Execution small(def, TestInfo(), host2);
  small.Start(Json::parse(R"J({"v":1})J"));
  small.Run();
  EXPECT_EQ(small.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(small.error(), "Small");
  EXPECT_EQ(small.cause(), "too small");
}

TEST(EngineTest, TaskRetryThenCatch) {
  auto def = Def(R"J({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},
         "Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":2,"IntervalSeconds":1}],
         "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"P"}],"End":true},
    "P":{"Type":"Pass","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse(R"J({"a":1})J"));
  e.Run();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(host.tasks.size(), static_cast<size_t>(i + 1));
    TaskResult r;
    r.kind = TaskResult::Kind::kFailed;
    r.error = "Boom";
    r.cause = "c";
    e.OnTaskResult(host.tasks.back().frame, host.tasks.back().seq, r);
    // A duplicate delivery is ignored.
    e.OnTaskResult(host.tasks.back().frame, host.tasks.back().seq, r);
    host.FireAll(e);
  }
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(e.output(), Json::parse(R"J({"a":1,"err":{"Error":"Boom","Cause":"c"}})J"));
}

TEST(EngineTest, MapAndParallel) {
  auto def = Def(R"J({"StartAt":"M","States":{
    "M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,
         "ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},
         "ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"ResultPath":"$.out","Next":"P"},
    "P":{"Type":"Parallel","Branches":[
         {"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},
         {"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}],"ResultPath":"$.par","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse(R"J({"items":["a","b","c"]})J"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded) << e.error() << e.cause();
  EXPECT_EQ(e.output()["out"], Json::parse(R"J([{"v":"a","i":0},{"v":"b","i":1},{"v":"c","i":2}])J"));
  EXPECT_EQ(e.output()["par"], Json::parse("[1,2]"));
}

// AWS's inline mode runs at most 40 iterations at once, MaxConcurrency 0 ("no limit") included;
// a smaller MaxConcurrency still applies. The next iteration starts when one finishes.
TEST(EngineTest, InlineMapRunsAtMostFortyIterationsAtOnce) {
  for (auto [max, expected] : {std::pair<int, size_t>{0, 40}, {100, 40}, {5, 5}}) {
    std::string text = R"J({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":)J" +
                       std::to_string(max) +
                       R"J(,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task",
        "Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}},"End":true}}})J";
    auto def = Def(text.c_str());
    FakeHost host;
    Execution e(def, TestInfo(), host);
    Json items = Json::array();
    for (int i = 0; i < 100; ++i) items.push_back(i);
    e.Start(Json{{"items", items}});
    e.Run();
    ASSERT_EQ(host.tasks.size(), expected) << "MaxConcurrency " << max;
    TaskResult r;
    r.kind = TaskResult::Kind::kSucceeded;
    r.output = Json::object();
    e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, r);
    e.Run();
    EXPECT_EQ(host.tasks.size(), expected + 1) << "MaxConcurrency " << max;
    for (size_t k = 1; k < host.tasks.size(); ++k) {
      e.OnTaskResult(host.tasks[k].frame, host.tasks[k].seq, r);
      e.Run();
    }
    ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded) << e.error() << e.cause();
    EXPECT_EQ(host.tasks.size(), 100u);
    EXPECT_EQ(e.output().size(), 100u);
  }
}

// A distributed Map with MaxConcurrency 0 runs AWS's 10,000 child executions at once, not all.
TEST(EngineTest, DistributedMapRunsAtMostTenThousandChildrenAtOnce) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":0,
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"T","States":{
      "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}},
    "End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  Json items = Json::array();
  for (int i = 0; i < 10'005; ++i) items.push_back(i);
  e.Start(items);
  e.Run();
  ASSERT_EQ(host.tasks.size(), 10'000u);
  TaskResult r;
  r.kind = TaskResult::Kind::kSucceeded;
  r.output = Json::object();
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, r);
  e.Run();
  EXPECT_EQ(host.tasks.size(), 10'001u);
}

TEST(EngineTest, JsonataStates) {
  auto def = Def(R"J({"QueryLanguage":"JSONata","StartAt":"A","States":{
    "A":{"Type":"Pass","Assign":{"k":"{% $states.input.n * 2 %}"},"Output":{"x":"{% $states.input.n + 1 %}"},"Next":"B"},
    "B":{"Type":"Choice","Choices":[{"Condition":"{% $k = 4 %}","Next":"C"}],"Default":"D"},
    "C":{"Type":"Pass","Output":"{% {'k': $k, 'x': $states.input.x} %}","End":true},
    "D":{"Type":"Fail","Error":"no"}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse(R"J({"n":2})J"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded) << e.error() << e.cause();
  EXPECT_EQ(e.output(), Json::parse(R"J({"k":4,"x":3})J"));
}

TEST(EngineTest, JsonataFunctionResultIsAnUnsupportedType) {
  for (const char* field : {"Items", "Output"}) {
    std::string text = std::string(R"J({"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map",)J") +
                       (std::string(field) == "Items" ? R"J("Items":"{% $fn := function($x){$x} %}",)J"
                                                      : R"J("Items":[1],"Output":"{% $sum %}",)J") +
                       R"J("ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})J";
    auto def = Def(text.c_str());
    FakeHost host;
    Execution e(def, TestInfo(), host);
    e.Start(Json::object());
    e.Run();
    ASSERT_EQ(e.status(), ExecutionStatus::kFailed) << field;
    EXPECT_EQ(e.error(), "States.QueryEvaluationError");
    EXPECT_NE(e.cause().find("specified for the field '" + std::string(field) +
                             "' returned an unsupported result type."),
              std::string::npos)
        << e.cause();
  }
}

TEST(EngineTest, HeartbeatTimeoutAndReset) {
  auto def = Def(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:a","HeartbeatSeconds":10,"End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  int64_t start = host.now;
  e.Start(Json::object());
  e.Run();
  ASSERT_EQ(host.tasks.size(), 1u);
  const TaskCall call = host.tasks[0];
  host.now = start + 5000;
  EXPECT_TRUE(e.OnHeartbeat(call.frame, call.seq));
  EXPECT_FALSE(e.OnHeartbeat(call.frame, call.seq + 1));
  host.FireAll(e);
  EXPECT_EQ(e.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(e.error(), "States.HeartbeatTimeout");
  EXPECT_EQ(host.now, start + 15000);  // the heartbeat at +5 s moved the deadline to +15 s
  EXPECT_FALSE(e.OnHeartbeat(call.frame, call.seq));
}

TEST(EngineTest, ItemBatcherGroupsSelectedItems) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map",
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
                     "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
    "ItemSelector":{"v.$":"$$.Map.Item.Value"},
    "ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"b":1}},"End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::parse("[1,2,3,4,5]"));
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded) << e.error() << e.cause();
  EXPECT_EQ(e.output(), Json::parse(R"J([
    {"Items":[{"v":1},{"v":2}],"BatchInput":{"b":1}},
    {"Items":[{"v":3},{"v":4}],"BatchInput":{"b":1}},
    {"Items":[{"v":5}],"BatchInput":{"b":1}}])J"));
  // By bytes: each {"v":N} is 7 bytes, so 15 bytes hold two.
  auto by_bytes = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map",
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
                     "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
    "ItemSelector":{"v.$":"$$.Map.Item.Value"},
    "ItemBatcher":{"MaxInputBytesPerBatch":15},"End":true}}})J");
  Execution b(by_bytes, TestInfo(), host);
  b.Start(Json::parse("[1,2,3]"));
  b.Run();
  ASSERT_EQ(b.status(), ExecutionStatus::kSucceeded) << b.error() << b.cause();
  EXPECT_EQ(b.output(), Json::parse(R"J([{"Items":[{"v":1},{"v":2}]},{"Items":[{"v":3}]}])J"));
}

TEST(EngineTest, RuntimeErrorNamesTheState) {
  auto def = Def(R"J({"StartAt":"pass","States":{"pass":{"Type":"Pass","InputPath":"$.NoSuchInputPath","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::object());
  e.Run();
  EXPECT_EQ(e.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(e.error(), "States.Runtime");
  EXPECT_EQ(e.cause(), "An error occurred while executing the state 'pass' (entered at the event id #2). Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']");
}

TEST(EngineTest, RestoreResumesWhereItStood) {
  auto def = Def(R"J({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"P"},"P":{"Type":"Pass","Result":"done","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::object());
  e.Run();
  auto frames = e.TakeFrameChanges();
  std::vector<Json> records;
  for (auto& [key, rec] : frames) {
    if (rec) records.push_back(*rec);
  }
  auto restored = Execution::Restore(def, TestInfo(), host, e.ExecutionRecord(), records);
  ASSERT_EQ(host.timers.size(), 1u);
  auto [frame, seq] = host.timers.begin()->second;
  host.now += 10000;
  restored->OnTimer(frame, seq);
  restored->Run();
  EXPECT_EQ(restored->status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(restored->output(), "done");
  EXPECT_EQ(restored->TakeEvents().front().id, 3);  // WaitStateExited continues the ids
}

// The store a runner keeps: frame records by key, updated from each batch of changes.
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

TEST(EngineTest, DistributedMapReadsAndWritesThroughRestarts) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map","End":true,
    "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV"},
                  "Parameters":{"Bucket.$":"$.b","Key":"k.csv"}},
    "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"p"}},
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json{{"b", "in"}});
  e.Run();
  ASSERT_EQ(host.tasks.size(), 1u);
  EXPECT_EQ(host.tasks[0].purpose, TaskCall::Purpose::kItemReader);
  EXPECT_EQ(host.tasks[0].resource, "arn:aws:states:::s3:getObject");
  EXPECT_EQ(host.tasks[0].parameters["Parameters"], (Json{{"Bucket", "in"}, {"Key", "k.csv"}}));
  std::map<std::string, Json> store;
  Apply(store, e);

  // A restart while the read is in flight: the read is dispatched again.
  auto r1 = Execution::Restore(def, TestInfo(), host, e.ExecutionRecord(), Records(store));
  r1->ResumePendingWork();
  ASSERT_EQ(host.tasks.size(), 2u);
  EXPECT_EQ(host.tasks[1].purpose, TaskCall::Purpose::kItemReader);
  TaskResult read;
  read.output = Json{{"Body", "x,y\n1,2\n3,4\n"}};
  r1->OnTaskResult(host.tasks[1].frame, host.tasks[1].seq, read);
  r1->Run();
  ASSERT_EQ(host.tasks.size(), 3u);
  const TaskCall& write = host.tasks[2];
  EXPECT_EQ(write.purpose, TaskCall::Purpose::kResultWriter);
  const Json& files = write.parameters["Files"];
  ASSERT_EQ(files.size(), 2u);
  EXPECT_TRUE(files[0]["Key"].get<std::string>().ends_with("/SUCCEEDED_0.json"));
  Json results = Json::parse(files[0]["Body"].get<std::string>());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(Json::parse(results[1]["Output"].get<std::string>()), (Json{{"x", "3"}, {"y", "4"}}));
  Apply(store, *r1);

  // A restart while the files are written: they are written again, then the Map ends.
  auto r2 = Execution::Restore(def, TestInfo(), host, r1->ExecutionRecord(), Records(store));
  r2->ResumePendingWork();
  ASSERT_EQ(host.tasks.size(), 4u);
  EXPECT_EQ(host.tasks[3].purpose, TaskCall::Purpose::kResultWriter);
  EXPECT_EQ(host.tasks[3].parameters, write.parameters);
  r2->OnTaskResult(host.tasks[3].frame, host.tasks[3].seq, TaskResult{});
  r2->Run();
  ASSERT_EQ(r2->status(), ExecutionStatus::kSucceeded);
  const std::string key = write.parameters["ManifestKey"];
  EXPECT_TRUE(key.starts_with("p/") && key.ends_with("/manifest.json"));
  EXPECT_EQ(r2->output()["ResultWriterDetails"], (Json{{"Bucket", "out"}, {"Key", key}}));
  EXPECT_EQ(r2->output()["MapRunArn"], write.parameters["MapRunArn"]);
}

TEST(EngineTest, ItemReaderFailureIsCatchable) {
  auto def = Def(R"J({"StartAt":"M","States":{"M":{"Type":"Map","Next":"Done",
    "Catch":[{"ErrorEquals":["States.ItemReaderFailed"],"Next":"Done"}],
    "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},
                  "Parameters":{"Bucket":"b","Key":"k"}},
    "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}},
    "Done":{"Type":"Pass","End":true}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::object());
  e.Run();
  ASSERT_EQ(host.tasks.size(), 1u);
  TaskResult read;
  read.output = Json{{"Body", "{\"not\":\"a list\"}"}};
  e.OnTaskResult(host.tasks[0].frame, host.tasks[0].seq, read);
  e.Run();
  ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded);
  EXPECT_EQ(e.output()["Error"], "States.ItemReaderFailed");
  auto types = Types(e.TakeEvents());
  EXPECT_NE(std::find(types.begin(), types.end(), "MapStateFailed"), types.end());
}

// A state's output over 256 KiB fails the state with States.DataLimitExceeded in standard
// executions (measured as the history event's text) and in express ones (measured without
// writing it), and the two agree at the edge, escapes and nesting included.
TEST(EngineTest, StateOutputOverTheLimitFailsInBothModes) {
  auto def = Def(R"J({"StartAt":"Build","States":{
    "Build":{"Type":"Pass","Parameters":{"a.$":"$.s","n":[1,-2,true,null,{"k\"":"\n"}]},"End":true}}})J");
  constexpr size_t kLimit = 256 * 1024;
  // The output text is {"a":"<s>","n":[1,-2,true,null,{"k\"":"\n"}]}: its length without <s>.
  const size_t fixed = DumpJson(Json{{"a", ""}, {"n", Json::parse(R"J([1,-2,true,null,{"k\"":"\n"}])J")}}).size();
  for (bool history : {true, false}) {
    for (size_t extra : {size_t{0}, size_t{1}}) {
      // Part of the string is quotes (written as 2 bytes each), so escapes count toward the limit.
      const size_t budget = kLimit - fixed + extra;  // bytes the string takes when written
      const size_t quotes = budget / 4;
      std::string text(budget - 2 * quotes, 'x');
      text += std::string(quotes, '"');
      ASSERT_EQ(DumpJson(Json(text)).size(), budget + 2);
      FakeHost host;
      Execution e(def, TestInfo(), host, history);
      e.Start(Json{{"s", text}});
      host.FireAll(e);
      SCOPED_TRACE(history ? "standard" : "express");
      SCOPED_TRACE(extra ? "one byte over" : "at the limit");
      if (extra == 0) {
        ASSERT_EQ(e.status(), ExecutionStatus::kSucceeded) << e.error() << ": " << e.cause();
        EXPECT_EQ(DumpJson(e.output()).size(), kLimit);
      } else {
        ASSERT_EQ(e.status(), ExecutionStatus::kFailed);
        EXPECT_EQ(e.error(), "States.DataLimitExceeded");
      }
    }
  }
}

TEST(EngineTest, EndlessLoopStopsAtTheHistoryLimit) {
  auto def = Def(R"J({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
    "B":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"Done"}],"Default":"A"},
    "Done":{"Type":"Succeed"}}})J");
  FakeHost host;
  Execution e(def, TestInfo(), host);
  e.Start(Json::object());
  e.Run();
  EXPECT_EQ(e.status(), ExecutionStatus::kFailed);
  EXPECT_EQ(e.error(), "States.Runtime");
  EXPECT_LE(e.event_count(), kMaxHistoryEvents + 1);
}

TEST(DefinitionTest, AwsMessages) {
  auto r = ParseDefinition(R"J({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}})J");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidDefinition");
  EXPECT_NE(r.error().message.find("MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"), std::string::npos)
      << r.error().message;
  r = ParseDefinition("{");
  EXPECT_FALSE(r.ok());
  r = ParseDefinition(R"J({"States":{}})J");
  EXPECT_NE(r.error().message.find("These fields are required: [StartAt]"), std::string::npos);
  // Deeply nested Parallels are refused, not crashed on.
  std::string deep = R"J({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})J";
  for (int i = 0; i < 100; ++i) {
    deep = R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[)J" + deep + R"J(],"End":true}}})J";
  }
  r = ParseDefinition(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("TOO_DEEPLY_NESTED"), std::string::npos);
}

}  // namespace
}  // namespace stratus::services::stepfunctions
