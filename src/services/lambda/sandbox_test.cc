#include "services/lambda/sandbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace stratus::services::lambda {
namespace {

TEST(ReadMemoryUseTest, ReadsResidentAndPeakOfALiveProcess) {
  // Touch 32 MiB so the resident set is clearly above it.
  std::vector<char> block(32u << 20);
  std::memset(block.data(), 1, block.size());
  MemoryUse use = ReadMemoryUse(::getpid());
  EXPECT_GE(use.rss, uint64_t{32} << 20);
  EXPECT_GE(use.peak, use.rss);
  EXPECT_LT(use.peak, uint64_t{64} << 30) << "kB are scaled to bytes once";
}

TEST(ReadMemoryUseTest, AMissingProcessReadsAsZero) {
  MemoryUse use = ReadMemoryUse(-1);
  EXPECT_EQ(use.rss, 0u);
  EXPECT_EQ(use.peak, 0u);
}

}  // namespace
}  // namespace stratus::services::lambda
