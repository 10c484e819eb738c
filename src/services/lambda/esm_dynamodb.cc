// The DynamoDB Streams event source: DescribeStream / GetShardIterator / GetRecords through the
// in-process OperationCaller against the "dynamodbstreams" service (never DynamoDB's store keys),
// records in the shape Lambda gives DynamoDB events.
//
// Order: one poller per mapping (MaxPollers), and a batch that fails is handed out again —
// bisected when BisectBatchOnFunctionError is on — until it succeeds or MaximumRetryAttempts /
// MaximumRecordAgeInSeconds give up on it (then its description goes to the OnFailure
// destination and the shard moves past it). Records behind a failing batch wait, as on AWS.
//
// Checkpoint: after every settled batch the last acknowledged SequenceNumber is written to the
// store (CheckpointKey), so a restart resumes AFTER_SEQUENCE_NUMBER it: nothing acknowledged is
// delivered again and nothing unacknowledged is lost. Before the first record, a LATEST mapping
// keeps the shard iterator it was created at (resolved when the mapping is created, so records
// written after CreateEventSourceMapping returns are delivered), refreshed while idle because
// iterators expire after 15 minutes.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/lambda/errors.h"
#include "services/lambda/event_sources.h"

namespace stratus::services::lambda {

namespace {

constexpr int64_t kIdleWaitMs = 1000;              // an empty poll returns after this
constexpr int64_t kMaxGetRecords = 1000;           // GetRecords' Limit ceiling
constexpr int64_t kIteratorRefreshMs = 60 * 1000;  // well inside the 15-minute iterator life
constexpr int64_t kRetryBackoffBaseMs = 100;
constexpr int64_t kRetryBackoffMaxMs = 2000;
// The store's notification topic for a stream's new records (dynamodb/streams.h's contract).
constexpr std::string_view kStreamTopicPrefix = "dynamodb/stream/";

class DynamoDbStreamSource final : public EventSource {
 public:
  explicit DynamoDbStreamSource(SourceContext ctx) : ctx_(std::move(ctx)) {
    SourceArn a = ParseSourceArn(ctx_);
    region_ = std::move(a.region);
    owner_ = std::move(a.owner);
    resource_ = std::move(a.resource);
    const Json& c = ctx_.config;
    uuid_ = c.value("UUID", "");
    starting_position_ = c.value("StartingPosition", "LATEST");
    max_retries_ = c.value("MaximumRetryAttempts", int64_t{-1});
    max_age_s_ = c.value("MaximumRecordAgeInSeconds", int64_t{-1});
    bisect_ = c.value("BisectBatchOnFunctionError", false);
    function_arn_ = c.value("FunctionArn", "");
    if (c.contains("DestinationConfig") && c["DestinationConfig"].contains("OnFailure")) {
      on_failure_ = c["DestinationConfig"]["OnFailure"].value("Destination", "");
    }
    if (ctx_.store) {
      watch_ = ctx_.store->Subscribe(std::string(kStreamTopicPrefix) + ctx_.arn, [this] {
        std::lock_guard lock(wake_mu_);
        ++wakes_;
        wake_cv_.notify_all();
      });
    }
  }

  ~DynamoDbStreamSource() override { watch_.reset(); }

  int MaxPollers(int) const override { return 1; }
  bool Ordered() const override { return true; }
  // Records carry DynamoDB JSON, whose numbers are strings ({"N": "12"}).
  FilterOptions FilterOptionsFor() const override { return FilterOptions{.numeric_strings = true}; }

  Status Validate() override {
    if (resource_.find("/stream/") == std::string::npos || !ctx_.store || !ctx_.clock) {
      return InvalidParameterValue("Invalid DynamoDB stream ARN: " + ctx_.arn);
    }
    std::lock_guard lock(mu_);
    auto d = Describe();
    if (!d.ok()) return d.error();
    if (d->value("StreamStatus", "") != "ENABLED") {
      return InvalidParameterValue("Stream " + ctx_.arn + " is not enabled.");
    }
    // A LATEST mapping starts where the stream is now, not where it is when the poller starts.
    STRATUS_ASSIGN_OR_RETURN(auto cp, LoadCheckpoint());
    if (cp.empty() && starting_position_ == "LATEST") {
      STRATUS_ASSIGN_OR_RETURN(std::string it, IteratorFor("LATEST", ""));
      STRATUS_RETURN_IF_ERROR(SaveIteratorCheckpoint(it));
    }
    return Status::Ok();
  }

