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
#include "store/sqlite_txn.h"

namespace stratus::store {
namespace {

using internal::ClosedError;
using internal::ConnectionPool;
using internal::Db;
using internal::Sql;
using internal::SqliteReadTxn;
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

// The writer finishes a background checkpoint itself only when this few frames are left to copy
// (the copy is short and so is the database fsync after it); a longer tail is copied by another
// background round first.
constexpr int64_t kMaxWriterTailPages = 32;
// ... unless the WAL has grown past a quarter of its hard limit: then the rounds are not
// converging (each round's copy and fsyncs take long enough for more than 32 frames to be
// appended meanwhile: ~16 000 frames/s under a 60 000 SQS sends/s load, or a slow disk), and the
// RESTART at the limit would stall the writer far longer. Then the writer takes tails up to this.
constexpr int64_t kMaxWriterTailPagesLongWal = 512;

// Set on the writer thread to the store it serves: detects a write function calling back into
// its own store, which would deadlock.
thread_local const void* tls_writer_of = nullptr;

Error ReentrantError() {
  return InternalFailure(
      "store: a write function called back into its own store; do the work before or after "
      "Write()");
}

// Runs a caller's function; an exception becomes an error instead of crossing the interface.
template <class Txn>
Status RunGuarded(const std::function<Status(Txn&)>& fn, Txn& txn, std::string_view what) {
  try {
    return fn(txn);
  } catch (const std::exception& e) {
    std::string message = fmt::format("store: a {} function threw: {}", what, e.what());
    spdlog::error("{}", message);
    return InternalFailure(std::move(message));
  } catch (...) {
    std::string message = fmt::format("store: a {} function threw a non-standard exception", what);
    spdlog::error("{}", message);
    return InternalFailure(std::move(message));
  }
}

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

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const SqliteOptions& options,
                                             const std::vector<Migration>& migrations,
                                             const CheckpointOptions& checkpoints);
  ~SqliteStore() override { Close(); }

