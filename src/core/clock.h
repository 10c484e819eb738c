#pragma once
// Time as a dependency (STYLE.md rule 7): services read the time from a Clock they were given,
// so tests can use a ManualClock. Both implementations are thread-safe.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace stratus {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
  // A monotonic reading in nanoseconds, for durations and deadlines.
  virtual int64_t MonotonicNanos() const = 0;
  double NowSeconds() const { return static_cast<double>(NowMillis()) / 1000.0; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // The process-wide instance, for code with no context (start-up, logging).
  static SystemClock& Instance();
};

// A clock that moves only when told to. Monotonic time advances with the wall clock.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_millis = 1700000000000) : now_(now_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  int64_t MonotonicNanos() const override { return now_.load() * 1000000; }
  void Set(int64_t millis) { now_.store(millis); }
  void Advance(int64_t millis) { now_.fetch_add(millis); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace stratus
