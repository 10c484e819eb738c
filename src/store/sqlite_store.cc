// The SQLite backend of store::Store.
//
// Threads and connections:
//  * one writer thread owns the writer connection. Write() queues a request and waits; the writer
//    takes every queued request (up to max_batch), runs each inside a SAVEPOINT of one
//    transaction, commits once (one fsync for the batch: group commit), then wakes the batch's
//    callers and hands the batch's topics to the Notifier;
//  * readers check a connection out of a small pool and read a WAL snapshot, so they never wait
//    for the writer (nor it for them);
//  * in-memory mode has a single connection, shared by the writer and the readers through the
//    pool (a pool of one). A second connection to one in-memory database needs a shared-cache
//    URI, and shared cache replaces WAL snapshots by table locks: readers would fail with
//    SQLITE_LOCKED while a batch is open, or with read_uncommitted see writes that may still roll
//    back. With one connection the writer holds it for a whole batch and a reader holds it for a
//    whole Read(), so readers see committed data only and a Read() is a snapshot; the cost is that
//    readers wait for the batch in progress, which tests do not mind.
#include "store/sqlite_store.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/crypto.h"
#include "core/strings.h"
#include "store/checkpointer.h"
#include "store/dir_lock.h"
#include "store/latency_histogram.h"
#include "store/notifier.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store_impl.h"
#include "store/sqlite_txn.h"

namespace stratus::store {
namespace {

using internal::ClosedError;
using internal::ConnectionPool;
using internal::Db;
using internal::Sql;
using internal::SqliteReadTxn;
using internal::SqliteStore;
using internal::SqliteWriteTxn;
using internal::Stmt;

constexpr const char* kDatabaseFile = "stratus.db";
constexpr std::string_view kMemoryName = "the in-memory store";
// Reader connections opened on demand; a Read() beyond this many in flight waits for one.
constexpr size_t kMaxReaderConnections = 8;
// Page cache per connection (negative = KiB, SQLite's convention).
constexpr const char* kWriterCacheSize = "PRAGMA cache_size = -16384";
constexpr const char* kReaderCacheSize = "PRAGMA cache_size = -4096";
// The WAL is truncated back to this size after a checkpoint, so one huge batch does not leave a
// huge file behind.
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 67108864";

// The schema. Append only.
const std::vector<Migration> kMigrations = {
    {1, "key/value space and durable queues",
     // kv: WITHOUT ROWID so the key is the clustered B-tree key (one lookup, ordered scans).
     // queue_items: AUTOINCREMENT so ids are never reused, even after the newest item is acked.
     // The index serves Lease (queue = ? AND visible_at_ms <= ? ORDER BY visible_at_ms, id: the
     // rowid is the index's implicit last column), NextVisibleAt (MIN) and QueueLength.
     R"sql(
CREATE TABLE kv (
  key BLOB NOT NULL PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE queue_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue BLOB NOT NULL,
  payload BLOB NOT NULL,
  visible_at_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  enqueued_at_ms INTEGER NOT NULL,
  lease_token TEXT
);
CREATE INDEX queue_items_by_visibility ON queue_items (queue, visible_at_ms);
)sql"},
};

// Applies the migrations newer than the database's version, in one transaction.
Status Migrate(Db& db, const std::vector<Migration>& migrations, const std::string& where,
               const Clock& clock) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    assert(migrations[i].version == static_cast<int>(i) + 1 && "migrations are 1, 2, 3, ...");
  }
  STRATUS_RETURN_IF_ERROR(db.Run(Sql::kBeginImmediate));
  auto rollback = [&](Error error) -> Status {
    (void)db.Exec("ROLLBACK");
    return error;
  };
  Status created = db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_version ("
      "  version INTEGER PRIMARY KEY,"
      "  description TEXT NOT NULL,"
      "  applied_at_ms INTEGER NOT NULL)");
  if (!created.ok()) {
    return rollback(std::move(created).error());
  }
  auto current_text = db.QueryText("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!current_text.ok()) {
    return rollback(std::move(current_text).error());
  }
  int64_t current = ParseInt64(*current_text).value_or(0);
  int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return rollback(InternalFailure(fmt::format(
        "store: {} has schema version {} but this stratus knows versions up to {}: it was "
        "written by a newer stratus. Run that version (or a newer one), or start with another "
        "--data-dir",
        where, current, latest)));
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= current) {
      continue;
    }
    std::string sql(migration.sql);
    Status applied = db.Exec(sql.c_str());
    if (!applied.ok()) {
      return rollback(std::move(applied).error());
    }
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(
        db.raw(),
        "INSERT INTO schema_version(version, description, applied_at_ms) VALUES (?1, ?2, ?3)", -1,
        &raw, nullptr);
    if (rc == SQLITE_OK) {
      Stmt stmt(raw);
      stmt.Int(1, migration.version);
      stmt.Text(2, migration.description);
      stmt.Int(3, clock.NowMillis());
      rc = stmt.Step();
    }
    Error error = rc == SQLITE_DONE ? Error() : db.Fail(rc, "recording a migration");
    sqlite3_finalize(raw);
    if (rc != SQLITE_DONE) {
      return rollback(std::move(error));
    }
    // A fresh in-memory store is not news; an on-disk upgrade is.
    spdlog::log(where == kMemoryName ? spdlog::level::debug : spdlog::level::info,
                "store: {}: applied schema migration {} ({})", where, migration.version,
                migration.description);
  }
  Status committed = db.Run(Sql::kCommit);
  if (!committed.ok()) {
    return rollback(std::move(committed).error());
  }
  return Status::Ok();
}

}  // namespace

