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
// One AppendMany call (one store transaction) carries at most this much of several streams.
constexpr size_t kMaxEventsPerMany = 20'000;
constexpr size_t kMaxBytesPerMany = 4 * 1024 * 1024;
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
    auto it = pending_.find(std::tie(stream, group, account, region));
    if (it == pending_.end()) {
      it = pending_.emplace(StreamKey{stream, group, account, region},
                            std::vector<aws::LogSink::Event>())
               .first;
    }
    auto& list = it->second;
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

void LogShipper::FlushBatch(PendingLines batch) {
  if (batch.empty()) return;
  if (!sink_) {
    if (!warned_) {
      spdlog::warn("lambda: no logs service built in; function logs are dropped");
      warned_ = true;
    }
    return;
  }
  // Every stream's lines in as few AppendMany calls as the limits allow (one store commit each,
  // instead of one per stream): PutLogEvents' limits per stream (at most 10 000 events and 1 MiB
  // per call; lines of one stream arrive in order already), and a bound on one call's total.
  std::vector<aws::LogSink::StreamEvents> call;
  size_t call_events = 0, call_bytes = 0;
  auto send = [&] {
    if (call.empty()) return;
    std::vector<Status> st = sink_->AppendMany(call);
    for (size_t i = 0; i < call.size() && i < st.size(); ++i) {
      if (!st[i].ok()) {
        spdlog::warn("lambda: cannot write {} log lines to {} {}: {}", call[i].events.size(),
                     call[i].group, call[i].stream, st[i].error().message);
      }
    }
    call.clear();
    call_events = call_bytes = 0;
  };
  for (auto& [key, events] : batch) {
    const auto& [stream, group, account, region] = key;
    size_t begin = 0;
    while (begin < events.size()) {
      size_t end = begin, bytes = 0;
      while (end < events.size() && end - begin < kMaxEventsPerCall &&
             (end == begin || bytes + events[end].message.size() + 26 <= kMaxBytesPerCall)) {
        bytes += events[end].message.size() + 26;
        ++end;
      }
      if (call_events + (end - begin) > kMaxEventsPerMany || call_bytes + bytes > kMaxBytesPerMany) {
        send();
      }
      aws::LogSink::StreamEvents& entry = call.emplace_back();
      entry.account = account;
      entry.region = region;
      entry.group = group;
      entry.stream = stream;
      entry.events.assign(std::make_move_iterator(events.begin() + begin),
                          std::make_move_iterator(events.begin() + end));
      call_events += end - begin;
      call_bytes += bytes;
      begin = end;
    }
  }
  send();
}

}  // namespace stratus::services::lambda
