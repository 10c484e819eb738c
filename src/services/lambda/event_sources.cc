#include "services/lambda/event_sources.h"

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/errors.h"
#include "services/lambda/function_name.h"

namespace stratus::services::lambda {

namespace {

constexpr std::string_view kPrefix = "lambda/esm/";
constexpr int64_t kErrorBackoffMs = 1000;
constexpr int kMaxPollers = 1000;

std::string EsmKey(const std::string& uuid) { return std::string(kPrefix) + uuid; }

bool Has(const Json& j, std::string_view k) {
  auto it = j.find(std::string(k));
  return it != j.end() && !it->is_null();
}

// A DynamoDB stream (not a Kinesis stream): ordered, checkpointed, retried in place.
bool IsDynamoDbStream(const std::string& arn) { return arn.find(":dynamodb:") != std::string::npos; }

Error MappingNotFound(const std::string& uuid) {
  return ResourceNotFound("The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: " + uuid + ")");
}

}  // namespace

SourceArn ParseSourceArn(const SourceContext& ctx) {
  auto parts = Split(ctx.arn, ':');
  if (parts.size() < 6) return {};
  return SourceArn{parts[3].empty() ? ctx.region : std::string(parts[3]),
                   parts[4].empty() ? ctx.account : std::string(parts[4]), std::string(parts[5])};
}

Result<std::unique_ptr<EventSource>> MakeSource(const SourceContext& ctx) {
  auto parts = Split(ctx.arn, ':');
  if (parts.size() < 6 || parts[0] != "arn") {
    return InvalidParameterValue("Invalid EventSourceArn: " + ctx.arn);
  }
  const std::string& service = parts[2];
  if (service == "sqs") return MakeSqsSource(ctx);
  if (service == "dynamodb") {
    if (parts[5].find("/stream/") == std::string::npos) {
      return InvalidParameterValue("Invalid EventSourceArn (not a DynamoDB stream): " + ctx.arn);
    }
    return MakeDynamoDbStreamSource(ctx);
  }
  if (service == "kinesis") {
    return NotSupported("Event source mappings for " + service + " (they arrive with that service)");
  }
  return NotSupported("Event source mappings for " + service);
}

BatchOutcome ParseBatchResponse(const std::string& payload, const SourceBatch& batch,
                                bool report_item_failures) {
  BatchOutcome out;
  if (!report_item_failures) return out;
  std::string_view trimmed = Trim(payload);
  if (trimmed.empty() || trimmed == "null") return out;
  Json r = ParseJsonOrDiscarded(payload);
  if (r.is_discarded()) {
    out.function_failed = true;
    return out;
  }
  if (!r.is_object() || !Has(r, "batchItemFailures")) return out;
  const Json& failures = r["batchItemFailures"];
  if (!failures.is_array()) {
    out.function_failed = true;
    return out;
  }
  for (const auto& f : failures) {
    if (!f.is_object() || !f.contains("itemIdentifier") || !f["itemIdentifier"].is_string() ||
        f["itemIdentifier"].get<std::string>().empty()) {
      out.function_failed = true;
      return out;
    }
    std::string id = f["itemIdentifier"].get<std::string>();
    bool known = false;
    for (const auto& i : batch.ids) known = known || i == id;
    if (!known) {
      out.function_failed = true;
      return out;
    }
    out.failed_ids.push_back(id);
  }
  return out;
}

// One enabled mapping and its pollers.
struct Runner {
  Json record;  // {"account","region","config":{...}}
  std::unique_ptr<EventSource> source;
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards active
  std::condition_variable cv;
  int active = 0;
};

struct EventSources::Impl : std::enable_shared_from_this<EventSources::Impl> {
  Deps d;
  std::mutex mu;  // guards runners, started, changing
  std::map<std::string, std::shared_ptr<Runner>> runners;  // by uuid
  bool started = false;
  // A change of one mapping (Create, Update, Delete) holds its entry from its read of the record
  // to the start of the new pollers: two interleaved changes would each start pollers (the
  // second replacing the first in `runners` unstopped, so it ran on, unseen, after a disable),
  // or one would commit over the other's change (or over its delete).
  struct Change {
    std::mutex mu;
    int users = 0;  // guarded by Impl::mu; the entry goes when the last user leaves
  };
  std::map<std::string, Change> changing;

