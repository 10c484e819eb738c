// Step Functions benchmarks:
//   BM_ExpressPassChain     — a 1 000-state Pass chain run in memory (express): transitions/s
//   BM_ExpressMap           — a Map of 10 000 items (one Pass state each), in memory
//   BM_StandardPassChain    — the same chain as standard executions through the Runner: history
//                             and position committed to SQLite with fsync on (group commit);
//                             arg = executions running at once
//   BM_StandardMap          — a Map of 10 000 items as a standard execution, durable
//   BM_ExpressRunnerChain   — the 1 000-state chain as an express execution through the Runner;
//                             arg 1: the execution traces its states (a segment + 1 000
//                             subsegments recorded), arg 0: untraced
//   BM_StartToCompletion    — StartExecution → completion latency of a 3-state workflow,
//                             standard (durable) and express
// STRATUS_BENCH_DIR puts the store's data elsewhere than $TMPDIR or /tmp.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "aws/framework/service.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/worker_pool.h"
#include "services/stepfunctions/engine.h"
#include "services/stepfunctions/runner.h"
#include "store/store.h"
#include "trace/recorder.h"

namespace sfn = stratus::services::stepfunctions;
using stratus::Json;

namespace {

std::string PassChain(int n) {
  Json states = Json::object();
  for (int i = 0; i < n; ++i) {
    Json s{{"Type", "Pass"}};
    if (i + 1 < n) s["Next"] = "S" + std::to_string(i + 1);
    else s["End"] = true;
    states["S" + std::to_string(i)] = s;
  }
  return stratus::DumpJson(Json{{"StartAt", "S0"}, {"States", states}});
}

std::string MapDefinition() {
  return R"({"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})";
}

Json Items(int n) {
  Json a = Json::array();
  for (int i = 0; i < n; ++i) a.push_back(i);
  return a;
}

class NullHost : public sfn::EngineHost {
 public:
  int64_t NowMs() const override { return 1700000000000; }
  void Dispatch(const sfn::TaskCall&) override {}
  void ScheduleTimer(uint64_t, uint64_t, int64_t) override {}
};

sfn::ExecutionInfo Info(bool express, const std::string& name = "e") {
  sfn::ExecutionInfo i;
  i.arn = "arn:aws:states:us-east-1:000000000000:execution:bench:" + name;
  i.name = name;
  i.state_machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:bench";
  i.state_machine_name = "bench";
  i.account = "000000000000";
  i.region = "us-east-1";
  i.express = express;
  return i;
}

