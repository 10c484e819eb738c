#include "services/lambda/function_url.h"

#include <gtest/gtest.h>

namespace stratus::services::lambda {
namespace {

TEST(FunctionUrlTest, UrlIdFromHost) {
  EXPECT_EQ(UrlIdFromHost("abc123.lambda-url.us-east-1.localhost:4566"), "abc123");
  EXPECT_EQ(UrlIdFromHost("abc123.lambda-url.eu-west-1.localhost.localstack.cloud"), "abc123");
  EXPECT_EQ(UrlIdFromHost("localhost:4566"), "");
  EXPECT_EQ(UrlIdFromHost(".lambda-url.us-east-1.localhost"), "");
  EXPECT_EQ(UrlIdFromHost("abc.lambda-url.us-east-1.example.com"), "");
}

TEST(FunctionUrlTest, EventShape) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/a%20b/c";
  r.query = "x=1&x=2&y=3";
  r.headers.Add("Content-Type", "application/json");
  r.headers.Add("Cookie", "a=1; b=2");
  r.headers.Add("X-Multi", "1");
  r.headers.Add("X-Multi", "2");
  r.body = "{\"k\":1}";
  r.remote_address = "127.0.0.1";
  Json e = UrlEvent(r, "id1", "us-east-1", "000000000000", "req", 1700000000000);
  EXPECT_EQ(e["version"], "2.0");
  EXPECT_EQ(e["rawPath"], "/a b/c");
  EXPECT_EQ(e["rawQueryString"], "x=1&x=2&y=3");
  EXPECT_EQ(e["queryStringParameters"]["x"], "1,2");
  EXPECT_EQ(e["headers"]["x-multi"], "1,2");
  EXPECT_EQ(e["cookies"].size(), 2u);
  EXPECT_EQ(e["body"], "{\"k\":1}");
  EXPECT_EQ(e["isBase64Encoded"], false);
  EXPECT_EQ(e["requestContext"]["http"]["method"], "POST");
  EXPECT_EQ(e["requestContext"]["timeEpoch"], 1700000000000);

  r.headers.Set("Content-Type", "application/octet-stream");
  r.body = std::string("\x00\xff", 2);
  Json b = UrlEvent(r, "id1", "us-east-1", "000000000000", "req", 1700000000000);
  EXPECT_EQ(b["isBase64Encoded"], true);
  EXPECT_EQ(b["body"], "AP8=");
}

TEST(FunctionUrlTest, ResponseMapping) {
  HttpResponse plain = UrlResponse("{\"hello\":\"world\"}");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, "{\"hello\":\"world\"}");
  HttpResponse full = UrlResponse(
      R"({"statusCode":201,"headers":{"X-A":"b"},"cookies":["c=1"],"body":"aGk=","isBase64Encoded":true})");
  EXPECT_EQ(full.status, 201);
  EXPECT_EQ(full.body, "hi");
  EXPECT_EQ(full.headers.GetOr("x-a"), "b");
  EXPECT_EQ(full.headers.GetOr("set-cookie"), "c=1");
  HttpResponse str = UrlResponse("\"text\"");
  EXPECT_EQ(str.body, "text");
  HttpResponse bad = UrlResponse(R"({"statusCode":999})");
  EXPECT_EQ(bad.status, 500);
}

}  // namespace
}  // namespace stratus::services::lambda
