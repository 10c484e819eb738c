#include <string>

#include <gtest/gtest.h>

#include "identity/policy/policy.h"

namespace stratus::identity::policy {
namespace {

std::string ErrorOf(std::string_view doc, PolicyKind kind = PolicyKind::kIdentity) {
  auto r = ParsePolicy(doc, kind);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().code, "MalformedPolicyDocument");
  return r.error().message;
}

TEST(Parser, AcceptsTheUsualForms) {
  auto r = ParsePolicy(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
      "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}})", PolicyKind::kIdentity);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->statements.size(), 1u);
  r = ParsePolicy(R"({"Version":"2012-10-17","Id":"x","Statement":[
      {"Sid":"A1","Effect":"Allow","Action":["sqs:*","sns:Publish"],"Resource":"*",
       "Condition":{"StringEquals":{"aws:username":["a","b"]},"Bool":{"aws:SecureTransport":true},
                    "NumericLessThan":{"s3:max-keys":10}}},
      {"Sid":"D1","Effect":"Deny","NotAction":"iam:*","NotResource":["arn:aws:s3:::x"]}]})",
                  PolicyKind::kIdentity);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Statement& s = (*r)->statements[0];
  ASSERT_EQ(s.conditions.size(), 3u);
  EXPECT_EQ(s.conditions[1].values[0].text, "true");
  EXPECT_EQ(s.conditions[2].values[0].text, "10");
  EXPECT_EQ(s.conditions[0].key, "aws:username");
}

TEST(Parser, MalformedDocumentsGetAwsMessages) {
  EXPECT_EQ(ErrorOf("not json"), "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf("[]"), "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(R"({"Version":"2012-10-17"})"), "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(R"({"Version":"2012-10-17","Statement":[]})"), "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(R"({"Version":"2011-01-01","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})"),
            "The policy failed legacy parsing");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Foo":1}})"),
            "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Action":"s3:*","Resource":"*"}})"),
            "Missing required field Effect");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Alow","Action":"s3:*","Resource":"*"}})"),
            "Invalid effect: Alow");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Resource":"*"}})"),
            "Policy statement must contain actions.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*"}})"),
            "Policy statement must contain resources.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}})"),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}})"),
            "Resource bucket must be in ARN format or \"*\".");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}})"),
            "Policy document should not specify a principal.");
  EXPECT_EQ(ErrorOf(R"({"Statement":[{"Sid":"a","Effect":"Allow","Action":"s3:*","Resource":"*"},
      {"Sid":"a","Effect":"Deny","Action":"s3:*","Resource":"*"}]})"),
            "Statement IDs (SID) in a single policy must be unique.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Sid":"a-b","Effect":"Allow","Action":"s3:*","Resource":"*"}})"),
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
            "regular expression [0-9A-Za-z]*");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
      "Condition":{"StringEqualz":{"aws:username":"a"}}}})"),
            "Invalid Condition type : StringEqualz.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
      "Condition":{"StringEquals":{"username":"a"}}}})"),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
      "Condition":{"StringEquals":{"aws:username":{"a":1}}}}})"),
            "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":["s3:*",1],"Resource":"*"}})"),
            "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:x","Resource":"*"}})"),
            "Syntax errors in policy.");
}

TEST(Parser, ResourceAndTrustPolicies) {
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}})",
                    PolicyKind::kResource),
            "Missing required field Principal");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sqs:*","Resource":"*"}})",
                    PolicyKind::kResource),
            "Invalid principal in policy: \"AWS\":\"bob\"");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},
      "Action":"sts:AssumeRole","Resource":"*"}})", PolicyKind::kTrust),
            "Has prohibited field Resource");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},
      "Action":"s3:GetObject"}})", PolicyKind::kTrust),
            "AssumeRole policy may only specify STS AssumeRole actions.");
  EXPECT_EQ(ErrorOf(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
      "Principal":{"Service":["lambda.amazonaws.com"],"AWS":["arn:aws:iam::123456789012:root","123456789012"]},
      "Action":["sts:AssumeRole","sts:TagSession"]}})", PolicyKind::kTrust), "ok");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Sid":"Allow SNS-1","Effect":"Allow","Principal":"*",
      "Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:123456789012:q"}})",
                    PolicyKind::kResource), "ok");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Principal":"bob","Action":"sqs:*","Resource":"*"}})",
                    PolicyKind::kResource),
            "Invalid principal in policy: \"bob\"");
}

TEST(Parser, TenThousandStatementsParseQuickly) {
  std::string doc = R"({"Version":"2012-10-17","Statement":[)";
  for (int i = 0; i < 10000; ++i) {
    if (i) doc += ",";
    doc += R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b)" +
           std::to_string(i) + R"(/*"})";
  }
  doc += "]}";
  auto r = ParsePolicy(doc, PolicyKind::kIdentity);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->statements.size(), 10000u);
}

TEST(Parser, DeepOrHostileJsonIsRejectedNotCrashed) {
  std::string deep(5000, '[');
  EXPECT_EQ(ErrorOf(deep), "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(std::string("{\"Statement\":\"\xff\xfe\"}")), "Syntax errors in policy.");
  EXPECT_EQ(ErrorOf(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":[]}})"),
            "Syntax errors in policy.");
}

}  // namespace
}  // namespace stratus::identity::policy
