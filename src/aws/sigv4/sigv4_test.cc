#include "aws/sigv4/sigv4.h"

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace stratus::aws {
namespace {

constexpr std::string_view kKeyId = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr int64_t kNow = 1440938160;  // 20150830T123600Z

HttpRequest Get(std::string target = "/") {
  HttpRequest req;
  req.method = "GET";
  req.target = target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string::npos ? "" : target.substr(q + 1);
  req.headers.Add("Host", "example.amazonaws.com");
  return req;
}

Result<std::optional<SigV4Claim>> Parse(const HttpRequest& req,
                                        SigV4Dialect d = SigV4Dialect::kQuery) {
  return ParseSigV4(req, d);
}

// Parses and verifies; an anonymous request is an error here.
Status ParseAndVerify(const HttpRequest& req, int64_t now = kNow,
                      SigV4Dialect d = SigV4Dialect::kQuery) {
  auto parsed = ParseSigV4(req, d);
  if (!parsed.ok()) return parsed.error();
  if (!parsed->has_value()) return Error("Anonymous", "");
  return VerifySigV4(req, **parsed, kSecret, now, d);
}

HttpRequest Signed(HttpRequest req, std::string_view service = "service", int64_t now = kNow) {
  SignRequest(req, kKeyId, kSecret, "us-east-1", service, now);
  return req;
}

std::string ErrorCode(const Status& st) { return st.ok() ? "OK" : st.error().code; }
std::string ErrorCode(const Result<std::optional<SigV4Claim>>& r) {
  return r.ok() ? "OK" : r.error().code;
}

// ----- parsing the Authorization header -----

TEST(ParseSigV4, AnonymousRequestHasNoClaim) {
  auto r = Parse(Get("/?Action=ListQueues"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(ParseSigV4, ParsesHeaderForm) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("X-Amz-Security-Token", "token");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request, "
                  "SignedHeaders=Host;x-amz-date, Signature=ABCDEF0123");
  auto r = Parse(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const SigV4Claim& c = **r;
  EXPECT_EQ(c.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(c.date, "20150830");
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_EQ(c.service, "sqs");
  EXPECT_EQ(c.signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(c.signature, "abcdef0123");
  EXPECT_EQ(c.amz_date, "20150830T123600Z");
  EXPECT_EQ(c.request_time, kNow);
  EXPECT_EQ(c.security_token, "token");
  EXPECT_FALSE(c.presigned);
  EXPECT_EQ(c.CredentialScope(), "20150830/us-east-1/sqs/aws4_request");
}

TEST(ParseSigV4, AcceptsCommasWithoutSpaces) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request,"
                  "SignedHeaders=host;x-amz-date,Signature=abc");
  auto r = Parse(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->signature, "abc");
}

TEST(ParseSigV4, MissingPartsAreIncompleteSignature) {
  HttpRequest req = Get();
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(r.error().message,
            "Authorization header requires 'Signature' parameter. Authorization header requires "
            "'SignedHeaders' parameter. Authorization header requires existence of either a "
            "'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 "
            "Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request");

  EXPECT_EQ(ErrorCode(Parse(req, SigV4Dialect::kJson)), "IncompleteSignatureException");
  auto s3 = Parse(req, SigV4Dialect::kS3);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, "AuthorizationHeaderMalformed");
  EXPECT_TRUE(StartsWith(s3.error().message, "The authorization header is malformed;"));
}

TEST(ParseSigV4, BareAlgorithmIsIncomplete) {
  HttpRequest req = Get();
  req.headers.Add("Authorization", "AWS4-HMAC-SHA256");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_NE(r.error().message.find("requires 'Credential' parameter"), std::string::npos);
}

TEST(ParseSigV4, PairWithoutEqualSign) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("Authorization", "AWS4-HMAC-SHA256 Signature=b, Credential, SignedHeaders=host");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_EQ(r.error().message,
            "'Credential' not a valid key=value pair (missing equal-sign) in Authorization "
            "header: 'AWS4-HMAC-SHA256 Signature=b, Credential, SignedHeaders=host'.");
}

TEST(ParseSigV4, CredentialMustHaveFiveParts) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=abc");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_EQ(r.error().message,
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/term, got 'a/b/c/d'");
}

TEST(ParseSigV4, CredentialTerminatorMustBeAws4Request) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sqs/aws5_request, "
                  "SignedHeaders=host, Signature=abc");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(r.error().message,
            "Credential should be scoped with a valid terminator: 'aws4_request', not "
            "'aws5_request'.");
  EXPECT_EQ(ErrorCode(Parse(req, SigV4Dialect::kJson)), "InvalidSignatureException");
}

