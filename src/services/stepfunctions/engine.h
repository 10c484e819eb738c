#pragma once
// The ASL interpreter: one Execution runs a compiled Definition from its input to a terminal
// status, independent of HTTP and of storage. Everything the execution needs from the outside —
// the time, task dispatch, timers — goes through an EngineHost; task results and timer firings
// come back through OnTaskResult / OnTimer. The execution records AWS's history events (ids,
// previousEventIds, details) and tracks which frames changed, so that a runner can persist the
// position after each batch of steps and resume it after a crash (Snapshot / Restore).
//
// Control flow is a set of frames (the top level, each Parallel branch, each Map iteration),
// stepped round-robin: each step emits at most a state's Entered or Exited events, which
// reproduces AWS's interleaving of branch events.
//
// Thread-safety: an Execution is not thread-safe; its runner serialises every call.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "services/stepfunctions/asl.h"

namespace stratus::services::stepfunctions {

struct HistoryEvent {
  // Empty: an event of this execution; else the ARN of the distributed Map child execution
  // whose history it belongs to (its ids count from 1 in that history).
  std::string execution_arn;
  int64_t id = 0;
  int64_t previous_id = 0;
  int64_t timestamp_ms = 0;
  std::string type;         // "PassStateEntered"
  std::string details_key;  // "stateEnteredEventDetails" (empty: no details)
  Json details;
};

// AWS's event JSON (as GetExecutionHistory returns it; timestamp in epoch seconds).
Json EventToJson(const HistoryEvent& e);
HistoryEvent EventFromJson(const Json& j);

struct ExecutionInfo {
  std::string arn, name, state_machine_arn, state_machine_name, role_arn;
  std::string account, region;
  std::string state_machine_version_arn, state_machine_alias_arn;
  int64_t start_ms = 0;
  bool express = false;
  int64_t redrive_count = 0;
  int64_t redrive_ms = 0;  // when it was last redriven (0: never)
  std::string trace_header;  // the execution's X-Amzn-Trace-Id, continued by its task calls
};

// AWS's cap on a standard execution's history; reaching it fails the execution.
inline constexpr int64_t kMaxHistoryEvents = 25000;

// AWS redrives an execution only within 14 days of its stop ("Execution redrivable period
// exceeded.").
inline constexpr int64_t kRedrivablePeriodMs = int64_t{14} * 24 * 3600 * 1000;

// AWS's hard limit on redrives of one map run; a redrive past it fails the Map state with
// States.Runtime ("Redriving Map Runs": redrive eligibility).
inline constexpr int64_t kMaxMapRunRedrives = 1000;
// An inline Map runs at most this many iterations at once, whatever its MaxConcurrency (0, "no
// limit", included): AWS's inline mode "supports up to 40 concurrent iterations".
inline constexpr size_t kInlineMapMaxConcurrency = 40;
// A distributed Map without a MaxConcurrency (or with 0) runs this many child executions at once:
// AWS's "up to 10,000 parallel child workflow executions". Its map run still reports 0.
inline constexpr size_t kDistributedMapMaxConcurrency = 10'000;

// Timers of a task's heartbeat carry this bit in their sequence number (the task's own timeout
// timer carries the plain sequence number).
inline constexpr uint64_t kHeartbeatTimerBit = uint64_t{1} << 62;

// A task to run: a service integration call, an activity, a Lambda function.
struct TaskCall {
  // kItemReader / kResultWriter: a distributed Map's S3 I/O (see map_io.h), not a Task state.
  enum class Purpose { kTask, kItemReader, kResultWriter };
  Purpose purpose = Purpose::kTask;
  uint64_t frame = 0;
  uint64_t seq = 0;
  std::string state_name;
  std::string resource;
  Json parameters;
  std::string token;  // .waitForTaskToken / activities: the task token
  std::optional<int64_t> timeout_seconds, heartbeat_seconds;
  std::string trace_parent;  // the state's segment id (set by the runner when states are traced)
  int64_t entered_event = 0;  // the event id of the state's Entered event (names its span)
  // Inside a distributed Map iteration (a child execution numbering its own events): its top
  // frame's id, which tells its states' spans from the parent's (0: the execution's own).
  uint64_t span_scope = 0;
};

// One state's stay, from its Entered event to its Exited event or its failure, reported to the
// host when the execution traces its states (Execution::TraceStates). A state the execution
// ended while it was waiting (timeout, abort, a failure elsewhere) is reported with the
// execution's error. Views are valid only during the call.
struct StateSpan {
  uint64_t frame = 0;
  std::string_view state_name;
  StateType type = StateType::kPass;
  int64_t entered_event = 0;
  uint64_t span_scope = 0;  // as TaskCall::span_scope
  int64_t entered_ms = 0;
  int64_t exited_ms = 0;
  std::string_view error;  // empty: the state exited normally (a caught error exits normally)
};

struct TaskResult {
  enum class Kind { kSucceeded, kFailed, kSubmitted, kStarted };
  Kind kind = Kind::kSucceeded;
  Json output;
  std::string error, cause;
  std::string worker_name;  // activities
};

class EngineHost {
 public:
  virtual ~EngineHost() = default;
  virtual int64_t NowMs() const = 0;
  // Starts a task; its result comes back through Execution::OnTaskResult(frame, seq, ...).
  virtual void Dispatch(const TaskCall& call) = 0;
  // Arranges for Execution::OnTimer(frame, seq) at `due_ms`. frame 0 = the execution timeout.
  virtual void ScheduleTimer(uint64_t frame, uint64_t seq, int64_t due_ms) = 0;
  // A state's stay ended (only when the execution traces its states). Called on the driving
  // thread; must not call back into the execution.
  virtual void StateEnded(const StateSpan& /*span*/) {}
};

// A distributed Map's map run and its iterations as child executions, for the runner to
// persist with the batch (standard executions only; express executions keep none).
struct MapRunChanges {
  // map run ARN -> record: mapRunArn, executionArn, stateMachineArn, frame, status, startMs,
  // stopMs, maxConcurrency, toleratedFailurePercentage, toleratedFailureCount, itemCounts,
  // executionCounts (DescribeMapRun's fields).
  std::map<std::string, Json> runs;
  // finished iterations: arn, name, stateMachineArn, mapRunArn, startMs, stopMs, input, status,
  // output or error/cause.
  std::vector<Json> children;
  bool empty() const { return runs.empty() && children.empty(); }
};

// UpdateMapRun's changes (absent: unchanged).
struct MapRunUpdate {
  std::optional<int64_t> max_concurrency;
  std::optional<double> tolerated_failure_percentage;
  std::optional<int64_t> tolerated_failure_count;
};

enum class ExecutionStatus { kRunning, kSucceeded, kFailed, kTimedOut, kAborted, kPendingRedrive };
std::string_view StatusName(ExecutionStatus s);

struct Frame;

class Execution {
 public:
  Execution(std::shared_ptr<const Definition> definition, ExecutionInfo info, EngineHost& host,
            bool record_history = true);
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // Reports each state's span to EngineHost::StateEnded from now on (off by default: the cost
  // when off is one branch per state).
  void TraceStates(bool on) { trace_states_ = on; }
  bool traces_states() const { return trace_states_; }

