#pragma once
// Internal to the engine: the logic of each state type, run on one frame at a time by its
// Execution (states.cc: Pass, Task, Choice, Wait, Succeed, Fail, data flow, Retry/Catch;
// map_parallel.cc: Map and Parallel). Not thread-safe.
#include "services/stepfunctions/engine.h"
#include "services/stepfunctions/frame.h"
#include "services/stepfunctions/map_io.h"

namespace stratus::services::stepfunctions {

class StateRunner {
 public:
  explicit StateRunner(Execution& e) : e_(e) {}

  void Step(Frame& f);
  // A distributed Map's map run record (DescribeMapRun's shape) after a change, queued for the
  // runner (map_run.cc); `status` RUNNING, SUCCEEDED, FAILED or ABORTED.
  void RecordMapRun(Frame& f, const char* status);
  // UpdateMapRun on a running distributed Map (map_run.cc).
  bool UpdateMapRun(Frame& f, const std::string& map_run_arn, const MapRunUpdate& update);
  void TaskResult(Frame& f, stepfunctions::TaskResult result);
  // The task's TimeoutSeconds (States.Timeout) or HeartbeatSeconds (States.HeartbeatTimeout) ran out.
  void TaskTimedOut(Frame& f, const char* error = "States.Timeout");
  void TimerFired(Frame& f);
  void ChildFinished(Frame& child, bool ok);
  // What f's iterations/branches achieved, for a redrive: {"done": {"<index>": output} of those
  // that succeeded, "child_events": {"<index>": next history event id} of distributed
  // iterations that did not, "resume": {"<index>": redrive point} of those that failed or are
  // cut short, recursively}. `failing` is the child whose failure ends the state (no longer
  // among the running ones).
  Json PartialOutcome(Frame& f, Frame* failing);
  // A distributed Map's ItemReader read or ResultWriter write completed (map_reader.cc).
  void MapIoResult(Frame& f, stepfunctions::TaskResult result);

 private:
  void Enter(Frame& f);
  void Execute(Frame& f);
  void Exit(Frame& f);
  void ExecutePass(Frame& f);
  void ExecuteTask(Frame& f);
  void ExecuteChoice(Frame& f);
  void ExecuteWait(Frame& f);
  void ExecuteSucceed(Frame& f);
  void ExecuteFail(Frame& f);
  void ExecuteParallel(Frame& f);
  void ExecuteMap(Frame& f);
  void StartIterations(Frame& f);
  // The items are known: MapStateStarted, the map run and the first iterations.
  void StartMap(Frame& f, Json items, Json selector_input);
  // ItemReader: dispatches the S3 read; StartMap follows when it returns (map_reader.cc).
  void StartReader(Frame& f, Json selector_input);
  // ResultWriter: dispatches the writes of the iterations' outcomes (map_reader.cc); the Map
  // ends when they are written (failing with f.error/f.cause when those are set).
  void StartWriter(Frame& f, const std::vector<IterationOutcome>& outcomes);
  // Each iteration's status, input and result; `pending` marks ones still running or unstarted.
  std::vector<IterationOutcome> Outcomes(Frame& f);
  void DispatchMapIo(Frame& f, Phase phase);
  MapRunNames RunNames(const Frame& f) const;
  // A distributed Map iteration started (RUNNING) or ended (SUCCEEDED, FAILED, ABORTED): its
  // child execution record, queued for the runner.
  void RecordChildExecution(Frame& parent, Frame& child, const char* status);
  // A Map item through the ItemSelector (the item itself without one).
  Result<Json> SelectItem(Frame& f, size_t index, const Json& item);
  // ItemBatcher: the selected items grouped into {"Items": [...], "BatchInput": ...} inputs.
  Result<Json> BatchItems(Frame& f, Json items);
  void FinishChildren(Frame& f);

  // A state's evaluation failed (paths, templates, expressions): wraps AWS's prefix around
  // States.Runtime / QueryEvaluationError messages and handles the failure.
  void EvaluationError(Frame& f, const Error& e, bool evaluation_event = false);
  // Retry, then Catch, then fail the frame.
  void HandleFailure(Frame& f, const std::string& error, const std::string& cause);
  // The state computed its output: assign variables, move to Exit.
  void Complete(Frame& f, Json output);

  // Data flow.
  Json Context(const Frame& f) const;
  Json StatesVar(const Frame& f, const Json* result, const Json* error_output) const;
  jsonata::Bindings Bindings(const Frame& f, const Json& states) const;
  Result<Json> EffectiveInput(const Frame& f, const Json& ctx) const;
  Result<Json> ApplyOutputPath(const Frame& f, Json value, const Json& ctx) const;
  // ResultSelector, Assign, ResultPath, OutputPath (JSONPath) or Assign, Output (JSONata).
  Result<Json> ProcessResult(Frame& f, Json result);
  Status EvaluateAssign(Frame& f, const std::optional<PayloadTemplate>& jp,
                        const std::optional<JsonataTemplate>& jt, const Json& path_input,
                        const Json* states);
  Result<int64_t> ResolveNumber(Frame& f, const NumberOrPath& n, const char* name, const Json& input,
                                bool integer);

  // TestState (Execution::InspectState): records `value` as the inspected state's `step`.
  void Inspect(const Frame& f, const char* step, const Json& value) {
    if (e_.inspect_state_.empty()) return;
    InspectSlow(f, step, value);
  }
  void InspectSlow(const Frame& f, const char* step, const Json& value);

  std::string EnteredType(const State& s) const;
  std::string ExitedType(const State& s) const;

  Execution& e_;
};

// Whether an error name matches an ErrorEquals list (States.ALL, States.TaskFailed rules).
bool ErrorMatches(const std::vector<std::string>& names, const std::string& error);
// Choice rule evaluation (choice.cc).
Result<bool> EvaluateRule(const ChoiceRule& rule, const EvalEnv& env);

}  // namespace stratus::services::stepfunctions