TEST(ParseSigV4, MissingDateIsIncomplete) {
  HttpRequest req = Get();
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sqs/aws4_request, "
                  "SignedHeaders=host, Signature=abc");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_TRUE(StartsWith(r.error().message,
                         "Authorization header requires existence of either a 'X-Amz-Date' or "
                         "a 'Date' header. Authorization="));
  auto s3 = Parse(req, SigV4Dialect::kS3);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, "AccessDenied");
  EXPECT_EQ(s3.error().message, "AWS authentication requires a valid Date or x-amz-date header");
}

TEST(ParseSigV4, DateMustBeIsoBasicFormat) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "2015-08-30T12:36:00Z");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sqs/aws4_request, "
                  "SignedHeaders=host, Signature=abc");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_EQ(r.error().message,
            "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See "
            "http://en.wikipedia.org/wiki/ISO_8601");
  req.headers.Set("X-Amz-Date", "20151330T123600Z");  // month 13
  EXPECT_EQ(ErrorCode(Parse(req)), "IncompleteSignature");
}

TEST(ParseSigV4, DateHeaderStandsInForXAmzDate) {
  HttpRequest req = Get();
  req.headers.Add("Date", "Sun, 30 Aug 2015 12:36:00 GMT");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sqs/aws4_request, "
                  "SignedHeaders=date;host, Signature=abc");
  auto r = Parse(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->amz_date, "20150830T123600Z");
  EXPECT_EQ((*r)->request_time, kNow);
}

TEST(ParseSigV4, WrongAlgorithm) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA512 Credential=AKID/20150830/us-east-1/sqs/aws4_request, "
                  "SignedHeaders=host, Signature=abc");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_EQ(r.error().message,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now).");
  auto s3 = Parse(req, SigV4Dialect::kS3);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, "InvalidRequest");
  EXPECT_EQ(s3.error().message,
            "The authorization mechanism you have provided is not supported. Please use "
            "AWS4-HMAC-SHA256.");
}

TEST(ParseSigV4, OtherAuthorizationSchemes) {
  for (std::string scheme : {"Bearer abc", "AWS AKID:c2lnbmF0dXJl", "Basic dTpw", ""}) {
    HttpRequest req = Get();
    req.headers.Add("Authorization", scheme);
    auto r = Parse(req);
    ASSERT_FALSE(r.ok()) << scheme;
    EXPECT_EQ(r.error().code, "MissingAuthenticationToken") << scheme;
    EXPECT_EQ(ErrorCode(Parse(req, SigV4Dialect::kJson)), "MissingAuthenticationTokenException");
    EXPECT_EQ(ErrorCode(Parse(req, SigV4Dialect::kS3)), "InvalidRequest");
  }
}

TEST(ParseSigV4, HeaderAndQuerySignatureTogether) {
  HttpRequest req = Get("/?X-Amz-Algorithm=AWS4-HMAC-SHA256");
  req.headers.Add("Authorization", "AWS4-HMAC-SHA256 Credential=x");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP "
            "header.");
  EXPECT_EQ(ErrorCode(Parse(req, SigV4Dialect::kS3)), "InvalidArgument");
}

// ----- parsing the presigned form -----

TEST(ParseSigV4, PresignedMissingParameters) {
  HttpRequest req = Get("/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z");
  auto r = Parse(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "IncompleteSignature");
  EXPECT_EQ(r.error().message,
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string "
            "parameters must include 'X-Amz-Signature'. AWS query-string parameters must include "
            "'X-Amz-SignedHeaders'. Re-examine the query-string parameters.");
  auto s3 = Parse(req, SigV4Dialect::kS3);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, "AuthorizationQueryParametersError");
}

