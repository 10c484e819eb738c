#include "core/time_format.h"

#include <gtest/gtest.h>

namespace stratus {
namespace {

TEST(TimeFormat, Iso8601) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIso8601(1422172800), "2015-01-25T08:00:00Z");
  EXPECT_EQ(FormatIso8601(1422172800.123), "2015-01-25T08:00:00.123Z");
  EXPECT_EQ(*ParseIso8601("2015-01-25T08:00:00Z"), 1422172800);
  EXPECT_DOUBLE_EQ(*ParseIso8601("2015-01-25T08:00:00.5Z"), 1422172800.5);
  EXPECT_EQ(*ParseIso8601("2015-01-25T10:00:00+02:00"), 1422172800);
  EXPECT_EQ(*ParseIso8601("20150125T080000Z"), 1422172800);
  EXPECT_FALSE(ParseIso8601("2015-13-25T08:00:00Z").has_value());
  EXPECT_FALSE(ParseIso8601("yesterday").has_value());
}

TEST(TimeFormat, HttpDate) {
  EXPECT_EQ(FormatHttpDate(1422172800), "Sun, 25 Jan 2015 08:00:00 GMT");
  EXPECT_EQ(*ParseHttpDate("Sun, 25 Jan 2015 08:00:00 GMT"), 1422172800);
  EXPECT_EQ(FormatAmzDate(1440938160), "20150830T123600Z");
  EXPECT_EQ(*ParseTimestamp("1422172800"), 1422172800);
}

}  // namespace
}  // namespace stratus
