#include "services/stepfunctions/runner.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <utility>

#include "core/strings.h"
#include "core/time_format.h"
#include "core/worker_pool.h"
#include "services/stepfunctions/task_token.h"
#include "trace/recorder.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr std::string_view kTimerQueue = "stepfunctions/timers";
constexpr std::string_view kTimerTopic = "stepfunctions/timers";
constexpr std::string_view kRunningPrefix = kRunningIndexPrefix;
// Steps run between two commits of a standard execution: enough to amortise a commit over many
// transitions of a long Pass chain, small enough to keep each write bounded.
constexpr size_t kStepsPerBatch = 1024;
// A leased timer stays invisible this long; after a crash it fires again when the lease ends.
constexpr int64_t kTimerLeaseMs = 5000;

// The execution's own segment: in progress while it runs, complete when it ends.
trace::Segment ExecutionSegment(const trace::TraceContext& ctx, const ExecutionInfo& info) {
  trace::Segment seg = trace::NewSegment(ctx, info.state_machine_name.substr(0, trace::kMaxNameLength),
                                         "AWS::StepFunctions::StateMachine",
                                         static_cast<double>(info.start_ms) / 1000.0);
  seg.in_progress = true;
  seg.aws = Json{{"execution_arn", info.arn},
                 {"state_machine_arn", info.state_machine_arn},
                 {"region", info.region},
                 {"account_id", info.account}};
  return seg;
}

// Rebuilds the execution's trace context from its records (see Persist): the header's Root and
// Parent are the execution segment's trace and id.
trace::TraceContext ExecutionTraceFromRecord(const Json& meta) {
  trace::TraceContext t;
  auto header = trace::ParseTraceHeader(meta.value("traceHeader", ""));
  if (!header) return t;
  t.trace_id = header->root;
  t.segment_id = header->parent;
  t.parent_id = meta.value("traceParent", "");
  t.sampled = header->sampled != trace::Sampling::kNotSampled;
  t.lineage = header->lineage;
  t.extra = header->extra;
  t.continued = true;
  return t;
}

}  // namespace

struct Runner::Live {
  std::mutex mu;  // held while driving: serialises every call into `exec`
  std::mutex inbox_mu;  // guards inbox, scheduled
  std::deque<std::function<void(Execution&)>> inbox;
  bool scheduled = false;
  std::unique_ptr<Host> host;
  std::unique_ptr<Execution> exec;
  ExecutionInfo info;
  ExecKeys keys;
  bool express = false;
  std::string definition_text;
  trace::TraceContext trace;  // trace_states: the execution segment's context
  bool trace_states = false;
  Json logging;
  Json redrive_tokens;  // RedriveExecution's client tokens, kept in the static record
  std::vector<TaskCall> pending_dispatch;
  std::vector<std::tuple<uint64_t, uint64_t, int64_t>> pending_timers;
  std::vector<std::pair<int64_t, std::string>> pending_acks;
  std::vector<std::function<void()>> after_commit;  // run once the batch is durable
  std::vector<std::function<void()>> failed_commit;  // run instead when the batch's commit fails
  std::vector<HistoryEvent> express_events;
  std::function<void(const Execution&)> done;
  bool finished = false;
  // Set once the batch that ended the execution is persisted; it leaves live_ just after.
  std::atomic<bool> end_persisted{false};
};

namespace {

// A state's span key: its Entered event id, distinct for the states of a distributed Map
// iteration (whose events are numbered in its own history) by the iteration's frame.
int64_t SpanKey(int64_t entered_event, uint64_t scope) {
  return scope == 0 ? entered_event : entered_event + static_cast<int64_t>(scope << 32);
}

}  // namespace