TEST(ParseSigV4, PresignedWrongAlgorithm) {
  HttpRequest req = Get(
      "/b/k?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%"
      "2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders="
      "host&X-Amz-Signature=abc");
  auto s3 = Parse(req, SigV4Dialect::kS3);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, "AuthorizationQueryParametersError");
  EXPECT_EQ(s3.error().message, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  EXPECT_EQ(ErrorCode(Parse(req)), "IncompleteSignature");
}

TEST(ParseSigV4, PresignedExpiresMustBeSane) {
  const std::string base =
      "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%"
      "2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";
  struct Case {
    std::string expires;
    std::string message;
  } cases[] = {
      {"&X-Amz-Expires=soon", "X-Amz-Expires should be a number"},
      {"&X-Amz-Expires=-1", "X-Amz-Expires must be non-negative"},
      {"&X-Amz-Expires=604801",
       "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
  };
  for (const Case& c : cases) {
    auto r = Parse(Get(base + c.expires), SigV4Dialect::kS3);
    ASSERT_FALSE(r.ok()) << c.expires;
    EXPECT_EQ(r.error().code, "AuthorizationQueryParametersError");
    EXPECT_EQ(r.error().message, c.message);
  }
  EXPECT_TRUE(Parse(Get(base + "&X-Amz-Expires=604800"), SigV4Dialect::kS3).ok());
  // S3 requires X-Amz-Expires.
  EXPECT_EQ(ErrorCode(Parse(Get(base), SigV4Dialect::kS3)), "AuthorizationQueryParametersError");
}

TEST(ParseSigV4, PresignedDateMustBeIsoBasicFormat) {
  HttpRequest req =
      Get("/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%"
          "2Faws4_request&X-Amz-Date=yesterday&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-"
          "Signature=abc");
  auto r = Parse(req, SigV4Dialect::kS3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "AuthorizationQueryParametersError");
  EXPECT_EQ(r.error().message,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
}

// ----- canonicalization -----

TEST(CanonicalUri, NormalizesAndDoubleEncodesExceptForS3) {
  EXPECT_EQ(CanonicalUri("", false), "/");
  EXPECT_EQ(CanonicalUri("/", false), "/");
  EXPECT_EQ(CanonicalUri("//a//b/", false), "/a/b/");
  EXPECT_EQ(CanonicalUri("/a/./b/../c", false), "/a/c");
  EXPECT_EQ(CanonicalUri("/a/b/../..", false), "/");
  EXPECT_EQ(CanonicalUri("/../../a", false), "/a");
  EXPECT_EQ(CanonicalUri("/arn%3Aaws%3Alambda", false), "/arn%253Aaws%253Alambda");
  EXPECT_EQ(CanonicalUri("/a b/$", false), "/a%20b/%24");

  EXPECT_EQ(CanonicalUri("", true), "/");
  EXPECT_EQ(CanonicalUri("/bucket/a//b/../c/./d", true), "/bucket/a//b/../c/./d");
  EXPECT_EQ(CanonicalUri("/bucket/my%20file%2B%C3%A9~%24", true), "/bucket/my%20file%2B%C3%A9~%24");
  EXPECT_EQ(CanonicalUri("/bucket/%7e%2f$ ", true), "/bucket/~%2F%24%20");
}

TEST(CanonicalUri, NonUtf8AndBrokenEscapes) {
  // Raw bytes that are not UTF-8 are escaped byte by byte.
  EXPECT_EQ(CanonicalUri("/a\xff\xfe", false), "/a%FF%FE");
  EXPECT_EQ(CanonicalUri("/a\xff\xfe", true), "/a%FF%FE");
  // An escape of a non-UTF-8 byte: double encoded, or kept by S3.
  EXPECT_EQ(CanonicalUri("/a%ff", false), "/a%25ff");
  EXPECT_EQ(CanonicalUri("/a%ff", true), "/a%FF");
  // A '%' that starts no escape stands for itself.
  EXPECT_EQ(CanonicalUri("/a%zz%", true), "/a%25zz%25");
  EXPECT_EQ(CanonicalUri("/a%4", true), "/a%254");
  EXPECT_EQ(CanonicalUri("/a%zz", false), "/a%25zz");
}

TEST(CanonicalQueryString, SortsAndEncodes) {
  EXPECT_EQ(CanonicalQueryString("", false), "");
  EXPECT_EQ(CanonicalQueryString("b=2&a=1&a=0", false), "a=0&a=1&b=2");
  EXPECT_EQ(CanonicalQueryString("acl", false), "acl=");
  EXPECT_EQ(CanonicalQueryString("a=&&b", false), "a=&b=");
  EXPECT_EQ(CanonicalQueryString("k=a+b", false), "k=a%2Bb");
  EXPECT_EQ(CanonicalQueryString("k=a%20b%2fc%7E", false), "k=a%20b%2Fc~");
  EXPECT_EQ(CanonicalQueryString("%E1%88%B4=x&Z=y", false), "%E1%88%B4=x&Z=y");
  // Sorting is by encoded name: uppercase before lowercase, '%' before letters.
  EXPECT_EQ(CanonicalQueryString("b=1&B=2&%41=3", false), "A=3&B=2&b=1");
  EXPECT_EQ(CanonicalQueryString("X-Amz-Signature=abc&X-Amz-Date=d", true), "X-Amz-Date=d");
  EXPECT_EQ(CanonicalQueryString("X-Amz-Signature=abc&X-Amz-Date=d", false),
            "X-Amz-Date=d&X-Amz-Signature=abc");
}

TEST(CanonicalRequest, HeadersTrimmedAndJoined) {
  HttpRequest req = Get("/");
  req.headers.Add("My-Header", "  a   b \t c  ");
  req.headers.Add("my-header", "second");
  SigV4Claim claim;
  claim.service = "service";
  claim.signed_headers = {"host", "my-header", "missing"};
  EXPECT_EQ(CanonicalRequest(req, claim, "HASH"),
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header:a b c,second\nmissing:\n\n"
            "host;my-header;missing\nHASH");
}

TEST(PayloadHash, LiteralPresignedOrBody) {
  HttpRequest req = Get();
  req.body = "abc";
  SigV4Claim claim;
  claim.service = "sqs";
  EXPECT_EQ(PayloadHash(req, claim), Sha256Hex("abc"));
  claim.presigned = true;
  EXPECT_EQ(PayloadHash(req, claim), Sha256Hex("abc"));
  claim.service = "s3";
  EXPECT_EQ(PayloadHash(req, claim), kUnsignedPayload);
  claim.payload_hash = std::string(kStreamingSignedPayload);
  EXPECT_EQ(PayloadHash(req, claim), kStreamingSignedPayload);
}

// ----- verification -----

TEST(VerifySigV4, SignedRequestRoundTrips) {
  HttpRequest req = Get("/path/to?b=2&a=1");
  req.method = "POST";
  req.body = "Action=ListQueues";
  req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
  req.headers.Add("User-Agent", "test");
  HttpRequest s = Signed(req);
  EXPECT_TRUE(ParseAndVerify(s).ok());
  // Headers that are not signed may change.
  s.headers.Set("User-Agent", "other");
  s.headers.Add("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_TRUE(ParseAndVerify(s).ok());
}

TEST(VerifySigV4, SessionTokenIsSigned) {
  HttpRequest req = Get();
  SignRequest(req, kKeyId, kSecret, "us-east-1", "sts", kNow, "session-token");
  auto parsed = Parse(req);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)->security_token, "session-token");
  EXPECT_TRUE(ParseAndVerify(req).ok());
  req.headers.Set("X-Amz-Security-Token", "other-token");
  EXPECT_EQ(ErrorCode(ParseAndVerify(req)), "SignatureDoesNotMatch");
}

TEST(VerifySigV4, MismatchMessageShowsCanonicalRequestAndStringToSign) {
  HttpRequest req = Signed(Get("/"));
  req.headers.Set("Host", "other.example.com");
  Status st = ParseAndVerify(req);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(st.error().http_status, 403);
  EXPECT_TRUE(StartsWith(st.error().message,
                         "The request signature we calculated does not match the signature you "
                         "provided. Check your AWS Secret Access Key and signing method. Consult "
                         "the service documentation for details.\n\nThe Canonical String for this "
                         "request should have been\n'GET\n/\n\nhost:other.example.com\n"));
  EXPECT_NE(st.error().message.find("The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"
                                    "20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"),
            std::string::npos);

  Status json = ParseAndVerify(req, kNow, SigV4Dialect::kJson);
  EXPECT_EQ(ErrorCode(json), "InvalidSignatureException");

  HttpRequest s3 = Get("/bucket/key");
  SignRequest(s3, kKeyId, kSecret, "us-east-1", "s3", kNow);
  s3.headers.Set("Host", "other.example.com");
  Status st3 = ParseAndVerify(s3, kNow, SigV4Dialect::kS3);
  ASSERT_FALSE(st3.ok());
  EXPECT_EQ(st3.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(st3.error().message,
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.");
  EXPECT_EQ(st3.error().fields["AWSAccessKeyId"], "AKIDEXAMPLE");
  EXPECT_TRUE(
      StartsWith(st3.error().fields["CanonicalRequest"].get<std::string>(), "GET\n/bucket/key\n"));
  EXPECT_TRUE(st3.error().fields.contains("StringToSignBytes"));
}

TEST(VerifySigV4, StaleAndFutureDates) {
  HttpRequest req = Signed(Get());
  EXPECT_TRUE(ParseAndVerify(req, kNow + kMaxClockSkewSeconds).ok());
  EXPECT_TRUE(ParseAndVerify(req, kNow - kMaxClockSkewSeconds).ok());

  Status late = ParseAndVerify(req, kNow + kMaxClockSkewSeconds + 1);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(late.error().message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
            "(20150830T125101Z - 15 min.)");

  Status early = ParseAndVerify(req, kNow - 3600);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().message,
            "Signature not yet current: 20150830T123600Z is still later than 20150830T115100Z "
            "(20150830T113600Z + 15 min.)");

  Status s3 = ParseAndVerify(req, kNow + 3600, SigV4Dialect::kS3);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, "RequestTimeTooSkewed");
  EXPECT_EQ(s3.error().message,
            "The difference between the request time and the current time is too large.");
  EXPECT_EQ(s3.error().fields["RequestTime"], "20150830T123600Z");
  EXPECT_EQ(s3.error().fields["MaxAllowedSkewMilliseconds"], "900000");
}

TEST(VerifySigV4, ScopeDateMustMatchRequestDate) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/"
                  "aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
  Status st = ParseAndVerify(req);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(st.error().message,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            "HTTP: '20150831' != '20150830', from '20150830T123600Z'.");
  EXPECT_EQ(ErrorCode(ParseAndVerify(req, kNow, SigV4Dialect::kS3)),
            "AuthorizationHeaderMalformed");
}

