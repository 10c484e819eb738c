// Map (inline and distributed, run in-process) and Parallel: child frames, concurrency,
// tolerated failures, iteration events and result collection.
#include <algorithm>
#include <set>
#include <utility>

#include "core/strings.h"

#include "services/stepfunctions/state_runner.h"

namespace stratus::services::stepfunctions {

namespace {

std::string TypeName(const Json& v) {
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_null()) return "null";
  return "number";
}

}  // namespace

void StateRunner::ExecuteParallel(Frame& f) {
  const State& s = f.current();
  Json input;
  if (s.language == QueryLanguage::kJsonata) {
    if (s.arguments) {
      Json states = StatesVar(f, nullptr, nullptr);
      auto v = s.arguments->Evaluate(Bindings(f, states));
      if (!v.ok()) return EvaluationError(f, v.error());
      input = std::move(*v);
    } else {
      input = f.input;
    }
  } else {
    Json ctx = Context(f);
    auto in = EffectiveInput(f, ctx);
    if (!in.ok()) return EvaluationError(f, in.error());
    if (s.parameters) {
      EvalEnv env{*in, ctx, &f};
      auto v = s.parameters->Evaluate(env);
      if (!v.ok()) return EvaluationError(f, v.error());
      input = std::move(*v);
    } else {
      input = std::move(*in);
    }
  }
  e_.Emit(&f, "ParallelStateStarted");
  f.children = std::make_unique<Children>();
  Children& c = *f.children;
  c.total = s.branches.size();
  c.started = c.total;
  c.results.assign(c.total, Json());
  f.phase = Phase::kChildren;
  e_.MarkDirty(f);
  // A redrive runs only the branches that did not succeed, each from where it stopped.
  Json done = std::exchange(f.redrive_done, Json());
  Json resume = std::exchange(f.redrive_resume, Json());
  for (size_t i = 0; i < s.branches.size(); ++i) {
    std::string key = std::to_string(i);
    if (done.is_object() && done.contains(key)) {
      e_.PrefillChild(f, i, done[key]);
      continue;
    }
    auto point = resume.is_object() ? resume.find(key) : resume.end();
    Frame* child = point != resume.end() ? e_.ResumeFrame(f.id, s.branches[i].get(), *point)
                                         : e_.NewFrame(f.id, s.branches[i].get(), input);
    child->index = static_cast<int64_t>(i);
    child->last_event = f.last_event;
    c.running.insert(child->id);
    e_.Schedule(*child);
  }
  if (c.done == c.total) FinishChildren(f);
}

void StateRunner::ExecuteMap(Frame& f) {
  const State& s = f.current();
  const MapConfig& m = *s.map;
  // ResultWriter.WriterConfig (map_io.h): a bad Transformation or OutputType fails the state.
  if (auto wc = ParseWriterConfig(m.result_writer); !wc.ok()) return EvaluationError(f, wc.error());
  Json items;
  Json selector_input;
  if (s.language == QueryLanguage::kJsonata) {
    selector_input = f.input;
    if (m.item_reader.is_object()) return StartReader(f, std::move(selector_input));
    if (m.items) {
      Json states = StatesVar(f, nullptr, nullptr);
      auto v = m.items->Evaluate(Bindings(f, states));
      if (!v.ok()) return EvaluationError(f, v.error());
      if (!v->is_array()) {
        return EvaluationError(f, Error("States.QueryEvaluationError",
                                        "The JSONata expression '" + m.items->source() +
                                            "' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '" +
                                            TypeName(*v) + "' for value: " + DumpJson(*v)));
      }
      items = std::move(*v);
    } else {
      items = f.input;
      if (!items.is_array()) {
        return EvaluationError(f, Error("States.QueryEvaluationError",
                                        "Map state input must be an array but was: " + DumpJson(items)));
      }
    }
  } else {
    Json ctx = Context(f);
    auto in = EffectiveInput(f, ctx);
    if (!in.ok()) return EvaluationError(f, in.error());
    selector_input = std::move(*in);
    if (m.item_reader.is_object()) return StartReader(f, std::move(selector_input));
    if (m.items_path) {
      EvalEnv env{selector_input, ctx, &f};
      auto v = m.items_path->Read(env);
      if (!v.ok()) return EvaluationError(f, Error("States.Runtime", "Invalid path '" + m.items_path->text + "' : " + v.error().message));
      items = std::move(*v);
    } else {
      items = selector_input;
    }
    if (!items.is_array()) {
      return EvaluationError(f, Error("States.QueryEvaluationError",
                                      "Map state input must be an array but was: " + DumpJson(items)));
    }
  }
  StartMap(f, std::move(items), std::move(selector_input));
}

