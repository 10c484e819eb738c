// REPORT and timeout lines format durations with TwoDecimals, which avoids snprintf on the
// invoke path; it must print exactly what "%.2f" prints.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "services/lambda/executor_internal.h"

namespace stratus::services::lambda {
namespace {

std::string Printf(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

TEST(TwoDecimalsTest, MatchesPrintf) {
  // Exact halves (printf rounds the binary value half to even), values just around them,
  // integers, sub-hundredths, large values and the snprintf fallbacks.
  for (double v : {0.0, -0.0, 0.005, 0.015, 0.125, 0.375, 1.005, 2.675, 0.994999, 0.995, 0.995001,
                   1.0, 3.0, 99.995, 99.999, 123.456, 1e6 + 0.125, 9999999.994, 1e7 + 0.5,
                   1e9, 1e12, -1.234, double{NAN}, double{INFINITY}}) {
    EXPECT_EQ(TwoDecimals(v), Printf(v)) << v;
  }
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> ms(0.0, 30000.0);
  for (int i = 0; i < 200000; ++i) {
    double v = ms(rng);
    ASSERT_EQ(TwoDecimals(v), Printf(v)) << v;
    double nanos = static_cast<double>(rng() % 60'000'000'000ULL) / 1e6;  // as Complete divides
    ASSERT_EQ(TwoDecimals(nanos), Printf(nanos)) << nanos;
  }
}

}  // namespace
}  // namespace stratus::services::lambda
