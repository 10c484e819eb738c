#pragma once
// Asynchronous (Event) invocations: a durable store queue, so queued events survive a crash or
// kill -9, and a dispatcher that runs them with Lambda's retry semantics:
//
//  * Enqueue commits the event before the caller gets its 202.
//  * The dispatcher leases events (the lease covers the function's timeout; a node that dies
//    mid-run leaves the event to be retried when the lease expires: at-least-once, as AWS).
//  * A function error is retried MaximumRetryAttempts times (default 2) with backoff;
//    throttling is retried without counting until MaximumEventAgeInSeconds (default 6 h).
//  * The outcome goes to the OnSuccess / OnFailure destination of the event invoke config, and
//    a failed event to the function's DeadLetterConfig target, through the OperationCaller
//    ("sqs" SendMessage, "sns" Publish, "lambda" Invoke). A destination whose service is not
//    built in is an explicit, logged failure.
//
// Thread-safe.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "aws/framework/service.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/worker_pool.h"
#include "services/lambda/executor.h"
#include "services/lambda/registry.h"
#include "store/store.h"

namespace stratus::services::lambda {

inline constexpr std::string_view kAsyncQueue = "lambda/async";

struct AsyncEvent {
  Scope scope;
  std::string function_name;
  std::string qualifier;
  std::string payload;
  std::string request_id;
  std::string trace_header;  // the caller's X-Amzn-Trace-Id, continued by the invocation
};

class AsyncInvoker {
 public:
  struct Deps {
    store::Store& store;
    const Clock& clock;
    WorkerPool& workers;
    Registry& registry;
    Executor& executor;
    aws::ServiceClients& clients;
    std::function<std::string()> external_url;
  };
  explicit AsyncInvoker(Deps deps);
  ~AsyncInvoker();
  AsyncInvoker(const AsyncInvoker&) = delete;
  AsyncInvoker& operator=(const AsyncInvoker&) = delete;

  // Durably queues an event. Blocks until committed (call from a worker thread).
  Status Enqueue(const AsyncEvent& event);

  void Start();
  void Stop();

  // Backoff before the n-th retry of a failed invocation (n = 1, 2), and after a throttle.
  static int64_t RetryDelayMs(int retry);
  static int64_t ThrottleDelayMs(int throttles);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace stratus::services::lambda
