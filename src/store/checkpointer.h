#pragma once
// Internal to src/store: copies the WAL back into the database file on its own connection and
// thread, so that the writer thread does not stop committing while it happens.
//
// Why: SQLite's automatic checkpoint runs on the connection that commits, inside the COMMIT
// that crosses wal_autocheckpoint pages, so every write queued behind that batch waits for ~1000
// pages to be copied and the database file to be fsync'd. A PASSIVE checkpoint on another
// connection takes no lock a writer needs: commits go on while it copies.
//
// What stays on the writer (SqliteStore): a WAL is only rewound to its start by a writer whose
// transaction began with every frame already copied. Under a steady load frames are appended
// while the background checkpoint runs, so that never happens by itself; once a background
// checkpoint has finished, the writer copies the short tail left (a PASSIVE checkpoint on its
// own connection between two batches) and its next commit rewinds the WAL.
//
// Durability is SQLite's: a checkpoint fsyncs the WAL before copying and the database file
// before it records the frames as copied, and the WAL is only rewound after that, so a crash
// (kill -9) at any point of a checkpoint loses nothing: the next open replays the WAL.
//
// Thread-safe: Request() and the accessors may be called from any thread (the writer's WAL
// hook); Stop() once, by the owner.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"
#include "store/sqlite_db.h"

namespace stratus::store::internal {

class Checkpointer {
 public:
  // Opens a connection to the database at `path` (in WAL mode already) with the writer's
  // synchronous setting and starts the thread.
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& path, bool fsync);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Asks for one PASSIVE checkpoint soon. Never blocks; a request while one is pending or running
  // is merged into it.
  void Request();
  // The WAL frame count the last finished checkpoint had copied (SQLite's pnCkpt; 0 for one that
  // failed or was busy), or -1 if none finished since the last call: the writer takes it to decide
  // whether to finish the tail or ask again.
  int64_t TakeFinished();
  // Waits for a checkpoint in progress, stops the thread, closes the connection. Idempotent.
  void Stop();

  int64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }
  // Checkpoints that ended busy or failed (each reported to the writer as copying nothing).
  int64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  explicit Checkpointer(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  void Loop();

  std::unique_ptr<Db> db_;  // used by the thread only, then by Stop()
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::thread thread_;
  std::atomic<int64_t> finished_at_{-1};  // frames copied by the last finished checkpoint
  std::atomic<int64_t> checkpoints_{0};
  std::atomic<int64_t> failures_{0};
  // The thread's error log: the first real error at once, then at most one line per
  // kErrorLogInterval counting the ones in between (a failing disk fails every checkpoint).
  std::chrono::steady_clock::time_point error_logged_at_{};
  int64_t errors_unlogged_ = 0;
};

}  // namespace stratus::store::internal
