#include "services/dynamodb/number.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "services/dynamodb/attr.h"

namespace stratus::services::dynamodb {
namespace {

std::string Norm(const std::string& s) {
  auto d = Decimal::Parse(s);
  return d.ok() ? d->Format() : "ERR: " + d.error().message;
}

TEST(Decimal, NormalizesLikeDynamoDB) {
  EXPECT_EQ(Norm("1"), "1");
  EXPECT_EQ(Norm("01"), "1");
  EXPECT_EQ(Norm("1.50"), "1.5");
  EXPECT_EQ(Norm("-0"), "0");
  EXPECT_EQ(Norm("-0.000"), "0");
  EXPECT_EQ(Norm("1e2"), "100");
  EXPECT_EQ(Norm("1E+2"), "100");
  EXPECT_EQ(Norm("+5"), "5");
  EXPECT_EQ(Norm(".5"), "0.5");
  EXPECT_EQ(Norm("5."), "5");
  EXPECT_EQ(Norm("-12.3400e-3"), "-0.01234");
  EXPECT_EQ(Norm("123456789012345678901234567890.12345678"),
            "123456789012345678901234567890.12345678");
  EXPECT_EQ(Norm("1e-130"), "0." + std::string(129, '0') + "1");
  EXPECT_EQ(Norm("9.9999999999999999999999999999999999999e125"),
            "99999999999999999999999999999999999999" + std::string(88, '0'));
  EXPECT_EQ(Norm(std::string(38, '1') + std::string(88, '0')), std::string(38, '1') + std::string(88, '0'));
}

TEST(Decimal, ErrorsHaveDynamoDBTexts) {
  EXPECT_EQ(Norm(""), "ERR: The parameter cannot be converted to a numeric value");
  EXPECT_EQ(Norm("b"), "ERR: The parameter cannot be converted to a numeric value: b");
  EXPECT_EQ(Norm("1e"), "ERR: The parameter cannot be converted to a numeric value: 1e");
  EXPECT_EQ(Norm(" 1"), "ERR: The parameter cannot be converted to a numeric value:  1");
  EXPECT_EQ(Norm("1.2.3"), "ERR: The parameter cannot be converted to a numeric value: 1.2.3");
  EXPECT_EQ(Norm("NaN"), "ERR: The parameter cannot be converted to a numeric value: NaN");
  EXPECT_EQ(Norm("Infinity"), "ERR: The parameter cannot be converted to a numeric value: Infinity");
  EXPECT_EQ(Norm("123456789012345678901234567890123456789"),
            "ERR: Attempting to store more than 38 significant digits in a Number");
  EXPECT_EQ(Norm("-1.23456789012345678901234567890123456789"),
            "ERR: Attempting to store more than 38 significant digits in a Number");
  EXPECT_EQ(Norm("1e126"),
            "ERR: Number overflow. Attempting to store a number with magnitude larger than "
            "supported range");
  EXPECT_EQ(Norm("-1e126"),
            "ERR: Number overflow. Attempting to store a number with magnitude larger than "
            "supported range");
  EXPECT_EQ(Norm("1e-131"),
            "ERR: Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range");
  EXPECT_EQ(Norm("1e99999999999"),
            "ERR: Number overflow. Attempting to store a number with magnitude larger than "
            "supported range");
  EXPECT_EQ(Norm("0e99999999999"), "0");
}

std::string Sum(const std::string& a, const std::string& b, bool sub = false) {
  auto x = Decimal::Parse(a), y = Decimal::Parse(b);
  auto r = sub ? Decimal::Subtract(*x, *y) : Decimal::Add(*x, *y);
  return r.ok() ? r->Format() : "ERR: " + r.error().message;
}

TEST(Decimal, ExactArithmetic) {
  EXPECT_EQ(Sum("0.1", "0.2"), "0.3");
  EXPECT_EQ(Sum("5.3", "0.05"), "5.35");
  EXPECT_EQ(Sum("5", "1.2"), "6.2");
  EXPECT_EQ(Sum("1", "-1"), "0");
  EXPECT_EQ(Sum("-1", "-1"), "-2");
  EXPECT_EQ(Sum("10", "-0.001"), "9.999");
  EXPECT_EQ(Sum("-10", "0.001"), "-9.999");
  EXPECT_EQ(Sum("99999999999999999999999999999999999999", "1"),
            "100000000000000000000000000000000000000");
  EXPECT_EQ(Sum("1", "3", true), "-2");
  EXPECT_EQ(Sum("0", "3", true), "-3");
  EXPECT_EQ(Sum("1e100", "1e-100"),
            "ERR: Attempting to store more than 38 significant digits in a Number");
  EXPECT_EQ(Sum("9.9999999999999999999999999999999999999e125", "9e125"),
            "ERR: Number overflow. Attempting to store a number with magnitude larger than "
            "supported range");
}

TEST(Decimal, CompareAndOrderedEncodingAgree) {
  std::vector<std::string> texts = {"-1e125", "-100", "-99.5", "-1", "-0.5", "-0.05", "-1e-130",
                                    "0", "1e-130", "0.05", "0.5", "0.55", "1", "1.0001", "2",
                                    "10", "99.5", "100", "12345678901234567890", "1e125"};
  std::vector<Decimal> ds;
  for (const auto& t : texts) ds.push_back(*Decimal::Parse(t));
  for (size_t i = 0; i < ds.size(); ++i) {
    for (size_t j = 0; j < ds.size(); ++j) {
      int want = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(Decimal::Compare(ds[i], ds[j]), want) << texts[i] << " vs " << texts[j];
      int enc = ds[i].EncodeOrdered().compare(ds[j].EncodeOrdered());
      EXPECT_EQ(enc < 0 ? -1 : (enc > 0 ? 1 : 0), want) << texts[i] << " vs " << texts[j];
    }
  }
}

TEST(Decimal, RandomOrderingMatchesEncoding) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> digit(0, 9), len(1, 12), ex(-10, 10), sign(0, 1);
  for (int n = 0; n < 2000; ++n) {
    auto gen = [&] {
      std::string s = sign(rng) ? "-" : "";
      int l = len(rng);
      for (int i = 0; i < l; ++i) s.push_back(static_cast<char>('0' + digit(rng)));
      return s + "e" + std::to_string(ex(rng));
    };
    auto a = *Decimal::Parse(gen()), b = *Decimal::Parse(gen());
    int c = Decimal::Compare(a, b);
    int e = a.EncodeOrdered().compare(b.EncodeOrdered());
    EXPECT_EQ(c, e < 0 ? -1 : (e > 0 ? 1 : 0)) << a.Format() << " " << b.Format();
    // a + b - b == a exactly.
    auto s = Decimal::Add(a, b);
    ASSERT_TRUE(s.ok());
    auto back = Decimal::Subtract(*s, b);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->Format(), a.Format());
  }
}

