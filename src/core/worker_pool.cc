#include "core/worker_pool.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <system_error>

namespace stratus {

WorkerPool::WorkerPool(size_t max_threads, int idle_exit_ms)
    : max_threads_(max_threads == 0 ? 1 : max_threads), idle_exit_ms_(idle_exit_ms) {}

WorkerPool::~WorkerPool() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  cv_.notify_all();
  exited_cv_.wait(lock, [this] { return threads_ == 0; });
}

namespace {
// The pool whose Loop() runs on this thread, for BlockingScope.
thread_local WorkerPool* tls_pool = nullptr;
}  // namespace

void WorkerPool::Submit(std::function<void()> task) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(task));
  // An idle thread stays counted in idle_ until it wakes and takes a task, so "idle_ > 0" alone
  // would let two quick Submits both rely on the same idle thread: the second task would then
  // wait for a thread to finish, forever if the first task waits for it. Each queued task needs
  // an idle thread of its own (every Submit that relies on one wakes one) or a new thread.
  if (tasks_.size() <= idle_) {
    cv_.notify_one();
    return;
  }
  StartThreadIfNeeded();
  if (idle_ > 0) cv_.notify_one();
}

void WorkerPool::StartThreadIfNeeded() {
  if (tasks_.size() > idle_ && threads_ < max_threads_ + blocked_) {
    try {
      std::thread([this] { Loop(); }).detach();
    } catch (const std::system_error& e) {
      // Out of threads (kernel.threads-max, RLIMIT_NPROC, address space for a stack): the task
      // stays queued for a running thread, or for the next Submit that can start one, instead
      // of the error escaping into the caller (an io thread, a request). Logged at the 1st, 2nd,
      // 4th, 8th... failure.
      ++start_failures_;
      if ((start_failures_ & (start_failures_ - 1)) == 0) {
        spdlog::warn(
            "worker pool: cannot start a thread ({}; {} running, {} tasks queued, {} failures)",
            e.what(), threads_, tasks_.size(), start_failures_);
      }
      return;
    }
    ++threads_;
  }
}

WorkerPool::BlockingScope::BlockingScope() : pool_(tls_pool) {
  if (pool_ == nullptr) return;
  std::lock_guard lock(pool_->mu_);
  ++pool_->blocked_;
  pool_->StartThreadIfNeeded();  // a task queued behind this one may be what it waits for
}

WorkerPool::BlockingScope::~BlockingScope() {
  if (pool_ == nullptr) return;
  std::lock_guard lock(pool_->mu_);
  --pool_->blocked_;
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void WorkerPool::Loop() {
  tls_pool = this;
  std::unique_lock lock(mu_);
  while (true) {
    if (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (stopping_) break;
    ++idle_;
    bool woke = cv_.wait_for(lock, std::chrono::milliseconds(idle_exit_ms_),
                             [this] { return !tasks_.empty() || stopping_; });
    --idle_;
    if (!woke) break;  // idle too long: let the thread go
  }
  --threads_;
  exited_cv_.notify_all();
}

}  // namespace stratus