class Runner::Host : public EngineHost {
 public:
  Host(Live& live, const Clock& clock, trace::Recorder& tracer) : live_(live), clock_(clock), tracer_(tracer) {}
  int64_t NowMs() const override { return clock_.NowMillis(); }
  void Dispatch(const TaskCall& call) override {
    live_.pending_dispatch.push_back(call);
    if (live_.trace_states && call.entered_event > 0) {
      live_.pending_dispatch.back().trace_parent =
          StateSpanId(live_.trace.segment_id, SpanKey(call.entered_event, call.span_scope));
    }
  }
  void ScheduleTimer(uint64_t frame, uint64_t seq, int64_t due_ms) override {
    live_.pending_timers.emplace_back(frame, seq, due_ms);
  }
  void StateEnded(const StateSpan& span) override {
    if (!live_.trace.sampled) return;
    trace::Segment seg;
    seg.trace_id = live_.trace.trace_id;
    seg.id = StateSpanId(live_.trace.segment_id, SpanKey(span.entered_event, span.span_scope));
    seg.parent_id = live_.trace.segment_id;
    seg.type = "subsegment";
    seg.name = std::string(span.state_name.substr(0, trace::kMaxNameLength));
    seg.start_time = static_cast<double>(span.entered_ms) / 1000.0;
    seg.end_time = static_cast<double>(span.exited_ms) / 1000.0;
    seg.metadata = Json{{"stepfunctions", Json{{"state_type", StateTypeName(span.type)},
                                               {"entered_event_id", span.entered_event},
                                               {"execution_arn", live_.info.arn}}}};
    if (!span.error.empty()) {
      seg.error = true;
      seg.cause.exceptions.push_back(trace::ExceptionInfo{trace::NewSegmentId(), std::string(span.error),
                                                          std::string(span.error), false});
    }
    tracer_.Record(std::move(seg));
  }

 private:
  Live& live_;
  const Clock& clock_;
  trace::Recorder& tracer_;
};

Runner::Runner(aws::ServiceContext& context, TaskDispatcher& dispatcher)
    : context_(context), dispatcher_(dispatcher) {}

Runner::~Runner() { Stop(); }

Status Runner::Start() {
  watch_ = context_.store.Subscribe(std::string(kTimerTopic), [this] { cv_.notify_all(); });
  auto running = context_.store.Scan(store::PrefixScan(kRunningPrefix));
  if (!running.ok()) return running.error();
  for (const auto& kv : *running) {
    auto st = Resume(kv.key.substr(kRunningPrefix.size()));
    if (!st.ok()) spdlog::error("stepfunctions: cannot resume {}: {}", kv.key, st.error().message);
  }
  if (!running->empty()) spdlog::info("stepfunctions: resumed {} running executions", running->size());
  timer_thread_ = std::thread([this] { TimerLoop(); });
  return Status::Ok();
}

void Runner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
  watch_.reset();
}

size_t Runner::LiveCount() {
  std::lock_guard lock(mu_);
  return live_.size();
}

bool Runner::IsRunning(const std::string& arn) {
  std::lock_guard lock(mu_);
  return live_.count(arn) > 0;
}

void Runner::Post(const std::shared_ptr<Live>& live, std::function<void(Execution&)> fn) {
  bool schedule = false;
  {
    std::lock_guard lock(live->inbox_mu);
    live->inbox.push_back(std::move(fn));
    if (!live->scheduled) {
      live->scheduled = true;
      schedule = true;
    }
  }
  if (schedule) context_.workers.Submit([this, live] { Drive(live); });
}

