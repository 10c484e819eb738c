#include "services/lambda/sandbox.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
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

TEST(LaunchTest, InstancesRunUnderSchedBatchSoTheirWakeupsDoNotPreemptTheServer) {
  char dir[] = "/tmp/stratus-sandbox-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  LaunchSpec spec;
  // Field 41 of /proc/<pid>/stat is the scheduling policy; sh's own and its child's (inherited).
  spec.argv = {"/bin/sh", "-c", "awk '{print $41}' /proc/$$/stat; awk '{print $41}' /proc/self/stat"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.code_dir = dir;
  spec.scratch_dir = dir;
  auto launched = Launch(SandboxOptions{}, spec);
  ASSERT_TRUE(launched.ok()) << launched.error().message;
  const Process& p = *launched;
  std::string out;
  for (;;) {
    pollfd fd{p.out_fd, POLLIN, 0};
    ASSERT_GT(::poll(&fd, 1, 10'000), 0) << "no output in 10 s";
    char buf[256];
    ssize_t n = ::read(p.out_fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  KillProcessGroup(p.pid);
  for (int fd : {p.pidfd, p.out_fd, p.err_fd}) ::close(fd);
  ::rmdir(dir);
  const std::string batch = std::to_string(SCHED_BATCH);
  EXPECT_EQ(out, batch + "\n" + batch + "\n");
}

}  // namespace
}  // namespace stratus::services::lambda
