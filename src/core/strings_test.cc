#include "core/strings.h"

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/json.h"

namespace stratus {
namespace {

TEST(Strings, Base64RoundTrip) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(*Base64Decode("Zm8="), "fo");
  EXPECT_FALSE(Base64Decode("Zm8=a").has_value());
  EXPECT_FALSE(Base64Decode("Z").has_value());
  EXPECT_FALSE(Base64Decode("!!!!").has_value());
}

TEST(Strings, HexAndNumbers) {
  EXPECT_EQ(HexEncode("\x01\xff"), "01ff");
  EXPECT_EQ(*HexDecode("01FF"), "\x01\xff");
  EXPECT_FALSE(HexDecode("0").has_value());
  EXPECT_EQ(*ParseInt64("-42"), -42);
  EXPECT_FALSE(ParseInt64("4x").has_value());
  EXPECT_FALSE(ParseInt64("").has_value());
  EXPECT_EQ(FormatDouble(1.0), "1");
  EXPECT_EQ(FormatDouble(1.5), "1.5");
  EXPECT_EQ(FormatDouble(1.0 / 0.0), "Infinity");
}

TEST(Strings, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("héllo ✓ 😀"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
}

TEST(Strings, AppendJsonStringMatchesTheDom) {
  const std::string cases[] = {"", "plain ascii words, longer than eight bytes", "q\"uote\\slash",
                               std::string("ctl\x01\b\f\n\r\t\x1f end", 18), "caf\xC3\xA9 \xE2\x82\xAC",
                               "12345678\"2345678\\"};
  for (const auto& c : cases) {
    std::string out;
    EXPECT_TRUE(AppendJsonString(out, c)) << c;
    EXPECT_EQ(out, DumpJson(Json(c))) << c;
  }
  std::string out;
  EXPECT_FALSE(AppendJsonString(out, "bad \xC3 utf-8 here"));
  // Every length from 0 to 19 with each byte that needs attention at each position (the plain
  // fast path reads whole and overlapping 8-byte words), appended after existing text.
  const std::string specials[] = {"\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f",
                                  "\xC3\xA9", "\xff"};
  for (size_t len = 0; len < 20; ++len) {
    std::string plain(len, 'x');
    std::string o = "pre";
    EXPECT_TRUE(AppendJsonString(o, plain));
    EXPECT_EQ(o, "pre" + DumpJson(Json(plain))) << len;
    for (size_t at = 0; at < len; ++at) {
      for (const auto& sp : specials) {
        std::string v = plain.substr(0, at) + sp + plain.substr(at);
        std::string got = "pre";
        bool valid = AppendJsonString(got, v);
        EXPECT_EQ(valid, sp != "\xff") << len << " " << at;
        if (valid) EXPECT_EQ(got, "pre" + DumpJson(Json(v))) << len << " " << at;
      }
    }
  }
}

TEST(Strings, SplitJoinTrim) {
  auto parts = Split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(Join(parts, "-"), "a--b");
  EXPECT_EQ(Trim("  x \t"), "x");
  EXPECT_EQ(XmlEscape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
}

TEST(Crypto, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(HexEncode(HmacSha256("key", "The quick brown fox jumps over the lazy dog")),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  std::string u = NewUuid();
  EXPECT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(NewUuid(), u);
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block size), and RFC 2202 for SHA-1.
TEST(Crypto, HmacMatchesRfcVectors) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HexEncode(HmacSha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(HexEncode(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Crypto, GzipRoundTripAndBombs) {
  std::string text(100000, 'a');
  std::string z = GzipCompress(text);
  EXPECT_LT(z.size(), 1000u);
  EXPECT_EQ(*GzipDecompress(z, 1 << 20), text);
  EXPECT_FALSE(GzipDecompress(z, 1000).has_value());            // over the output limit
  EXPECT_FALSE(GzipDecompress(z.substr(0, z.size() / 2), 1 << 20).has_value());  // truncated
  EXPECT_FALSE(GzipDecompress("not gzip at all", 1 << 20).has_value());
}

}  // namespace
}  // namespace stratus
