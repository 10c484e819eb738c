// The verified-token cache: a hit skips the signature check, yet tampering, expiry and another
// authorizer's requirements are still decided as VerifyJwt decides them.
#include "services/apigateway/jwt.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

#include "core/clock.h"
#include "core/strings.h"

namespace stratus::services::apigateway {
namespace {

std::string B64Url(std::string_view raw) {
  std::string s = Base64Encode(raw);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

class Key {
 public:
  Key() {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
    EVP_PKEY* k = nullptr;
    EVP_PKEY_generate(ctx, &k);
    EVP_PKEY_CTX_free(ctx);
    key_.reset(k);
  }
  Json Jwk(const std::string& kid) const {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E, &e);
    auto bytes = [](BIGNUM* b) {
      std::string s(BN_num_bytes(b), '\0');
      BN_bn2bin(b, reinterpret_cast<unsigned char*>(s.data()));
      BN_free(b);
      return s;
    };
    return Json{{"kty", "RSA"}, {"kid", kid}, {"n", B64Url(bytes(n))}, {"e", B64Url(bytes(e))}};
  }
  std::string Sign(const Json& header, const Json& claims) const {
    std::string input = B64Url(header.dump()) + "." + B64Url(claims.dump());
    EVP_MD_CTX* m = EVP_MD_CTX_new();
    EVP_DigestSignInit(m, nullptr, EVP_sha256(), nullptr, key_.get());
    size_t len = 0;
    EVP_DigestSign(m, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(m, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(m);
    sig.resize(len);
    return input + "." + B64Url(sig);
  }

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  std::unique_ptr<EVP_PKEY, Free> key_;
};

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
