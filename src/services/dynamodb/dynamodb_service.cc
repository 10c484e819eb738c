#include "services/dynamodb/dynamodb_service.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "services/dynamodb/engine.h"
#include "services/dynamodb/streams.h"

namespace stratus::services::dynamodb {

namespace {

// How often expired items are looked for (AWS: within days; here, seconds).
constexpr auto kTtlSweepInterval = std::chrono::seconds(5);
constexpr size_t kTtlDeletesPerSweep = 1000;
// Stream records past retention are trimmed this often.
constexpr int kTrimEverySweeps = 60;

Scope ScopeOf(const aws::CallContext& call) { return Scope{call.caller.account_id, call.region}; }

class DynamoDbService final : public aws::Service {
 public:
  explicit DynamoDbService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "dynamodb",
                                .model = "dynamodb-2012-08-10",
                                .protocol = aws::Protocol::kJson,
                                .target_prefix = "DynamoDB_20120810",
                                .signing_name = "dynamodb",
                                .validation_error = "ValidationException"}),
        engine_(context.store, context.clock) {
    // Answers of durable writes leave the store's writer thread for the worker pool, one task
    // per group commit (see Engine::SetAnswerRunner).
    engine_.SetAnswerRunner([&workers = context.workers](std::function<void()> task) {
      workers.Submit(std::move(task));
    });
    Register();
  }

  ~DynamoDbService() override { Stop(); }

  Status Start() override {
    sweeper_ = std::thread([this] { SweepLoop(); });
    return Status::Ok();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    engine_.DrainWrites();
  }

 private:
  using Call = aws::CallContext;
  using Op = Result<Json> (Engine::*)(const Scope&, Json);

  // Reads run inline on the io thread: a store read never waits for writers (WAL snapshots)
  // and a page is bounded (1 MB, 16 MB for BatchGetItem), so two thread hand-offs per request
  // are saved.
  void Data(const std::string& name, Op op, aws::Mode mode = aws::Mode::kWorker) {
    On(name, [this, op](Call& c, const Json& in) -> Result<Json> { return (engine_.*op)(ScopeOf(c), in); },
       mode);
  }

  // Single-item writes and batches start on the io thread: the handler parses and validates
  // the request, hands it to the store's group commit and returns; the answer is sent from the
  // store's writer thread once the commit is durable. No thread waits for the fsync.
  using AsyncOp = void (Engine::*)(const Scope&, Json, Engine::Done);
  void Async(const std::string& name, AsyncOp op) {
    OnAsync(name, [this, op](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      (engine_.*op)(ScopeOf(*c), std::move(in), [done = std::move(done)](Result<Json> r) {
        if (!r.ok()) {
          done(std::move(r).error());
          return;
        }
        aws::OperationOutput out;
        out.body = std::move(r).value();
        done(std::move(out));
      });
    }, aws::Mode::kAsyncInline);
  }