  // TestState: records the data flow of the top-level state named `state_name` into
  // inspection() — AWS's InspectionData members, each as JSON text: afterInputPath,
  // afterParameters (JSONPath) or afterArguments (JSONata), result, afterResultSelector,
  // afterResultPath (JSONPath) and variables (every variable visible after the state's
  // Assign). A step the state does not reach (it failed first) is absent. Off by default (the
  // cost when off is one branch per step).
  void InspectState(std::string state_name) { inspect_state_ = std::move(state_name); }
  const Json& inspection() const { return inspection_; }
  // Variables the top level sees from the start (TestState's `variables`); call before Start.
  void SetVariables(Json vars) { initial_vars_ = std::move(vars); }

  // Emits ExecutionStarted and makes the start state runnable.
  void Start(Json input);
  // Runs up to `max_steps` steps; returns the number run. Stops early when nothing is runnable.
  size_t Run(size_t max_steps = SIZE_MAX);
  bool HasRunnable() const { return !runnable_.empty(); }

  // A task's outcome; ignored unless `frame` is waiting on `seq` (idempotent re-delivery).
  void OnTaskResult(uint64_t frame, uint64_t seq, TaskResult result);
  // Whether `frame` waits on task `seq` that no worker has taken yet (an activity not handed
  // out, a task not submitted).
  bool AwaitsTask(uint64_t frame, uint64_t seq) const;
  // UpdateMapRun: the running distributed Map in `frame` takes the new limits (more
  // concurrency starts iterations at once). False when `frame` runs no distributed Map, or one
  // of another map run than `map_run_arn` (that one ended).
  bool UpdateMapRun(uint64_t frame, const std::string& map_run_arn, const MapRunUpdate& update);
  // Map run records and child executions changed since the last call.
  MapRunChanges TakeMapRunChanges();
  // A timer; ignored unless the frame still waits on `seq`.
  void OnTimer(uint64_t frame, uint64_t seq);
  // SendTaskHeartbeat: the task's heartbeat deadline restarts. False when `frame` no longer
  // waits on task `seq` (it ended or timed out).
  bool OnHeartbeat(uint64_t frame, uint64_t seq);
  // StopExecution: aborts with ExecutionAborted.
  void Abort(const std::string& error, const std::string& cause);
  // StopExecution of a running distributed Map iteration (a child execution): it ends ABORTED
  // (ExecutionAborted in its history) and counts as a failed iteration of its map run. False
  // when no such iteration runs.
  bool StopChild(const std::string& child_arn, const std::string& error, const std::string& cause);
  // Ends the execution as FAILED (the runner's last resort when the engine hit a bug).
  void Fail(const std::string& error, const std::string& cause);
  // RedriveExecution: an execution that ended FAILED, TIMED_OUT or ABORTED (restored from its
  // record, which keeps where it stopped) runs again from the top-level state that did not
  // complete, with that state's input and the variables of the time; emits ExecutionRedriven.
  // A Map or Parallel state runs only the iterations/branches that did not succeed (the others
  // keep their results and emit nothing), and each of those resumes at the state where it
  // stopped, so at every nesting depth only what did not succeed runs again; a distributed Map
  // whose map run had started — at the top level or nested — resumes that map run (same ARN,
  // MapRunRedriven, its redrive count up) without a new Entered event. False when there is
  // nothing to redrive from.
  bool Redrive();