  Status Write(const std::function<Status(WriteTxn&)>& fn) override;
  void WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done) override;
  Status Read(const std::function<Status(ReadTxn&)>& fn) override;
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Result<std::vector<KeyValue>> Scan(const ScanOptions& options) override;
  Result<std::vector<QueueItem>> Lease(std::string_view queue, size_t max, int64_t now_ms,
                                       int64_t lease_ms) override;
  Result<bool> Ack(int64_t id, std::string_view lease_token) override;
  Result<bool> Release(int64_t id, std::string_view lease_token, int64_t visible_at_ms,
                       std::optional<std::string> new_payload) override;
  Result<std::optional<int64_t>> NextVisibleAt(std::string_view queue) override;
  Result<int64_t> QueueLength(std::string_view queue) override;
  std::unique_ptr<Watch> Subscribe(std::string topic, std::function<void()> fn) override;
  void Close() override;
  StoreStats Stats() const override;

  size_t PendingWrites() {
    std::lock_guard lock(mu_);
    return queue_.size();
  }
  WriterStats GetWriterStats() const;

 private:
  // A write waiting for the writer. A Write() call's lives on the caller's stack; a
  // WriteAsync() call's is owned by the queue and deleted after its `on_done` ran.
  struct WriteRequest {
    explicit WriteRequest(const std::function<Status(WriteTxn&)>* f) : fn(f) {}
    const std::function<Status(WriteTxn&)>* fn;
    std::function<Status(WriteTxn&)> owned_fn;  // WriteAsync: the function `fn` points at
    std::function<void(Status)> on_done;        // WriteAsync: called after the commit
    Status result;                              // set by the writer
    std::vector<std::string> topics;            // set by the writer
    bool done = false;                          // guarded by mu_
    std::condition_variable cv;
  };

  SqliteStore(const SqliteOptions& options, const CheckpointOptions& checkpoints,
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

  static std::string DatabasePath(const std::string& dir) { return dir + "/" + kDatabaseFile; }
  static Result<std::unique_ptr<Db>> OpenReader(const std::string& path);
  Status CheckCaller() const;
  void WriterLoop();
  // Runs one batch in one transaction; returns the topics to notify.
  std::vector<std::string> RunBatch(Db& db, const std::vector<WriteRequest*>& batch);
  void FailAll(const std::vector<WriteRequest*>& requests, const Error& error);
  // SQLite's WAL hook on the writer connection, called after every commit with the WAL's size in
  // pages. Installing it turns SQLite's automatic checkpoint off; it decides instead.
  static int WalHook(void* self, sqlite3* db, const char* name, int pages);
  void AfterCommit(sqlite3* db, int pages);
  // On the writer thread between batches: once a background checkpoint has finished, copies the
  // frames appended meanwhile so that the next commit rewinds the WAL.
  void FinishCheckpointTail(Db& db);
  void RunWriterCheckpoint(sqlite3* db, int mode, std::string_view what);

  const SqliteOptions options_;
  const CheckpointOptions checkpoint_options_;
  const Clock& clock_;
  const size_t max_batch_;
  std::unique_ptr<internal::DirLock> dir_lock_;  // file mode; released last
  std::unique_ptr<Db> writer_db_;  // file mode; used by the writer thread only (then by Close)
  ConnectionPool readers_;         // memory mode: holds the single connection
  std::shared_ptr<internal::Notifier> notifier_;
  std::unique_ptr<internal::Checkpointer> checkpointer_;  // file mode with background checkpoints

  std::mutex mu_;
  std::condition_variable queue_cv_;  // the writer waits for requests
  std::vector<WriteRequest*> queue_;  // guarded by mu_
  bool closing_ = false;              // guarded by mu_: no new writes accepted
  std::thread writer_;

  std::mutex close_mu_;  // serializes Close()
  bool closed_ = false;  // guarded by close_mu_

  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> failed_writes_{0};
  internal::LatencyHistogram commit_times_;  // recorded by the writer thread
  std::atomic<int64_t> writer_checkpoints_{0};
  std::atomic<int64_t> wal_pages_last_{0};
  std::atomic<int64_t> wal_pages_max_{0};
  std::atomic<int64_t> wal_pages_written_{0};
  // Used by the writer thread only: frames of the current WAL known to be in the database file
  // (0 again when the WAL rewinds), and whether a background checkpoint was asked for and its
  // result not yet taken. At most one runs at a time, and never during the writer's own.
  int64_t wal_pages_copied_ = 0;
  bool checkpoint_in_flight_ = false;
  // Writer thread only: checkpoints at the WAL's hard limit since the last warning about them,
  // and when that warning was logged (one line per 10 s under a sustained write load, not one
  // per checkpoint).
  int64_t limit_checkpoints_unreported_ = 0;
  std::chrono::steady_clock::time_point limit_warned_at_{};
};

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
    STRATUS_ASSIGN_OR_RETURN(store->writer_db_, Db::Open(path, "writer"));
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

Status SqliteStore::CheckCaller() const {
  if (tls_writer_of == this) {
    return ReentrantError();
  }
  return Status::Ok();
}

Status SqliteStore::Write(const std::function<Status(WriteTxn&)>& fn) {
  STRATUS_RETURN_IF_ERROR(CheckCaller());
  WriteRequest request(&fn);
  std::unique_lock lock(mu_);
  if (closing_) {
    return ClosedError();
  }
  queue_.push_back(&request);
  queue_cv_.notify_one();
  request.cv.wait(lock, [&] { return request.done; });
  return std::move(request.result);
}

void SqliteStore::WriteAsync(std::function<Status(WriteTxn&)> fn,
                             std::function<void(Status)> done) {
  auto request = std::make_unique<WriteRequest>(nullptr);
  request->owned_fn = std::move(fn);
  request->fn = &request->owned_fn;
  request->on_done = std::move(done);
  {
    std::lock_guard lock(mu_);
    if (!closing_) {
      queue_.push_back(request.release());
      queue_cv_.notify_one();
      return;
    }
  }
  request->on_done(ClosedError());
}

