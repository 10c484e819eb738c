#include "services/cognito/srp.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::cognito::srp {
namespace {

TEST(Srp, ServerAndClientAgree) {
  Verifier v = MakeVerifier("AbCdEf123", "alice", "Passw0rd!");
  ClientEphemeral c = MakeClientEphemeral();
  auto s = MakeServerEphemeral(v.verifier_hex);
  ASSERT_TRUE(s);
  auto server_key = ServerKey(c.A_hex, s->B_hex, s->b_hex, v.verifier_hex);
  auto client_key = ClientKey("AbCdEf123", "alice", "Passw0rd!", c.a_hex, c.A_hex, s->B_hex, v.salt_hex);
  ASSERT_TRUE(server_key && client_key);
  EXPECT_EQ(server_key->size(), 16u);
  EXPECT_EQ(*server_key, *client_key);
  std::string ts = FormatTimestamp(1700000000);
  std::string block = "secret-block";
  EXPECT_EQ(ClaimSignature(*server_key, "AbCdEf123", "alice", block, ts),
            ClaimSignature(*client_key, "AbCdEf123", "alice", block, ts));
  // A wrong password derives another key.
  auto wrong = ClientKey("AbCdEf123", "alice", "passw0rd!", c.a_hex, c.A_hex, s->B_hex, v.salt_hex);
  EXPECT_NE(*wrong, *server_key);
}

TEST(Srp, CheckPasswordAgainstTheVerifier) {
  Verifier v = MakeVerifier("AbCdEf123", "alice", "Passw0rd!");
  EXPECT_TRUE(CheckPassword("AbCdEf123", "alice", "Passw0rd!", v));
  EXPECT_FALSE(CheckPassword("AbCdEf123", "alice", "passw0rd!", v));
  EXPECT_FALSE(CheckPassword("AbCdEf123", "alice", "", v));
  // The verifier binds the pool and the user: the same password elsewhere does not match.
  EXPECT_FALSE(CheckPassword("AbCdEf123", "bob", "Passw0rd!", v));
  EXPECT_FALSE(CheckPassword("ZzZzZz999", "alice", "Passw0rd!", v));
  // Malformed or empty records never match.
  EXPECT_FALSE(CheckPassword("AbCdEf123", "alice", "Passw0rd!", Verifier{"", v.verifier_hex}));
  EXPECT_FALSE(CheckPassword("AbCdEf123", "alice", "Passw0rd!", Verifier{v.salt_hex, ""}));
  EXPECT_FALSE(CheckPassword("AbCdEf123", "alice", "Passw0rd!", Verifier{"zz", "not-hex"}));
  // Salted: the same password makes another verifier, and each checks with its own salt.
  Verifier w = MakeVerifier("AbCdEf123", "alice", "Passw0rd!");
  EXPECT_NE(w.verifier_hex, v.verifier_hex);
  EXPECT_TRUE(CheckPassword("AbCdEf123", "alice", "Passw0rd!", w));
}

TEST(Srp, FixedVectorIsStable) {
  // Fixed secrets give fixed results: a regression guard for byte conventions (the integration
  // test checks the same conventions against amazon-cognito-identity-js itself).
  Verifier v = MakeVerifierWithSalt("AbCdEf123", "alice", "Passw0rd!", "8f3a");
  auto c = MakeClientEphemeralWithSecret("1234567890abcdef");
  auto s = MakeServerEphemeralWithSecret(v.verifier_hex, "fedcba0987654321");
  ASSERT_TRUE(c && s);
  auto k1 = ServerKey(c->A_hex, s->B_hex, s->b_hex, v.verifier_hex);
  auto k2 = ClientKey("AbCdEf123", "alice", "Passw0rd!", c->a_hex, c->A_hex, s->B_hex, v.salt_hex);
  ASSERT_TRUE(k1 && k2);
  EXPECT_EQ(*k1, *k2);
  EXPECT_EQ(v.salt_hex, "8f3a");
}

// g^e for exponents of up to 256 bits takes the fixed-base table; longer ones the general
// exponentiation. Fermat (g^(N-1) = 1) gives the same power through both: g^e = g^(e + N - 1).
TEST(Srp, FixedBaseExponentiationMatchesGeneral) {
  const std::string n_minus_1 =
      "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
      "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
      "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
      "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
      "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
      "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
      "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
      "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFE";
  std::vector<std::string> exponents = {"0", "1", "2", "f", "10", "8000000000000000000000000000000000000000000000000000000000000000",
                                        std::string(64, 'f'), "123456789abcdef0fedcba9876543210"};
  for (int i = 0; i < 20; ++i) exponents.push_back(HexEncode(RandomBytes(32)));
  for (const std::string& e : exponents) {
    BIGNUM* sum = nullptr;
    BIGNUM* add = nullptr;
    ASSERT_TRUE(BN_hex2bn(&sum, e.c_str()) && BN_hex2bn(&add, n_minus_1.c_str()));
    BN_add(sum, sum, add);
    char* sum_hex = BN_bn2hex(sum);
    auto fast = MakeClientEphemeralWithSecret(e);
    auto general = MakeClientEphemeralWithSecret(sum_hex);
    OPENSSL_free(sum_hex);
    BN_free(sum);
    BN_free(add);
    ASSERT_TRUE(fast && general);
    EXPECT_EQ(fast->A_hex, general->A_hex) << "exponent " << e;
  }
  EXPECT_EQ(MakeClientEphemeralWithSecret("0")->A_hex, "1");
  EXPECT_EQ(MakeClientEphemeralWithSecret("a")->A_hex, "400");
}

TEST(Srp, PaddedHexConvention) {
  EXPECT_EQ(HexEncode(PaddedBytes("7f")), "7f");
  EXPECT_EQ(HexEncode(PaddedBytes("80")), "0080");
  EXPECT_EQ(HexEncode(PaddedBytes("0080")), "0080");
  EXPECT_EQ(HexEncode(PaddedBytes("abc")), "0abc");
  EXPECT_EQ(HexEncode(PaddedBytes("0")), "00");
  EXPECT_EQ(PaddedBytes("xyz"), "");
}

TEST(Srp, HostileAValuesRefused) {
  Verifier v = MakeVerifier("Pool", "u", "pw");
  auto s = MakeServerEphemeral(v.verifier_hex);
  ASSERT_TRUE(s);
  EXPECT_FALSE(ServerKey("0", s->B_hex, s->b_hex, v.verifier_hex));
  // A = N (≡ 0 mod N) would force the shared secret to zero.
  const std::string n =
      "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
      "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
      "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
      "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
      "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
      "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
      "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
      "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
  EXPECT_FALSE(ServerKey(n, s->B_hex, s->b_hex, v.verifier_hex));
  EXPECT_FALSE(ServerKey("zz", s->B_hex, s->b_hex, v.verifier_hex));
  EXPECT_FALSE(ServerKey("", s->B_hex, s->b_hex, v.verifier_hex));
  EXPECT_FALSE(ServerKey(std::string(5000, 'f'), s->B_hex, s->b_hex, v.verifier_hex));
}

TEST(Srp, TimestampFormat) {
  EXPECT_EQ(FormatTimestamp(1700000000), "Tue Nov 14 22:13:20 UTC 2023");
  EXPECT_EQ(FormatTimestamp(1699347903), "Tue Nov 7 09:05:03 UTC 2023");
}

}  // namespace
}  // namespace stratus::services::cognito::srp
