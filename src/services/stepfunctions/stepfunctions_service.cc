// The Step Functions API: thin handlers over Runner (executions), the store (state machines,
// activities, history) and Integrations (Task states).
#include "services/stepfunctions/stepfunctions_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <regex>
#include <thread>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/stepfunctions/api_util.h"
#include "services/stepfunctions/integrations.h"
#include "services/stepfunctions/map_run_api.h"
#include "services/stepfunctions/runner.h"
#include "services/stepfunctions/state_machines.h"
#include "services/stepfunctions/task_token.h"
#include "services/stepfunctions/test_state.h"
#include "store/store.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr size_t kMaxInputBytes = 256 * 1024;
constexpr int64_t kActivityPollMs = 60000;
// StopExecution of an execution committed RUNNING but not yet in the runner's live set: polls of
// 5 ms before ExecutionDoesNotExist (it joins right after its first commit; in a cluster it may
// run on another node).
constexpr int kStopJoinPolls = 200;

class StepFunctionsService;

class Dispatcher : public TaskDispatcher {
 public:
  explicit Dispatcher(StepFunctionsService& svc) : svc_(svc) {}
  void Dispatch(const ExecutionInfo& info, const TaskCall& call, std::function<void(TaskResult)> done) override;

 private:
  StepFunctionsService& svc_;
};

struct ActivityTask {
  std::string token;
  std::string input;
  std::string execution_arn;
  uint64_t frame = 0, seq = 0;
};

struct ActivityWaiter {
  aws::Completion done;
  int64_t deadline_ms = 0;
  std::string worker;
};

