#include "services/lambda/event_sources.h"

#include <gtest/gtest.h>

#include "services/lambda/async_invoker.h"

namespace stratus::services::lambda {
namespace {

// An in-process "sqs" that serves ReceiveMessage and DeleteMessageBatch from a vector.
class FakeSqs final : public aws::OperationCaller {
 public:
  void Call(aws::InternalCall call, aws::Completion done) override {
    calls.push_back(call.operation);
    if (call.service != "sqs") {
      done(Error("UnknownOperationException", "No service named " + call.service + " in stratus."));
      return;
    }
    aws::OperationOutput out;
    if (call.operation == "GetQueueUrl") {
      if (call.input.value("QueueName", "") != "q") {
        done(Error("QueueDoesNotExist", "The specified queue does not exist."));
        return;
      }
      out.body = Json{{"QueueUrl", "http://localhost/000000000000/q"}};
    } else if (call.operation == "ReceiveMessage") {
      Json messages = Json::array();
      int max = call.input.value("MaxNumberOfMessages", 1);
      while (!queue.empty() && static_cast<int>(messages.size()) < max) {
        messages.push_back(Json{{"MessageId", queue.front()},
                                {"ReceiptHandle", "rh-" + queue.front()},
                                {"Body", "body-" + queue.front()},
                                {"Attributes", Json{{"ApproximateReceiveCount", "1"}}}});
        queue.erase(queue.begin());
      }
      out.body = Json{{"Messages", messages}};
    } else if (call.operation == "DeleteMessageBatch") {
      for (const auto& e : call.input["Entries"]) deleted.push_back(e["ReceiptHandle"]);
    }
    done(std::move(out));
  }
  std::vector<std::string> queue;
  std::vector<std::string> deleted;
  std::vector<std::string> calls;
};

SourceContext Ctx(aws::OperationCaller* caller, std::string arn = "arn:aws:sqs:us-east-1:000000000000:q") {
  return SourceContext{caller, "000000000000", "us-east-1", std::move(arn), nullptr};
}

TEST(EventSourcesTest, SqsBatchesAndSettles) {
  FakeSqs sqs;
  sqs.queue = {"a", "b", "c"};
  auto source = MakeSource(Ctx(&sqs));
  ASSERT_TRUE(source.ok());
  ASSERT_TRUE((*source)->Validate().ok());
  auto batch = (*source)->Poll(2, 0);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->records.size(), 2u);
  EXPECT_TRUE(batch->full);
  EXPECT_EQ(batch->records[0]["body"], "body-a");
  EXPECT_EQ(batch->records[0]["eventSource"], "aws:sqs");
  EXPECT_EQ(batch->records[0]["eventSourceARN"], "arn:aws:sqs:us-east-1:000000000000:q");
  BatchOutcome outcome = ParseBatchResponse(R"({"batchItemFailures":[{"itemIdentifier":"b"}]})", *batch, true);
  EXPECT_FALSE(outcome.function_failed);
  (*source)->Finish(*batch, outcome);
  EXPECT_EQ(sqs.deleted, std::vector<std::string>{"rh-a"});
  // A failed function leaves every message to come back.
  auto rest = (*source)->Poll(10, 0);
  ASSERT_EQ(rest->records.size(), 1u);
  (*source)->Finish(*rest, BatchOutcome{true, {}});
  EXPECT_EQ(sqs.deleted.size(), 1u);
}

TEST(EventSourcesTest, BatchResponses) {
  SourceBatch batch;
  batch.ids = {"m1", "m2"};
  EXPECT_FALSE(ParseBatchResponse("", batch, true).function_failed);
  EXPECT_FALSE(ParseBatchResponse("null", batch, true).function_failed);
  EXPECT_FALSE(ParseBatchResponse(R"({"batchItemFailures":[]})", batch, true).function_failed);
  EXPECT_TRUE(ParseBatchResponse("not json", batch, true).function_failed);
  EXPECT_TRUE(ParseBatchResponse(R"({"batchItemFailures":[{"itemIdentifier":""}]})", batch, true).function_failed);
  EXPECT_TRUE(ParseBatchResponse(R"({"batchItemFailures":[{"itemIdentifier":"zz"}]})", batch, true).function_failed);
  EXPECT_TRUE(ParseBatchResponse(R"({"batchItemFailures":[{"id":"m1"}]})", batch, true).function_failed);
  auto some = ParseBatchResponse(R"({"batchItemFailures":[{"itemIdentifier":"m2"}]})", batch, true);
  EXPECT_EQ(some.failed_ids, std::vector<std::string>{"m2"});
  // Without ReportBatchItemFailures the response is not read.
  EXPECT_FALSE(ParseBatchResponse("not json", batch, false).function_failed);
}

TEST(EventSourcesTest, UnsupportedAndMissingSources) {
  FakeSqs sqs;
  auto kinesis = MakeSource(Ctx(&sqs, "arn:aws:kinesis:us-east-1:000000000000:stream/s"));
  ASSERT_FALSE(kinesis.ok());
  EXPECT_NE(kinesis.error().message.find("not supported by stratus"), std::string::npos);
  auto missing = MakeSource(Ctx(&sqs, "arn:aws:sqs:us-east-1:000000000000:other"));
  ASSERT_TRUE(missing.ok());
  auto st = (*missing)->Validate();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidParameterValueException");
  EXPECT_FALSE(MakeSource(Ctx(&sqs, "not-an-arn")).ok());
}

TEST(AsyncInvokerTest, Backoff) {
  EXPECT_EQ(AsyncInvoker::RetryDelayMs(1), 1000);
  EXPECT_EQ(AsyncInvoker::RetryDelayMs(2), 2000);
  EXPECT_EQ(AsyncInvoker::ThrottleDelayMs(1), 500);
  EXPECT_EQ(AsyncInvoker::ThrottleDelayMs(100), 5000);
}

}  // namespace
}  // namespace stratus::services::lambda