TEST(Decimal, ToInt64) {
  int64_t v;
  EXPECT_TRUE(Decimal::Parse("1200")->ToInt64(v));
  EXPECT_EQ(v, 1200);
  EXPECT_TRUE(Decimal::Parse("-7")->ToInt64(v));
  EXPECT_EQ(v, -7);
  EXPECT_FALSE(Decimal::Parse("1.5")->ToInt64(v));
}

TEST(KeyEncoding, RoundTripsAndOrders) {
  std::vector<Json> strs = {S(""), S("a"), S(std::string("a\0", 2)), S("a\x01"), S("ab"), S("b"),
                            S("\xC3\xA9")};
  for (size_t i = 0; i < strs.size(); ++i) {
    std::string e = EncodeKeyValue(strs[i]);
    size_t pos = 0;
    Json back;
    ASSERT_TRUE(DecodeKeyValue("S", e, pos, back));
    EXPECT_EQ(pos, e.size());
    EXPECT_EQ(back, strs[i]);
    if (i + 1 < strs.size()) {
      // Followed by anything, the order still holds (self-delimiting).
      EXPECT_LT(EncodeKeyValue(strs[i]) + "\xFF\xFF", EncodeKeyValue(strs[i + 1]) + std::string(1, '\0'));
    }
  }
  for (std::string t : {"-5", "0", "0.001", "3", "1e20"}) {
    Json v = N(t);
    ASSERT_TRUE(NormalizeValue(v).ok());
    std::string e = EncodeKeyValue(v);
    size_t pos = 0;
    Json back;
    ASSERT_TRUE(DecodeKeyValue("N", e + "tail", pos, back));
    EXPECT_EQ(pos, e.size());
    EXPECT_EQ(back, v);
  }
  Json b = Json{{"B", "AAEC"}};
  std::string e = EncodeKeyValue(b);
  size_t pos = 0;
  Json back;
  ASSERT_TRUE(DecodeKeyValue("B", e, pos, back));
  EXPECT_EQ(back, b);
  pos = 0;
  EXPECT_FALSE(DecodeKeyValue("N", e, pos, back));
}

