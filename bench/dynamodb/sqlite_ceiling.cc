// sqlite_ceiling: how fast this machine's SQLite can store the items of bench/dynamodb's
// BatchWriteItem load (batch_write.lua) durably, with no HTTP, no JSON parsing and no DynamoDB
// logic: the ceiling that a BatchWriteItem throughput goal is checked against.
//
// The keys and values are exactly what the DynamoDB engine stores for batch_write.lua's items
// (Table::ItemKey and ItemText of {"pk": "batch-1-<n>", "sk": <n % 100>, "name": ..., "score": <n>}),
// inserted in requests of 25 items:
//   raw    one thread on a bare sqlite3 connection with the store's schema (kv, WITHOUT ROWID)
//          and pragmas (WAL, synchronous=FULL, the writer's cache size); `per_commit` requests
//          per transaction, each in its own SAVEPOINT as the store's group commit runs them,
//          one reused prepared INSERT OR REPLACE; SQLite's automatic checkpoints in-line.
//   store  through store::Store (OpenSqliteStore: the same schema, pragmas, group commit and
//          background checkpoints the server uses), `per_commit` requests kept in flight with
//          WriteAsync, each request one write function of 25 Puts.
// Layouts: `hashed` is the engine's original key layout (16-bit partition hash before the
// partition key: every item of a batch lands on its own B-tree leaf); `clustered` drops the hash
// bytes (items of the load's increasing counter land on neighbouring leaves); `buckets16` keeps
// only the hash's top 4 bits (16 interleaved runs in partition-key order).
//
// Prints items/s (wall clock) and the process's CPU time per item (user + system, every thread,
// checkpoints included): on a shared machine the CPU figure is the one to compare.
//
// Usage: sqlite_ceiling raw|store hashed|clustered|buckets16 [items] [per_commit]
//   CEILING_PRAGMAS="PRAGMA ...; PRAGMA ..." (raw only): extra pragmas, for experiments.
// Data goes under $STRATUS_BENCH_DIR, $TMPDIR or /tmp, and is removed afterwards.
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "core/json.h"
#include "services/dynamodb/attr.h"
#include "services/dynamodb/table.h"
#include "store/store.h"

