// A distributed Map's map run (DescribeMapRun / ListMapRuns / UpdateMapRun) and its iterations
// as child executions (DescribeExecution / ListExecutions with mapRunArn): the records the
// engine queues for the runner to persist with the batch that changed them. The iterations
// themselves run in the parent execution's frames.
#include <algorithm>

#include "services/stepfunctions/state_runner.h"

namespace stratus::services::stepfunctions {

namespace {

Json Counts(size_t pending, size_t running, size_t succeeded, size_t failed, size_t aborted, size_t total,
            size_t written) {
  return Json{{"pending", pending},     {"running", running}, {"succeeded", succeeded},
              {"failed", failed},       {"timedOut", 0},      {"aborted", aborted},
              {"total", total},         {"resultsWritten", written},
              {"failuresNotRedrivable", 0}, {"pendingRedrive", 0}};
}

}  // namespace

void StateRunner::RecordMapRun(Frame& f, const char* status) {
  if (e_.info_.express || !f.children) return;
  const Children& c = *f.children;
  const MapConfig& m = *f.current().map;
  MapRunNames names = RunNames(f);
  std::string st = status;
  bool running = st == "RUNNING";
  size_t succeeded = c.done - std::min(c.done, c.failed);
  size_t active = c.running.size();
  size_t pending = c.total - std::min(c.total, c.started);
  size_t aborted = running ? 0 : active;
  if (st == "ABORTED") aborted += pending, pending = 0;
  size_t written = !running && !m.writer_resource.empty() ? c.done : 0;
  Json counts = Counts(pending, running ? active : 0, succeeded, c.failed, aborted, c.total, written);
  Json rec{{"mapRunArn", names.map_run_arn},
           {"executionArn", e_.info_.arn},
           {"stateMachineArn", names.state_machine_arn},
           {"frame", f.id},
           {"status", st},
           {"startMs", f.entered_ms},
           {"maxConcurrency", c.max_concurrency},
           {"toleratedFailurePercentage", std::max(0.0, c.tolerated_percentage)},
           {"toleratedFailureCount", std::max<int64_t>(0, c.tolerated_count)},
           {"itemCounts", counts},
           {"executionCounts", counts}};
  if (f.map_run_redrives > 0) {
    rec["redriveCount"] = f.map_run_redrives;
    rec["redriveMs"] = f.map_run_redrive_ms;
  }
  if (!running) {
    rec["stopMs"] = e_.host_.NowMs();
    // Iterations still running when the map run ends end with it.
    for (uint64_t id : c.running) {
      if (Frame* child = e_.Get(id)) RecordChildExecution(f, *child, "ABORTED");
    }
  }
  e_.map_run_changes_.runs[names.map_run_arn] = std::move(rec);
}

void StateRunner::RecordChildExecution(Frame& parent, Frame& child, const char* status) {
  if (e_.info_.express || !parent.children) return;
  const std::string st = status;
  Children& c = *parent.children;
  size_t index = static_cast<size_t>(child.index);
  MapRunNames names = RunNames(parent);
  std::string arn = names.execution_arn_prefix + std::to_string(index);
  Json input;
  if (index < c.items.size()) {
    if (c.items_selected) {
      input = c.items[index];
    } else {
      auto v = SelectItem(parent, index, c.items[index]);
      input = v.ok() ? std::move(*v) : c.items[index];
    }
  }
  Json rec{{"arn", arn},
           {"name", arn.substr(arn.rfind(':') + 1)},
           {"stateMachineArn", names.state_machine_arn},
           {"mapRunArn", names.map_run_arn},
           {"startMs", child.start_ms ? child.start_ms : parent.entered_ms},
           {"input", std::move(input)},
           {"status", st}};
  if (st != "RUNNING") rec["stopMs"] = e_.host_.NowMs();
  // A redriven iteration: its child execution was redriven with the map run.
  if (child.redriven_child) {
    rec["redriveCount"] = std::max<int64_t>(1, parent.map_run_redrives);
    rec["redriveMs"] = parent.map_run_redrive_ms;
  }
  if (st == "SUCCEEDED") {
    rec["output"] = child.output;
  } else if (st == "FAILED" || (st == "ABORTED" && child.aborted)) {
    if (!child.error.empty()) rec["error"] = child.error;
    if (!child.cause.empty()) rec["cause"] = child.cause;
  }
  // The child execution's own history: its start and its end.
  if (child.iteration_root == child.id && !child.child_arn.empty()) {
    Json d = Json::object();
    if (st == "RUNNING" && child.redriven_child) {
      // A redriven iteration: its child execution is redriven.
      e_.Emit(&child, "ExecutionRedriven", "executionRedrivenEventDetails",
              Json{{"redriveCount", std::max<int64_t>(1, parent.map_run_redrives)}});
    } else if (st == "RUNNING") {
      d = Json{{"input", DumpJson(rec["input"])}, {"inputDetails", Json{{"truncated", false}}},
               {"roleArn", e_.info_.role_arn}, {"stateMachineArn", names.state_machine_arn}};
      e_.Emit(&child, "ExecutionStarted", "executionStartedEventDetails", std::move(d));
    } else if (st == "SUCCEEDED") {
      d = Json{{"output", DumpJson(child.output)}, {"outputDetails", Json{{"truncated", false}}}};
      e_.Emit(&child, "ExecutionSucceeded", "executionSucceededEventDetails", std::move(d));
    } else {
      if (rec.contains("error")) d["error"] = rec["error"];
      if (rec.contains("cause")) d["cause"] = rec["cause"];
      bool failed = st == "FAILED";
      e_.Emit(&child, failed ? "ExecutionFailed" : "ExecutionAborted",
              failed ? "executionFailedEventDetails" : "executionAbortedEventDetails", std::move(d));
    }
  }
  e_.map_run_changes_.children.push_back(std::move(rec));
}

bool StateRunner::UpdateMapRun(Frame& f, const std::string& map_run_arn,
                               const MapRunUpdate& update) {
  if (f.phase != Phase::kChildren || !f.children || f.current().type != StateType::kMap ||
      !f.current().map->distributed) {
    return false;
  }
  // The frame outlives the map run: once it ended, the frame may run the next distributed Map
  // of its state list, or the Map's retry (a new map run), which the update must not change.
  if (RunNames(f).map_run_arn != map_run_arn) return false;
  Children& c = *f.children;
  if (update.max_concurrency) c.max_concurrency = static_cast<size_t>(std::max<int64_t>(0, *update.max_concurrency));
  if (update.tolerated_failure_percentage) c.tolerated_percentage = *update.tolerated_failure_percentage;
  if (update.tolerated_failure_count) c.tolerated_count = *update.tolerated_failure_count;
  // Persisted with the frame (its record carries the limits), so a restart keeps them.
  e_.MarkDirty(f);
  StartIterations(f);
  RecordMapRun(f, "RUNNING");
  return true;
}

}  // namespace stratus::services::stepfunctions
