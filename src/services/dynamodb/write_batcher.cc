#include "services/dynamodb/write_batcher.h"

#include <algorithm>

namespace stratus::services::dynamodb {

namespace {
// The most requests one group holds: bounds a group's latency and transaction size.
constexpr size_t kMaxGroup = 512;
}  // namespace

WriteBatcher::WriteBatcher(Engine& engine, int threads) : engine_(engine) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WriteBatcher::~WriteBatcher() { Stop(); }

void WriteBatcher::Submit(Request request) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(request));
      cv_.notify_one();
      return;
    }
  }
  request.done(ServiceUnavailable("The server is shutting down."), request.ops);
}

void WriteBatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WriteBatcher::Loop() {
  std::vector<Request> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been committed
      size_t n = std::min(queue_.size(), kMaxGroup);
      group.clear();
      for (size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<GroupItem> items;
    items.reserve(group.size());
    for (auto& r : group) items.push_back(GroupItem{&r.scope, &r.ops});
    std::vector<Status> results;
    Status st = engine_.ApplyGroup(items, results);
    for (size_t i = 0; i < group.size(); ++i) {
      group[i].done(st.ok() ? results[i] : st, group[i].ops);
    }
  }
}

}  // namespace stratus::services::dynamodb