  Result<SourceBatch> Poll(int batch_size, int64_t window_ms) override {
    std::lock_guard lock(mu_);
    if (attempts_ > 0) {
      int64_t backoff = std::min(kRetryBackoffMaxMs, kRetryBackoffBaseMs << std::min<int64_t>(attempts_, 5));
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(window_ms);
    bool waited_idle = false;
    while (static_cast<int>(pending_.size()) < batch_size && !closed_) {
      uint64_t seen = Wakes();
      STRATUS_ASSIGN_OR_RETURN(size_t got, Fetch(batch_size - static_cast<int>(pending_.size())));
      auto now = std::chrono::steady_clock::now();
      if (got > 0) {
        if (window_ms <= 0 || now >= deadline) break;
        continue;
      }
      if (!pending_.empty()) {
        if (window_ms <= 0 || now >= deadline) break;
        WaitForWrite(seen, std::min<int64_t>(kIdleWaitMs, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()));
        continue;
      }
      if (waited_idle) break;
      WaitForWrite(seen, kIdleWaitMs);
      waited_idle = true;
    }
    DropTooOld();
    SourceBatch batch;
    size_t n = std::min(pending_.size(), static_cast<size_t>(batch_size));
    if (limit_ > 0) n = std::min(n, limit_);
    for (size_t i = 0; i < n; ++i) {
      batch.records.push_back(pending_[i]);
      batch.ids.push_back(SequenceOf(pending_[i]));
    }
    batch.receipts = batch.ids;
    batch.full = static_cast<int>(n) >= batch_size;
    return batch;
  }

  void Finish(const SourceBatch& batch, const BatchOutcome& outcome) override {
    std::lock_guard lock(mu_);
    size_t n = batch.ids.size();
    if (n == 0 || n > pending_.size()) return;
    if (!outcome.function_failed && outcome.failed_ids.empty()) {
      Acknowledge(n);
      attempts_ = 0;
      limit_ = 0;
      return;
    }
    if (!outcome.function_failed) {
      // ReportBatchItemFailures: everything before the first failed record succeeded.
      size_t first = n;
      for (const auto& id : outcome.failed_ids) {
        auto it = std::find(batch.ids.begin(), batch.ids.end(), id);
        first = std::min(first, static_cast<size_t>(it - batch.ids.begin()));
      }
      if (first > 0) {
        Acknowledge(first);
        attempts_ = 0;
        limit_ = 0;
        return;
      }
    } else if (bisect_ && n > 1) {
      limit_ = (n + 1) / 2;  // splitting does not count against the retry quota
      return;
    }
    ++attempts_;
    if (max_retries_ >= 0 && attempts_ > max_retries_) {
      Discard(n, "RetryAttemptsExhausted", attempts_);
      attempts_ = 0;
      limit_ = 0;
    }
  }

 private:
  static std::string SequenceOf(const Json& record) {
    return record["dynamodb"].value("SequenceNumber", "");
  }

  uint64_t Wakes() {
    std::lock_guard lock(wake_mu_);
    return wakes_;
  }

  void WaitForWrite(uint64_t seen, int64_t ms) {
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(ms, 1)), [&] { return wakes_ != seen; });
  }

  Result<Json> Call(const std::string& service, const std::string& operation, Json input,
                    const std::string& account, const std::string& region) {
    if (!ctx_.caller) return ServiceError("No in-process service caller.");
    aws::InternalCall call;
    call.service = service;
    call.operation = operation;
    call.input = std::move(input);
    call.account = account;
    call.region = region;
    call.principal_arn = "lambda.amazonaws.com";
    auto r = ctx_.caller->CallAndWait(std::move(call));
    if (!r.ok()) {
      if (r.error().code == "UnknownOperationException") {
        return InvalidParameterValue("This event source needs the " + service +
                                     " service, which this stratus does not have (" + r.error().message + ")");
      }
      return r.error();
    }
    return std::move(r->body);
  }

  Result<Json> Streams(const std::string& operation, Json input) {
    return Call("dynamodbstreams", operation, std::move(input), owner_, region_);
  }

  // The stream's description; remembers its (one open) shard. Requires mu_.
  Result<Json> Describe() {
    auto r = Streams("DescribeStream", Json{{"StreamArn", ctx_.arn}});
    if (!r.ok()) {
      if (r.error().code == "ResourceNotFoundException") {
        return InvalidParameterValue("Stream not found: " + ctx_.arn);
      }
      return r.error();
    }
    Json d = (*r)["StreamDescription"];
    const Json shards = d.value("Shards", Json::array());
    if (shards.empty()) return InvalidParameterValue("Stream " + ctx_.arn + " has no shards.");
    shard_ = shards.back().value("ShardId", "");
    return d;
  }