  void Register() {
    TableCatalog& cat = engine_.catalog();
    On("CreateTable", [&cat](Call& c, const Json& in) { return cat.Create(ScopeOf(c), in); });
    On("DescribeTable", [&cat](Call& c, const Json& in) {
      return cat.Describe(ScopeOf(c), in.value("TableName", ""));
    });
    On("UpdateTable", [&cat](Call& c, const Json& in) { return cat.Update(ScopeOf(c), in); });
    On("DeleteTable", [&cat](Call& c, const Json& in) {
      return cat.Delete(ScopeOf(c), in.value("TableName", ""));
    });
    On("ListTables", [&cat](Call& c, const Json& in) { return cat.List(ScopeOf(c), in); });
    On("TagResource", [&cat](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(cat.Tag(ScopeOf(c), in));
      return Json::object();
    });
    On("UntagResource", [&cat](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(cat.Untag(ScopeOf(c), in));
      return Json::object();
    });
    On("ListTagsOfResource", [&cat](Call& c, const Json& in) { return cat.ListTags(ScopeOf(c), in); });
    On("UpdateTimeToLive", [&cat](Call& c, const Json& in) { return cat.UpdateTtl(ScopeOf(c), in); });
    On("DescribeTimeToLive", [&cat](Call& c, const Json& in) {
      return cat.DescribeTtl(ScopeOf(c), in.value("TableName", ""));
    });
    On("DescribeContinuousBackups", [&cat](Call& c, const Json& in) {
      return cat.DescribeContinuousBackups(ScopeOf(c), in.value("TableName", ""));
    });
    On("UpdateContinuousBackups", [&cat](Call& c, const Json& in) {
      return cat.UpdateContinuousBackups(ScopeOf(c), in);
    });
    On("DescribeLimits", [](Call&, const Json&) -> Result<Json> {
      return Json{{"AccountMaxReadCapacityUnits", 80000}, {"AccountMaxWriteCapacityUnits", 80000},
                  {"TableMaxReadCapacityUnits", 40000}, {"TableMaxWriteCapacityUnits", 40000}};
    }, aws::Mode::kInline);
    On("DescribeEndpoints", [](Call& c, const Json&) -> Result<Json> {
      std::string host(c.http.Host());
      if (host.empty()) host = "dynamodb." + c.region + ".amazonaws.com";
      return Json{{"Endpoints", Json::array({Json{{"Address", host}, {"CachePeriodInMinutes", 1440}}})}};
    }, aws::Mode::kInline);
    Async("PutItem", &Engine::PutItemAsync);
    Data("GetItem", &Engine::GetItemWire, aws::Mode::kInline);
    Async("UpdateItem", &Engine::UpdateItemAsync);
    Async("DeleteItem", &Engine::DeleteItemAsync);
    Data("Query", &Engine::QueryWire, aws::Mode::kInline);
    Data("Scan", &Engine::ScanWire);
    Data("BatchGetItem", &Engine::BatchGetItem, aws::Mode::kInline);
    Async("BatchWriteItem", &Engine::BatchWriteItemAsync);
    Data("TransactGetItems", &Engine::TransactGetItems, aws::Mode::kInline);
    Data("TransactWriteItems", &Engine::TransactWriteItems);
    Data("ExecuteStatement", &Engine::ExecuteStatement);
    Data("BatchExecuteStatement", &Engine::BatchExecuteStatement);
    Data("ExecuteTransaction", &Engine::ExecuteTransaction);
  }

  void SweepLoop() {
    std::unique_lock lock(mu_);
    int sweeps = 0;
    while (!stopping_) {
      cv_.wait_for(lock, kTtlSweepInterval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      auto n = engine_.SweepTtl(kTtlDeletesPerSweep);
      if (!n.ok()) {
        spdlog::warn("dynamodb: TTL sweep failed: {}", n.error().message);
      } else if (*n > 0) {
        spdlog::info("dynamodb: TTL sweep deleted {} expired items", *n);
      }
      if (++sweeps % kTrimEverySweeps == 0) {
        auto t = engine_.TrimStreams();
        if (!t.ok()) spdlog::warn("dynamodb: stream trim failed: {}", t.error().message);
      }
      lock.lock();
    }
  }

  Engine engine_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

class DynamoDbStreamsService final : public aws::Service {
 public:
  explicit DynamoDbStreamsService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "dynamodbstreams",
                                .model = "dynamodbstreams-2012-08-10",
                                .protocol = aws::Protocol::kJson,
                                .target_prefix = "DynamoDBStreams_20120810",
                                .signing_name = "dynamodb",
                                .validation_error = "ValidationException"}),
        reader_(context.store, context.clock) {
    On("ListStreams", [this](Call& c, const Json& in) { return reader_.ListStreams(ScopeOf(c), in); });
    On("DescribeStream", [this](Call& c, const Json& in) { return reader_.DescribeStream(ScopeOf(c), in); });
    On("GetShardIterator", [this](Call& c, const Json& in) { return reader_.GetShardIterator(ScopeOf(c), in); });
    On("GetRecords", [this](Call& c, const Json& in) { return reader_.GetRecords(ScopeOf(c), in); });
  }

 private:
  using Call = aws::CallContext;
  StreamReader reader_;
};

}  // namespace

std::unique_ptr<aws::Service> MakeDynamoDbService(aws::ServiceContext& context) {
  return std::make_unique<DynamoDbService>(context);
}

std::unique_ptr<aws::Service> MakeDynamoDbStreamsService(aws::ServiceContext& context) {
  return std::make_unique<DynamoDbStreamsService>(context);
}

}  // namespace stratus::services::dynamodb
