// Every service's routing keys agree with its model, and every handler names a real operation.
#include "services/all_services.h"

#include <gtest/gtest.h>

#include "aws/model/model.h"
#include "store/store.h"
#include "trace/recorder.h"

namespace stratus::services {
namespace {

TEST(AllServices, DescriptorsMatchTheirModels) {
  auto store = store::OpenSqliteStore(store::SqliteOptions{});
  ASSERT_TRUE(store.ok());
  Config config;
  WorkerPool workers(2);
  Metrics metrics;
  auto recorder = std::make_unique<trace::InMemoryRecorder>();
  aws::ServiceClients clients;
  struct NoListeners : aws::ListenerRegistry {
    Result<uint16_t> Open(uint64_t) override { return Error("Unavailable", "no server in tests"); }
    void Close(uint64_t) override {}
  } listeners;
  aws::ServiceContext ctx{**store, SystemClock::Instance(), config, workers, metrics, *recorder,
                          clients, [] { return std::string("http://localhost:4566"); }, listeners};
  auto all = MakeAllServices(ctx);
  ASSERT_FALSE(all.empty());
  for (const auto& s : all) {
    const auto& d = s->descriptor();
    SCOPED_TRACE(d.name);
    const aws::ServiceModel* model = aws::FindEmbeddedModel(d.model);
    ASSERT_NE(model, nullptr) << "no embedded model " << d.model;
    const auto& md = model->metadata();
    EXPECT_EQ(d.protocol, md.protocol);
    EXPECT_EQ(d.target_prefix, md.target_prefix);
    std::string signing = md.signing_name.empty() ? md.endpoint_prefix : md.signing_name;
    EXPECT_EQ(d.signing_name, signing);
    for (const auto& op : s->HandledOperations()) {
      EXPECT_NE(model->FindOperation(op), nullptr) << op << " is not an operation of " << d.model;
    }
  }
}

// A fresh store holds nothing pending: every service may wait for its first use. One key under
// a service's prefix, or one item in its durable queue, makes it start at boot.
TEST(AllServices, MustStartAtBootWhenTheStoreHoldsTheServicesState) {
  auto opened = store::OpenSqliteStore(store::SqliteOptions{});
  ASSERT_TRUE(opened.ok());
  store::Store& store = **opened;
  Config config;
  WorkerPool workers(2);
  Metrics metrics;
  auto recorder = std::make_unique<trace::InMemoryRecorder>();
  aws::ServiceClients clients;
  struct NoListeners : aws::ListenerRegistry {
    Result<uint16_t> Open(uint64_t) override { return Error("Unavailable", "no server in tests"); }
    void Close(uint64_t) override {}
  } listeners;
  aws::ServiceContext ctx{store, SystemClock::Instance(), config, workers, metrics, *recorder,
                          clients, [] { return std::string("http://localhost:4566"); }, listeners};
  auto all = MakeAllServices(ctx);
  auto find = [&](std::string_view name) -> const aws::Service& {
    for (const auto& s : all) {
      if (s->descriptor().name == name) return *s;
    }
    ADD_FAILURE() << "no service " << name;
    return *all.front();
  };
  auto find_d = [&](std::string_view name) { return find(name).descriptor(); };
  for (const auto& s : all) {
    EXPECT_FALSE(MustStartAtBoot(store, s->descriptor())) << s->descriptor().name;
  }

  // Durable state: an SQS queue (its delayed messages), a DynamoDB table (TTL, streams).
  ASSERT_TRUE(store.Put("sqs/q/000000000000/us-east-1/q", "{}").ok());
  ASSERT_TRUE(store.Put("ddb/t/000000000000/us-east-1/t", "{}").ok());
  EXPECT_TRUE(MustStartAtBoot(store, find_d("sqs")));
  EXPECT_TRUE(MustStartAtBoot(store, find_d("dynamodb")));
  EXPECT_TRUE(MustStartAtBoot(store, find_d("dynamodbstreams")));
  EXPECT_FALSE(MustStartAtBoot(store, find_d("sns")));
  EXPECT_FALSE(MustStartAtBoot(store, find_d("lambda")));

  // Queued work with no other state left (a topic deleted with deliveries pending, an async
  // invoke of a deleted function, a timer, an S3 notification).
  for (std::string_view queue : {"sns/deliveries", "lambda/async", "stepfunctions/timers",
                                 "s3/events"}) {
    std::string service(queue.substr(0, queue.find('/')));
    EXPECT_FALSE(MustStartAtBoot(store, find_d(service))) << service;
    ASSERT_TRUE(store.Write([&](store::WriteTxn& txn) -> Status {
                       auto id = txn.Enqueue(queue, "{}", 0);
                       return id.ok() ? Status::Ok() : Status(id.error());
                     }).ok());
    EXPECT_TRUE(MustStartAtBoot(store, find_d(service))) << service;
  }
  for (const auto& s : all) {
    const std::string& n = s->descriptor().name;
    bool has_state = n == "sqs" || n == "dynamodb" || n == "dynamodbstreams" || n == "sns" ||
                     n == "lambda" || n == "stepfunctions" || n == "s3";
    EXPECT_EQ(MustStartAtBoot(store, s->descriptor()), has_state) << n;
  }
}

// A service whose durable state MustStartAtBoot does not know always starts at boot.
TEST(AllServices, AnUnknownServiceStartsAtBoot) {
  auto opened = store::OpenSqliteStore(store::SqliteOptions{});
  ASSERT_TRUE(opened.ok());
  struct Unknown : aws::Service {
    Unknown() : Service(Descriptor{.name = "not-a-stratus-service"}) {}
  } unknown;
  EXPECT_TRUE(MustStartAtBoot(**opened, unknown.descriptor()));
}

// The slots the server registers: the same services in the same order as MakeAllServices, a
// lazy slot's declared descriptor equal to the built service's, and only services without a
// data plane or request claims lazy.
TEST(AllServices, SlotsDeclareTheirServicesDescriptors) {
  auto opened = store::OpenSqliteStore(store::SqliteOptions{});
  ASSERT_TRUE(opened.ok());
  Config config;
  WorkerPool workers(2);
  Metrics metrics;
  auto recorder = std::make_unique<trace::InMemoryRecorder>();
  aws::ServiceClients clients;
  struct NoListeners : aws::ListenerRegistry {
    Result<uint16_t> Open(uint64_t) override { return Error("Unavailable", "no server in tests"); }
    void Close(uint64_t) override {}
  } listeners;
  aws::ServiceContext ctx{**opened, SystemClock::Instance(), config, workers, metrics, *recorder,
                          clients, [] { return std::string("http://localhost:4566"); }, listeners};
  auto slots = MakeServiceSlots(ctx);
  auto all = MakeAllServices(ctx);
  ASSERT_EQ(slots.size(), all.size());
  size_t lazy = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    const aws::Service::Descriptor& want = all[i]->descriptor();
    SCOPED_TRACE(want.name);
    std::unique_ptr<aws::Service> built =
        slots[i].built ? std::move(slots[i].built) : slots[i].make();
    const aws::Service::Descriptor& got =
        slots[i].make ? slots[i].descriptor : built->descriptor();
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(built->descriptor().name, want.name);
    EXPECT_EQ(got.model, want.model);
    EXPECT_EQ(got.protocol, want.protocol);
    EXPECT_EQ(got.target_prefix, want.target_prefix);
    EXPECT_EQ(got.signing_name, want.signing_name);
    EXPECT_EQ(got.path_prefixes, want.path_prefixes);
    EXPECT_EQ(got.extra_protocols, want.extra_protocols);
    EXPECT_EQ(got.validation_error, want.validation_error);
    EXPECT_EQ(got.signing_names, want.signing_names);
    if (!slots[i].make) continue;
    ++lazy;
    // A lazy service is not offered requests before it exists: it must not need to be.
    HttpRequest probes[3];
    probes[0].path = "/_stratus/" + want.name + "/x";
    probes[1].path = "/2018-06-01/runtime/invocation/next";
    probes[2].path = "/";
    probes[2].headers.Set("Host", "bucket.s3.localhost.localstack.cloud");
    for (const auto& r : probes) {
      EXPECT_FALSE(built->MatchDataPlane(r)) << r.path;
      EXPECT_FALSE(built->ClaimsRequest(r)) << r.path;
    }
  }
  EXPECT_EQ(lazy, 6u);  // iam, sts, sqs, stepfunctions, dynamodb, dynamodbstreams
}

}  // namespace
}  // namespace stratus::services
