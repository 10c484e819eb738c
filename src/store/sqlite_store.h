#pragma once
// Internal to src/store (and its tests): the schema migrations of the SQLite backend and hooks
// for tests. Services use store.h only.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace stratus::store {

// One schema step. Versions start at 1 and increase by one; a migration runs once, inside the
// same transaction that records it in schema_version, so a crash never leaves it half applied.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  // one or more statements
};

// The migrations of this binary, oldest first. Append only: never edit a released one.
const std::vector<Migration>& SqliteMigrations();

// OpenSqliteStore with another migration list (to test upgrades and downgrades).
Result<std::unique_ptr<Store>> OpenSqliteStoreWithMigrationsForTest(
    const SqliteOptions& options, std::vector<Migration> migrations);

// How the SQLite store checkpoints its WAL. OpenSqliteStore uses these values with `background`
// set (in-commit checkpoints stalled every queued write for 15-30 ms, a dozen times a second,
// under a 50 000 SQS sends/s load — docs/store.md); the struct's own default stays the in-commit
// mode, which the crash test's writer exercises.
//  * background: once the WAL passes `checkpoint_pages` after a commit, a PASSIVE
//    checkpoint runs on a separate connection and thread while commits go on; when it has
//    finished, the writer copies the short tail left between two batches (so that its next
//    commit rewinds the WAL): up to 32 frames, or up to 512 once the WAL is past a quarter of
//    `wal_limit_pages` (the rounds are not converging). If the WAL still passes `wal_limit_pages`
//    (the background fell behind, or a long read pinned old frames), the writer runs a RESTART
//    checkpoint itself after that commit: writes queue behind it, and it waits (busy timeout) for
//    readers of old frames, so the WAL stays bounded.
//  * !background: SQLite's automatic checkpoint, a PASSIVE checkpoint inside the commit that
//    passes `checkpoint_pages`, on the writer thread.
struct CheckpointOptions {
  bool background = false;
  int checkpoint_pages = 1000;
  int wal_limit_pages = 16384;
};

Result<std::unique_ptr<Store>> OpenSqliteStoreWithCheckpoints(const SqliteOptions& options,
                                                              CheckpointOptions checkpoints);

// What the writer thread did, for tests and benchmarks. Commit durations run from taking a batch
// to its commit being durable (checkpoint work done on the writer included), in microseconds:
// upper bounds of histogram buckets, at most 12.5% high.
struct WriterStats {
  int64_t batches = 0;
  int64_t commit_us_p50 = 0;
  int64_t commit_us_p99 = 0;
  int64_t commit_us_max = 0;
  int64_t background_checkpoints = 0;
  int64_t background_checkpoint_failures = 0;  // busy or failed, each then asked for again
  int64_t writer_checkpoints = 0;  // tails, hard-limit RESTARTs, or all when !background
  int64_t wal_pages_last = 0;      // the WAL's size in pages after the last commit
  int64_t wal_pages_max = 0;
  int64_t wal_pages_written = 0;  // frames appended to the WAL since the store opened
  // Physical transactions rolled back and run again because a rerunnable function that ran
  // without a savepoint failed after writing (rerunnable_write.h).
  int64_t replays = 0;
};
// `store` must come from OpenSqliteStore*; all zero in memory mode but `replays`.
WriterStats SqliteWriterStats(Store& store);

// The number of write functions queued and not yet taken by the writer (for tests that need
// several writers in one batch). `store` must come from OpenSqliteStore.
size_t PendingWritesForTest(Store& store);

// Runs `sql` on the writer connection inside a write transaction (to provoke storage failures,
// e.g. PRAGMA max_page_count). `store` must come from OpenSqliteStore.
Status ExecOnWriterForTest(Store& store, const std::string& sql);

}  // namespace stratus::store