void StateRunner::StartMap(Frame& f, Json items, Json selector_input) {
  const State& s = f.current();
  const MapConfig& m = *s.map;
  if (e_.record_history_) {
    e_.Emit(&f, "MapStateStarted", "mapStateStartedEventDetails", Json{{"length", items.size()}});
  } else {
    e_.Emit(&f, "MapStateStarted");
  }
  auto children = std::make_unique<Children>();
  if (m.max_concurrency.present) {
    auto v = ResolveNumber(f, m.max_concurrency, "MaxConcurrency", selector_input, true);
    if (!v.ok()) return EvaluationError(f, v.error());
    children->max_concurrency = *v > 0 ? static_cast<size_t>(*v) : 0;
  }
  if (!m.distributed && (children->max_concurrency == 0 || children->max_concurrency > kInlineMapMaxConcurrency)) {
    children->max_concurrency = kInlineMapMaxConcurrency;
  }
  if (m.tolerated_failure_count.present) {
    auto v = ResolveNumber(f, m.tolerated_failure_count, "ToleratedFailureCount", selector_input, true);
    if (!v.ok()) return EvaluationError(f, v.error());
    if (*v < 0) return EvaluationError(f, Error("States.Runtime", "ToleratedFailureCount cannot be negative."));
    children->tolerated_count = *v;
  }
  if (m.tolerated_failure_percentage.present) {
    double pct = 0;
    if (m.tolerated_failure_percentage.literal) {
      pct = *m.tolerated_failure_percentage.literal;
    } else {
      auto v = ResolveNumber(f, m.tolerated_failure_percentage, "ToleratedFailurePercentage", selector_input, false);
      if (!v.ok()) return EvaluationError(f, v.error());
      // Re-read the exact value (ResolveNumber truncates).
      if (m.tolerated_failure_percentage.path) {
        Json ctx = Context(f);
        EvalEnv env{selector_input, ctx, &f};
        pct = static_cast<double>(*v);
        if (const Json* raw = m.tolerated_failure_percentage.path->Find(env)) {
          if (raw->is_number()) {
            pct = raw->get<double>();
          } else if (raw->is_string()) {
            if (auto d = ParseDouble(raw->get_ref<const std::string&>())) pct = *d;
          }
        }
      } else {
        pct = static_cast<double>(*v);
      }
    }
    if (pct < 0 || pct > 100) {
      return EvaluationError(f, Error("States.Runtime", "ToleratedFailurePercentage must be between 0 and 100."));
    }
    children->tolerated_percentage = pct;
  }
  bool redriven_run = m.distributed && !f.redrive_done.is_null() && f.map_run_redrives > 0;
  if (redriven_run && f.map_run_redrives > kMaxMapRunRedrives) {
    // The map run is not redriven: it keeps its count and identity (and the iterations that
    // succeeded), so a later redrive of the execution meets the limit again.
    f.map_run_redrives = kMaxMapRunRedrives;
    Json child_events = f.redrive_child_events.is_object() ? f.redrive_child_events : Json::object();
    Json resume = f.redrive_resume.is_object() ? f.redrive_resume : Json::object();
    f.partial_results = Json{{"done", f.redrive_done}, {"child_events", std::move(child_events)},
                             {"resume", std::move(resume)}};
    return EvaluationError(f, Error("States.Runtime", "The Map Run has exceeded the limit of " +
                                                          std::to_string(kMaxMapRunRedrives) + " redrives."));
  }
  if (m.distributed && e_.record_history_) {
    if (redriven_run) {
      e_.Emit(&f, "MapRunRedriven", "mapRunRedrivenEventDetails",
              Json{{"mapRunArn", RunNames(f).map_run_arn}, {"redriveCount", f.map_run_redrives}});
    } else {
      e_.Emit(&f, "MapRunStarted", "mapRunStartedEventDetails", Json{{"mapRunArn", RunNames(f).map_run_arn}});
    }
  }
  if (m.item_batcher.is_object()) {
    f.result = selector_input;  // the ItemSelector's $
    auto batched = BatchItems(f, std::move(items));
    if (!batched.ok()) return EvaluationError(f, batched.error());
    items = std::move(*batched);
    children->items_selected = true;
  }
  children->total = items.size();
  children->items = std::move(items.get_ref<Json::array_t&>());
  children->results.assign(children->total, Json());
  f.result = std::move(selector_input);  // the ItemSelector's $ while iterations start
  f.children = std::move(children);
  f.phase = Phase::kChildren;
  e_.MarkDirty(f);
  // A redrive runs only the iterations that did not succeed.
  Json done = std::exchange(f.redrive_done, Json());
  if (done.is_object()) {
    for (auto it = done.begin(); it != done.end(); ++it) {
      auto index = ParseInt64(it.key());
      if (index && *index >= 0 && static_cast<size_t>(*index) < f.children->total) {
        e_.PrefillChild(f, static_cast<size_t>(*index), it.value());
      }
    }
  }
  if (f.children->done == f.children->total) return FinishChildren(f);
  StartIterations(f);
  if (m.distributed) RecordMapRun(f, "RUNNING");
}