  explicit Impl(Deps deps) : d(std::move(deps)) {}

  // Holds the change of one mapping for its scope.
  class ChangeLock {
   public:
    ChangeLock(Impl& d, const std::string& uuid) : d_(d) {
      {
        std::lock_guard lock(d_.mu);
        it_ = d_.changing.try_emplace(uuid).first;
        ++it_->second.users;
      }
      WorkerPool::BlockingScope blocking;  // the holder may wait for a poller's long poll
      it_->second.mu.lock();
    }
    ~ChangeLock() {
      it_->second.mu.unlock();
      std::lock_guard lock(d_.mu);
      if (--it_->second.users == 0) d_.changing.erase(it_);
    }
    ChangeLock(const ChangeLock&) = delete;
    ChangeLock& operator=(const ChangeLock&) = delete;

   private:
    Impl& d_;
    std::map<std::string, Change>::iterator it_;
  };

  SourceContext ContextFor(const Json& record) {
    return SourceContext{d.clients.operations, record.value("account", ""),
                         record.value("region", ""), record["config"].value("EventSourceArn", ""),
                         d.external_url, &d.store, &d.clock, record["config"]};
  }

  void StartRunner(const Json& record) {
    const Json& c = record["config"];
    if (c.value("State", "") != "Enabled") return;
    auto source = MakeSource(ContextFor(record));
    if (!source.ok()) {
      spdlog::warn("lambda: event source mapping {} cannot run: {}", c.value("UUID", ""),
                   source.error().message);
      return;
    }
    auto runner = std::make_shared<Runner>();
    runner->record = record;
    runner->source = std::move(source).value();
    std::shared_ptr<Runner> replaced;  // none while changes hold their ChangeLock
    {
      std::lock_guard lock(mu);
      if (!started) return;
      replaced = std::exchange(runners[c.value("UUID", "")], runner);
    }
    if (replaced) {
      spdlog::error("lambda: event source mapping {} had pollers running; stopping them",
                    c.value("UUID", ""));
      Halt(*replaced);
    }
    AddPoller(runner);
  }

  void StopRunner(const std::string& uuid) {
    std::shared_ptr<Runner> r;
    {
      std::lock_guard lock(mu);
      auto it = runners.find(uuid);
      if (it == runners.end()) return;
      r = it->second;
      runners.erase(it);
    }
    Halt(*r);
  }

  // Tells a runner's pollers to stop and waits until they have.
  static void Halt(Runner& r) {
    r.stop.store(true);
    // A poller stops once its in-process ReceiveMessage (or GetRecords) is answered, and SQS
    // answers long polls from pool tasks: a worker waiting here (UpdateEventSourceMapping,
    // DeleteEventSourceMapping) must not count against the pool, or as many concurrent
    // disables as workers wait forever for answers that need a worker.
    WorkerPool::BlockingScope blocking;
    std::unique_lock lock(r.mu);
    r.cv.wait(lock, [&] { return r.active == 0; });
  }

  static int MaxPollers(const Json& c) {
    if (Has(c, "ScalingConfig") && Has(c["ScalingConfig"], "MaximumConcurrency")) {
      return std::clamp(c["ScalingConfig"]["MaximumConcurrency"].get<int>(), 2, kMaxPollers);
    }
    return kDefaultMaxPollers;
  }

  void AddPoller(const std::shared_ptr<Runner>& r) {
    {
      std::lock_guard lock(r->mu);
      ++r->active;
    }
    auto self = shared_from_this();
    std::thread([self, r] { self->Poll(r); }).detach();
  }

