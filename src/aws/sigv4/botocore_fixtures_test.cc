// Verifies requests signed and URLs presigned by the real botocore (testdata/botocore, made by
// make_fixtures.py with Debian's python3-botocore, both its CRT and its Python signers): each
// verifies at its signing time, fails once tampered with, and a presigned URL stops working
// exactly when X-Amz-Expires says.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "aws/sigv4/sigv4.h"
#include "core/json.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

std::string FixturesPath() {
  const char* root = std::getenv("STRATUS_SOURCE_DIR");
  return std::string(root ? root : ".") + "/src/aws/sigv4/testdata/botocore/fixtures.json";
}

Json LoadFixtures() {
  std::ifstream in(FixturesPath(), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  Json doc = ParseJsonOrDiscarded(ss.str());
  return doc.is_discarded() ? Json::object() : doc;
}

std::vector<Json> FixtureList() {
  Json doc = LoadFixtures();
  std::vector<Json> out;
  if (doc.contains("fixtures")) {
    for (const Json& f : doc["fixtures"]) out.push_back(f);
  }
  return out;
}

SigV4Dialect DialectOf(const Json& f) {
  std::string d = f["dialect"];
  if (d == "s3") return SigV4Dialect::kS3;
  if (d == "json") return SigV4Dialect::kJson;
  return SigV4Dialect::kQuery;
}

HttpRequest RequestOf(const Json& f) {
  HttpRequest req;
  req.method = f["method"];
  req.target = f["target"];
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  for (const Json& h : f["headers"]) req.headers.Add(h[0], h[1]);
  req.body = Base64Decode(f["body_base64"].get<std::string>()).value_or("");
  return req;
}

Status Verify(const HttpRequest& req, SigV4Dialect dialect, int64_t now) {
  auto parsed = ParseSigV4(req, dialect);
  if (!parsed.ok()) return parsed.error();
  if (!parsed->has_value()) return Error("Anonymous", "no signature found");
  return VerifySigV4(req, **parsed, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", now, dialect);
}

std::string MismatchCode(SigV4Dialect d) {
  return d == SigV4Dialect::kJson ? "InvalidSignatureException" : "SignatureDoesNotMatch";
}

class BotocoreFixtureTest : public testing::TestWithParam<Json> {};

TEST_P(BotocoreFixtureTest, VerifiesAtSigningTime) {
  const Json& f = GetParam();
  Status st = Verify(RequestOf(f), DialectOf(f), f["now"].get<int64_t>());
  EXPECT_TRUE(st.ok()) << f["name"] << ": "
                       << (st.ok() ? "" : st.error().code + " " + st.error().message);
}

TEST_P(BotocoreFixtureTest, RejectsChangedSignature) {
  const Json& f = GetParam();
  HttpRequest req = RequestOf(f);
  if (f["kind"] == "presigned") {
    char& last = req.query.back();
    last = last == '0' ? '1' : '0';
  } else {
    std::string auth(req.headers.GetOr("authorization"));
    auth.back() = auth.back() == '0' ? '1' : '0';
    req.headers.Set("Authorization", auth);
  }
  Status st = Verify(req, DialectOf(f), f["now"].get<int64_t>());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, MismatchCode(DialectOf(f)));
}

TEST_P(BotocoreFixtureTest, RejectsChangedRequest) {
  const Json& f = GetParam();
  HttpRequest req = RequestOf(f);
  // A signed byte of the request: the body when it is signed, else the path.
  bool body_signed =
      !req.body.empty() && req.headers.GetOr("x-amz-content-sha256") != kUnsignedPayload;
  if (body_signed) {
    req.body[0] = static_cast<char>(req.body[0] ^ 1);
  } else {
    req.path += "x";
  }
  Status st = Verify(req, DialectOf(f), f["now"].get<int64_t>());
  ASSERT_FALSE(st.ok()) << f["name"];
  if (body_signed && DialectOf(f) == SigV4Dialect::kS3) {
    EXPECT_EQ(st.error().code, "XAmzContentSHA256Mismatch");
  } else {
    EXPECT_EQ(st.error().code, MismatchCode(DialectOf(f)));
  }
}

TEST_P(BotocoreFixtureTest, ExpiresWhenAwsSaysSo) {
  const Json& f = GetParam();
  HttpRequest req = RequestOf(f);
  const int64_t signed_at = f["now"].get<int64_t>();
  const SigV4Dialect dialect = DialectOf(f);
  if (f["kind"] == "presigned") {
    const int64_t expires = f["expires"].get<int64_t>();
    EXPECT_TRUE(Verify(req, dialect, signed_at + expires).ok());
    Status st = Verify(req, dialect, signed_at + expires + 1);
    ASSERT_FALSE(st.ok());
    if (dialect == SigV4Dialect::kS3) {
      EXPECT_EQ(st.error().code, "AccessDenied");
      EXPECT_EQ(st.error().message, "Request has expired");
      EXPECT_EQ(st.error().fields["X-Amz-Expires"], std::to_string(expires));
    } else {
      EXPECT_EQ(st.error().code, "RequestExpired");
    }
  } else {
    EXPECT_TRUE(Verify(req, dialect, signed_at + kMaxClockSkewSeconds).ok());
    Status st = Verify(req, dialect, signed_at + kMaxClockSkewSeconds + 1);
    ASSERT_FALSE(st.ok());
    if (dialect == SigV4Dialect::kS3) {
      EXPECT_EQ(st.error().code, "RequestTimeTooSkewed");
    } else {
      EXPECT_EQ(st.error().code, MismatchCode(dialect));
      EXPECT_TRUE(
          StartsWith(st.error().message, "Signature expired: 20240102T030405Z is now earlier than"))
          << st.error().message;
    }
  }
}

std::string FixtureName(const testing::TestParamInfo<Json>& info) {
  std::string name = info.param["name"];
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Botocore, BotocoreFixtureTest, testing::ValuesIn(FixtureList()),
                         FixtureName);

TEST(BotocoreFixtures, AreThere) {
  std::vector<Json> fixtures = FixtureList();
  ASSERT_GE(fixtures.size(), 17u) << "missing " << FixturesPath();
  size_t presigned = 0;
  for (const Json& f : fixtures) presigned += f["kind"] == "presigned";
  EXPECT_GE(presigned, 5u);
}

}  // namespace
}  // namespace stratus::aws
