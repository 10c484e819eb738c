#include "aws/model/model.h"

#include <gtest/gtest.h>

#include <thread>

namespace stratus::aws {
namespace {

TEST(EmbeddedModel, FindsByStemAndShortName) {
  const ServiceModel* a = FindEmbeddedModel("sqs");
  const ServiceModel* b = FindEmbeddedModel("sqs-2012-11-05");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a->metadata().protocol, Protocol::kJson);
  EXPECT_EQ(a->metadata().target_prefix, "AmazonSQS");
  EXPECT_TRUE(a->metadata().aws_query_compatible);
  EXPECT_EQ(FindEmbeddedModel("nope"), nullptr);
}

TEST(EmbeddedModel, EveryModelParses) {
  for (const std::string& name : EmbeddedModelNames()) {
    const ServiceModel* m = FindEmbeddedModel(name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_FALSE(m->operations().empty()) << name;
  }
}

TEST(EmbeddedModel, S3Traits) {
  const ServiceModel* s3 = FindEmbeddedModel("s3");
  ASSERT_NE(s3, nullptr);
  const Operation* put = s3->FindOperation("PutObject");
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->http_method, "PUT");
  EXPECT_EQ(put->request_uri, "/{Bucket}/{Key+}");
  const Member* body = put->input->FindMember("Body");
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(put->input->payload, "Body");
  const Member* meta = put->input->FindMember("Metadata");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->location, Location::kHeaders);
  EXPECT_EQ(meta->location_name, "x-amz-meta-");
}

TEST(ServiceModel, ErrorsAndParts) {
  auto m = ServiceModel::FromParts(
      R"({"protocol":"json","jsonVersion":"1.1","targetPrefix":"T"})",
      R"({"In":{"type":"structure","required":["a"],"members":{"a":{"shape":"S","locationName":"A"}}},
          "S":{"type":"string","min":1},
          "Oops":{"type":"structure","members":{},"exception":true,
                  "error":{"code":"Custom.Oops","httpStatusCode":409,"senderFault":false}}})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE((*m)->AddOperation(R"({"name":"Do","http":{"method":"POST","requestUri":"/"},
      "input":{"shape":"In"},"errors":[{"shape":"Oops"}]})").ok());
  const Operation* op = (*m)->FindOperation("Do");
  ASSERT_NE(op, nullptr);
  EXPECT_TRUE(op->input->IsRequired("a"));
  EXPECT_EQ(op->input->members[0].WireName(), "A");
  const Shape* oops = (*m)->FindErrorShape("Custom.Oops");
  ASSERT_NE(oops, nullptr);
  EXPECT_EQ(oops, (*m)->FindErrorShape("Oops"));
  EXPECT_EQ(oops->error_http_status, 409);
  EXPECT_TRUE(oops->fault);
}

TEST(ServiceModel, RejectsBrokenModels) {
  EXPECT_FALSE(ServiceModel::Parse("{").ok());
  EXPECT_FALSE(ServiceModel::Parse(R"({"metadata":{"protocol":"smoke"}})").ok());
  EXPECT_FALSE(ServiceModel::Parse(
      R"({"metadata":{"protocol":"json"},"shapes":{"A":{"type":"structure","members":{"x":{"shape":"Missing"}}}}})").ok());
  EXPECT_FALSE(ServiceModel::Parse(R"({"metadata":{"protocol":"json"},"shapes":{"A":{"type":"list"}}})").ok());
  EXPECT_FALSE(ServiceModel::Parse(R"({"metadata":{"protocol":7}})").ok());
}

}  // namespace
}  // namespace stratus::aws

namespace stratus::aws {
namespace {

TEST(EmbeddedModel, SqsQueryOverlay) {
  const ServiceModel* json = FindEmbeddedModel("sqs");
  const ServiceModel* query = FindEmbeddedModel("sqs", Protocol::kQuery);
  ASSERT_NE(query, nullptr);
  EXPECT_NE(json, query);
  EXPECT_EQ(query, FindEmbeddedModel("sqs-2012-11-05", Protocol::kQuery));
  EXPECT_EQ(query->metadata().protocol, Protocol::kQuery);
  EXPECT_EQ(query->metadata().xml_namespace, "http://queue.amazonaws.com/doc/2012-11-05/");
  EXPECT_EQ(query->FindOperation("ReceiveMessage")->result_wrapper, "ReceiveMessageResult");
  const Member* messages = query->FindOperation("ReceiveMessage")->output->FindMember("Messages");
  EXPECT_EQ(messages->WireName(), "Message");
  // The json variant keeps the json wire names.
  EXPECT_EQ(json->FindOperation("ReceiveMessage")->output->FindMember("Messages")->WireName(), "Messages");
  // The error codes of the patch apply to both.
  for (const ServiceModel* m : {json, query}) {
    const Shape* e = m->FindErrorShape("AWS.SimpleQueueService.NonExistentQueue");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->name, "QueueDoesNotExist");
  }
  EXPECT_EQ(FindEmbeddedModel("dynamodb", Protocol::kQuery), nullptr);
  auto protocols = EmbeddedModelProtocols("sqs");
  ASSERT_EQ(protocols.size(), 2u);
  EXPECT_EQ(protocols[0], Protocol::kJson);
  EXPECT_EQ(protocols[1], Protocol::kQuery);
}

}  // namespace
}  // namespace stratus::aws


namespace stratus::aws {
namespace {

TEST(EmbeddedModel, ConcurrentFirstUseParsesOnce) {
  std::vector<const ServiceModel*> seen(8, nullptr);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] {
      seen[i] = FindEmbeddedModel(i % 2 == 0 ? "kinesis" : "kinesis-2013-12-02");
    });
  }
  for (auto& t : threads) t.join();
  for (const ServiceModel* m : seen) EXPECT_EQ(m, seen[0]);
  ASSERT_NE(seen[0], nullptr);
}

}  // namespace
}  // namespace stratus::aws