TEST(VerifySigV4, HostMustBeSigned) {
  HttpRequest req = Get();
  req.headers.Add("X-Amz-Date", "20150830T123600Z");
  req.headers.Add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                  "aws4_request, SignedHeaders=x-amz-date, Signature=abc");
  Status st = ParseAndVerify(req);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
}

TEST(VerifySigV4, SignedHeaderMissingFromRequest) {
  HttpRequest req = Get();
  req.headers.Add("X-Custom", "value");
  HttpRequest s = Signed(req);
  ASSERT_TRUE(ParseAndVerify(s).ok());
  s.headers.Remove("X-Custom");
  EXPECT_EQ(ErrorCode(ParseAndVerify(s)), "SignatureDoesNotMatch");
}

TEST(VerifySigV4, DuplicateHeaders) {
  HttpRequest req = Get();
  req.headers.Add("X-Multi", "one");
  req.headers.Add("x-multi", "two");
  HttpRequest s = Signed(req);
  auto parsed = Parse(s);
  ASSERT_TRUE(parsed.ok());
  // Both values were signed, joined with ','.
  EXPECT_NE(CanonicalRequest(s, **parsed, "h").find("x-multi:one,two\n"), std::string::npos);
  EXPECT_TRUE(ParseAndVerify(s).ok());
  // A third value, a reordering or a duplicated Host changes what was signed.
  HttpRequest extra = s;
  extra.headers.Add("X-Multi", "three");
  EXPECT_EQ(ErrorCode(ParseAndVerify(extra)), "SignatureDoesNotMatch");
  HttpRequest host = s;
  host.headers.Add("Host", "evil.example.com");
  EXPECT_EQ(ErrorCode(ParseAndVerify(host)), "SignatureDoesNotMatch");
  // A duplicated unsigned header does not.
  HttpRequest agent = s;
  agent.headers.Add("User-Agent", "a");
  agent.headers.Add("User-Agent", "b");
  EXPECT_TRUE(ParseAndVerify(agent).ok());
}

