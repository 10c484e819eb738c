#include "services/lambda/async_invoker.h"

#include <algorithm>
#include <atomic>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/lambda/function_name.h"
#include "trace/context.h"

namespace stratus::services::lambda {

namespace {

constexpr size_t kMaxInflight = 64;
// The first lease covers resolving the target; it is extended to the function's timeout.
constexpr int64_t kInitialLeaseMs = 30'000;
constexpr int64_t kLeaseMarginMs = 20'000;
constexpr int64_t kIdleWaitMs = 1'000;
constexpr int kDefaultMaxRetries = 2;
constexpr int64_t kDefaultMaxAgeSeconds = 6 * 60 * 60;
// AWS waits about 1 and 2 minutes between retries; stratus keeps the doubling but starts at a
// second so development loops stay short (docs/lambda.md).
constexpr int64_t kRetryBaseMs = 1'000;
constexpr int64_t kThrottleBaseMs = 500;
constexpr int64_t kThrottleMaxMs = 5'000;

std::string DestinationTime(int64_t ms) { return FormatIso8601(static_cast<double>(ms) / 1000.0, true); }

}  // namespace

int64_t AsyncInvoker::RetryDelayMs(int retry) { return kRetryBaseMs << std::clamp(retry - 1, 0, 10); }
int64_t AsyncInvoker::ThrottleDelayMs(int throttles) {
  return std::min(kThrottleMaxMs, kThrottleBaseMs << std::clamp(throttles - 1, 0, 10));
}

struct AsyncInvoker::Impl : std::enable_shared_from_this<AsyncInvoker::Impl> {
  Deps d;
  std::mutex mu;  // guards inflight, stopping
  std::condition_variable cv;
  size_t inflight = 0;
  bool stopping = false;
  bool notified = false;
  std::thread thread;
  std::unique_ptr<store::Store::Watch> watch;

  explicit Impl(Deps deps) : d(std::move(deps)) {}

