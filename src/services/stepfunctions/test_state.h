#pragma once
// TestState: one state run on its own. The state is wrapped in a machine of its own whose
// transition targets are stub Pass states reporting which one was reached, with Retry and Catch
// taken out and decided afterwards as AWS's TestState reports them: RETRIABLE when a retrier
// matches the error (nothing is retried), CAUGHT_ERROR when a catcher does (the catcher runs
// through the engine on a Parallel that fails with the same error, so ResultPath/Output/Assign
// behave exactly), else FAILED; SUCCEEDED with the output and nextState otherwise.
//
// Thread-safe.
#include <memory>
#include <string>

#include "aws/framework/service.h"
#include "core/json.h"
#include "core/result.h"
#include "core/worker_pool.h"

namespace stratus::services::stepfunctions {

// The machine that runs `state` (a state's JSON text). InvalidDefinition for a state that
// cannot be tested (not an object; Map/Parallel, activities, .sync and .waitForTaskToken are
// refused with ValidationException, as AWS does).
Result<std::string> TestStateMachine(const std::string& state_text);

// The machine that applies `state`'s Catch to `error`/`cause` raised with the state's raw
// input, or nullopt when no catcher matches.
std::optional<std::string> TestStateCatchMachine(const std::string& state_text, const std::string& error,
                                                 const std::string& cause);

// The index of the catcher of `state` that catches `error`, if any.
std::optional<int64_t> TestStateCatchIndex(const std::string& state_text, const std::string& error);

// Whether a retrier of `state` would retry `error`; its interval when so.
std::optional<int64_t> TestStateRetryInterval(const std::string& state_text, const std::string& error);

// The TestState response for an execution of a TestStateMachine/TestStateCatchMachine that
// SUCCEEDED with `output` ({"next", "output"} from a stub; any value from a Succeed state).
Json TestStateSucceeded(const Json& output, const char* status);

class Runner;

// The TestState operation: runs the machines above on `runner` (in memory, as express
// executions) and completes `done` with AWS's TestState output or error. The request's
// `variables` (a JSON object; ValidationException otherwise) are visible to the state;
// inspectionLevel DEBUG and TRACE add inspectionData's input and data-flow steps
// (Execution::InspectState); revealSecrets is accepted and changes nothing (no HTTP Task).
void RunTestState(Runner& runner, WorkerPool& workers, std::shared_ptr<aws::CallContext> c, Json in,
                  aws::Completion done);

}  // namespace stratus::services::stepfunctions
