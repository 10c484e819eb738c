// Pass, Task, Choice, Wait, Succeed and Fail; the data flow of both query languages; Retry and
// Catch.
#include <charconv>
#include <cmath>
#include <random>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/stepfunctions/state_runner.h"

namespace stratus::services::stepfunctions {

namespace {

// AWS's payload limit for state inputs, outputs and task results.
constexpr size_t kMaxPayloadBytes = 256 * 1024;

bool IsRuntimeError(const std::string& e) { return e == "States.Runtime"; }

// Adds the length of `text` as a JSON string (quotes and escapes as DumpJson writes them).
void AddJsonStringLength(const std::string& text, size_t& n) {
  n += 2;
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      n += 2;
    } else {
      n += c < 0x20 ? 6 : 1;
    }
  }
}

// Adds the length of `j`'s compact JSON text to `n` without writing it, and stops walking once
// `n` is past `limit` (then only "more than limit" is known). Numbers are counted as their
// shortest round-trip form, which can differ from DumpJson's by a byte or two (DumpJson writes
// 1.0 where this counts 1); the 256 KiB limit does not hinge on that.
void AddJsonTextLength(const Json& j, size_t limit, size_t& n) {
  if (n > limit) return;
  char buf[32];
  switch (j.type()) {
    case Json::value_t::null: n += 4; return;
    case Json::value_t::boolean: n += j.get<bool>() ? 4 : 5; return;
    case Json::value_t::number_integer:
      n += std::to_chars(buf, buf + sizeof buf, j.get<int64_t>()).ptr - buf;
      return;
    case Json::value_t::number_unsigned:
      n += std::to_chars(buf, buf + sizeof buf, j.get<uint64_t>()).ptr - buf;
      return;
    case Json::value_t::number_float:
      n += std::to_chars(buf, buf + sizeof buf, j.get<double>()).ptr - buf;
      return;
    case Json::value_t::string: AddJsonStringLength(j.get_ref<const std::string&>(), n); return;
    case Json::value_t::array:
      n += j.empty() ? 2 : 1 + j.size();  // brackets and the commas between items
      for (const Json& item : j) {
        AddJsonTextLength(item, limit, n);
        if (n > limit) return;
      }
      return;
    case Json::value_t::object:
      n += j.empty() ? 2 : 1 + j.size();  // braces and the commas between members
      for (auto it = j.begin(); it != j.end(); ++it) {
        AddJsonStringLength(it.key(), n);
        n += 1;  // the colon
        AddJsonTextLength(it.value(), limit, n);
        if (n > limit) return;
      }
      return;
    default: n += DumpJson(j).size(); return;
  }
}

// True when `j`'s compact JSON text is longer than `limit` bytes.
bool JsonTextLongerThan(const Json& j, size_t limit) {
  size_t n = 0;
  AddJsonTextLength(j, limit, n);
  return n > limit;
}

std::string TypeOfJson(const Json& v) {
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_null()) return "null";
  return "number";
}

}  // namespace

bool ErrorMatches(const std::vector<std::string>& names, const std::string& error) {
  for (const auto& n : names) {
    if (n == error) return true;
    if (n == "States.ALL" && error != "States.Runtime" && error != "States.DataLimitExceeded") return true;
    if (n == "States.TaskFailed" && error != "States.Timeout" && error != "States.Runtime" &&
        error != "States.DataLimitExceeded" && !error.starts_with("States.") ) {
      return true;
    }
  }
  return false;
}

std::string StateRunner::EnteredType(const State& s) const { return std::string(StateTypeName(s.type)) + "StateEntered"; }
std::string StateRunner::ExitedType(const State& s) const { return std::string(StateTypeName(s.type)) + "StateExited"; }

void StateRunner::Step(Frame& f) {
  switch (f.phase) {
    case Phase::kEnter: Enter(f); break;
    case Phase::kRetry:
      f.phase = Phase::kEnter;
      f.partial_results = Json();
      Execute(f);
      break;
    case Phase::kExit: Exit(f); break;
    case Phase::kFail: e_.FrameFailed(f, f.error, f.cause); break;
    default: break;
  }
}

