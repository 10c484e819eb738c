#pragma once
// Event source mappings: Lambda polls a source (an SQS queue or a DynamoDB stream; Kinesis
// later) and invokes a function with batches of its records.
//
// The framework (EventSources) owns the mappings (CreateEventSourceMapping & co., stored in
// store::Store under lambda/esm/<uuid>) and runs pollers for the enabled ones: one poller to
// start, another when a batch comes back full (up to ScalingConfig.MaximumConcurrency, default
// kDefaultMaxPollers), one fewer when a poll comes back empty. A poller asks its source for a
// batch, invokes the function synchronously through the Executor, and tells the source the
// outcome (delete what succeeded, leave the rest to come back).
//
// A source is one class implementing EventSource (esm_sqs.cc, esm_dynamodb.cc); adding one is
// one file plus a line in MakeSource. A queue source deletes what succeeded; a stream source
// keeps the shard's order itself: it hands out the same batch again until it succeeds (or its
// retries run out), and keeps its checkpoint in the store under lambda/esm-cp/<uuid>.
//
// FilterCriteria (event_filter.h) is applied by the framework: records that match no filter are
// left out of the invocation and settled as successes (a queue deletes them, a stream moves
// past them); a batch with no matching record is settled without invoking the function.
//
// Thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/framework/service.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/worker_pool.h"
#include "services/lambda/event_filter.h"
#include "services/lambda/executor.h"
#include "services/lambda/registry.h"
#include "store/store.h"

namespace stratus::services::lambda {

inline constexpr int kDefaultMaxPollers = 5;

// One batch of records read from a source, and what the poller needs to settle it.
struct SourceBatch {
  Json records = Json::array();          // the event's "Records"
  std::vector<std::string> ids;          // the record ids itemIdentifier refers to
  std::vector<std::string> receipts;     // per record: what settles it with the source
  bool full = false;                     // as many records as asked for
};

// How an invocation of a batch ended.
struct BatchOutcome {
  bool function_failed = false;          // an error (exception, timeout, throttle)
  std::vector<std::string> failed_ids;   // ReportBatchItemFailures: records to retry
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  // Checks that the source exists and is usable (CreateEventSourceMapping).
  virtual Status Validate() = 0;
  // Reads up to `batch_size` records, waiting at most `window_ms` to fill the batch (and a
  // short long-poll when none are there). Blocking.
  virtual Result<SourceBatch> Poll(int batch_size, int64_t window_ms) = 0;
  // Settles a batch: deletes the records that succeeded; failed ones come back later.
  virtual void Finish(const SourceBatch& batch, const BatchOutcome& outcome) = 0;
  // How many pollers may run at once given the mapping's limit (a stream: one per shard).
  virtual int MaxPollers(int configured) const { return configured; }
  // The record as the mapping's FilterCriteria sees it (SQS: a JSON body parsed).
  virtual Json FilterView(const Json& record) const { return record; }
  virtual FilterOptions FilterOptionsFor() const { return {}; }
  // Whether a failed batch comes back whole and in order (a stream); otherwise (a queue) each
  // of its records comes back on its own, so records the filter dropped can be settled at once.
  virtual bool Ordered() const { return false; }
};

struct SourceContext {
  aws::OperationCaller* caller = nullptr;
  std::string account;
  std::string region;
  std::string arn;  // the source's ARN
  std::function<std::string()> external_url;
  store::Store* store = nullptr;  // for a stream source's checkpoint
  const Clock* clock = nullptr;
  Json config = Json::object();   // the mapping (UUID, StartingPosition, retries, destination)
};

// The region, owner account and resource (the sixth field) of a source ARN
// `arn:aws:<service>:<region>:<account>:<resource>`; an empty region or account is the mapping's
// own. All empty when the ARN has fewer than six fields.
struct SourceArn {
  std::string region, owner, resource;
};
SourceArn ParseSourceArn(const SourceContext& ctx);

// The source for an ARN, or an error naming what is not supported.
Result<std::unique_ptr<EventSource>> MakeSource(const SourceContext& ctx);
std::unique_ptr<EventSource> MakeSqsSource(const SourceContext& ctx);
std::unique_ptr<EventSource> MakeDynamoDbStreamSource(const SourceContext& ctx);
// The store key of a stream mapping's checkpoint (deleted with the mapping).
std::string CheckpointKey(const std::string& uuid);

// Parses a function's response to a batch for ReportBatchItemFailures.
BatchOutcome ParseBatchResponse(const std::string& payload, const SourceBatch& batch,
                                bool report_item_failures);

class EventSources {
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
  explicit EventSources(Deps deps);
  ~EventSources();
  EventSources(const EventSources&) = delete;
  EventSources& operator=(const EventSources&) = delete;

  // Starts the pollers of every enabled mapping in the store.
  void Start();
  void Stop();

  Result<Json> Create(const Scope& s, const Json& input);
  Result<Json> Get(const Scope& s, const std::string& uuid);
  Result<Json> Update(const Scope& s, const std::string& uuid, const Json& input);
  Result<Json> Delete(const Scope& s, const std::string& uuid);
  Result<Json> List(const Scope& s, const Json& input);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace stratus::services::lambda
