#pragma once
// Runs executions: drives each Execution on the worker pool, persists standard executions'
// history and position with every batch of steps (one store Write per batch: group commit
// shares the fsync across concurrent executions), keeps timers in the store's leased queue
// (standard) or in memory (express), dispatches tasks after the commit that records them, and
// resumes every RUNNING standard execution after a restart.
//
// Thread-safe. Each execution is driven by at most one thread at a time (its `Live::mu`).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "aws/framework/service.h"
#include "services/stepfunctions/engine.h"
#include "store/store.h"

namespace stratus::services::stepfunctions {

// Store keys (DESIGN.md "State"): everything under "stepfunctions/".
// The index of RUNNING standard executions (resumed on start): this prefix + the execution ARN.
inline constexpr std::string_view kRunningIndexPrefix = "stepfunctions/running/";
struct ExecKeys {
  std::string meta;     // static: info, definition, input (written once)
  std::string state;    // dynamic: the engine's execution record (status, output, counters)
  std::string history;  // prefix of history chunks
  std::string frames;   // prefix of frame records
  std::string running;  // present while RUNNING (resume index)
};
// Parses "arn:aws:states:<region>:<account>:(execution|express):<sm>:<name>".
std::optional<ExecKeys> KeysForExecution(const std::string& arn);
std::string StateMachineKey(const std::string& account, const std::string& region, const std::string& name);
std::string ExecutionPrefix(const std::string& account, const std::string& region, const std::string& sm);

// A map run's record ("arn:aws:states:<region>:<acct>:mapRun:<machine>/<label>:<id>"), and the
// prefix of the index of an execution's map runs (values: map run ARNs).
std::optional<std::string> MapRunKey(const std::string& map_run_arn);
std::string MapRunIndexPrefix(const std::string& execution_arn);

// Record formats (runner_records.cc).
// A zero-padded number, for keys that sort by it (history chunks by first event id).
std::string PadKey(uint64_t n);
// An execution's static record's "info" and back.
Json InfoToJson(const ExecutionInfo& info);
ExecutionInfo InfoFromJson(const Json& j);
// A batch of history events as store values: the execution's own chunk (a JSON array text,
// empty when it has no events in the batch, and its first event id) and one chunk per
// distributed Map child execution ({key under the child's history, JSON array text}).
struct HistoryChunks {
  std::string own;
  int64_t first_own = 0;
  std::vector<std::pair<std::string, std::string>> children;
};
HistoryChunks SplitHistory(const std::vector<HistoryEvent>& events);
// The store writes ({key, value}) of a batch's map run changes of `parent`: each map run's
// record and its entry in the execution's map run index, and each child execution's static
// and dynamic records.
std::vector<std::pair<std::string, std::string>> MapRunWrites(const ExecutionInfo& parent, MapRunChanges runs);

// RedriveExecution's clientToken: AWS answers idempotently for the last 10 tokens that
// successfully redrove the execution, each for 15 minutes after its first use. The tokens live
// in the execution's static record as [{"token", "firstMs", "redriveMs"}], oldest first.
inline constexpr size_t kRedriveTokensKept = 10;
inline constexpr int64_t kRedriveTokenValidMs = int64_t{15} * 60 * 1000;
// The redrive date (epoch ms) a still-valid `token` answered with; nullopt when the token is
// empty, unknown, or first used more than 15 minutes before `now_ms`.
std::optional<int64_t> RedriveTokenAnswer(const Json& tokens, const std::string& token, int64_t now_ms);
// `tokens` with `token` added (a redrive at `redrive_ms` that succeeded), expired tokens
// dropped and at most the last kRedriveTokensKept kept. An empty token changes nothing.
Json RememberRedriveToken(const Json& tokens, const std::string& token, int64_t redrive_ms);

// Performs a task for an execution and reports its outcome (integrations.h implements it).
class TaskDispatcher {
 public:
  virtual ~TaskDispatcher() = default;
  virtual void Dispatch(const ExecutionInfo& info, const TaskCall& call,
                        std::function<void(TaskResult)> done) = 0;
};

struct StartRequest {
  ExecutionInfo info;
  std::shared_ptr<const Definition> definition;
  std::string definition_text;
  Json input;
  Json logging;  // the state machine's loggingConfiguration (express logs)
  // The StartExecution request's trace context: task calls continue it.
  trace::TraceContext trace;
  // Record the execution as a segment (a child of `trace`'s) and each state as a subsegment of
  // it, as AWS does when the machine's tracingConfiguration is enabled or the caller passed a
  // trace header. Recorded only when the trace is sampled.
  bool trace_states = false;
  // TestState (express only): the state whose data flow the execution records
  // (Execution::InspectState) and the variables its top level starts with (null: none).
  std::string inspect_state;
  Json variables;
};

// The id of the subsegment of the state entered at event `entered_event` of the execution whose
// segment is `execution_segment_id`: derived, not stored, so that it is the same after a restart
// (a task dispatched again still names its state's subsegment as its parent).
std::string StateSpanId(std::string_view execution_segment_id, int64_t entered_event);

class Runner {
 public:
  Runner(aws::ServiceContext& context, TaskDispatcher& dispatcher);
  ~Runner();

