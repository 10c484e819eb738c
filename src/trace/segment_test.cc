#include <gtest/gtest.h>

#include "trace/recorder.h"

namespace stratus::trace {
namespace {

constexpr std::string_view kTraceId = "1-581cf771-a006649127e371903a2de979";

TEST(SegmentDocument, MinimalSegmentAsXRayDocumentsIt) {
  Segment s;
  s.name = "example.com";
  s.id = "70de5b6f19ff9a0a";
  s.trace_id = std::string(kTraceId);
  s.start_time = 1478293361.271;
  s.end_time = 1478293361.449;
  EXPECT_EQ(
      SegmentDocumentJson(s),
      R"({"name":"example.com","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":1478293361.271,"end_time":1478293361.449})");
}

TEST(SegmentDocument, FullSegment) {
  TraceContext ctx =
      BeginHopWithIds("Root=1-581cf771-a006649127e371903a2de979;Parent=53995c3f42cd8ad8;Sampled=1",
                      "", "70de5b6f19ff9a0a");
  Segment s = NewSegment(ctx, "my-function", "AWS::Lambda::Function", 1700000000.5);
  s.http_request =
      HttpRequestInfo{"POST",      "http://localhost:4566/2015-03-31/functions/f/invocations",
                      "aws-cli/2", "127.0.0.1",
                      false,       false};
  SetHttpStatus(s, 502);
  s.cause.working_directory = "/var/task";
  s.cause.exceptions.push_back({"0000000000000001", "boom", "Runtime.ExitError", false});
  ASSERT_TRUE(Annotate(s, "function_version", "$LATEST"));
  ASSERT_TRUE(Annotate(s, "cold_start", true));
  s.metadata = Json::object({{"stratus", {{"memory_mb", 128}}}});
  s.aws = Json::object({{"account_id", "000000000000"}});
  Segment sub = NewSubsegment("DynamoDB", "aws", 1700000000.6);
  sub.end_time = 1700000000.7;
  sub.aws = Json::object({{"operation", "PutItem"}, {"table_name", "t"}});
  s.subsegments.push_back(sub);
  s.end_time = 1700000001;

  Json doc = ToSegmentDocument(s);
  EXPECT_EQ(doc["trace_id"], kTraceId);
  EXPECT_EQ(doc["parent_id"], "53995c3f42cd8ad8");
  EXPECT_EQ(doc["origin"], "AWS::Lambda::Function");
  EXPECT_EQ(doc["http"]["request"]["method"], "POST");
  EXPECT_EQ(doc["http"]["response"]["status"], 502);
  EXPECT_EQ(doc["fault"], true);
  EXPECT_FALSE(doc.contains("error"));
  EXPECT_EQ(doc["cause"]["exceptions"][0]["type"], "Runtime.ExitError");
  EXPECT_EQ(doc["annotations"]["cold_start"], true);
  EXPECT_EQ(doc["subsegments"][0]["namespace"], "aws");
  EXPECT_FALSE(doc["subsegments"][0].contains("trace_id"));

  // And back.
  auto parsed = ParseSegmentDocument(DumpJson(doc));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(ToSegmentDocument(*parsed), doc);
}

TEST(SegmentDocument, AwsStringsJoinTheAwsObject) {
  TraceContext ctx = BeginHopWithIds("Root=1-581cf771-a006649127e371903a2de979;Sampled=1", "",
                                     "70de5b6f19ff9a0a");
  Segment s = NewSegment(ctx, "fn", "AWS::Lambda::Function", 1700000000.5);
  s.end_time = 1700000001;
  s.aws_strings.push_back({"function_arn", "arn:aws:lambda:us-east-1:000000000000:function:fn"});
  s.aws_strings.push_back({"request_id", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"});
  Json doc = ToSegmentDocument(s);
  EXPECT_EQ(doc["aws"], Json::object({{"function_arn", "arn:aws:lambda:us-east-1:000000000000:function:fn"},
                                      {"request_id", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}}));
  // Beside a Json `aws`: its members first; a key it has already is not written twice.
  s.aws = Json::object({{"account_id", "000000000000"}, {"request_id", "from-json"}});
  doc = ToSegmentDocument(s);
  EXPECT_EQ(DumpJson(doc["aws"]),
            R"({"account_id":"000000000000","request_id":"from-json","function_arn":"arn:aws:lambda:us-east-1:000000000000:function:fn"})");
  // Parsed back, every member is in `aws`.
  auto parsed = ParseSegmentDocument(DumpJson(doc));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->aws_strings.empty());
  EXPECT_EQ(parsed->aws.size(), 3u);
  EXPECT_EQ(ToSegmentDocument(*parsed), doc);
  // No aws members at all: no "aws" key.
  Segment bare = NewSegment(ctx, "fn", "", 1);
  bare.end_time = 2;
  EXPECT_FALSE(ToSegmentDocument(bare).contains("aws"));
}

TEST(SegmentDocument, InProgressAndStandaloneSubsegment) {
  auto in_progress = ParseSegmentDocument(
      R"({"name":"s","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":1,"in_progress":true})");
  ASSERT_TRUE(in_progress.ok()) << in_progress.error().message;
  EXPECT_TRUE(in_progress->in_progress);
  EXPECT_FALSE(ToSegmentDocument(*in_progress).contains("end_time"));

  auto sub = ParseSegmentDocument(
      R"({"name":"sub","id":"70de5b6f19ff9a0b","trace_id":"1-581cf771-a006649127e371903a2de979","type":"subsegment","parent_id":"70de5b6f19ff9a0a","start_time":1,"end_time":2,"namespace":"remote"})");
  ASSERT_TRUE(sub.ok()) << sub.error().message;
  EXPECT_EQ(sub->type, "subsegment");
  EXPECT_EQ(sub->parent_id, "70de5b6f19ff9a0a");
}

TEST(SegmentDocument, KeepsFieldsItDoesNotModel) {
  std::string text =
      R"({"name":"db","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":1,"end_time":2,"sql":{"url":"jdbc:x","sanitized_query":"SELECT 1"},"service":{"version":"1.2"},"cause":"0000000000000001"})";
  auto s = ParseSegmentDocument(text);
  ASSERT_TRUE(s.ok()) << s.error().message;
  Json doc = ToSegmentDocument(*s);
  EXPECT_EQ(doc["sql"]["sanitized_query"], "SELECT 1");
  EXPECT_EQ(doc["service"]["version"], "1.2");
  EXPECT_EQ(doc["cause"], "0000000000000001");
}

TEST(SegmentDocument, RejectsInvalidDocuments) {
  const std::string ok_tail = R"("start_time":1,"end_time":2)";
  struct Case {
    std::string json;
    std::string message_part;
  } cases[] = {
      {"not json", "not valid JSON"},
      {"[]", "JSON object"},
      {R"({"id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979",)" + ok_tail +
           "}",
       "'name'"},
      {R"({"name":"","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979",)" +
           ok_tail + "}",
       "'name'"},
      {R"({"name":")" + std::string(201, 'n') +
           R"(","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979",)" +
           ok_tail + "}",
       "'name'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0","trace_id":"1-581cf771-a006649127e371903a2de979",)" +
           ok_tail + "}",
       "'id'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a",)" + ok_tail + "}", "'trace_id'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de97",)" +
           ok_tail + "}",
       "'trace_id'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","end_time":2})",
       "'start_time'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":"1","end_time":2})",
       "'start_time'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":1})",
       "'end_time' or 'in_progress'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","type":"subsegment",)" +
           ok_tail + "}",
       "'parent_id'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","type":"segment",)" +
           ok_tail + "}",
       "'type'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","annotations":{"a":{"b":1}},)" +
           ok_tail + "}",
       "annotation 'a'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","annotations":{"a-b":1},)" +
           ok_tail + "}",
       "annotation key"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","error":"yes",)" +
           ok_tail + "}",
       "'error'"},
      {R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","subsegments":[{"name":"s","id":"70de5b6f19ff9a0b","start_time":1}],)" +
           ok_tail + "}",
       "'end_time' or 'in_progress'"},
      {std::string(kMaxSegmentDocumentBytes + 1, ' '), "64 kB"},
  };
  for (const Case& c : cases) {
    auto r = ParseSegmentDocument(c.json);
    ASSERT_FALSE(r.ok()) << c.json.substr(0, 120);
    EXPECT_EQ(r.error().code, "InvalidRequestException");
    EXPECT_NE(r.error().message.find(c.message_part), std::string::npos)
        << c.json.substr(0, 120) << " -> " << r.error().message;
  }
}

