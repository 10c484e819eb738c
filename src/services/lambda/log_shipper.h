#pragma once
// Ships function log lines to CloudWatch Logs (/aws/lambda/<name>) off the invoke path: lines
// are queued in memory and a background thread appends them through the LogSink in batches
// every kFlushInterval (or sooner when many are waiting), keeping each stream's order. One
// flush hands every stream's lines to LogSink::AppendMany together (the logs service makes them
// durable in one store commit), not one call per stream.
//
// Lines queued when the server stops are flushed by Stop(). A kill -9 loses lines not yet
// flushed (at most one interval's worth), as a crashed Lambda host would.
//
// Thread-safe.
#include <condition_variable>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "aws/framework/service.h"

namespace stratus::services::lambda {

class LogShipper {
 public:
  // `sink` may be null (no logs service built in): lines are then dropped, logged once.
  explicit LogShipper(aws::LogSink* sink) : sink_(sink) {}
  ~LogShipper() { Stop(); }
  LogShipper(const LogShipper&) = delete;
  LogShipper& operator=(const LogShipper&) = delete;

  void Start();
  // Flushes what is queued and stops the thread. Idempotent.
  void Stop();

  void Ship(const std::string& account, const std::string& region, const std::string& group,
            const std::string& stream, std::vector<aws::LogSink::Event> events);

  // Blocks until everything queued before the call has been appended (tests, CLI `logs`).
  void FlushForTest();

 private:
  // (stream, group, account, region): the stream name first, as it tells streams apart at once
  // (instances' streams are unique; the others are mostly equal) — cheaper map comparisons.
  using StreamKey = std::tuple<std::string, std::string, std::string, std::string>;
  void Loop();
  // Hashed by stream name (instances' streams are unique; a std::map compared their shared
  // date prefix at every step) and transparent: Ship looks a stream up without copying its
  // four names. The flush does not depend on the streams' order.
  struct StreamHash {
    using is_transparent = void;
    template <class Key>
    size_t operator()(const Key& k) const {
      return std::hash<std::string_view>{}(std::string_view(std::get<0>(k)));
    }
  };
  using PendingLines = std::unordered_map<StreamKey, std::vector<aws::LogSink::Event>, StreamHash,
                                          std::equal_to<>>;
  void FlushBatch(PendingLines batch);

  aws::LogSink* const sink_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::condition_variable flushed_cv_;
  PendingLines pending_;
  size_t pending_events_ = 0;
  uint64_t enqueued_batches_ = 0;
  uint64_t flushed_batches_ = 0;
  bool stopping_ = false;
  bool warned_ = false;
  std::thread thread_;
};

}  // namespace stratus::services::lambda