void StateRunner::Enter(Frame& f) {
  const State& s = f.current();
  f.entered_ms = e_.host_.NowMs();
  f.retry_counts.assign(s.retry.size(), 0);
  f.retry_total = 0;
  f.next_override = -2;
  f.task_token.clear();
  f.partial_results = Json();
  Json details;
  if (e_.record_history_) {
    details = Json{{"name", s.name}, {"input", DumpJson(f.input)}, {"inputDetails", Json{{"truncated", false}}}};
  }
  f.entered_event = e_.Emit(&f, EnteredType(s), "stateEnteredEventDetails", std::move(details)).id;
  f.span_open = true;
  e_.MarkDirty(f);
  Execute(f);
}

void StateRunner::Execute(Frame& f) {
  switch (f.current().type) {
    case StateType::kPass: ExecutePass(f); break;
    case StateType::kTask: ExecuteTask(f); break;
    case StateType::kChoice: ExecuteChoice(f); break;
    case StateType::kWait: ExecuteWait(f); break;
    case StateType::kSucceed: ExecuteSucceed(f); break;
    case StateType::kFail: ExecuteFail(f); break;
    case StateType::kParallel: ExecuteParallel(f); break;
    case StateType::kMap: ExecuteMap(f); break;
  }
}

void StateRunner::Complete(Frame& f, Json output) {
  f.output = std::move(output);
  f.phase = Phase::kExit;
  e_.MarkDirty(f);
  e_.Schedule(f);
}

void StateRunner::Exit(Frame& f) {
  const State& s = f.current();
  ++e_.transitions_;
  Json details;
  if (e_.record_history_) {
    std::string text = DumpJson(f.output);
    if (text.size() > kMaxPayloadBytes) {
      e_.FrameFailed(f, "States.DataLimitExceeded",
                     "The state/task '" + s.name + "' returned a result with a size exceeding the maximum number of bytes service limit.");
      return;
    }
    details = Json{{"name", s.name}, {"output", std::move(text)}, {"outputDetails", Json{{"truncated", false}}}};
    if (f.pending_assign) {
      Json assigned = Json::object();
      for (auto it = f.pending_assign->begin(); it != f.pending_assign->end(); ++it) {
        assigned[it.key()] = DumpJson(it.value());
      }
      details["assignedVariables"] = std::move(assigned);
      details["assignedVariablesDetails"] = Json{{"truncated", false}};
    }
  } else if (JsonTextLongerThan(f.output, kMaxPayloadBytes)) {
    // Express executions keep no history text to measure, so the output is measured as it stands.
    e_.FrameFailed(f, "States.DataLimitExceeded",
                   "The state/task '" + s.name + "' returned a result with a size exceeding the maximum number of bytes service limit.");
    return;
  }
  e_.Emit(&f, ExitedType(s), "stateExitedEventDetails", std::move(details));
  e_.EndSpan(f, {});
  if (f.pending_assign) {
    for (auto it = f.pending_assign->begin(); it != f.pending_assign->end(); ++it) {
      f.vars[it.key()] = std::move(it.value());
    }
    f.pending_assign.reset();
    Inspect(f, "variables", f.vars);
  } else if (!f.vars.empty()) {
    Inspect(f, "variables", f.vars);
  }
  int next = f.next_override != -2 ? f.next_override : s.next;
  bool end = f.next_override != -2 ? f.next_override < 0 : (s.end || s.type == StateType::kSucceed);
  if (end || next < 0) {
    e_.FrameSucceeded(f, std::move(f.output));
    return;
  }
  f.state = next;
  f.input = std::move(f.output);
  f.output = Json();
  f.phase = Phase::kEnter;
  e_.MarkDirty(f);
  e_.Schedule(f);
}

// ---- data flow -----------------------------------------------------------------------------

void StateRunner::InspectSlow(const Frame& f, const char* step, const Json& value) {
  if (f.parent != 0 || f.current().name != e_.inspect_state_) return;
  e_.inspection_[step] = DumpJson(value);
}

Json StateRunner::Context(const Frame& f) const {
  if (!f.current().uses_context) return Json::object();
  return e_.ContextObject(f);
}

