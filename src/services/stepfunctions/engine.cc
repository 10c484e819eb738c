// Execution mechanics: frames, scheduling, history events, completion and persistence records.
// The per-state logic lives in states.cc, map_parallel.cc and choice.cc (StateRunner).
#include "services/stepfunctions/engine.h"

#include <algorithm>
#include <utility>

#include "core/time_format.h"
#include "services/stepfunctions/frame.h"
#include "services/stepfunctions/state_runner.h"

namespace stratus::services::stepfunctions {

std::string_view StatusName(ExecutionStatus s) {
  switch (s) {
    case ExecutionStatus::kRunning: return "RUNNING";
    case ExecutionStatus::kSucceeded: return "SUCCEEDED";
    case ExecutionStatus::kFailed: return "FAILED";
    case ExecutionStatus::kTimedOut: return "TIMED_OUT";
    case ExecutionStatus::kAborted: return "ABORTED";
    case ExecutionStatus::kPendingRedrive: return "PENDING_REDRIVE";
  }
  return "";
}

Json EventToJson(const HistoryEvent& e) {
  Json j = Json::object();
  j["timestamp"] = static_cast<double>(e.timestamp_ms) / 1000.0;
  j["type"] = e.type;
  j["id"] = e.id;
  j["previousEventId"] = e.previous_id;
  if (!e.details_key.empty()) j[e.details_key] = e.details;
  return j;
}

HistoryEvent EventFromJson(const Json& j) {
  HistoryEvent e;
  e.timestamp_ms = static_cast<int64_t>(j.value("timestamp", 0.0) * 1000.0 + 0.5);
  e.type = j.value("type", "");
  e.id = j.value("id", int64_t{0});
  e.previous_id = j.value("previousEventId", int64_t{0});
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key().ends_with("EventDetails")) {
      e.details_key = it.key();
      e.details = it.value();
    }
  }
  return e;
}

Execution::Execution(std::shared_ptr<const Definition> definition, ExecutionInfo info,
                     EngineHost& host, bool record_history)
    : def_(std::move(definition)), info_(std::move(info)), host_(host), record_history_(record_history) {}

Execution::~Execution() = default;

Frame* Execution::Get(uint64_t id) {
  auto it = frames_.find(id);
  return it == frames_.end() ? nullptr : it->second.get();
}

Frame* Execution::NewFrame(uint64_t parent, const Branch* branch, Json input, uint64_t id) {
  auto f = std::make_unique<Frame>();
  f->id = id != 0 && id < next_frame_id_ && !frames_.count(id) ? id : next_frame_id_++;
  f->parent = parent;
  f->branch = branch;
  f->state = branch->start;
  f->input = std::move(input);
  f->parent_frame = parent ? Get(parent) : nullptr;
  if (f->parent_frame) f->iteration_root = f->parent_frame->iteration_root;
  Frame* raw = f.get();
  frames_.emplace(raw->id, std::move(f));
  MarkDirty(*raw);
  return raw;
}

void Execution::MarkDirty(Frame& f) {
  if (!record_history_) return;
  dirty_.insert(f.id);
}

void Execution::DeleteFrame(uint64_t id) {
  frames_.erase(id);
  if (!record_history_) return;
  dirty_.erase(id);
  deleted_.insert(id);
}

void Execution::FinishChild(Frame& child, bool ok) {
  uint64_t id = child.id;
  if (record_history_) {
    Json rec{{"id", id}, {"parent", child.parent}, {"index", child.index}, {"done", true}};
    if (ok) {
      rec["output"] = child.output;
    } else {
      rec["error_output"] = Json{{"Error", child.error}, {"Cause", child.cause}};
      // A tolerated failed Map iteration: where it stopped, for a redrive of the Map.
      if (Frame* p = Get(child.parent); p && p->children) {
        auto point = p->children->failed_points.find(static_cast<size_t>(child.index));
        if (point != p->children->failed_points.end()) rec["redrive"] = point->second;
      }
    }
    if (!child.child_arn.empty()) rec["child_next_event"] = child.child_next_event;
    dirty_.erase(id);
    done_records_[id] = std::move(rec);
  }
  frames_.erase(id);
}