TEST(SegmentDocument, RejectsDeepNesting) {
  std::string doc;
  for (int i = 0; i < 40; ++i) {
    doc +=
        R"({"name":"n","id":"70de5b6f19ff9a0a","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":1,"end_time":2,"subsegments":[)";
  }
  doc += R"({"name":"n","id":"70de5b6f19ff9a0a","start_time":1,"end_time":2})";
  for (int i = 0; i < 40; ++i) doc += "]}";
  auto r = ParseSegmentDocument(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested too deeply"), std::string::npos);
}

TEST(Segment, HttpStatusSetsFlags) {
  Segment ok, client, throttled, server;
  SetHttpStatus(ok, 200);
  SetHttpStatus(client, 404);
  SetHttpStatus(throttled, 429);
  SetHttpStatus(server, 503);
  EXPECT_FALSE(ok.error || ok.fault || ok.throttle);
  EXPECT_TRUE(client.error && !client.fault && !client.throttle);
  EXPECT_TRUE(throttled.error && throttled.throttle && !throttled.fault);
  EXPECT_TRUE(server.fault && !server.error);
  EXPECT_EQ(server.http_response->status, 503);
}

TEST(Segment, AnnotationRules) {
  Segment s;
  EXPECT_TRUE(Annotate(s, "user_id", "u-1"));
  EXPECT_TRUE(Annotate(s, "count", 3));
  EXPECT_FALSE(Annotate(s, "bad key", 1));
  EXPECT_FALSE(Annotate(s, "", 1));
  EXPECT_FALSE(Annotate(s, "obj", Json::object()));
  for (int i = 0; i < 48; ++i) EXPECT_TRUE(Annotate(s, "k" + std::to_string(i), i));
  EXPECT_FALSE(Annotate(s, "one_too_many", 1));
  EXPECT_TRUE(Annotate(s, "count", 4));  // replacing an existing key is fine
  EXPECT_EQ(s.annotations.size(), kMaxAnnotations);
}

}  // namespace
}  // namespace stratus::trace