namespace internal {

SqliteStore::SqliteStore(const SqliteOptions& options, const CheckpointOptions& checkpoints,
                         const Clock& clock)
    : options_(options),
      checkpoint_options_(checkpoints),
      clock_(clock),
      max_batch_(std::max<size_t>(options.max_batch, 1)),
      readers_(
          options.data_dir.empty() ? 1 : kMaxReaderConnections,
          options.data_dir.empty()
              ? ConnectionPool::Factory()
              : [path = DatabasePath(options.data_dir)] { return OpenReader(path); }) {}

std::string SqliteStore::DatabasePath(const std::string& dir) { return dir + "/" + kDatabaseFile; }

Result<std::unique_ptr<Db>> SqliteStore::OpenReader(const std::string& path) {
  STRATUS_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, "reader"));
  STRATUS_RETURN_IF_ERROR(db->Exec("PRAGMA query_only = ON"));
  STRATUS_RETURN_IF_ERROR(db->Exec(kReaderCacheSize));
  return db;
}

Result<std::unique_ptr<Store>> SqliteStore::Open(const SqliteOptions& options,
                                                 const std::vector<Migration>& migrations,
                                                 const CheckpointOptions& checkpoints) {
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Instance();
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, checkpoints, clock));
  if (options.data_dir.empty()) {
    STRATUS_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(":memory:", "memory"));
    STRATUS_RETURN_IF_ERROR(Migrate(*db, migrations, std::string(kMemoryName), clock));
    store->readers_.Seed(std::move(db));
  } else {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) {
      return InternalFailure(fmt::format(
          "store: cannot create the data directory {}: {}; create it, or pass a writable "
          "--data-dir",
          options.data_dir, ec.message()));
    }
    STRATUS_ASSIGN_OR_RETURN(store->dir_lock_, internal::DirLock::Acquire(options.data_dir));
    std::string path = DatabasePath(options.data_dir);
    // The WAL through internal::WalVfsName() with or without fsync: a commit's frames are
    // gathered and written together, not a header and a page per frame (two pwrites each; a
    // function-log flush of ~64 instance streams dirties ~190 pages).
    STRATUS_ASSIGN_OR_RETURN(store->writer_db_,
                             Db::Open(path, "writer", internal::WalVfsName()));
    Db& db = *store->writer_db_;
    STRATUS_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode = WAL"));
    if (mode != "wal") {
      return InternalFailure(fmt::format(
          "store: {} cannot use write-ahead logging (journal mode is '{}'); put the data "
          "directory on a local filesystem",
          path, mode));
    }
    // FULL: the WAL is fsync'd at every commit, so an acknowledged write survives power loss.
    // NORMAL: fsync only at checkpoints; survives a process crash, not an OS crash.
    STRATUS_RETURN_IF_ERROR(
        db.Exec(options.fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
    STRATUS_RETURN_IF_ERROR(db.Exec(kJournalSizeLimit));
    STRATUS_RETURN_IF_ERROR(db.Exec(kWriterCacheSize));
    STRATUS_RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = MEMORY"));
    STRATUS_RETURN_IF_ERROR(Migrate(db, migrations, path, clock));
    if (checkpoints.background) {
      STRATUS_ASSIGN_OR_RETURN(store->checkpointer_,
                               internal::Checkpointer::Start(path, options.fsync));
    }
    // From here on the hook, not SQLite's auto-checkpoint, decides when to checkpoint.
    sqlite3_wal_hook(db.raw(), &SqliteStore::WalHook, store.get());
  }
  store->notifier_ = internal::Notifier::Start();
  store->writer_ = std::thread([raw = store.get()] { raw->WriterLoop(); });
  return std::unique_ptr<Store>(std::move(store));
}

