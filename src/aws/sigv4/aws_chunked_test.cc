#include "aws/sigv4/aws_chunked.h"

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

// The S3 documentation's chunked-upload example: 66560 bytes of 'a' in chunks of 65536 and 1024.
constexpr std::string_view kExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kExampleSeed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr std::string_view kExampleChunk1 =
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
constexpr std::string_view kExampleChunk2 =
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
constexpr std::string_view kExampleFinal =
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
constexpr int64_t kExampleTime = 1369353600;  // 20130524T000000Z

ChunkSigningContext ExampleContext(std::string_view seed = kExampleSeed) {
  return ChunkSigningContext{SigningKey(kExampleSecret, "20130524", "us-east-1", "s3"),
                             "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                             std::string(seed)};
}

std::string SignedChunk(size_t size, std::string_view signature, char fill = 'a') {
  char hex[24];
  std::snprintf(hex, sizeof(hex), "%zx", size);
  std::string out = std::string(hex) + ";chunk-signature=" + std::string(signature) + "\r\n";
  if (size) out += std::string(size, fill) + "\r\n";
  return out;
}

std::string ExampleBody() {
  return SignedChunk(65536, kExampleChunk1) + SignedChunk(1024, kExampleChunk2) +
         SignedChunk(0, kExampleFinal) + "\r\n";
}

TEST(AwsChunked, ModeFromContentSha256) {
  EXPECT_EQ(AwsChunkedModeFor("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), AwsChunkedMode::kSigned);
  EXPECT_EQ(AwsChunkedModeFor("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
            AwsChunkedMode::kSignedTrailer);
  EXPECT_EQ(AwsChunkedModeFor("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            AwsChunkedMode::kUnsignedTrailer);
  EXPECT_FALSE(AwsChunkedModeFor("UNSIGNED-PAYLOAD"));
  EXPECT_FALSE(AwsChunkedModeFor(kEmptySha256));
  EXPECT_FALSE(AwsChunkedModeFor("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"));
}

// The whole documented request: the seed signature over the headers, then the chunk chain.
TEST(AwsChunked, DocumentedPutObjectExample) {
  HttpRequest req;
  req.method = "PUT";
  req.path = "/examplebucket/chunkObject.txt";
  req.target = req.path;
  req.headers.Add("Host", "s3.amazonaws.com");
  req.headers.Add("x-amz-date", "20130524T000000Z");
  req.headers.Add("x-amz-storage-class", "REDUCED_REDUNDANCY");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                  "aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-"
                  "sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=" +
                      std::string(kExampleSeed));
  req.headers.Add("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  req.headers.Add("Content-Encoding", "aws-chunked");
  req.headers.Add("x-amz-decoded-content-length", "66560");
  req.headers.Add("Content-Length", "66824");
  req.body = ExampleBody();
  ASSERT_EQ(req.body.size(), 66824u);

  auto claim = ParseSigV4(req, SigV4Dialect::kS3);
  ASSERT_TRUE(claim.ok()) << claim.error().message;
  Status st = VerifySigV4(req, **claim, kExampleSecret, kExampleTime, SigV4Dialect::kS3);
  ASSERT_TRUE(st.ok()) << st.error().message;

  auto decoded = DecodeAwsChunkedRequest(req, **claim, kExampleSecret);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->payload, std::string(66560, 'a'));
  EXPECT_TRUE(decoded->trailers.empty());

  // The declared decoded length must hold.
  req.headers.Set("x-amz-decoded-content-length", "66561");
  auto wrong_length = DecodeAwsChunkedRequest(req, **claim, kExampleSecret);
  ASSERT_FALSE(wrong_length.ok());
  EXPECT_EQ(wrong_length.error().code, "InvalidRequest");
}

TEST(AwsChunked, ChunkSignaturesChain) {
  // Each chunk is signed over the previous signature: a reordered or altered chunk fails.
  std::string body = ExampleBody();
  body[100] = 'b';
  auto r = DecodeAwsChunked(body, AwsChunkedMode::kSigned, ExampleContext());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.error().http_status, 403);

  auto wrong_seed =
      DecodeAwsChunked(ExampleBody(), AwsChunkedMode::kSigned, ExampleContext(kExampleChunk1));
  EXPECT_FALSE(wrong_seed.ok());

  std::string unsigned_chunk = "10000\r\n" + std::string(65536, 'a') + "\r\n" +
                               SignedChunk(1024, kExampleChunk2) + SignedChunk(0, kExampleFinal);
  EXPECT_EQ(
      DecodeAwsChunked(unsigned_chunk, AwsChunkedMode::kSigned, ExampleContext()).error().code,
      "SignatureDoesNotMatch");
}

// The trailer signature vector of AWS's CRT signer (aws-c-auth and its SDK tests): trailers
// first:1st, second:2nd, third:3rd after the documented chunks.
TEST(AwsChunked, SignedTrailerMatchesAwsCrtVector) {
  std::string body = SignedChunk(65536, kExampleChunk1) + SignedChunk(1024, kExampleChunk2) +
                     SignedChunk(0, kExampleFinal) +
                     "first:1st\r\nsecond:2nd\r\nthird:3rd\r\n"
                     "x-amz-trailer-signature:"
                     "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c\r\n\r\n";
  auto r = DecodeAwsChunked(body, AwsChunkedMode::kSignedTrailer, ExampleContext());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->payload.size(), 66560u);
  ASSERT_EQ(r->trailers.size(), 3u);
  EXPECT_EQ(r->trailers[0], (std::pair<std::string, std::string>{"first", "1st"}));
  EXPECT_EQ(r->trailers[2], (std::pair<std::string, std::string>{"third", "3rd"}));

  std::string tampered = ReplaceAll(body, "second:2nd", "second:2nx");
  EXPECT_EQ(
      DecodeAwsChunked(tampered, AwsChunkedMode::kSignedTrailer, ExampleContext()).error().code,
      "SignatureDoesNotMatch");
  std::string unsigned_trailer =
      ReplaceAll(body,
                 "x-amz-trailer-signature:"
                 "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c\r\n",
                 "");
  EXPECT_EQ(DecodeAwsChunked(unsigned_trailer, AwsChunkedMode::kSignedTrailer, ExampleContext())
                .error()
                .code,
            "SignatureDoesNotMatch");
}

// The S3 documentation's trailing-header example (x-amz-checksum-crc32c).
TEST(AwsChunked, DocumentedTrailerExample) {
  std::string body =
      SignedChunk(65536, "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2") +
      SignedChunk(1024, "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7") +
      SignedChunk(0, "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992") +
      "x-amz-checksum-crc32c:sOO8/Q==\r\n"
      "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
      "\r\n\r\n";
  auto r = DecodeAwsChunked(
      body, AwsChunkedMode::kSignedTrailer,
      ExampleContext("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->trailers.size(), 1u);
  EXPECT_EQ(r->trailers[0].first, "x-amz-checksum-crc32c");
  EXPECT_EQ(r->trailers[0].second, "sOO8/Q==");
  // The trailer is the payload's CRC32C, big-endian, base64.
  uint32_t crc = Crc32c(r->payload);
  std::string be = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                    static_cast<char>(crc >> 8), static_cast<char>(crc)};
  EXPECT_EQ(Base64Encode(be), "sOO8/Q==");
}

TEST(AwsChunked, UnsignedTrailer) {
  std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
  auto r = DecodeAwsChunked(body, AwsChunkedMode::kUnsignedTrailer, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->payload, "hello world");
  ASSERT_EQ(r->trailers.size(), 1u);
  EXPECT_EQ(r->trailers[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(r->trailers[0].second, "DUoRhQ==");

  // Trailer lines may end with a bare LF, and the closing empty line may be missing.
  auto lf = DecodeAwsChunked("3\r\nabc\r\n0\r\nX-Amz-Checksum-Crc32: NSRBwg==\n",
                             AwsChunkedMode::kUnsignedTrailer, std::nullopt);
  ASSERT_TRUE(lf.ok()) << lf.error().message;
  EXPECT_EQ(lf->trailers[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(lf->trailers[0].second, "NSRBwg==");

  auto none = DecodeAwsChunked("0\r\n\r\n", AwsChunkedMode::kUnsignedTrailer, std::nullopt);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->payload, "");
}

TEST(AwsChunked, MalformedFraming) {
  struct Case {
    std::string body;
    std::string code;
  } cases[] = {
      {"", "IncompleteBody"},
      {"5\r\nhel", "IncompleteBody"},
      {"5\r\nhello", "IncompleteBody"},
      {"5\r\nhello\r\n", "IncompleteBody"},
      {"zz\r\nhello\r\n0\r\n\r\n", "InvalidRequest"},
      {"\r\nhello\r\n0\r\n\r\n", "InvalidRequest"},
      {"-5\r\nhello\r\n0\r\n\r\n", "InvalidRequest"},
      {"fffffffffffffffff\r\nhello\r\n0\r\n\r\n", "InvalidRequest"},
      {"ffffffffffffffff\r\nhello\r\n0\r\n\r\n", "IncompleteBody"},
      {"5\r\nhelloXX0\r\n\r\n", "InvalidRequest"},
      // A size line ended by a bare LF is not a size line.
      {"5\nhello\r\n0\r\n\r\n", "InvalidRequest"},
      {"3\r\nabc\r\n0\r\nno-colon-here\r\n\r\n", "MalformedTrailerError"},
      {"3\r\nabc\r\n0\r\n:value\r\n\r\n", "MalformedTrailerError"},
      {"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\ngarbage", "InvalidRequest"},
      {std::string(5000, '1'), "InvalidRequest"},
  };
  for (const Case& c : cases) {
    auto r = DecodeAwsChunked(c.body, AwsChunkedMode::kUnsignedTrailer, std::nullopt);
    ASSERT_FALSE(r.ok()) << c.body.substr(0, 40);
    EXPECT_EQ(r.error().code, c.code) << c.body.substr(0, 40) << ": " << r.error().message;
  }
  // Data after the last chunk of an upload without trailers.
  auto extra = DecodeAwsChunked(ExampleBody() + "junk", AwsChunkedMode::kSigned, ExampleContext());
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().code, "InvalidRequest");
  // The final CRLF may be missing.
  std::string no_crlf = ExampleBody();
  no_crlf.resize(no_crlf.size() - 2);
  EXPECT_TRUE(DecodeAwsChunked(no_crlf, AwsChunkedMode::kSigned, ExampleContext()).ok());
}

TEST(AwsChunked, SignedModeNeedsAContext) {
  auto r = DecodeAwsChunked(ExampleBody(), AwsChunkedMode::kSigned, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InternalFailure");
}

TEST(AwsChunked, EncodeDecodeRoundTrip) {
  std::string payload;
  for (int i = 0; i < 100000; ++i) payload.push_back(static_cast<char>(i * 7));
  std::vector<std::pair<std::string, std::string>> trailers = {{"x-amz-checksum-crc32", "AAAAAA=="},
                                                               {"x-amz-meta-a", "b"}};
  for (size_t chunk : {size_t{1000}, size_t{8192}, size_t{65536}, payload.size() + 1}) {
    std::string signed_body = EncodeAwsChunked(payload, chunk, ExampleContext());
    auto a = DecodeAwsChunked(signed_body, AwsChunkedMode::kSigned, ExampleContext());
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(a->payload, payload);

    std::string with_trailer = EncodeAwsChunked(payload, chunk, ExampleContext(), trailers);
    auto b = DecodeAwsChunked(with_trailer, AwsChunkedMode::kSignedTrailer, ExampleContext());
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(b->payload, payload);
    EXPECT_EQ(b->trailers, trailers);

    std::string unsigned_body = EncodeAwsChunked(payload, chunk, std::nullopt, trailers);
    auto c = DecodeAwsChunked(unsigned_body, AwsChunkedMode::kUnsignedTrailer, std::nullopt);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->payload, payload);
    EXPECT_EQ(c->trailers, trailers);
  }
  // The documented example is what the encoder writes.
  EXPECT_EQ(EncodeAwsChunked(std::string(66560, 'a'), 65536, ExampleContext()), ExampleBody());
}

TEST(AwsChunked, RequestTrailersMustBeDeclared) {
  HttpRequest req;
  req.method = "PUT";
  req.path = "/b/k";
  req.headers.Add("Host", "localhost");
  req.headers.Add("x-amz-trailer", "x-amz-checksum-crc32");
  req.body = EncodeAwsChunked("abc", 0, std::nullopt, {{"x-amz-checksum-crc32", "NSRBwg=="}});
  SigV4Claim claim;
  claim.payload_hash = std::string(kStreamingUnsignedPayloadTrailer);
  auto ok = DecodeAwsChunkedRequest(req, claim, "secret");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->payload, "abc");

  req.headers.Set("x-amz-trailer", "x-amz-checksum-sha256");
  auto undeclared = DecodeAwsChunkedRequest(req, claim, "secret");
  ASSERT_FALSE(undeclared.ok());
  EXPECT_EQ(undeclared.error().code, "MalformedTrailerError");

  claim.payload_hash = std::string(kUnsignedPayload);
  EXPECT_EQ(DecodeAwsChunkedRequest(req, claim, "secret").error().code, "InvalidArgument");
}

}  // namespace
}  // namespace stratus::aws