  // Starts the timer thread and resumes RUNNING standard executions.
  Status Start();
  void Stop();

  // Standard: durably records the execution (returns after commit), then runs it.
  Status StartStandard(StartRequest request);
  // Express: runs in memory; `done` is called once it ends (StartSyncExecution) — may be null.
  void StartExpress(StartRequest request, std::function<void(const Execution&)> done);

  // StopExecution (also of a running distributed Map iteration, a child execution: its parent
  // aborts it). ExecutionDoesNotExist when not running here.
  Status Stop(const std::string& arn, const std::string& error, const std::string& cause);
  // UpdateMapRun: the running map run's limits change; returns after the change is committed.
  // ResourceNotFound when no such map run; a map run that ended keeps its record unchanged.
  Status UpdateMapRun(const std::string& map_run_arn, const MapRunUpdate& update);
  // Task outcomes from SendTask* and activity workers; false when no such running execution.
  bool DeliverTaskResult(const std::string& arn, uint64_t frame, uint64_t seq, TaskResult result);
  // An activity worker takes task (frame, seq): `taken(true)` once the hand-out is committed
  // (ActivityStarted; the task is not dispatched again after a restart), `taken(false)` when the
  // execution no longer waits on that task or is not running here. Called on a worker thread.
  void TakeActivityTask(const std::string& arn, uint64_t frame, uint64_t seq, std::string worker,
                        std::function<void(bool)> taken);
  bool IsRunning(const std::string& arn);
  // SendTaskHeartbeat: restarts the task's heartbeat deadline (committed with the execution's
  // next batch);
  // false when the execution no longer waits on that task.
  bool DeliverHeartbeat(const std::string& arn, uint64_t frame, uint64_t seq);
  // RedriveExecution: runs a FAILED/TIMED_OUT/ABORTED standard execution again from where it
  // stopped (ExecutionNotRedrivable otherwise); returns after the redrive is committed, with
  // its redrive date (epoch ms). A non-empty `client_token` that redrove this execution in the
  // last 15 minutes (one of its last 10) answers that redrive's date and redrives nothing.
  Result<int64_t> Redrive(const std::string& arn, const std::string& client_token = "");

  // Called on the driving thread when any execution ends (set before Start()).
  std::function<void(const Execution&)> on_finished;

  // For benchmarks and tests: number of executions currently held in memory.
  size_t LiveCount();

 private:
  struct Live;
  class Host;
  // Stop of a child execution: posted to its parent when the parent runs here.
  Status StopChild(const std::string& arn, const std::string& error, const std::string& cause);
  void Post(const std::shared_ptr<Live>& live, std::function<void(Execution&)> fn);
  void Drive(const std::shared_ptr<Live>& live);
  // `first`: records the execution (refused when it exists); `redrive`: rewrites its static
  // record (redrive count) and puts it back in the running index.
  Status Persist(Live& live, bool first, bool redrive = false);
  void TimerLoop();
  void FireDueStoreTimers();
  Status Resume(const std::string& running_key);
  void LogExpress(Live& live);
  // The execution's trace context from the request (and its trace header in live.info).
  void BeginTrace(Live& live, StartRequest& req);
  // The same from a standard execution's records (Resume, Redrive).
  void RestoreTrace(Live& live, const Json& meta);
  void RecordExecutionEnd(Live& live);

  aws::ServiceContext& context_;
  TaskDispatcher& dispatcher_;
  std::mutex mu_;  // guards live_, memory_timers_, stopping_
  std::unordered_map<std::string, std::shared_ptr<Live>> live_;
  std::multimap<int64_t, std::tuple<std::string, uint64_t, uint64_t>> memory_timers_;
  std::condition_variable cv_;
  // Notified when an execution whose end is committed leaves live_ (Redrive waits for it).
  std::condition_variable retired_;
  bool stopping_ = false;
  std::thread timer_thread_;
  std::unique_ptr<store::Store::Watch> watch_;
};

}  // namespace stratus::services::stepfunctions