std::string Check(Json v) {
  Status st = NormalizeValue(v);
  return st.ok() ? v.dump() : st.error().message;
}

TEST(AttributeValues, ValidationTexts) {
  EXPECT_EQ(Check(Json::object()),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  EXPECT_EQ(Check(Json{{"S", "a"}, {"N", "1"}}),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
            "the supported datatypes");
  EXPECT_EQ(Check(Json{{"NULL", false}}),
            "One or more parameter values were invalid: Null attribute value types must have the "
            "value of true");
  EXPECT_EQ(Check(Json{{"SS", Json::array()}}),
            "One or more parameter values were invalid: An string set  may not be empty");
  EXPECT_EQ(Check(Json{{"NS", Json::array()}}),
            "One or more parameter values were invalid: An number set  may not be empty");
  EXPECT_EQ(Check(Json{{"BS", Json::array()}}),
            "One or more parameter values were invalid: Binary sets should not be empty");
  EXPECT_EQ(Check(Json{{"SS", {"a", "a"}}}),
            "One or more parameter values were invalid: Input collection [a, a] contains "
            "duplicates.");
  EXPECT_EQ(Check(Json{{"BS", {"Yg==", "Yg=="}}}),
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS "
            "contains duplicates.");
  EXPECT_EQ(Check(Json{{"NS", {"1", "1.0"}}}), "Input collection contains duplicates");
  EXPECT_EQ(Check(Json{{"NS", {"1", "b"}}}),
            "The parameter cannot be converted to a numeric value: b");
  EXPECT_EQ(Check(Json{{"M", {{"a", {{"N", "01.10"}}}}}}), R"({"M":{"a":{"N":"1.1"}}})");
  EXPECT_EQ(Check(Json{{"L", {Json::object()}}}),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
}

TEST(AttributeValues, SizesAndEquality) {
  Json item = {{"id", S("abc")}, {"n", N("12345")}, {"m", Json{{"M", {{"x", {{"BOOL", true}}}}}}}};
  // id: 2+3, n: 1+(5+1)/2+1=4... name 1 + 4, m: 1 + (3 + 1 + 1 + 1)
  EXPECT_EQ(ItemSize(item), 5u + 5u + 7u);
  EXPECT_TRUE(ValuesEqual(Json{{"SS", {"a", "b"}}}, Json{{"SS", {"b", "a"}}}));
  EXPECT_FALSE(ValuesEqual(Json{{"SS", {"a"}}}, Json{{"S", "a"}}));
  EXPECT_TRUE(ValuesEqual(N("1"), N("1")));
  int c = 0;
  EXPECT_TRUE(CompareScalars(N("9"), N("10"), c));
  EXPECT_EQ(c, -1);
  EXPECT_TRUE(CompareScalars(S("9"), S("10"), c));
  EXPECT_EQ(c, 1);
  EXPECT_FALSE(CompareScalars(S("9"), N("10"), c));
}

}  // namespace
}  // namespace stratus::services::dynamodb