void Execution::PrefillChild(Frame& parent, size_t index, Json output) {
  Children& c = *parent.children;
  uint64_t id = next_frame_id_++;
  exec_dirty_ = true;  // next_frame_id_ is in the execution record
  if (record_history_) {
    done_records_[id] = Json{{"id", id}, {"parent", parent.id}, {"index", index}, {"done", true},
                             {"prefilled", true}, {"output", output}};
  }
  c.results[index] = std::move(output);
  c.prefilled.insert(index);
  c.finished.push_back(id);
  ++c.done;
}

void Execution::DropChildren(Frame& parent) {
  if (!parent.children || !record_history_) return;
  for (uint64_t id : parent.children->finished) {
    if (done_records_.erase(id) == 0) deleted_.insert(id);
  }
  if (parent.children->items_persisted) deleted_keys_.push_back(std::to_string(parent.id) + ".items");
}

void Execution::Schedule(Frame& f) { runnable_.push_back(f.id); }

HistoryEvent& Execution::EmitChild(Frame& root, Frame* f, std::string type, std::string details_key, Json details) {
  int64_t id = root.child_next_event++;
  MarkDirty(root);  // its record carries the counter (a nested frame's event moves it too)
  int64_t prev = f ? f->last_event : id - 1;
  if (f) f->last_event = id;
  HistoryEvent e;
  e.execution_arn = root.child_arn;
  e.id = id;
  e.previous_id = prev;
  e.timestamp_ms = host_.NowMs();
  e.type = std::move(type);
  e.details_key = std::move(details_key);
  e.details = std::move(details);
  events_.push_back(std::move(e));
  return events_.back();
}

HistoryEvent& Execution::Emit(Frame* f, std::string type, std::string details_key, Json details) {
  if (f && f->iteration_root) {
    if (Frame* root = Get(f->iteration_root)) {
      return EmitChild(*root, f, std::move(type), std::move(details_key), std::move(details));
    }
  }
  static thread_local HistoryEvent scratch;
  int64_t id = next_event_id_++;
  int64_t prev = f ? f->last_event : (id - 1);
  if (f) f->last_event = id;
  if (!record_history_) {
    scratch.id = id;
    return scratch;
  }
  HistoryEvent e;
  e.id = id;
  e.previous_id = prev;
  e.timestamp_ms = host_.NowMs();
  e.type = std::move(type);
  e.details_key = std::move(details_key);
  e.details = std::move(details);
  events_.push_back(std::move(e));
  return events_.back();
}

void Execution::Start(Json input) {
  input_ = std::move(input);
  exec_dirty_ = true;
  Json details = Json::object();
  if (record_history_) {
    details["input"] = DumpJson(input_);
    details["inputDetails"] = Json{{"truncated", false}};
    details["roleArn"] = info_.role_arn;
    if (!info_.state_machine_alias_arn.empty()) details["stateMachineAliasArn"] = info_.state_machine_alias_arn;
    if (!info_.state_machine_version_arn.empty()) details["stateMachineVersionArn"] = info_.state_machine_version_arn;
  }
  Emit(nullptr, "ExecutionStarted", "executionStartedEventDetails", std::move(details));
  Frame* top = NewFrame(0, &def_->top, input_);
  top->last_event = 1;
  if (initial_vars_.is_object()) top->vars = initial_vars_;
  if (def_->timeout_seconds) {
    host_.ScheduleTimer(0, 0, info_.start_ms + *def_->timeout_seconds * 1000);
  }
  Schedule(*top);
}

size_t Execution::Run(size_t max_steps) {
  size_t steps = 0;
  while (steps < max_steps && !runnable_.empty() && status_ == ExecutionStatus::kRunning) {
    uint64_t id = runnable_.front();
    runnable_.pop_front();
    Frame* f = Get(id);
    if (!f) continue;
    if (!info_.express && next_event_id_ > kMaxHistoryEvents) {
      Fail("States.Runtime", "The execution history reached the limit of 25000 events.");
      break;
    }
    Step(*f);
    ++steps;
  }
  return steps;
}

void Execution::Step(Frame& f) {
  StateRunner runner(*this);
  runner.Step(f);
}

void Execution::OnTaskResult(uint64_t frame, uint64_t seq, TaskResult result) {
  if (status_ != ExecutionStatus::kRunning) return;
  Frame* f = Get(frame);
  if (!f || f->seq != seq) return;
  StateRunner runner(*this);
  if (f->phase == Phase::kTask) {
    runner.TaskResult(*f, std::move(result));
  } else if (f->phase == Phase::kReader || f->phase == Phase::kWriter) {
    runner.MapIoResult(*f, std::move(result));
  }
}