Status Runner::Persist(Live& live, bool first, bool redrive) {
  Execution& e = *live.exec;
  std::vector<HistoryEvent> events = e.TakeEvents();
  auto frames = e.TakeFrameChanges();
  std::string record = DumpJson(e.ExecutionRecord());
  auto timers = std::move(live.pending_timers);
  live.pending_timers.clear();
  // The execution's own chunk, and its distributed Map iterations' chunks in their histories.
  HistoryChunks chunks = SplitHistory(events);
  std::string& history = chunks.own;
  int64_t first_event = chunks.first_own;
  std::vector<std::pair<std::string, std::optional<std::string>>> frame_writes;
  frame_writes.reserve(frames.size());
  for (auto& [suffix, rec] : frames) {
    frame_writes.emplace_back(live.keys.frames + suffix, rec ? std::optional<std::string>(DumpJson(*rec)) : std::nullopt);
  }
  std::string meta;
  if (first || redrive) {
    meta = DumpJson(Json{{"info", InfoToJson(live.info)},
                         {"definition", live.definition_text},
                         {"input", e.input()},
                         {"traceHeader", live.trace.DownstreamHeader()}});
    if (live.redrive_tokens.is_array() && !live.redrive_tokens.empty()) {
      Json m = ParseJsonOrDiscarded(meta);
      m["redriveTokens"] = live.redrive_tokens;
      meta = DumpJson(m);
    }
    if (live.trace_states) {
      Json m = ParseJsonOrDiscarded(meta);
      m["traceStates"] = true;
      m["traceParent"] = live.trace.parent_id;
      meta = DumpJson(m);
    }
  }
  bool finished = e.status() != ExecutionStatus::kRunning;
  // Map runs, their iterations (child executions) and the children's history chunks.
  std::vector<std::pair<std::string, std::string>> map_run_writes = MapRunWrites(live.info, e.TakeMapRunChanges());
  for (auto& chunk : chunks.children) map_run_writes.push_back(std::move(chunk));
  return context_.store.Write([&](store::WriteTxn& txn) -> Status {
    if (first) {
      auto existing = txn.Get(live.keys.meta);
      if (!existing.ok()) return existing.error();
      if (existing->has_value()) return Error("ExecutionAlreadyExists", "Execution Already Exists: '" + live.info.arn + "'");
      STRATUS_RETURN_IF_ERROR(txn.Put(live.keys.meta, meta));
    }
    if (redrive) STRATUS_RETURN_IF_ERROR(txn.Put(live.keys.meta, meta));
    if (!history.empty()) STRATUS_RETURN_IF_ERROR(txn.Put(live.keys.history + PadKey(first_event), history));
    for (const auto& [key, value] : frame_writes) {
      if (value) {
        STRATUS_RETURN_IF_ERROR(txn.Put(key, *value));
      } else {
        STRATUS_RETURN_IF_ERROR(txn.Delete(key));
      }
    }
    STRATUS_RETURN_IF_ERROR(txn.Put(live.keys.state, record));
    for (const auto& [key, value] : map_run_writes) STRATUS_RETURN_IF_ERROR(txn.Put(key, value));
    for (const auto& [frame, seq, due] : timers) {
      Json payload{{"arn", live.info.arn}, {"frame", frame}, {"seq", seq}};
      auto id = txn.Enqueue(kTimerQueue, DumpJson(payload), due);
      if (!id.ok()) return id.error();
    }
    if (!timers.empty()) txn.Notify(kTimerTopic);
    if (finished) {
      STRATUS_RETURN_IF_ERROR(txn.Delete(live.keys.running));
    } else if (first || redrive) {
      STRATUS_RETURN_IF_ERROR(txn.Put(live.keys.running, ""));
    }
    return Status::Ok();
  });
}

