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

  // Declares that the calling thread is about to wait for work that may need another pool task
  // to run (an in-process service call whose answer is produced by a pool task). While the
  // scope lives, a pool thread running it does not count against `max_threads`, so tasks that
  // wait for other tasks cannot take every thread and starve the tasks they wait for (a Map
  // state with hundreds of concurrent DynamoDB tasks). Outside a pool thread it does nothing.
  class BlockingScope {
   public:
    BlockingScope();
    ~BlockingScope();
    BlockingScope(const BlockingScope&) = delete;
    BlockingScope& operator=(const BlockingScope&) = delete;

   private:
    WorkerPool* pool_;
  };

 private:
  void Loop();
  // Under mu_: starts a thread when a queued task has neither an idle thread nor room to start.
  void StartThreadIfNeeded();

  const size_t max_threads_;
  const int idle_exit_ms_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::condition_variable exited_cv_;
  std::deque<std::function<void()>> tasks_;
  size_t threads_ = 0;
  size_t idle_ = 0;
  size_t blocked_ = 0;  // threads inside a BlockingScope: not counted against max_threads_
  size_t start_failures_ = 0;  // threads the system refused to start
  bool stopping_ = false;
};

}  // namespace stratus