void SqliteStore::WriterLoop() {
  tls_writer_of = this;
  pthread_setname_np(pthread_self(), "stratus-store-w");
  std::vector<WriteRequest*> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    queue_cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty()) {
      return;  // closing, and every accepted write has been committed
    }
    batch.clear();
    if (queue_.size() <= max_batch_) {
      batch.swap(queue_);
    } else {
      batch.assign(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(max_batch_));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(max_batch_));
    }
    lock.unlock();

    std::vector<std::string> topics;
    auto started = std::chrono::steady_clock::now();
    if (writer_db_ != nullptr) {
      FinishCheckpointTail(*writer_db_);
      topics = RunBatch(*writer_db_, batch);
      commit_times_.Record(std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count());
    } else {
      auto handle = readers_.Acquire();  // memory mode: the single connection
      if (handle.ok()) {
        topics = RunBatch(handle->db(), batch);
      } else {
        FailAll(batch, handle.error());
      }
    }
    // Committed (or failed): tell watchers, then wake the callers. Neither runs a callback here.
    notifier_->Post(std::move(topics));

    lock.lock();
    // The asynchronous requests are picked out first: once a synchronous request is marked done
    // and mu_ released, its caller returns and the request (on its stack) is gone.
    std::vector<WriteRequest*> async_requests;
    for (WriteRequest* request : batch) {
      if (request->on_done) {
        async_requests.push_back(request);
        continue;
      }
      request->done = true;
      // Under mu_: the request (and its cv) lives until its caller sees done, which needs mu_.
      request->cv.notify_one();
    }
    if (!async_requests.empty()) {
      // Outside mu_: a callback may queue the next WriteAsync.
      lock.unlock();
      for (WriteRequest* request : async_requests) {
        std::unique_ptr<WriteRequest> owned(request);
        owned->on_done(std::move(owned->result));
      }
      lock.lock();
    }
  }
}

int SqliteStore::WalHook(void* self, sqlite3* db, const char* /*name*/, int pages) {
  static_cast<SqliteStore*>(self)->AfterCommit(db, pages);
  return SQLITE_OK;
}

void SqliteStore::AfterCommit(sqlite3* db, int pages) {
  int64_t last = wal_pages_last_.load(std::memory_order_relaxed);
  if (pages < last) {
    wal_pages_copied_ = 0;  // this commit rewound the WAL
    last = 0;
  }
  wal_pages_written_.fetch_add(pages - last, std::memory_order_relaxed);
  wal_pages_last_.store(pages, std::memory_order_relaxed);
  if (pages > wal_pages_max_.load(std::memory_order_relaxed)) {
    wal_pages_max_.store(pages, std::memory_order_relaxed);
  }
  if (checkpointer_ == nullptr) {
    if (pages >= checkpoint_options_.checkpoint_pages) {
      // What SQLite's own auto-checkpoint hook does.
      RunWriterCheckpoint(db, SQLITE_CHECKPOINT_PASSIVE, "a WAL checkpoint");
    }
    return;
  }
  if (pages >= checkpoint_options_.wal_limit_pages) {
    // The background has not kept up: checkpoint here, waiting for readers of old frames, so the
    // next commit rewinds the WAL. Writes queue meanwhile.
    ++limit_checkpoints_unreported_;
    auto now = std::chrono::steady_clock::now();
    if (limit_warned_at_ == std::chrono::steady_clock::time_point{} ||
        now - limit_warned_at_ >= std::chrono::seconds(10)) {
      spdlog::warn(
          "store: the WAL reached {} pages; checkpointing on the writer ({} time(s) since the last "
          "such warning: the background checkpoints are not keeping up with the write load)",
          pages, limit_checkpoints_unreported_);
      limit_checkpoints_unreported_ = 0;
      limit_warned_at_ = now;
    }
    RunWriterCheckpoint(db, SQLITE_CHECKPOINT_RESTART, "a WAL checkpoint at the size limit");
    return;
  }
  if (!checkpoint_in_flight_ && pages - wal_pages_copied_ >= checkpoint_options_.checkpoint_pages) {
    checkpoint_in_flight_ = true;
    checkpointer_->Request();
  }
}

