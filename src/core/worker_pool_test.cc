#include "core/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace stratus {
namespace {

TEST(WorkerPool, RunsEveryTaskAndCapsThreads) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(4);
    for (int i = 0; i < 1000; ++i) {
      pool.Submit([&] { done.fetch_add(1); });
    }
    EXPECT_LE(pool.threads(), 4u);
  }
  EXPECT_EQ(done.load(), 1000);
}

TEST(WorkerPool, BlockingTasksUseSeveralThreads) {
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  {
    WorkerPool pool(8);
    for (int i = 0; i < 8; ++i) {
      pool.Submit([&] {
        int now = running.fetch_add(1) + 1;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        running.fetch_sub(1);
      });
    }
  }
  EXPECT_GT(peak.load(), 1);
}

TEST(WorkerPool, IdleThreadsExit) {
  WorkerPool pool(2, /*idle_exit_ms=*/20);
  pool.Submit([] {});
  for (int i = 0; i < 100 && pool.threads() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(pool.threads(), 0u);
}

}  // namespace
}  // namespace stratus