bool Execution::UpdateMapRun(uint64_t frame, const std::string& map_run_arn,
                             const MapRunUpdate& update) {
  if (status_ != ExecutionStatus::kRunning) return false;
  Frame* f = Get(frame);
  if (!f) return false;
  StateRunner runner(*this);
  return runner.UpdateMapRun(*f, map_run_arn, update);
}

MapRunChanges Execution::TakeMapRunChanges() { return std::exchange(map_run_changes_, {}); }

bool Execution::AwaitsTask(uint64_t frame, uint64_t seq) const {
  if (status_ != ExecutionStatus::kRunning) return false;
  auto it = frames_.find(frame);
  if (it == frames_.end()) return false;
  const Frame& f = *it->second;
  return f.phase == Phase::kTask && f.seq == seq && !f.task_submitted;
}

void Execution::OnTimer(uint64_t frame, uint64_t seq) {
  if (status_ != ExecutionStatus::kRunning) return;
  if (frame == 0) {
    FinishExecution(ExecutionStatus::kTimedOut, Json(), "States.Timeout", "");
    return;
  }
  if (seq & kHeartbeatTimerBit) {
    // The heartbeat deadline may have moved since this timer was set: re-arm for the new one.
    Frame* f = Get(frame);
    uint64_t task_seq = seq & ~kHeartbeatTimerBit;
    if (!f || f->seq != task_seq || f->phase != Phase::kTask || f->heartbeat_seconds <= 0) return;
    if (host_.NowMs() < f->heartbeat_due_ms) {
      host_.ScheduleTimer(frame, seq, f->heartbeat_due_ms);
      return;
    }
    StateRunner runner(*this);
    runner.TaskTimedOut(*f, "States.HeartbeatTimeout");
    return;
  }
  Frame* f = Get(frame);
  if (!f || f->seq != seq) return;
  StateRunner runner(*this);
  if (f->phase == Phase::kTimer) {
    runner.TimerFired(*f);
  } else if (f->phase == Phase::kTask) {
    runner.TaskTimedOut(*f);
  }
}

bool Execution::OnHeartbeat(uint64_t frame, uint64_t seq) {
  if (status_ != ExecutionStatus::kRunning) return false;
  Frame* f = Get(frame);
  if (!f || f->phase != Phase::kTask || f->seq != seq) return false;
  if (f->heartbeat_seconds > 0) {
    f->heartbeat_due_ms = host_.NowMs() + f->heartbeat_seconds * 1000;
    MarkDirty(*f);
  }
  return true;
}

void Execution::Abort(const std::string& error, const std::string& cause) {
  if (status_ != ExecutionStatus::kRunning) return;
  FinishExecution(ExecutionStatus::kAborted, Json(), error, cause);
}

bool Execution::StopChild(const std::string& child_arn, const std::string& error, const std::string& cause) {
  if (status_ != ExecutionStatus::kRunning || child_arn.empty()) return false;
  Frame* root = nullptr;
  for (const auto& [id, f] : frames_) {
    if (f->iteration_root == id && f->child_arn == child_arn && f->phase != Phase::kDone) root = f.get();
  }
  if (!root) return false;
  // The iteration's inner frames (nested Parallel branches, Map iterations) end with it.
  std::vector<uint64_t> inner;
  for (const auto& [id, f] : frames_) {
    if (f->iteration_root == root->id && id != root->id) inner.push_back(id);
  }
  for (uint64_t id : inner) {
    Frame* f = Get(id);
    if (!f) continue;
    EndSpan(*f, "States.Aborted");
    if (f->children) DropChildren(*f);
    DeleteFrame(id);
  }
  if (root->children) {
    DropChildren(*root);
    root->children.reset();
  }
  runnable_.erase(std::remove(runnable_.begin(), runnable_.end(), root->id), runnable_.end());
  root->aborted = true;
  ++root->seq;  // a late task result or timer of the iteration is stale
  FrameFailed(*root, error.empty() ? "States.Aborted" : error, cause);
  return true;
}

void Execution::Fail(const std::string& error, const std::string& cause) {
  if (status_ != ExecutionStatus::kRunning) return;
  FinishExecution(ExecutionStatus::kFailed, Json(), error, cause);
}

void Execution::FrameSucceeded(Frame& f, Json output) {
  if (f.parent == 0) {
    FinishExecution(ExecutionStatus::kSucceeded, std::move(output), "", "");
    return;
  }
  f.phase = Phase::kDone;
  f.output = std::move(output);
  StateRunner runner(*this);
  runner.ChildFinished(f, true);
}

