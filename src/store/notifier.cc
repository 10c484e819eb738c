#include "store/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace stratus::store::internal {

class Notifier::Handle final : public Store::Watch {
 public:
  Handle(std::shared_ptr<Notifier> notifier, std::string topic, uint64_t id)
      : notifier_(std::move(notifier)), topic_(std::move(topic)), id_(id) {}
  ~Handle() override { notifier_->Unsubscribe(topic_, id_); }

 private:
  const std::shared_ptr<Notifier> notifier_;
  const std::string topic_;
  const uint64_t id_;
};

std::shared_ptr<Notifier> Notifier::Start() {
  std::shared_ptr<Notifier> notifier(new Notifier());
  // The thread keeps the notifier alive until it has returned from Run().
  notifier->thread_ = std::thread([self = notifier] { self->Run(); });
  notifier->thread_id_ = notifier->thread_.get_id();
  return notifier;
}

Notifier::~Notifier() { Stop(); }

void Notifier::Post(std::vector<std::string> topics) {
  if (topics.empty()) {
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return;
    }
    for (std::string& topic : topics) {
      if (std::find(pending_.begin(), pending_.end(), topic) == pending_.end()) {
        pending_.push_back(std::move(topic));
      }
    }
  }
  wake_cv_.notify_one();
}

std::unique_ptr<Store::Watch> Notifier::Subscribe(std::string topic, std::function<void()> fn) {
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    watchers_.emplace(topic,
                      Watcher{id, std::make_shared<const std::function<void()>>(std::move(fn))});
  }
  return std::make_unique<Handle>(shared_from_this(), std::move(topic), id);
}

void Notifier::Unsubscribe(const std::string& topic, uint64_t id) {
  std::unique_lock lock(mu_);
  auto [begin, end] = watchers_.equal_range(topic);
  for (auto it = begin; it != end; ++it) {
    if (it->second.id == id) {
      watchers_.erase(it);
      break;
    }
  }
  // A handle destroyed by its own callback must not wait for itself.
  if (std::this_thread::get_id() != thread_id_) {
    callback_cv_.wait(lock, [&] { return running_id_ != id; });
  }
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  wake_cv_.notify_one();
  if (!thread_.joinable()) {
    return;
  }
  if (std::this_thread::get_id() == thread_id_) {
    thread_.detach();  // stopped from inside a callback: the thread ends after it returns
  } else {
    thread_.join();
  }
}

void Notifier::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_cv_.wait(lock, [&] { return !pending_.empty() || stopping_; });
    if (pending_.empty()) {
      return;  // stopping, and everything posted has been delivered
    }
    std::vector<std::string> topics;
    topics.swap(pending_);
    for (const std::string& topic : topics) {
      // Collect the ids first: callbacks run unlocked and may subscribe or unsubscribe.
      std::vector<uint64_t> ids;
      auto [begin, end] = watchers_.equal_range(topic);
      for (auto it = begin; it != end; ++it) {
        ids.push_back(it->second.id);
      }
      for (uint64_t id : ids) {
        std::shared_ptr<const std::function<void()>> fn;
        auto [b, e] = watchers_.equal_range(topic);
        for (auto it = b; it != e; ++it) {
          if (it->second.id == id) {
            fn = it->second.fn;
            break;
          }
        }
        if (!fn) {
          continue;  // unsubscribed meanwhile
        }
        running_id_ = id;
        lock.unlock();
        try {
          (*fn)();
        } catch (const std::exception& e) {
          spdlog::error("store: a watcher of topic '{}' threw: {}", topic, e.what());
        } catch (...) {
          spdlog::error("store: a watcher of topic '{}' threw", topic);
        }
        lock.lock();
        running_id_ = 0;
        callback_cv_.notify_all();
      }
    }
  }
}

}  // namespace stratus::store::internal