TEST(VerifySigV4, NonUtf8PathsRoundTrip) {
  for (std::string path : {"/a\xff\xfe/b", "/%FF%00/x", "/caf%C3%A9/%E2%9C%93"}) {
    for (std::string service : {"service", "s3"}) {
      HttpRequest s = Signed(Get(path), service);
      EXPECT_TRUE(ParseAndVerify(s).ok()) << path << " " << service;
      s.path += "%FF";
      EXPECT_EQ(ErrorCode(ParseAndVerify(s)), "SignatureDoesNotMatch") << path;
    }
  }
}

TEST(VerifySigV4, SignatureHexIsCaseInsensitive) {
  HttpRequest s = Signed(Get());
  std::string auth(s.headers.GetOr("authorization"));
  size_t at = auth.find("Signature=") + 10;
  s.headers.Set("Authorization", auth.substr(0, at) + ToUpper(auth.substr(at)));
  EXPECT_TRUE(ParseAndVerify(s).ok());
}

TEST(VerifySigV4, BodyMustMatchContentSha256) {
  HttpRequest req = Get("/bucket/key");
  req.method = "PUT";
  req.body = "data";
  SignRequest(req, kKeyId, kSecret, "us-east-1", "s3", kNow);
  EXPECT_TRUE(ParseAndVerify(req, kNow, SigV4Dialect::kS3).ok());
  req.body = "date";
  Status st = ParseAndVerify(req, kNow, SigV4Dialect::kS3);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "XAmzContentSHA256Mismatch");
  EXPECT_EQ(st.error().fields["ClientComputedContentSHA256"], Sha256Hex("data"));
  EXPECT_EQ(st.error().fields["S3ComputedContentSHA256"], Sha256Hex("date"));
  EXPECT_EQ(ErrorCode(ParseAndVerify(req, kNow, SigV4Dialect::kQuery)), "SignatureDoesNotMatch");
}

