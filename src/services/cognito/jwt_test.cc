#include "services/cognito/jwt.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace stratus::services::cognito::jwt {
namespace {

TEST(Jwt, SignVerifyAndJwk) {
  auto key = SigningKey::Generate("kid-1");
  ASSERT_TRUE(key);
  std::string token = key->Sign(Json{{"sub", "u"}, {"token_use", "access"}});
  auto parsed = Parse(token);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->header["kid"], "kid-1");
  EXPECT_EQ(parsed->header["alg"], "RS256");
  EXPECT_EQ(parsed->claims["sub"], "u");
  EXPECT_TRUE(key->Verify(parsed->signing_input, parsed->signature));
  // The public JWK verifies the same token; the PEM round-trips.
  auto pub = SigningKey::FromJwk(key->PublicJwk());
  ASSERT_TRUE(pub);
  EXPECT_TRUE(pub->Verify(parsed->signing_input, parsed->signature));
  auto again = SigningKey::FromPem("kid-1", key->PrivatePem());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->PublicJwk(), key->PublicJwk());
  Json jwk = key->PublicJwk();
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["e"], "AQAB");
  EXPECT_EQ(jwk["use"], "sig");
}

TEST(Jwt, TamperedTokensFail) {
  auto key = SigningKey::Generate("k");
  std::string token = key->Sign(Json{{"sub", "u"}, {"admin", false}});
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  // Changed claims, same signature.
  std::string forged = token.substr(0, dot1 + 1) + Base64UrlEncode(R"({"sub":"u","admin":true})") + token.substr(dot2);
  auto p = Parse(forged);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(key->Verify(p->signing_input, p->signature));
  // A flipped signature byte. (Not the last character: its low bits are base64 padding.)
  std::string flipped = token;
  char& mid = flipped[dot2 + 1 + (flipped.size() - dot2) / 2];
  mid = mid == 'A' ? 'B' : 'A';
  auto p2 = Parse(flipped);
  ASSERT_TRUE(p2.ok());
  EXPECT_FALSE(key->Verify(p2->signing_input, p2->signature));
  // Another key's signature.
  auto other = SigningKey::Generate("k");
  auto p3 = Parse(other->Sign(Json{{"sub", "u"}}));
  EXPECT_FALSE(key->Verify(p3->signing_input, p3->signature));
}

TEST(Jwt, AlgNoneAndOthersRefused) {
  std::string none = Base64UrlEncode(R"({"alg":"none","kid":"k"})") + "." + Base64UrlEncode(R"({"sub":"u"})") + ".";
  EXPECT_FALSE(Parse(none).ok());
  std::string none2 = Base64UrlEncode(R"({"alg":"none","kid":"k"})") + "." + Base64UrlEncode(R"({"sub":"u"})") + ".c2ln";
  EXPECT_FALSE(Parse(none2).ok());
  std::string hs = Base64UrlEncode(R"({"alg":"HS256","kid":"k"})") + "." + Base64UrlEncode(R"({"sub":"u"})") + ".c2ln";
  EXPECT_FALSE(Parse(hs).ok());
  std::string nokid = Base64UrlEncode(R"({"alg":"RS256"})") + "." + Base64UrlEncode(R"({"sub":"u"})") + ".c2ln";
  EXPECT_FALSE(Parse(nokid).ok());
  for (const char* bad : {"", ".", "..", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.e30"}) {
    EXPECT_FALSE(Parse(bad).ok()) << bad;
  }
  EXPECT_FALSE(Parse(std::string(20000, 'a')).ok());
}

TEST(Jwt, Base64Url) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());
  EXPECT_FALSE(Base64UrlDecode("a").has_value());
  EXPECT_FALSE(Base64UrlDecode("ab.c").has_value());
  EXPECT_FALSE(Base64UrlDecode("ab\ncd").has_value());
  EXPECT_EQ(*Base64UrlDecode("-_8="), "\xfb\xff");  // padding tolerated
  EXPECT_EQ(*Base64UrlDecode(""), "");
  for (size_t n = 0; n < 70; ++n) {
    std::string bytes = RandomBytes(n);
    std::string text = Base64UrlEncode(bytes);
    ASSERT_EQ(*Base64UrlDecode(text), bytes) << text;
  }
}

TEST(Jwt, MalformedJwksRefused) {
  EXPECT_FALSE(SigningKey::FromJwk(Json::object()));
  EXPECT_FALSE(SigningKey::FromJwk(Json{{"kty", "EC"}}));
  EXPECT_FALSE(SigningKey::FromJwk(Json{{"kty", "RSA"}, {"n", "!!"}, {"e", "AQAB"}}));
  EXPECT_FALSE(SigningKey::FromPem("k", "not a pem"));
}

}  // namespace
}  // namespace stratus::services::cognito::jwt