Json StateRunner::StatesVar(const Frame& f, const Json* result, const Json* error_output) const {
  Json st = Json::object();
  st["input"] = f.input;
  st["context"] = Context(f);
  if (result) st["result"] = *result;
  if (error_output) st["errorOutput"] = *error_output;
  return st;
}

jsonata::Bindings StateRunner::Bindings(const Frame& f, const Json& states) const {
  std::vector<std::pair<std::string, const Json*>> vars;
  std::vector<const Frame*> chain;
  for (const Frame* p = &f; p; p = p->parent_frame) chain.push_back(p);
  // Outer scopes first so that inner definitions win.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (auto v = (*it)->vars.begin(); v != (*it)->vars.end(); ++v) vars.emplace_back(v.key(), &v.value());
  }
  return MakeJsonataBindings(states, vars);
}

Result<Json> StateRunner::EffectiveInput(const Frame& f, const Json& ctx) const {
  const State& s = f.current();
  switch (s.input_path.kind) {
    case PathField::Kind::kDefault: return f.input;
    case PathField::Kind::kNull: return Json::object();
    case PathField::Kind::kPath: {
      EvalEnv env{f.input, ctx, &f};
      auto v = s.input_path.ref->Read(env);
      if (!v.ok()) {
        return Error("States.Runtime", "Invalid path '" + s.input_path.ref->text + "' : " + v.error().message);
      }
      return v;
    }
  }
  return f.input;
}

Result<Json> StateRunner::ApplyOutputPath(const Frame& f, Json value, const Json& ctx) const {
  const State& s = f.current();
  switch (s.output_path.kind) {
    case PathField::Kind::kDefault: return value;
    case PathField::Kind::kNull: return Json::object();
    case PathField::Kind::kPath: {
      EvalEnv env{value, ctx, &f};
      auto v = s.output_path.ref->Read(env);
      if (!v.ok()) {
        return Error("States.Runtime", "Invalid path '" + s.output_path.ref->text + "' : " + v.error().message);
      }
      return v;
    }
  }
  return value;
}

Status StateRunner::EvaluateAssign(Frame& f, const std::optional<PayloadTemplate>& jp,
                                   const std::optional<JsonataTemplate>& jt, const Json& path_input,
                                   const Json* states) {
  if (jp) {
    Json ctx = Context(f);
    EvalEnv env{path_input, ctx, &f};
    auto v = jp->Evaluate(env);
    if (!v.ok()) return v.error();
    f.pending_assign = std::move(*v);
  } else if (jt) {
    auto v = jt->Evaluate(Bindings(f, *states));
    if (!v.ok()) return v.error();
    f.pending_assign = std::move(*v);
  }
  return Status::Ok();
}

Result<Json> StateRunner::ProcessResult(Frame& f, Json result) {
  const State& s = f.current();
  Inspect(f, "result", result);
  if (s.language == QueryLanguage::kJsonata) {
    Json states = StatesVar(f, &result, nullptr);
    STRATUS_RETURN_IF_ERROR(EvaluateAssign(f, std::nullopt, s.assign_jsonata, result, &states));
    if (s.output) return s.output->Evaluate(Bindings(f, states));
    return result;
  }
  Json ctx = Context(f);
  if (s.result_selector) {
    EvalEnv env{result, ctx, &f};
    auto v = s.result_selector->Evaluate(env);
    if (!v.ok()) return v.error();
    result = std::move(*v);
  }
  Inspect(f, "afterResultSelector", result);
  STRATUS_RETURN_IF_ERROR(EvaluateAssign(f, s.assign, std::nullopt, result, nullptr));
  Json output;
  switch (s.result_path.kind) {
    case PathField::Kind::kDefault: output = std::move(result); break;
    case PathField::Kind::kNull: output = f.input; break;
    case PathField::Kind::kPath: {
      const ValueRef& ref = *s.result_path.ref;
      output = f.input;
      if (ref.path.is_root()) {
        output = std::move(result);
      } else {
        if (!output.is_object() && !output.is_null()) output = Json::object();
        auto st = ref.path.Write(output, std::move(result));
        if (!st.ok()) return st.error();
      }
      break;
    }
  }
  Inspect(f, "afterResultPath", output);
  return ApplyOutputPath(f, std::move(output), ctx);
}

