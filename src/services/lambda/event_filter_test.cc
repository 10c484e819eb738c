// Lambda event filtering as data: testdata/event_filter_cases.json holds (pattern, event,
// expected) cases and the patterns that must be refused; this runs them all.
#include "services/lambda/event_filter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace stratus::services::lambda {
namespace {

Json LoadCases() {
  const char* root = std::getenv("STRATUS_SOURCE_DIR");
  std::ifstream in(std::string(root ? root : ".") + "/src/services/lambda/testdata/event_filter_cases.json",
                   std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseJsonOrDiscarded(ss.str());
}

TEST(EventFilterTest, CasesFromTestdata) {
  Json doc = LoadCases();
  ASSERT_TRUE(doc.is_object()) << "testdata/event_filter_cases.json missing or not JSON (STRATUS_SOURCE_DIR?)";
  ASSERT_GT(doc["cases"].size(), 50u);
  for (const auto& c : doc["cases"]) {
    const std::string name = c.value("name", "?");
    auto pattern = EventFilter::ParsePattern(DumpJson(c["pattern"]));
    ASSERT_TRUE(pattern.ok()) << name << ": the pattern was refused";
    FilterOptions options;
    options.numeric_strings = c.value("options", Json::object()).value("numeric_strings", false);
    EXPECT_EQ(PatternMatches(*pattern, c["event"], options), c["match"].get<bool>()) << name;
  }
}

TEST(EventFilterTest, InvalidPatternsAreRefusedWithAwsMessage) {
  Json doc = LoadCases();
  ASSERT_TRUE(doc.is_object());
  for (const auto& p : doc["invalid"]) {
    auto r = EventFilter::ParsePattern(p.get<std::string>());
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().code, "InvalidParameterValueException");
    EXPECT_EQ(r.error().message, "Invalid filter pattern definition.");
  }
}

TEST(EventFilterTest, FiltersAreOredAndLimited) {
  Json criteria{{"Filters", Json::array({Json{{"Pattern", R"({"a": ["x"]})"}},
                                          Json{{"Pattern", R"({"b": [{"numeric": [">", 1]}]})"}}})}};
  auto f = EventFilter::Parse(criteria);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->empty());
  EXPECT_TRUE(f->Matches(Json{{"a", "x"}}, {}));
  EXPECT_TRUE(f->Matches(Json{{"b", 2}}, {}));
  EXPECT_FALSE(f->Matches(Json{{"a", "y"}, {"b", 1}}, {}));

  auto none = EventFilter::Parse(Json{{"Filters", Json::array()}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(none->Matches(Json{{"anything", 1}}, {}));
  EXPECT_TRUE(EventFilter::Parse(Json::object())->empty());

  Json six{{"Filters", Json::array()}};
  for (int i = 0; i < 6; ++i) six["Filters"].push_back(Json{{"Pattern", R"({"a": ["x"]})"}});
  auto too_many = EventFilter::Parse(six);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, "InvalidParameterValueException");

  auto no_pattern = EventFilter::Parse(Json{{"Filters", Json::array({Json::object()})}});
  ASSERT_FALSE(no_pattern.ok());
  EXPECT_EQ(no_pattern.error().message, "Invalid filter pattern definition.");
  auto bad = EventFilter::Parse(Json{{"Filters", Json::array({Json{{"Pattern", "{\"a\": 1}"}}})}});
  ASSERT_FALSE(bad.ok());
}

}  // namespace
}  // namespace stratus::services::lambda