Status SqliteStore::Read(const std::function<Status(ReadTxn&)>& fn) {
  STRATUS_RETURN_IF_ERROR(CheckCaller());
  STRATUS_ASSIGN_OR_RETURN(ConnectionPool::Handle handle, readers_.Acquire());
  Db& db = handle.db();
  // BEGIN (deferred): the snapshot is taken at the first read and held until COMMIT.
  STRATUS_RETURN_IF_ERROR(db.Run(Sql::kBegin));
  SqliteReadTxn txn(db);
  Status status = RunGuarded(fn, static_cast<ReadTxn&>(txn), "read");
  Status ended = db.Run(Sql::kCommit);
  if (!ended.ok() && sqlite3_get_autocommit(db.raw()) == 0) {
    (void)db.Run(Sql::kRollback);
  }
  if (!status.ok()) {
    return status;
  }
  return ended;
}

Result<std::optional<std::string>> SqliteStore::Get(std::string_view key) {
  STRATUS_RETURN_IF_ERROR(CheckCaller());
  STRATUS_RETURN_IF_ERROR(internal::CheckKey(key));
  STRATUS_ASSIGN_OR_RETURN(ConnectionPool::Handle handle, readers_.Acquire());
  return internal::DbGet(handle.db(), key);
}

Result<std::vector<KeyValue>> SqliteStore::Scan(const ScanOptions& options) {
  STRATUS_RETURN_IF_ERROR(CheckCaller());
  STRATUS_ASSIGN_OR_RETURN(ConnectionPool::Handle handle, readers_.Acquire());
  return internal::DbScan(handle.db(), options);
}

Result<std::vector<QueueItem>> SqliteStore::Lease(std::string_view queue, size_t max,
                                                  int64_t now_ms, int64_t lease_ms) {
  STRATUS_RETURN_IF_ERROR(CheckCaller());
  STRATUS_RETURN_IF_ERROR(internal::CheckKey(queue, "queue name"));
  if (max == 0) {
    return std::vector<QueueItem>();
  }
  {
    // A reader probe first: polling an empty queue must not cost a trip through the writer.
    // Equivalent to a Lease that ran at the probe's snapshot.
    STRATUS_ASSIGN_OR_RETURN(ConnectionPool::Handle handle, readers_.Acquire());
    STRATUS_ASSIGN_OR_RETURN(bool any, internal::DbHasVisible(handle.db(), queue, now_ms));
    if (!any) {
      return std::vector<QueueItem>();
    }
  }
  std::vector<QueueItem> items;
  STRATUS_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(
        items, static_cast<SqliteWriteTxn&>(txn).LeaseItems(queue, max, now_ms, lease_ms));
    return Status::Ok();
  }));
  return items;
}

Result<bool> SqliteStore::Ack(int64_t id, std::string_view lease_token) {
  bool acked = false;
  STRATUS_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(acked, static_cast<SqliteWriteTxn&>(txn).AckItem(id, lease_token));
    return Status::Ok();
  }));
  return acked;
}

Result<bool> SqliteStore::Release(int64_t id, std::string_view lease_token, int64_t visible_at_ms,
                                  std::optional<std::string> new_payload) {
  if (new_payload) {
    STRATUS_RETURN_IF_ERROR(internal::CheckValue(*new_payload, "queue payload"));
  }
  bool released = false;
  STRATUS_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(released, static_cast<SqliteWriteTxn&>(txn).ReleaseItem(
                                           id, lease_token, visible_at_ms, new_payload));
    return Status::Ok();
  }));
  return released;
}

Result<std::optional<int64_t>> SqliteStore::NextVisibleAt(std::string_view queue) {
  STRATUS_RETURN_IF_ERROR(CheckCaller());
  STRATUS_RETURN_IF_ERROR(internal::CheckKey(queue, "queue name"));
  STRATUS_ASSIGN_OR_RETURN(ConnectionPool::Handle handle, readers_.Acquire());
  return internal::DbNextVisibleAt(handle.db(), queue);
}

Result<int64_t> SqliteStore::QueueLength(std::string_view queue) {
  STRATUS_RETURN_IF_ERROR(CheckCaller());
  STRATUS_RETURN_IF_ERROR(internal::CheckKey(queue, "queue name"));
  STRATUS_ASSIGN_OR_RETURN(ConnectionPool::Handle handle, readers_.Acquire());
  return internal::DbQueueLength(handle.db(), queue);
}