void Runner::Drive(const std::shared_ptr<Live>& live) {
  std::lock_guard drive(live->mu);
  Execution& e = *live->exec;
  while (true) {
    std::deque<std::function<void(Execution&)>> items;
    {
      std::lock_guard lock(live->inbox_mu);
      items.swap(live->inbox);
      if (items.empty() && (!e.HasRunnable() || e.status() != ExecutionStatus::kRunning)) {
        live->scheduled = false;
        break;
      }
    }
    try {
      for (auto& fn : items) fn(e);
      e.Run(kStepsPerBatch);
    } catch (const std::exception& ex) {
      // A bug in the engine must not take the server down: the execution fails instead.
      spdlog::error("stepfunctions: internal error in {}: {}", live->info.arn, ex.what());
      e.Fail("States.Runtime", std::string("Internal error in stratus: ") + ex.what());
    }
    if (!live->express) {
      Status st = Persist(*live, false);
      if (st.ok() && e.status() != ExecutionStatus::kRunning) live->end_persisted = true;
      if (!st.ok()) {
        spdlog::error("stepfunctions: cannot persist {}: {}", live->info.arn, st.error().message);
      }
      for (const auto& [id, token] : live->pending_acks) (void)context_.store.Ack(id, token);
      live->pending_acks.clear();
      if (!st.ok()) {
        // Nothing taken in this batch is durable: tell the takers it was not taken.
        live->after_commit.clear();
        for (auto& fn : std::exchange(live->failed_commit, {})) fn();
      }
    } else {
      if (!live->pending_timers.empty()) {
        std::lock_guard lock(mu_);
        for (const auto& [frame, seq, due] : live->pending_timers) {
          memory_timers_.emplace(due, std::make_tuple(live->info.arn, frame, seq));
        }
        live->pending_timers.clear();
        cv_.notify_all();
      }
      if (!live->logging.is_null()) {
        auto events = e.TakeEvents();
        for (auto& ev : events) live->express_events.push_back(std::move(ev));
      }
    }
    live->failed_commit.clear();
    for (auto& fn : std::exchange(live->after_commit, {})) fn();
    auto dispatch = std::move(live->pending_dispatch);
    live->pending_dispatch.clear();
    for (const TaskCall& call : dispatch) {
      std::weak_ptr<Live> weak = live;
      uint64_t frame = call.frame, seq = call.seq;
      dispatcher_.Dispatch(live->info, call, [this, weak, frame, seq](TaskResult r) {
        if (auto l = weak.lock()) {
          Post(l, [frame, seq, r = std::move(r)](Execution& ex) mutable { ex.OnTaskResult(frame, seq, std::move(r)); });
        }
      });
    }
    if (e.status() != ExecutionStatus::kRunning && !live->finished) {
      live->finished = true;
      if (live->trace_states && live->trace.sampled) RecordExecutionEnd(*live);
      if (live->express && !live->logging.is_null()) LogExpress(*live);
      {
        std::lock_guard lock(mu_);
        live_.erase(live->info.arn);
      }
      retired_.notify_all();
      if (live->done) live->done(e);
      if (on_finished) on_finished(e);
    }
  }
}

void Runner::BeginTrace(Live& live, StartRequest& req) {
  live.trace = req.trace;
  if (req.trace_states && !req.trace.trace_id.empty()) {
    // The execution is a segment of its own under the request's; its states nest under it.
    live.trace = req.trace.Child();
    live.trace_states = true;
  }
  req.info.trace_header = live.trace.trace_id.empty() ? "" : live.trace.DownstreamHeader();
  live.info = req.info;
}

void Runner::RecordExecutionEnd(Live& live) {
  const Execution& e = *live.exec;
  trace::Segment seg = ExecutionSegment(live.trace, live.info);
  seg.in_progress = false;
  seg.end_time = static_cast<double>(e.stop_ms()) / 1000.0;
  if (e.status() != ExecutionStatus::kSucceeded) {
    seg.error = true;
    std::string error = e.error().empty() ? std::string(StatusName(e.status())) : e.error();
    seg.cause.exceptions.push_back(trace::ExceptionInfo{trace::NewSegmentId(), e.cause(), error, false});
  }
  context_.tracer.Record(std::move(seg));
}

Status Runner::StartStandard(StartRequest req) {
  auto live = std::make_shared<Live>();
  BeginTrace(*live, req);
  live->express = false;
  live->definition_text = std::move(req.definition_text);
  auto keys = KeysForExecution(req.info.arn);
  if (!keys) return Error("InvalidArn", "Invalid Arn: '" + req.info.arn + "'");
  live->keys = *keys;
  live->host = std::make_unique<Host>(*live, context_.clock, context_.tracer);
  live->exec = std::make_unique<Execution>(req.definition, req.info, *live->host, true);
  live->exec->TraceStates(live->trace_states);
  {
    std::lock_guard drive(live->mu);
    live->exec->Start(std::move(req.input));
    STRATUS_RETURN_IF_ERROR(Persist(*live, true));
  }
  if (live->trace_states) context_.tracer.Record(ExecutionSegment(live->trace, live->info));
  {
    std::lock_guard lock(mu_);
    live_[live->info.arn] = live;
  }
  Post(live, [](Execution&) {});
  return Status::Ok();
}