void Execution::EndSpan(Frame& f, std::string_view error) {
  if (!f.span_open) return;
  f.span_open = false;
  if (!trace_states_) return;
  StateSpan span;
  span.frame = f.id;
  span.state_name = f.current().name;
  span.type = f.current().type;
  span.entered_event = f.entered_event;
  span.span_scope = f.iteration_root;
  span.entered_ms = f.entered_ms;
  span.exited_ms = host_.NowMs();
  span.error = error;
  host_.StateEnded(span);
}

void Execution::FrameFailed(Frame& f, std::string error, std::string cause) {
  EndSpan(f, error.empty() ? std::string_view("States.Runtime") : std::string_view(error));
  if (f.parent == 0) {
    FinishExecution(ExecutionStatus::kFailed, Json(), std::move(error), std::move(cause));
    return;
  }
  f.phase = Phase::kDone;
  f.error = std::move(error);
  f.cause = std::move(cause);
  StateRunner runner(*this);
  runner.ChildFinished(f, false);
}

void Execution::FinishExecution(ExecutionStatus status, Json output, std::string error, std::string cause) {
  status_ = status;
  stop_ms_ = host_.NowMs();
  exec_dirty_ = true;
  Json details = Json::object();
  switch (status) {
    case ExecutionStatus::kSucceeded:
      output_ = std::move(output);
      if (record_history_) {
        details["output"] = DumpJson(output_);
        details["outputDetails"] = Json{{"truncated", false}};
      }
      Emit(nullptr, "ExecutionSucceeded", "executionSucceededEventDetails", std::move(details));
      break;
    case ExecutionStatus::kFailed:
    case ExecutionStatus::kTimedOut:
    case ExecutionStatus::kAborted: {
      error_ = std::move(error);
      cause_ = std::move(cause);
      if (!error_.empty()) details["error"] = error_;
      if (!cause_.empty()) details["cause"] = cause_;
      const char* type = status == ExecutionStatus::kFailed     ? "ExecutionFailed"
                         : status == ExecutionStatus::kTimedOut ? "ExecutionTimedOut"
                                                                : "ExecutionAborted";
      const char* key = status == ExecutionStatus::kFailed     ? "executionFailedEventDetails"
                        : status == ExecutionStatus::kTimedOut ? "executionTimedOutEventDetails"
                                                               : "executionAbortedEventDetails";
      Emit(nullptr, type, key, std::move(details));
      break;
    }
    default: break;
  }
  runnable_.clear();
  redrive_point_.reset();
  if (status != ExecutionStatus::kSucceeded) {
    for (const auto& [id, f] : frames_) {
      if (f->parent != 0) continue;
      redrive_point_ = RedrivePoint(*f);
      break;
    }
  }
  // Every frame is gone once the execution ends; states still in progress end with it, and
  // so do their map runs.
  std::vector<uint64_t> ids;
  for (const auto& [id, f] : frames_) {
    if (f->phase == Phase::kChildren && f->children && f->current().type == StateType::kMap &&
        f->current().map->distributed) {
      StateRunner(*this).RecordMapRun(*f, status == ExecutionStatus::kFailed ? "FAILED" : "ABORTED");
    }
    if (f->span_open) {
      EndSpan(*f, status == ExecutionStatus::kSucceeded ? std::string_view()
                  : error_.empty()                      ? StatusName(status)
                                                        : std::string_view(error_));
    }
    ids.push_back(id);
    if (f->children) DropChildren(*f);
  }
  for (uint64_t id : ids) DeleteFrame(id);
}

bool Execution::Redrive() {
  if (!redrive_point_ || status_ == ExecutionStatus::kRunning || status_ == ExecutionStatus::kSucceeded) return false;
  Json point = std::move(*redrive_point_);
  redrive_point_.reset();
  status_ = ExecutionStatus::kRunning;
  error_.clear();
  cause_.clear();
  stop_ms_ = 0;
  exec_dirty_ = true;
  ++info_.redrive_count;
  Emit(nullptr, "ExecutionRedriven", "executionRedrivenEventDetails", Json{{"redriveCount", info_.redrive_count}});
  Frame* top = ResumeFrame(0, &def_->top, point);
  top->last_event = next_event_id_ - 1;
  MarkDirty(*top);
  if (def_->timeout_seconds) host_.ScheduleTimer(0, 0, host_.NowMs() + *def_->timeout_seconds * 1000);
  Schedule(*top);
  return true;
}