void StateRunner::StartIterations(Frame& f) {
  const State& s = f.current();
  const MapConfig& m = *s.map;
  Children& c = *f.children;
  size_t limit = c.max_concurrency != 0 ? c.max_concurrency : kDistributedMapMaxConcurrency;
  while (c.started < c.total && c.running.size() < limit) {
    size_t i = c.started++;
    if (c.prefilled.count(i)) continue;
    Json item = c.items[i];
    Json input;
    // A redriven iteration that had started resumes where it stopped.
    const Json* point = nullptr;
    if (f.redrive_resume.is_object()) {
      auto it = f.redrive_resume.find(std::to_string(i));
      if (it != f.redrive_resume.end()) point = &*it;
    }
    if (point) {
      // Its input is the stopped state's, in the point.
    } else if (c.items_selected) {
      input = item;
    } else {
      auto v = SelectItem(f, i, item);
      if (!v.ok()) return EvaluationError(f, v.error());
      input = std::move(*v);
    }
    if (!m.distributed) {
      Json d;
      if (e_.record_history_) d = Json{{"name", s.name}, {"index", i}};
      e_.Emit(&f, "MapIterationStarted", "mapIterationStartedEventDetails", std::move(d));
    }
    Frame* child = point ? e_.ResumeFrame(f.id, m.processor.get(), *point)
                         : e_.NewFrame(f.id, m.processor.get(), std::move(input));
    child->index = static_cast<int64_t>(i);
    child->map_item = std::move(item);
    child->has_map_item = true;
    child->last_event = f.last_event;
    if (m.distributed) {
      child->start_ms = e_.host_.NowMs();
      if (!e_.info_.express && e_.record_history_) {
        // A child execution with its own history (ExecutionStarted is its event 1).
        child->iteration_root = child->id;
        child->child_arn = RunNames(f).execution_arn_prefix + std::to_string(i);
        child->last_event = 0;
        // A redriven iteration continues its child execution's history.
        if (f.redrive_child_events.is_object()) {
          const Json& next = f.redrive_child_events.value(std::to_string(i), Json());
          if (next.is_number_integer()) {
            child->child_next_event = next.get<int64_t>();
            child->last_event = child->child_next_event - 1;
            child->redriven_child = true;
          }
        }
      }
    }
    c.running.insert(child->id);
    if (m.distributed) RecordChildExecution(f, *child, "RUNNING");
    e_.Schedule(*child);
  }
}