void StateRunner::EvaluationError(Frame& f, const Error& err, bool evaluation_event) {
  std::string error = err.code;
  std::string cause = err.message;
  bool engine_error = error == "States.Runtime" || error == "States.QueryEvaluationError" ||
                      error == "States.IntrinsicFailure";
  if (engine_error) {
    cause = "An error occurred while executing the state '" + f.current().name +
            "' (entered at the event id #" + std::to_string(f.entered_event) + "). " + err.message;
  }
  if (error == "States.QueryEvaluationError" || evaluation_event) {
    Json details;
    if (e_.record_history_) details = Json{{"error", error}, {"cause", cause}, {"state", f.current().name}};
    e_.Emit(&f, "EvaluationFailed", "evaluationFailedEventDetails", std::move(details));
  }
  if (f.current().type == StateType::kMap && f.phase != Phase::kChildren) {
    if (error == "States.QueryEvaluationError") e_.Emit(&f, "MapStateFailed");
  }
  HandleFailure(f, error, cause);
}

void StateRunner::HandleFailure(Frame& f, const std::string& error, const std::string& cause) {
  const State& s = f.current();
  f.redrive_child_events = Json();
  f.redrive_resume = Json();
  if (!IsRuntimeError(error)) {
    for (size_t i = 0; i < s.retry.size(); ++i) {
      const Retrier& r = s.retry[i];
      if (!ErrorMatches(r.errors, error)) continue;
      if (f.retry_counts.size() < s.retry.size()) f.retry_counts.resize(s.retry.size());
      if (f.retry_counts[i] < r.max_attempts) {
        double delay = r.interval_seconds * std::pow(r.backoff_rate, static_cast<double>(f.retry_counts[i]));
        if (r.max_delay_seconds) delay = std::min(delay, static_cast<double>(*r.max_delay_seconds));
        if (r.full_jitter) {
          static thread_local std::mt19937_64 gen{std::random_device{}()};
          delay = std::uniform_real_distribution<double>(0, delay)(gen);
        }
        ++f.retry_counts[i];
        ++f.retry_total;
        ++f.seq;
        f.phase = Phase::kTimer;
        f.retrying = true;
        e_.MarkDirty(f);
        e_.host_.ScheduleTimer(f.id, f.seq, e_.host_.NowMs() + static_cast<int64_t>(delay * 1000.0));
        return;
      }
      break;
    }
    for (const Catcher& c : s.catchers) {
      if (!ErrorMatches(c.errors, error)) continue;
      Json error_output = Json{{"Error", error}, {"Cause", cause}};
      Json output;
      if (s.language == QueryLanguage::kJsonata) {
        Json states = StatesVar(f, nullptr, &error_output);
        auto st = EvaluateAssign(f, std::nullopt, c.assign_jsonata, error_output, &states);
        if (!st.ok()) {
          f.next_override = -2;
          HandleFailure(f, st.error().code, st.error().message);
          return;
        }
        if (c.output) {
          auto v = c.output->Evaluate(Bindings(f, states));
          if (!v.ok()) {
            e_.FrameFailed(f, v.error().code, v.error().message);
            return;
          }
          output = std::move(*v);
        } else {
          output = f.input;
        }
      } else {
        auto st = EvaluateAssign(f, c.assign, std::nullopt, error_output, nullptr);
        if (!st.ok()) {
          e_.FrameFailed(f, st.error().code, st.error().message);
          return;
        }
        switch (c.result_path.kind) {
          case PathField::Kind::kDefault: output = std::move(error_output); break;
          case PathField::Kind::kNull: output = f.input; break;
          case PathField::Kind::kPath: {
            output = f.input;
            if (c.result_path.ref->path.is_root()) {
              output = std::move(error_output);
            } else {
              if (!output.is_object()) output = Json::object();
              auto w = c.result_path.ref->path.Write(output, std::move(error_output));
              if (!w.ok()) {
                e_.FrameFailed(f, w.error().code, w.error().message);
                return;
              }
            }
            break;
          }
        }
      }
      f.next_override = c.next;
      Complete(f, std::move(output));
      return;
    }
  }
  e_.FrameFailed(f, error, cause);
}