  ExecutionStatus status() const { return status_; }
  const Json& output() const { return output_; }
  const std::string& error() const { return error_; }
  const std::string& cause() const { return cause_; }
  const ExecutionInfo& info() const { return info_; }
  const Json& input() const { return input_; }
  int64_t stop_ms() const { return stop_ms_; }
  int64_t event_count() const { return next_event_id_ - 1; }
  bool redrivable() const { return redrive_point_.has_value(); }
  uint64_t transitions() const { return transitions_; }

  // History events not yet taken by the runner (all of them when nothing was taken).
  std::vector<HistoryEvent> TakeEvents();
  const std::vector<HistoryEvent>& pending_events() const { return events_; }

  // Persistence: the frames changed since the last call (id → record, or null when deleted)
  // and the execution-level record.
  // Keys are suffixes under the execution's frame prefix: a frame's zero-padded id, or
  // "<id>.items" for a Map's item list (written once, not with every change of the Map).
  std::vector<std::pair<std::string, std::optional<Json>>> TakeFrameChanges();
  Json ExecutionRecord() const;
  // Rebuilds an execution from its records; tasks that were in flight are dispatched again and
  // timers re-armed by the runner (see PendingWork).
  static std::unique_ptr<Execution> Restore(std::shared_ptr<const Definition> definition,
                                            ExecutionInfo info, EngineHost& host,
                                            const Json& exec_record,
                                            const std::vector<Json>& frame_records);
  // After Restore: re-dispatches in-flight tasks and re-arms timers through the host.
  void ResumePendingWork();

