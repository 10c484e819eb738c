// The SQLite backend's store class, shared by its two source files: sqlite_store.cc (opening,
// reads, queues, closing) and sqlite_writer.cc (the writer thread: group commit, checkpoints).
// Internal to src/store: everything else reaches it through store.h and sqlite_store.h.
#pragma once

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/checkpointer.h"
#include "store/dir_lock.h"
#include "store/latency_histogram.h"
#include "store/notifier.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"
#include "store/sqlite_txn.h"

namespace stratus::store::internal {

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

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const SqliteOptions& options,
                                             const std::vector<Migration>& migrations,
                                             const CheckpointOptions& checkpoints);
  ~SqliteStore() override { Close(); }

  Status Write(const std::function<Status(WriteTxn&)>& fn) override;
  void WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done) override;
  // WriteAsync; a `rerunnable` function may run without a savepoint (rerunnable_write.h).
  void WriteAsyncWith(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done,
                      bool rerunnable);
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
    bool rerunnable = false;                    // WriteAsyncRerunnable
    Status result;                              // set by the writer
    std::vector<std::string> topics;            // set by the writer
    bool done = false;                          // guarded by mu_
    std::condition_variable cv;
  };

  SqliteStore(const SqliteOptions& options, const CheckpointOptions& checkpoints,
              const Clock& clock);

  static std::string DatabasePath(const std::string& dir);
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
  std::atomic<int64_t> replays_{0};  // WriterStats::replays
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

  // Set on the writer thread to the store it serves: detects a write function calling back into
  // its own store, which would deadlock.
  static inline thread_local const SqliteStore* writer_of_ = nullptr;
};

}  // namespace stratus::store::internal