void StateRunner::TimerFired(Frame& f) {
  if (f.retrying) {
    f.retrying = false;
    f.phase = Phase::kRetry;
    e_.MarkDirty(f);
    e_.Schedule(f);
    return;
  }
  // A Wait state's time has come.
  Complete(f, std::move(f.output));
}

// ---- Pass, Choice, Wait, Succeed, Fail --------------------------------------------------------

void StateRunner::ExecutePass(Frame& f) {
  const State& s = f.current();
  if (s.language == QueryLanguage::kJsonata) {
    auto out = ProcessResult(f, f.input);
    if (!out.ok()) return EvaluationError(f, out.error());
    Complete(f, std::move(*out));
    return;
  }
  // Fast path: a Pass state with no data flow fields passes its input through.
  if (e_.inspect_state_.empty() && !s.result && !s.parameters && !s.assign && !s.result_selector &&
      s.input_path.kind == PathField::Kind::kDefault && s.output_path.kind == PathField::Kind::kDefault &&
      s.result_path.kind == PathField::Kind::kDefault) {
    Complete(f, std::move(f.input));
    f.input = Json();
    return;
  }
  Json ctx = Context(f);
  auto in = EffectiveInput(f, ctx);
  if (!in.ok()) return EvaluationError(f, in.error());
  Inspect(f, "afterInputPath", *in);
  Json result;
  if (s.result) {
    Inspect(f, "afterParameters", *in);
    result = *s.result;
  } else if (s.parameters) {
    EvalEnv env{*in, ctx, &f};
    auto p = s.parameters->Evaluate(env);
    if (!p.ok()) return EvaluationError(f, p.error());
    result = std::move(*p);
    Inspect(f, "afterParameters", result);
  } else {
    Inspect(f, "afterParameters", *in);
    result = std::move(*in);
  }
  auto out = ProcessResult(f, std::move(result));
  if (!out.ok()) return EvaluationError(f, out.error());
  Complete(f, std::move(*out));
}

void StateRunner::ExecuteChoice(Frame& f) {
  const State& s = f.current();
  if (s.language == QueryLanguage::kJsonata) {
    Json states = StatesVar(f, nullptr, nullptr);
    auto b = Bindings(f, states);
    for (const ChoiceRule& rule : s.choices) {
      auto v = rule.condition->Evaluate(b);
      if (!v.ok()) return EvaluationError(f, v.error());
      if (!v->is_boolean()) {
        return EvaluationError(f, Error("States.QueryEvaluationError",
                                        "The JSONata expression '" + rule.condition->source() +
                                            "' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '" +
                                            TypeOfJson(*v) + "' for value: " + DumpJson(*v)));
      }
      if (v->get<bool>()) {
        auto st = EvaluateAssign(f, std::nullopt, rule.assign_jsonata, f.input, &states);
        if (!st.ok()) return EvaluationError(f, st.error());
        Json out = f.input;
        if (rule.output) {
          auto o = rule.output->Evaluate(Bindings(f, states));
          if (!o.ok()) return EvaluationError(f, o.error());
          out = std::move(*o);
        } else if (s.output) {
          auto o = s.output->Evaluate(b);
          if (!o.ok()) return EvaluationError(f, o.error());
          out = std::move(*o);
        }
        f.next_override = rule.next;
        Complete(f, std::move(out));
        return;
      }
    }
    if (s.default_next < 0) {
      return HandleFailure(f, "States.NoChoiceMatched", "No Matches!");
    }
    auto st = EvaluateAssign(f, std::nullopt, s.assign_jsonata, f.input, &states);
    if (!st.ok()) return EvaluationError(f, st.error());
    Json out = f.input;
    if (s.output) {
      auto o = s.output->Evaluate(b);
      if (!o.ok()) return EvaluationError(f, o.error());
      out = std::move(*o);
    }
    f.next_override = s.default_next;
    Complete(f, std::move(out));
    return;
  }
  Json ctx = Context(f);
  auto in = EffectiveInput(f, ctx);
  if (!in.ok()) return EvaluationError(f, in.error());
  Inspect(f, "afterInputPath", *in);
  EvalEnv env{*in, ctx, &f};
  int next = -1;
  const ChoiceRule* matched = nullptr;
  for (const ChoiceRule& rule : s.choices) {
    auto m = EvaluateRule(rule, env);
    if (!m.ok()) return EvaluationError(f, m.error());
    if (*m) {
      matched = &rule;
      next = rule.next;
      break;
    }
  }
  if (!matched) {
    if (s.default_next < 0) {
      return HandleFailure(f, "States.NoChoiceMatched", "No Matches!");
    }
    next = s.default_next;
  }
  auto st = EvaluateAssign(f, matched ? matched->assign : s.assign, std::nullopt, *in, nullptr);
  if (!st.ok()) return EvaluationError(f, st.error());
  auto out = ApplyOutputPath(f, std::move(*in), ctx);
  if (!out.ok()) return EvaluationError(f, out.error());
  f.next_override = next;
  Complete(f, std::move(*out));
}

