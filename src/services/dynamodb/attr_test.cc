#include "services/dynamodb/attr.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stratus::services::dynamodb {
namespace {

// ItemText is the stored form of every item: it must be byte for byte what DumpJson writes.
TEST(ItemText, EqualsDumpJson) {
  std::string controls;
  for (int c = 1; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  std::vector<Json> items = {
      Json::object(),
      Json{{"pk", S("a")}, {"n", N("1.5")}, {"empty", S("")}},
      Json{{"q", S("quote \" backslash \\ slash / del \x7f")}, {"c", S(controls)}},
      Json{{"u", S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf")}, {"\xc3\xa9", S("name")}},
      Json{{"m", Json{{"M", Json{{"a", Json{{"L", Json::array({S("x"), N("2"), Json{{"BOOL", false}}})}}},
                                 {"b", Json{{"NULL", true}}},
                                 {"e", Json{{"M", Json::object()}}},
                                 {"l", Json{{"L", Json::array()}}}}}}},
           {"ss", Json{{"SS", Json::array({"a", "b\n"})}}},
           {"ns", Json{{"NS", Json::array({"1", "-0.5"})}}},
           {"bs", Json{{"BS", Json::array({"AAE=", "/w=="})}}},
           {"bin", Json{{"B", "AAE="}}},
           {"t", Json{{"BOOL", true}}}},
  };
  for (const Json& item : items) EXPECT_EQ(ItemText(item), DumpJson(item)) << DumpJson(item);
}

// What DumpJson replaces or writes itself (invalid UTF-8, numbers, null) comes out the same too.
TEST(ItemText, FallsBackToDumpJson) {
  std::vector<std::string> invalid = {"\xc3\x28", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\xe2\x82", "\xf8\x88\x80\x80\x80", "ok\xff", "\x80"};
  for (const std::string& s : invalid) {
    Json item = {{"s", S(s)}};
    EXPECT_EQ(ItemText(item), DumpJson(item));
    Json named = {{s, S("v")}};
    EXPECT_EQ(ItemText(named), DumpJson(named));
  }
  Json odd = {{"a", 1}, {"b", nullptr}, {"c", 2.5}, {"d", S("x")}};
  EXPECT_EQ(ItemText(odd), DumpJson(odd));
}

// ValueSize counts a number's significant digits without parsing plain decimals; it must agree
// with Decimal::StorageSize (1 for text Decimal::Parse refuses) for every spelling.
TEST(ValueSize, NumbersAgreeWithDecimal) {
  std::vector<std::string> numbers = {
      "0", "-0", "0.000", "-0.000", "00", "1", "-1", "7", "10", "100", "1000000", "1.5", "01.50",
      "-12.3400", "0.05", "0.0500", "123.456", "99999999999999999999999999999999999999",
      "12345678901234567890123456789012345678", "123456789012345678901234567890123456789",
      "1000000000000000000000000000000000000000000000", "0." + std::string(97, '0') + "1",
      "0." + std::string(129, '0') + "1", "1" + std::string(125, '0'), "1" + std::string(126, '0'),
      "1e2", "1E+2", "-12.3400e-3", ".5", "5.", "1.", "-", "", "+5", "1.2.3", "--1", "1-", "abc", "0x10",
      "9.9999999999999999999999999999999999999e125", "1e126", "1e-131"};
  for (const std::string& n : numbers) {
    auto d = Decimal::Parse(n);
    size_t want = d.ok() ? d->StorageSize() : 1;
    EXPECT_EQ(ValueSize(N(n)), want) << n;
    Json set = {{"NS", Json::array({n})}};
    EXPECT_EQ(ValueSize(set), want) << n;
  }
}

// Integers already canonical skip the Decimal round trip: whatever path a number takes, it is
// stored as Decimal::Format writes it, and out-of-range or malformed ones are refused.
TEST(NormalizeValue, NumbersComeOutAsDecimalFormatWritesThem) {
  std::string max38(38, '9'), over38 = "1" + std::string(38, '0');
  for (const std::string& text : std::vector<std::string>{"0", "-0", "7", "-7", "10", "100", "007", "-010", "1.50",
                                                          "1e3", "0.0", "12345678901234567890", max38, "-" + max38}) {
    Json v = N(text);
    ASSERT_TRUE(NormalizeValue(v).ok()) << text;
    auto d = Decimal::Parse(text);
    ASSERT_TRUE(d.ok()) << text;
    EXPECT_EQ(v["N"], d->Format()) << text;
  }
  for (const std::string& text : std::vector<std::string>{"", "-", "1a", "--1", "1" + max38 + "1"}) {
    Json v = N(text);
    EXPECT_FALSE(NormalizeValue(v).ok()) << text;
  }
  Json big = N(over38);  // 39 digits, but trailing zeros: 38 digits of precision are enough
  auto d = Decimal::Parse(over38);
  EXPECT_EQ(NormalizeValue(big).ok(), d.ok());
}

// Key encodings keep DynamoDB's byte order and decode back, zero bytes included.
TEST(EncodeKeyValue, StringsWithZeroBytesRoundTripInOrder) {
  std::vector<std::string> sorted = {std::string(""), std::string("\0", 1), std::string("\0\0", 2),
                                     std::string("\0a", 2), std::string("a"), std::string("a\0", 2),
                                     std::string("a\0b\0", 4), std::string("ab")};
  std::string previous;
  for (size_t i = 0; i < sorted.size(); ++i) {
    std::string encoded = EncodeKeyValue(S(sorted[i]));
    if (i > 0) {
      EXPECT_LT(previous, encoded) << i;
    }
    previous = encoded;
    size_t pos = 0;
    Json back;
    ASSERT_TRUE(DecodeKeyValue("S", encoded + "tail", pos, back)) << i;
    EXPECT_EQ(pos, encoded.size());
    EXPECT_EQ(back, S(sorted[i]));
  }
}

}  // namespace
}  // namespace stratus::services::dynamodb