  void Loop() {
    while (true) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return stopping || inflight < kMaxInflight; });
        if (stopping) return;
      }
      size_t slots;
      {
        std::lock_guard lock(mu);
        slots = kMaxInflight - inflight;
      }
      int64_t now = d.clock.NowMillis();
      auto items = d.store.Lease(kAsyncQueue, slots, now, kInitialLeaseMs);
      if (!items.ok()) {
        spdlog::warn("lambda: cannot lease async events: {}", items.error().message);
      }
      if (!items.ok() || items->empty()) {
        int64_t wait = kIdleWaitMs;
        auto next = d.store.NextVisibleAt(kAsyncQueue);
        if (next.ok() && *next) wait = std::clamp<int64_t>(**next - d.clock.NowMillis(), 5, kIdleWaitMs);
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stopping || notified; });
        notified = false;
        if (stopping) return;
        continue;
      }
      for (auto& item : *items) {
        {
          std::lock_guard lock(mu);
          ++inflight;
        }
        Run(std::move(item));
      }
    }
  }

  void Done() {
    {
      std::lock_guard lock(mu);
      --inflight;
    }
    cv.notify_all();
  }

  void Run(store::QueueItem item) {
    Json ev = ParseJsonOrDiscarded(item.payload);
    if (!ev.is_object()) {
      spdlog::error("lambda: dropping a corrupt async event {}", item.id);
      (void)d.store.Ack(item.id, item.lease_token);
      Done();
      return;
    }
    Scope scope{ev.value("account", ""), ev.value("region", "")};
    FunctionRef ref{ev.value("name", ""), ev.value("qualifier", ""), {}, {}};
    auto target = d.registry.Resolve(scope, ref);
    if (!target.ok()) {
      spdlog::warn("lambda: dropping async event {} for {}: {}", ev.value("request_id", ""),
                   ref.name, target.error().message);
      (void)d.store.Ack(item.id, item.lease_token);
      Done();
      return;
    }
    int64_t now = d.clock.NowMillis();
    // Hold the lease for as long as the function may run.
    int64_t lease_until = now + int64_t{target->spec->timeout_s} * 1000 + kLeaseMarginMs;
    (void)d.store.Release(item.id, item.lease_token, lease_until);

    InvokeRequest req;
    req.request_id = ev.value("request_id", NewUuid());
    req.payload = ev.value("payload", "{}");
    req.invoked_arn = target->invoked_arn;
    std::string th = ev.value("trace", "");
    req.trace = trace::BeginHop(th.empty() ? std::nullopt : std::optional<std::string_view>(th),
                                now / 1000);
    auto self = shared_from_this();
    std::string executed = target->executed_version;
    d.executor.Invoke(target->spec, std::move(req),
                      [self, item = std::move(item), ev = std::move(ev), executed](
                          Result<InvokeOutcome> r) mutable {
                        // Completions arrive on io threads; the follow-up writes block.
                        self->d.workers.Submit([self, item = std::move(item), ev = std::move(ev),
                                                executed, r = std::move(r)]() mutable {
                          self->Finish(item, ev, executed, std::move(r));
                          self->Done();
                        });
                      });
  }

  void Finish(const store::QueueItem& item, Json& ev, const std::string& executed,
              Result<InvokeOutcome> r) {
    Scope scope{ev.value("account", ""), ev.value("region", "")};
    std::string name = ev.value("name", "");
    std::string qualifier = ev.value("qualifier", "");
    Json cfg = d.registry.EventInvokeConfigFor(scope, name, qualifier);
    int max_retries = cfg.is_object() ? cfg.value("MaximumRetryAttempts", kDefaultMaxRetries) : kDefaultMaxRetries;
    int64_t max_age = cfg.is_object() ? cfg.value("MaximumEventAgeInSeconds", kDefaultMaxAgeSeconds)
                                      : kDefaultMaxAgeSeconds;
    int64_t now = d.clock.NowMillis();
    bool too_old = now - ev.value("enqueued_ms", now) > max_age * 1000;
    int retries = ev.value("retries", 0);

    if (!r.ok() && r.error().code == "ServiceException" &&
        r.error().message.find("shutting down") != std::string::npos) {
      // Not the function's fault: run it again after the restart.
      (void)d.store.Release(item.id, item.lease_token, now);
      return;
    }
    if (!r.ok() && r.error().code == "TooManyRequestsException" && !too_old) {
      int throttles = ev.value("throttles", 0) + 1;
      ev["throttles"] = throttles;
      (void)d.store.Release(item.id, item.lease_token, now + AsyncInvoker::ThrottleDelayMs(throttles),
                            DumpJson(ev));
      return;
    }
    bool failed = !r.ok() || !r->function_error.empty();
    if (failed && !too_old && retries < max_retries) {
      ev["retries"] = retries + 1;
      (void)d.store.Release(item.id, item.lease_token, now + AsyncInvoker::RetryDelayMs(retries + 1),
                            DumpJson(ev));
      spdlog::info("lambda: async invocation {} of {} failed; retry {} of {}",
                   ev.value("request_id", ""), name, retries + 1, max_retries);
      return;
    }
    std::string condition = !failed ? "Success" : (too_old ? "EventAgeExceeded" : "RetriesExhausted");
    std::string destination;
    if (cfg.is_object() && cfg.contains("DestinationConfig")) {
      const Json& dc = cfg["DestinationConfig"];
      const char* key = failed ? "OnFailure" : "OnSuccess";
      if (dc.contains(key) && dc[key].is_object()) destination = dc[key].value("Destination", "");
    }
    if (!destination.empty()) {
      Json record{{"version", "1.0"},
                  {"timestamp", DestinationTime(now)},
                  {"requestContext", Json{{"requestId", ev.value("request_id", "")},
                                          {"functionArn", FunctionArn(scope.region, scope.account, name,
                                                                      qualifier.empty() ? "$LATEST" : qualifier)},
                                          {"condition", condition},
                                          {"approximateInvokeCount", retries + 1}}},
                  {"requestPayload", ParseJsonOrDiscarded(ev.value("payload", "null"))},
                  {"responseContext", Json{{"statusCode", 200}, {"executedVersion", executed}}}};
      if (record["requestPayload"].is_discarded()) record["requestPayload"] = ev.value("payload", "");
      if (r.ok()) {
        if (!r->function_error.empty()) record["responseContext"]["functionError"] = r->function_error;
        Json body = ParseJsonOrDiscarded(r->payload);
        record["responsePayload"] = body.is_discarded() ? Json(r->payload) : body;
      } else {
        record["responseContext"]["functionError"] = "Unhandled";
        record["responsePayload"] = Json{{"errorType", r.error().code}, {"errorMessage", r.error().message}};
      }
      Deliver(scope, destination, DumpJson(record), ev, "destination");
    }
    if (failed) {
      std::string dlq = d.registry.DeadLetterTarget(scope, name, executed);
      if (!dlq.empty()) Deliver(scope, dlq, ev.value("payload", ""), ev, "dead-letter queue");
      if (destination.empty() && dlq.empty()) {
        spdlog::info("lambda: async invocation {} of {} failed ({}); no destination or DLQ",
                     ev.value("request_id", ""), name, condition);
      }
    }
    auto acked = d.store.Ack(item.id, item.lease_token);
    if (!acked.ok() || !*acked) {
      spdlog::warn("lambda: async event {} lost its lease before it was acknowledged",
                   ev.value("request_id", ""));
    }
  }

  // Delivers `body` to an SQS queue, SNS topic or Lambda function ARN.
  void Deliver(const Scope& scope, const std::string& arn, const std::string& body, const Json& ev,
               std::string_view what) {
    auto parts = Split(arn, ':');
    if (parts.size() < 6 || !d.clients.operations) {
      spdlog::error("lambda: cannot deliver to {} {}: invalid ARN", what, arn);
      return;
    }
    const std::string& service = parts[2];
    aws::InternalCall call;
    call.service = service;
    call.account = parts[4].empty() ? scope.account : parts[4];
    call.region = parts[3].empty() ? scope.region : parts[3];
    call.principal_arn = "lambda.amazonaws.com";
    if (service == "sqs") {
      call.operation = "SendMessage";
      std::string base = d.external_url ? d.external_url() : "http://localhost:4566";
      call.input = Json{{"QueueUrl", base + "/" + parts[4] + "/" + parts[5]}, {"MessageBody", body}};
      if (what == "dead-letter queue") {
        call.input["MessageAttributes"] = Json{
            {"RequestID", Json{{"DataType", "String"}, {"StringValue", ev.value("request_id", "")}}},
            {"ErrorCode", Json{{"DataType", "Number"}, {"StringValue", "200"}}}};
      }
    } else if (service == "sns") {
      call.operation = "Publish";
      call.input = Json{{"TopicArn", arn}, {"Message", body}};
    } else if (service == "lambda") {
      call.operation = "Invoke";
      call.input = Json{{"FunctionName", arn}, {"InvocationType", "Event"}};
      call.payload = body;
    } else {
      spdlog::error("lambda: cannot deliver to {} {}: unsupported service {}", what, arn, service);
      return;
    }
    aws::OperationResult r = d.clients.operations->CallAndWait(std::move(call));
    if (!r.ok()) {
      if (r.error().code == "UnknownOperationException") {
        spdlog::error("lambda: cannot deliver async result of {} to {} {}: the {} service is not "
                      "available in this stratus ({})",
                      ev.value("request_id", ""), what, arn, service, r.error().message);
      } else {
        spdlog::error("lambda: delivering async result of {} to {} {} failed: {} {}",
                      ev.value("request_id", ""), what, arn, r.error().code, r.error().message);
      }
    }
  }
};

