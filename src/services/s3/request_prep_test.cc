// PrepareRequest's pieces: signed and unsigned aws-chunked bodies, presigned expiry, virtual hosts.
#include "services/s3/request_prep.h"

#include <gtest/gtest.h>

#include <random>

#include "aws/sigv4/aws_chunked.h"
#include "core/time_format.h"

namespace stratus::services::s3 {
namespace {

constexpr int64_t kNow = 1'700'000'000;  // seconds

HttpRequest SignedChunkedPut(const std::string& payload, std::string_view secret, bool tamper,
                             std::vector<std::pair<std::string, std::string>> trailers = {}) {
  HttpRequest r;
  r.method = "PUT";
  r.path = r.target = "/bkt/key";
  r.headers.Set("Host", "127.0.0.1:4566");
  r.headers.Set("Content-Encoding", "aws-chunked");
  r.headers.Set("x-amz-decoded-content-length", std::to_string(payload.size()));
  std::string mode(trailers.empty() ? aws::kStreamingSignedPayload : aws::kStreamingSignedPayloadTrailer);
  if (!trailers.empty()) r.headers.Set("x-amz-trailer", trailers[0].first);
  aws::SignRequest(r, "AKIDEXAMPLE", secret, "us-east-1", "s3", kNow, {}, mode);
  auto claim = aws::ParseSigV4(r, aws::SigV4Dialect::kS3);
  auto ctx = aws::ChunkSigningContextFor(**claim, secret);
  r.body = aws::EncodeAwsChunked(payload, 64 * 1024, ctx, trailers);
  if (tamper) r.body[r.body.size() / 2] ^= 1;
  return r;
}

TEST(ChunkedBodies, SignedChunksAreVerifiedWithTheKnownSecret) {
  std::string payload(200 * 1024, 'p');
  HttpRequest r = SignedChunkedPut(payload, kKnownSecret, false, {{"x-amz-checksum-crc32", "AAAAAA=="}});
  auto claim = aws::ParseSigV4(r, aws::SigV4Dialect::kS3);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  ASSERT_TRUE(DecodeChunkedBody(r, &**claim, kNow * 1000).ok());
  EXPECT_EQ(r.body, payload);
  EXPECT_EQ(r.headers.GetOr("x-amz-checksum-crc32"), "AAAAAA==");
  EXPECT_FALSE(r.headers.Has("content-encoding"));

  HttpRequest bad = SignedChunkedPut(payload, kKnownSecret, true);
  auto bad_claim = aws::ParseSigV4(bad, aws::SigV4Dialect::kS3);
  Status st = DecodeChunkedBody(bad, &**bad_claim, kNow * 1000);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "SignatureDoesNotMatch");
}

TEST(ChunkedBodies, OtherSecretsDecodeTheFramingUnverified) {
  std::string payload = "some bytes that span one chunk";
  HttpRequest r = SignedChunkedPut(payload, "another-secret", false);
  auto claim = aws::ParseSigV4(r, aws::SigV4Dialect::kS3);
  ASSERT_TRUE(DecodeChunkedBody(r, &**claim, kNow * 1000).ok());
  EXPECT_EQ(r.body, payload);
}

TEST(ChunkedBodies, UnsignedTrailersAndBrokenFraming) {
  HttpRequest r;
  r.method = "PUT";
  r.headers.Set("x-amz-content-sha256", std::string(aws::kStreamingUnsignedPayloadTrailer));
  r.headers.Set("Content-Encoding", "aws-chunked,gzip");
  r.headers.Set("x-amz-trailer", "x-amz-checksum-crc32");
  r.body = aws::EncodeAwsChunked("hello", 2, std::nullopt, {{"x-amz-checksum-crc32", "NhCmhg=="}});
  ASSERT_TRUE(DecodeChunkedBody(r, nullptr, kNow * 1000).ok());
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.headers.GetOr("content-encoding"), "gzip");
  EXPECT_EQ(r.headers.GetOr("x-amz-checksum-crc32"), "NhCmhg==");

  HttpRequest truncated = r;
  truncated.headers.Set("x-amz-content-sha256", std::string(aws::kStreamingUnsignedPayloadTrailer));
  truncated.body = "a\r\nhello";
  EXPECT_EQ(DecodeChunkedBody(truncated, nullptr, kNow * 1000).error().code, "IncompleteBody");
  HttpRequest plain;
  plain.body = "not chunked";
  EXPECT_TRUE(DecodeChunkedBody(plain, nullptr, kNow * 1000).ok());
  EXPECT_EQ(plain.body, "not chunked");
}

TEST(ChunkedBodies, MutatedBodiesNeverCrash) {
  // A mutation loop over valid framings: every outcome is a decoded body or an S3 error.
  std::mt19937 rng(7);
  std::string base = aws::EncodeAwsChunked(std::string(3000, 'z'), 512, std::nullopt,
                                           {{"x-amz-checksum-crc32", "AAAAAA=="}});
  for (int i = 0; i < 3000; ++i) {
    HttpRequest r;
    r.headers.Set("x-amz-content-sha256", std::string(aws::kStreamingUnsignedPayloadTrailer));
    r.body = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !r.body.empty(); ++e) {
      size_t at = rng() % r.body.size();
      switch (rng() % 3) {
        case 0: r.body[at] = static_cast<char>(rng()); break;
        case 1: r.body.erase(at, 1 + rng() % 16); break;
        default: r.body.resize(at); break;
      }
    }
    Status st = DecodeChunkedBody(r, nullptr, kNow * 1000);
    if (!st.ok()) {
      EXPECT_TRUE(st.error().code == "IncompleteBody" || st.error().code == "InvalidRequest" ||
                  st.error().code == "MalformedTrailerError")
          << st.error().code;
    }
  }
}

TEST(Presigned, ExpiryIsS3sAccessDenied) {
  HttpRequest r;
  r.method = "GET";
  r.path = r.target = "/bkt/key";
  r.headers.Set("Host", "127.0.0.1:4566");
  aws::PresignRequest(r, "AKIDEXAMPLE", "secret", "us-east-1", "s3", kNow, 60);
  auto claim = aws::ParseSigV4(r, aws::SigV4Dialect::kS3);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_TRUE(CheckPresignedTime(r, &**claim, (kNow + 30) * 1000).ok());
  Status late = CheckPresignedTime(r, &**claim, (kNow + 61) * 1000);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "AccessDenied");
  EXPECT_EQ(late.error().message, "Request has expired");
  EXPECT_EQ(late.error().http_status, 403);
  EXPECT_EQ(CheckPresignedTime(r, &**claim, (kNow - 3600) * 1000).error().message,
            "Request is not yet valid");
  HttpRequest v2;
  v2.query = "AWSAccessKeyId=test&Signature=abc&Expires=" + std::to_string(kNow);
  EXPECT_TRUE(CheckPresignedTime(v2, nullptr, kNow * 1000).ok());
  EXPECT_EQ(CheckPresignedTime(v2, nullptr, (kNow + 1) * 1000).error().code, "AccessDenied");
}

TEST(VirtualHosts, BucketMovesIntoThePath) {
  HttpRequest r;
  r.path = "/a/b.txt";
  r.query = "versionId=1";
  MoveBucketIntoPath(r, "bkt");
  EXPECT_EQ(r.path, "/bkt/a/b.txt");
  EXPECT_EQ(r.target, "/bkt/a/b.txt?versionId=1");
  HttpRequest root;
  root.path = "/";
  MoveBucketIntoPath(root, "bkt");
  EXPECT_EQ(root.path, "/bkt");
}

}  // namespace
}  // namespace stratus::services::s3
