// A real RSA key signs tokens; the cache serves its JWKS; signatures, times and kid refetches.
#include "identity/oidc/oidc.h"

#include <gtest/gtest.h>

#include <memory>

#include "core/strings.h"
#include "identity/oidc/test_key.h"

namespace stratus::identity::oidc {
namespace {

using Key = TestRsaKey;
std::string B64Url(std::string_view raw) { return Base64UrlEncodeForTest(raw); }

TEST(Oidc, VerifiesARealSignatureAndRefusesTampering) {
  Key key, other;
  ManualClock clock(1'700'000'000'000);
  int fetches = 0;
  JwksCache cache([&](const std::string& url, int64_t) -> Result<std::string> {
    ++fetches;
    if (url == "https://issuer.example/.well-known/jwks.json") {
      return Json{{"keys", Json::array({key.Jwk("k1")})}}.dump();
    }
    return Error("HttpError", url + " answered 404");
  }, clock);
  Json header{{"alg", "RS256"}, {"kid", "k1"}};
  Json claims{{"iss", "https://issuer.example"}, {"sub", "u"}, {"aud", "app"}, {"exp", 1'700'000'600}};
  auto jwt = ParseJwt(key.Sign(header, claims));
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->claims["sub"], "u");
  EXPECT_TRUE(VerifyJwt(*jwt, cache, 1'700'000'000).ok());
  EXPECT_EQ(fetches, 2);  // openid-configuration (404), then jwks.json
  EXPECT_TRUE(VerifyJwt(*jwt, cache, 1'700'000'000).ok());
  EXPECT_EQ(fetches, 2);  // cached

  auto expired = VerifyJwt(*jwt, cache, 1'700'000'601);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, "ExpiredToken");

  auto forged = ParseJwt(other.Sign(header, claims));
  ASSERT_TRUE(forged.ok());
  auto r = VerifyJwt(*forged, cache, 1'700'000'000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidSignature");

  // Claims changed after signing.
  Jwt tampered = *jwt;
  tampered.signing_input[tampered.signing_input.size() - 2] ^= 1;
  EXPECT_FALSE(VerifyJwt(tampered, cache, 1'700'000'000).ok());
}

TEST(Oidc, RefusesGarbageAndAlgNoneWithoutFetching) {
  ManualClock clock;
  int fetches = 0;
  JwksCache cache([&](const std::string&, int64_t) -> Result<std::string> {
    ++fetches;
    return Error("ConnectionFailed", "no network in unit tests");
  }, clock);
  EXPECT_FALSE(ParseJwt("not-a-jwt").ok());
  EXPECT_FALSE(ParseJwt("a.b.c.d").ok());
  EXPECT_FALSE(ParseJwt("!!.??.x").ok());
  auto none = ParseJwt(B64Url(R"({"alg":"none"})") + "." + B64Url(R"({"iss":"https://x","exp":9999999999})") + ".");
  ASSERT_TRUE(none.ok());
  auto r = VerifyJwt(*none, cache, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "UnsupportedAlgorithm");
  EXPECT_EQ(fetches, 0);
}

TEST(Oidc, UnknownKidRefetchesAtMostOncePerInterval) {
  Key key;
  ManualClock clock(1'700'000'000'000);
  int fetches = 0;
  JwksCache cache([&](const std::string& url, int64_t) -> Result<std::string> {
    if (url.ends_with("jwks.json")) ++fetches;
    return Json{{"keys", Json::array({key.Jwk("k1")})}}.dump();
  }, clock);
  EXPECT_TRUE(cache.KeyFor("https://i", "k1").ok());
  EXPECT_EQ(fetches, 1);
  EXPECT_FALSE(cache.KeyFor("https://i", "k2").ok());
  EXPECT_FALSE(cache.KeyFor("https://i", "k2").ok());
  EXPECT_EQ(fetches, 1);
  clock.Advance(JwksCache::kRefetchIntervalMs);
  EXPECT_FALSE(cache.KeyFor("https://i", "k2").ok());
  EXPECT_EQ(fetches, 2);
}

}  // namespace
}  // namespace stratus::identity::oidc
