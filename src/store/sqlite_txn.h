#pragma once
// The SQLite backend's transactions and reader connection pool (sqlite_store.cc is the Store).
// Internal to src/store: only the SQLite backend includes this header.
#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace stratus::store::internal {

// The error of every operation on a store that is closing.
Error ClosedError();

// Connections for readers. Thread-safe.
class ConnectionPool {
 public:
  using Factory = std::function<Result<std::unique_ptr<Db>>()>;

  // A checked-out connection; returns it to the pool when destroyed.
  class Handle {
   public:
    Handle(ConnectionPool* pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {}
    Handle(Handle&& other) noexcept = default;
    Handle& operator=(Handle&&) = delete;
    ~Handle() {
      if (db_ != nullptr) {
        pool_->Return(std::move(db_));
      }
    }
    Db& db() { return *db_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Db> db_;
  };

  // With a factory, opens up to `max` connections on demand; without one, serves only the
  // connections given to Seed().
  ConnectionPool(size_t max, Factory factory) : max_(max), factory_(std::move(factory)) {}

  void Seed(std::unique_ptr<Db> db) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(db));
    ++open_;
  }

  Result<Handle> Acquire() {
    std::unique_lock lock(mu_);
    for (;;) {
      if (closed_) {
        return ClosedError();
      }
      if (!idle_.empty()) {
        std::unique_ptr<Db> db = std::move(idle_.back());
        idle_.pop_back();
        return Handle(this, std::move(db));
      }
      if (factory_ && open_ < max_) {
        ++open_;
        lock.unlock();
        auto opened = factory_();
        if (!opened.ok()) {
          lock.lock();
          --open_;
          cv_.notify_one();
          return std::move(opened).error();
        }
        return Handle(this, std::move(opened).value());
      }
      cv_.wait(lock);
    }
  }

  // Refuses new checkouts, waits for the ones in flight and closes every connection.
  void Close() {
    std::vector<std::unique_ptr<Db>> doomed;
    {
      std::unique_lock lock(mu_);
      closed_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return idle_.size() == open_; });
      doomed.swap(idle_);
      open_ = 0;
    }
  }

 private:
  void Return(std::unique_ptr<Db> db) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(db));
    }
    cv_.notify_all();  // a reader waiting for a connection, or Close() waiting for all
  }

  const size_t max_;
  const Factory factory_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Db>> idle_;  // guarded by mu_
  size_t open_ = 0;                        // guarded by mu_: idle + checked out
  bool closed_ = false;                    // guarded by mu_
};

class SqliteReadTxn final : public ReadTxn {
 public:
  explicit SqliteReadTxn(Db& db) : db_(db) {}
  Result<std::optional<std::string>> Get(std::string_view key) override {
    STRATUS_RETURN_IF_ERROR(internal::CheckKey(key));
    return internal::DbGet(db_, key);
  }
  Result<std::vector<KeyValue>> Scan(const ScanOptions& options) override {
    return internal::DbScan(db_, options);
  }

 private:
  Db& db_;
};

// A write transaction: one SAVEPOINT inside the writer's batch transaction. Used on the writer
// thread only.
class SqliteWriteTxn final : public WriteTxn {
 public:
  SqliteWriteTxn(Db& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    STRATUS_RETURN_IF_ERROR(Poisoned());
    STRATUS_RETURN_IF_ERROR(internal::CheckKey(key));
    return Track(internal::DbGet(db_, key));
  }

  Result<std::vector<KeyValue>> Scan(const ScanOptions& options) override {
    STRATUS_RETURN_IF_ERROR(Poisoned());
    return Track(internal::DbScan(db_, options));
  }

  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<int64_t> DeleteRange(std::string_view start, std::string_view end) override;
  Result<int64_t> Enqueue(std::string_view queue, std::string_view payload,
                          int64_t visible_at_ms) override;
  Result<bool> RemoveQueueItem(int64_t id) override;

  void Notify(std::string_view topic) override {
    if (std::find(topics_.begin(), topics_.end(), topic) == topics_.end()) {
      topics_.emplace_back(topic);
    }
  }

