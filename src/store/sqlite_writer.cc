// The SQLite store's writer thread: Write()/WriteAsync() queue requests; the writer runs every
// queued request (up to max_batch) inside a SAVEPOINT of one transaction, commits once (group
// commit: one fsync per batch), wakes the callers and decides when the WAL is checkpointed.
// The class and its threads are described in sqlite_store.cc.
#include <pthread.h>

#include <algorithm>

#include "core/strings.h"
#include "store/rerunnable_write.h"
#include "store/sqlite_store_impl.h"

namespace stratus::store::internal {
namespace {

// The writer finishes a background checkpoint itself only when this few frames are left to copy
// (the copy is short and so is the database fsync after it); a longer tail is copied by another
// background round first.
constexpr int64_t kMaxWriterTailPages = 32;
// ... unless the WAL has grown past a quarter of its hard limit: then the rounds are not
// converging (each round's copy and fsyncs take long enough for more than 32 frames to be
// appended meanwhile: ~16 000 frames/s under a 60 000 SQS sends/s load, or a slow disk), and the
// RESTART at the limit would stall the writer far longer. Then the writer takes tails up to this.
constexpr int64_t kMaxWriterTailPagesLongWal = 512;

Error ReentrantError() {
  return InternalFailure(
      "store: a write function called back into its own store; do the work before or after "
      "Write()");
}

}  // namespace

Status SqliteStore::CheckCaller() const {
  if (writer_of_ == this) {
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
  WriteAsyncWith(std::move(fn), std::move(done), false);
}

void SqliteStore::WriteAsyncWith(std::function<Status(WriteTxn&)> fn,
                                 std::function<void(Status)> done, bool rerunnable) {
  auto request = std::make_unique<WriteRequest>(nullptr);
  request->owned_fn = std::move(fn);
  request->fn = &request->owned_fn;
  request->on_done = std::move(done);
  request->rerunnable = rerunnable;
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
  writer_of_ = this;
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
  // The requests still to run, in order: the batch, or after a replay the requests applied
  // before the failure followed by the batch's rest.
  std::vector<WriteRequest*> todo(batch);
  // While every request applied in this transaction is rerunnable, a rerunnable one runs "bare":
  // without a SAVEPOINT of its own (rerunnable_write.h). A bare function that fails after
  // writing is undone by rolling the whole transaction back and replaying the applied ones.
  bool bare_allowed = true;
  for (size_t next = 0; next < todo.size();) {
    WriteRequest* request = todo[next++];
    const bool bare = bare_allowed && request->rerunnable;
    bool wrote = false;
    Status status = bare ? Status::Ok() : db.Run(Sql::kSavepoint);
    if (status.ok()) {
      SqliteWriteTxn txn(db, clock_);
      status = RunGuarded(*request->fn, static_cast<WriteTxn&>(txn), "write");
      if (status.ok() && txn.storage_error()) {
        status = *txn.storage_error();
      }
      wrote = txn.wrote();
      if (status.ok() && !bare) {
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
        bare_allowed = bare_allowed && request->rerunnable;
        continue;
      }
    }
    request->result = status;
    failed_writes_.fetch_add(1, std::memory_order_relaxed);
    bool transaction_alive = sqlite3_get_autocommit(db.raw()) == 0;
    if (transaction_alive && bare) {
      if (!wrote) {
        continue;  // it changed nothing: nothing to undo
      }
      // Undo its writes: roll everything back and run the requests applied before it again
      // (all rerunnable), each in its own savepoint from now on, then the rest of the batch.
      (void)db.Run(Sql::kRollback);
      transaction_alive = false;
      Status again = db.Run(Sql::kBeginImmediate);
      if (!again.ok()) {
        FailAll(applied, again.error());
        FailAll(std::vector<WriteRequest*>(todo.begin() + static_cast<ptrdiff_t>(next), todo.end()),
                again.error());
        return {};
      }
      replays_.fetch_add(1, std::memory_order_relaxed);
      std::vector<WriteRequest*> rest(applied);
      rest.insert(rest.end(), todo.begin() + static_cast<ptrdiff_t>(next), todo.end());
      todo.swap(rest);
      next = 0;
      applied.clear();
      syncs.clear();
      totals.clear();
      bare_allowed = false;
      continue;
    }
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
      bare_allowed = true;
      Status again = db.Run(Sql::kBeginImmediate);
      if (!again.ok()) {
        // The requests after this one have not run; they fail without running.
        FailAll(std::vector<WriteRequest*>(todo.begin() + static_cast<ptrdiff_t>(next), todo.end()),
                again.error());
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

}  // namespace stratus::store::internal

namespace stratus::store {

void WriteAsyncRerunnable(Store& store, std::function<Status(WriteTxn&)> fn,
                          std::function<void(Status)> done) {
  if (auto* sqlite = dynamic_cast<internal::SqliteStore*>(&store)) {
    sqlite->WriteAsyncWith(std::move(fn), std::move(done), true);
    return;
  }
  store.WriteAsync(std::move(fn), std::move(done));
}

}  // namespace stratus::store
