#include "aws/sigv4/digest.h"

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::aws::sigv4_internal {
namespace {

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block size).
TEST(SigV4Digest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(SigV4Digest, AgreesWithCoreCrypto) {
  for (std::string data : {std::string(), std::string("abc"), std::string(100000, 'z')}) {
    EXPECT_EQ(Sha256Hex(data), stratus::Sha256Hex(data));
    EXPECT_EQ(Sha256(data), stratus::Sha256(data));
    EXPECT_EQ(HmacSha256("key", data), stratus::HmacSha256("key", data));
    EXPECT_EQ(HmacSha256Hex(std::string(64, 'k'), data),
              HexEncode(stratus::HmacSha256(std::string(64, 'k'), data)));
  }
}

}  // namespace
}  // namespace stratus::aws::sigv4_internal
