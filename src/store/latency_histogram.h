#pragma once
// Internal to src/store: a cheap histogram of durations in microseconds, for the writer's commit
// times (StoreStats). One thread records, any thread reads: every bucket is a relaxed atomic,
// so a reader sees a consistent-enough picture (counts may be off by the batch in flight).
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace stratus::store::internal {

class LatencyHistogram {
 public:
  void Record(int64_t micros) {
    uint64_t value = micros < 0 ? 0 : static_cast<uint64_t>(micros);
    buckets_[Index(value)].fetch_add(1, std::memory_order_relaxed);
    if (static_cast<int64_t>(value) > max_.load(std::memory_order_relaxed)) {
      max_.store(static_cast<int64_t>(value), std::memory_order_relaxed);
    }
  }
  int64_t Count() const {
    int64_t total = 0;
    for (const auto& bucket : buckets_) {
      total += bucket.load(std::memory_order_relaxed);
    }
    return total;
  }
  int64_t Max() const { return max_.load(std::memory_order_relaxed); }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1), capped at Max(): at most
  // 12.5% above the true value. 0 when nothing was recorded.
  int64_t Quantile(double q) const {
    int64_t total = Count();
    if (total == 0) {
      return 0;
    }
    auto rank = static_cast<int64_t>(q * static_cast<double>(total) + 0.999999);
    int64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) {
        return std::min(UpperBound(i), Max());
      }
    }
    return Max();
  }

 private:
  // Values below 8 have a bucket each; above, 8 buckets per power of two.
  static constexpr size_t kSubBuckets = 8;
  static constexpr size_t kBuckets = kSubBuckets + 61 * kSubBuckets;
  static size_t Index(uint64_t value) {
    if (value < kSubBuckets) {
      return static_cast<size_t>(value);
    }
    int msb = 63 - std::countl_zero(value);  // >= 3
    uint64_t sub = (value >> (msb - 3)) & (kSubBuckets - 1);
    return kSubBuckets + static_cast<size_t>(msb - 3) * kSubBuckets + static_cast<size_t>(sub);
  }
  static int64_t UpperBound(size_t index) {
    if (index < kSubBuckets) {
      return static_cast<int64_t>(index);
    }
    size_t octave = (index - kSubBuckets) / kSubBuckets;  // msb - 3
    uint64_t sub = (index - kSubBuckets) % kSubBuckets;
    uint64_t low = (kSubBuckets + sub) << octave;
    return static_cast<int64_t>(low + (uint64_t{1} << octave) - 1);
  }
  std::array<std::atomic<int64_t>, kBuckets> buckets_{};
  std::atomic<int64_t> max_{0};
};

}  // namespace stratus::store::internal
