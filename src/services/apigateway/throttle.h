#pragma once
// Request throttling and quotas for the data plane: token buckets keyed by whatever the caller
// chooses (stage/method, stage/route, usage-plan key) and per-day request counts from which
// usage-plan quotas (DAY, WEEK, MONTH) and GetUsage are answered.
//
// Thread-safe (one mutex; a bucket check is a map lookup and some arithmetic). Counts live in
// memory: a restart forgets usage (documented in docs/apigateway.md).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/json.h"

namespace stratus::services::apigateway {

class Throttler {
 public:
  explicit Throttler(const Clock& clock) : clock_(clock) {}

  // Takes one token from bucket `key` (refilled at `rate` per second up to `burst`; a new
  // bucket starts full). False when empty: the request is throttled. burst <= 0 throttles all.
  bool Take(const std::string& key, double rate, int64_t burst);

  // Counts one request against `key`'s quota for the period that contains now. False (and the
  // request is not counted) when `limit` requests were already counted in this period.
  // `period` is DAY, WEEK or MONTH; `offset` shifts the period start by days (WEEK, MONTH).
  bool CountQuota(const std::string& key, const std::string& period, int64_t limit,
                  int64_t offset);
  // Counts one request for `key` without a limit.
  void Count(const std::string& key);

  // Per-day counts of `key` for days [from_day, to_day] (days since the epoch), as GetUsage's
  // [[used, remaining], ...] given a quota limit (remaining = limit - used in that period).
  Json DailyUsage(const std::string& key, int64_t from_day, int64_t to_day, int64_t limit,
                  const std::string& period) const;

  // Removes every bucket whose key starts with `prefix` (settings changed).
  void Reset(const std::string& prefix);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ns = 0;
  };
  int64_t PeriodStartDay(int64_t day, const std::string& period, int64_t offset) const;
  int64_t UsedSince(const std::map<int64_t, int64_t>& days, int64_t start_day) const;

  const Clock& clock_;
  mutable std::mutex mu_;  // guards everything below
  std::unordered_map<std::string, Bucket> buckets_;
  std::unordered_map<std::string, std::map<int64_t, int64_t>> counts_;  // key -> day -> count
};

}  // namespace stratus::services::apigateway