void Runner::StartExpress(StartRequest req, std::function<void(const Execution&)> done) {
  auto live = std::make_shared<Live>();
  BeginTrace(*live, req);
  live->express = true;
  live->done = std::move(done);
  std::string level = req.logging.is_object() ? req.logging.value("level", "OFF") : "OFF";
  bool log = level != "OFF" && req.logging.contains("destinations");
  if (log) live->logging = req.logging;
  live->host = std::make_unique<Host>(*live, context_.clock, context_.tracer);
  live->exec = std::make_unique<Execution>(req.definition, req.info, *live->host, log);
  live->exec->TraceStates(live->trace_states);
  if (!req.inspect_state.empty()) live->exec->InspectState(req.inspect_state);
  if (!req.variables.is_null()) live->exec->SetVariables(std::move(req.variables));
  if (live->trace_states) context_.tracer.Record(ExecutionSegment(live->trace, live->info));
  {
    std::lock_guard drive(live->mu);
    live->exec->Start(std::move(req.input));
  }
  {
    std::lock_guard lock(mu_);
    live_[live->info.arn] = live;
  }
  Post(live, [](Execution&) {});
}

Status Runner::Stop(const std::string& arn, const std::string& error, const std::string& cause) {
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(arn);
    if (it != live_.end()) live = it->second;
  }
  if (!live) return StopChild(arn, error, cause);
  Post(live, [error, cause](Execution& e) { e.Abort(error, cause); });
  return Status::Ok();
}

Status Runner::StopChild(const std::string& arn, const std::string& error, const std::string& cause) {
  Status missing = Error("ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'");
  auto keys = KeysForExecution(arn);
  if (!keys) return missing;
  auto meta = context_.store.Get(keys->meta);
  if (!meta.ok()) return meta.error();
  if (!meta->has_value()) return missing;
  std::string parent = ParseJsonOrDiscarded(**meta).value("parentExecutionArn", "");
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(parent);
    if (it != live_.end()) live = it->second;
  }
  if (parent.empty() || !live) return missing;
  Post(live, [arn, error, cause](Execution& e) { e.StopChild(arn, error, cause); });
  return Status::Ok();
}

bool Runner::DeliverTaskResult(const std::string& arn, uint64_t frame, uint64_t seq, TaskResult result) {
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(arn);
    if (it != live_.end()) live = it->second;
  }
  if (!live) return false;
  Post(live, [frame, seq, r = std::move(result)](Execution& e) mutable { e.OnTaskResult(frame, seq, std::move(r)); });
  return true;
}

void Runner::TakeActivityTask(const std::string& arn, uint64_t frame, uint64_t seq, std::string worker,
                              std::function<void(bool)> taken) {
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(arn);
    if (it != live_.end()) live = it->second;
  }
  if (!live) return taken(false);
  Post(live, [frame, seq, worker = std::move(worker), taken = std::move(taken), raw = live.get()](Execution& e) mutable {
    if (!e.AwaitsTask(frame, seq)) {
      taken(false);
      return;
    }
    TaskResult started;
    started.kind = TaskResult::Kind::kStarted;
    started.worker_name = std::move(worker);
    e.OnTaskResult(frame, seq, std::move(started));
    raw->after_commit.push_back([taken] { taken(true); });
    raw->failed_commit.push_back([taken] { taken(false); });
  });
}

Status Runner::UpdateMapRun(const std::string& map_run_arn, const MapRunUpdate& update) {
  auto key = MapRunKey(map_run_arn);
  if (!key) return Error("InvalidArn", "Invalid Arn: '" + map_run_arn + "'");
  auto raw = context_.store.Get(*key);
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return Error("ResourceNotFound", "Resource not found: '" + map_run_arn + "'");
  Json rec = ParseJsonOrDiscarded(**raw);
  std::string exec_arn = rec.value("executionArn", "");
  uint64_t frame = rec.value("frame", uint64_t{0});
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(exec_arn);
    if (it != live_.end()) live = it->second;
  }
  if (!live) return Status::Ok();  // the map run ended with its execution: nothing to change
  auto answer = std::make_shared<std::promise<bool>>();
  std::future<bool> committed = answer->get_future();
  Post(live, [frame, map_run_arn, update, answer, raw_live = live.get()](Execution& e) {
    if (!e.UpdateMapRun(frame, map_run_arn, update)) {
      answer->set_value(true);  // it ended meanwhile
      return;
    }
    raw_live->after_commit.push_back([answer] { answer->set_value(true); });
    raw_live->failed_commit.push_back([answer] { answer->set_value(false); });
  });
  constexpr auto kUpdateWait = std::chrono::seconds(10);
  // The driver runs on a worker: this worker must not count against the pool while it waits
  // (see DeliverHeartbeat).
  WorkerPool::BlockingScope waiting;
  if (committed.wait_for(kUpdateWait) != std::future_status::ready || !committed.get()) {
    return Error("InternalServerError", "The map run update could not be committed");
  }
  return Status::Ok();
}