TEST(VerifySigV4, UnsignedAndStreamingPayloadsSkipTheBodyCheck) {
  for (std::string_view literal :
       {kUnsignedPayload, kStreamingSignedPayload, kStreamingUnsignedPayloadTrailer}) {
    HttpRequest req = Get("/bucket/key");
    req.method = "PUT";
    req.body = "anything";
    SignRequest(req, kKeyId, kSecret, "us-east-1", "s3", kNow, {}, literal);
    EXPECT_TRUE(ParseAndVerify(req, kNow, SigV4Dialect::kS3).ok()) << literal;
    req.body = "changed";
    EXPECT_TRUE(ParseAndVerify(req, kNow, SigV4Dialect::kS3).ok()) << literal;
  }
}

TEST(VerifySigV4, S3RejectsBogusContentSha256) {
  HttpRequest req = Get("/bucket/key");
  SignRequest(req, kKeyId, kSecret, "us-east-1", "s3", kNow, {}, "not-a-hash");
  Status st = ParseAndVerify(req, kNow, SigV4Dialect::kS3);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidArgument");
}

TEST(VerifySigV4, PresignedUrlsExpire) {
  for (std::string service : {"s3", "sqs"}) {
    HttpRequest req = Get("/bucket/key?versionId=3");
    PresignRequest(req, kKeyId, kSecret, "us-east-1", service, kNow, 300, "tok");
    auto parsed = Parse(req);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_TRUE((*parsed)->presigned);
    EXPECT_EQ((*parsed)->expires_seconds, 300);
    EXPECT_EQ((*parsed)->security_token, "tok");
    EXPECT_TRUE(ParseAndVerify(req, kNow).ok()) << service;
    EXPECT_TRUE(ParseAndVerify(req, kNow + 300).ok()) << service;
    // A presigned URL may be used long after 15 minutes when X-Amz-Expires allows it, but
    // not after it expires.
    Status st =
        ParseAndVerify(req, kNow + 301, service == "s3" ? SigV4Dialect::kS3 : SigV4Dialect::kQuery);
    ASSERT_FALSE(st.ok());
    if (service == "s3") {
      EXPECT_EQ(st.error().code, "AccessDenied");
      EXPECT_EQ(st.error().http_status, 403);
      EXPECT_EQ(st.error().message, "Request has expired");
      EXPECT_EQ(st.error().fields["X-Amz-Expires"], "300");
      EXPECT_EQ(st.error().fields["Expires"], "2015-08-30T12:41:00Z");
      EXPECT_EQ(st.error().fields["ServerTime"], "2015-08-30T12:41:01Z");
    } else {
      EXPECT_EQ(st.error().code, "RequestExpired");
      EXPECT_EQ(st.error().message, "Request has expired.");
    }
    // Used before it was signed (beyond the skew).
    Status early = ParseAndVerify(req, kNow - 3600, SigV4Dialect::kS3);
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().message, "Request is not yet valid");
  }
}

