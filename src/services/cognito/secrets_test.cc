#include "services/cognito/secrets.h"

#include <gtest/gtest.h>

namespace stratus::services::cognito::secrets {
namespace {

TEST(Secrets, Base32RfcVectors) {
  EXPECT_EQ(Base32Encode(""), "");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(*Base32Decode("MZXW6YTBOI"), "foobar");
  EXPECT_EQ(*Base32Decode("mzxw6ytboi======"), "foobar");
  EXPECT_FALSE(Base32Decode("MZ1!").has_value());
}

TEST(Secrets, HotpRfc4226Vectors) {
  const std::string key = "12345678901234567890";
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(Hotp(key, i), expected[i]) << i;
}

TEST(Secrets, TotpRfc6238Sha1Vectors) {
  const std::string key = "12345678901234567890";
  // RFC 6238 Appendix B (SHA-1, 8 digits); steps are time / 30.
  EXPECT_EQ(Hotp(key, 59 / 30, 8), "94287082");
  EXPECT_EQ(Hotp(key, 1111111109 / 30, 8), "07081804");
  EXPECT_EQ(Hotp(key, 1111111111 / 30, 8), "14050471");
  EXPECT_EQ(Hotp(key, 1234567890 / 30, 8), "89005924");
  EXPECT_EQ(Hotp(key, 2000000000 / 30, 8), "69279037");
  EXPECT_EQ(Hotp(key, 20000000000 / 30, 8), "65353130");
  int64_t step = 0;
  EXPECT_TRUE(VerifyTotp(key, "287082", 59, &step));
  EXPECT_EQ(step, 1);
  EXPECT_TRUE(VerifyTotp(key, "287082", 59 + 30));   // one step of drift
  EXPECT_FALSE(VerifyTotp(key, "287082", 59 + 90));  // too far
  EXPECT_FALSE(VerifyTotp(key, "28708", 59));
  EXPECT_FALSE(VerifyTotp(key, "abcdef", 59));
}

TEST(Secrets, SecretHashMatchesCognito) {
  EXPECT_EQ(SecretHash("secret", "alice", "client1"), "1f+jIZ5jrvd9T9LKNEBwDVXuGhIxTem62DTEPkKb29k=");
}

TEST(Secrets, PasswordPolicy) {
  Json policy = Json{{"MinimumLength", 8}, {"RequireUppercase", true}, {"RequireLowercase", true},
                     {"RequireNumbers", true}, {"RequireSymbols", true}};
  EXPECT_FALSE(PolicyViolation(policy, "Passw0rd!").has_value());
  EXPECT_EQ(*PolicyViolation(policy, "Pw0!"), "Password not long enough");
  EXPECT_EQ(*PolicyViolation(policy, "password0!"), "Password must have uppercase characters");
  EXPECT_EQ(*PolicyViolation(policy, "PASSWORD0!"), "Password must have lowercase characters");
  EXPECT_EQ(*PolicyViolation(policy, "Password!"), "Password must have numeric characters");
  EXPECT_EQ(*PolicyViolation(policy, "Password0"), "Password must have symbol characters");
  EXPECT_FALSE(PolicyViolation(Json{{"MinimumLength", 6}, {"RequireSymbols", false}, {"RequireUppercase", false},
                                    {"RequireNumbers", false}, {"RequireLowercase", false}}, "simple").has_value());
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(PolicyViolation(policy, TemporaryPassword()).has_value());
}

}  // namespace
}  // namespace stratus::services::cognito::secrets
