// Hostile input: every malformed request gets the protocol's AWS error, never a crash.
#include <gtest/gtest.h>

#include <random>

#include "aws/protocol/codec.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

HttpRequest Request(std::string method, std::string target, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  r.body = std::move(body);
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return r;
}

// Resolves and decodes; returns the error code ("" on success).
std::string ErrorOf(const Codec& codec, HttpRequest request) {
  auto op = codec.Resolve(request);
  if (!op.ok()) return op.error().code;
  auto d = codec.Decode(**op, request);
  return d.ok() ? "" : d.error().code;
}

HttpRequest DynamoPut(std::string body) {
  return Request("POST", "/", std::move(body),
                 {{"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                  {"Content-Type", "application/x-amz-json-1.0"}});
}

class JsonHostile : public testing::Test {
 protected:
  const ServiceModel* model_ = FindEmbeddedModel("dynamodb");
  std::unique_ptr<Codec> codec_ = MakeCodec(Protocol::kJson, *model_);
};

TEST_F(JsonHostile, MalformedAndTruncatedBodies) {
  for (const char* body : {"{", "{\"TableName\":", "{\"TableName\":\"t\"", "not json", "[1,2]", "\"str\"",
                           "{\"TableName\":\"t\"}}", "{'TableName':'t'}", "Action=PutItem"}) {
    EXPECT_EQ(ErrorOf(*codec_, DynamoPut(body)), "SerializationException") << body;
  }
  EXPECT_EQ(ErrorOf(*codec_, DynamoPut("")), "");  // an empty body is an empty input
}

TEST_F(JsonHostile, WrongTypesAndHugeNumbers) {
  for (const char* body : {R"({"TableName":5})", R"({"TableName":{"a":1}})", R"({"Item":[1]})",
                           R"({"Item":{"a":{"S":7}}})", R"({"Item":{"a":{"BOOL":"yes"}}})",
                           R"({"Item":{"a":{"B":"not base64!"}}})",
                           R"({"ReturnValues":["NONE"]})"}) {
    EXPECT_EQ(ErrorOf(*codec_, DynamoPut(body)), "SerializationException") << body;
  }
  auto sqs = FindEmbeddedModel("sqs");
  auto codec = MakeCodec(Protocol::kJson, *sqs);
  for (const char* body : {R"({"QueueUrl":"u","MessageBody":"b","DelaySeconds":99999999999999999999})",
                           R"({"QueueUrl":"u","MessageBody":"b","DelaySeconds":4294967296})",
                           R"({"QueueUrl":"u","MessageBody":"b","DelaySeconds":1.5})",
                           R"({"QueueUrl":"u","MessageBody":"b","DelaySeconds":1e400})",
                           R"({"QueueUrl":"u","MessageBody":"b","DelaySeconds":"5"})"}) {
    EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", body, {{"X-Amz-Target", "AmazonSQS.SendMessage"}})),
              "SerializationException") << body;
  }
}

TEST_F(JsonHostile, DeepNestingIsRefused) {
  std::string deep = R"({"TableName":"t","Item":{"a":)";
  for (int i = 0; i < 100000; ++i) deep += R"({"L":[)";
  EXPECT_EQ(ErrorOf(*codec_, DynamoPut(deep)), "SerializationException");
  std::string nested = R"({"TableName":"t","Item":{"a":)";
  for (int i = 0; i < 200; ++i) nested += R"({"M":{"k":)";
  nested += R"({"S":"x"})";
  for (int i = 0; i < 200; ++i) nested += "}}";
  nested += "}}";
  EXPECT_EQ(ErrorOf(*codec_, DynamoPut(nested)), "SerializationException");
}

TEST_F(JsonHostile, InvalidUtf8) {
  EXPECT_EQ(ErrorOf(*codec_, DynamoPut("{\"TableName\":\"\xff\xfe\"}")), "SerializationException");
  EXPECT_EQ(ErrorOf(*codec_, DynamoPut("{\"TableName\":\"\xc3\"}")), "SerializationException");
}

TEST_F(JsonHostile, UnknownOperations) {
  EXPECT_EQ(ErrorOf(*codec_, Request("POST", "/", "{}", {{"X-Amz-Target", "DynamoDB_20120810.Nope"}})),
            "UnknownOperationException");
  EXPECT_EQ(ErrorOf(*codec_, Request("POST", "/", "{}", {{"X-Amz-Target", "Other_2020.PutItem"}})),
            "UnknownOperationException");
  EXPECT_EQ(ErrorOf(*codec_, Request("POST", "/", "{}")), "UnknownOperationException");
}

TEST(QueryHostile, MalformedForms) {
  const ServiceModel* model = FindEmbeddedModel("sqs", Protocol::kQuery);
  auto codec = MakeCodec(Protocol::kQuery, *model);
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", "Action=Nope")), "InvalidAction");
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", "{\"Action\":\"SendMessage\"}",
                                    {{"Content-Type", "application/json"}})), "MissingAction");
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", "Action=SendMessage&QueueUrl=u&MessageBody=%FF%FE")),
            "MalformedQueryString");
  {
    HttpRequest r = Request("POST", "/", "Action=SendMessage&QueueUrl=u&MessageBody=%FF%FE");
    auto op = codec->Resolve(r);
    ASSERT_TRUE(op.ok());
    EXPECT_EQ(codec->Decode(**op, r).error().http_status, 404);  // as AWS documents it
  }
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", "Action=SendMessage&QueueUrl=u&MessageBody=b&DelaySeconds=abc")),
            "InvalidParameterValue");
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", "Action=SendMessage&QueueUrl=u&MessageBody=b&DelaySeconds=99999999999")),
            "InvalidParameterValue");
  // Truncated and odd encodings decode leniently, like AWS's form parser.
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", "Action=SendMessage&QueueUrl=u&MessageBody=%2")), "");
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", "Action=SendMessage&&&=&QueueUrl")), "");
  // Absurd indices and very many parameters stay cheap.
  std::string many = "Action=SendMessage&QueueUrl=u&MessageBody=b";
  for (int i = 0; i < 20000; ++i) many += "&MessageAttribute." + std::to_string(i * 7919 + 1) + ".Name=n";
  many += "&MessageAttribute.99999999999999999999.Name=x";
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/", many)), "");
}

