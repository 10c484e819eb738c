// RedriveExecution's clientToken bookkeeping: the last 10 tokens that redrove an execution
// answer again for 15 minutes after their first use.
#include <gtest/gtest.h>

#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

TEST(RedriveTokenTest, RepeatWithinFifteenMinutesAnswersTheFirstRedriveDate) {
  Json tokens = RememberRedriveToken(Json::array(), "tok-a", kT0);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "tok-a", kT0 + 1000), kT0);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "tok-a", kT0 + kRedriveTokenValidMs), kT0);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "tok-a", kT0 + kRedriveTokenValidMs + 1), std::nullopt);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "tok-b", kT0 + 1000), std::nullopt);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "", kT0 + 1000), std::nullopt);
}

TEST(RedriveTokenTest, EmptyTokenIsNotRemembered) {
  EXPECT_TRUE(RememberRedriveToken(Json::array(), "", kT0).empty());
  Json tokens = RememberRedriveToken(Json::array(), "tok-a", kT0);
  EXPECT_EQ(RememberRedriveToken(tokens, "", kT0 + 1).size(), 1u);
}

TEST(RedriveTokenTest, KeepsOnlyTheLastTen) {
  Json tokens = Json::array();
  for (int i = 0; i < 12; ++i) tokens = RememberRedriveToken(tokens, "t" + std::to_string(i), kT0 + i);
  ASSERT_EQ(tokens.size(), kRedriveTokensKept);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "t0", kT0 + 20), std::nullopt);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "t1", kT0 + 20), std::nullopt);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "t2", kT0 + 20), kT0 + 2);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "t11", kT0 + 20), kT0 + 11);
}

TEST(RedriveTokenTest, ExpiredTokensAreDroppedAndAReusedTokenStartsAgain) {
  Json tokens = RememberRedriveToken(Json::array(), "old", kT0);
  tokens = RememberRedriveToken(tokens, "new", kT0 + kRedriveTokenValidMs + 1);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0]["token"], "new");
  // A token used again after it expired redrives again and is valid from its new use.
  tokens = RememberRedriveToken(tokens, "new", kT0 + 3 * kRedriveTokenValidMs);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(RedriveTokenAnswer(tokens, "new", kT0 + 3 * kRedriveTokenValidMs + 5), kT0 + 3 * kRedriveTokenValidMs);
}

}  // namespace
}  // namespace stratus::services::stepfunctions
