// commit_latency: the writer's group-commit durations (p50/p99/max) and the WAL's size under a
// steady durable write load shaped like SNS -> SQS delivery (each write Puts a key and Enqueues
// an item; each worker then Leases and Acks one item), with WAL checkpoints in the background
// (the default) or inside the commit (SQLite's automatic checkpoint, the old behaviour).
//
// Usage: commit_latency [background|writer] [seconds] [threads]
// Data goes under $STRATUS_BENCH_DIR, $TMPDIR or /tmp, and is removed afterwards.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/latency_histogram.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace {

using stratus::Status;
using stratus::store::WriteTxn;

std::string BenchDir() {
  for (const char* var : {"STRATUS_BENCH_DIR", "TMPDIR"}) {
    const char* value = getenv(var);
    if (value != nullptr && *value != '\0') {
      return value;
    }
  }
  return "/tmp";
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "background";
  int seconds = argc > 2 ? atoi(argv[2]) : 10;
  int threads = argc > 3 ? atoi(argv[3]) : 16;
  if (mode != "background" && mode != "writer") {
    fprintf(stderr, "usage: commit_latency [background|writer] [seconds] [threads]\n");
    return 2;
  }
  std::string pattern = BenchDir() + "/stratus-commit-latency-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    perror("mkdtemp");
    return 1;
  }
  std::string dir = pattern;
  stratus::store::SqliteOptions options;
  options.data_dir = dir;
  stratus::store::CheckpointOptions checkpoints;
  checkpoints.background = mode == "background";
  auto opened = stratus::store::OpenSqliteStoreWithCheckpoints(options, checkpoints);
  if (!opened.ok()) {
    fprintf(stderr, "open: %s\n", opened.error().message.c_str());
    return 1;
  }
  std::unique_ptr<stratus::store::Store> store = std::move(opened).value();

  std::atomic<bool> stop{false};
  std::atomic<int64_t> writes{0};
  std::vector<stratus::store::internal::LatencyHistogram> write_times(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::string queue = "bench-q-" + std::to_string(t % 10);
      std::string value(300, 'v');
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        std::string key = "sqs/acct/us-east-1/msg/" + std::to_string(rng());
        auto start = std::chrono::steady_clock::now();
        Status status = store->Write([&](WriteTxn& txn) -> Status {
          STRATUS_RETURN_IF_ERROR(txn.Put(key, value));
          STRATUS_RETURN_IF_ERROR(txn.Enqueue(queue, value, 0));
          return Status::Ok();
        });
        write_times[t].Record(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count());
        if (!status.ok()) {
          fprintf(stderr, "write: %s\n", status.error().message.c_str());
          return;
        }
        writes.fetch_add(1, std::memory_order_relaxed);
        auto leased = store->Lease(queue, 1, INT64_MAX / 2, 30000);
        if (leased.ok() && !leased->empty()) {
          (void)store->Ack(leased->front().id, leased->front().lease_token);
        }
      }
    });
  }
  std::string wal = dir + "/stratus.db-wal";
  int64_t wal_bytes_max = 0;
  auto begin = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - begin < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    wal_bytes_max = std::max(wal_bytes_max, FileSize(wal));
  }
  stop = true;
  for (auto& worker : workers) {
    worker.join();
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  stratus::store::WriterStats stats = stratus::store::SqliteWriterStats(*store);
  // Per-call latencies: the worst thread's p50/p99, and the max over all.
  int64_t p50 = 0, p99 = 0, max = 0;
  for (auto& h : write_times) {
    p50 = std::max(p50, h.Quantile(0.50));
    p99 = std::max(p99, h.Quantile(0.99));
    max = std::max(max, h.Max());
  }
  printf(
      "%-10s %3d threads %5.1f s: %8.0f writes/s, %7lld commits (%.1f writes each); commit us "
      "p50 %lld p99 %lld max %lld; Write() us p50 %lld p99 %lld max %lld (worst thread); "
      "checkpoints bg %lld writer %lld; WAL max %lld pages, file max %.1f MiB\n",
      mode.c_str(), threads, elapsed, static_cast<double>(writes.load()) / elapsed,
      static_cast<long long>(stats.batches),
      stats.batches > 0 ? static_cast<double>(writes.load()) / static_cast<double>(stats.batches)
                        : 0.0,
      static_cast<long long>(stats.commit_us_p50), static_cast<long long>(stats.commit_us_p99),
      static_cast<long long>(stats.commit_us_max), static_cast<long long>(p50),
      static_cast<long long>(p99), static_cast<long long>(max),
      static_cast<long long>(stats.background_checkpoints),
      static_cast<long long>(stats.writer_checkpoints), static_cast<long long>(stats.wal_pages_max),
      static_cast<double>(wal_bytes_max) / 1048576.0);
  store->Close();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