class StepFunctionsService final : public aws::Service {
 public:
  explicit StepFunctionsService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "stepfunctions",
                                .model = "stepfunctions-2016-11-23",
                                .protocol = aws::Protocol::kJson,
                                .target_prefix = "AWSStepFunctions",
                                .signing_name = "states",
                                .validation_error = "ValidationException"}),
        context_(context),
        dispatcher_(*this),
        integrations_(context),
        runner_(context, dispatcher_),
        state_machines_(context.store) {
    runner_.on_finished = [this](const Execution& e) { ExecutionFinished(e); };
    integrations_.watch_execution = [this](const std::string& arn, std::function<void(Json)> cb) {
      WatchExecution(arn, std::move(cb));
    };
    Register();
  }
  ~StepFunctionsService() override { Stop(); }

  Status Start() override {
    STRATUS_RETURN_IF_ERROR(runner_.Start());
    sweeper_ = std::thread([this] { SweepWaiters(); });
    return Status::Ok();
  }
  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    runner_.Stop();
  }

  void DispatchActivity(const ExecutionInfo& info, const TaskCall& call, std::function<void(TaskResult)> done) {
    ActivityTask task{call.token, DumpJson(call.parameters), info.arn, call.frame, call.seq};
    std::optional<ActivityWaiter> waiter;
    {
      std::lock_guard lock(mu_);
      auto& waiters = waiters_[call.resource];
      if (!waiters.empty()) {
        waiter = std::move(waiters.front());
        waiters.pop_front();
      } else {
        activity_tasks_[call.resource].push_back(task);
      }
    }
    if (waiter) HandOut(std::move(*waiter), call.resource, std::move(task));
  }

  Integrations& integrations() { return integrations_; }

 private:
  using Call = aws::CallContext;

  // Gives the worker the activity's next task, or parks it until one comes or its poll ends.
  void Serve(ActivityWaiter w, const std::string& activity_arn) {
    std::optional<ActivityTask> task;
    {
      std::lock_guard lock(mu_);
      auto& q = activity_tasks_[activity_arn];
      if (q.empty()) {
        waiters_[activity_arn].push_back(std::move(w));
        return;
      }
      task = std::move(q.front());
      q.pop_front();
    }
    HandOut(std::move(w), activity_arn, std::move(*task));
  }

  // The worker gets the task only once its hand-out is committed (AWS: from then on the task is
  // that worker's until it reports or times out, restarts included). A task whose execution no
  // longer waits on it (stopped, timed out) is dropped and the worker served the next one.
  void HandOut(ActivityWaiter w, const std::string& activity_arn, ActivityTask task) {
    auto waiter = std::make_shared<ActivityWaiter>(std::move(w));
    std::string worker = waiter->worker;
    runner_.TakeActivityTask(task.execution_arn, task.frame, task.seq, std::move(worker),
                             [this, waiter, activity_arn, task](bool taken) {
                               if (!taken) return Serve(std::move(*waiter), activity_arn);
                               aws::OperationOutput out;
                               out.body = Json{{"taskToken", task.token}, {"input", task.input}};
                               waiter->done(std::move(out));
                             });
  }

  void SweepWaiters() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(200));
      int64_t now = context_.clock.NowMillis();
      std::vector<aws::Completion> expired;
      for (auto& [arn, list] : waiters_) {
        for (auto it = list.begin(); it != list.end();) {
          if (it->deadline_ms <= now || stopping_) {
            expired.push_back(std::move(it->done));
            it = list.erase(it);
          } else {
            ++it;
          }
        }
      }
      lock.unlock();
      for (auto& done : expired) {
        aws::OperationOutput out;
        out.body = Json::object();
        done(std::move(out));
      }
      lock.lock();
    }
  }

  // ---- state machines ----------------------------------------------------------------------

  // ---- executions ------------------------------------------------------------------------

  Result<std::pair<Json, std::shared_ptr<const Definition>>> PrepareStart(Call& c, const Json& in, ExecutionInfo& info, Json& input) {
    STRATUS_ASSIGN_OR_RETURN(StartTarget target, state_machines_.ResolveForStart(in.value("stateMachineArn", "")));
    Json sm = std::move(target.record);
    const std::string& sm_arn = target.state_machine_arn;
    info.state_machine_version_arn = target.version_arn;
    info.state_machine_alias_arn = target.alias_arn;
    std::string name = in.value("name", "");
    if (name.empty()) name = NewUuid();
    if (!ValidName(name)) return Error("InvalidName", "Invalid Name: '" + name + "'");
    std::string input_text = in.value("input", "{}");
    if (input_text.size() > kMaxInputBytes) {
      return Error("InvalidExecutionInput", "Invalid State Machine Execution Input: 'The input exceeds the maximum size of 262144 bytes'");
    }
    input = ParseJsonOrDiscarded(input_text);
    if (input.is_discarded()) {
      return Error("InvalidExecutionInput", "Invalid State Machine Execution Input: 'Unexpected input: " + input_text.substr(0, 64) + "'");
    }
    auto def = ParseDefinition(sm.value("definition", ""));
    if (!def.ok()) return def.error();
    bool express = sm.value("type", "STANDARD") == "EXPRESS";
    info.name = name;
    info.state_machine_arn = sm_arn;
    info.state_machine_name = sm.value("name", "");
    info.role_arn = sm.value("roleArn", "");
    info.account = c.caller.account_id;
    info.region = c.region;
    info.start_ms = c.now_ms;
    info.express = express;
    info.arn = "arn:aws:states:" + c.region + ":" + c.caller.account_id + (express ? ":express:" : ":execution:") +
               info.state_machine_name + ":" + name + (express ? ":" + NewUuid() : "");
    return std::make_pair(std::move(sm), *def);
  }

  // The trace an execution continues: the request's X-Amzn-Trace-Id (preferred) or the
  // `traceHeader` member. Its states are traced when the machine's tracingConfiguration is
  // enabled or a trace was passed in (AWS: "if a trace ID is passed by an upstream service,
  // Step Functions will then send traces").
  StartRequest TracedRequest(const Call& c, const Json& in, const Json& sm, StartRequest req) {
    trace::TraceContext ctx = c.trace;
    if (!ctx.continued) {
      if (auto body = in.find("traceHeader"); body != in.end() && body->is_string()) {
        trace::TraceContext t = trace::BeginHop(body->get<std::string>(), c.now_ms / 1000);
        if (t.continued) {
          if (!t.parent_id.empty()) t.segment_id = t.parent_id;  // the caller's segment
          ctx = std::move(t);
        }
      }
    }
    bool enabled = sm.value("tracingConfiguration", Json::object()).value("enabled", false);
    req.trace_states = ctx.sampled && (ctx.continued || enabled);
    req.trace = std::move(ctx);
    return req;
  }

  Result<Json> StartExecution(Call& c, const Json& in) {
    ExecutionInfo info;
    Json input;
    STRATUS_ASSIGN_OR_RETURN(auto prepared, PrepareStart(c, in, info, input));
    auto& [sm, def] = prepared;
    StartRequest req = TracedRequest(c, in, sm, StartRequest{info, def, sm.value("definition", ""), input,
                                                             sm.value("loggingConfiguration", Json()), c.trace});
    if (info.express) {
      runner_.StartExpress(std::move(req), nullptr);
      return Json{{"executionArn", info.arn}, {"startDate", Seconds(info.start_ms)}};
    }
    Status st = runner_.StartStandard(std::move(req));
    if (!st.ok()) {
      if (st.error().code != "ExecutionAlreadyExists") return st.error();
      // Idempotent by name: the same input while it runs returns the original execution. Whether
      // it runs is read from its committed record, as DescribeExecution answers: the runner's live
      // set admits a new execution only after its first commit and lets an ended one go only
      // after its last, so a client that saw RUNNING (or the end) could get the other answer.
      auto desc = LoadExecution(info.arn);
      if (desc.ok() && desc->value("status", "") == "RUNNING" && desc->value("input", "") == DumpJson(input)) {
        return Json{{"executionArn", info.arn}, {"startDate", (*desc)["startDate"]}};
      }
      return st.error();
    }
    return Json{{"executionArn", info.arn}, {"startDate", Seconds(info.start_ms)}};
  }

  void StartSyncExecution(std::shared_ptr<Call> c, Json in, aws::Completion done) {
    ExecutionInfo info;
    Json input;
    auto prepared = PrepareStart(*c, in, info, input);
    if (!prepared.ok()) return done(prepared.error());
    auto& [sm, def] = *prepared;
    if (!info.express) {
      return done(Error("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine"));
    }
    StartRequest req = TracedRequest(*c, in, sm, StartRequest{info, def, "", input,
                                                              sm.value("loggingConfiguration", Json()), c->trace});
    std::string trace_header = c->trace_header;
    runner_.StartExpress(std::move(req), [done, trace_header](const Execution& e) {
      aws::OperationOutput out;
      const ExecutionInfo& i = e.info();
      Json b = Json{{"executionArn", i.arn},
                    {"stateMachineArn", i.state_machine_arn},
                    {"name", i.name},
                    {"startDate", Seconds(i.start_ms)},
                    {"stopDate", Seconds(e.stop_ms())},
                    {"status", std::string(StatusName(e.status()))},
                    {"input", DumpJson(e.input())},
                    {"inputDetails", Json{{"included", true}}},
                    {"traceHeader", trace_header},
                    {"billingDetails", Json{{"billedMemoryUsedInMB", 64}, {"billedDurationInMilliseconds", std::max<int64_t>(100, e.stop_ms() - i.start_ms)}}}};
      if (e.status() == ExecutionStatus::kSucceeded) {
        b["output"] = DumpJson(e.output());
        b["outputDetails"] = Json{{"included", true}};
      } else {
        if (!e.error().empty()) b["error"] = e.error();
        if (!e.cause().empty()) b["cause"] = e.cause();
      }
      out.body = std::move(b);
      done(std::move(out));
    });
  }

  Result<Json> LoadExecution(const std::string& arn, Json* meta_out = nullptr) {
    auto keys = KeysForExecution(arn);
    if (!keys) {
      auto a = ParseStatesArn(arn);
      if (a && a->type == "express") return NotFound("ExecutionDoesNotExist", "Execution", arn);
      return InvalidArn(arn);
    }
    std::optional<std::string> meta, state;
    STRATUS_RETURN_IF_ERROR(context_.store.Read([&](store::ReadTxn& txn) -> Status {
      auto m = txn.Get(keys->meta);
      if (!m.ok()) return m.error();
      meta = *m;
      auto s = txn.Get(keys->state);
      if (!s.ok()) return s.error();
      state = *s;
      return Status::Ok();
    }));
    if (!meta) return NotFound("ExecutionDoesNotExist", "Execution", arn);
    Json m = ParseJsonOrDiscarded(*meta);
    Json s = state ? ParseJsonOrDiscarded(*state) : Json::object();
    if (meta_out) *meta_out = m;
    return DescribeFrom(m, s, context_.clock.NowMillis());
  }

  // `now_ms`: for the redrivable period.
  static Json DescribeFrom(const Json& m, const Json& s, int64_t now_ms) {
    ExecutionInfo i = InfoFromJson(m["info"]);
    Json out{{"executionArn", i.arn},
             {"stateMachineArn", i.state_machine_arn},
             {"name", i.name},
             {"status", s.value("status", "RUNNING")},
             {"startDate", Seconds(i.start_ms)}};
    if (s.value("stop_ms", int64_t{0}) > 0) out["stopDate"] = Seconds(s.value("stop_ms", int64_t{0}));
    out["input"] = DumpJson(m.value("input", Json::object()));
    out["inputDetails"] = Json{{"included", true}};
    if (s.contains("output")) {
      out["output"] = DumpJson(s["output"]);
      out["outputDetails"] = Json{{"included", true}};
    }
    if (s.contains("error")) out["error"] = s["error"];
    if (s.contains("cause")) out["cause"] = s["cause"];
    if (m.contains("traceHeader")) out["traceHeader"] = m["traceHeader"];
    if (m.contains("mapRunArn")) out["mapRunArn"] = m["mapRunArn"];
    if (!i.state_machine_version_arn.empty()) out["stateMachineVersionArn"] = i.state_machine_version_arn;
    if (!i.state_machine_alias_arn.empty()) out["stateMachineAliasArn"] = i.state_machine_alias_arn;
    out["redriveCount"] = i.redrive_count;
    if (i.redrive_ms > 0) out["redriveDate"] = Seconds(i.redrive_ms);
    std::string status = s.value("status", "RUNNING");
    bool stopped = status == "FAILED" || status == "TIMED_OUT" || status == "ABORTED";
    bool expired = stopped && now_ms - s.value("stop_ms", int64_t{0}) > kRedrivablePeriodMs;
    if (stopped && s.contains("redrive") && !expired) {
      out["redriveStatus"] = "REDRIVABLE";
    } else {
      out["redriveStatus"] = "NOT_REDRIVABLE";
      out["redriveStatusReason"] = expired   ? "Execution redrivable period exceeded."
                                   : stopped ? "Execution has no state to redrive from"
                                             : "Execution is " + status + " and cannot be redriven";
    }
    return out;
  }

  Result<Json> DescribeExecution(Call& c, const Json& in) { return LoadExecution(in.value("executionArn", "")); }

  Result<Json> StopExecution(Call& c, const Json& in) {
    std::string arn = in.value("executionArn", "");
    STRATUS_ASSIGN_OR_RETURN(Json desc, LoadExecution(arn));
    if (desc.value("status", "") == "RUNNING") {
      Status st = runner_.Stop(arn, in.value("error", ""), in.value("cause", ""));
      // The runner's live set lags the committed record at both ends: a new execution joins it
      // just after its first commit, an ending one leaves it just after its last. A client that
      // saw RUNNING is answered as at the record: wait for a starting execution to join, and
      // treat one that ended meanwhile as stopped.
      for (int i = 0; i < kStopJoinPolls && !st.ok() && st.error().code == "ExecutionDoesNotExist"; ++i) {
        auto now = LoadExecution(arn);
        if (!now.ok()) return now.error();
        if (now->value("status", "") != "RUNNING") return Json{{"stopDate", Seconds(context_.clock.NowMillis())}};
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        st = runner_.Stop(arn, in.value("error", ""), in.value("cause", ""));
      }
      if (!st.ok()) return st.error();
      // Wait briefly for the abort to be recorded so that DescribeExecution shows it (a child
      // execution is aborted by its parent, which stays running).
      bool child = desc.contains("mapRunArn");
      for (int i = 0; i < 200; ++i) {
        if (child) {
          auto now = LoadExecution(arn);
          if (!now.ok() || now->value("status", "") != "RUNNING") break;
        } else if (!runner_.IsRunning(arn)) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return Json{{"stopDate", Seconds(context_.clock.NowMillis())}};
  }

  Result<Json> ListExecutions(Call& c, const Json& in) {
    std::string sm_arn = in.value("stateMachineArn", "");
    if (sm_arn.empty()) return Error("ValidationException", "Must provide a StateMachine ARN or MapRun ARN");
    // A version or alias ARN lists the executions started through it.
    std::string qualified;
    if (auto a = ParseStatesArn(sm_arn); a && a->type == "stateMachine" && !a->extra.empty()) {
      qualified = sm_arn;
      sm_arn = sm_arn.substr(0, sm_arn.rfind(':'));
    }
    STRATUS_ASSIGN_OR_RETURN(Json sm, state_machines_.Load(sm_arn));
    if (sm.value("type", "") == "EXPRESS") {
      return Error("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine");
    }
    std::string base = "stepfunctions/" + c.caller.account_id + "/" + c.region;
    std::string name = sm.value("name", "");
    std::vector<store::KeyValue> metas, states;
    STRATUS_RETURN_IF_ERROR(context_.store.Read([&](store::ReadTxn& txn) -> Status {
      auto m = txn.Scan(store::PrefixScan(base + "/ex/" + name + "/"));
      if (!m.ok()) return m.error();
      metas = std::move(*m);
      auto s = txn.Scan(store::PrefixScan(base + "/xs/" + name + "/"));
      if (!s.ok()) return s.error();
      states = std::move(*s);
      return Status::Ok();
    }));
    std::unordered_map<std::string, Json> by_name;
    for (auto& kv : states) by_name[kv.key.substr(kv.key.rfind('/') + 1)] = ParseJsonOrDiscarded(kv.value);
    std::string filter = in.value("statusFilter", "");
    std::vector<Json> rows;
    const size_t names_at = (base + "/ex/" + name + "/").size();
    for (auto& kv : metas) {
      // Map runs' child executions sit under "<machine>/<label>/": ListExecutions with mapRunArn.
      if (kv.key.find('/', names_at) != std::string::npos) continue;
      Json m = ParseJsonOrDiscarded(kv.value);
      Json s = by_name[kv.key.substr(kv.key.rfind('/') + 1)];
      ExecutionInfo i = InfoFromJson(m["info"]);
      std::string status = s.value("status", "RUNNING");
      if (!filter.empty() && status != filter) continue;
      if (!qualified.empty() && i.state_machine_version_arn != qualified && i.state_machine_alias_arn != qualified) continue;
      Json row{{"executionArn", i.arn}, {"stateMachineArn", i.state_machine_arn}, {"name", i.name},
               {"status", status}, {"startDate", Seconds(i.start_ms)}};
      if (s.value("stop_ms", int64_t{0}) > 0) row["stopDate"] = Seconds(s.value("stop_ms", int64_t{0}));
      if (!i.state_machine_version_arn.empty()) row["stateMachineVersionArn"] = i.state_machine_version_arn;
      if (!i.state_machine_alias_arn.empty()) row["stateMachineAliasArn"] = i.state_machine_alias_arn;
      row["redriveCount"] = i.redrive_count;
      rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Json& a, const Json& b) {
      return a["startDate"].get<double>() > b["startDate"].get<double>();
    });
    Json items = Json::array();
    for (auto& r : rows) items.push_back(std::move(r));
    return Paginate(std::move(items), in, "executions");
  }

  Result<Json> GetExecutionHistory(Call& c, const Json& in) {
    std::string arn = in.value("executionArn", "");
    auto keys = KeysForExecution(arn);
    if (!keys) return InvalidArn(arn);
    std::vector<store::KeyValue> chunks;
    bool exists = false;
    STRATUS_RETURN_IF_ERROR(context_.store.Read([&](store::ReadTxn& txn) -> Status {
      auto m = txn.Get(keys->meta);
      if (!m.ok()) return m.error();
      exists = m->has_value();
      auto h = txn.Scan(store::PrefixScan(keys->history));
      if (!h.ok()) return h.error();
      chunks = std::move(*h);
      return Status::Ok();
    }));
    if (!exists) return NotFound("ExecutionDoesNotExist", "Execution", arn);
    bool include_data = in.value("includeExecutionData", true);
    Json events = Json::array();
    for (auto& kv : chunks) {
      Json arr = ParseJsonOrDiscarded(kv.value);
      if (!arr.is_array()) continue;
      for (auto& e : arr) {
        if (!include_data) {
          for (auto it = e.begin(); it != e.end(); ++it) {
            if (it.value().is_object()) {
              it.value().erase("input");
              it.value().erase("output");
              it.value().erase("parameters");
            }
          }
        }
        events.push_back(std::move(e));
      }
    }
    if (in.value("reverseOrder", false)) std::reverse(events.begin(), events.end());
    return Paginate(std::move(events), in, "events");
  }

  Result<Json> DescribeStateMachineForExecution(Call& c, const Json& in) {
    std::string arn = in.value("executionArn", "");
    Json meta;
    STRATUS_ASSIGN_OR_RETURN(Json desc, LoadExecution(arn, &meta));
    ExecutionInfo i = InfoFromJson(meta["info"]);
    auto sm = state_machines_.Load(i.state_machine_arn);
    Json out{{"stateMachineArn", i.state_machine_arn},
             {"name", i.state_machine_name},
             {"definition", meta.value("definition", "")},
             {"roleArn", i.role_arn},
             {"updateDate", Seconds(i.start_ms)}};
    if (sm.ok()) {
      out["loggingConfiguration"] = (*sm).value("loggingConfiguration", Json::object());
      out["tracingConfiguration"] = (*sm).value("tracingConfiguration", Json::object());
      out["revisionId"] = (*sm).value("revisionId", "");
    }
    return out;
  }

  Result<Json> ValidateStateMachineDefinition(Call& c, const Json& in) {
    auto diags = DiagnoseDefinition(in.value("definition", ""));
    Json list = Json::array();
    size_t max = static_cast<size_t>(in.value("maxResults", int64_t{100}));
    if (max == 0) max = 100;
    for (const auto& d : diags) {
      if (list.size() >= max) break;
      Json j{{"severity", "ERROR"}, {"code", d.code}, {"message", d.message}};
      if (!d.location.empty()) j["location"] = d.location;
      list.push_back(std::move(j));
    }
    return Json{{"result", diags.empty() ? "OK" : "FAIL"}, {"diagnostics", std::move(list)}, {"truncated", diags.size() > max}};
  }

  // .sync on states:startExecution: completion watchers.
  void WatchExecution(const std::string& arn, std::function<void(Json)> cb) {
    {
      std::lock_guard lock(mu_);
      watchers_[arn].push_back(cb);
    }
    auto desc = LoadExecution(arn);
    if (desc.ok() && desc->value("status", "RUNNING") != "RUNNING") {
      std::vector<std::function<void(Json)>> fire;
      {
        std::lock_guard lock(mu_);
        auto it = watchers_.find(arn);
        if (it != watchers_.end()) {
          fire = std::move(it->second);
          watchers_.erase(it);
        }
      }
      for (auto& f : fire) f(*desc);
    }
  }

  void ExecutionFinished(const Execution& e) {
    std::vector<std::function<void(Json)>> fire;
    {
      std::lock_guard lock(mu_);
      auto it = watchers_.find(e.info().arn);
      if (it == watchers_.end()) return;
      fire = std::move(it->second);
      watchers_.erase(it);
    }
    Json desc{{"executionArn", e.info().arn}, {"stateMachineArn", e.info().state_machine_arn},
              {"name", e.info().name}, {"status", std::string(StatusName(e.status()))},
              {"startDate", Seconds(e.info().start_ms)}, {"stopDate", Seconds(e.stop_ms())},
              {"input", DumpJson(e.input())}, {"inputDetails", Json{{"included", true}}}};
    if (e.status() == ExecutionStatus::kSucceeded) {
      desc["output"] = DumpJson(e.output());
      desc["outputDetails"] = Json{{"included", true}};
    } else {
      if (!e.error().empty()) desc["error"] = e.error();
      if (!e.cause().empty()) desc["cause"] = e.cause();
    }
    context_.workers.Submit([fire = std::move(fire), desc]() {
      for (auto& f : fire) f(desc);
    });
  }

  // ---- task tokens and activities -------------------------------------------------------------

  Result<Json> SendTask(const Json& in, TaskResult r) {
    std::string token = in.value("taskToken", "");
    auto parts = ParseTaskToken(token);
    if (!parts) return Error("InvalidToken", "Invalid Token: 'Invalid token'");
    if (!runner_.DeliverTaskResult(parts->execution_arn, parts->frame, parts->seq, std::move(r))) {
      return Error("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
    }
    return Json::object();
  }

  std::string ActivityKey(const std::string& account, const std::string& region, const std::string& name) {
    return "stepfunctions/" + account + "/" + region + "/activity/" + name;
  }

  Result<Json> LoadActivity(const std::string& arn) {
    auto a = ParseStatesArn(arn);
    if (!a || a->type != "activity") return InvalidArn(arn);
    auto v = context_.store.Get(ActivityKey(a->account, a->region, a->name));
    if (!v.ok()) return v.error();
    if (!v->has_value()) return NotFound("ActivityDoesNotExist", "Activity", arn);
    return ParseJsonOrDiscarded(**v);
  }

  Result<Json> TagsOf(const std::string& arn, Json** out_rec, Json& holder, std::string& key) {
    auto a = ParseStatesArn(arn);
    if (!a) return InvalidArn(arn);
    if (a->type == "stateMachine") key = StateMachineKey(a->account, a->region, a->name);
    else if (a->type == "activity") key = ActivityKey(a->account, a->region, a->name);
    else return InvalidArn(arn);
    auto v = context_.store.Get(key);
    if (!v.ok()) return v.error();
    if (!v->has_value()) return Error("ResourceNotFound", "Resource not found: '" + arn + "'");
    holder = ParseJsonOrDiscarded(**v);
    *out_rec = &holder;
    return holder.value("tags", Json::object());
  }

  void Register() {
    On("CreateStateMachine", [this](Call& c, const Json& in) { return state_machines_.Create(c, in); });
    On("DescribeStateMachine", [this](Call& c, const Json& in) { return state_machines_.Describe(c, in); });
    On("UpdateStateMachine", [this](Call& c, const Json& in) { return state_machines_.Update(c, in); });
    On("DeleteStateMachine", [this](Call& c, const Json& in) { return state_machines_.Delete(c, in); });
    On("ListStateMachines", [this](Call& c, const Json& in) { return state_machines_.List(c, in); });
    On("PublishStateMachineVersion", [this](Call& c, const Json& in) { return state_machines_.PublishVersion(c, in); });
    On("ListStateMachineVersions", [this](Call& c, const Json& in) { return state_machines_.ListVersions(c, in); });
    On("DeleteStateMachineVersion", [this](Call& c, const Json& in) { return state_machines_.DeleteVersion(c, in); });
    On("CreateStateMachineAlias", [this](Call& c, const Json& in) { return state_machines_.CreateAlias(c, in); });
    On("DescribeStateMachineAlias", [this](Call& c, const Json& in) { return state_machines_.DescribeAlias(c, in); });
    On("UpdateStateMachineAlias", [this](Call& c, const Json& in) { return state_machines_.UpdateAlias(c, in); });
    On("DeleteStateMachineAlias", [this](Call& c, const Json& in) { return state_machines_.DeleteAlias(c, in); });
    On("ListStateMachineAliases", [this](Call& c, const Json& in) { return state_machines_.ListAliases(c, in); });
    On("StartExecution", [this](Call& c, const Json& in) { return StartExecution(c, in); });
    OnAsync("StartSyncExecution", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      StartSyncExecution(std::move(c), std::move(in), std::move(done));
    });
    On("DescribeExecution", [this](Call& c, const Json& in) { return DescribeExecution(c, in); });
    OnAsync("TestState", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      RunTestState(runner_, context_.workers, std::move(c), std::move(in), std::move(done));
    });
    On("RedriveExecution", [this](Call& c, const Json& in) -> Result<Json> {
      std::string arn = in.value("executionArn", "");
      STRATUS_ASSIGN_OR_RETURN(Json desc, LoadExecution(arn));
      STRATUS_ASSIGN_OR_RETURN(int64_t redrive_ms, runner_.Redrive(arn, in.value("clientToken", "")));
      return Json{{"redriveDate", Seconds(redrive_ms)}};
    });
    On("StopExecution", [this](Call& c, const Json& in) { return StopExecution(c, in); });
    On("ListExecutions", [this](Call& c, const Json& in) -> Result<Json> {
      if (in.contains("mapRunArn")) {
        if (in.contains("stateMachineArn")) {
          return Error("ValidationException", "Must provide a StateMachine ARN or MapRun ARN, but not both");
        }
        return ListMapRunExecutions(context_.store, in);
      }
      return ListExecutions(c, in);
    });
    On("DescribeMapRun", [this](Call& c, const Json& in) { return DescribeMapRun(context_.store, in.value("mapRunArn", "")); });
    On("ListMapRuns", [this](Call& c, const Json& in) { return ListMapRuns(context_.store, in); });
    On("UpdateMapRun", [this](Call& c, const Json& in) -> Result<Json> {
      MapRunUpdate u;
      if (in.contains("maxConcurrency")) u.max_concurrency = in.value("maxConcurrency", int64_t{0});
      if (in.contains("toleratedFailurePercentage")) {
        u.tolerated_failure_percentage = in.value("toleratedFailurePercentage", 0.0);
      }
      if (in.contains("toleratedFailureCount")) u.tolerated_failure_count = in.value("toleratedFailureCount", int64_t{0});
      if (!u.max_concurrency && !u.tolerated_failure_percentage && !u.tolerated_failure_count) {
        return Error("ValidationException",
                     "At least one of the parameters maxConcurrency, toleratedFailurePercentage or "
                     "toleratedFailureCount must be provided");
      }
      STRATUS_RETURN_IF_ERROR(runner_.UpdateMapRun(in.value("mapRunArn", ""), u));
      return Json::object();
    });
    On("GetExecutionHistory", [this](Call& c, const Json& in) { return GetExecutionHistory(c, in); });
    On("DescribeStateMachineForExecution", [this](Call& c, const Json& in) { return DescribeStateMachineForExecution(c, in); });
    On("ValidateStateMachineDefinition", [this](Call& c, const Json& in) { return ValidateStateMachineDefinition(c, in); });
    On("SendTaskSuccess", [this](Call& c, const Json& in) -> Result<Json> {
      Json out = ParseJsonOrDiscarded(in.value("output", ""));
      if (out.is_discarded()) return Error("InvalidOutput", "Invalid Output: 'The output is not valid JSON'");
      TaskResult r;
      r.kind = TaskResult::Kind::kSucceeded;
      r.output = std::move(out);
      return SendTask(in, std::move(r));
    });
    On("SendTaskFailure", [this](Call& c, const Json& in) -> Result<Json> {
      TaskResult r;
      r.kind = TaskResult::Kind::kFailed;
      r.error = in.value("error", "");
      r.cause = in.value("cause", "");
      return SendTask(in, std::move(r));
    });
    On("SendTaskHeartbeat", [this](Call& c, const Json& in) -> Result<Json> {
      auto parts = ParseTaskToken(in.value("taskToken", ""));
      if (!parts) return Error("InvalidToken", "Invalid Token: 'Invalid token'");
      if (!runner_.DeliverHeartbeat(parts->execution_arn, parts->frame, parts->seq)) {
        return Error("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'");
      }
      return Json::object();
    });
    On("CreateActivity", [this](Call& c, const Json& in) -> Result<Json> {
      std::string name = in.value("name", "");
      if (!ValidName(name)) return Error("InvalidName", "Invalid Name: '" + name + "'");
      std::string arn = "arn:aws:states:" + c.region + ":" + c.caller.account_id + ":activity:" + name;
      std::string key = ActivityKey(c.caller.account_id, c.region, name);
      Json rec{{"activityArn", arn}, {"name", name}, {"creationDate", Seconds(c.now_ms)}, {"tags", Json::object()}};
      for (const auto& t : in.value("tags", Json::array())) rec["tags"][t.value("key", "")] = t.value("value", "");
      Json created = rec;
      STRATUS_RETURN_IF_ERROR(context_.store.Write([&](store::WriteTxn& txn) -> Status {
        auto existing = txn.Get(key);
        if (!existing.ok()) return existing.error();
        if (existing->has_value()) {
          created = ParseJsonOrDiscarded(**existing);
          return Status::Ok();
        }
        return txn.Put(key, DumpJson(rec));
      }));
      return Json{{"activityArn", arn}, {"creationDate", created["creationDate"]}};
    });
    On("DescribeActivity", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json rec, LoadActivity(in.value("activityArn", "")));
      return Json{{"activityArn", rec["activityArn"]}, {"name", rec["name"]}, {"creationDate", rec["creationDate"]}};
    });
    On("DeleteActivity", [this](Call& c, const Json& in) -> Result<Json> {
      std::string arn = in.value("activityArn", "");
      auto a = ParseStatesArn(arn);
      if (!a || a->type != "activity") return InvalidArn(arn);
      STRATUS_RETURN_IF_ERROR(context_.store.Delete(ActivityKey(a->account, a->region, a->name)));
      return Json::object();
    });
    On("ListActivities", [this](Call& c, const Json& in) -> Result<Json> {
      auto rows = context_.store.Scan(store::PrefixScan(ActivityKey(c.caller.account_id, c.region, "")));
      if (!rows.ok()) return rows.error();
      Json items = Json::array();
      for (const auto& kv : *rows) {
        Json r = ParseJsonOrDiscarded(kv.value);
        items.push_back(Json{{"activityArn", r["activityArn"]}, {"name", r["name"]}, {"creationDate", r["creationDate"]}});
      }
      return Paginate(std::move(items), in, "activities");
    });
    OnAsync("GetActivityTask", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      std::string arn = in.value("activityArn", "");
      auto rec = LoadActivity(arn);
      if (!rec.ok()) return done(rec.error());
      Serve(ActivityWaiter{std::move(done), context_.clock.NowMillis() + kActivityPollMs, in.value("workerName", "")},
            arn);
    });
    On("TagResource", [this](Call& c, const Json& in) -> Result<Json> {
      Json holder;
      Json* rec = nullptr;
      std::string key;
      STRATUS_ASSIGN_OR_RETURN(Json tags, TagsOf(in.value("resourceArn", ""), &rec, holder, key));
      for (const auto& t : in.value("tags", Json::array())) tags[t.value("key", "")] = t.value("value", "");
      (*rec)["tags"] = tags;
      STRATUS_RETURN_IF_ERROR(context_.store.Put(key, DumpJson(*rec)));
      return Json::object();
    });
    On("UntagResource", [this](Call& c, const Json& in) -> Result<Json> {
      Json holder;
      Json* rec = nullptr;
      std::string key;
      STRATUS_ASSIGN_OR_RETURN(Json tags, TagsOf(in.value("resourceArn", ""), &rec, holder, key));
      for (const auto& k : in.value("tagKeys", Json::array())) tags.erase(k.get<std::string>());
      (*rec)["tags"] = tags;
      STRATUS_RETURN_IF_ERROR(context_.store.Put(key, DumpJson(*rec)));
      return Json::object();
    });
    On("ListTagsForResource", [this](Call& c, const Json& in) -> Result<Json> {
      Json holder;
      Json* rec = nullptr;
      std::string key;
      STRATUS_ASSIGN_OR_RETURN(Json tags, TagsOf(in.value("resourceArn", ""), &rec, holder, key));
      Json list = Json::array();
      for (auto it = tags.begin(); it != tags.end(); ++it) list.push_back(Json{{"key", it.key()}, {"value", it.value()}});
      return Json{{"tags", std::move(list)}};
    });
  }

  aws::ServiceContext& context_;
  Dispatcher dispatcher_;
  Integrations integrations_;
  Runner runner_;
  StateMachines state_machines_;
  std::mutex mu_;  // guards activity_tasks_, waiters_, watchers_, stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::unordered_map<std::string, std::deque<ActivityTask>> activity_tasks_;
  std::unordered_map<std::string, std::deque<ActivityWaiter>> waiters_;
  std::unordered_map<std::string, std::vector<std::function<void(Json)>>> watchers_;
  std::thread sweeper_;
};

void Dispatcher::Dispatch(const ExecutionInfo& info, const TaskCall& call, std::function<void(TaskResult)> done) {
  if (call.resource.find(":activity:") != std::string::npos) {
    svc_.DispatchActivity(info, call, std::move(done));
    return;
  }
  svc_.integrations().Run(info, call, std::move(done));
}

}  // namespace

std::unique_ptr<aws::Service> MakeStepFunctionsService(aws::ServiceContext& context) {
  return std::make_unique<StepFunctionsService>(context);
}

}  // namespace stratus::services::stepfunctions