TEST(VerifySigV4, PresignedTamperedQuery) {
  HttpRequest req = Get("/bucket/key");
  PresignRequest(req, kKeyId, kSecret, "us-east-1", "s3", kNow, 300);
  req.query += "&response-content-type=text%2Fhtml";
  EXPECT_EQ(ErrorCode(ParseAndVerify(req, kNow, SigV4Dialect::kS3)), "SignatureDoesNotMatch");
}

TEST(AccountForAccessKey, TwelveDigitsOrDefault) {
  EXPECT_EQ(AccountForAccessKey("123456789012"), "123456789012");
  EXPECT_EQ(AccountForAccessKey("AKIAIOSFODNN7EXAMPLE"), "000000000000");
  EXPECT_EQ(AccountForAccessKey("12345678901"), "000000000000");
  EXPECT_EQ(AccountForAccessKey(""), "000000000000");
}

TEST(SigningKey, MatchesTheDocumentedExample) {
  // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
  EXPECT_EQ(HexEncode(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                 "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

}  // namespace
}  // namespace stratus::aws

namespace stratus::aws {
namespace {

TEST(SigningKeyCache, ReturnsTheDerivedKey) {
  SigningKeyCache cache(2);
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(cache.Get(kSecret, "20150830", "us-east-1", "sqs"),
              SigningKey(kSecret, "20150830", "us-east-1", "sqs"));
    EXPECT_EQ(cache.Get(kSecret, "20150831", "us-east-1", "sqs"),
              SigningKey(kSecret, "20150831", "us-east-1", "sqs"));
    EXPECT_EQ(cache.Get("other", "20150830", "us-east-1", "sqs"),
              SigningKey("other", "20150830", "us-east-1", "sqs"));
    EXPECT_EQ(cache.Get(kSecret, "20150830", "eu-west-1", "sqs"),
              SigningKey(kSecret, "20150830", "eu-west-1", "sqs"));
  }
}

TEST(SigningKeyCache, VerifiesLikeTheUncachedPath) {
  SigningKeyCache cache;
  HttpRequest req = Signed(Get("/x"));
  auto claim = ParseSigV4(req);
  ASSERT_TRUE(claim.ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(VerifySigV4(req, **claim, kSecret, kNow, SigV4Dialect::kQuery, cache).ok());
    EXPECT_EQ(ErrorCode(VerifySigV4(req, **claim, "wrong", kNow, SigV4Dialect::kQuery, cache)),
              "SignatureDoesNotMatch");
  }
}

}  // namespace
}  // namespace stratus::aws
