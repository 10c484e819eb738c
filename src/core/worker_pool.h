#pragma once
// WorkerPool: threads for work that may block (store writes waiting on group commit, process
// spawns), so the network io threads never wait. Threads start on demand, up to `max_threads`,
// and idle ones exit after a while, so an idle server holds few threads. A queued task never
// waits for a running one while fewer than `max_threads` run: a task may block until a task
// submitted after it has run (an in-process call waiting for the answer task it caused).
//
// Thread-safe. The destructor runs every task already submitted, then joins.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stratus {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_threads, int idle_exit_ms = 30'000);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; it runs on a pool thread. Tasks must not throw.
  void Submit(std::function<void()> task);

  size_t threads() const;
  size_t queued() const;

 private:
  void Loop();

  const size_t max_threads_;
  const int idle_exit_ms_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::condition_variable exited_cv_;
  std::deque<std::function<void()>> tasks_;
  size_t threads_ = 0;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace stratus
