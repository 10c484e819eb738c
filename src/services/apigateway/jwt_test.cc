// The verified-token cache: a hit skips the signature check, yet tampering, expiry and another
// authorizer's requirements are still decided as VerifyJwt decides them.
#include "services/apigateway/jwt.h"

#include <gtest/gtest.h>

#include <memory>

#include "core/clock.h"
#include "core/strings.h"
#include "identity/oidc/test_key.h"

namespace stratus::services::apigateway {
namespace {

using Key = identity::oidc::TestRsaKey;
std::string B64Url(std::string_view raw) { return identity::oidc::Base64UrlEncodeForTest(raw); }

constexpr int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "https://issuer.example";

class VerifiedJwtCacheTest : public ::testing::Test {
 protected:
  VerifiedJwtCacheTest()
      : jwks_([this](const std::string& url, int64_t) -> Result<std::string> {
          ++fetches_;
          if (url == std::string(kIssuer) + "/.well-known/jwks.json") {
            return Json{{"keys", Json::array({key_.Jwk("k1")})}}.dump();
          }
          return Error("HttpError", url + " answered 404");
        }, clock_),
        // A JWKS that cannot be fetched: whatever it accepts came from the cache.
        offline_([](const std::string&, int64_t) -> Result<std::string> {
          return Error("ConnectionFailed", "offline");
        }, clock_) {}

  std::string Token(const Json& extra = Json::object()) const {
    Json claims{{"iss", kIssuer}, {"sub", "u"}, {"client_id", "app"}, {"exp", kNow + 600},
                {"scope", "api/read  api/write"}, {"auth_time", kNow}};
    claims.update(extra);
    return key_.Sign(Json{{"alg", "RS256"}, {"kid", "k1"}}, claims);
  }

  Key key_;
  ManualClock clock_{kNow * 1000};
  int fetches_ = 0;
  JwksCache jwks_;
  JwksCache offline_;
  VerifiedJwtCache cache_;
  JwtRequirements req_{kIssuer, {"app"}};
};

TEST_F(VerifiedJwtCacheTest, ASecondUseIsAHitWithClaimsWorkedOutOnce) {
  std::string token = Token();
  auto first = cache_.Verify("api/a1", token, req_, jwks_, kNow);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(cache_.SizeForTest(), 1u);
  EXPECT_EQ((*first)->string_claims["auth_time"], std::to_string(kNow));
  EXPECT_EQ((*first)->string_claims["sub"], "u");
  EXPECT_EQ((*first)->scopes, (std::vector<std::string>{"api/read", "api/write"}));
  auto again = cache_.Verify("api/a1", token, req_, offline_, kNow + 1);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(first->get(), again->get());
  // Another authorizer (or other requirements) decides for itself.
  EXPECT_FALSE(cache_.Verify("api/a2", token, req_, offline_, kNow).ok());
  JwtRequirements other_aud{kIssuer, {"other-app"}};
  EXPECT_FALSE(cache_.Verify("api/a1", token, other_aud, jwks_, kNow).ok());
}

TEST_F(VerifiedJwtCacheTest, ATamperedCopyOfAVerifiedTokenIsRefused) {
  std::string token = Token();
  ASSERT_TRUE(cache_.Verify("api/a1", token, req_, jwks_, kNow).ok());
  std::string tampered_sig = token;
  // A character well inside the signature: the last one's low bits are base64 padding, so
  // changing it may decode to the same bytes.
  char& c = tampered_sig[tampered_sig.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(cache_.Verify("api/a1", tampered_sig, req_, jwks_, kNow).ok());
  auto parts = Split(token, '.');
  std::string forged_payload = parts[0] + "." +
                               B64Url(Json{{"iss", kIssuer}, {"sub", "admin"}, {"client_id", "app"},
                                           {"exp", kNow + 600}}.dump()) +
                               "." + parts[2];
  EXPECT_FALSE(cache_.Verify("api/a1", forged_payload, req_, jwks_, kNow).ok());
  EXPECT_FALSE(cache_.Verify("api/a1", token + "x", req_, jwks_, kNow).ok());
  EXPECT_EQ(cache_.SizeForTest(), 1u);  // refusals are never stored
}

TEST_F(VerifiedJwtCacheTest, AHitStillChecksTheClock) {
  std::string token = Token(Json{{"nbf", kNow - 10}});
  ASSERT_TRUE(cache_.Verify("api/a1", token, req_, jwks_, kNow).ok());
  auto expired = cache_.Verify("api/a1", token, req_, jwks_, kNow + 600);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().message, "the token has expired");
  ASSERT_TRUE(cache_.Verify("api/a1", token, req_, jwks_, kNow).ok());
  auto early = cache_.Verify("api/a1", token, req_, offline_, kNow - 11);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().message, "the token is not valid yet");
}

TEST_F(VerifiedJwtCacheTest, EntriesOutliveNeitherTheKeySetsTrustNorTheBound) {
  std::string token = Token(Json{{"exp", kNow + 2 * VerifiedJwtCache::kMaxAgeSeconds}});
  ASSERT_TRUE(cache_.Verify("api/a1", token, req_, jwks_, kNow).ok());
  EXPECT_TRUE(cache_.Verify("api/a1", token, req_, offline_, kNow + 1).ok());
  EXPECT_FALSE(
      cache_.Verify("api/a1", token, req_, offline_, kNow + VerifiedJwtCache::kMaxAgeSeconds).ok());
  for (size_t i = 0; i <= VerifiedJwtCache::kMaxEntries; ++i) {
    std::string token_i = Token(Json{{"jti", std::to_string(i)}});
    ASSERT_TRUE(cache_.Verify("api/a1", token_i, req_, jwks_, kNow).ok());
  }
  EXPECT_EQ(cache_.SizeForTest(), VerifiedJwtCache::kMaxEntries);
}

}  // namespace
}  // namespace stratus::services::apigateway