  void Poll(std::shared_ptr<Runner> r) {
    const Json c = r->record["config"];
    Scope scope{r->record.value("account", ""), r->record.value("region", "")};
    int batch_size = c.value("BatchSize", 10);
    int64_t window_ms = c.value("MaximumBatchingWindowInSeconds", int64_t{0}) * 1000;
    bool report = false;
    for (const auto& t : c.value("FunctionResponseTypes", Json::array())) {
      report = report || t == "ReportBatchItemFailures";
    }
    int max_pollers = r->source->MaxPollers(MaxPollers(c));
    auto ref = ParseFunctionRef(c.value("FunctionArn", ""));
    // Validated when the mapping was created or updated; a stored one that no longer parses
    // stops the poller rather than delivering everything unfiltered.
    auto filter = EventFilter::Parse(c.value("FilterCriteria", Json::object()));
    if (!filter.ok()) {
      spdlog::warn("lambda: event source mapping {}: FilterCriteria: {}", c.value("UUID", ""), filter.error().message);
      r->stop.store(true);
    }
    while (!r->stop.load()) {
      auto batch = r->source->Poll(batch_size, window_ms);
      if (r->stop.load()) break;
      if (!batch.ok()) {
        spdlog::warn("lambda: event source mapping {}: polling failed: {}", c.value("UUID", ""),
                     batch.error().message);
        std::this_thread::sleep_for(std::chrono::milliseconds(kErrorBackoffMs));
        continue;
      }
      if (batch->records.empty()) {
        std::lock_guard lock(r->mu);
        if (r->active > 1) break;  // scale down
        continue;
      }
      if (batch->full) {
        bool more = false;
        {
          std::lock_guard lock(r->mu);
          more = r->active < max_pollers;
        }
        if (more) AddPoller(r);
      }
      r->source->Finish(*batch, filter.ok() ? Deliver(scope, ref, *batch, *filter, *r->source, report)
                                            : BatchOutcome{.function_failed = true});
    }
    std::lock_guard lock(r->mu);
    --r->active;
    r->cv.notify_all();
  }

  // Invokes the function with the batch's records that pass the filter; what the filter
  // dropped counts as delivered.
  BatchOutcome Deliver(const Scope& scope, const Result<FunctionRef>& ref, const SourceBatch& batch,
                       const EventFilter& filter, const EventSource& source, bool report) {
    BatchOutcome failed;
    failed.function_failed = true;
    if (filter.empty()) return ref.ok() ? Invoke(scope, *ref, batch, report) : failed;
    SourceBatch passed;
    const FilterOptions options = source.FilterOptionsFor();
    for (size_t i = 0; i < batch.ids.size() && i < batch.records.size(); ++i) {
      if (!filter.Matches(source.FilterView(batch.records[i]), options)) continue;
      passed.records.push_back(batch.records[i]);
      passed.ids.push_back(batch.ids[i]);
      if (i < batch.receipts.size()) passed.receipts.push_back(batch.receipts[i]);
    }
    if (passed.ids.empty()) return BatchOutcome{};  // nothing to deliver: all settled
    BatchOutcome out = ref.ok() ? Invoke(scope, *ref, passed, report) : failed;
    if (out.function_failed && !source.Ordered()) {
      // A queue retries the delivered records; the ones the filter dropped are settled now.
      out.function_failed = false;
      out.failed_ids = passed.ids;
    }
    return out;
  }

  BatchOutcome Invoke(const Scope& scope, const FunctionRef& ref, const SourceBatch& batch,
                      bool report) {
    BatchOutcome failed;
    failed.function_failed = true;
    auto target = d.registry.Resolve(scope, ref);
    if (!target.ok()) return failed;
    InvokeRequest req;
    req.request_id = NewUuid();
    req.payload = DumpJson(Json{{"Records", batch.records}});
    req.invoked_arn = target->invoked_arn;
    req.trace = trace::BeginHop(std::nullopt, d.clock.NowMillis() / 1000);
    std::promise<Result<InvokeOutcome>> promise;
    auto future = promise.get_future();
    d.executor.Invoke(target->spec, std::move(req),
                      [&promise](Result<InvokeOutcome> r) { promise.set_value(std::move(r)); });
    Result<InvokeOutcome> r = future.get();
    if (!r.ok() || !r->function_error.empty()) {
      if (!r.ok() && r.error().code == "TooManyRequestsException") {
        std::this_thread::sleep_for(std::chrono::milliseconds(kErrorBackoffMs));
      }
      return failed;
    }
    return ParseBatchResponse(r->payload, batch, report);
  }

