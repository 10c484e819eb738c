// The operation → action/resource table, condition keys from input, and resource-policy reads.
#include <gtest/gtest.h>

#include "services/iam/resources.h"

namespace stratus::services::iam {
namespace {

aws::Operation Op(std::string name, std::string method = "POST", std::string uri = "/") {
  aws::Operation op;
  op.name = std::move(name);
  op.http_method = std::move(method);
  op.request_uri = std::move(uri);
  return op;
}

constexpr const char* kAcct = "111122223333";
constexpr const char* kRegion = "eu-west-1";

TEST(Resources, PrefixesFollowIamNotStratusServiceNames) {
  EXPECT_EQ(ActionPrefix("stepfunctions"), "states");
  EXPECT_EQ(ActionPrefix("dynamodbstreams"), "dynamodb");
  EXPECT_EQ(ActionPrefix("apigatewayv2"), "apigateway");
  EXPECT_EQ(ActionPrefix("sqs"), "sqs");
}

TEST(Resources, QueuesTablesFunctionsAndTopics) {
  auto t = TargetOf("sqs", Op("SendMessage"),
                    {{"QueueUrl", "http://localhost:4566/444455556666/jobs"}}, kAcct, kRegion);
  EXPECT_EQ(t.action, "sqs:SendMessage");
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:sqs:eu-west-1:444455556666:jobs"});
  t = TargetOf("dynamodb", Op("GetItem"), {{"TableName", "users"}}, kAcct, kRegion);
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:dynamodb:eu-west-1:111122223333:table/users"});
  t = TargetOf("dynamodb", Op("BatchGetItem"),
               {{"RequestItems", {{"a", Json::object()}, {"b", Json::object()}}}}, kAcct, kRegion);
  EXPECT_EQ(t.resources.size(), 2u);
  t = TargetOf("lambda", Op("Invoke"), {{"FunctionName", "f"}, {"Qualifier", "live"}}, kAcct, kRegion);
  EXPECT_EQ(t.action, "lambda:InvokeFunction");
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:lambda:eu-west-1:111122223333:function:f:live"});
  t = TargetOf("lambda", Op("GetFunction"), {{"FunctionName", "arn:aws:lambda:us-east-1:1:function:g"}},
               kAcct, kRegion);
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:lambda:us-east-1:1:function:g"});
  t = TargetOf("sns", Op("CreateTopic"), {{"Name", "news"}}, kAcct, kRegion);
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:sns:eu-west-1:111122223333:news"});
  t = TargetOf("stepfunctions", Op("StartExecution"),
               {{"stateMachineArn", "arn:aws:states:eu-west-1:1:stateMachine:m"}}, kAcct, kRegion);
  EXPECT_EQ(t.action, "states:StartExecution");
  t = TargetOf("sts", Op("AssumeRole"), {{"RoleArn", "arn:aws:iam::1:role/r"}}, kAcct, kRegion);
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:iam::1:role/r"});
}

TEST(Resources, S3ActionsAreIamsNotTheOperations) {
  auto t = TargetOf("s3", Op("ListObjectsV2"), {{"Bucket", "b"}}, kAcct, kRegion);
  EXPECT_EQ(t.action, "s3:ListBucket");
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:s3:::b"});
  t = TargetOf("s3", Op("HeadObject"), {{"Bucket", "b"}, {"Key", "a/b.txt"}}, kAcct, kRegion);
  EXPECT_EQ(t.action, "s3:GetObject");
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:s3:::b/a/b.txt"});
  t = TargetOf("s3", Op("GetObject"), {{"Bucket", "b"}, {"Key", "k"}, {"VersionId", "1"}}, kAcct, kRegion);
  EXPECT_EQ(t.action, "s3:GetObjectVersion");
  t = TargetOf("s3", Op("ListBuckets"), Json::object(), kAcct, kRegion);
  EXPECT_EQ(t.action, "s3:ListAllMyBuckets");
  EXPECT_EQ(t.resources, std::vector<std::string>{"*"});
}

TEST(Resources, ApiGatewayIsMethodOnPath) {
  auto t = TargetOf("apigateway", Op("GetRestApi", "GET", "/restapis/{restapi_id}"),
                    {{"restApiId", "x"}, {"restapi_id", "abc"}}, kAcct, kRegion);
  EXPECT_EQ(t.action, "apigateway:GET");
  EXPECT_EQ(t.resources, std::vector<std::string>{"arn:aws:apigateway:eu-west-1::/restapis/abc"});
}

TEST(Resources, UnknownServicesAreAuthorizedByOperationOnStar) {
  auto t = TargetOf("xray", Op("PutTraceSegments"), Json::object(), kAcct, kRegion);
  EXPECT_EQ(t.action, "xray:PutTraceSegments");
  EXPECT_EQ(t.resources, std::vector<std::string>{"*"});
}

TEST(Resources, InputKeys) {
  identity::policy::RequestContext c;
  AddInputKeys("sqs", {{"tags", {{"env", "prod"}}}}, c);
  ASSERT_TRUE(c.Find("aws:requesttag/env"));
  EXPECT_TRUE(c.Find("aws:tagkeys"));
  identity::policy::RequestContext s;
  AddInputKeys("sts", {{"ExternalId", "xyz"}, {"RoleSessionName", "s"}}, s);
  ASSERT_TRUE(s.Find("sts:externalid"));
  identity::policy::RequestContext b;
  AddInputKeys("s3", {{"Prefix", "home/"}}, b);
  ASSERT_TRUE(b.Find("s3:prefix"));
}

TEST(Resources, ResourcePolicyReads) {
  auto c = ResourcePolicyCall("arn:aws:sns:r:1:topic:sub-id", Json::object(), "1", "r");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->operation, "GetTopicAttributes");
  EXPECT_EQ(c->input["TopicArn"], "arn:aws:sns:r:1:topic");
  c = ResourcePolicyCall("arn:aws:lambda:r:1:function:f:live", Json::object(), "1", "r");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->input["FunctionName"], "arn:aws:lambda:r:1:function:f");
  EXPECT_EQ(c->input["Qualifier"], "live");
  c = ResourcePolicyCall("arn:aws:s3:::bucket/key", Json::object(), "1", "r");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->input["Bucket"], "bucket");
  EXPECT_FALSE(ResourcePolicyCall("arn:aws:dynamodb:r:1:table/t", Json::object(), "1", "r"));
  aws::OperationOutput out;
  out.body = Json{{"Attributes", {{"Policy", "{}"}}}};
  EXPECT_EQ(ResourcePolicyFrom("arn:aws:sqs:r:1:q", out), "{}");
}

}  // namespace
}  // namespace stratus::services::iam
