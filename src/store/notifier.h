#pragma once
// Internal to src/store: delivers change notifications on one thread of its own, after commit and
// outside every lock of the writer. Thread-safe.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace stratus::store::internal {

class Notifier : public std::enable_shared_from_this<Notifier> {
 public:
  // Starts the delivery thread.
  static std::shared_ptr<Notifier> Start();
  ~Notifier();

  // Queues the topics of one commit; their watchers run soon after, on the delivery thread.
  void Post(std::vector<std::string> topics);
  // Registers `fn` for `topic`; the handle unregisters it (and waits for a running call).
  std::unique_ptr<Store::Watch> Subscribe(std::string topic, std::function<void()> fn);
  // Delivers what is queued, then stops the thread; later posts are dropped. Idempotent.
  void Stop();

 private:
  class Handle;
  struct Watcher {
    uint64_t id;
    std::shared_ptr<const std::function<void()>> fn;  // shared: called outside mu_
  };

  Notifier() = default;
  void Run();
  void Unsubscribe(const std::string& topic, uint64_t id);

  std::mutex mu_;
  std::condition_variable wake_cv_;      // the thread waits for posts or stop
  std::condition_variable callback_cv_;  // Unsubscribe waits for a running callback
  std::vector<std::string> pending_;     // guarded by mu_: topics not yet delivered
  bool stopping_ = false;                // guarded by mu_
  std::multimap<std::string, Watcher, std::less<>> watchers_;  // guarded by mu_
  uint64_t next_id_ = 1;                                       // guarded by mu_
  uint64_t running_id_ = 0;  // guarded by mu_: the watcher being called, 0 = none
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace stratus::store::internal
