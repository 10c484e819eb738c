#include "services/stepfunctions/test_state.h"

#include "core/crypto.h"
#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr const char* kTestedName = "TestState";
constexpr const char* kStubPrefix = "stratus.TestState.";
constexpr int64_t kDefaultMaxAttempts = 3;
constexpr int64_t kDefaultInterval = 1;

// A stub that ends the machine reporting the target it stands for (null: the state ended).
Json Stub(const Json& target) {
  return Json{{"Type", "Pass"},
              {"QueryLanguage", "JSONPath"},
              {"Parameters", Json{{"next", target}, {"output.$", "$"}}},
              {"End", true}};
}

// Points every transition of `state` (Next, Default, Choices[].Next, Catch[].Next, End) at a
// stub in `states`.
void RouteToStubs(Json& state, Json& states) {
  auto stub_for = [&](const Json& target) {
    std::string name = kStubPrefix + (target.is_string() ? target.get<std::string>() : std::string("<end>"));
    if (!states.contains(name)) states[name] = Stub(target);
    return name;
  };
  // A malformed target stays as it is, for the definition's validation to name it.
  if (state.contains("Next") && state["Next"].is_string()) state["Next"] = stub_for(state["Next"]);
  if (state.contains("Default") && state["Default"].is_string()) state["Default"] = stub_for(state["Default"]);
  if (state.contains("End") && state["End"] == Json(true)) {
    state.erase("End");
    state["Next"] = stub_for(Json());
  }
  for (const char* list : {"Choices", "Catch"}) {
    if (!state.contains(list) || !state[list].is_array()) continue;
    for (auto& rule : state[list]) {
      if (rule.is_object() && rule.contains("Next") && rule["Next"].is_string()) rule["Next"] = stub_for(rule["Next"]);
    }
  }
}

Result<Json> ParseState(const std::string& text) {
  Json state = ParseJsonOrDiscarded(text);
  if (!state.is_object() || !state.contains("Type")) {
    return Error("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
                                      "The state definition is not a state object at /'");
  }
  return state;
}

