#pragma once
// The service framework: what a service (one folder under src/services/) is, what it receives
// from the server, and how its operations are registered.
//
// A service is constructed with a ServiceContext (its dependencies: store, clock, config, worker
// pool, metrics, tracing, and the in-process clients of other services) and registers one
// handler per AWS operation of its model (STYLE.md rule 9). The front door decodes a request
// into canonical JSON (aws/protocol/codec.h), validates it against the model, runs the handler and
// encodes the result; a handler never sees protocol details.
//
// Handlers run in one of three modes:
//   kInline — on the network io thread; only for work that never blocks (no store writes).
//   kWorker — on the worker pool (default): may block on the store, may take milliseconds.
//   kAsync  — started on the worker pool, answers later through a Completion from any thread
//             (long polls, function invokes).
//   kAsyncInline — as kAsync, but started on the network io thread: for handlers whose start
//             never blocks (no store writes; hand blocking work to the worker pool), saving a
//             thread hop on hot paths (warm function invokes).
//
// Thread-safety: handlers are called concurrently from many threads; a service guards its own
// shared state.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aws/protocol/codec.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/http.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/result.h"
#include "core/worker_pool.h"
#include "trace/context.h"

namespace stratus::store {
class Store;
}
namespace stratus::trace {
class Recorder;
}

namespace stratus::aws {

struct SigV4Claim;
class Authorizer;

// Who is calling, as established by the front door from the request's credentials.
struct Caller {
  std::string access_key_id;
  std::string account_id;      // 12 digits
  std::string arn;             // "arn:aws:iam::000000000000:root" unless IAM says otherwise
  std::string user_id;         // the principal's unique id (AWS: AIDA..., or the account id for root)
  std::string session_token;
  bool anonymous = false;      // no credentials at all
};

// Everything a handler may need about the request it serves. Owned by the front door for the
// duration of the call (kAsync handlers receive it as a shared_ptr they may keep).
struct CallContext {
  std::string request_id;
  std::string service;         // the service's name ("logs")
  std::string region;
  Caller caller;
  trace::TraceContext trace;   // this hop's place in its trace
  std::string trace_header;    // the X-Amzn-Trace-Id to pass downstream (and echoed)
  const Operation* operation = nullptr;
  HttpRequest http;            // method, target, headers, remote address (body moved out)
  std::string payload;         // raw bytes of a blob payload member, if the operation has one
  // Set only by an InternalCall whose caller wrote `payload` as JSON text itself (see
  // InternalCall::payload_is_json); false for every HTTP request.
  bool payload_is_json = false;
  int64_t now_ms = 0;          // when the request arrived (wall clock)
};

using OperationResult = Result<OperationOutput>;
using Completion = std::function<void(OperationResult)>;

// Appends log lines to CloudWatch Logs from inside stratus (function logs), creating the group
// and stream when missing. Implemented by the logs service. Thread-safe; blocks until durable.
class LogSink {
 public:
  struct Event {
    int64_t timestamp_ms = 0;
    std::string message;
  };
  virtual ~LogSink() = default;
  virtual Status Append(const std::string& account, const std::string& region,
                        const std::string& group, const std::string& stream,
                        const std::vector<Event>& events) = 0;