  Result<Json> Load(const Scope& s, const std::string& uuid) {
    STRATUS_ASSIGN_OR_RETURN(auto v, d.store.Get(EsmKey(uuid)));
    if (!v) return MappingNotFound(uuid);
    Json rec = ParseJsonOrDiscarded(*v);
    if (!rec.is_object() || rec.value("account", "") != s.account || rec.value("region", "") != s.region) {
      return MappingNotFound(uuid);
    }
    return rec;
  }

  // Checks and fills the function of a mapping (FunctionName → FunctionArn).
  Status SetFunction(const Scope& s, Json& c, const std::string& function_name) {
    STRATUS_ASSIGN_OR_RETURN(FunctionRef ref, ParseFunctionRef(function_name));
    Scope fs = s;
    if (!ref.account.empty()) fs.account = ref.account;
    if (!ref.region.empty()) fs.region = ref.region;
    STRATUS_ASSIGN_OR_RETURN(Target t, d.registry.Resolve(fs, ref));
    c["FunctionArn"] = t.invoked_arn;
    return Status::Ok();
  }

  static Status CheckBatching(const Json& c) {
    int batch = c.value("BatchSize", 10);
    int64_t window = c.value("MaximumBatchingWindowInSeconds", int64_t{0});
    if (IsDynamoDbStream(c.value("EventSourceArn", ""))) return CheckStream(c, batch, window);
    if (batch > 10 && window < 1) {
      return InvalidParameterValue(
          "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");
    }
    if (batch < 1 || batch > 10000) {
      return InvalidParameterValue("BatchSize must be between 1 and 10000 for SQS event sources.");
    }
    if (window > 300) {
      return InvalidParameterValue("MaximumBatchingWindowInSeconds must be between 0 and 300.");
    }
    return Status::Ok();
  }

  static Status CheckStream(const Json& c, int batch, int64_t window) {
    if (batch < 1 || batch > 10000) {
      return InvalidParameterValue("BatchSize must be between 1 and 10000 for DynamoDB stream event sources.");
    }
    if (window < 0 || window > 300) {
      return InvalidParameterValue("MaximumBatchingWindowInSeconds must be between 0 and 300.");
    }
    int64_t retries = c.value("MaximumRetryAttempts", int64_t{-1});
    if (retries < -1 || retries > 10000) {
      return InvalidParameterValue("MaximumRetryAttempts must be between -1 and 10000.");
    }
    int64_t age = c.value("MaximumRecordAgeInSeconds", int64_t{-1});
    if (age != -1 && (age < 60 || age > 604800)) {
      return InvalidParameterValue("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.");
    }
    if (c.value("ParallelizationFactor", 1) != 1) return NotSupported("ParallelizationFactor other than 1");
    if (c.value("TumblingWindowInSeconds", 0) != 0) return NotSupported("TumblingWindowInSeconds");
    std::string dest;
    if (Has(c, "DestinationConfig") && Has(c["DestinationConfig"], "OnFailure")) {
      dest = c["DestinationConfig"]["OnFailure"].value("Destination", "");
    }
    if (!dest.empty() && dest.find(":sqs:") == std::string::npos && dest.find(":sns:") == std::string::npos) {
      return InvalidParameterValue("The OnFailure destination of a stream event source must be an SQS queue or an SNS topic: " + dest);
    }
    return Status::Ok();
  }
};

EventSources::EventSources(Deps deps) : impl_(std::make_shared<Impl>(std::move(deps))) {}

EventSources::~EventSources() { Stop(); }

void EventSources::Start() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    d.started = true;
  }
  auto rows = d.d.store.Scan(store::PrefixScan(kPrefix));
  if (!rows.ok()) {
    spdlog::warn("lambda: cannot read event source mappings: {}", rows.error().message);
    return;
  }
  for (const auto& row : *rows) {
    Json rec = ParseJsonOrDiscarded(row.value);
    if (rec.is_object()) d.StartRunner(rec);
  }
}

