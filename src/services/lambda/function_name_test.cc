#include "services/lambda/function_name.h"

#include <gtest/gtest.h>

namespace stratus::services::lambda {
namespace {

TEST(FunctionNameTest, ParsesEveryForm) {
  auto a = ParseFunctionRef("my-fn");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "my-fn");
  EXPECT_EQ(a->qualifier, "");
  auto b = ParseFunctionRef("my-fn:prod");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->qualifier, "prod");
  auto c = ParseFunctionRef("arn:aws:lambda:eu-west-1:123456789012:function:my-fn:7");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "my-fn");
  EXPECT_EQ(c->qualifier, "7");
  EXPECT_EQ(c->region, "eu-west-1");
  EXPECT_EQ(c->account, "123456789012");
  auto d = ParseFunctionRef("123456789012:function:my-fn");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->account, "123456789012");
  EXPECT_EQ(d->name, "my-fn");
}

TEST(FunctionNameTest, QualifierMustAgree) {
  EXPECT_TRUE(ParseFunctionRef("f:1", "1").ok());
  auto r = ParseFunctionRef("f:1", "2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidParameterValueException");
  auto q = ParseFunctionRef("f", "$LATEST");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->qualifier, "$LATEST");
}

TEST(FunctionNameTest, RejectsHostileNames) {
  for (const char* bad : {"", "a/b", "../x", "a:b:c:d:e", "arn:aws:s3:::bucket", "x y",
                          "f:bad qualifier", std::string(65, 'a').c_str()}) {
    EXPECT_FALSE(ParseFunctionRef(bad).ok()) << bad;
  }
  // More parts than any form has (the parts are views of the first eight), and the non-ASCII
  // bytes that no locale makes alphanumeric here.
  for (std::string bad : {std::string("arn:aws:lambda:r:1:function:f:q:extra"),
                          std::string("1:function:f:q:x:y:z:w:v:u"), std::string("a:b:c:d:e:f:g:h:i:j"),
                          std::string(":::::::::::"), std::string("caf\xc3\xa9"),
                          std::string("arn:aws:lambda:r:1:function:f:\xe9")}) {
    auto r = ParseFunctionRef(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "InvalidParameterValueException") << bad;
  }
  auto arn8 = ParseFunctionRef("arn:aws:lambda:r:1:function:f:q");
  ASSERT_TRUE(arn8.ok());
  EXPECT_EQ(arn8->qualifier, "q");
}

TEST(FunctionNameTest, Arns) {
  EXPECT_EQ(FunctionArn("us-east-1", "000000000000", "f"),
            "arn:aws:lambda:us-east-1:000000000000:function:f");
  EXPECT_EQ(FunctionArn("us-east-1", "000000000000", "f", "$LATEST"),
            "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST");
  EXPECT_EQ(LayerArn("us-east-1", "000000000000", "l", 3),
            "arn:aws:lambda:us-east-1:000000000000:layer:l:3");
  EXPECT_TRUE(IsVersionNumber("12"));
  EXPECT_FALSE(IsVersionNumber("$LATEST"));
  EXPECT_FALSE(IsVersionNumber(""));
}

}  // namespace
}  // namespace stratus::services::lambda