  // One stream's lines, for AppendMany.
  struct StreamEvents {
    std::string account;
    std::string region;
    std::string group;
    std::string stream;
    std::vector<Event> events;
  };
  // Appends the lines of several streams, each entry as Append would, and returns one status per
  // entry in order. An implementation may make them durable in one write (a background shipper
  // flushing many function instances' streams at once); the default calls Append for each.
  virtual std::vector<Status> AppendMany(const std::vector<StreamEvents>& batches) {
    std::vector<Status> out;
    out.reserve(batches.size());
    for (const auto& b : batches) {
      out.push_back(Append(b.account, b.region, b.group, b.stream, b.events));
    }
    return out;
  }
};

// An in-process call of any operation of any registered service: the services' common way of
// reaching each other (SNS delivering to SQS or Lambda, API Gateway and Step Functions service
// integrations, Lambda destinations). It runs like a request minus HTTP: the input is canonical
// JSON validated against the model, the handler runs in its mode, the output comes back.
struct InternalCall {
  std::string service;        // "sqs"
  std::string operation;      // "SendMessage"
  Json input = Json::object();
  std::string payload;        // raw bytes of a blob payload member (Lambda Invoke's Payload)
  std::string account;        // the account acted in
  std::string region;
  // Who calls: a role or user ARN acting through the service, or a service principal such as
  // "sns.amazonaws.com"; IAM evaluates it once enforcement is on.
  std::string principal_arn;
  trace::TraceContext trace;  // the caller's context; the callee records a child segment
  // The caller produced `payload` with a JSON writer and vouches that it is well-formed JSON,
  // so a handler that must refuse malformed payloads (Lambda's Invoke) may skip re-checking it.
  // Leave false for bytes that came from elsewhere (a user's body, a mapping template).
  bool payload_is_json = false;
};

class OperationCaller {
 public:
  virtual ~OperationCaller() = default;
  // Completes `done` exactly once, from any thread, possibly before returning. Unknown services
  // or operations complete with an error (UnknownOperationException / NotImplemented).
  virtual void Call(InternalCall call, Completion done) = 0;
  // Blocks until the call completes. Never call it from a network io thread. On a WorkerPool
  // thread the wait is a WorkerPool::BlockingScope, so waiting callers never starve the pool.
  OperationResult CallAndWait(InternalCall call);
};

// Puts messages straight into SQS queues from another service in this process (SNS delivering
// to its sqs subscriptions): what SendMessageBatch does — the same checks, MD5s, FIFO
// deduplication, durability before the answer and wake-up of waiting long polls — without a
// JSON request and answer. Implemented by the SQS service, which publishes it in
// ServiceClients::queues once it has started. It does not authorize: a caller that must honour
// queue policies (IAM enforcement on) goes through OperationCaller instead. Thread-safe.
class QueueSink {
 public:
  struct Message {
    std::string body;
    Json attributes = Json::object();  // message attributes, canonical JSON (may be empty)
    std::string group_id;              // FIFO queues: MessageGroupId
    std::string deduplication_id;      // FIFO queues: MessageDeduplicationId (or content-based)
  };
  struct Batch {
    std::string queue_arn;      // "arn:aws:sqs:<region>:<account>:<name>"
    // Who sends: a service principal ("sns.amazonaws.com") or a role/user ARN; it decides the
    // messages' SenderId.
    std::string principal_arn;
    // The caller's hop: the queue records one child segment for the batch, whose downstream
    // header becomes every message's AWSTraceHeader.
    trace::TraceContext trace;
    std::vector<Message> messages;  // any number; one store write per call
  };
  virtual ~QueueSink() = default;
  // Completes `done` exactly once, from any thread (before returning when nothing was written,
  // else from the store's writer thread after the commit), with one Status per message in
  // order: Ok once the message is durable (or, FIFO, deduplicated into one that is), else the
  // error SendMessageBatch gives for that entry; a missing queue fails every message with
  // QueueDoesNotExist. `done` must be quick and must not call Store::Write.
  virtual void Send(Batch batch, std::function<void(std::vector<Status>)> done) = 0;
};

// Extra listening sockets on the server (one per function instance's Runtime API, as AWS gives
// each sandbox its own endpoint). Requests arriving on one carry its tag in
// HttpRequest::listener_tag; a service takes them in its data plane. Thread-safe.
class ListenerRegistry {
 public:
  virtual ~ListenerRegistry() = default;
  // Opens 127.0.0.1:<ephemeral> for `tag` (non-zero, unique); returns the port.
  virtual Result<uint16_t> Open(uint64_t tag) = 0;
  virtual void Close(uint64_t tag) = 0;
};

// In-process interfaces through which services reach each other (DESIGN.md: never over HTTP to
// themselves). Set during start-up only, read-only afterwards; a null pointer means the provider
// is not built in, and callers must answer with a clear error.
struct ServiceClients {
  LogSink* logs = nullptr;               // the logs service
  OperationCaller* operations = nullptr; // the front door
  Authorizer* authorizer = nullptr;      // IAM (aws/framework/authorizer.h); null: no identity checks
  // The SQS service's direct enqueue, set once SQS has started (it is built and started on first
  // use, so it may appear while others read it; until then callers use `operations`).
  std::atomic<QueueSink*> queues{nullptr};
};

// A service's dependencies (STYLE.md rule 7). References outlive every service.
struct ServiceContext {
  store::Store& store;
  const Clock& clock;
  const Config& config;
  WorkerPool& workers;
  Metrics& metrics;
  trace::Recorder& tracer;
  ServiceClients& clients;
  // The URL functions and callbacks use to reach this server; valid after the server listens.
  std::function<std::string()> external_url;
  // Extra listeners on the server; usable from Service::Start on.
  ListenerRegistry& listeners;
};

enum class Mode { kInline, kWorker, kAsync, kAsyncInline };

class Service {
 public:
  struct Descriptor {
    std::string name;            // short name used in logs, metrics, health ("logs")
    std::string model;           // embedded model name ("logs-2014-03-28")
    // Routing keys, declared here so that routing needs no model: the model loads on the first
    // request that reaches the service (a test checks these against the model's metadata).
    Protocol protocol = Protocol::kJson;
    std::string target_prefix;   // json protocols: X-Amz-Target prefix ("Logs_20140328")
    std::string signing_name;    // SigV4 credential-scope service ("logs")
    // rest protocols: path prefixes that identify this service's operations ("/2015-03-31/").
    // An empty list with a rest protocol makes the service the fallback for unclaimed paths.
    std::vector<std::string> path_prefixes;
    // Extra protocols this service also speaks besides its model's (SQS: query as well as json).
    std::vector<Protocol> extra_protocols;
    // The error code AWS uses for input constraint violations in this service.
    std::string validation_error = "ValidationException";
    // Extra SigV4 signing names routed here besides the model's own.
    std::vector<std::string> signing_names;
  };

