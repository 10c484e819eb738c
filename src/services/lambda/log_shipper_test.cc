#include "services/lambda/log_shipper.h"

#include <gtest/gtest.h>

#include <mutex>

namespace stratus::services::lambda {
namespace {

// Records what the shipper hands it.
class RecordingSink final : public aws::LogSink {
 public:
  Status Append(const std::string& account, const std::string& region, const std::string& group,
                const std::string& stream, const std::vector<Event>& events) override {
    std::lock_guard lock(mu);
    appends.push_back({account, region, group, stream, events});
    return Status::Ok();
  }
  std::vector<Status> AppendMany(const std::vector<StreamEvents>& batches) override {
    std::lock_guard lock(mu);
    calls.push_back(batches);
    return std::vector<Status>(batches.size(), Status::Ok());
  }

  std::mutex mu;
  std::vector<StreamEvents> appends;                // guarded by mu
  std::vector<std::vector<StreamEvents>> calls;     // guarded by mu
};

TEST(LogShipperTest, OneAppendManyPerFlushForEveryStream) {
  RecordingSink sink;
  LogShipper shipper(&sink);
  shipper.Start();
  shipper.Ship("000000000000", "us-east-1", "/aws/lambda/f", "s1", {{1, "START a"}});
  shipper.Ship("000000000000", "us-east-1", "/aws/lambda/f", "s2", {{2, "START b"}});
  shipper.Ship("000000000000", "us-east-1", "/aws/lambda/f", "s1", {{3, "END a"}, {4, "REPORT a"}});
  shipper.Ship("111111111111", "eu-west-1", "/aws/lambda/g", "s1", {{5, "START c"}});
  shipper.FlushForTest();
  shipper.Stop();
  std::lock_guard lock(sink.mu);
  EXPECT_TRUE(sink.appends.empty()) << "no per-stream Append";
  ASSERT_EQ(sink.calls.size(), 1u);
  const auto& call = sink.calls[0];
  ASSERT_EQ(call.size(), 3u);
  size_t lines = 0;
  for (const auto& entry : call) {
    lines += entry.events.size();
    if (entry.account == "000000000000" && entry.stream == "s1") {
      ASSERT_EQ(entry.events.size(), 3u);
      EXPECT_EQ(entry.events[0].message, "START a");
      EXPECT_EQ(entry.events[1].message, "END a");
      EXPECT_EQ(entry.events[2].message, "REPORT a");
      EXPECT_EQ(entry.group, "/aws/lambda/f");
      EXPECT_EQ(entry.region, "us-east-1");
    }
    if (entry.account == "111111111111") {
      EXPECT_EQ(entry.region, "eu-west-1");
      EXPECT_EQ(entry.group, "/aws/lambda/g");
      ASSERT_EQ(entry.events.size(), 1u);
    }
  }
  EXPECT_EQ(lines, 5u);
}

TEST(LogShipperTest, LargeStreamsAreSplitWithinLimits) {
  RecordingSink sink;
  LogShipper shipper(&sink);
  shipper.Start();
  std::vector<aws::LogSink::Event> many;
  for (int i = 0; i < 12'000; ++i) many.push_back({i, "line " + std::to_string(i)});
  shipper.Ship("000000000000", "us-east-1", "/aws/lambda/f", "big", std::move(many));
  shipper.FlushForTest();
  shipper.Stop();
  std::lock_guard lock(sink.mu);
  size_t total = 0;
  int64_t expect = 0;
  for (const auto& call : sink.calls) {
    for (const auto& entry : call) {
      EXPECT_LE(entry.events.size(), 10'000u) << "PutLogEvents' per-call limit";
      for (const auto& e : entry.events) EXPECT_EQ(e.timestamp_ms, expect++) << "order kept";
      total += entry.events.size();
    }
  }
  EXPECT_EQ(total, 12'000u);
}

TEST(LogShipperTest, NullSinkDropsLines) {
  LogShipper shipper(nullptr);
  shipper.Start();
  shipper.Ship("000000000000", "us-east-1", "/aws/lambda/f", "s", {{1, "x"}});
  shipper.FlushForTest();
  shipper.Stop();
}

}  // namespace
}  // namespace stratus::services::lambda