void StateRunner::ExecuteWait(Frame& f) {
  const State& s = f.current();
  int64_t now = e_.host_.NowMs();
  int64_t due = now;
  Json out;
  if (s.language == QueryLanguage::kJsonata) {
    Json states = StatesVar(f, nullptr, nullptr);
    auto b = Bindings(f, states);
    if (s.seconds.present) {
      if (s.seconds.literal) {
        due = now + static_cast<int64_t>(*s.seconds.literal * 1000);
      } else {
        auto v = s.seconds.jsonata->Evaluate(b);
        if (!v.ok()) return EvaluationError(f, v.error());
        if (!v->is_number() || v->get<double>() < 0) {
          return EvaluationError(f, Error("States.QueryEvaluationError",
                                          "The JSONata expression '" + s.seconds.jsonata->source() +
                                              "' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '" +
                                              TypeOfJson(*v) + "' for value: " + DumpJson(*v)));
        }
        due = now + static_cast<int64_t>(v->get<double>() * 1000);
      }
    } else {
      std::string ts;
      if (s.timestamp) {
        ts = *s.timestamp;
      } else if (s.timestamp_jsonata) {
        auto v = s.timestamp_jsonata->Evaluate(b);
        if (!v.ok()) return EvaluationError(f, v.error());
        ts = v->is_string() ? v->get<std::string>() : DumpJson(*v);
      }
      auto parsed = ts.size() >= 20 && ts[10] == 'T' ? ParseIso8601(ts) : std::nullopt;
      if (!parsed || !(ts.back() == 'Z' || ts[ts.size() - 6] == '+' || ts[ts.size() - 6] == '-')) {
        return EvaluationError(f, Error("States.QueryEvaluationError",
                                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: " + ts));
      }
      due = static_cast<int64_t>(*parsed * 1000);
    }
    auto st = EvaluateAssign(f, std::nullopt, s.assign_jsonata, f.input, &states);
    if (!st.ok()) return EvaluationError(f, st.error());
    if (s.output) {
      auto o = s.output->Evaluate(b);
      if (!o.ok()) return EvaluationError(f, o.error());
      out = std::move(*o);
    } else {
      out = f.input;
    }
  } else {
    Json ctx = Context(f);
    auto in = EffectiveInput(f, ctx);
    if (!in.ok()) return EvaluationError(f, in.error());
    Inspect(f, "afterInputPath", *in);
    EvalEnv env{*in, ctx, &f};
    if (s.seconds.literal) {
      due = now + static_cast<int64_t>(*s.seconds.literal * 1000);
    } else if (s.seconds.path) {
      auto v = s.seconds.path->Read(env);
      if (!v.ok()) return EvaluationError(f, Error("States.Runtime", "Invalid path '" + s.seconds.path->text + "' : " + v.error().message));
      if (!v->is_number() || (v->is_number_float() && std::floor(v->get<double>()) != v->get<double>())) {
        return EvaluationError(f, Error("States.Runtime", "The SecondsPath parameter cannot be parsed as a long value: " +
                                                              s.seconds.path->text + " == " + (v->is_string() ? v->get<std::string>() : DumpJson(*v))));
      }
      if (v->get<double>() < 0) {
        return EvaluationError(f, Error("States.Runtime", "The SecondsPath parameter references a negative value: " +
                                                              s.seconds.path->text + " == " + DumpJson(*v)));
      }
      due = now + static_cast<int64_t>(v->get<double>() * 1000);
    } else {
      std::string ts;
      if (s.timestamp) {
        ts = *s.timestamp;
      } else {
        auto v = s.timestamp_path->Read(env);
        if (!v.ok()) return EvaluationError(f, Error("States.Runtime", "Invalid path '" + s.timestamp_path->text + "' : " + v.error().message));
        ts = v->is_string() ? v->get<std::string>() : DumpJson(*v);
      }
      auto parsed = ts.size() >= 20 && ts[10] == 'T' ? ParseIso8601(ts) : std::nullopt;
      if (!parsed || !(ts.back() == 'Z' || ts[ts.size() - 6] == '+' || ts[ts.size() - 6] == '-')) {
        return EvaluationError(f, Error("States.Runtime",
                                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: " +
                                            (s.timestamp_path ? s.timestamp_path->text : std::string("Timestamp")) + " == " + ts));
      }
      due = static_cast<int64_t>(*parsed * 1000);
    }
    auto st = EvaluateAssign(f, s.assign, std::nullopt, *in, nullptr);
    if (!st.ok()) return EvaluationError(f, st.error());
    auto o = ApplyOutputPath(f, std::move(*in), ctx);
    if (!o.ok()) return EvaluationError(f, o.error());
    out = std::move(*o);
  }
  if (due <= now) {
    Complete(f, std::move(out));
    return;
  }
  f.output = std::move(out);
  ++f.seq;
  f.phase = Phase::kTimer;
  f.retrying = false;
  e_.MarkDirty(f);
  e_.host_.ScheduleTimer(f.id, f.seq, due);
}

void StateRunner::ExecuteSucceed(Frame& f) {
  const State& s = f.current();
  if (s.language == QueryLanguage::kJsonata) {
    Json out = f.input;
    if (s.output) {
      Json states = StatesVar(f, nullptr, nullptr);
      auto o = s.output->Evaluate(Bindings(f, states));
      if (!o.ok()) return EvaluationError(f, o.error());
      out = std::move(*o);
    }
    Complete(f, std::move(out));
    return;
  }
  Json ctx = Context(f);
  auto in = EffectiveInput(f, ctx);
  if (!in.ok()) return EvaluationError(f, in.error());
  Inspect(f, "afterInputPath", *in);
  auto out = ApplyOutputPath(f, std::move(*in), ctx);
  if (!out.ok()) return EvaluationError(f, out.error());
  Complete(f, std::move(*out));
}

void StateRunner::ExecuteFail(Frame& f) {
  const State& s = f.current();
  std::string error, cause;
  Json ctx = Context(f);
  EvalEnv env{f.input, ctx, &f};
  auto text = [&](const std::optional<std::string>& lit, const std::optional<DynamicValue>& path,
                  const std::optional<JsonataTemplate>& jt, const char* field, std::string& out) -> bool {
    if (lit) {
      out = *lit;
    } else if (path) {
      auto v = path->ref ? path->ref->Read(env) : path->call->Evaluate(env);
      if (!v.ok()) {
        std::string text = path->ref ? path->ref->text : path->call->text;
        Error e("States.Runtime", path->ref ? "The JSONPath '" + text + "' specified for the field '" + field +
                                                  "' could not be found in the input '" + DumpJson(f.input) + "'"
                                            : v.error().message);
        EvaluationError(f, e);
        return false;
      }
      out = v->is_string() ? v->get<std::string>() : DumpJson(*v);
    } else if (jt) {
      Json states = StatesVar(f, nullptr, nullptr);
      auto v = jt->Evaluate(Bindings(f, states));
      if (!v.ok()) {
        EvaluationError(f, v.error());
        return false;
      }
      out = v->is_string() ? v->get<std::string>() : DumpJson(*v);
    }
    return true;
  };
  if (!text(s.error, s.error_path, s.error_jsonata, "ErrorPath", error)) return;
  if (!text(s.cause, s.cause_path, s.cause_jsonata, "CausePath", cause)) return;
  e_.FrameFailed(f, error, cause);
}

}  // namespace stratus::services::stepfunctions
