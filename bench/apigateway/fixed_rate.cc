// fixed_rate: an open-loop HTTP/1.1 load generator that holds a fixed request rate and reports
// latency percentiles the way wrk2 does — each request's latency is measured from the moment it
// was *scheduled* to be sent, not from when a free connection got around to sending it, so a
// server that stalls is charged for every request that queued behind the stall (no coordinated
// omission). wrk2 is not packaged for this distribution; this is the part of it we need.
//
// usage: fixed_rate URL RATE SECONDS [CONNECTIONS=16] [WARMUP_SECONDS=1]
//   URL is http://host:port/path (GET, keep-alive). Prints one line:
//   "rate R/s target T/s sent N errors E  p50 A ms  p90 B ms  p99 C ms  p99.9 D ms  max M ms
//    generator CPU G%"
//   G is this process's own CPU time over the run as a share of one core (13-20 us per request
//   on the shared machine): near 100% the generator, not the server, is the bottleneck and
//   the latencies measure it, so such a line is not a server figure. A low G with high
//   latencies means the generator was runnable but not running: the machine was loaded.
//
// Single-threaded (one core), Boost.Asio + Beast coroutines. Request k is due at
// start + k / RATE; any idle connection takes the next due request, sleeping until it is due.
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Target {
  std::string host, port, path;
};

bool ParseUrl(const std::string& url, Target& t) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return false;
  std::string rest = url.substr(prefix.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  t.host = authority.substr(0, colon);
  t.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  return !t.host.empty();
}

struct Run {
  Target target;
  double rate = 0;
  Clock::time_point start, measure_from, end;
  uint64_t next = 0;                  // index of the next request to schedule
  std::vector<double> latencies_ms;   // of requests due after measure_from
  uint64_t errors = 0;
  uint64_t sent = 0;

  Clock::time_point Due(uint64_t k) const {
    return start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(k) / rate));
  }
};

asio::awaitable<void> Connection(Run& run, tcp::endpoint endpoint) {
  auto token = asio::as_tuple(asio::use_awaitable);
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  beast::flat_buffer buffer;
  std::optional<beast::tcp_stream> stream;
  http::request<http::empty_body> req{http::verb::get, run.target.path, 11};
  req.set(http::field::host, run.target.host + ":" + run.target.port);
  req.keep_alive(true);
  while (true) {
    uint64_t k = run.next++;
    Clock::time_point due = run.Due(k);
    if (due >= run.end) co_return;
    if (due > Clock::now()) {
      timer.expires_at(due);
      co_await timer.async_wait(token);
    }
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
      if (!stream) {
        stream.emplace(executor);
        auto [cec] = co_await stream->async_connect(endpoint, token);
        if (cec) {
          stream.reset();
          continue;
        }
        stream->socket().set_option(tcp::no_delay(true));
        buffer.clear();
      }
      auto [wec, wn] = co_await http::async_write(*stream, req, token);
      if (wec) {
        stream.reset();
        continue;
      }
      http::response<http::string_body> res;
      auto [rec, rn] = co_await http::async_read(*stream, buffer, res, token);
      if (rec) {
        stream.reset();
        continue;
      }
      ok = res.result_int() < 400;
      if (!res.keep_alive()) stream.reset();
      break;
    }
    ++run.sent;
    if (due >= run.measure_from) {
      if (!ok) ++run.errors;
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
      run.latencies_ms.push_back(ms);
    }
  }
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s URL RATE SECONDS [CONNECTIONS=16] [WARMUP_SECONDS=1]\n", argv[0]);
    return 2;
  }
  Run run;
  if (!ParseUrl(argv[1], run.target)) {
    std::fprintf(stderr, "URL must be http://host[:port]/path\n");
    return 2;
  }
  run.rate = std::atof(argv[2]);
  double seconds = std::atof(argv[3]);
  int connections = argc > 4 ? std::atoi(argv[4]) : 16;
  double warmup = argc > 5 ? std::atof(argv[5]) : 1.0;
  if (run.rate <= 0 || seconds <= 0 || connections <= 0) {
    std::fprintf(stderr, "RATE, SECONDS and CONNECTIONS must be positive\n");
    return 2;
  }
  asio::io_context io(1);
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(run.target.host, run.target.port);
  tcp::endpoint endpoint = *endpoints.begin();
  run.start = Clock::now() + std::chrono::milliseconds(50);
  run.measure_from = run.start + std::chrono::milliseconds(static_cast<int64_t>(warmup * 1000));
  run.end = run.measure_from + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  run.latencies_ms.reserve(static_cast<size_t>(run.rate * seconds * 1.1));
  auto cpu_seconds = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  double cpu0 = cpu_seconds();
  Clock::time_point began = Clock::now();
  for (int i = 0; i < connections; ++i) asio::co_spawn(io, Connection(run, endpoint), asio::detached);
  io.run();
  Clock::time_point finished = Clock::now();
  double gen_cpu = (cpu_seconds() - cpu0) /
                   std::chrono::duration<double>(finished - began).count() * 100.0;
  std::sort(run.latencies_ms.begin(), run.latencies_ms.end());
  double span = std::chrono::duration<double>(finished - run.measure_from).count();
  std::printf(
      "rate %.0f/s target %.0f/s sent %zu errors %llu  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  "
      "p99.9 %.2f ms  max %.2f ms  generator CPU %.0f%%\n",
      static_cast<double>(run.latencies_ms.size()) / span, run.rate, run.latencies_ms.size(),
      static_cast<unsigned long long>(run.errors), Percentile(run.latencies_ms, 50),
      Percentile(run.latencies_ms, 90), Percentile(run.latencies_ms, 99),
      Percentile(run.latencies_ms, 99.9), run.latencies_ms.empty() ? 0.0 : run.latencies_ms.back(),
      gen_cpu);
  return 0;
}
