#include "services/sns/filter_policy.h"

#include <gtest/gtest.h>

namespace stratus::services::sns {
namespace {

bool Match(const std::string& policy, const Json& attrs, const std::string& body = "",
           FilterScope scope = FilterScope::kMessageAttributes) {
  auto p = CompileFilterPolicy(policy, scope, false);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() && MatchesFilterPolicy(**p, attrs, body);
}

Json Str(const std::string& v) { return Json{{"DataType", "String"}, {"StringValue", v}}; }
Json Num(const std::string& v) { return Json{{"DataType", "Number"}, {"StringValue", v}}; }

std::string Reason(const std::string& policy, FilterScope scope = FilterScope::kMessageAttributes) {
  auto p = CompileFilterPolicy(policy, scope, true);
  return p.ok() ? "accepted" : p.error().message;
}

TEST(FilterPolicy, Operators) {
  EXPECT_TRUE(Match(R"({"a":["x","y"]})", Json{{"a", Str("y")}}));
  EXPECT_FALSE(Match(R"({"a":["x"]})", Json{{"a", Str("z")}}));
  EXPECT_TRUE(Match(R"({"a":[{"prefix":"ab"}]})", Json{{"a", Str("abc")}}));
  EXPECT_TRUE(Match(R"({"a":[{"suffix":"bc"}]})", Json{{"a", Str("abc")}}));
  EXPECT_TRUE(Match(R"({"a":[{"equals-ignore-case":"ABC"}]})", Json{{"a", Str("abc")}}));
  EXPECT_TRUE(Match(R"({"a":[{"anything-but":["x","y"]}]})", Json{{"a", Str("z")}}));
  EXPECT_FALSE(Match(R"({"a":[{"anything-but":"z"}]})", Json{{"a", Str("z")}}));
  EXPECT_FALSE(Match(R"({"a":[{"anything-but":{"prefix":"z"}}]})", Json{{"a", Str("zed")}}));
  EXPECT_TRUE(Match(R"({"a":[{"numeric":[">",0,"<=",100]}]})", Json{{"a", Num("100")}}));
  EXPECT_FALSE(Match(R"({"a":[{"numeric":[">",0,"<=",100]}]})", Json{{"a", Num("100.5")}}));
  EXPECT_TRUE(Match(R"({"a":[{"numeric":["=",5]}]})", Json{{"a", Num("5.0")}}));
  EXPECT_TRUE(Match(R"({"a":[{"exists":false}]})", Json::object()));
  EXPECT_FALSE(Match(R"({"a":[{"exists":true}]})", Json::object()));
  EXPECT_TRUE(Match(R"({"ip":[{"cidr":"10.0.0.0/24"}]})", Json{{"ip", Str("10.0.0.255")}}));
  EXPECT_FALSE(Match(R"({"ip":[{"cidr":"10.0.0.0/24"}]})", Json{{"ip", Str("10.0.1.0")}}));
  EXPECT_TRUE(Match(R"({"ip":[{"cidr":"2001:db8::/32"}]})", Json{{"ip", Str("2001:db8:1::1")}}));
  EXPECT_TRUE(Match(R"({"a":["x"]})",
                    Json{{"a", Json{{"DataType", "String.Array"}, {"StringValue", R"(["w","x"])"}}}}));
  EXPECT_TRUE(Match(R"({"$or":[{"a":["1"]},{"b":["2"]}]})", Json{{"b", Str("2")}}));
}

TEST(FilterPolicy, MessageBodyScope) {
  auto body = FilterScope::kMessageBody;
  EXPECT_TRUE(Match(R"({"o":{"k":[{"prefix":"auto-"}]}})", Json::object(), R"({"o":{"k":"auto-1"}})", body));
  EXPECT_TRUE(Match(R"({"o.k":["v"]})", Json::object(), R"({"o":{"k":"v"}})", body));
  EXPECT_TRUE(Match(R"({"r":{"k":["v"]}})", Json::object(), R"({"r":[{"k":"x"},{"k":"v"}]})", body));
  EXPECT_FALSE(Match(R"({"o":["v"]})", Json::object(), "not json", body));
  EXPECT_TRUE(Match(R"({"n":[null]})", Json::object(), R"({"n":null})", body));
}

TEST(FilterPolicy, ValidationMessagesAndLimits) {
  const std::string p = "Invalid parameter: Attributes Reason: FilterPolicy: ";
  EXPECT_EQ(Reason(R"({"k":[{"numeric":[">",3,"<",1]}]})"), p + "Bottom must be less than top");
  EXPECT_EQ(Reason(R"({"k":[]})"), p + "Empty arrays are not allowed");
  EXPECT_EQ(Reason(R"({"k":"v"})"), p + "\"k\" must be an object or an array");
  EXPECT_EQ(Reason(R"({"k":[{"anything-but":{"suffix":"x"}}]})"),
            p + "Unsupported anything-but pattern: suffix");
  EXPECT_EQ(Reason(R"({"k":[{"cidr":"1.2.3.4/x"}]})"), p + "Malformed CIDR, mask bits must be an integer");
  EXPECT_EQ(Reason(R"({"a":{"b":["c"]}})"),
            "Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not "
            "support nested filter policy");
  EXPECT_EQ(Reason(R"({"a":{"b":["c"]}})", FilterScope::kMessageBody), "accepted");
  EXPECT_EQ(Reason(R"({"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]})"),
            p + "Filter policy can not have more than 5 keys");
  // {"a": {"b": {"c": [4 values]}}, "d": {"e": [3]}, "f": [3]}: 3*4 x 2*3 x 1*3 = 216 > 150.
  EXPECT_EQ(Reason(R"({"a":{"b":{"c":["1","2","3","4"]}},"d":{"e":["1","2","3"]},"f":["1","2","3"]})",
                   FilterScope::kMessageBody),
            p + "Filter policy is too complex");
  EXPECT_EQ(Reason("{oops"), p + "failed to parse JSON. Unrecognized token 'oops': was expecting "
                                 "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
}

}  // namespace
}  // namespace stratus::services::sns
