#include "services/lambda/log_shipper.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace stratus::services::lambda {

namespace {
constexpr auto kFlushInterval = std::chrono::milliseconds(100);
// Flush early when this many lines wait (PutLogEvents takes up to 10 000 per call).
constexpr size_t kEarlyFlushEvents = 5000;
constexpr size_t kMaxEventsPerCall = 5000;
constexpr size_t kMaxBytesPerCall = 900 * 1024;
}  // namespace

void LogShipper::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LogShipper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogShipper::Ship(const std::string& account, const std::string& region,
                      const std::string& group, const std::string& stream,
                      std::vector<aws::LogSink::Event> events) {
  if (events.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    auto& list = pending_[StreamKey{account, region, group, stream}];
    pending_events_ += events.size();
    if (list.empty()) {
      list = std::move(events);
    } else {
      list.insert(list.end(), std::make_move_iterator(events.begin()),
                  std::make_move_iterator(events.end()));
    }
    ++enqueued_batches_;
    wake = pending_events_ >= kEarlyFlushEvents;
  }
  if (wake) cv_.notify_all();
}

void LogShipper::FlushForTest() {
  std::unique_lock lock(mu_);
  uint64_t target = enqueued_batches_;
  cv_.notify_all();
  flushed_cv_.wait_for(lock, std::chrono::seconds(10),
                       [&] { return flushed_batches_ >= target || !thread_.joinable(); });
}

void LogShipper::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait_for(lock, kFlushInterval,
                 [this] { return stopping_ || pending_events_ >= kEarlyFlushEvents; });
    auto batch = std::move(pending_);
    pending_.clear();
    pending_events_ = 0;
    uint64_t upto = enqueued_batches_;
    bool stop = stopping_;
    lock.unlock();
    FlushBatch(std::move(batch));
    lock.lock();
    flushed_batches_ = upto;
    flushed_cv_.notify_all();
    if (stop && pending_.empty()) break;
  }
}

void LogShipper::FlushBatch(std::map<StreamKey, std::vector<aws::LogSink::Event>> batch) {
  for (auto& [key, events] : batch) {
    if (!sink_) {
      if (!warned_) {
        spdlog::warn("lambda: no logs service built in; function logs are dropped");
        warned_ = true;
      }
      return;
    }
    const auto& [account, region, group, stream] = key;
    // PutLogEvents' limits: at most 10 000 events and 1 MiB per call; lines of one stream
    // arrive in order already.
    size_t begin = 0;
    while (begin < events.size()) {
      size_t end = begin, bytes = 0;
      while (end < events.size() && end - begin < kMaxEventsPerCall &&
             (end == begin || bytes + events[end].message.size() + 26 <= kMaxBytesPerCall)) {
        bytes += events[end].message.size() + 26;
        ++end;
      }
      std::vector<aws::LogSink::Event> chunk(std::make_move_iterator(events.begin() + begin),
                                             std::make_move_iterator(events.begin() + end));
      Status st = sink_->Append(account, region, group, stream, chunk);
      if (!st.ok()) {
        spdlog::warn("lambda: cannot write {} log lines to {} {}: {}", chunk.size(), group,
                     stream, st.error().message);
      }
      begin = end;
    }
  }
}

}  // namespace stratus::services::lambda