  Result<std::string> IteratorFor(const std::string& type, const std::string& seq) {
    if (shard_.empty()) {
      auto d = Describe();
      if (!d.ok()) return d.error();
    }
    Json in{{"StreamArn", ctx_.arn}, {"ShardId", shard_}, {"ShardIteratorType", type}};
    if (!seq.empty()) in["SequenceNumber"] = seq;
    STRATUS_ASSIGN_OR_RETURN(Json r, Streams("GetShardIterator", std::move(in)));
    return r.value("ShardIterator", "");
  }

  Result<Json> LoadCheckpoint() {
    STRATUS_ASSIGN_OR_RETURN(auto raw, ctx_.store->Get(CheckpointKey(uuid_)));
    if (!raw) return Json::object();
    Json j = ParseJsonOrDiscarded(*raw);
    return j.is_object() ? j : Json::object();
  }

  Status SaveIteratorCheckpoint(const std::string& it) {
    iterator_saved_at_ = ctx_.clock->NowMillis();
    return ctx_.store->Put(CheckpointKey(uuid_), DumpJson(Json{{"iterator", it}}));
  }

  // Where reading resumes: after the last record read, else the checkpoint, else
  // StartingPosition. Requires mu_.
  Status ResolveIterator() {
    if (!last_read_.empty()) {
      STRATUS_ASSIGN_OR_RETURN(iterator_, IteratorFor("AFTER_SEQUENCE_NUMBER", last_read_));
      return Status::Ok();
    }
    STRATUS_ASSIGN_OR_RETURN(Json cp, LoadCheckpoint());
    if (cp.contains("seq")) {
      STRATUS_ASSIGN_OR_RETURN(iterator_, IteratorFor("AFTER_SEQUENCE_NUMBER", cp["seq"].get<std::string>()));
      return Status::Ok();
    }
    if (cp.contains("iterator")) {
      iterator_ = cp["iterator"].get<std::string>();
      iterator_from_checkpoint_ = true;
      return Status::Ok();
    }
    STRATUS_ASSIGN_OR_RETURN(iterator_, IteratorFor(starting_position_, ""));
    if (starting_position_ == "LATEST") STRATUS_RETURN_IF_ERROR(SaveIteratorCheckpoint(iterator_));
    return Status::Ok();
  }

  // Reads up to `want` records into pending_; returns how many. Requires mu_.
  Result<size_t> Fetch(int want) {
    if (iterator_.empty()) STRATUS_RETURN_IF_ERROR(ResolveIterator());
    auto r = Streams("GetRecords", Json{{"ShardIterator", iterator_},
                                        {"Limit", std::clamp<int64_t>(want, 1, kMaxGetRecords)}});
    if (!r.ok()) {
      if (r.error().code == "ExpiredIteratorException" && iterator_from_checkpoint_) {
        // Idle past the iterator's life with no record ever read: start again from now.
        spdlog::warn("lambda: event source mapping {}: its starting iterator expired; reading from LATEST", uuid_);
        (void)ctx_.store->Delete(CheckpointKey(uuid_));
        starting_position_ = "LATEST";
      }
      iterator_.clear();
      iterator_from_checkpoint_ = false;
      return r.error();
    }
    iterator_from_checkpoint_ = false;
    const Json records = r->value("Records", Json::array());
    for (const auto& rec : records) {
      Json e = rec;
      e["eventSourceARN"] = ctx_.arn;
      last_read_ = SequenceOf(e);
      pending_.push_back(std::move(e));
    }
    if (!r->contains("NextShardIterator")) {
      closed_ = true;  // the stream was disabled and this shard is drained
      iterator_.clear();
    } else {
      iterator_ = (*r)["NextShardIterator"].get<std::string>();
    }
    // Before any record is acknowledged, keep the stored starting iterator young.
    if (acked_.empty() && last_read_.empty() && !closed_ && starting_position_ == "LATEST" &&
        ctx_.clock->NowMillis() - iterator_saved_at_ > kIteratorRefreshMs) {
      (void)SaveIteratorCheckpoint(iterator_);
    }
    return records.size();
  }

  // Settles the first `k` pending records: the checkpoint moves past them. Requires mu_.
  void Acknowledge(size_t k) {
    acked_ = SequenceOf(pending_[k - 1]);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(k));
    auto st = ctx_.store->Put(CheckpointKey(uuid_), DumpJson(Json{{"seq", acked_}}));
    if (!st.ok()) {
      spdlog::warn("lambda: event source mapping {}: checkpoint not saved ({}); a restart repeats the batch",
                   uuid_, st.error().message);
    }
  }

