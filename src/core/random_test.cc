#include "core/random.h"

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace stratus {
namespace {

TEST(ThreadRngTest, SameThreadSameGeneratorOtherThreadOwnOne) {
  std::mt19937_64* mine = &ThreadRng();
  EXPECT_EQ(mine, &ThreadRng());
  std::mt19937_64* theirs = nullptr;
  std::thread([&theirs] { theirs = &ThreadRng(); }).join();
  EXPECT_NE(mine, theirs);
}

TEST(ThreadRngTest, DrawsVary) {
  auto& rng = ThreadRng();
  uint64_t first = rng();
  bool differs = false;
  for (int i = 0; i < 8 && !differs; ++i) differs = rng() != first;
  EXPECT_TRUE(differs);
}

TEST(PseudoRandomUuidTest, IsAVersion4UuidAndVaries) {
  std::string a = PseudoRandomUuid();
  ASSERT_EQ(a.size(), 36u);
  for (size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(a[i], '-') << a;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == '-') continue;
    EXPECT_TRUE((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f')) << a;
  }
  EXPECT_EQ(a[14], '4') << a;                                         // version
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;  // variant
  EXPECT_NE(a, PseudoRandomUuid());
}

}  // namespace
}  // namespace stratus
