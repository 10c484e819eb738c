#pragma once
// The Executor runs invocations on function instances: OS processes in a sandbox
// (sandbox.h) that fetch work through their own Runtime API endpoint.
//
//  * Each instance gets a listener of its own (ListenerRegistry); AWS_LAMBDA_RUNTIME_API points
//    at it. Its requests reach HandleRuntimeApi (from the service's data plane, on io threads):
//    `next` is a long poll that holds no thread (the Responder is kept and answered when work
//    arrives), `response`/`error` complete the invocation, `init/error` fails the instance.
//  * Instances are reused warm for invocations of the same function version and revision, one
//    invocation at a time; a new one starts when none is free, within the function's reserved
//    concurrency and the account's limit (else TooManyRequestsException, with AWS's reasons).
//  * A supervisor thread reads every instance's stdout/stderr (lines become log events, tied
//    to the invocation running), notices exits (pidfd), enforces timeouts ("Task timed out
//    after N.NN seconds"), the init timeout and MemorySize (resident set polling; exceeding it
//    ends the instance with Runtime.OutOfMemory), and reaps instances idle too long. It and
//    the spawner threads start with the first instance: an executor never invoked holds none.
//  * Each invocation is logged to /aws/lambda/<name> with START, END and REPORT lines and
//    recorded as a trace segment.
//
// Thread-safe. Invoke never blocks on the function; it may block briefly when it starts an
// instance (fork/exec), so call it from a worker thread, not an io thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "aws/framework/service.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/result.h"
#include "services/lambda/code_cache.h"
#include "services/lambda/function_spec.h"
#include "services/lambda/log_shipper.h"
#include "services/lambda/runtimes.h"
#include "services/lambda/sandbox.h"
#include "trace/context.h"
#include "trace/recorder.h"

namespace stratus::services::lambda {

struct InvokeRequest {
  std::string request_id;
  std::string payload;
  std::string invoked_arn;       // the ARN the caller used (qualified when it named one)
  trace::TraceContext trace;     // the function's hop; its segment is recorded here
  std::string client_context;    // decoded JSON, for Lambda-Runtime-Client-Context
  std::string cognito_identity;  // JSON, for Lambda-Runtime-Cognito-Identity
  bool tail = false;             // collect the last 4 KB of the log
};

struct InvokeOutcome {
  std::string payload;
  std::string function_error;  // "" or "Unhandled"
  std::string log_tail;        // raw (not base64) last 4 KB of the log, when asked for
};

using InvokeDone = std::function<void(Result<InvokeOutcome>)>;

struct ExecutorOptions {
  SandboxOptions sandbox;
  std::string runtime_dir;   // where the bootstraps were written (host path)
  std::string scratch_dir;   // per-instance /tmp without isolation (host path)
  Interpreters interpreters;
  std::function<std::string()> endpoint_url;  // AWS_ENDPOINT_URL for functions
  // The execution role's temporary credentials for a new instance's environment (set under IAM
  // enforcement: STS AssumeRole as lambda.amazonaws.com). Called on a spawner thread; may block.
  // Null, or an error: the placeholder credentials whose 12-digit key id names the account.
  struct RoleCredentials {
    std::string access_key_id, secret_access_key, session_token;
  };
  std::function<Result<RoleCredentials>(const FunctionSpec&)> role_credentials;
  int64_t idle_timeout_ms = 10 * 60 * 1000;
  int64_t init_timeout_ms = 10'000;
  int account_concurrency = 1000;
  uint32_t first_uid = 990'000;
};

class Executor {
 public:
  Executor(ExecutorOptions options, const Clock& clock, aws::ListenerRegistry& listeners,
           trace::Recorder& tracer, LogShipper& logs, CodeCache& code);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  Status Start();
  // Kills every instance and fails invocations in flight (ServiceException). Idempotent.
  void Stop();

  // Runs one invocation; `done` is called exactly once, from any thread. API-level failures
  // (throttling, a code package that cannot be prepared) are errors; everything the function
  // does wrong (exceptions, crashes, timeouts) is an outcome with function_error set.
  void Invoke(std::shared_ptr<const FunctionSpec> spec, InvokeRequest request, InvokeDone done);

  // The Runtime API of one instance (a request that arrived on an instance's listener).
  void HandleRuntimeApi(HttpRequest request, Responder responder);
  // True when `tag` is one of this executor's listener tags.
  static bool IsInstanceTag(uint64_t tag);

  // Ends instances of function account/region/name whose revision is not `keep_revision`
  // ("" = all): idle ones now, busy ones when their invocation ends.
  void Retire(const std::string& function_key, const std::string& keep_revision);
  // The server is draining: ends every idle instance now (its parked `next` with it) and every
  // busy one when its invocation ends, so no runtime's long poll holds the drain up.
  void Quiesce();

  // Invocations running now for a function (reserved-concurrency accounting) and in total.
  int Running(const std::string& function_key) const;
  // Instances alive (tests).
  size_t InstanceCountForTest() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::services::lambda
