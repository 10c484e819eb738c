#include "store/checkpointer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace stratus::store::internal {

namespace {
constexpr auto kErrorLogInterval = std::chrono::seconds(10);
}  // namespace

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path, bool fsync) {
  STRATUS_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, "checkpointer"));
  // The checkpoint's fsyncs follow this connection's setting: the same as the writer's, never
  // weaker (FULL and NORMAL both sync the WAL before copying and the database after).
  STRATUS_RETURN_IF_ERROR(
      db->Exec(fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  // It never commits, so it would never auto-checkpoint; said explicitly anyway.
  STRATUS_RETURN_IF_ERROR(db->Exec("PRAGMA wal_autocheckpoint = 0"));
  std::unique_ptr<Checkpointer> checkpointer(new Checkpointer(std::move(db)));
  checkpointer->thread_ = std::thread([raw = checkpointer.get()] { raw->Loop(); });
  return checkpointer;
}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Request() {
  {
    std::lock_guard lock(mu_);
    if (requested_ || stopping_) {
      return;
    }
    requested_ = true;
  }
  cv_.notify_one();
}

int64_t Checkpointer::TakeFinished() {
  if (finished_at_.load(std::memory_order_relaxed) < 0) {
    return -1;  // the common case: no atomic write
  }
  return finished_at_.exchange(-1, std::memory_order_acq_rel);
}

void Checkpointer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
  db_.reset();
}

void Checkpointer::Loop() {
  pthread_setname_np(pthread_self(), "stratus-store-c");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return requested_ || stopping_; });
    if (stopping_) {
      return;  // Close() checkpoints on the writer connection after the last batch
    }
    requested_ = false;
    lock.unlock();
    int log_frames = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                       &copied);
    if (rc == SQLITE_OK) {
      checkpoints_.fetch_add(1, std::memory_order_relaxed);
      finished_at_.store(copied, std::memory_order_release);
    } else {
      // Not fatal: the frames stay in the WAL (durable). SQLITE_BUSY is routine: a PASSIVE
      // checkpoint gives up when it reads the WAL index while a commit is updating it, or when
      // another connection checkpoints. Either way the writer must hear that this one finished
      // (with nothing known copied), or it would wait for it forever and never ask again.
      if (rc != SQLITE_BUSY) {
        auto now = std::chrono::steady_clock::now();
        if (error_logged_at_ == std::chrono::steady_clock::time_point{} ||
            now - error_logged_at_ >= kErrorLogInterval) {
          spdlog::error(
              "store: a background WAL checkpoint failed: {} (sqlite error {}; {} more since the "
              "last such line)",
              sqlite3_errmsg(db_->raw()), rc, errors_unlogged_);
          error_logged_at_ = now;
          errors_unlogged_ = 0;
        } else {
          ++errors_unlogged_;
        }
      }
      failures_.fetch_add(1, std::memory_order_relaxed);
      finished_at_.store(0, std::memory_order_release);
    }
    lock.lock();
  }
}

}  // namespace stratus::store::internal
