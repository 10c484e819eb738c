#include "core/metrics.h"

#include <fmt/format.h>

#include <mutex>

namespace stratus {

Metrics::Entry& Metrics::Find(std::string_view service, std::string_view operation) {
  {
    std::shared_lock lock(mu_);
    auto s = services_.find(service);
    if (s != services_.end()) {
      auto o = s->second.find(operation);
      if (o != s->second.end()) return *o->second;
    }
  }
  std::unique_lock lock(mu_);
  auto& ops = services_[std::string(service)];
  auto& entry = ops[std::string(operation)];
  if (!entry) entry = std::make_unique<Entry>();
  return *entry;
}

void Metrics::Observe(std::string_view service, std::string_view operation, int http_status,
                      double seconds) {
  Entry& e = Find(service, operation);
  e.count.fetch_add(1, std::memory_order_relaxed);
  if (http_status >= 500) {
    e.server_errors.fetch_add(1, std::memory_order_relaxed);
  } else if (http_status >= 400) {
    e.client_errors.fetch_add(1, std::memory_order_relaxed);
  }
  e.micros_total.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  e.buckets[i].fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  out += "# HELP stratus_requests_total Requests answered, by service and operation.\n";
  out += "# TYPE stratus_requests_total counter\n";
  std::shared_lock lock(mu_);
  for (const auto& [service, ops] : services_) {
    for (const auto& [op, e] : ops) {
      out += fmt::format("stratus_requests_total{{service=\"{}\",operation=\"{}\"}} {}\n", service,
                         op, e->count.load());
      out += fmt::format(
          "stratus_request_errors_total{{service=\"{}\",operation=\"{}\",kind=\"client\"}} {}\n",
          service, op, e->client_errors.load());
      out += fmt::format(
          "stratus_request_errors_total{{service=\"{}\",operation=\"{}\",kind=\"server\"}} {}\n",
          service, op, e->server_errors.load());
    }
  }
  out += "# HELP stratus_request_seconds Request latency, by service and operation.\n";
  out += "# TYPE stratus_request_seconds histogram\n";
  for (const auto& [service, ops] : services_) {
    for (const auto& [op, e] : ops) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= kBuckets.size(); ++i) {
        cumulative += e->buckets[i].load();
        std::string le = i < kBuckets.size() ? fmt::format("{}", kBuckets[i]) : "+Inf";
        out += fmt::format(
            "stratus_request_seconds_bucket{{service=\"{}\",operation=\"{}\",le=\"{}\"}} {}\n",
            service, op, le, cumulative);
      }
      out += fmt::format("stratus_request_seconds_sum{{service=\"{}\",operation=\"{}\"}} {}\n",
                         service, op, static_cast<double>(e->micros_total.load()) / 1e6);
      out += fmt::format("stratus_request_seconds_count{{service=\"{}\",operation=\"{}\"}} {}\n",
                         service, op, e->count.load());
    }
  }
  return out;
}

}  // namespace stratus