bool Runner::DeliverHeartbeat(const std::string& arn, uint64_t frame, uint64_t seq) {
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(arn);
    if (it != live_.end()) live = it->second;
  }
  if (!live) return false;
  // Answered on the driving thread; the new deadline is committed with that batch.
  auto waiting = std::make_shared<std::promise<bool>>();
  std::future<bool> answer = waiting->get_future();
  Post(live, [frame, seq, waiting](Execution& e) { waiting->set_value(e.OnHeartbeat(frame, seq)); });
  constexpr auto kHeartbeatAnswerWait = std::chrono::seconds(10);
  // The driver that answers runs on a worker, and so does the SendTaskHeartbeat handler waiting
  // here: without the scope, as many concurrent heartbeats as workers took every worker, the
  // drivers stayed queued and each heartbeat waited out its limit while the execution's
  // heartbeat deadline passed (tests/integration/test_worker_pool_starvation.py).
  WorkerPool::BlockingScope blocking;
  if (answer.wait_for(kHeartbeatAnswerWait) != std::future_status::ready) return true;
  return answer.get();
}

void Runner::FireDueStoreTimers() {
  int64_t now = context_.clock.NowMillis();
  auto leased = context_.store.Lease(kTimerQueue, 256, now, kTimerLeaseMs);
  if (!leased.ok()) return;
  for (auto& item : *leased) {
    Json p = ParseJsonOrDiscarded(item.payload);
    std::string arn = p.is_object() ? p.value("arn", "") : "";
    std::shared_ptr<Live> live;
    {
      std::lock_guard lock(mu_);
      auto it = live_.find(arn);
      if (it != live_.end()) live = it->second;
    }
    if (!live) {
      (void)context_.store.Ack(item.id, item.lease_token);  // the execution is over
      continue;
    }
    uint64_t frame = p.value("frame", uint64_t{0}), seq = p.value("seq", uint64_t{0});
    int64_t id = item.id;
    std::string token = item.lease_token;
    Post(live, [live, frame, seq, id, token](Execution& e) {
      e.OnTimer(frame, seq);
      live->pending_acks.emplace_back(id, token);
    });
  }
}

void Runner::TimerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    int64_t now = context_.clock.NowMillis();
    std::vector<std::tuple<std::string, uint64_t, uint64_t>> due;
    while (!memory_timers_.empty() && memory_timers_.begin()->first <= now) {
      due.push_back(memory_timers_.begin()->second);
      memory_timers_.erase(memory_timers_.begin());
    }
    std::vector<std::pair<std::shared_ptr<Live>, std::tuple<std::string, uint64_t, uint64_t>>> posts;
    for (auto& t : due) {
      auto it = live_.find(std::get<0>(t));
      if (it != live_.end()) posts.emplace_back(it->second, t);
    }
    lock.unlock();
    for (auto& [live, t] : posts) {
      uint64_t frame = std::get<1>(t), seq = std::get<2>(t);
      Post(live, [frame, seq](Execution& e) { e.OnTimer(frame, seq); });
    }
    FireDueStoreTimers();
    int64_t wake = now + 1000;
    if (auto next = context_.store.NextVisibleAt(kTimerQueue); next.ok() && next->has_value()) {
      wake = std::min(wake, std::max(now + 1, **next));
    }
    lock.lock();
    if (!memory_timers_.empty()) wake = std::min(wake, memory_timers_.begin()->first);
    if (stopping_) break;
    int64_t wait = std::max<int64_t>(1, wake - context_.clock.NowMillis());
    cv_.wait_for(lock, std::chrono::milliseconds(wait));
  }
}