void SqliteStore::FinishCheckpointTail(Db& db) {
  if (checkpointer_ == nullptr) {
    return;
  }
  int64_t copied = checkpointer_->TakeFinished();
  if (copied < 0) {
    return;
  }
  checkpoint_in_flight_ = false;
  // A WAL rewound since the checkpoint started makes its count stale; it then only says that
  // the new WAL is short.
  wal_pages_copied_ = std::min(copied, wal_pages_last_.load(std::memory_order_relaxed));
  int64_t tail = wal_pages_last_.load(std::memory_order_relaxed) - wal_pages_copied_;
  if (tail <= 0) {
    return;  // everything is copied: this batch's commit rewinds the WAL by itself
  }
  bool long_wal =
      wal_pages_last_.load(std::memory_order_relaxed) >= checkpoint_options_.wal_limit_pages / 4;
  if (tail > (long_wal ? kMaxWriterTailPagesLongWal : kMaxWriterTailPages)) {
    checkpoint_in_flight_ = true;  // a long tail is the background's work too
    checkpointer_->Request();
    return;
  }
  RunWriterCheckpoint(db.raw(), SQLITE_CHECKPOINT_PASSIVE, "finishing a WAL checkpoint");
}

void SqliteStore::RunWriterCheckpoint(sqlite3* db, int mode, std::string_view what) {
  int rc = sqlite3_wal_checkpoint_v2(db, nullptr, mode, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    writer_checkpoints_.fetch_add(1, std::memory_order_relaxed);
  } else if (rc != SQLITE_BUSY) {
    // Not fatal: the frames stay in the WAL, durable, and a later checkpoint copies them.
    (void)internal::StorageError(db, rc, what);
  }
}

void SqliteStore::FailAll(const std::vector<WriteRequest*>& requests, const Error& error) {
  for (WriteRequest* request : requests) {
    request->result = error;
    request->topics.clear();
  }
  failed_writes_.fetch_add(static_cast<int64_t>(requests.size()), std::memory_order_relaxed);
}