Result<Json> StateRunner::SelectItem(Frame& f, size_t i, const Json& item) {
  const MapConfig& m = *f.current().map;
  if (!m.item_selector && !m.item_selector_jsonata) return item;
  Json ctx = e_.ContextObject(f);
  ctx["Map"] = Json{{"Item", Json{{"Index", i}, {"Value", item}}}};
  if (m.item_selector) {
    EvalEnv env{f.result, ctx, &f};
    return m.item_selector->Evaluate(env);
  }
  Json states = Json{{"input", f.input}, {"context", std::move(ctx)}};
  return m.item_selector_jsonata->Evaluate(Bindings(f, states));
}

Result<Json> StateRunner::BatchItems(Frame& f, Json items) {
  const Json& b = f.current().map->item_batcher;
  auto limit = [&](const char* name) -> Result<int64_t> {
    auto it = b.find(name);
    if (it == b.end()) return int64_t{0};
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return Error("States.Runtime", std::string("The ItemBatcher field ") + name +
                                         " must be a non-negative integer but was: " + DumpJson(*it));
    }
    return it->get<int64_t>();
  };
  // The *Path forms: reference paths into the state's effective input (f.result here).
  auto limit_or_path = [&](const char* name) -> Result<int64_t> {
    const std::string path_name = std::string(name) + "Path";
    auto pit = b.find(path_name);
    if (pit == b.end()) return limit(name);
    if (b.contains(name)) {
      return Error("States.Runtime", "The ItemBatcher fields " + std::string(name) + " and " + path_name +
                                         " are mutually exclusive");
    }
    auto ref = pit->is_string() ? ValueRef::Parse(pit->get_ref<const std::string&>()) : Result<ValueRef>(Error());
    if (!ref.ok()) {
      return Error("States.Runtime", "The ItemBatcher field " + path_name + " must be a reference path but was: " +
                                         DumpJson(*pit));
    }
    NumberOrPath n;
    n.present = true;
    n.path = std::move(*ref);
    STRATUS_ASSIGN_OR_RETURN(int64_t v, ResolveNumber(f, n, name, f.result, true));
    if (v < 0) {
      return Error("States.Runtime", "The ItemBatcher field " + path_name + " must refer to a non-negative integer but was: " +
                                         std::to_string(v));
    }
    return v;
  };
  STRATUS_ASSIGN_OR_RETURN(int64_t max_items, limit_or_path("MaxItemsPerBatch"));
  STRATUS_ASSIGN_OR_RETURN(int64_t max_bytes, limit_or_path("MaxInputBytesPerBatch"));
  const Json* batch_input = b.contains("BatchInput") ? &b["BatchInput"] : nullptr;
  Json batches = Json::array();
  Json current = Json::array();
  size_t current_bytes = 0;
  auto flush = [&]() {
    if (current.empty()) return;
    Json batch{{"Items", std::move(current)}};
    if (batch_input) batch["BatchInput"] = *batch_input;
    batches.push_back(std::move(batch));
    current = Json::array();
    current_bytes = 0;
  };
  for (size_t i = 0; i < items.size(); ++i) {
    STRATUS_ASSIGN_OR_RETURN(Json selected, SelectItem(f, i, items[i]));
    size_t bytes = DumpJson(selected).size();
    bool full = (max_items > 0 && current.size() >= static_cast<size_t>(max_items)) ||
                (max_bytes > 0 && !current.empty() && current_bytes + bytes > static_cast<size_t>(max_bytes));
    if (full) flush();
    current_bytes += bytes;
    current.push_back(std::move(selected));
  }
  flush();
  return batches;
}

