#pragma once
// Request counters and latency histograms per service and operation, rendered in the
// Prometheus text format at /_stratus/metrics.
//
// Thread-safe. Observe() takes a shared lock and does atomic increments; only the first
// observation of a new (service, operation) pair takes the exclusive lock.
#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace stratus {

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets; the last bucket is +Inf.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};

  void Observe(std::string_view service, std::string_view operation, int http_status,
               double seconds);
  std::string RenderPrometheus() const;

 private:
  struct Entry {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> client_errors{0};
    std::atomic<uint64_t> server_errors{0};
    std::atomic<uint64_t> micros_total{0};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
  };
  using OpMap = std::map<std::string, std::unique_ptr<Entry>, std::less<>>;
  Entry& Find(std::string_view service, std::string_view operation);

  mutable std::shared_mutex mu_;  // guards the map shapes; entries are atomic
  std::map<std::string, OpMap, std::less<>> services_;
};

}  // namespace stratus
