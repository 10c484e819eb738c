// Persistence of an execution's position: frame records and the execution record, written by
// the runner with each batch of history events, and Restore after a restart.
#include <algorithm>
#include <cstdio>

#include "services/stepfunctions/engine.h"
#include "services/stepfunctions/frame.h"

namespace stratus::services::stepfunctions {

namespace {

void IndexBranches(const Branch& b, const std::string& path, std::unordered_map<const Branch*, std::string>& out) {
  out[&b] = path;
  for (size_t i = 0; i < b.states.size(); ++i) {
    const State& s = b.states[i];
    for (size_t k = 0; k < s.branches.size(); ++k) {
      IndexBranches(*s.branches[k], path + "/" + std::to_string(i) + "." + std::to_string(k), out);
    }
    if (s.map && s.map->processor) IndexBranches(*s.map->processor, path + "/" + std::to_string(i) + ".m", out);
  }
}

Json FrameToJson(const Frame& f, const std::string& branch) {
  Json j = Json::object();
  j["id"] = f.id;
  j["parent"] = f.parent;
  j["index"] = f.index;
  j["branch"] = branch;
  j["state"] = f.state;
  j["phase"] = static_cast<int>(f.phase);
  j["input"] = f.input;
  if (!f.output.is_null()) j["output"] = f.output;
  if (!f.result.is_null()) j["result"] = f.result;
  if (!f.vars.empty()) j["vars"] = f.vars;
  if (f.pending_assign) j["assign"] = *f.pending_assign;
  if (!f.error.empty()) j["error"] = f.error;
  if (!f.cause.empty()) j["cause"] = f.cause;
  j["entered_event"] = f.entered_event;
  j["last_event"] = f.last_event;
  j["entered_ms"] = f.entered_ms;
  if (f.start_ms) j["start_ms"] = f.start_ms;
  j["seq"] = f.seq;
  if (!f.retry_counts.empty()) j["retry_counts"] = f.retry_counts;
  j["retry_total"] = f.retry_total;
  if (f.has_map_item) j["map_item"] = f.map_item;
  if (f.phase == Phase::kReader || f.phase == Phase::kWriter) j["task_parameters"] = f.task_parameters;
  if (f.phase == Phase::kTask) {
    j["task_parameters"] = f.task_parameters;
    j["task_kind"] = f.task_kind;
    j["task_submitted"] = f.task_submitted;
    if (f.heartbeat_seconds > 0) {
      j["heartbeat_seconds"] = f.heartbeat_seconds;
      j["heartbeat_due_ms"] = f.heartbeat_due_ms;
    }
  }
  if (!f.task_token.empty()) j["task_token"] = f.task_token;
  j["retrying"] = f.retrying;
  j["next_override"] = f.next_override;
  if (f.iteration_root) j["iteration_root"] = f.iteration_root;
  if (!f.child_arn.empty()) {
    j["child_arn"] = f.child_arn;
    j["child_next_event"] = f.child_next_event;
    if (f.redriven_child) j["redriven_child"] = true;
  }
  if (!f.redrive_done.is_null()) j["redrive_done"] = f.redrive_done;
  if (!f.redrive_resume.is_null()) j["redrive_resume"] = f.redrive_resume;
  if (!f.redrive_child_events.is_null()) j["redrive_child_events"] = f.redrive_child_events;
  if (!f.partial_results.is_null()) j["partial_results"] = f.partial_results;
  if (!f.map_run_record.is_null()) j["map_run_record"] = f.map_run_record;
  if (f.map_run_redrives > 0) {
    j["map_run_redrives"] = f.map_run_redrives;
    j["map_run_redrive_ms"] = f.map_run_redrive_ms;
  }
  if (f.children) {
    const Children& c = *f.children;
    j["children"] = Json{{"total", c.total},
                         {"started", c.started},
                         {"done", c.done},
                         {"failed", c.failed},
                         {"max_concurrency", c.max_concurrency},
                         {"tolerated_count", c.tolerated_count},
                         {"tolerated_percentage", c.tolerated_percentage},
                         {"running", c.running},
                         {"items_selected", c.items_selected}};
  }
  return j;
}

}  // namespace

std::string Execution::BranchPath(const Branch* b) const {
  if (branch_paths_.empty()) IndexBranches(def_->top, "", branch_paths_);
  auto it = branch_paths_.find(b);
  return it == branch_paths_.end() ? "" : it->second;
}

const Branch* Execution::BranchFromPath(const std::string& path) const {
  if (branch_paths_.empty()) IndexBranches(def_->top, "", branch_paths_);
  for (const auto& [b, p] : branch_paths_) {
    if (p == path) return b;
  }
  return nullptr;
}

std::string FrameKey(uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012llu", static_cast<unsigned long long>(id));
  return buf;
}

std::vector<std::pair<std::string, std::optional<Json>>> Execution::TakeFrameChanges() {
  std::vector<std::pair<std::string, std::optional<Json>>> out;
  for (uint64_t id : deleted_) out.emplace_back(FrameKey(id), std::nullopt);
  for (auto& k : deleted_keys_) out.emplace_back(FrameKey(std::stoull(k.substr(0, k.find('.')))) + ".items", std::nullopt);
  for (auto& [id, rec] : done_records_) out.emplace_back(FrameKey(id), std::move(rec));
  for (uint64_t id : dirty_) {
    auto it = frames_.find(id);
    if (it == frames_.end()) continue;
    Frame& f = *it->second;
    if (f.children && !f.children->items_persisted) {
      f.children->items_persisted = true;
      if (!f.children->items.empty()) {
        out.emplace_back(FrameKey(id) + ".items", Json{{"items_of", id}, {"items", f.children->items}});
      }
    }
    out.emplace_back(FrameKey(id), FrameToJson(f, BranchPath(f.branch)));
  }
  dirty_.clear();
  deleted_.clear();
  deleted_keys_.clear();
  done_records_.clear();
  return out;
}

Json Execution::ExecutionRecord() const {
  Json j = Json::object();
  j["status"] = std::string(StatusName(status_));
  if (status_ == ExecutionStatus::kSucceeded) j["output"] = output_;
  if (!error_.empty()) j["error"] = error_;
  if (!cause_.empty()) j["cause"] = cause_;
  j["stop_ms"] = stop_ms_;
  if (redrive_point_) j["redrive"] = *redrive_point_;
  j["next_event_id"] = next_event_id_;
  j["next_frame_id"] = next_frame_id_;
  j["transitions"] = transitions_;
  return j;
}

std::unique_ptr<Execution> Execution::Restore(std::shared_ptr<const Definition> definition,
                                              ExecutionInfo info, EngineHost& host,
                                              const Json& rec, const std::vector<Json>& frames) {
  auto e = std::make_unique<Execution>(std::move(definition), std::move(info), host, true);
  e->input_ = rec.value("input", Json::object());
  e->next_event_id_ = rec.value("next_event_id", int64_t{1});
  e->next_frame_id_ = rec.value("next_frame_id", uint64_t{1});
  e->transitions_ = rec.value("transitions", uint64_t{0});
  e->exec_dirty_ = false;
  // A finished execution is restored for RedriveExecution: its outcome and where it stopped.
  if (std::string status = rec.value("status", "RUNNING"); status != "RUNNING") {
    e->status_ = status == "SUCCEEDED"   ? ExecutionStatus::kSucceeded
                 : status == "TIMED_OUT" ? ExecutionStatus::kTimedOut
                 : status == "ABORTED"   ? ExecutionStatus::kAborted
                                         : ExecutionStatus::kFailed;
    e->error_ = rec.value("error", "");
    e->cause_ = rec.value("cause", "");
    e->stop_ms_ = rec.value("stop_ms", int64_t{0});
    if (rec.contains("redrive")) e->redrive_point_ = rec["redrive"];
  }
  std::vector<const Json*> items_records, done_records;
  for (const Json& j : frames) {
    if (j.contains("items_of")) {
      items_records.push_back(&j);
      continue;
    }
    if (j.value("done", false)) {
      done_records.push_back(&j);
      continue;
    }
    auto f = std::make_unique<Frame>();
    f->id = j.value("id", uint64_t{0});
    f->parent = j.value("parent", uint64_t{0});
    f->index = j.value("index", int64_t{-1});
    f->branch = e->BranchFromPath(j.value("branch", ""));
    if (!f->branch) continue;
    f->state = j.value("state", 0);
    f->phase = static_cast<Phase>(j.value("phase", 0));
    f->input = j.value("input", Json());
    f->output = j.value("output", Json());
    f->result = j.value("result", Json());
    f->vars = j.value("vars", Json::object());
    if (j.contains("assign")) f->pending_assign = j["assign"];
    f->error = j.value("error", "");
    f->cause = j.value("cause", "");
    f->entered_event = j.value("entered_event", int64_t{0});
    f->last_event = j.value("last_event", int64_t{0});
    f->entered_ms = j.value("entered_ms", int64_t{0});
    f->start_ms = j.value("start_ms", int64_t{0});
    // A state that was entered and has not exited: its span ends after the restart.
    f->span_open = f->phase != Phase::kEnter && f->phase != Phase::kDone && f->entered_event > 0;
    f->seq = j.value("seq", uint64_t{0});
    f->retry_counts = j.value("retry_counts", std::vector<int64_t>{});
    f->retry_total = j.value("retry_total", int64_t{0});
    if (j.contains("map_item")) {
      f->map_item = j["map_item"];
      f->has_map_item = true;
    }
    f->task_parameters = j.value("task_parameters", Json());
    f->task_kind = j.value("task_kind", "");
    f->task_submitted = j.value("task_submitted", false);
    f->heartbeat_seconds = j.value("heartbeat_seconds", int64_t{0});
    f->heartbeat_due_ms = j.value("heartbeat_due_ms", int64_t{0});
    f->task_token = j.value("task_token", "");
    f->retrying = j.value("retrying", false);
    f->next_override = j.value("next_override", -2);
    f->iteration_root = j.value("iteration_root", uint64_t{0});
    f->child_arn = j.value("child_arn", "");
    f->child_next_event = j.value("child_next_event", int64_t{1});
    f->redriven_child = j.value("redriven_child", false);
    f->redrive_done = j.value("redrive_done", Json());
    f->redrive_resume = j.value("redrive_resume", Json());
    f->redrive_child_events = j.value("redrive_child_events", Json());
    f->partial_results = j.value("partial_results", Json());
    f->map_run_record = j.value("map_run_record", Json());
    f->map_run_redrives = j.value("map_run_redrives", int64_t{0});
    f->map_run_redrive_ms = j.value("map_run_redrive_ms", int64_t{0});
    if (auto c = j.find("children"); c != j.end()) {
      auto ch = std::make_unique<Children>();
      ch->total = c->value("total", size_t{0});
      ch->started = c->value("started", size_t{0});
      ch->done = c->value("done", size_t{0});
      ch->failed = 0;
      ch->max_concurrency = c->value("max_concurrency", size_t{0});
      ch->tolerated_count = c->value("tolerated_count", int64_t{-1});
      ch->tolerated_percentage = c->value("tolerated_percentage", -1.0);
      ch->results.assign(ch->total, Json());
      ch->items_persisted = true;
      ch->items_selected = c->value("items_selected", false);
      for (uint64_t id : c->value("running", std::vector<uint64_t>{})) ch->running.insert(id);
      f->children = std::move(ch);
    }
    e->frames_.emplace(f->id, std::move(f));
  }
  for (auto& [id, f] : e->frames_) {
    if (f->parent) f->parent_frame = e->Get(f->parent);
  }
  for (const Json* j : items_records) {
    Frame* p = e->Get(j->value("items_of", uint64_t{0}));
    if (p && p->children) p->children->items = j->value("items", std::vector<Json>{});
  }
  for (const Json* j : done_records) {
    Frame* p = e->Get(j->value("parent", uint64_t{0}));
    size_t index = j->value("index", size_t{0});
    if (!p || !p->children || index >= p->children->results.size()) continue;
    p->children->results[index] = j->contains("output") ? (*j)["output"] : j->value("error_output", Json());
    p->children->finished.push_back(j->value("id", uint64_t{0}));
    if (j->value("prefilled", false)) p->children->prefilled.insert(index);
    if (j->contains("child_next_event") && j->contains("error_output")) {
      p->children->child_events[index] = j->value("child_next_event", int64_t{1});
    }
    if (j->contains("error_output")) {
      ++p->children->failed;
      p->children->failed_indices.insert(index);
      if (j->contains("redrive")) p->children->failed_points[index] = (*j)["redrive"];
    }
  }
  // Rebuild each parent's counters from its children's records.
  for (auto& [id, f] : e->frames_) {
    if (!f->children) continue;
    Children& c = *f->children;
    c.running.clear();
    for (auto& [cid, child] : e->frames_) {
      if (child->parent == id) c.running.insert(cid);
    }
    c.done = c.finished.size();
    c.started = c.done + c.running.size();
    if (!c.prefilled.empty()) {
      // Iterations start in index order skipping the prefilled ones: every other index below
      // the highest one started or finished has started.
      size_t next = 0;
      for (const Json* d : done_records) {
        size_t index = d->value("index", size_t{0});
        if (d->value("parent", uint64_t{0}) == id && !c.prefilled.count(index)) next = std::max(next, index + 1);
      }
      for (uint64_t cid : c.running) {
        if (Frame* child = e->Get(cid)) next = std::max(next, static_cast<size_t>(child->index) + 1);
      }
      c.started = next;
    }
  }
  // Results of children that finished before the crash are in their parents' records; a child
  // whose record says kDone was finished but not yet folded in: fold it now.
  std::vector<uint64_t> ids;
  for (auto& [id, f] : e->frames_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    Frame* f = e->Get(id);
    if (!f) continue;
    switch (f->phase) {
      case Phase::kEnter:
      case Phase::kExit:
      case Phase::kRetry:
      case Phase::kFail:
        e->Schedule(*f);
        break;
      default: break;
    }
  }
  return e;
}

void Execution::ResumePendingWork() {
  std::vector<uint64_t> ids;
  for (auto& [id, f] : frames_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    Frame* f = Get(id);
    if (f && (f->phase == Phase::kReader || f->phase == Phase::kWriter)) {
      // A distributed Map's S3 read or write (idempotent: the read is repeated, the files rewritten).
      TaskCall call;
      call.purpose = f->phase == Phase::kReader ? TaskCall::Purpose::kItemReader : TaskCall::Purpose::kResultWriter;
      call.frame = f->id;
      call.seq = f->seq;
      call.state_name = f->current().name;
      call.resource = f->phase == Phase::kReader ? f->current().map->reader_resource : f->current().map->writer_resource;
      call.parameters = f->task_parameters;
      call.entered_event = f->entered_event;
      host_.Dispatch(call);
      continue;
    }
    if (!f || f->phase != Phase::kTask || f->task_submitted) continue;
    TaskCall call;
    call.frame = f->id;
    call.seq = f->seq;
    call.state_name = f->current().name;
    call.resource = f->current().resource;
    call.parameters = f->task_parameters;
    call.token = f->task_token;
    call.entered_event = f->entered_event;
    call.span_scope = f->iteration_root;
    host_.Dispatch(call);
  }
}

}  // namespace stratus::services::stepfunctions
