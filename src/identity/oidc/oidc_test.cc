// A real RSA key signs tokens; the cache serves its JWKS; signatures, times and kid refetches.
#include "identity/oidc/oidc.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

#include "core/strings.h"

namespace stratus::identity::oidc {
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
    return Json{{"kty", "RSA"}, {"kid", kid}, {"alg", "RS256"}, {"n", B64Url(bytes(n))},
                {"e", B64Url(bytes(e))}};
  }
  std::string Sign(const Json& header, const Json& claims) const {
    std::string input = B64Url(header.dump()) + "." + B64Url(claims.dump());
    EVP_MD_CTX* m = EVP_MD_CTX_new();
    EVP_DigestSignInit(m, nullptr, EVP_sha256(), nullptr, key_.get());
    size_t len = 0;
    EVP_DigestSign(m, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
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
