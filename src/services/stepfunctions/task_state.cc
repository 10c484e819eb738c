// The Task state: parameters, dispatch through the EngineHost, results, timeouts and the
// history events of each resource kind (service integrations, legacy Lambda ARNs, activities).
#include <cmath>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/stepfunctions/state_runner.h"
#include "services/stepfunctions/task_token.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr size_t kMaxPayloadBytes = 256 * 1024;

struct ResourceParts {
  std::string kind;  // "lambda" (legacy function ARN), "activity", "task"
  std::string type;  // TaskScheduled resourceType ("lambda", "aws-sdk:s3")
  std::string name;  // resource ("invoke", "invoke.waitForTaskToken")
};

ResourceParts SplitResource(const std::string& r) {
  ResourceParts p;
  if (r.starts_with("arn:aws:lambda:") || r.find(":lambda:") != std::string::npos && r.find(":function:") != std::string::npos) {
    p.kind = "lambda";
    return p;
  }
  if (r.find(":activity:") != std::string::npos) {
    p.kind = "activity";
    return p;
  }
  p.kind = "task";
  std::string rest = r;
  if (auto pos = r.find(":::"); pos != std::string::npos) rest = r.substr(pos + 3);
  if (rest.starts_with("aws-sdk:")) {
    auto second = rest.find(':', 8);
    p.type = rest.substr(0, second);
    p.name = second == std::string::npos ? "" : rest.substr(second + 1);
  } else {
    auto colon = rest.find(':');
    p.type = rest.substr(0, colon);
    p.name = colon == std::string::npos ? "" : rest.substr(colon + 1);
  }
  return p;
}

std::string EventPrefix(const std::string& kind) {
  if (kind == "lambda") return "LambdaFunction";
  if (kind == "activity") return "Activity";
  return "Task";
}

std::string DetailsKey(const std::string& kind, const std::string& what) {
  std::string prefix = kind == "lambda" ? "lambdaFunction" : kind == "activity" ? "activity" : "task";
  return prefix + what + "EventDetails";
}

}  // namespace

Result<int64_t> StateRunner::ResolveNumber(Frame& f, const NumberOrPath& n, const char* name,
                                           const Json& input, bool integer) {
  if (n.literal) return static_cast<int64_t>(*n.literal);
  Json value;
  std::string path_text;
  if (n.path) {
    Json ctx = Context(f);
    EvalEnv env{input, ctx, &f};
    auto v = n.path->Read(env);
    if (!v.ok()) return Error("States.Runtime", "Invalid path '" + n.path->text + "' : " + v.error().message);
    value = std::move(*v);
    path_text = n.path->text;
  } else if (n.jsonata) {
    Json states = StatesVar(f, nullptr, nullptr);
    auto v = n.jsonata->Evaluate(Bindings(f, states));
    if (!v.ok()) return v.error();
    value = std::move(*v);
    if (!value.is_number()) {
      return Error("States.QueryEvaluationError",
                   "The JSONata expression '" + n.jsonata->source() + "' specified for the field '" + name +
                       "' returned an unexpected result type. Expected 'integer', but was '" +
                       (value.is_string() ? "string" : value.is_object() ? "object" : value.is_array() ? "array" : value.is_boolean() ? "boolean" : "null") +
                       "' for value: " + DumpJson(value));
    }
    return static_cast<int64_t>(value.get<double>());
  } else {
    return int64_t{-1};
  }
  if (value.is_string()) {
    // A numeric string is accepted as the number it spells.
    Json parsed = ParseJsonOrDiscarded(value.get_ref<const std::string&>());
    if (!parsed.is_discarded() && parsed.is_number()) value = std::move(parsed);
  }
  bool ok = value.is_number() && (!integer || value.is_number_integer() ||
                                  std::floor(value.get<double>()) == value.get<double>());
  if (!ok) {
    return Error("States.Runtime", "The " + std::string(name) + "Path field refers to value \"" +
                                       (value.is_string() ? value.get<std::string>() : DumpJson(value)) +
                                       "\" which is not a valid " + (integer ? "integer" : "float") + ": " + path_text);
  }
  return static_cast<int64_t>(value.get<double>());
}

