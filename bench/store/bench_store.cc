// Throughput of the SQLite store: durable writes (one writer, and 16 concurrent writers sharing
// group commits), point reads, prefix scans and lease+ack. Figures go to docs/store.md.
//
//   bench_store [--benchmark_filter=...]      data under $STRATUS_BENCH_DIR or $TMPDIR or /tmp
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace stratus::store {
namespace {

constexpr size_t kValueBytes = 100;
constexpr int kReadKeys = 100000;
constexpr int kScanPrefixes = 1000;
constexpr int kKeysPerPrefix = 100;
constexpr int64_t kNow = 1700000000000;

std::string BenchBase() {
  for (const char* var : {"STRATUS_BENCH_DIR", "TMPDIR"}) {
    const char* value = getenv(var);
    if (value != nullptr && *value != '\0') {
      return value;
    }
  }
  return "/tmp";
}

// A store in a fresh directory, removed afterwards.
class BenchStore {
 public:
  explicit BenchStore(bool fsync = true) {
    std::string pattern = BenchBase() + "/stratus-bench-store-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    dir_ = pattern;
    SqliteOptions options;
    options.data_dir = dir_;
    options.fsync = fsync;
    auto opened = OpenSqliteStore(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.error().message.c_str());
      std::abort();
    }
    store_ = std::move(opened).value();
  }
  ~BenchStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Store& operator*() { return *store_; }
  Store* operator->() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

std::string Key(const char* prefix, int64_t n) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s/%012lld", prefix, static_cast<long long>(n));
  return buffer;
}

void Check(const Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.error().message.c_str());
    std::abort();
  }
}

// The cost of one 4 KiB write + fdatasync on the bench disk: is fsync real here?
void BM_Fdatasync4K(benchmark::State& state) {
  std::string path = BenchBase() + "/stratus-bench-fsync-" + std::to_string(getpid());
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::string page(4096, 'x');
  off_t offset = 0;
  for (auto _ : state) {
    if (pwrite(fd, page.data(), page.size(), offset) != 4096 || fdatasync(fd) != 0) {
      state.SkipWithError("write/fdatasync failed");
      break;
    }
    offset = (offset + 4096) % (1 << 20);
  }
  close(fd);
  unlink(path.c_str());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Fdatasync4K)->UseRealTime();

// One thread, one Put per durable commit. Arg: fsync on (1) or off (0).
void BM_PutSingleWriter(benchmark::State& state) {
  BenchStore store(state.range(0) != 0);
  std::string value(kValueBytes, 'v');
  int64_t n = 0;
  for (auto _ : state) {
    Check(store->Put(Key("single", n++), value));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutSingleWriter)->ArgName("fsync")->Arg(1)->Arg(0)->UseRealTime();

// N threads each doing Puts as fast as they can: group commit shares each fsync among the writers
// queued behind it. One iteration = every thread doing kPerThread Puts.
void BM_PutConcurrent(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int kPerThread = 250;
  BenchStore store(true);
  std::string value(kValueBytes, 'v');
  std::atomic<int64_t> next{0};
  StoreStats before = store->Stats();
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          Check(store->Put(Key("conc", next.fetch_add(1)), value));
        }
      });
    }
    for (auto& worker : workers) {
      worker.join();
    }
  }
  StoreStats after = store->Stats();
  state.SetItemsProcessed(state.iterations() * threads * kPerThread);
  state.counters["writes_per_commit"] =
      static_cast<double>(after.commits - before.commits) /
      static_cast<double>(std::max<int64_t>(after.batches - before.batches, 1));
}
BENCHMARK(BM_PutConcurrent)
    ->ArgName("threads")
    ->Arg(16)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The read data set, loaded once: kReadKeys keys under "r/", and kScanPrefixes prefixes of
// kKeysPerPrefix keys under "s/".
Store& ReadStore() {
  static BenchStore* store = [] {
    auto* s = new BenchStore(false);
    std::string value(kValueBytes, 'v');
    for (int base = 0; base < kReadKeys; base += 5000) {
      Check((*s)->Write([&](WriteTxn& txn) -> Status {
        for (int i = base; i < base + 5000; ++i) {
          STRATUS_RETURN_IF_ERROR(txn.Put(Key("r", i), value));
        }
        return Status::Ok();
      }));
    }
    for (int p = 0; p < kScanPrefixes; ++p) {
      Check((*s)->Write([&](WriteTxn& txn) -> Status {
        std::string prefix = Key("s", p);
        for (int i = 0; i < kKeysPerPrefix; ++i) {
          STRATUS_RETURN_IF_ERROR(txn.Put(Key(prefix.c_str(), i), value));
        }
        return Status::Ok();
      }));
    }
    return s;
  }();
  return **store;
}

void BM_GetPoint(benchmark::State& state) {
  Store& store = ReadStore();
  std::mt19937 random(static_cast<unsigned>(state.thread_index() + 1));
  for (auto _ : state) {
    auto got = store.Get(Key("r", random() % kReadKeys));
    if (!got.ok() || !got->has_value()) {
      state.SkipWithError("missing key");
      break;
    }
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetPoint)->Threads(1)->Threads(2)->UseRealTime();

// A prefix scan returning kKeysPerPrefix rows (Arg 0), or the first 10 (Arg 10).
void BM_ScanPrefix(benchmark::State& state) {
  Store& store = ReadStore();
  std::mt19937 random(static_cast<unsigned>(state.thread_index() + 1));
  const size_t limit = static_cast<size_t>(state.range(0));
  int64_t rows = 0;
  for (auto _ : state) {
    std::string prefix = Key("s", random() % kScanPrefixes) + "/";
    auto scanned = store.Scan(PrefixScan(prefix, limit));
    if (!scanned.ok() || scanned->empty()) {
      state.SkipWithError("empty scan");
      break;
    }
    rows += static_cast<int64_t>(scanned->size());
  }
  state.SetItemsProcessed(rows);
  state.counters["scans_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ScanPrefix)->ArgName("limit")->Arg(0)->Arg(10)->UseRealTime();

void Fill(Store& store, const char* queue, int64_t count) {
  std::string payload(kValueBytes, 'p');
  for (int64_t done = 0; done < count;) {
    int64_t chunk = std::min<int64_t>(count - done, 5000);
    Check(store.Write([&](WriteTxn& txn) -> Status {
      for (int64_t i = 0; i < chunk; ++i) {
        STRATUS_RETURN_IF_ERROR(txn.Enqueue(queue, payload, kNow - 1));
      }
      return Status::Ok();
    }));
    done += chunk;
  }
}

// Workers (Arg) each lease up to 10 items and ack them one by one (every Lease and every Ack is a
// durable commit) until the queue is empty. Items/s = items leased and acked.
void BM_LeaseAck(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  constexpr int64_t kItemsPerIteration = 2000;
  BenchStore store(true);
  for (auto _ : state) {
    state.PauseTiming();
    Fill(*store, "jobs", kItemsPerIteration);
    state.ResumeTiming();
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        for (;;) {
          auto leased = store->Lease("jobs", 10, kNow, 60000);
          if (!leased.ok()) {
            std::abort();
          }
          if (leased->empty()) {
            return;
          }
          for (const QueueItem& item : *leased) {
            auto acked = store->Ack(item.id, item.lease_token);
            if (!acked.ok() || !*acked) {
              std::abort();
            }
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
  }
  state.SetItemsProcessed(state.iterations() * kItemsPerIteration);
}
BENCHMARK(BM_LeaseAck)
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(16)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stratus::store

BENCHMARK_MAIN();