Status Runner::Resume(const std::string& arn) {
  auto keys = KeysForExecution(arn);
  if (!keys) return Error("InvalidArn", arn);
  std::optional<std::string> meta, state;
  std::vector<store::KeyValue> frames;
  STRATUS_RETURN_IF_ERROR(context_.store.Read([&](store::ReadTxn& txn) -> Status {
    auto m = txn.Get(keys->meta);
    if (!m.ok()) return m.error();
    meta = *m;
    auto s = txn.Get(keys->state);
    if (!s.ok()) return s.error();
    state = *s;
    auto f = txn.Scan(store::PrefixScan(keys->frames));
    if (!f.ok()) return f.error();
    frames = std::move(*f);
    return Status::Ok();
  }));
  if (!meta || !state) return Error("InternalFailure", "missing records for " + arn);
  Json m = ParseJsonOrDiscarded(*meta);
  Json s = ParseJsonOrDiscarded(*state);
  auto def = ParseDefinition(m.value("definition", ""));
  if (!def.ok()) return def.error();
  std::vector<Json> records;
  for (const auto& kv : frames) records.push_back(ParseJsonOrDiscarded(kv.value));
  auto live = std::make_shared<Live>();
  live->info = InfoFromJson(m["info"]);
  live->keys = *keys;
  live->definition_text = m.value("definition", "");
  live->host = std::make_unique<Host>(*live, context_.clock, context_.tracer);
  s["input"] = m.value("input", Json::object());
  RestoreTrace(*live, m);
  live->exec = Execution::Restore(*def, live->info, *live->host, s, records);
  live->exec->TraceStates(live->trace_states);
  live->exec->ResumePendingWork();
  {
    std::lock_guard lock(mu_);
    live_[arn] = live;
  }
  Post(live, [](Execution&) {});
  return Status::Ok();
}

void Runner::RestoreTrace(Live& live, const Json& meta) {
  auto h = meta.find("traceHeader");
  if (h == meta.end() || !h->is_string()) return;
  live.info.trace_header = h->get<std::string>();
  if (meta.value("traceStates", false)) {
    live.trace = ExecutionTraceFromRecord(meta);
    live.trace_states = !live.trace.trace_id.empty();
  } else {
    live.trace = trace::BeginHop(live.info.trace_header, context_.clock.NowMillis() / 1000);
  }
}