  // The definition's state by frame (for tests and integrations).
  const State* CurrentState(uint64_t frame) const;

 private:
  friend class StateRunner;
  // `id` 0: a new id; else that id (a redriven distributed Map keeps its map run's frame).
  Frame* NewFrame(uint64_t parent, const Branch* branch, Json input, uint64_t id = 0);
  // RedriveExecution: where frame f stopped, {"state", "input", "vars"}; when its state is a
  // Map or Parallel that failed or was cut short, also what its iterations/branches achieved
  // ("done", "child_events", "resume": the points of those that did not succeed, recursively)
  // and, for a distributed Map, its map run's identity ("frame", "entered_event", "entered_ms",
  // "retry_total", "map_run_redrives").
  Json RedrivePoint(Frame& f);
  // RedriveExecution: a frame of `parent` (0: the top level) that resumes at `point` (as
  // RedrivePoint records it) — at the state where it stopped, with that state's input and
  // variables; a Map or Parallel there runs only what did not succeed, a distributed Map
  // resumes its map run without a new Entered event.
  Frame* ResumeFrame(uint64_t parent, const Branch* branch, const Json& point);
  Frame* Get(uint64_t id);
  void MarkDirty(Frame& f);
  void DeleteFrame(uint64_t id);
  // A Map iteration or Parallel branch ended: its frame leaves memory and its record becomes
  // the result record its parent gathers from after a restart.
  void FinishChild(Frame& child, bool ok);
  // The parent's children are done with: their records and the item list go.
  void DropChildren(Frame& parent);
  // RedriveExecution: iteration/branch `index` of `parent` succeeded before the redrive with
  // `output`; it is recorded done (a result record, as FinishChild writes) and never started.
  void PrefillChild(Frame& parent, size_t index, Json output);
  void Schedule(Frame& f);
  HistoryEvent& Emit(Frame* f, std::string type, std::string details_key = {}, Json details = {});
  // An event of the child execution whose top frame is `root` (its own numbering).
  HistoryEvent& EmitChild(Frame& root, Frame* f, std::string type, std::string details_key, Json details);
  void Step(Frame& f);
  void FrameSucceeded(Frame& f, Json output);
  void FrameFailed(Frame& f, std::string error, std::string cause);
  void FinishExecution(ExecutionStatus status, Json output, std::string error, std::string cause);
  // Reports f's open state span (when tracing) and closes it.
  void EndSpan(Frame& f, std::string_view error);
  Json ContextObject(const Frame& f) const;
  std::string BranchPath(const Branch* b) const;
  const Branch* BranchFromPath(const std::string& path) const;

  std::shared_ptr<const Definition> def_;
  ExecutionInfo info_;
  EngineHost& host_;
  bool record_history_;
  bool trace_states_ = false;
  MapRunChanges map_run_changes_;
  Json input_;
  ExecutionStatus status_ = ExecutionStatus::kRunning;
  Json output_;
  std::string error_, cause_;
  int64_t stop_ms_ = 0;
  int64_t next_event_id_ = 1;
  uint64_t next_frame_id_ = 1;
  uint64_t transitions_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Frame>> frames_;
  std::deque<uint64_t> runnable_;
  std::vector<HistoryEvent> events_;
  std::set<uint64_t> dirty_;
  std::set<uint64_t> deleted_;
  std::map<uint64_t, Json> done_records_;
  std::vector<std::string> deleted_keys_;
  bool exec_dirty_ = true;
  mutable std::unordered_map<const Branch*, std::string> branch_paths_;
  // Where a FAILED/TIMED_OUT/ABORTED execution stopped: {"state", "input", "vars"} of the top
  // frame (kept in the execution record for RedriveExecution).
  std::optional<Json> redrive_point_;
  std::string inspect_state_;  // TestState: the state whose data flow is recorded (empty: none)
  Json inspection_ = Json::object();
  Json initial_vars_;
};

}  // namespace stratus::services::stepfunctions