  Status SyncBeforeCommit(const void* key, std::function<Status()> sync) override {
    for (const auto& [k, fn] : syncs_) {
      if (k == key) return Status::Ok();
    }
    syncs_.emplace_back(key, std::move(sync));
    return Status::Ok();
  }

  Status AddBeforeCommit(const void* key, uint64_t slot, int64_t delta, uint64_t mark,
                         ApplyTotals apply) override {
    for (KeyTotals& t : totals_) {
      if (t.key == key) {
        AddTotal(t.totals, CommitTotal{slot, delta, mark});
        return Status::Ok();
      }
    }
    totals_.push_back(KeyTotals{key, std::move(apply), {CommitTotal{slot, delta, mark}}});
    return Status::Ok();
  }

  // Store::Lease inside this transaction.
  Result<std::vector<QueueItem>> LeaseItems(std::string_view queue, size_t max, int64_t now_ms,
                                            int64_t lease_ms);
  Result<bool> AckItem(int64_t id, std::string_view token);
  Result<bool> ReleaseItem(int64_t id, std::string_view token, int64_t visible_at_ms,
                           const std::optional<std::string>& payload);

  Status ExecForTest(const std::string& sql) {
    wrote_ = true;
    return db_.Exec(sql.c_str());
  }
  // Whether the function ran a statement that may have changed the database (even one that
  // failed, or changed no row): its failure then needs its writes undone.
  bool wrote() const { return wrote_; }

  // The first storage failure seen by this transaction, if any: it aborts the transaction even
  // when the function ignored it.
  const std::optional<Error>& storage_error() const { return storage_error_; }
  std::vector<std::string> TakeTopics() { return std::move(topics_); }
  using PreCommitSync = std::pair<const void*, std::function<Status()>>;
  std::vector<PreCommitSync> TakeSyncs() { return std::move(syncs_); }
  // AddBeforeCommit's totals of one key, with the first `apply` passed for it.
  struct KeyTotals {
    const void* key = nullptr;
    ApplyTotals apply;
    std::vector<CommitTotal> totals;
  };
  std::vector<KeyTotals> TakeTotals() { return std::move(totals_); }
  // Adds `add` to its slot in `totals` (appended when the slot is new).
  static void AddTotal(std::vector<CommitTotal>& totals, const CommitTotal& add) {
    for (CommitTotal& t : totals) {
      if (t.slot == add.slot) {
        t.sum += add.sum;
        t.mark = std::max(t.mark, add.mark);
        return;
      }
    }
    totals.push_back(add);
  }

 private:
  // After a storage failure the transaction is dead: SQLite may already have rolled it back, and
  // a statement run now would execute (and commit) on its own, outside any transaction.
  Status Poisoned() const {
    if (storage_error_) {
      return *storage_error_;
    }
    return Status::Ok();
  }

  // Runs a statement that changes rows; returns how many it changed.
  template <class BindFn>
  Result<int64_t> Change(Sql id, std::string_view what, BindFn&& bind) {
    STRATUS_ASSIGN_OR_RETURN(sqlite3_stmt * raw, db_.Statement(id));
    wrote_ = true;
    Stmt stmt(raw);
    bind(stmt);
    int rc = stmt.Step();
    if (rc != SQLITE_DONE) {
      return db_.Fail(rc, what);
    }
    return static_cast<int64_t>(sqlite3_changes64(db_.raw()));
  }

  // Records a storage failure (every error reaching here is one: limits are checked earlier).
  template <class T>
  Result<T> Track(Result<T> result) {
    if (!result.ok() && !storage_error_) {
      storage_error_ = result.error();
    }
    return result;
  }

  Db& db_;
  const Clock& clock_;
  std::vector<std::string> topics_;
  std::vector<PreCommitSync> syncs_;  // SyncBeforeCommit, one per key
  std::vector<KeyTotals> totals_;     // AddBeforeCommit, one entry per key
  std::optional<Error> storage_error_;
  bool wrote_ = false;
};

}  // namespace stratus::store::internal