void StateRunner::ChildFinished(Frame& child, bool ok) {
  Frame* p = e_.Get(child.parent);
  if (!p || p->phase != Phase::kChildren || !p->children) {
    e_.DeleteFrame(child.id);
    return;
  }
  Children& c = *p->children;
  const State& s = p->current();
  c.running.erase(child.id);
  auto abort_running = [&]() {
    for (uint64_t id : c.running) e_.DeleteFrame(id);
    c.running.clear();
  };
  size_t index = static_cast<size_t>(child.index);
  if (s.type == StateType::kParallel) {
    if (!ok) {
      std::string error = child.error, cause = child.cause;
      if (p->parent == 0 || !e_.info_.express) p->partial_results = PartialOutcome(*p, &child);
      e_.DeleteFrame(child.id);
      abort_running();
      e_.DropChildren(*p);
      p->children.reset();
      e_.Emit(p, "ParallelStateFailed");
      p->phase = Phase::kEnter;
      return HandleFailure(*p, error, cause);
    }
    c.results[index] = child.output;
    ++c.done;
    c.finished.push_back(child.id);
    e_.FinishChild(child, true);
  } else {
    const MapConfig& m = *s.map;
    if (!m.distributed) {
      Json d;
      if (e_.record_history_) d = Json{{"name", s.name}, {"index", index}};
      e_.Emit(&child, ok ? "MapIterationSucceeded" : "MapIterationFailed",
              ok ? "mapIterationSucceededEventDetails" : "mapIterationFailedEventDetails", std::move(d));
    }
    ++c.done;
    if (!ok) ++c.failed;
    if (m.distributed) RecordChildExecution(*p, child, ok ? "SUCCEEDED" : child.aborted ? "ABORTED" : "FAILED");
    if (ok) {
      c.results[index] = child.output;
    } else {
      c.failed_indices.insert(index);
      if (!child.child_arn.empty()) c.child_events[index] = child.child_next_event;
      c.results[index] = Json{{"Error", child.error}, {"Cause", child.cause}};
      bool tolerated = (c.tolerated_count >= 0 && static_cast<int64_t>(c.failed) <= c.tolerated_count) ||
                       (c.tolerated_percentage >= 0 &&
                        static_cast<double>(c.failed) * 100.0 / static_cast<double>(c.total) <= c.tolerated_percentage);
      if (tolerated && !e_.info_.express) c.failed_points[index] = e_.RedrivePoint(child);
      if (!tolerated) {
        if (p->parent == 0 || !e_.info_.express) p->partial_results = PartialOutcome(*p, &child);
        if (m.distributed) RecordMapRun(*p, "FAILED");
        bool threshold = c.tolerated_count >= 0 || c.tolerated_percentage >= 0;
        std::string error = threshold ? "States.ExceedToleratedFailureThreshold" : child.error;
        std::string cause = threshold ? "The specified tolerated failure threshold was exceeded" : child.cause;
        if (!m.writer_resource.empty()) {
          // The outcomes so far are written (with the unfinished iterations as PENDING) before
          // the Map fails.
          e_.DeleteFrame(child.id);
          std::vector<IterationOutcome> outcomes = Outcomes(*p);
          abort_running();
          e_.DropChildren(*p);
          p->children.reset();
          p->error = std::move(error);
          p->cause = std::move(cause);
          return StartWriter(*p, outcomes);
        }
        e_.DeleteFrame(child.id);
        abort_running();
        e_.DropChildren(*p);
        p->children.reset();
        if (m.distributed) e_.Emit(p, "MapRunFailed", "mapRunFailedEventDetails", Json{{"error", error}, {"cause", cause}});
        e_.Emit(p, "MapStateFailed");
        p->phase = Phase::kEnter;
        return HandleFailure(*p, error, cause);
      }
    }
    c.finished.push_back(child.id);
    e_.FinishChild(child, ok);
  }
  // The parent's record is not rewritten per child: its counters are rebuilt from the
  // children's records after a restart (Execution::Restore).
  if (c.done == c.total) return FinishChildren(*p);
  if (s.type == StateType::kMap) {
    StartIterations(*p);
    if (s.map->distributed) RecordMapRun(*p, "RUNNING");
  }
}