void StateRunner::ExecuteTask(Frame& f) {
  const State& s = f.current();
  ResourceParts parts = SplitResource(s.resource);
  bool wants_token = s.resource.ends_with(".waitForTaskToken") || parts.kind == "activity";
  uint64_t seq = f.seq + 1;
  if (wants_token) f.task_token = MakeTaskToken(e_.info_.arn, f.id, seq);
  Json params;
  std::optional<int64_t> timeout, heartbeat;
  if (s.language == QueryLanguage::kJsonata) {
    Json states = StatesVar(f, nullptr, nullptr);
    if (s.arguments) {
      auto v = s.arguments->Evaluate(Bindings(f, states));
      if (!v.ok()) return EvaluationError(f, v.error());
      params = std::move(*v);
    } else {
      params = f.input;
    }
    Inspect(f, "afterArguments", params);
  } else {
    Json ctx = Context(f);
    auto in = EffectiveInput(f, ctx);
    if (!in.ok()) return EvaluationError(f, in.error());
    Inspect(f, "afterInputPath", *in);
    if (s.parameters) {
      EvalEnv env{*in, ctx, &f};
      auto v = s.parameters->Evaluate(env);
      if (!v.ok()) return EvaluationError(f, v.error());
      params = std::move(*v);
    } else {
      params = std::move(*in);
    }
    Inspect(f, "afterParameters", params);
  }
  if (s.timeout_seconds.present) {
    auto t = ResolveNumber(f, s.timeout_seconds, "TimeoutSeconds", f.input, true);
    if (!t.ok()) return EvaluationError(f, t.error());
    if (*t > 0) timeout = *t;
  }
  if (s.heartbeat_seconds.present) {
    auto t = ResolveNumber(f, s.heartbeat_seconds, "HeartbeatSeconds", f.input, true);
    if (!t.ok()) return EvaluationError(f, t.error());
    if (*t > 0) heartbeat = *t;
  }
  f.seq = seq;
  f.phase = Phase::kTask;
  f.task_kind = parts.kind;
  f.task_submitted = false;
  f.task_parameters = params;
  e_.MarkDirty(f);
  if (e_.record_history_) {
    Json d = Json::object();
    if (parts.kind == "task") {
      d["resourceType"] = parts.type;
      d["resource"] = parts.name;
      d["region"] = e_.info_.region;
      d["parameters"] = DumpJson(params);
    } else {
      d["resource"] = s.resource;
      d["input"] = DumpJson(params);
      d["inputDetails"] = Json{{"truncated", false}};
    }
    if (timeout) d["timeoutInSeconds"] = *timeout;
    if (heartbeat) d["heartbeatInSeconds"] = *heartbeat;
    e_.Emit(&f, EventPrefix(parts.kind) + "Scheduled", DetailsKey(parts.kind, "Scheduled"), std::move(d));
    if (parts.kind == "task") {
      e_.Emit(&f, "TaskStarted", "taskStartedEventDetails", Json{{"resourceType", parts.type}, {"resource", parts.name}});
    } else if (parts.kind == "lambda") {
      e_.Emit(&f, "LambdaFunctionStarted");
    }
  } else {
    e_.Emit(&f, "TaskScheduled");
    if (parts.kind != "activity") e_.Emit(&f, "TaskStarted");
  }
  TaskCall call;
  call.frame = f.id;
  call.seq = f.seq;
  call.state_name = s.name;
  call.resource = s.resource;
  call.parameters = std::move(params);
  call.token = f.task_token;
  call.timeout_seconds = timeout;
  call.heartbeat_seconds = heartbeat;
  call.entered_event = f.entered_event;
  call.span_scope = f.iteration_root;
  if (timeout) e_.host_.ScheduleTimer(f.id, f.seq, e_.host_.NowMs() + *timeout * 1000);
  f.heartbeat_seconds = heartbeat.value_or(0);
  f.heartbeat_due_ms = 0;
  if (heartbeat) {
    f.heartbeat_due_ms = e_.host_.NowMs() + *heartbeat * 1000;
    e_.host_.ScheduleTimer(f.id, f.seq | kHeartbeatTimerBit, f.heartbeat_due_ms);
  }
  e_.host_.Dispatch(call);
}