void EventSources::Stop() {
  Impl& d = *impl_;
  std::vector<std::string> uuids;
  {
    std::lock_guard lock(d.mu);
    d.started = false;
    for (auto& [u, r] : d.runners) {
      r->stop.store(true);
      uuids.push_back(u);
    }
  }
  for (const auto& u : uuids) d.StopRunner(u);
}

Result<Json> EventSources::Create(const Scope& s, const Json& in) {
  Impl& d = *impl_;
  std::string arn = in.value("EventSourceArn", "");
  if (arn.empty()) {
    return NotSupported("Event source mappings without an EventSourceArn (self-managed Kafka)");
  }
  for (const char* k : {"StartingPosition", "StartingPositionTimestamp", "ParallelizationFactor",
                        "DestinationConfig", "BisectBatchOnFunctionError", "TumblingWindowInSeconds",
                        "MaximumRecordAgeInSeconds", "MaximumRetryAttempts"}) {
    if (Has(in, k) && arn.find(":sqs:") != std::string::npos) {
      return InvalidParameterValue(std::string("Unsupported MQ or SQS parameter: ") + k);
    }
  }
  STRATUS_ASSIGN_OR_RETURN(EventFilter filter, EventFilter::Parse(in.value("FilterCriteria", Json::object())));
  const bool stream = IsDynamoDbStream(arn);
  if (stream) {
    std::string position = in.value("StartingPosition", "");
    if (position.empty()) {
      return InvalidParameterValue("StartingPosition is required for DynamoDB stream event sources.");
    }
    if (position != "TRIM_HORIZON" && position != "LATEST") {
      return InvalidParameterValue("Unsupported starting position for DynamoDB stream event sources: " + position);
    }
  }
  Json c = Json{{"UUID", NewUuid()},
                {"BatchSize", in.value("BatchSize", stream ? 100 : 10)},
                {"MaximumBatchingWindowInSeconds", in.value("MaximumBatchingWindowInSeconds", 0)},
                {"EventSourceArn", arn},
                {"LastModified", static_cast<double>(d.d.clock.NowMillis()) / 1000.0},
                {"LastProcessingResult", "No records processed"},
                {"State", in.value("Enabled", true) ? "Enabled" : "Disabled"},
                {"StateTransitionReason", "USER_INITIATED"},
                {"FunctionResponseTypes", in.value("FunctionResponseTypes", Json::array())}};
  if (Has(in, "ScalingConfig")) c["ScalingConfig"] = in["ScalingConfig"];
  if (!filter.empty()) c["FilterCriteria"] = in["FilterCriteria"];
  if (stream) {
    c["StartingPosition"] = in["StartingPosition"];
    c["MaximumRetryAttempts"] = in.value("MaximumRetryAttempts", -1);
    c["MaximumRecordAgeInSeconds"] = in.value("MaximumRecordAgeInSeconds", -1);
    c["BisectBatchOnFunctionError"] = in.value("BisectBatchOnFunctionError", false);
    c["ParallelizationFactor"] = in.value("ParallelizationFactor", 1);
    c["TumblingWindowInSeconds"] = in.value("TumblingWindowInSeconds", 0);
    c["DestinationConfig"] = in.value("DestinationConfig", Json{{"OnFailure", Json::object()}});
  }
  STRATUS_RETURN_IF_ERROR(Impl::CheckBatching(c));
  STRATUS_RETURN_IF_ERROR(d.SetFunction(s, c, in.value("FunctionName", "")));
  Json rec{{"account", s.account}, {"region", s.region}, {"config", c}};
  STRATUS_ASSIGN_OR_RETURN(auto source, MakeSource(d.ContextFor(rec)));
  STRATUS_RETURN_IF_ERROR(source->Validate());
  // Held until the pollers run, so a DeleteEventSourceMapping of the just-listed mapping finds
  // them.
  Impl::ChangeLock change(d, c["UUID"].get<std::string>());
  STRATUS_RETURN_IF_ERROR(d.d.store.Put(EsmKey(c["UUID"].get<std::string>()), DumpJson(rec)));
  d.StartRunner(rec);
  Json out = c;
  out["State"] = "Creating";
  return out;
}