Json Execution::RedrivePoint(Frame& f) {
  Json point{{"state", f.state}, {"input", f.input}, {"vars", f.vars}};
  // A Map/Parallel that failed or is cut short: what its iterations/branches achieved, so a
  // redrive runs only the rest; a distributed Map's map run identity, so it resumes it.
  Json partial = f.partial_results;
  if (partial.is_null() && f.phase == Phase::kChildren && f.children) {
    partial = StateRunner(*this).PartialOutcome(f, nullptr);
  }
  if (!partial.is_null()) {
    point["done"] = partial.value("done", Json::object());
    point["child_events"] = partial.value("child_events", Json::object());
    if (auto r = partial.find("resume"); r != partial.end() && !r->empty()) point["resume"] = *r;
    point["frame"] = f.id;
    point["entered_event"] = f.entered_event;
    point["entered_ms"] = f.entered_ms;
    point["retry_total"] = f.retry_total;
    point["map_run_redrives"] = f.map_run_redrives;
  }
  return point;
}

Frame* Execution::ResumeFrame(uint64_t parent, const Branch* branch, const Json& point) {
  int state = point.value("state", branch->start);
  if (state < 0 || static_cast<size_t>(state) >= branch->states.size()) state = branch->start;
  const State& s = branch->states[state];
  bool resumes_run = point.contains("done") && s.type == StateType::kMap && s.map->distributed;
  // The map run resumes: the Map keeps the frame, entry and attempt its map run ARN is derived
  // from, and is not entered again.
  uint64_t id = resumes_run ? point.value("frame", uint64_t{0}) : 0;
  Frame* f = NewFrame(parent, branch, point.value("input", Json::object()), id);
  f->state = state;
  f->vars = point.value("vars", Json::object());
  if (point.contains("done") && (s.type == StateType::kMap || s.type == StateType::kParallel)) {
    f->redrive_done = point["done"].is_object() ? point["done"] : Json::object();
    if (auto r = point.find("resume"); r != point.end() && r->is_object() && !r->empty()) f->redrive_resume = *r;
    if (resumes_run) {
      f->entered_event = point.value("entered_event", int64_t{0});
      f->entered_ms = point.value("entered_ms", host_.NowMs());
      f->retry_total = point.value("retry_total", int64_t{0});
      f->retry_counts.assign(s.retry.size(), 0);
      f->map_run_redrives = point.value("map_run_redrives", int64_t{0}) + 1;
      f->redrive_child_events = point.value("child_events", Json::object());
      f->map_run_redrive_ms = host_.NowMs();
      f->span_open = true;
      f->phase = Phase::kRetry;
    }
  }
  MarkDirty(*f);
  return f;
}

Json Execution::ContextObject(const Frame& f) const {
  Json c = Json::object();
  c["Execution"] = Json{{"Id", info_.arn},
                        {"Input", input_},
                        {"StartTime", FormatIso8601(static_cast<double>(info_.start_ms) / 1000.0, true)},
                        {"Name", info_.name},
                        {"RoleArn", info_.role_arn},
                        {"RedriveCount", info_.redrive_count}};
  c["StateMachine"] = Json{{"Id", info_.state_machine_arn}, {"Name", info_.state_machine_name}};
  Json state = Json{{"Name", f.current().name},
                    {"EnteredTime", FormatIso8601(static_cast<double>(f.entered_ms) / 1000.0, true)}};
  if (f.retry_total > 0 || !f.current().retry.empty()) state["RetryCount"] = f.retry_total;
  c["State"] = std::move(state);
  if (!f.task_token.empty()) c["Task"] = Json{{"Token", f.task_token}};
  for (const Frame* p = &f; p; p = p->parent_frame) {
    if (p->has_map_item) {
      c["Map"] = Json{{"Item", Json{{"Index", p->index}, {"Value", p->map_item}}}};
      break;
    }
  }
  return c;
}

std::vector<HistoryEvent> Execution::TakeEvents() {
  std::vector<HistoryEvent> out;
  out.swap(events_);
  return out;
}

const State* Execution::CurrentState(uint64_t frame) const {
  auto it = frames_.find(frame);
  if (it == frames_.end()) return nullptr;
  return &it->second->current();
}

}  // namespace stratus::services::stepfunctions