  struct Handler {
    Mode mode = Mode::kWorker;
    std::function<OperationResult(CallContext&, const Json&)> sync;
    std::function<void(std::shared_ptr<CallContext>, Json, Completion)> async;
  };

  explicit Service(Descriptor descriptor) : descriptor_(std::move(descriptor)) {}
  virtual ~Service() = default;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const Descriptor& descriptor() const { return descriptor_; }
  const Handler* FindHandler(std::string_view operation) const;
  std::vector<std::string> HandledOperations() const;

  // Starts background work (sweepers, consumers). Called at most once: at boot when the service
  // has durable pending work, else on its first use (FrontDoor::StartServices); never after
  // shutdown began. A service never started is never stopped.
  virtual Status Start() { return Status::Ok(); }
  // The server is shutting down and drains the requests in flight: end waits that would
  // otherwise hold the drain up (answer long polls now, with what they have). Called once, from
  // the signal thread, while requests may still run; new requests may still arrive until the
  // drain ends. Stop() follows after the drain.
  virtual void Quiesce() {}
  // Stops background work; called before the store closes.
  virtual void Stop() {}

  // A data plane is traffic that is not an AWS API call (a function's Runtime API, an
  // execute-api endpoint, a function URL). The front door offers every request to each service's
  // data plane before AWS routing; return true to take it.
  virtual bool MatchDataPlane(const HttpRequest& request) const { return false; }
  virtual void HandleDataPlane(HttpRequest request, Responder responder) {}

  // Routing by what the routing keys cannot see. Offered every AWS API request that carries no
  // X-Amz-Target, before routing by signature scope, Action or path: return true to take it
  // (S3: a bucket named in the Host, "bucket.s3.localhost"). Runs on an io thread; must not
  // block.
  virtual bool ClaimsRequest(const HttpRequest& request) const { return false; }
  // Called for every API request routed to this service, before its codec resolves the
  // operation, with the request's SigV4 claim (null when anonymous) and the arrival time. The
  // service may rewrite the request into the form its model describes (S3: a virtual-hosted
  // bucket moves into the path, an aws-chunked body is decoded and its trailers become headers)
  // or refuse it with an error, which the codec encodes. Runs on an io thread; must not block.
  // A rewrite changes what a later signature verification sees: the front door keeps no copy.
  virtual Status PrepareRequest(HttpRequest& request, const SigV4Claim* claim,
                                int64_t now_ms) const {
    return Status::Ok();
  }
  // Offered the headers of a large API request routed to this service, before its body is
  // read (see HttpHandler::OpenBodySink): return a sink to receive the body as it arrives, which
  // the handler then finds in CallContext::http.streamed_body (the payload is empty), or null to
  // have the body collected in memory as usual. PrepareRequest still runs on the (bodiless)
  // request. Runs on an io thread; must not block.
  virtual std::shared_ptr<BodySink> OpenBodySink(const HttpRequest& head,
                                                 const SigV4Claim* claim) {
    return nullptr;
  }

 protected:
  // Registers a handler returning the output structure as JSON.
  void On(std::string operation, std::function<Result<Json>(CallContext&, const Json&)> fn,
          Mode mode = Mode::kWorker);
  // Registers a handler returning a full OperationOutput (payloads, extra headers, status).
  void OnOutput(std::string operation,
                std::function<OperationResult(CallContext&, const Json&)> fn,
                Mode mode = Mode::kWorker);
  // Registers an asynchronous handler (kAsync, or kAsyncInline).
  void OnAsync(std::string operation,
               std::function<void(std::shared_ptr<CallContext>, Json, Completion)> fn,
               Mode mode = Mode::kAsync);

 private:
  Descriptor descriptor_;
  std::unordered_map<std::string, Handler> handlers_;
};

// Helpers for handlers reading canonical JSON input.
// The string member `name` of `input`, or `fallback` when absent.
std::string GetString(const Json& input, std::string_view name, std::string_view fallback = {});
// The integer member `name`, or `fallback`.
int64_t GetInt(const Json& input, std::string_view name, int64_t fallback = 0);
bool GetBool(const Json& input, std::string_view name, bool fallback = false);
// True when `input` has member `name` (present, not null).
bool Has(const Json& input, std::string_view name);

}  // namespace stratus::aws
