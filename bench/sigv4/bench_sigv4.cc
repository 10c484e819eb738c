// What SigV4 costs the front door per request: parsing and verifying a typical signed POST (a
// DynamoDB PutItem as botocore sends it), its parts, a presigned S3 GET, and decoding a signed
// aws-chunked upload. Figures go to docs/sigv4.md.
//
//   bench_sigv4 [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "aws/sigv4/aws_chunked.h"
#include "aws/sigv4/sigv4.h"
#include "core/crypto.h"

namespace stratus::aws {
namespace {

constexpr std::string_view kKeyId = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr int64_t kNow = 1704164645;

// A PutItem with a ~1 KiB item and the headers botocore sends.
HttpRequest TypicalPost() {
  HttpRequest req;
  req.method = "POST";
  req.path = "/";
  req.target = "/";
  req.headers.Add("Host", "localhost:4566");
  req.headers.Add("Accept-Encoding", "identity");
  req.headers.Add("X-Amz-Target", "DynamoDB_20120810.PutItem");
  req.headers.Add("Content-Type", "application/x-amz-json-1.0");
  req.headers.Add("User-Agent", "Boto3/1.26.27 Python/3.11.2 Linux/6.1 Botocore/1.29.27");
  req.headers.Add("amz-sdk-invocation-id", "a893cf86-2ac0-416a-9861-0dc36f855844");
  req.headers.Add("amz-sdk-request", "attempt=1");
  req.body = R"({"TableName":"table-1","Item":{"pk":{"S":"user#42"},"data":{"S":")" +
             std::string(1000, 'x') + R"("}}})";
  req.headers.Add("Content-Length", std::to_string(req.body.size()));
  SignRequest(req, kKeyId, kSecret, "us-east-1", "dynamodb", kNow);
  return req;
}

void BM_ParseAndVerifyPost(benchmark::State& state) {
  HttpRequest req = TypicalPost();
  for (auto _ : state) {
    auto claim = ParseSigV4(req, SigV4Dialect::kJson);
    Status st = VerifySigV4(req, **claim, kSecret, kNow, SigV4Dialect::kJson);
    benchmark::DoNotOptimize(st);
    if (!st.ok()) state.SkipWithError("verification failed");
  }
}
BENCHMARK(BM_ParseAndVerifyPost);

// What the front door does: the signing key comes from a SigningKeyCache.
void BM_ParseAndVerifyPostCachedKey(benchmark::State& state) {
  HttpRequest req = TypicalPost();
  SigningKeyCache keys;
  for (auto _ : state) {
    auto claim = ParseSigV4(req, SigV4Dialect::kJson);
    Status st = VerifySigV4(req, **claim, kSecret, kNow, SigV4Dialect::kJson, keys);
    benchmark::DoNotOptimize(st);
    if (!st.ok()) state.SkipWithError("verification failed");
  }
}
BENCHMARK(BM_ParseAndVerifyPostCachedKey)->Threads(1)->Threads(2);

void BM_ParseOnly(benchmark::State& state) {
  HttpRequest req = TypicalPost();
  for (auto _ : state) {
    auto claim = ParseSigV4(req, SigV4Dialect::kJson);
    benchmark::DoNotOptimize(claim);
  }
}
BENCHMARK(BM_ParseOnly);

void BM_CanonicalRequest(benchmark::State& state) {
  HttpRequest req = TypicalPost();
  SigV4Claim claim = **ParseSigV4(req);
  std::string hash = Sha256Hex(req.body);
  for (auto _ : state) {
    std::string c = CanonicalRequest(req, claim, hash);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_CanonicalRequest);

void BM_SigningKey(benchmark::State& state) {
  for (auto _ : state) {
    std::string key = SigningKey(kSecret, "20240102", "us-east-1", "dynamodb");
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_SigningKey);

void BM_BodySha256(benchmark::State& state) {
  std::string body(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    std::string h = Sha256Hex(body);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_BodySha256)->Arg(1024)->Arg(64 * 1024);

void BM_ParseAndVerifyPresignedS3Get(benchmark::State& state) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/bucket/photos/2024/img%20one.jpg";
  req.headers.Add("Host", "localhost:4566");
  PresignRequest(req, kKeyId, kSecret, "us-east-1", "s3", kNow, 3600);
  for (auto _ : state) {
    auto claim = ParseSigV4(req, SigV4Dialect::kS3);
    Status st = VerifySigV4(req, **claim, kSecret, kNow, SigV4Dialect::kS3);
    benchmark::DoNotOptimize(st);
    if (!st.ok()) state.SkipWithError("verification failed");
  }
}
BENCHMARK(BM_ParseAndVerifyPresignedS3Get);

void BM_DecodeSignedChunked(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::string payload(size, 'a');
  ChunkSigningContext ctx{SigningKey(kSecret, "20240102", "us-east-1", "s3"), "20240102T030405Z",
                          "20240102/us-east-1/s3/aws4_request", std::string(64, '0')};
  std::string body = EncodeAwsChunked(payload, 64 * 1024, ctx);
  for (auto _ : state) {
    auto decoded = DecodeAwsChunked(body, AwsChunkedMode::kSigned, ctx);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_DecodeSignedChunked)->Arg(1 << 20);

void BM_DecodeUnsignedChunked(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::string body = EncodeAwsChunked(std::string(size, 'a'), 64 * 1024, std::nullopt,
                                      {{"x-amz-checksum-crc32", "AAAAAA=="}});
  for (auto _ : state) {
    auto decoded = DecodeAwsChunked(body, AwsChunkedMode::kUnsignedTrailer, std::nullopt);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_DecodeUnsignedChunked)->Arg(1 << 20);

}  // namespace
}  // namespace stratus::aws