void BM_ExpressPassChain(benchmark::State& state) {
  auto def = *sfn::ParseDefinition(PassChain(static_cast<int>(state.range(0))));
  NullHost host;
  uint64_t transitions = 0;
  for (auto _ : state) {
    sfn::Execution e(def, Info(true), host, /*record_history=*/false);
    e.Start(Json::object({{"k", 1}}));
    e.Run();
    transitions += e.transitions();
    if (e.status() != sfn::ExecutionStatus::kSucceeded) state.SkipWithError("did not succeed");
  }
  state.counters["transitions/s"] = benchmark::Counter(static_cast<double>(transitions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExpressPassChain)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_ExpressMap(benchmark::State& state) {
  auto def = *sfn::ParseDefinition(MapDefinition());
  NullHost host;
  Json input = Items(static_cast<int>(state.range(0)));
  uint64_t transitions = 0;
  for (auto _ : state) {
    sfn::Execution e(def, Info(true), host, false);
    e.Start(input);
    e.Run();
    transitions += e.transitions();
    if (e.status() != sfn::ExecutionStatus::kSucceeded) state.SkipWithError("did not succeed");
  }
  state.counters["transitions/s"] = benchmark::Counter(static_cast<double>(transitions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExpressMap)->Arg(10000)->Unit(benchmark::kMillisecond);

struct NoListeners : stratus::aws::ListenerRegistry {
  stratus::Result<uint16_t> Open(uint64_t) override { return stratus::Error("Unavailable", "none"); }
  void Close(uint64_t) override {}
};

class NoTasks : public sfn::TaskDispatcher {
 public:
  void Dispatch(const sfn::ExecutionInfo&, const sfn::TaskCall&, std::function<void(sfn::TaskResult)>) override {}
};

// A Runner over a durable SQLite store (fsync on) in a fresh directory.
struct DurableRig {
  std::filesystem::path dir;
  std::unique_ptr<stratus::store::Store> store;
  stratus::Config config;
  stratus::WorkerPool workers{8};
  stratus::Metrics metrics;
  stratus::trace::InMemoryRecorder recorder;
  stratus::aws::ServiceClients clients;
  NoListeners listeners;
  std::unique_ptr<stratus::aws::ServiceContext> ctx;
  NoTasks tasks;
  std::unique_ptr<sfn::Runner> runner;
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;

  DurableRig() {
    const char* base = std::getenv("STRATUS_BENCH_DIR");
    if (!base) base = std::getenv("TMPDIR");
    if (!base) base = "/tmp";
    dir = std::filesystem::path(base) / ("sfn-bench-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
    stratus::store::SqliteOptions o;
    o.data_dir = dir.string();
    o.fsync = true;
    store = std::move(stratus::store::OpenSqliteStore(o)).value();
    ctx = std::make_unique<stratus::aws::ServiceContext>(stratus::aws::ServiceContext{
        *store, stratus::SystemClock::Instance(), config, workers, metrics, recorder, clients,
        [] { return std::string("http://localhost"); }, listeners});
    runner = std::make_unique<sfn::Runner>(*ctx, tasks);
    runner->on_finished = [this](const sfn::Execution&) {
      std::lock_guard lock(mu);
      ++finished;
      cv.notify_all();
    };
    (void)runner->Start();
  }
  ~DurableRig() {
    runner->Stop();
    runner.reset();
    store->Close();
    std::filesystem::remove_all(dir);
  }
  void WaitFor(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished >= n; });
  }
};

void BM_StandardPassChain(benchmark::State& state) {
  DurableRig rig;
  std::string text = PassChain(1000);
  auto def = *sfn::ParseDefinition(text);
  int concurrent = static_cast<int>(state.range(0));
  uint64_t transitions = 0;
  int started = 0;
  auto batches = rig.store->Stats();
  for (auto _ : state) {
    for (int i = 0; i < concurrent; ++i) {
      sfn::StartRequest req{Info(false, "x" + std::to_string(started++)), def, text, Json::object(), Json(), {}};
      if (!rig.runner->StartStandard(std::move(req)).ok()) state.SkipWithError("start failed");
    }
    rig.WaitFor(started);
    transitions += 1000ull * concurrent;
  }
  auto after = rig.store->Stats();
  state.counters["transitions/s"] = benchmark::Counter(static_cast<double>(transitions), benchmark::Counter::kIsRate);
  state.counters["commits/batch"] = static_cast<double>(after.commits - batches.commits) /
                                    std::max<double>(1, static_cast<double>(after.batches - batches.batches));
}
BENCHMARK(BM_StandardPassChain)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StandardMap(benchmark::State& state) {
  DurableRig rig;
  std::string text = MapDefinition();
  auto def = *sfn::ParseDefinition(text);
  Json input = Items(static_cast<int>(state.range(0)));
  uint64_t transitions = 0;
  int started = 0;
  for (auto _ : state) {
    sfn::StartRequest req{Info(false, "m" + std::to_string(started++)), def, text, input, Json(), {}};
    if (!rig.runner->StartStandard(std::move(req)).ok()) state.SkipWithError("start failed");
    rig.WaitFor(started);
    transitions += static_cast<uint64_t>(state.range(0)) + 1;
  }
  state.counters["transitions/s"] = benchmark::Counter(static_cast<double>(transitions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StandardMap)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

void BM_ExpressRunnerChain(benchmark::State& state) {
  bool traced = state.range(0) == 1;
  DurableRig rig;
  std::string text = PassChain(1000);
  auto def = *sfn::ParseDefinition(text);
  int started = 0;
  for (auto _ : state) {
    sfn::StartRequest req{Info(true, "t" + std::to_string(started++)), def, text, Json::object(), Json(), {}};
    if (traced) {
      req.trace = stratus::trace::BeginHop(std::nullopt, 1700000000);
      req.trace_states = true;
    }
    rig.runner->StartExpress(std::move(req), nullptr);
    rig.WaitFor(started);
  }
  state.counters["transitions/s"] =
      benchmark::Counter(1000.0 * static_cast<double>(started), benchmark::Counter::kIsRate);
  state.SetLabel(traced ? "traced" : "untraced");
}
BENCHMARK(BM_ExpressRunnerChain)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_StartToCompletion(benchmark::State& state) {
  bool express = state.range(0) == 1;
  DurableRig rig;
  std::string text = R"({"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.a","Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.a.x","NumericEquals":1,"Next":"C"}],"Default":"C"},"C":{"Type":"Succeed"}}})";
  auto def = *sfn::ParseDefinition(text);
  int started = 0;
  for (auto _ : state) {
    sfn::StartRequest req{Info(express, "l" + std::to_string(started++)), def, text, Json::object(), Json(), {}};
    if (express) {
      rig.runner->StartExpress(std::move(req), nullptr);
    } else if (!rig.runner->StartStandard(std::move(req)).ok()) {
      state.SkipWithError("start failed");
    }
    rig.WaitFor(started);
  }
  state.SetLabel(express ? "express" : "standard, fsync");
}
BENCHMARK(BM_StartToCompletion)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
