#include "services/logs/filter_pattern.h"

#include <gtest/gtest.h>

namespace stratus::services::logs {
namespace {

bool M(std::string_view pattern, std::string_view message) {
  auto p = FilterPattern::Compile(pattern);
  EXPECT_TRUE(p.ok()) << pattern << ": " << (p.ok() ? "" : p.error().message);
  return p.ok() && (*p)->Matches(message);
}

void ExpectInvalid(std::string_view pattern) {
  auto p = FilterPattern::Compile(pattern);
  ASSERT_FALSE(p.ok()) << pattern;
  EXPECT_EQ(p.error().code, "InvalidParameterException");
}

TEST(FilterPattern, EmptyMatchesEverything) {
  EXPECT_TRUE(M("", "anything"));
  EXPECT_TRUE(M("   ", ""));
}

TEST(FilterPattern, Terms) {
  EXPECT_TRUE(M("ERROR", "[ERROR] 400 BAD REQUEST"));
  EXPECT_FALSE(M("ERROR", "[error] 400"));
  EXPECT_TRUE(M("ERROR ARGUMENTS", "ERROR: bad ARGUMENTS"));
  EXPECT_FALSE(M("ERROR ARGUMENTS", "ERROR: bad input"));
  EXPECT_TRUE(M("?ERROR ?WARN", "WARN disk"));
  EXPECT_FALSE(M("?ERROR ?WARN", "INFO ok"));
  EXPECT_TRUE(M("ERROR -TIMEOUT", "ERROR boom"));
  EXPECT_FALSE(M("ERROR -TIMEOUT", "ERROR TIMEOUT"));
  EXPECT_TRUE(M("\"Failed to process\"", "x Failed to process: y"));
  EXPECT_FALSE(M("\"Failed to process\"", "Failed process"));
  EXPECT_TRUE(M("%ERR[0-9]+%", "code ERR42 seen"));
  EXPECT_FALSE(M("%ERR[0-9]+%", "code ERR seen"));
}

TEST(FilterPattern, Json) {
  std::string ev = R"({"level":"ERROR","latency":150,"user":{"id":7},"tags":["a","b"],"ok":true,"n":null})";
  EXPECT_TRUE(M(R"({ $.level = "ERROR" })", ev));
  EXPECT_FALSE(M(R"({ $.level = "INFO" })", ev));
  EXPECT_TRUE(M(R"({ $.level != "INFO" })", ev));
  EXPECT_TRUE(M(R"({ $.level = ERR* })", ev));
  EXPECT_TRUE(M(R"({ $.latency > 100 })", ev));
  EXPECT_FALSE(M(R"({ $.latency < 100 })", ev));
  EXPECT_TRUE(M(R"({ $.latency >= 150 && $.user.id = 7 })", ev));
  EXPECT_TRUE(M(R"({ ($.latency < 10 || $.user.id = 7) && $.level = "ERROR" })", ev));
  EXPECT_TRUE(M(R"({ $.tags[1] = "b" })", ev));
  EXPECT_TRUE(M(R"({ $.ok IS TRUE })", ev));
  EXPECT_FALSE(M(R"({ $.ok IS FALSE })", ev));
  EXPECT_TRUE(M(R"({ $.n IS NULL })", ev));
  EXPECT_TRUE(M(R"({ $.missing NOT EXISTS })", ev));
  EXPECT_FALSE(M(R"({ $.level NOT EXISTS })", ev));
  EXPECT_TRUE(M(R"({ $.level = %ERR% })", ev));
  EXPECT_FALSE(M(R"({ $.level = "ERROR" })", "not json at all"));
}

TEST(FilterPattern, Delimited) {
  std::string line =
      R"(127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534)";
  EXPECT_TRUE(M("[ip, user, username, timestamp, request, status_code, bytes]", line));
  EXPECT_TRUE(M("[ip, user, username, timestamp, request, status_code = 404, bytes]", line));
  EXPECT_FALSE(M("[ip, user, username, timestamp, request, status_code = 200, bytes]", line));
  EXPECT_TRUE(M("[..., status_code = 4* || status_code = 5*, bytes > 1000]", line));
  EXPECT_FALSE(M("[..., status_code = 4*, bytes > 2000]", line));
  EXPECT_TRUE(M("[ip = 127.0.0.*, ...]", line));
  EXPECT_FALSE(M("[a, b]", line));  // wrong field count
}

TEST(FilterPattern, MalformedPatternsAreRejected) {
  ExpectInvalid("{ $.level = ");
  ExpectInvalid("{ level = \"x\" }");
  ExpectInvalid("{ $.a = \"x\" ");
  ExpectInvalid("\"unterminated");
  ExpectInvalid("%unterminated");
  ExpectInvalid("%(%");
  ExpectInvalid("[a, b = ]");
  ExpectInvalid("[]");
  ExpectInvalid("{ $.a IS MAYBE }");
  ExpectInvalid(std::string(2000, 'x'));
  std::string deep = "{ " + std::string(100, '(') + "$.a = 1" + std::string(100, ')') + " }";
  ExpectInvalid(deep);
}

}  // namespace
}  // namespace stratus::services::logs