  // Records older than MaximumRecordAgeInSeconds are given up on. Requires mu_.
  void DropTooOld() {
    if (max_age_s_ < 0 || pending_.empty()) return;
    double now = static_cast<double>(ctx_.clock->NowMillis()) / 1000.0;
    size_t k = 0;
    while (k < pending_.size() &&
           now - pending_[k]["dynamodb"].value("ApproximateCreationDateTime", now) > static_cast<double>(max_age_s_)) {
      ++k;
    }
    if (k > 0) Discard(k, "RecordAgeExceeded", attempts_);
  }

  // Gives up on the first `k` pending records: describes them to the OnFailure destination and
  // moves the checkpoint past them. Requires mu_.
  void Discard(size_t k, const std::string& condition, int64_t invokes) {
    spdlog::warn("lambda: event source mapping {}: {} record(s) from {} given up ({})", uuid_, k,
                 SequenceOf(pending_[0]), condition);
    if (!on_failure_.empty()) SendOnFailure(k, condition, invokes);
    Acknowledge(k);
    limit_ = 0;
  }

  void SendOnFailure(size_t k, const std::string& condition, int64_t invokes) {
    double now = static_cast<double>(ctx_.clock->NowMillis()) / 1000.0;
    const Json& first = pending_[0]["dynamodb"];
    const Json& last = pending_[k - 1]["dynamodb"];
    Json record{
        {"requestContext", {{"requestId", NewUuid()}, {"functionArn", function_arn_},
                            {"condition", condition}, {"approximateInvokeCount", invokes}}},
        {"responseContext", {{"statusCode", 200}, {"executedVersion", "$LATEST"}, {"functionError", "Unhandled"}}},
        {"version", "1.0"},
        {"timestamp", FormatIso8601(now, true)},
        {"DDBStreamBatchInfo",
         {{"shardId", shard_},
          {"startSequenceNumber", first.value("SequenceNumber", "")},
          {"endSequenceNumber", last.value("SequenceNumber", "")},
          {"approximateArrivalOfFirstRecord", FormatIso8601(first.value("ApproximateCreationDateTime", now), true)},
          {"approximateArrivalOfLastRecord", FormatIso8601(last.value("ApproximateCreationDateTime", now), true)},
          {"batchSize", k},
          {"streamArn", ctx_.arn}}}};
    auto parts = Split(on_failure_, ':');
    if (parts.size() < 6) return;
    std::string body = DumpJson(record);
    Result<Json> r = Json::object();
    if (parts[2] == "sqs") {
      auto url = Call("sqs", "GetQueueUrl", Json{{"QueueName", parts[5]}, {"QueueOwnerAWSAccountId", parts[4]}},
                      parts[4], parts[3]);
      r = url.ok() ? Call("sqs", "SendMessage", Json{{"QueueUrl", url->value("QueueUrl", "")}, {"MessageBody", body}},
                          parts[4], parts[3])
                   : Result<Json>(url.error());
    } else if (parts[2] == "sns") {
      r = Call("sns", "Publish", Json{{"TopicArn", on_failure_}, {"Message", body}}, parts[4], parts[3]);
    }
    if (!r.ok()) {
      spdlog::warn("lambda: event source mapping {}: on-failure destination {} refused: {}", uuid_,
                   on_failure_, r.error().message);
    }
  }

  SourceContext ctx_;
  std::string region_, owner_, resource_, uuid_, function_arn_, on_failure_;
  int64_t max_retries_ = -1, max_age_s_ = -1;
  bool bisect_ = false;

  // One poller at a time (MaxPollers); mu_ still guards everything below it.
  std::mutex mu_;
  std::string starting_position_;
  std::string shard_;
  std::string iterator_;                 // where the next GetRecords reads
  bool iterator_from_checkpoint_ = false;
  int64_t iterator_saved_at_ = 0;
  bool closed_ = false;
  std::deque<Json> pending_;             // read, not yet acknowledged, in shard order
  std::string last_read_;                // sequence number of the last record read
  std::string acked_;                    // sequence number of the last record acknowledged
  int64_t attempts_ = 0;                 // failed invocations of the batch at the head
  size_t limit_ = 0;                     // bisection's cap on the next batch (0 = none)

  std::mutex wake_mu_;                   // guards wakes_
  std::condition_variable wake_cv_;
  uint64_t wakes_ = 0;                   // commits that appended to the stream
  std::unique_ptr<store::Store::Watch> watch_;  // last: unsubscribes before the rest goes
};

}  // namespace

std::string CheckpointKey(const std::string& uuid) { return "lambda/esm-cp/" + uuid; }

std::unique_ptr<EventSource> MakeDynamoDbStreamSource(const SourceContext& ctx) {
  return std::make_unique<DynamoDbStreamSource>(ctx);
}

}  // namespace stratus::services::lambda
