#include "core/worker_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

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

// Two tasks submitted back to back while one thread is idle: the idle thread can take only one
// of them, so the pool must start another for the second. A task that waits for a later one (a
// Step Functions integration waiting for the DynamoDB answer task it caused) otherwise waits
// forever: both Submits saw "one idle thread" before it woke, and neither started a thread.
TEST(WorkerPool, TasksSubmittedTogetherNeverWaitForTheSameIdleThread) {
  WorkerPool pool(8);
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> ran{false};
    pool.Submit([&] { ran = true; });
    while (!ran) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the thread is idle again
    std::atomic<bool> second{false};
    std::atomic<bool> first_saw_second{false};
    std::atomic<bool> first_done{false};
    pool.Submit([&] {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!second && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      first_saw_second = second.load();
      first_done = true;
    });
    pool.Submit([&] { second = true; });
    while (!first_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(first_saw_second) << "round " << round;
  }
}

// A task that waits, inside a BlockingScope, for a task queued after it runs even when it holds
// the pool's only thread; without the scope it would wait forever.
TEST(WorkerPool, ABlockedTaskDoesNotCountAgainstTheLimit) {
  WorkerPool pool(1);
  std::atomic<bool> second{false};
  std::atomic<bool> first_saw_second{false};
  std::atomic<bool> first_done{false};
  pool.Submit([&] {
    pool.Submit([&] { second = true; });
    WorkerPool::BlockingScope waiting;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!second && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    first_saw_second = second.load();
    first_done = true;
  });
  while (!first_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(first_saw_second);
}

TEST(WorkerPool, BlockingScopeOutsideAPoolDoesNothing) {
  WorkerPool::BlockingScope waiting;  // must not crash or touch any pool
  WorkerPool pool(2);
  std::atomic<int> done{0};
  pool.Submit([&] { done = 1; });
  while (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_LE(pool.threads(), 2u);
}

TEST(WorkerPool, IdleThreadsExit) {
  WorkerPool pool(2, /*idle_exit_ms=*/20);
  pool.Submit([] {});
  for (int i = 0; i < 100 && pool.threads() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(pool.threads(), 0u);
}

// With no room for a thread's stack (the address-space limit just above what the process maps),
// Submit neither throws nor crashes: the task waits, and runs once a thread can start. In a child
// process, so that the limit touches nothing else.
TEST(WorkerPool, ASubmitThatCannotStartAThreadQueuesTheTask) {
  // Re-executed, not forked: a forked child inherits glibc's cache of the stacks of threads
  // that earlier tests ended, and would start a thread without a new mapping.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        WorkerPool pool(4);
        std::atomic<int> ran{0};
        rlimit old{};
        getrlimit(RLIMIT_AS, &old);
        long pages = 0;
        if (FILE* f = std::fopen("/proc/self/statm", "r")) {
          if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
          std::fclose(f);
        }
        rlimit tight = old;
        tight.rlim_cur =
            static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (1 << 20);
        setrlimit(RLIMIT_AS, &tight);
        pool.Submit([&ran] { ran.fetch_add(1); });
        bool refused = pool.threads() == 0 && pool.queued() == 1;
        setrlimit(RLIMIT_AS, &old);
        pool.Submit([&ran] { ran.fetch_add(1); });
        for (int i = 0; i < 500 && ran.load() < 2; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::_Exit(refused && ran.load() == 2 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace stratus
