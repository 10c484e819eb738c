// Event delivery: queued records reach the destination service in-process, failures are retried
// with backoff, and what a destination receives has AWS's shape.
#include "services/s3/events.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "services/s3/keys.h"

namespace stratus::services::s3 {
namespace {

// Records calls; fails the first `failures` of them.
class FakeCaller final : public aws::OperationCaller {
 public:
  explicit FakeCaller(int failures) : failures_(failures) {}
  void Call(aws::InternalCall call, aws::Completion done) override {
    std::lock_guard lock(mu_);
    calls.push_back(call);
    if (failures_ > 0) {
      --failures_;
      done(Error("ResourceNotFoundException", "Function not found", 404));
      return;
    }
    aws::OperationOutput out;
    if (call.operation == "GetQueueUrl") out.body = Json{{"QueueUrl", "http://localhost/000000000000/q"}};
    done(std::move(out));
  }
  std::vector<aws::InternalCall> calls;  // guarded by mu_

 private:
  std::mutex mu_;
  int failures_;
};

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore(store::SqliteOptions{.clock = &clock_})).value();
  }
  void Queue(const Json& notification, const std::string& event, const std::string& key) {
    Bucket b;
    b.name = "bkt";
    b.owner = "000000000000";
    b.region = "us-east-1";
    b.config["notification"] = notification;
    ObjectRecord rec;
    rec.size = 3;
    rec.etag = "abc";
    RequestInfo req{"000000000000", "us-east-1", clock_.NowMillis(), "rid", "10.0.0.1"};
    ASSERT_TRUE(store_->Write([&](store::WriteTxn& t) { return QueueEvents(t, b, event, key, rec, req); }).ok());
  }
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<store::Store> store_;
};

TEST_F(EventsTest, LambdaDeliveriesAreRetriedUntilTheyArrive) {
  Json config = Json::parse(R"({"LambdaFunctionConfigurations":[{"Id":"c1",
      "LambdaFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:f","Events":["s3:ObjectCreated:*"]}]})");
  Queue(config, "ObjectCreated:Put", "a b.txt");
  Queue(config, "ObjectRemoved:Delete", "a b.txt");  // not configured: nothing queued
  EXPECT_EQ(*store_->QueueLength(std::string(keys::kEventQueue)), 1);
  FakeCaller caller(1);
  aws::ServiceClients clients{nullptr, &caller};
  EventDelivery delivery(*store_, clients, clock_);
  EXPECT_EQ(delivery.DeliverDue(), 0);  // failed, backed off
  EXPECT_EQ(delivery.DeliverDue(), 0);  // not due yet
  clock_.Advance(5000);
  EXPECT_EQ(delivery.DeliverDue(), 1);
  EXPECT_EQ(*store_->QueueLength(std::string(keys::kEventQueue)), 0);
  ASSERT_EQ(caller.calls.size(), 2u);
  const aws::InternalCall& call = caller.calls[1];
  EXPECT_EQ(call.service, "lambda");
  EXPECT_EQ(call.operation, "Invoke");
  EXPECT_EQ(call.input["InvocationType"], "Event");
  EXPECT_EQ(call.principal_arn, "s3.amazonaws.com");
  Json event = Json::parse(call.payload);
  Json record = event["Records"][0];
  EXPECT_EQ(record["eventSource"], "aws:s3");
  EXPECT_EQ(record["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(record["s3"]["object"]["key"], "a+b.txt");
  EXPECT_EQ(record["s3"]["object"]["eTag"], "abc");
  EXPECT_EQ(record["requestParameters"]["sourceIPAddress"], "10.0.0.1");
  EXPECT_EQ(record["eventTime"], "2023-11-14T22:13:20.000Z");
}

TEST_F(EventsTest, QueuesGetTheirUrlAndTopicsAPublish) {
  Json config = Json::parse(R"({
      "QueueConfigurations":[{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:q","Events":["s3:ObjectRemoved:*"]}],
      "TopicConfigurations":[{"TopicArn":"arn:aws:sns:us-east-1:000000000000:t","Events":["s3:ObjectRemoved:Delete"],
        "Filter":{"Key":{"FilterRules":[{"Name":"Prefix","Value":"logs/"}]}}}]})");
  Queue(config, "ObjectRemoved:Delete", "logs/1");
  Queue(config, "ObjectRemoved:Delete", "other");
  FakeCaller caller(0);
  aws::ServiceClients clients{nullptr, &caller};
  EventDelivery delivery(*store_, clients, clock_);
  EXPECT_EQ(delivery.DeliverDue(), 3);
  std::vector<std::string> ops;
  for (const auto& c : caller.calls) ops.push_back(c.service + "." + c.operation);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "sqs.SendMessage"), 2);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "sns.Publish"), 1);
  for (const auto& c : caller.calls) {
    if (c.operation == "SendMessage") {
      EXPECT_EQ(c.input["QueueUrl"], "http://localhost/000000000000/q");
    }
  }
}

}  // namespace
}  // namespace stratus::services::s3
