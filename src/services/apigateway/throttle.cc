#include "services/apigateway/throttle.h"

#include <algorithm>

#include "core/time_format.h"

namespace stratus::services::apigateway {

namespace {
constexpr int64_t kMsPerDay = 86'400'000;

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}
}  // namespace

bool Throttler::Take(const std::string& key, double rate, int64_t burst) {
  if (burst <= 0 || rate <= 0) return false;
  int64_t now = clock_.MonotonicNanos();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = static_cast<double>(burst);
  } else {
    double elapsed = static_cast<double>(now - b.last_ns) / 1e9;
    b.tokens = std::min(static_cast<double>(burst), b.tokens + elapsed * rate);
  }
  b.last_ns = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

int64_t Throttler::PeriodStartDay(int64_t day, const std::string& period, int64_t offset) const {
  if (period == "WEEK") {
    // Weeks start on Monday (1970-01-01 was a Thursday), shifted by `offset` days.
    int64_t monday = day - ((day + 3) % 7 + 7) % 7 + offset;
    return monday > day ? monday - 7 : monday;
  }
  if (period == "MONTH") {
    int64_t y;
    unsigned m, d;
    CivilFromDays(day, y, m, d);
    int64_t start = DaysFromCivil(y, m, 1) + offset;
    if (start > day) {
      unsigned pm = m == 1 ? 12 : m - 1;
      int64_t py = m == 1 ? y - 1 : y;
      start = DaysFromCivil(py, pm, 1) + offset;
    }
    return start;
  }
  return day;
}

int64_t Throttler::UsedSince(const std::map<int64_t, int64_t>& days, int64_t start_day) const {
  int64_t used = 0;
  for (auto it = days.lower_bound(start_day); it != days.end(); ++it) used += it->second;
  return used;
}

bool Throttler::CountQuota(const std::string& key, const std::string& period, int64_t limit,
                           int64_t offset) {
  int64_t day = clock_.NowMillis() / kMsPerDay;
  std::lock_guard lock(mu_);
  auto& days = counts_[key];
  if (UsedSince(days, PeriodStartDay(day, period, offset)) >= limit) return false;
  ++days[day];
  return true;
}

void Throttler::Count(const std::string& key) {
  int64_t day = clock_.NowMillis() / kMsPerDay;
  std::lock_guard lock(mu_);
  ++counts_[key][day];
}

Json Throttler::DailyUsage(const std::string& key, int64_t from_day, int64_t to_day,
                           int64_t limit, const std::string& period) const {
  Json out = Json::array();
  std::lock_guard lock(mu_);
  auto it = counts_.find(key);
  for (int64_t d = from_day; d <= to_day; ++d) {
    int64_t used = 0;
    int64_t period_used = 0;
    if (it != counts_.end()) {
      auto f = it->second.find(d);
      if (f != it->second.end()) used = f->second;
      int64_t start = PeriodStartDay(d, period.empty() ? "DAY" : period, 0);
      for (auto p = it->second.lower_bound(start); p != it->second.end() && p->first <= d; ++p) {
        period_used += p->second;
      }
    }
    out.push_back(Json::array({used, limit > 0 ? std::max<int64_t>(0, limit - period_used) : 0}));
  }
  return out;
}

void Throttler::Reset(const std::string& prefix) {
  std::lock_guard lock(mu_);
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace stratus::services::apigateway