AsyncInvoker::AsyncInvoker(Deps deps) : impl_(std::make_shared<Impl>(std::move(deps))) {}

AsyncInvoker::~AsyncInvoker() { Stop(); }

Status AsyncInvoker::Enqueue(const AsyncEvent& e) {
  Json item{{"account", e.scope.account},
            {"region", e.scope.region},
            {"name", e.function_name},
            {"qualifier", e.qualifier},
            {"payload", e.payload},
            {"request_id", e.request_id},
            {"trace", e.trace_header},
            {"enqueued_ms", impl_->d.clock.NowMillis()},
            {"retries", 0}};
  std::string body = DumpJson(item);
  return impl_->d.store.Write([&](store::WriteTxn& txn) -> Status {
    auto id = txn.Enqueue(kAsyncQueue, body);
    if (!id.ok()) return id.error();
    txn.Notify(kAsyncQueue);
    return Status::Ok();
  });
}

void AsyncInvoker::Start() {
  Impl& d = *impl_;
  std::weak_ptr<Impl> weak = impl_;
  d.watch = d.d.store.Subscribe(std::string(kAsyncQueue), [weak] {
    if (auto self = weak.lock()) {
      {
        std::lock_guard lock(self->mu);
        self->notified = true;
      }
      self->cv.notify_all();
    }
  });
  d.thread = std::thread([&d] { d.Loop(); });
}

void AsyncInvoker::Stop() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    d.stopping = true;
  }
  d.cv.notify_all();
  if (d.thread.joinable()) d.thread.join();
  d.watch.reset();
}

}  // namespace stratus::services::lambda