TEST(RestXmlHostile, MalformedXml) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  auto put = [&](std::string body) {
    return ErrorOf(*codec, Request("PUT", "/bucket?tagging", std::move(body)));
  };
  EXPECT_EQ(put("<Tagging><TagSet><Tag><Key>a</Key>"), "MalformedXML");
  EXPECT_EQ(put("not xml"), "MalformedXML");
  EXPECT_EQ(put("<Tagging>\xff</Tagging>"), "MalformedXML");
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<TagSet>";
  EXPECT_EQ(put("<Tagging>" + deep), "MalformedXML");
  std::string nested = "<Tagging>";
  for (int i = 0; i < 5000; ++i) nested += "<TagSet><Tag>";
  for (int i = 0; i < 5000; ++i) nested += "</Tag></TagSet>";
  nested += "</Tagging>";
  EXPECT_EQ(put(nested), "");  // unknown nesting is ignored, never walked recursively
  // Entities are not expanded (no billion laughs).
  EXPECT_EQ(put("<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                "<Tagging><TagSet><Tag><Key>&b;</Key><Value>v</Value></Tag></TagSet></Tagging>"), "");
  // Wrong scalar types and headers.
  EXPECT_EQ(ErrorOf(*codec, Request("PUT", "/bucket/key", "x", {{"Content-Length", "ten"}})), "InvalidArgument");
  EXPECT_EQ(ErrorOf(*codec, Request("GET", "/bucket?list-type=2&max-keys=abc", "")), "InvalidArgument");
  EXPECT_EQ(ErrorOf(*codec, Request("PATCH", "/bucket", "")), "MethodNotAllowed");
}

TEST(RestJsonHostile, MalformedBodiesAndBindings) {
  const ServiceModel* model = FindEmbeddedModel("lambda");
  auto codec = MakeCodec(Protocol::kRestJson, *model);
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/2015-03-31/functions", "{\"FunctionName\":")),
            "SerializationException");
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/2015-03-31/functions", "[]")), "SerializationException");
  EXPECT_EQ(ErrorOf(*codec, Request("GET", "/2015-03-31/functions/?MaxItems=lots", "")), "SerializationException");
  EXPECT_EQ(ErrorOf(*codec, Request("GET", "/nowhere", "")), "UnknownOperationException");
  // Invoke's payload is opaque bytes: anything goes.
  EXPECT_EQ(ErrorOf(*codec, Request("POST", "/2015-03-31/functions/f/invocations", "\xff\x00{")), "");
}

// Random bytes and random mutations of valid requests through every codec: no crash, no hang.
TEST(Fuzz, RandomInputNeverCrashes) {
  std::mt19937 rng(42);
  struct Target {
    const char* model;
    Protocol protocol;
    HttpRequest seed;
  };
  std::vector<Target> targets = {
      {"dynamodb", Protocol::kJson,
       DynamoPut(R"({"TableName":"t","Item":{"a":{"S":"x"},"b":{"L":[{"N":"1"},{"M":{"c":{"BOOL":true}}}]}}})")},
      {"sqs", Protocol::kQuery,
       Request("POST", "/", "Action=SendMessage&QueueUrl=u&MessageBody=b&MessageAttribute.1.Name=n&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v")},
      {"s3", Protocol::kRestXml,
       Request("PUT", "/b?tagging", "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>")},
      {"lambda", Protocol::kRestJson,
       Request("POST", "/2015-03-31/functions", R"({"FunctionName":"f","Runtime":"python3.12","Role":"r","Code":{"ZipFile":"UEs="}})")},
  };
  for (const auto& t : targets) {
    const ServiceModel* model = t.protocol == Protocol::kQuery ? FindEmbeddedModel(t.model, t.protocol)
                                                               : FindEmbeddedModel(t.model);
    auto codec = MakeCodec(t.protocol, *model);
    for (int i = 0; i < 3000; ++i) {
      HttpRequest r = t.seed;
      int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits && !r.body.empty(); ++e) {
        size_t pos = rng() % r.body.size();
        switch (rng() % 3) {
          case 0: r.body[pos] = static_cast<char>(rng()); break;
          case 1: r.body.erase(pos, 1 + rng() % 4); break;
          default: r.body.insert(pos, 1, "{}[]<>&=.\"\\:,0"[rng() % 15]);
        }
      }
      auto op = codec->Resolve(r);
      if (!op.ok()) continue;
      auto d = codec->Decode(**op, r);
      if (d.ok()) {
        auto v = ValidateInput(*(*op)->input, d->input);
        (void)ValidationMessage(v);
      }
    }
  }
}

}  // namespace
}  // namespace stratus::aws