void StateRunner::TaskResult(Frame& f, stepfunctions::TaskResult r) {
  const State& s = f.current();
  ResourceParts parts = SplitResource(s.resource);
  auto base = [&]() {
    Json d = Json::object();
    if (parts.kind == "task") {
      d["resourceType"] = parts.type;
      d["resource"] = parts.name;
    }
    return d;
  };
  using K = stepfunctions::TaskResult::Kind;
  switch (r.kind) {
    case K::kStarted: {
      // An activity worker took the task: it is theirs until it reports, its heartbeat or the
      // state times out; the frame record says so, so a restart does not hand it out again.
      if (f.task_submitted) return;
      f.task_submitted = true;
      e_.MarkDirty(f);
      Json d = Json::object();
      if (!r.worker_name.empty()) d["workerName"] = r.worker_name;
      e_.Emit(&f, "ActivityStarted", "activityStartedEventDetails", std::move(d));
      return;
    }
    case K::kSubmitted: {
      if (f.task_submitted) return;
      f.task_submitted = true;
      e_.MarkDirty(f);
      Json d = base();
      d["output"] = DumpJson(r.output);
      d["outputDetails"] = Json{{"truncated", false}};
      e_.Emit(&f, "TaskSubmitted", "taskSubmittedEventDetails", std::move(d));
      return;
    }
    case K::kFailed: {
      Json d = base();
      if (!r.error.empty()) d["error"] = r.error;
      if (!r.cause.empty()) d["cause"] = r.cause;
      e_.Emit(&f, EventPrefix(parts.kind) + "Failed", DetailsKey(parts.kind, "Failed"), std::move(d));
      ++f.seq;
      f.phase = Phase::kEnter;
      f.task_token.clear();
      HandleFailure(f, r.error, r.cause);
      return;
    }
    case K::kSucceeded: break;
  }
  std::string text = DumpJson(r.output);
  if (text.size() > kMaxPayloadBytes) {
    ++f.seq;
    f.phase = Phase::kEnter;
    e_.FrameFailed(f, "States.DataLimitExceeded",
                   "The state/task '" + s.name + "' returned a result with a size exceeding the maximum number of bytes service limit.");
    return;
  }
  Json d = base();
  d["output"] = std::move(text);
  d["outputDetails"] = Json{{"truncated", false}};
  e_.Emit(&f, EventPrefix(parts.kind) + "Succeeded", DetailsKey(parts.kind, "Succeeded"), std::move(d));
  ++f.seq;
  f.phase = Phase::kEnter;
  auto out = ProcessResult(f, std::move(r.output));
  if (!out.ok()) return EvaluationError(f, out.error());
  Complete(f, std::move(*out));
}

void StateRunner::TaskTimedOut(Frame& f, const char* error) {
  const State& s = f.current();
  ResourceParts parts = SplitResource(s.resource);
  Json d = Json::object();
  if (parts.kind == "task") {
    d["resourceType"] = parts.type;
    d["resource"] = parts.name;
  }
  d["error"] = error;
  e_.Emit(&f, EventPrefix(parts.kind) + "TimedOut", DetailsKey(parts.kind, "TimedOut"), std::move(d));
  ++f.seq;
  f.phase = Phase::kEnter;
  f.task_token.clear();
  f.heartbeat_seconds = 0;
  HandleFailure(f, error, "");
}

}  // namespace stratus::services::stepfunctions