bool Matches(const Json& rule, const std::string& error) {
  for (const auto& e : rule.value("ErrorEquals", Json::array())) {
    std::string name = e.is_string() ? e.get<std::string>() : "";
    if (name == error) return true;
    if (name == "States.ALL" && error != "States.Runtime") return true;
    if (name == "States.TaskFailed" && error != "States.Timeout" && error != "States.Runtime" &&
        !error.starts_with("States.")) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::string> TestStateMachine(const std::string& state_text) {
  STRATUS_ASSIGN_OR_RETURN(Json state, ParseState(state_text));
  std::string type = state.value("Type", "");
  std::string resource = state.value("Resource", "");
  if (type == "Map" || type == "Parallel" || resource.find(":activity:") != std::string::npos ||
      resource.ends_with(".sync") || resource.find(".sync:") != std::string::npos ||
      resource.ends_with(".waitForTaskToken")) {
    return Error("ValidationException", "TestState does not support Map or Parallel states, activities, "
                                        "or the .sync and .waitForTaskToken integration patterns");
  }
  state.erase("Retry");
  state.erase("Catch");
  Json states = Json::object();
  if (type != "Succeed" && type != "Fail") RouteToStubs(state, states);
  states[kTestedName] = std::move(state);
  return DumpJson(Json{{"StartAt", kTestedName}, {"States", std::move(states)}});
}

std::optional<std::string> TestStateCatchMachine(const std::string& state_text, const std::string& error,
                                                 const std::string& cause) {
  auto state = ParseState(state_text);
  if (!state.ok() || !state->contains("Catch")) return std::nullopt;
  bool any = false;
  for (const auto& c : (*state)["Catch"]) any = any || Matches(c, error);
  if (!any) return std::nullopt;
  // A Parallel whose branch fails with the error, carrying the state's catchers (and its
  // query language, so JSONata catchers' Output/Assign see $states.errorOutput).
  Json fail{{"Type", "Fail"}, {"Error", error}, {"Cause", cause}};
  Json parallel{{"Type", "Parallel"},
                {"Branches", Json::array({Json{{"StartAt", "Raise"}, {"States", Json{{"Raise", fail}}}}})},
                {"Catch", (*state)["Catch"]},
                {"End", true}};
  if (state->contains("QueryLanguage")) parallel["QueryLanguage"] = (*state)["QueryLanguage"];
  Json states = Json::object();
  RouteToStubs(parallel, states);
  states[kTestedName] = std::move(parallel);
  return DumpJson(Json{{"StartAt", kTestedName}, {"States", std::move(states)}});
}

std::optional<int64_t> TestStateRetryInterval(const std::string& state_text, const std::string& error) {
  auto state = ParseState(state_text);
  if (!state.ok() || !state->contains("Retry") || !(*state)["Retry"].is_array()) return std::nullopt;
  for (const auto& r : (*state)["Retry"]) {
    if (!Matches(r, error)) continue;
    if (r.value("MaxAttempts", kDefaultMaxAttempts) <= 0) return std::nullopt;
    return r.value("IntervalSeconds", kDefaultInterval);
  }
  return std::nullopt;
}

Json TestStateSucceeded(const Json& output, const char* status) {
  Json out{{"status", status}};
  if (output.is_object() && output.contains("next") && output.contains("output") && output.size() == 2) {
    out["output"] = DumpJson(output["output"]);
    if (output["next"].is_string()) out["nextState"] = output["next"];
  } else {
    out["output"] = DumpJson(output);
  }
  return out;
}

namespace {

// What a TestState run needs besides the machine.
struct TestRun {
  Json input;
  Json variables;  // the request's `variables` (null: none)
  std::string role;
};

// Runs `machine` in memory (as an express execution) recording the tested state's data flow,
// and hands its end to `done`.
void RunTestMachine(Runner& runner, const aws::CallContext& c, const std::string& machine, const TestRun& run,
                    std::function<void(const Execution&)> done) {
  auto def = ParseDefinition(machine);
  ExecutionInfo info;
  info.name = NewUuid();
  info.state_machine_name = "TestState";
  info.state_machine_arn = "arn:aws:states:" + c.region + ":" + c.caller.account_id + ":stateMachine:TestState";
  info.arn = "arn:aws:states:" + c.region + ":" + c.caller.account_id + ":express:TestState:" + info.name + ":" +
             NewUuid();
  info.role_arn = run.role;
  info.account = c.caller.account_id;
  info.region = c.region;
  info.start_ms = c.now_ms;
  info.express = true;
  StartRequest req{info, *def, machine, run.input, Json(), c.trace};
  req.inspect_state = kTestedName;
  req.variables = run.variables;
  runner.StartExpress(std::move(req), std::move(done));
}

}  // namespace

std::optional<int64_t> TestStateCatchIndex(const std::string& state_text, const std::string& error) {
  auto state = ParseState(state_text);
  if (!state.ok() || !state->contains("Catch") || !(*state)["Catch"].is_array()) return std::nullopt;
  int64_t i = 0;
  for (const auto& c : (*state)["Catch"]) {
    if (Matches(c, error)) return i;
    ++i;
  }
  return std::nullopt;
}

void RunTestState(Runner& runner, WorkerPool& workers, std::shared_ptr<aws::CallContext> c, Json in,
                  aws::Completion done) {
  // The newer TestState inputs (a whole machine with stateName, mocked integrations, a given
  // context, state configuration) are refused rather than ignored.
  for (const char* unsupported : {"stateName", "mock", "context", "stateConfiguration"}) {
    if (in.contains(unsupported)) {
      return done(Error("ValidationException", std::string("TestState '") + unsupported +
                                                   "' is not supported by stratus (see docs/stepfunctions.md)"));
    }
  }
  std::string state_text = in.value("definition", "");
  auto machine = TestStateMachine(state_text);
  if (!machine.ok()) return done(machine.error());
  if (auto def = ParseDefinition(*machine); !def.ok()) return done(def.error());
  std::string input_text = in.value("input", "{}");
  TestRun run;
  run.input = ParseJsonOrDiscarded(input_text);
  if (run.input.is_discarded()) {
    return done(Error("InvalidExecutionInput", "Invalid State Machine Execution Input: 'Unexpected input: " +
                                                   input_text.substr(0, 64) + "'"));
  }
  if (in.contains("variables")) {
    std::string text = in["variables"].is_string() ? in["variables"].get<std::string>() : "";
    run.variables = ParseJsonOrDiscarded(text);
    if (!run.variables.is_object()) {
      return done(Error("ValidationException", "Invalid variables: the value must be a JSON object whose keys are "
                                               "variable names, not '" + text.substr(0, 64) + "'"));
    }
  }
  // revealSecrets is accepted: it uncovers what an EventBridge connection adds to an HTTP Task's
  // request, and stratus runs no HTTP Task (see docs/stepfunctions.md), so it changes nothing.
  std::string level = in.value("inspectionLevel", "INFO");
  run.role = in.value("roleArn", "");
  // DEBUG and TRACE add the data flow (TRACE's HTTP request/response belong to HTTP Tasks).
  auto finish = [done, level, input_text](Json out, const Json& inspection) {
    if (level != "INFO") {
      Json& data = out["inspectionData"];
      data["input"] = input_text;
      for (auto it = inspection.begin(); it != inspection.end(); ++it) data[it.key()] = it.value();
    }
    aws::OperationOutput o;
    o.body = std::move(out);
    done(std::move(o));
  };
  RunTestMachine(runner, *c, *machine, run, [&runner, &workers, c, state_text, run, finish](const Execution& e) {
    Json inspection = e.inspection();
    if (e.status() == ExecutionStatus::kSucceeded) return finish(TestStateSucceeded(e.output(), "SUCCEEDED"), inspection);
    std::string error = e.error(), cause = e.cause();
    Json failed{{"status", "FAILED"}, {"error", error}, {"cause", cause}};
    if (auto interval = TestStateRetryInterval(state_text, error)) {
      failed["status"] = "RETRIABLE";
      failed["inspectionData"] = Json{{"errorDetails", Json{{"retryBackoffIntervalSeconds", *interval}, {"retryIndex", 0}}}};
      return finish(std::move(failed), inspection);
    }
    auto catcher = TestStateCatchMachine(state_text, error, cause);
    if (!catcher) return finish(std::move(failed), inspection);
    auto catch_index = TestStateCatchIndex(state_text, error);
    workers.Submit([&runner, c, catcher = *catcher, run, failed, finish, inspection, catch_index] {
      RunTestMachine(runner, *c, catcher, run, [failed, finish, inspection, catch_index](const Execution& caught) {
        Json data = inspection;
        // The catcher's Assign: the variables after the state are the catcher's.
        if (caught.inspection().contains("variables")) data["variables"] = caught.inspection()["variables"];
        if (caught.status() != ExecutionStatus::kSucceeded) {
          return finish(Json{{"status", "FAILED"}, {"error", caught.error()}, {"cause", caught.cause()}}, data);
        }
        Json out = TestStateSucceeded(caught.output(), "CAUGHT_ERROR");
        out["error"] = failed["error"];
        out["cause"] = failed["cause"];
        if (catch_index) out["inspectionData"]["errorDetails"] = Json{{"catchIndex", *catch_index}};
        finish(std::move(out), data);
      });
    });
  });
}

}  // namespace stratus::services::stepfunctions