std::vector<std::string> SqliteStore::RunBatch(Db& db, const std::vector<WriteRequest*>& batch) {
  Status begun = db.Run(Sql::kBeginImmediate);
  if (!begun.ok()) {
    FailAll(batch, begun.error());
    return {};
  }
  std::vector<WriteRequest*> applied;  // run successfully inside the open transaction
  applied.reserve(batch.size());
  // SyncBeforeCommit of the applied requests, one per key: run after the last function, before
  // COMMIT (e.g. one segment-file fdatasync for every append this batch's records name).
  std::vector<SqliteWriteTxn::PreCommitSync> syncs;
  // AddBeforeCommit totals of the applied requests, summed per key: written after the last
  // function, before the syncs.
  std::vector<SqliteWriteTxn::KeyTotals> totals;
  for (WriteRequest* request : batch) {
    Status status = db.Run(Sql::kSavepoint);
    if (status.ok()) {
      SqliteWriteTxn txn(db, clock_);
      status = RunGuarded(*request->fn, static_cast<WriteTxn&>(txn), "write");
      if (status.ok() && txn.storage_error()) {
        status = *txn.storage_error();
      }
      if (status.ok()) {
        status = db.Run(Sql::kReleaseSavepoint);
      }
      if (status.ok()) {
        request->result = Status::Ok();
        request->topics = txn.TakeTopics();
        for (auto& sync : txn.TakeSyncs()) {
          if (std::none_of(syncs.begin(), syncs.end(),
                           [&](const auto& s) { return s.first == sync.first; })) {
            syncs.push_back(std::move(sync));
          }
        }
        for (auto& t : txn.TakeTotals()) {
          auto same = std::find_if(totals.begin(), totals.end(),
                                   [&](const auto& have) { return have.key == t.key; });
          if (same == totals.end()) {
            totals.push_back(std::move(t));
            continue;
          }
          for (const auto& add : t.totals) SqliteWriteTxn::AddTotal(same->totals, add);
        }
        applied.push_back(request);
        continue;
      }
    }
    request->result = status;
    failed_writes_.fetch_add(1, std::memory_order_relaxed);
    bool transaction_alive = sqlite3_get_autocommit(db.raw()) == 0;
    if (transaction_alive) {
      // Undo this function's writes only; the others of the batch stay.
      transaction_alive =
          db.Run(Sql::kRollbackToSavepoint).ok() && db.Run(Sql::kReleaseSavepoint).ok();
    }
    if (!transaction_alive) {
      // A storage failure (I/O error, disk full) rolled back the whole transaction, taking the
      // batch's earlier writes with it: they fail too. Later requests get a fresh transaction.
      if (sqlite3_get_autocommit(db.raw()) == 0) {
        (void)db.Run(Sql::kRollback);
      }
      FailAll(applied, InternalFailure(
                           fmt::format("store: the commit was rolled back by a storage failure: {}",
                                       status.ok() ? "unknown" : status.error().message)));
      applied.clear();
      syncs.clear();
      totals.clear();
      Status again = db.Run(Sql::kBeginImmediate);
      if (!again.ok()) {
        // The requests after this one have not run; they fail without running.
        auto self = std::find(batch.begin(), batch.end(), request);
        FailAll(std::vector<WriteRequest*>(self + 1, batch.end()), again.error());
        return {};
      }
    }
  }
  if (applied.empty()) {
    (void)db.Run(Sql::kRollback);  // nothing to make durable: skip the fsync
    return {};
  }
  for (const auto& t : totals) {
    SqliteWriteTxn txn(db, clock_);
    std::function<Status(WriteTxn&)> apply = [&t](WriteTxn& w) { return t.apply(w, t.totals); };
    Status written = RunGuarded(apply, static_cast<WriteTxn&>(txn), "write before commit");
    if (written.ok() && txn.storage_error()) {
      written = *txn.storage_error();
    }
    if (!written.ok()) {
      if (sqlite3_get_autocommit(db.raw()) == 0) {
        (void)db.Run(Sql::kRollback);
      }
      FailAll(applied, written.error());
      return {};
    }
  }
  for (const auto& sync : syncs) {
    Status synced = sync.second();
    if (!synced.ok()) {
      (void)db.Run(Sql::kRollback);
      FailAll(applied, synced.error());
      return {};
    }
  }
  Status committed = db.Run(Sql::kCommit);
  if (!committed.ok()) {
    if (sqlite3_get_autocommit(db.raw()) == 0) {
      (void)db.Run(Sql::kRollback);
    }
    FailAll(applied, committed.error());
    return {};
  }
  commits_.fetch_add(static_cast<int64_t>(applied.size()), std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::string> topics;
  for (WriteRequest* request : applied) {
    for (std::string& topic : request->topics) {
      if (std::find(topics.begin(), topics.end(), topic) == topics.end()) {
        topics.push_back(std::move(topic));
      }
    }
  }
  return topics;
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
  if (tls_writer_of == this) {
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
        "checkpoints {} in the background, {} on the writer; WAL at most {} pages",
        stats.batches, stats.commit_us_p50, stats.commit_us_p99, stats.commit_us_max,
        stats.background_checkpoints, stats.writer_checkpoints, stats.wal_pages_max);
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
  stats.writer_checkpoints = writer_checkpoints_.load(std::memory_order_relaxed);
  stats.wal_pages_last = wal_pages_last_.load(std::memory_order_relaxed);
  stats.wal_pages_max = wal_pages_max_.load(std::memory_order_relaxed);
  stats.wal_pages_written = wal_pages_written_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace

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
