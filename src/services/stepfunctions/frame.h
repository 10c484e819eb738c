#pragma once
// Internal to the engine: one thread of control of an execution (the top level, a Parallel
// branch or a Map iteration) and its position. Not thread-safe (owned by its Execution).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"
#include "services/stepfunctions/asl.h"
#include "services/stepfunctions/expressions.h"

namespace stratus::services::stepfunctions {

enum class Phase {
  kEnter,       // about to enter `state` with `input`
  kExit,        // the state computed `output`; about to emit Exited and move on
  kTimer,       // Wait state or retry backoff: waiting for timer `seq`
  kTask,        // waiting for task `seq`
  kChildren,    // Map/Parallel: waiting for child frames
  kRetry,       // timer fired for a retry: run the state again without a new Entered event
  kFail,        // about to fail with error/cause (after a catch-less failure)
  kDone,        // finished; `output` holds the frame's result (child frames only)
  // Distributed Map over S3 (values persisted: new phases go last):
  kReader,      // waiting for the ItemReader's read (task `seq`); `result` holds the state input
  kWriter,      // waiting for the ResultWriter's writes (task `seq`); error/cause: a failure to
                // report once the results are written
};

struct Children {
  size_t total = 0, started = 0, done = 0, failed = 0;
  size_t max_concurrency = 0;  // 0 = unlimited
  int64_t tolerated_count = -1;
  double tolerated_percentage = -1;
  std::vector<Json> items;     // Map: the item inputs (after ItemSelector)
  std::vector<Json> results;
  std::set<uint64_t> running;     // child frame ids
  bool failing = false;
  bool items_persisted = false;
  bool items_selected = false;     // items are final inputs (ItemBatcher applied ItemSelector)
  std::vector<uint64_t> finished;  // ids of ended children whose result records exist
  std::set<size_t> failed_indices;  // Map: iterations that failed (for the ResultWriter)
  // RedriveExecution: iterations/branches that succeeded before the redrive; they are done
  // (their results in `results`) and never started again.
  std::set<size_t> prefilled;
  // Map: where each iteration that failed within the tolerated threshold stopped (its redrive
  // point, see Execution::RedrivePoint), so a redrive resumes it there (persisted in its
  // result record).
  std::map<size_t, Json> failed_points;
  // Distributed Map: the next history event id of iterations that failed (a redrive continues
  // their child executions' histories).
  std::map<size_t, int64_t> child_events;
  std::string error, cause;
};

struct Frame : public VariableLookup {
  uint64_t id = 0;
  uint64_t parent = 0;
  int64_t index = -1;           // Map iteration / Parallel branch index
  const Branch* branch = nullptr;
  int state = 0;
  Phase phase = Phase::kEnter;
  Json input;                   // the current state's raw input
  Json output;                  // kExit: the state's output; kDone: the frame's result
  Json result;                  // a task/Map/Parallel result awaiting ResultSelector etc.
  Json vars = Json::object();   // variables of this scope
  std::optional<Json> pending_assign;
  std::string error, cause;     // kFail
  int64_t entered_event = 0;
  int64_t last_event = 0;
  int64_t entered_ms = 0;
  int64_t start_ms = 0;         // Map iterations: when the iteration started
  bool span_open = false;       // the current state's span is not reported yet (not persisted)
  uint64_t seq = 0;
  std::vector<int64_t> retry_counts;
  int64_t retry_total = 0;
  Json map_item;                // $$.Map.Item.Value for iterations
  bool has_map_item = false;
  Json task_parameters;         // kTask: what was dispatched
  std::string task_token;
  std::string task_kind;        // "lambda" / "task" / "activity"
  bool task_submitted = false;
  int64_t heartbeat_seconds = 0;  // kTask: HeartbeatSeconds (0 = none)
  int64_t heartbeat_due_ms = 0;   // kTask: when the task times out unless a heartbeat comes
  bool retrying = false;         // kTimer: a retry backoff rather than a Wait
  int next_override = -2;       // Choice/Catch: the chosen next state (-1 = end)
  std::unique_ptr<Children> children;
  // RedriveExecution of a Map/Parallel: the results of the iterations/branches that succeeded
  // in the failed attempt, {"<index>": output}; the state runs only the others (consumed when
  // its children start; persisted).
  Json redrive_done;
  // RedriveExecution of a Map/Parallel: {"<index>": redrive point} of the iterations/branches
  // that failed or were cut short; each resumes at the state where it stopped (recursively,
  // see Execution::RedrivePoint) instead of starting over. Kept until the state's children are
  // done or it fails (a Map starts iterations over time); persisted.
  Json redrive_resume;
  // A Map/Parallel that failed: {"done": those results, "child_events": the next event id of
  // each distributed iteration that did not succeed, "resume": the redrive point of each
  // iteration/branch that did not succeed}, for the execution's redrive point (set when it
  // fails, at any depth, cleared when the state is entered or retried; persisted).
  Json partial_results;
  // A distributed Map being redriven: {"<index>": next event id} of the child executions that
  // run again (their histories continue; persisted until the iterations start).
  Json redrive_child_events;
  // Distributed Map iterations of a standard execution are child executions with their own
  // history: `iteration_root` is the id of the iteration's top frame (0: not inside one), whose
  // `child_arn` names the child execution and `child_next_event` numbers its events (the
  // frame's last_event is in the same numbering). Persisted (the root and counter).
  uint64_t iteration_root = 0;
  std::string child_arn;
  int64_t child_next_event = 1;
  bool aborted = false;  // StopExecution of the child execution ended it
  bool redriven_child = false;  // the iteration re-runs a child execution a redrive continues (persisted)
  // A distributed Map: how often its map run was redriven, and when last (persisted).
  int64_t map_run_redrives = 0;
  int64_t map_run_redrive_ms = 0;
  // A distributed Map whose iterations succeeded while its ResultWriter writes: the map run's
  // record as it stood, to be rewritten FAILED if the write fails (persisted).
  Json map_run_record;
  // Execution variables visible from here: own scope, then the parents'.
  Frame* parent_frame = nullptr;

  const State& current() const { return branch->states[state]; }
  const Json* Find(std::string_view name) const override {
    for (const Frame* f = this; f; f = f->parent_frame) {
      auto it = f->vars.find(name);
      if (it != f->vars.end()) return &*it;
    }
    return nullptr;
  }
};

}  // namespace stratus::services::stepfunctions
