// Pure rules: names, addressing, ranges, conditions, checksums, ETags, CORS, event matching.
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/checksums.h"
#include "services/s3/cors.h"
#include "services/s3/events.h"
#include "services/s3/http_rules.h"
#include "services/s3/names.h"

namespace stratus::services::s3 {
namespace {

TEST(Names, BucketNamesFollowAwsRules) {
  EXPECT_TRUE(ValidBucketName(std::string(63, 'a')));
  for (const char* ok : {"abc", "my-bucket", "my.bucket.1", "a1b"}) {
    EXPECT_TRUE(ValidBucketName(ok)) << ok;
  }
  for (const char* bad : {"ab", "My-Bucket", "-abc", "abc-", "a..b", "192.168.5.4", "xn--abc",
                          "abc-s3alias", "a_b", "a.-b", "sthree-x", "bucket--x-s3"}) {
    EXPECT_FALSE(ValidBucketName(bad)) << bad;
  }
  EXPECT_FALSE(ValidBucketName(std::string(64, 'a')));
}

TEST(Names, HostStyles) {
  EXPECT_EQ(ParseHost("localhost:4566").kind, HostStyle::kPath);
  EXPECT_EQ(ParseHost("127.0.0.1:4566").kind, HostStyle::kPath);
  EXPECT_EQ(ParseHost("s3.localhost.localstack.cloud:4566").kind, HostStyle::kPath);
  auto v = ParseHost("photos.s3.localhost:4566");
  EXPECT_EQ(v.kind, HostStyle::kVirtual);
  EXPECT_EQ(v.bucket, "photos");
  v = ParseHost("my.dotted.bucket.s3.eu-west-1.localhost.localstack.cloud");
  EXPECT_EQ(v.kind, HostStyle::kVirtual);
  EXPECT_EQ(v.bucket, "my.dotted.bucket");
  v = ParseHost("b1.s3-us-west-2.amazonaws.com");
  EXPECT_EQ(v.kind, HostStyle::kVirtual);
  EXPECT_EQ(v.bucket, "b1");
  v = ParseHost("site.s3-website.localhost.localstack.cloud:4566");
  EXPECT_EQ(v.kind, HostStyle::kWebsite);
  EXPECT_EQ(v.bucket, "site");
  EXPECT_EQ(ParseHost("site.s3-website-us-east-1.amazonaws.com").kind, HostStyle::kWebsite);
  EXPECT_EQ(ParseHost("sqs.us-east-1.localhost.localstack.cloud").kind, HostStyle::kPath);
  EXPECT_EQ(ParseHost("[::1]:4566").kind, HostStyle::kPath);
}

TEST(Ranges, SingleRangesAndUnsatisfiable) {
  auto r = ParseRange("bytes=0-9", 100);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->start, 0u);
  EXPECT_EQ((*r)->length, 10u);
  EXPECT_EQ((*r)->ContentRange(100), "bytes 0-9/100");
  r = ParseRange("bytes=90-200", 100);
  EXPECT_EQ((*r)->length, 10u);
  r = ParseRange("bytes=-5", 100);
  EXPECT_EQ((*r)->start, 95u);
  r = ParseRange("bytes=-500", 100);
  EXPECT_EQ((*r)->start, 0u);
  EXPECT_EQ((*r)->length, 100u);
  r = ParseRange("bytes=10-", 100);
  EXPECT_EQ((*r)->length, 90u);
  // Ignored: not bytes, several ranges, malformed, reversed.
  for (const char* ignored : {"items=0-1", "bytes=0-1,3-4", "bytes=a-b", "bytes=5-1", "bytes="}) {
    auto x = ParseRange(ignored, 100);
    ASSERT_TRUE(x.ok()) << ignored;
    EXPECT_FALSE(x->has_value()) << ignored;
  }
  auto bad = ParseRange("bytes=100-", 100);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidRange");
  EXPECT_EQ(bad.error().http_status, 416);
  EXPECT_EQ(bad.error().fields["ActualObjectSize"], "100");
  EXPECT_FALSE(ParseRange("bytes=-0", 100).ok());
  EXPECT_FALSE(ParseRange("bytes=0-", 0).ok());
}

TEST(Conditions, PrecedenceAsS3) {
  const int64_t lm = 1'700'000'000'000;  // ms
  const double before = 1'699'999'000, after = 1'700'001'000;
  auto eval = [&](Json in) { return EvaluateConditions(in, "abc", lm); };
  EXPECT_EQ(*eval(Json{{"IfMatch", "\"abc\""}}), Precondition::kProceed);
  EXPECT_EQ(eval(Json{{"IfMatch", "\"xyz\""}}).error().fields["Condition"], "If-Match");
  EXPECT_EQ(*eval(Json{{"IfMatch", "*"}}), Precondition::kProceed);
  // If-Match true wins over a failing If-Unmodified-Since.
  EXPECT_EQ(*eval(Json{{"IfMatch", "\"abc\""}, {"IfUnmodifiedSince", before}}), Precondition::kProceed);
  EXPECT_EQ(eval(Json{{"IfUnmodifiedSince", before}}).error().code, "PreconditionFailed");
  EXPECT_EQ(*eval(Json{{"IfUnmodifiedSince", after}}), Precondition::kProceed);
  EXPECT_EQ(*eval(Json{{"IfNoneMatch", "\"abc\""}}), Precondition::kNotModified);
  EXPECT_EQ(*eval(Json{{"IfNoneMatch", "\"zzz\""}, {"IfModifiedSince", after}}), Precondition::kProceed);
  EXPECT_EQ(*eval(Json{{"IfModifiedSince", after}}), Precondition::kNotModified);
  EXPECT_EQ(*eval(Json{{"IfModifiedSince", before}}), Precondition::kProceed);
  auto copy = EvaluateConditions(Json{{"CopySourceIfNoneMatch", "\"abc\""}}, "abc", lm, "CopySource");
  EXPECT_EQ(copy.error().fields["Condition"], "x-amz-copy-source-if-none-match");
}

TEST(Checksums, EtagsAndFlexibleChecksums) {
  EXPECT_EQ(SimpleEtag(""), "d41d8cd98f00b204e9800998ecf8427e");
  // md5 of the two binary md5s, then "-2".
  std::string a = Md5Hex("a"), b = Md5Hex("b");
  EXPECT_EQ(MultipartEtag({QuoteEtag(a), b}), Md5Hex(Md5("a") + Md5("b")) + "-2");
  EXPECT_EQ(ComputeChecksum("CRC32", "hello world"), "DUoRhQ==");
  EXPECT_EQ(ComputeChecksum("CRC32C", "hello world"), "yZRlqg==");
  EXPECT_EQ(ComputeChecksum("SHA1", "hello world"), "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
  EXPECT_EQ(ComputeChecksum("SHA256", "hello world"), "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
  EXPECT_EQ(Crc64Nvme("123456789"), 0xae8b14860a799888ULL);
  auto ok = VerifyBodyIntegrity(Json{{"ChecksumCRC32", "DUoRhQ=="}}, "hello world");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->algorithm, "CRC32");
  EXPECT_EQ(VerifyBodyIntegrity(Json{{"ChecksumCRC32", "AAAAAA=="}}, "hello world").error().code, "BadDigest");
  EXPECT_EQ(VerifyBodyIntegrity(Json{{"ContentMD5", Base64Encode(Md5("x"))}}, "y").error().code, "BadDigest");
  EXPECT_EQ(VerifyBodyIntegrity(Json{{"ContentMD5", "nope"}}, "y").error().code, "InvalidDigest");
  auto computed = VerifyBodyIntegrity(Json{{"ChecksumAlgorithm", "sha256"}}, "hello world");
  EXPECT_EQ((*computed)->value, "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
  EXPECT_EQ(VerifyBodyIntegrity(Json{{"ChecksumCRC32", "DUoRhQ=="}, {"ChecksumSHA1", "x"}}, "hello world")
                .error().code, "InvalidRequest");
}

TEST(Cors, RulesMatchOriginsMethodsAndHeaders) {
  Json config = Json::parse(R"({"CORSRules":[
    {"AllowedOrigins":["https://*.example.com"],"AllowedMethods":["GET","PUT"],
     "AllowedHeaders":["x-amz-*","content-type"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":300},
    {"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]})");
  auto rule = MatchCorsRule(config, "https://app.example.com", "PUT", {"content-type", "x-amz-date"});
  ASSERT_TRUE(rule);
  Headers h;
  AddCorsHeaders(h, *rule, "https://app.example.com", true, {"content-type"});
  EXPECT_EQ(h.GetOr("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(h.GetOr("Access-Control-Allow-Methods"), "GET, PUT");
  EXPECT_EQ(h.GetOr("Access-Control-Expose-Headers"), "ETag");
  EXPECT_EQ(h.GetOr("Access-Control-Max-Age"), "300");
  EXPECT_FALSE(MatchCorsRule(config, "https://app.example.com", "PUT", {"authorization"}));
  auto any = MatchCorsRule(config, "http://other", "GET", {});
  ASSERT_TRUE(any);
  Headers h2;
  AddCorsHeaders(h2, *any, "http://other", false, {});
  EXPECT_EQ(h2.GetOr("Access-Control-Allow-Origin"), "*");
  EXPECT_FALSE(MatchCorsRule(config, "http://other", "DELETE", {}));
}

TEST(Events, PatternsAndConfigurationValidation) {
  EXPECT_TRUE(EventMatches("s3:ObjectCreated:*", "ObjectCreated:Put"));
  EXPECT_TRUE(EventMatches("s3:ObjectRemoved:Delete", "ObjectRemoved:Delete"));
  EXPECT_FALSE(EventMatches("s3:ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated"));
  EXPECT_FALSE(EventMatches("s3:ObjectCreated:*", "ObjectRemoved:Delete"));
  Json good = Json::parse(R"({"QueueConfigurations":[{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:q",
      "Events":["s3:ObjectCreated:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"a/"}]}}}]})");
  EXPECT_TRUE(ValidateNotificationConfiguration(good).ok());
  Json bad_event = Json::parse(R"({"QueueConfigurations":[{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:q","Events":["s3:Nope"]}]})");
  EXPECT_EQ(ValidateNotificationConfiguration(bad_event).error().code, "InvalidArgument");
  Json bad_arn = Json::parse(R"({"LambdaFunctionConfigurations":[{"LambdaFunctionArn":"nope","Events":["s3:ObjectCreated:*"]}]})");
  EXPECT_EQ(ValidateNotificationConfiguration(bad_arn).error().code, "InvalidArgument");
}

}  // namespace
}  // namespace stratus::services::s3
