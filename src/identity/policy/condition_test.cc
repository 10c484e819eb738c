#include "identity/policy/condition.h"

#include <gtest/gtest.h>

namespace stratus::identity::policy {
namespace {

// Builds a condition from an operator name, a key and values.
Condition Make(std::string_view op, std::string_view key, std::vector<std::string> values) {
  auto parsed = ParseOperator(op);
  EXPECT_TRUE(parsed.has_value()) << op;
  Condition c;
  c.op = parsed->op;
  c.qualifier = parsed->qualifier;
  c.if_exists = parsed->if_exists;
  c.key = std::string(key);
  for (const auto& v : values) c.values.push_back(CompileConditionValue(c.op, v, true));
  return c;
}

bool Eval(std::string_view op, std::string_view key, std::vector<std::string> values,
          const RequestContext& ctx) {
  return EvaluateCondition(Make(op, key, std::move(values)), &ctx, true);
}

TEST(ParseOperator, NamesQualifiersAndIfExists) {
  auto p = ParseOperator("ForAnyValue:StringLikeIfExists");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->op, Operator::kStringLike);
  EXPECT_EQ(p->qualifier, SetQualifier::kForAnyValue);
  EXPECT_TRUE(p->if_exists);
  EXPECT_TRUE(ParseOperator("stringequals"));
  EXPECT_FALSE(ParseOperator("StringEqualz"));
  EXPECT_FALSE(ParseOperator("NullIfExists"));
  EXPECT_FALSE(ParseOperator("ForSomeValues:StringEquals"));
  EXPECT_FALSE(ParseOperator("IfExists"));
}

TEST(Conditions, StringOperators) {
  RequestContext ctx;
  ctx.Set("aws:username", "Alice");
  EXPECT_TRUE(Eval("StringEquals", "aws:username", {"Bob", "Alice"}, ctx));
  EXPECT_FALSE(Eval("StringEquals", "aws:username", {"alice"}, ctx));
  EXPECT_TRUE(Eval("StringNotEquals", "aws:username", {"Bob"}, ctx));
  EXPECT_FALSE(Eval("StringNotEquals", "aws:username", {"Bob", "Alice"}, ctx));
  EXPECT_TRUE(Eval("StringEqualsIgnoreCase", "aws:username", {"ALICE"}, ctx));
  EXPECT_FALSE(Eval("StringNotEqualsIgnoreCase", "aws:username", {"alice"}, ctx));
  EXPECT_TRUE(Eval("StringLike", "aws:username", {"A*e"}, ctx));
  EXPECT_TRUE(Eval("StringLike", "aws:username", {"Al?ce"}, ctx));
  EXPECT_FALSE(Eval("StringLike", "aws:username", {"a*"}, ctx));
  EXPECT_TRUE(Eval("StringNotLike", "aws:username", {"B*"}, ctx));
  EXPECT_FALSE(Eval("StringNotLike", "aws:username", {"B*", "A*"}, ctx));
}

TEST(Conditions, AbsentKeys) {
  RequestContext ctx;
  EXPECT_FALSE(Eval("StringEquals", "aws:username", {"x"}, ctx));
  EXPECT_TRUE(Eval("StringNotEquals", "aws:username", {"x"}, ctx));
  EXPECT_TRUE(Eval("StringEqualsIfExists", "aws:username", {"x"}, ctx));
  EXPECT_TRUE(Eval("NotIpAddress", "aws:sourceip", {"10.0.0.0/8"}, ctx));
  EXPECT_FALSE(Eval("IpAddress", "aws:sourceip", {"10.0.0.0/8"}, ctx));
  EXPECT_TRUE(Eval("Null", "aws:username", {"true"}, ctx));
  EXPECT_FALSE(Eval("Null", "aws:username", {"false"}, ctx));
  EXPECT_TRUE(Eval("ForAllValues:StringEquals", "aws:tagkeys", {"a"}, ctx));
  EXPECT_FALSE(Eval("ForAnyValue:StringEquals", "aws:tagkeys", {"a"}, ctx));
  EXPECT_TRUE(Eval("ForAnyValue:StringEqualsIfExists", "aws:tagkeys", {"a"}, ctx));
}

TEST(Conditions, NullOnPresentKey) {
  RequestContext ctx;
  ctx.Set("aws:username", "a");
  EXPECT_FALSE(Eval("Null", "aws:username", {"true"}, ctx));
  EXPECT_TRUE(Eval("Null", "aws:username", {"false"}, ctx));
}

TEST(Conditions, Numeric) {
  RequestContext ctx;
  ctx.Set("s3:max-keys", "10");
  EXPECT_TRUE(Eval("NumericEquals", "s3:max-keys", {"10"}, ctx));
  EXPECT_TRUE(Eval("NumericEquals", "s3:max-keys", {"10.0"}, ctx));
  EXPECT_TRUE(Eval("NumericNotEquals", "s3:max-keys", {"11"}, ctx));
  EXPECT_TRUE(Eval("NumericLessThan", "s3:max-keys", {"11"}, ctx));
  EXPECT_FALSE(Eval("NumericLessThan", "s3:max-keys", {"10"}, ctx));
  EXPECT_TRUE(Eval("NumericLessThanEquals", "s3:max-keys", {"10"}, ctx));
  EXPECT_TRUE(Eval("NumericGreaterThan", "s3:max-keys", {"9"}, ctx));
  EXPECT_TRUE(Eval("NumericGreaterThanEquals", "s3:max-keys", {"10"}, ctx));
  EXPECT_FALSE(Eval("NumericGreaterThanEquals", "s3:max-keys", {"not-a-number"}, ctx));
  ctx.Set("s3:max-keys", "ten");
  EXPECT_FALSE(Eval("NumericEquals", "s3:max-keys", {"10"}, ctx));
}

TEST(Conditions, Dates) {
  RequestContext ctx;
  ctx.Set("aws:currenttime", "2024-06-01T12:00:00Z");
  EXPECT_TRUE(Eval("DateGreaterThan", "aws:currenttime", {"2024-01-01T00:00:00Z"}, ctx));
  EXPECT_TRUE(Eval("DateLessThan", "aws:currenttime", {"2025-01-01"}, ctx));
  EXPECT_TRUE(Eval("DateEquals", "aws:currenttime", {"2024-06-01T12:00:00Z"}, ctx));
  EXPECT_TRUE(Eval("DateNotEquals", "aws:currenttime", {"2024-06-01T12:00:01Z"}, ctx));
  EXPECT_TRUE(Eval("DateLessThanEquals", "aws:currenttime", {"1717243200"}, ctx));
  EXPECT_TRUE(Eval("DateGreaterThanEquals", "aws:currenttime", {"1717243200"}, ctx));
  EXPECT_FALSE(Eval("DateGreaterThan", "aws:currenttime", {"garbage"}, ctx));
  ctx.Set("aws:epochtime", "1717243200");
  EXPECT_TRUE(Eval("DateEquals", "aws:epochtime", {"2024-06-01T12:00:00Z"}, ctx));
}

TEST(Conditions, BoolAndBinary) {
  RequestContext ctx;
  ctx.Set("aws:securetransport", "false");
  EXPECT_TRUE(Eval("Bool", "aws:securetransport", {"false"}, ctx));
  EXPECT_TRUE(Eval("Bool", "aws:securetransport", {"FALSE"}, ctx));
  EXPECT_FALSE(Eval("Bool", "aws:securetransport", {"true"}, ctx));
  EXPECT_TRUE(Eval("BoolIfExists", "aws:multifactorauthpresent", {"true"}, ctx));
  ctx.Set("x:bin", "QmluYXJ5");
  EXPECT_TRUE(Eval("BinaryEquals", "x:bin", {"QmluYXJ5"}, ctx));
  EXPECT_FALSE(Eval("BinaryEquals", "x:bin", {"QmluYXJ6"}, ctx));
}

TEST(Conditions, IpAddresses) {
  RequestContext ctx;
  ctx.Set("aws:sourceip", "10.1.2.3");
  EXPECT_TRUE(Eval("IpAddress", "aws:sourceip", {"10.0.0.0/8"}, ctx));
  EXPECT_TRUE(Eval("IpAddress", "aws:sourceip", {"10.1.2.3"}, ctx));
  EXPECT_TRUE(Eval("IpAddress", "aws:sourceip", {"10.1.2.0/23"}, ctx));
  EXPECT_FALSE(Eval("IpAddress", "aws:sourceip", {"192.168.0.0/16"}, ctx));
  EXPECT_TRUE(Eval("NotIpAddress", "aws:sourceip", {"192.168.0.0/16"}, ctx));
  EXPECT_FALSE(Eval("IpAddress", "aws:sourceip", {"not-an-ip"}, ctx));
  EXPECT_TRUE(Eval("IpAddress", "aws:sourceip", {"0.0.0.0/0"}, ctx));
  ctx.Set("aws:sourceip", "2001:db8::1");
  EXPECT_TRUE(Eval("IpAddress", "aws:sourceip", {"2001:db8::/32"}, ctx));
  EXPECT_FALSE(Eval("IpAddress", "aws:sourceip", {"10.0.0.0/8"}, ctx));
  ctx.Set("aws:sourceip", "garbage");
  EXPECT_FALSE(Eval("IpAddress", "aws:sourceip", {"0.0.0.0/0"}, ctx));
}

TEST(Conditions, Arns) {
  RequestContext ctx;
  ctx.Set("aws:sourcearn", "arn:aws:sns:us-east-1:123456789012:topic");
  EXPECT_TRUE(Eval("ArnEquals", "aws:sourcearn", {"arn:aws:sns:us-east-1:123456789012:topic"}, ctx));
  EXPECT_TRUE(Eval("ArnLike", "aws:sourcearn", {"arn:aws:sns:*:123456789012:*"}, ctx));
  EXPECT_TRUE(Eval("ArnEquals", "aws:sourcearn", {"arn:aws:sns:*:*:top*"}, ctx));
  EXPECT_FALSE(Eval("ArnLike", "aws:sourcearn", {"arn:aws:sqs:*:*:*"}, ctx));
  EXPECT_TRUE(Eval("ArnNotLike", "aws:sourcearn", {"arn:aws:sqs:*:*:*"}, ctx));
  EXPECT_FALSE(Eval("ArnNotEquals", "aws:sourcearn", {"arn:aws:sns:*:*:*"}, ctx));
  ctx.Set("aws:sourcearn", "not-an-arn");
  EXPECT_FALSE(Eval("ArnLike", "aws:sourcearn", {"*"}, ctx));
}

TEST(Conditions, MultivaluedKeys) {
  RequestContext ctx;
  ctx.SetMulti("aws:tagkeys", {"env", "team"});
  EXPECT_TRUE(Eval("ForAllValues:StringEquals", "aws:tagkeys", {"env", "team", "cost"}, ctx));
  EXPECT_FALSE(Eval("ForAllValues:StringEquals", "aws:tagkeys", {"env"}, ctx));
  EXPECT_TRUE(Eval("ForAnyValue:StringEquals", "aws:tagkeys", {"env"}, ctx));
  EXPECT_FALSE(Eval("ForAnyValue:StringEquals", "aws:tagkeys", {"cost"}, ctx));
  EXPECT_TRUE(Eval("ForAllValues:StringNotEquals", "aws:tagkeys", {"cost"}, ctx));
  EXPECT_FALSE(Eval("ForAllValues:StringNotEquals", "aws:tagkeys", {"env"}, ctx));
  EXPECT_TRUE(Eval("ForAnyValue:StringNotEquals", "aws:tagkeys", {"env"}, ctx));
  EXPECT_TRUE(Eval("ForAnyValue:StringLike", "aws:tagkeys", {"te*"}, ctx));
  // Without a set operator a multivalued key does not match.
  EXPECT_FALSE(Eval("StringEquals", "aws:tagkeys", {"env", "team"}, ctx));
  EXPECT_FALSE(Eval("StringNotEquals", "aws:tagkeys", {"x"}, ctx));
  // An empty set: ForAllValues is vacuously true, ForAnyValue false.
  ctx.SetMulti("aws:tagkeys", {});
  EXPECT_TRUE(Eval("ForAllValues:StringEquals", "aws:tagkeys", {"env"}, ctx));
  EXPECT_FALSE(Eval("ForAnyValue:StringEquals", "aws:tagkeys", {"env"}, ctx));
  EXPECT_TRUE(Eval("Null", "aws:tagkeys", {"true"}, ctx));
}

TEST(Conditions, PolicyVariablesInValues) {
  RequestContext ctx;
  ctx.Set("aws:username", "alice");
  ctx.Set("s3:prefix", "home/alice/docs");
  EXPECT_TRUE(Eval("StringLike", "s3:prefix", {"home/${aws:username}/*"}, ctx));
  EXPECT_FALSE(Eval("StringLike", "s3:prefix", {"home/${aws:userid}/*"}, ctx));
  EXPECT_TRUE(Eval("StringLike", "s3:prefix", {"home/${aws:userid, 'alice'}/*"}, ctx));
  // Variables are literal text in legacy (2008-10-17) documents.
  Condition c = Make("StringEquals", "s3:prefix", {});
  c.values.push_back(CompileConditionValue(c.op, "${aws:username}", false));
  ctx.Set("s3:prefix", "${aws:username}");
  EXPECT_TRUE(EvaluateCondition(c, &ctx, false));
}

TEST(Variables, Resolve) {
  RequestContext ctx;
  ctx.Set("aws:username", "bob");
  ctx.Set("aws:PrincipalTag/Team", "blue");
  EXPECT_EQ(*ResolveVariables("a/${aws:username}/b", &ctx), "a/bob/b");
  EXPECT_EQ(*ResolveVariables("${aws:principaltag/team}", &ctx), "blue");
  EXPECT_EQ(*ResolveVariables("${*}${?}${$}", &ctx), "*?$");
  EXPECT_FALSE(ResolveVariables("${aws:nothing}", &ctx));
  EXPECT_EQ(*ResolveVariables("${aws:nothing, 'dflt'}", &ctx), "dflt");
  EXPECT_EQ(*ResolveVariables("${unterminated", &ctx), "${unterminated");
}

TEST(IpNetwork, Parse) {
  uint8_t b[16];
  int bits = 0;
  EXPECT_TRUE(ParseIpNetwork("192.0.2.0/24", b, bits));
  EXPECT_EQ(bits, 120);
  EXPECT_TRUE(ParseIpNetwork("::1", b, bits));
  EXPECT_EQ(bits, 128);
  EXPECT_FALSE(ParseIpNetwork("1.2.3.4/33", b, bits));
  EXPECT_FALSE(ParseIpNetwork("1.2.3", b, bits));
  EXPECT_FALSE(ParseIpNetwork("", b, bits));
  EXPECT_FALSE(ParseIpNetwork(std::string(100, '1'), b, bits));
}

}  // namespace
}  // namespace stratus::identity::policy