std::unique_ptr<Store::Watch> SqliteStore::Subscribe(std::string topic, std::function<void()> fn) {
  return notifier_->Subscribe(std::move(topic), std::move(fn));
}

void SqliteStore::Close() {
  if (writer_of_ == this) {
    spdlog::error("store: Close() called from inside a write function; ignored");
    return;
  }
  std::lock_guard close_lock(close_mu_);
  if (closed_) {
    return;
  }
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  queue_cv_.notify_all();
  bool started = writer_.joinable();  // false when Open() failed half-way
  if (started) {
    writer_.join();  // it commits every write accepted before closing_ was set
  }
  if (checkpointer_ != nullptr) {
    checkpointer_->Stop();  // waits for a checkpoint in progress; the one below finishes the job
  }
  if (writer_db_ != nullptr && started) {
    WriterStats stats = GetWriterStats();
    spdlog::info(
        "store: closing after {} commits; commit time p50 {} us, p99 {} us, max {} us; "
        "checkpoints {} in the background ({} more busy or failed), {} on the writer; WAL at "
        "most {} pages",
        stats.batches, stats.commit_us_p50, stats.commit_us_p99, stats.commit_us_max,
        stats.background_checkpoints, stats.background_checkpoint_failures,
        stats.writer_checkpoints, stats.wal_pages_max);
  }
  readers_.Close();  // waits for reads in flight; in memory mode this drops the database
  if (writer_db_ != nullptr && started) {
    int wal_pages = 0;
    int checkpointed = 0;
    int rc = sqlite3_wal_checkpoint_v2(writer_db_->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                       &wal_pages, &checkpointed);
    if (rc != SQLITE_OK) {
      // Not fatal: the WAL is durable and is replayed at the next open.
      (void)writer_db_->Fail(rc, "checkpointing the WAL at close");
    }
    writer_db_.reset();
  }
  if (notifier_ != nullptr) {
    notifier_->Stop();  // delivers what the last batches notified
  }
  dir_lock_.reset();
  closed_ = true;
}

StoreStats SqliteStore::Stats() const {
  StoreStats stats;
  stats.commits = commits_.load(std::memory_order_relaxed);
  stats.batches = batches_.load(std::memory_order_relaxed);
  stats.failed_writes = failed_writes_.load(std::memory_order_relaxed);
  return stats;
}

WriterStats SqliteStore::GetWriterStats() const {
  WriterStats stats;
  stats.batches = commit_times_.Count();
  stats.commit_us_p50 = commit_times_.Quantile(0.50);
  stats.commit_us_p99 = commit_times_.Quantile(0.99);
  stats.commit_us_max = commit_times_.Max();
  stats.background_checkpoints = checkpointer_ != nullptr ? checkpointer_->checkpoints() : 0;
  stats.background_checkpoint_failures = checkpointer_ != nullptr ? checkpointer_->failures() : 0;
  stats.writer_checkpoints = writer_checkpoints_.load(std::memory_order_relaxed);
  stats.wal_pages_last = wal_pages_last_.load(std::memory_order_relaxed);
  stats.wal_pages_max = wal_pages_max_.load(std::memory_order_relaxed);
  stats.wal_pages_written = wal_pages_written_.load(std::memory_order_relaxed);
  stats.replays = replays_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace internal

const std::vector<Migration>& SqliteMigrations() { return kMigrations; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  // Checkpoints in the background: in the commit they stalled every queued write (docs/store.md).
  CheckpointOptions checkpoints;
  checkpoints.background = true;
  return SqliteStore::Open(options, kMigrations, checkpoints);
}

Result<std::unique_ptr<Store>> OpenSqliteStoreWithCheckpoints(const SqliteOptions& options,
                                                              CheckpointOptions checkpoints) {
  return SqliteStore::Open(options, kMigrations, checkpoints);
}

WriterStats SqliteWriterStats(Store& store) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  assert(sqlite != nullptr && "SqliteWriterStats needs a store from OpenSqliteStore");
  return sqlite->GetWriterStats();
}

Result<std::unique_ptr<Store>> OpenSqliteStoreWithMigrationsForTest(
    const SqliteOptions& options, std::vector<Migration> migrations) {
  return SqliteStore::Open(options, migrations, CheckpointOptions());
}

size_t PendingWritesForTest(Store& store) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  assert(sqlite != nullptr && "PendingWritesForTest needs a store from OpenSqliteStore");
  return sqlite->PendingWrites();
}

Status ExecOnWriterForTest(Store& store, const std::string& sql) {
  return store.Write(
      [&](WriteTxn& txn) { return static_cast<SqliteWriteTxn&>(txn).ExecForTest(sql); });
}

}  // namespace stratus::store