Result<int64_t> Runner::Redrive(const std::string& arn, const std::string& client_token) {
  auto keys = KeysForExecution(arn);
  if (!keys) return Error("InvalidArn", "Invalid Arn: '" + arn + "'");
  Json m, s;
  int64_t now = 0;
  // Read at most twice: a client that saw the end in the store may redrive before the finishing
  // execution has left live_ (it commits its end first); the redrive waits for that and reads again.
  for (int attempt = 0;; ++attempt) {
    std::optional<std::string> meta, state;
    STRATUS_RETURN_IF_ERROR(context_.store.Read([&](store::ReadTxn& txn) -> Status {
      auto got_meta = txn.Get(keys->meta);
      if (!got_meta.ok()) return got_meta.error();
      meta = *got_meta;
      auto got_state = txn.Get(keys->state);
      if (!got_state.ok()) return got_state.error();
      state = *got_state;
      return Status::Ok();
    }));
    if (!meta || !state) return Error("ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'");
    m = ParseJsonOrDiscarded(*meta);
    s = ParseJsonOrDiscarded(*state);
    // A repeat of a redrive (same client token, within 15 minutes) answers it again.
    now = context_.clock.NowMillis();
    if (auto date = RedriveTokenAnswer(m.value("redriveTokens", Json::array()), client_token, now)) return *date;
    std::unique_lock lock(mu_);
    auto it = live_.find(arn);
    if (it == live_.end()) break;
    if (attempt > 0 || !it->second->end_persisted) {
      return Error("ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven");
    }
    std::shared_ptr<Live> ending = it->second;
    retired_.wait_for(lock, std::chrono::seconds(5), [&] {
      auto now_it = live_.find(arn);
      return now_it == live_.end() || now_it->second != ending;
    });
  }
  std::string status = s.value("status", "RUNNING");
  if (status != "FAILED" && status != "TIMED_OUT" && status != "ABORTED") {
    return Error("ExecutionNotRedrivable", "Execution is " + status + " and cannot be redriven");
  }
  if (!s.contains("redrive")) {
    return Error("ExecutionNotRedrivable", "Execution has no state to redrive from");
  }
  if (int64_t stop = s.value("stop_ms", int64_t{0}); stop > 0 && context_.clock.NowMillis() - stop > kRedrivablePeriodMs) {
    return Error("ExecutionNotRedrivable", "Execution redrivable period exceeded.");
  }
  auto def = ParseDefinition(m.value("definition", ""));
  if (!def.ok()) return def.error();
  auto live = std::make_shared<Live>();
  live->info = InfoFromJson(m["info"]);
  live->keys = *keys;
  live->definition_text = m.value("definition", "");
  live->redrive_tokens = RememberRedriveToken(m.value("redriveTokens", Json::array()), client_token, now);
  live->host = std::make_unique<Host>(*live, context_.clock, context_.tracer);
  RestoreTrace(*live, m);
  s["input"] = m.value("input", Json::object());
  live->exec = Execution::Restore(*def, live->info, *live->host, s, {});
  live->exec->TraceStates(live->trace_states);
  {
    std::lock_guard lock(mu_);
    if (live_.count(arn)) return Error("ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven");
    live_[arn] = live;
  }
  Status st = Status::Ok();
  {
    std::lock_guard drive(live->mu);
    if (!live->exec->Redrive()) {
      st = Error("ExecutionNotRedrivable", "Execution has no state to redrive from");
    } else {
      live->info.redrive_count = live->exec->info().redrive_count;
      live->info.redrive_ms = now;
      st = Persist(*live, false, true);
    }
  }
  if (!st.ok()) {
    std::lock_guard lock(mu_);
    live_.erase(arn);
    return st.error();
  }
  Post(live, [](Execution&) {});
  return now;
}

void Runner::LogExpress(Live& live) {
  if (!context_.clients.logs) return;
  std::string group;
  for (const auto& d : live.logging.value("destinations", Json::array())) {
    std::string arn = d.value("cloudWatchLogsLogGroup", Json::object()).value("logGroupArn", "");
    auto pos = arn.find(":log-group:");
    if (pos != std::string::npos) {
      group = arn.substr(pos + 11);
      if (group.ends_with(":*")) group.resize(group.size() - 2);
    }
  }
  if (group.empty()) return;
  bool include_data = live.logging.value("includeExecutionData", false);
  std::string level = live.logging.value("level", "OFF");
  std::vector<aws::LogSink::Event> out;
  for (const auto& ev : live.express_events) {
    bool error = ev.type.find("Failed") != std::string::npos || ev.type.find("TimedOut") != std::string::npos ||
                 ev.type.find("Aborted") != std::string::npos;
    if (level != "ALL" && !error) continue;
    Json j{{"id", std::to_string(ev.id)},
           {"type", ev.type},
           {"details", include_data ? ev.details : Json::object()},
           {"previous_event_id", std::to_string(ev.previous_id)},
           {"event_timestamp", std::to_string(ev.timestamp_ms)},
           {"execution_arn", live.info.arn}};
    out.push_back({ev.timestamp_ms, DumpJson(j)});
  }
  if (out.empty()) return;
  std::string stream = "states/" + live.info.state_machine_name + "/" +
                       FormatIso8601(static_cast<double>(live.info.start_ms) / 1000.0).substr(0, 10) + "/" +
                       live.info.name;
  Status st = context_.clients.logs->Append(live.info.account, live.info.region, group, stream, out);
  if (!st.ok()) spdlog::warn("stepfunctions: express logs for {}: {}", live.info.arn, st.error().message);
}

}  // namespace stratus::services::stepfunctions
