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

}  // namespace
}  // namespace stratus::services
