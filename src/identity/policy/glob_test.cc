#include "identity/policy/glob.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace stratus::identity::policy {
namespace {

TEST(Glob, LiteralsAndWildcards) {
  EXPECT_TRUE(Glob::Compile("s3:GetObject").Matches("s3:GetObject"));
  EXPECT_FALSE(Glob::Compile("s3:GetObject").Matches("s3:GetObjects"));
  EXPECT_TRUE(Glob::Compile("*").Matches(""));
  EXPECT_TRUE(Glob::Compile("*").Matches("anything"));
  EXPECT_TRUE(Glob::Compile("s3:Get*").Matches("s3:GetObject"));
  EXPECT_TRUE(Glob::Compile("s3:Get*").Matches("s3:Get"));
  EXPECT_FALSE(Glob::Compile("s3:Get*").Matches("s3:PutObject"));
  EXPECT_TRUE(Glob::Compile("*Object").Matches("s3:GetObject"));
  EXPECT_TRUE(Glob::Compile("s3:*Obj*t").Matches("s3:GetObject"));
  EXPECT_TRUE(Glob::Compile("a*b*c").Matches("abc"));
  EXPECT_TRUE(Glob::Compile("a*b*c").Matches("axxbyyc"));
  EXPECT_FALSE(Glob::Compile("a*b*c").Matches("axxcyyb"));
  EXPECT_FALSE(Glob::Compile("ab*ba").Matches("aba"));  // prefix and suffix may not overlap
  EXPECT_TRUE(Glob::Compile("ab*ba").Matches("abba"));
  EXPECT_TRUE(Glob::Compile("s3:?etObject").Matches("s3:GetObject"));
  EXPECT_FALSE(Glob::Compile("s3:?etObject").Matches("s3:etObject"));
  EXPECT_TRUE(Glob::Compile("a*?b").Matches("axb"));
  EXPECT_FALSE(Glob::Compile("a*?b").Matches("ab"));
  EXPECT_TRUE(Glob::Compile("**").Matches("x"));
  EXPECT_TRUE(Glob::Compile("a**b").Matches("ab"));
  EXPECT_TRUE(Glob::Compile("").Matches(""));
  EXPECT_FALSE(Glob::Compile("").Matches("a"));
}

TEST(Glob, MiddleSegmentsWithQuestionMarks) {
  EXPECT_TRUE(Glob::Compile("*a?c*").Matches("xxabcxx"));
  EXPECT_FALSE(Glob::Compile("*a?c*").Matches("xxacxx"));
  EXPECT_TRUE(Glob::Compile("x*a?c*y").Matches("xaacabcy"));
  EXPECT_TRUE(Glob::Compile("*aab*").Matches("aaab"));
}

TEST(Glob, CaseInsensitiveForActions) {
  Glob g = Glob::Compile("SQS:send*", true);
  EXPECT_TRUE(g.Matches("sqs:SendMessage"));
  EXPECT_TRUE(g.Matches("SQS:SENDMESSAGEBATCH"));
  EXPECT_FALSE(Glob::Compile("sqs:send*", false).Matches("sqs:SendMessage"));
  EXPECT_TRUE(Glob::Compile("*SEND*", true).Matches("sqs:sendmessage"));
}

TEST(Glob, LongSegmentsUseSeveralWords) {
  std::string seg(150, 'a');
  seg += "b";
  Glob g = Glob::Compile("x*" + seg + "*y");
  EXPECT_TRUE(g.Matches("x" + std::string(300, 'a') + "b" + "y"));
  EXPECT_FALSE(g.Matches("x" + std::string(300, 'a') + "y"));
}

TEST(Glob, AdversarialPatternsStayLinear) {
  // A backtracking matcher needs exponential or quadratic time here.
  std::string pattern;
  for (int i = 0; i < 200; ++i) pattern += "*a";
  pattern += "*b";
  std::string text(100000, 'a');
  Glob g = Glob::Compile(pattern);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(g.Matches(text));
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(ms.count(), 2000.0);  // generous: a backtracking matcher would never finish
  std::string long_seg = "*" + std::string(2000, 'a') + "b*";
  EXPECT_FALSE(Glob::Compile(long_seg).Matches(text));
}

TEST(ResourcePattern, FieldsAndResourcePart) {
  auto p = ResourcePattern::Compile("arn:aws:sqs:*:123456789012:orders-*");
  EXPECT_TRUE(p.Matches("arn:aws:sqs:us-east-1:123456789012:orders-eu"));
  EXPECT_FALSE(p.Matches("arn:aws:sqs:us-east-1:999999999999:orders-eu"));
  EXPECT_FALSE(p.Matches("arn:aws:sns:us-east-1:123456789012:orders-eu"));
  // The resource part may contain colons and slashes; '*' crosses them.
  auto s3 = ResourcePattern::Compile("arn:aws:s3:::bucket/*");
  EXPECT_TRUE(s3.Matches("arn:aws:s3:::bucket/a/b:c"));
  EXPECT_FALSE(s3.Matches("arn:aws:s3:::bucket"));
  // A '*' in a field does not cross a colon.
  auto f = ResourcePattern::Compile("arn:aws:lambda:us-east-1:*:function:f");
  EXPECT_FALSE(f.Matches("arn:aws:lambda:us-east-1:1:2:function:f"));
  EXPECT_TRUE(ResourcePattern::Compile("*").Matches("arn:aws:s3:::x"));
  EXPECT_TRUE(ResourcePattern::Compile("*").Matches("*"));
  EXPECT_FALSE(p.Matches("*"));
  EXPECT_FALSE(p.Matches("not-an-arn"));
}

TEST(ResourcePattern, ShortArns) {
  auto p = ResourcePattern::Compile("arn:aws:sqs:*");
  EXPECT_TRUE(p.Matches("arn:aws:sqs:us-east-1:123456789012:q"));
  EXPECT_TRUE(p.Matches("arn:aws:sqs:us-east-1:123456789012:q", /*expand_short=*/false));
  auto literal = ResourcePattern::Compile("arn:aws:sqs");
  EXPECT_TRUE(literal.Matches("arn:aws:sqs:us-east-1:123456789012:q"));
  EXPECT_FALSE(literal.Matches("arn:aws:sqs:us-east-1:123456789012:q", false));
}

}  // namespace
}  // namespace stratus::identity::policy