Json StateRunner::PartialOutcome(Frame& f, Frame* failing) {
  const Children& c = *f.children;
  std::set<size_t> unfinished;
  Json child_events = Json::object();
  for (const auto& [index, next] : c.child_events) child_events[std::to_string(index)] = next;
  // Where each iteration/branch that did not succeed stopped: a redrive resumes it there.
  Json resume = Json::object();
  for (const auto& [index, point] : c.failed_points) resume[std::to_string(index)] = point;
  if (f.redrive_resume.is_object()) {
    // Iterations a redrive was to resume that have not started again keep their points.
    for (auto it = f.redrive_resume.begin(); it != f.redrive_resume.end(); ++it) {
      auto index = ParseInt64(it.key());
      if (index && *index >= 0 && static_cast<size_t>(*index) >= c.started) resume[it.key()] = it.value();
    }
  }
  auto note = [&](Frame& child) {
    unfinished.insert(static_cast<size_t>(child.index));
    if (!child.child_arn.empty()) child_events[std::to_string(child.index)] = child.child_next_event;
    resume[std::to_string(child.index)] = e_.RedrivePoint(child);
  };
  if (failing) note(*failing);
  for (uint64_t id : c.running) {
    if (Frame* child = e_.Get(id)) note(*child);
  }
  // Parallel branches all start at once; Map iterations in index order (skipping prefilled).
  size_t limit = f.current().type == StateType::kParallel ? c.total : std::min(c.started, c.total);
  Json done = Json::object();
  for (size_t i = 0; i < limit && i < c.results.size(); ++i) {
    if (unfinished.count(i) || c.failed_indices.count(i)) continue;
    done[std::to_string(i)] = c.results[i];
  }
  for (size_t i : c.prefilled) done[std::to_string(i)] = c.results[i];
  return Json{{"done", std::move(done)}, {"child_events", std::move(child_events)}, {"resume", std::move(resume)}};
}

void StateRunner::FinishChildren(Frame& f) {
  const State& s = f.current();
  f.redrive_child_events = Json();
  f.redrive_resume = Json();
  if (s.type == StateType::kMap && s.map->distributed) RecordMapRun(f, "SUCCEEDED");
  // A ResultWriter exports (Resource) or, with only a WriterConfig, transforms the results.
  if (s.type == StateType::kMap && (!s.map->writer_resource.empty() || s.map->result_writer.is_object())) {
    // Kept until the write ends: a failed write fails the map run (MapIoResult).
    if (s.map->distributed && !s.map->writer_resource.empty() && !e_.info_.express) {
      auto rec = e_.map_run_changes_.runs.find(RunNames(f).map_run_arn);
      if (rec != e_.map_run_changes_.runs.end()) f.map_run_record = rec->second;
    }
    std::vector<IterationOutcome> outcomes = Outcomes(f);
    e_.DropChildren(f);
    f.children.reset();
    return StartWriter(f, outcomes);
  }
  Json result = Json::array();
  result.get_ref<Json::array_t&>() = std::move(f.children->results);
  e_.DropChildren(f);
  f.children.reset();
  f.result = Json();
  if (s.type == StateType::kMap) {
    if (s.map->distributed) e_.Emit(&f, "MapRunSucceeded");
    e_.Emit(&f, "MapStateSucceeded");
  }
  f.phase = Phase::kEnter;
  auto out = ProcessResult(f, std::move(result));
  if (!out.ok()) return EvaluationError(f, out.error());
  Complete(f, std::move(*out));
}

}  // namespace stratus::services::stepfunctions