Result<Json> EventSources::Get(const Scope& s, const std::string& uuid) {
  STRATUS_ASSIGN_OR_RETURN(Json rec, impl_->Load(s, uuid));
  return rec["config"];
}

Result<Json> EventSources::Update(const Scope& s, const std::string& uuid, const Json& in) {
  Impl& d = *impl_;
  Impl::ChangeLock change(d, uuid);
  STRATUS_ASSIGN_OR_RETURN(Json rec, d.Load(s, uuid));
  const Json old = rec;
  Json& c = rec["config"];
  for (const char* k : {"BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes",
                        "ScalingConfig"}) {
    if (Has(in, k)) c[k] = in[k];
  }
  for (const char* k : {"MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError",
                        "ParallelizationFactor", "TumblingWindowInSeconds", "DestinationConfig"}) {
    if (!Has(in, k)) continue;
    if (!IsDynamoDbStream(c.value("EventSourceArn", ""))) {
      return InvalidParameterValue(std::string("Unsupported MQ or SQS parameter: ") + k);
    }
    c[k] = in[k];
  }
  if (Has(in, "Enabled")) c["State"] = in["Enabled"].get<bool>() ? "Enabled" : "Disabled";
  if (Has(in, "FunctionName")) STRATUS_RETURN_IF_ERROR(d.SetFunction(s, c, in["FunctionName"].get<std::string>()));
  if (Has(in, "FilterCriteria")) {
    STRATUS_ASSIGN_OR_RETURN(EventFilter filter, EventFilter::Parse(in["FilterCriteria"]));
    if (filter.empty()) {
      c.erase("FilterCriteria");  // {} or no Filters clears it, as on AWS
    } else {
      c["FilterCriteria"] = in["FilterCriteria"];
    }
  }
  STRATUS_RETURN_IF_ERROR(Impl::CheckBatching(c));
  c["LastModified"] = static_cast<double>(d.d.clock.NowMillis()) / 1000.0;
  // The pollers stop before the change is committed: once GetEventSourceMapping shows it (say
  // Disabled), no poller of the old configuration takes another message. Restarted from the old
  // record when the commit fails.
  d.StopRunner(uuid);
  if (Status st = d.d.store.Put(EsmKey(uuid), DumpJson(rec)); !st.ok()) {
    d.StartRunner(old);
    return std::move(st).error();
  }
  d.StartRunner(rec);
  Json out = c;
  out["State"] = c["State"] == "Enabled" ? "Enabling" : "Disabling";
  return out;
}

Result<Json> EventSources::Delete(const Scope& s, const std::string& uuid) {
  Impl& d = *impl_;
  Impl::ChangeLock change(d, uuid);
  STRATUS_ASSIGN_OR_RETURN(Json rec, d.Load(s, uuid));
  // As in Update: the pollers stop before the mapping is gone from GetEventSourceMapping.
  d.StopRunner(uuid);
  if (Status st = d.d.store.Delete(EsmKey(uuid)); !st.ok()) {
    d.StartRunner(rec);
    return std::move(st).error();
  }
  (void)d.d.store.Delete(CheckpointKey(uuid));  // after the poller stopped writing it
  Json out = rec["config"];
  out["State"] = "Deleting";
  return out;
}

Result<Json> EventSources::List(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto rows, impl_->d.store.Scan(store::PrefixScan(kPrefix)));
  std::string arn = in.value("EventSourceArn", "");
  std::string fn = in.value("FunctionName", "");
  Json list = Json::array();
  for (const auto& row : rows) {
    Json rec = ParseJsonOrDiscarded(row.value);
    if (!rec.is_object() || rec.value("account", "") != s.account || rec.value("region", "") != s.region) {
      continue;
    }
    const Json& c = rec["config"];
    if (!arn.empty() && c.value("EventSourceArn", "") != arn) continue;
    if (!fn.empty()) {
      auto ref = ParseFunctionRef(fn);
      auto parts = Split(c.value("FunctionArn", ""), ':');
      if (!ref.ok() || parts.size() < 7 || parts[6] != ref->name) continue;
    }
    list.push_back(c);
  }
  return Json{{"EventSourceMappings", std::move(list)}};
}

}  // namespace stratus::services::lambda