namespace {

using stratus::Json;
using stratus::Status;
namespace ddb = stratus::services::dynamodb;

constexpr int kItemsPerRequest = 25;       // BatchWriteItem's limit, as batch_write.lua sends
constexpr size_t kPartitionHashBytes = 2;  // Table::ItemKey: "ddb/i/" uid:8 index:1 hash:2 ...
constexpr size_t kHashOffset = 6 + 8 + 1;

std::string BenchDir() {
  for (const char* var : {"STRATUS_BENCH_DIR", "TMPDIR"}) {
    const char* value = getenv(var);
    if (value != nullptr && *value != '\0') {
      return value;
    }
  }
  return "/tmp";
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

// The n-th item of batch_write.lua (wrk thread 1) as the engine stores it.
struct Items {
  ddb::Table table;
  std::string layout;

  explicit Items(std::string l) : layout(std::move(l)) {
    table.uid = 1;
    table.hash = ddb::KeyAttr{"pk", "S"};
    table.range = ddb::KeyAttr{"sk", "N"};
  }
  void Make(uint64_t n, std::string& key, std::string& value) const {
    Json item = {{"pk", ddb::S("batch-1-" + std::to_string(n))},
                 {"sk", ddb::N(std::to_string(n % 100))},
                 {"name", ddb::S("some name here")},
                 {"score", ddb::N(std::to_string(n))}};
    key = table.ItemKey(item);
    if (layout == "clustered") {
      key.erase(kHashOffset, kPartitionHashBytes);
    } else if (layout == "buckets16") {
      key[kHashOffset] = static_cast<char>(static_cast<unsigned char>(key[kHashOffset]) >> 4);
      key.erase(kHashOffset + 1, 1);
    }
    value = ddb::ItemText(item);
  }
};

void Check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

void Exec(sqlite3* db, const char* sql) { Check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql); }

// Bare SQLite: `per_commit` requests of 25 items per transaction.
void RunRaw(const std::string& dir, const Items& items, uint64_t total, int per_commit) {
  sqlite3* db = nullptr;
  Check(db, sqlite3_open((dir + "/stratus.db").c_str(), &db), "open");
  Exec(db, "PRAGMA journal_mode = WAL");
  Exec(db, "PRAGMA synchronous = FULL");
  Exec(db, "PRAGMA journal_size_limit = 67108864");
  Exec(db, "PRAGMA cache_size = -16384");
  Exec(db, "PRAGMA temp_store = MEMORY");
  // Experiments: extra pragmas run before the schema is made (e.g. "PRAGMA page_size = 1024").
  if (const char* extra = getenv("CEILING_PRAGMAS"); extra != nullptr && *extra != '\0') {
    Exec(db, extra);
  }
  Exec(db, "CREATE TABLE kv (key BLOB NOT NULL PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
  sqlite3_stmt* insert = nullptr;
  Check(db, sqlite3_prepare_v3(db, "INSERT OR REPLACE INTO kv(key, value) VALUES (?1, ?2)", -1,
                               SQLITE_PREPARE_PERSISTENT, &insert, nullptr),
        "prepare");
  std::string key, value;
  uint64_t n = 0;
  while (n < total) {
    Exec(db, "BEGIN IMMEDIATE");
    for (int r = 0; r < per_commit && n < total; ++r) {
      Exec(db, "SAVEPOINT w");
      for (int i = 0; i < kItemsPerRequest && n < total; ++i, ++n) {
        items.Make(n, key, value);
        sqlite3_bind_blob(insert, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
        sqlite3_bind_blob(insert, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
        Check(db, sqlite3_step(insert), "insert");
        sqlite3_reset(insert);
      }
      Exec(db, "RELEASE w");
    }
    Exec(db, "COMMIT");
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

// Through store::Store: `per_commit` requests in flight, so group commits carry about that many.
void RunStore(const std::string& dir, const Items& items, uint64_t total, int in_flight) {
  stratus::store::SqliteOptions options;
  options.data_dir = dir;
  auto opened = stratus::store::OpenSqliteStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.error().message.c_str());
    std::exit(1);
  }
  auto store = std::move(opened).value();
  std::mutex mu;
  std::condition_variable cv;
  int pending = 0;
  std::atomic<int> failures{0};
  for (uint64_t first = 0; first < total; first += kItemsPerRequest) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return pending < in_flight; });
      ++pending;
    }
    // The request's items are made on the submitting thread, as the engine prepares them
    // before handing them to the writer.
    auto request = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
    for (uint64_t n = first; n < first + kItemsPerRequest && n < total; ++n) {
      request->emplace_back();
      items.Make(n, request->back().first, request->back().second);
    }
    store->WriteAsync(
        [request](stratus::store::WriteTxn& txn) -> Status {
          for (const auto& [k, v] : *request) {
            Status st = txn.Put(k, v);
            if (!st.ok()) return st;
          }
          return Status::Ok();
        },
        [&](Status st) {
          if (!st.ok()) failures.fetch_add(1);
          std::lock_guard lock(mu);
          --pending;
          cv.notify_all();
        });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
  lock.unlock();
  auto stats = store->Stats();
  store->Close();
  std::printf("store: %lld requests in %lld group commits (%.1f per commit), %d failed\n",
              static_cast<long long>(stats.commits), static_cast<long long>(stats.batches),
              stats.batches > 0 ? static_cast<double>(stats.commits) / stats.batches : 0.0,
              failures.load());
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "raw";
  std::string layout = argc > 2 ? argv[2] : "hashed";
  uint64_t total = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 500000;
  int per_commit = argc > 4 ? std::atoi(argv[4]) : 32;
  if ((mode != "raw" && mode != "store") || (layout != "hashed" && layout != "clustered" && layout != "buckets16") ||
      per_commit < 1) {
    std::fprintf(stderr, "usage: sqlite_ceiling raw|store hashed|clustered|buckets16 [items] [per_commit]\n");
    return 2;
  }
  std::string pattern = BenchDir() + "/stratus-sqlite-ceiling-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  Items items(layout);
  double cpu0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  if (mode == "raw") {
    RunRaw(pattern, items, total, per_commit);
  } else {
    RunStore(pattern, items, total, per_commit);
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = CpuSeconds() - cpu0;
  std::printf("%s %s: %llu items, %d requests of %d per commit: %.0f items/s wall, %.2f us CPU/item\n",
              mode.c_str(), layout.c_str(), static_cast<unsigned long long>(total), per_commit,
              kItemsPerRequest, static_cast<double>(total) / wall, cpu * 1e6 / static_cast<double>(total));
  std::filesystem::remove_all(pattern);
  return 0;
}
