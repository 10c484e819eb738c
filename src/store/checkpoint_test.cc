// WAL checkpoints of the SQLite backend: in the background when asked (CheckpointOptions),
// bounded by a hard limit on the writer; the default in-commit mode; data intact across a reopen.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sqlite3.h>
#include <sys/vfs.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "store/checkpointer.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"
#include "store/store_test_util.h"

namespace stratus::store {
namespace {

using testing::MustOpen;
using testing::TempDir;

constexpr int kPageBytes = 4096;

SqliteOptions DiskOptions(const TempDir& dir) {
  SqliteOptions options;
  options.data_dir = dir.path();
  return options;
}

std::unique_ptr<Store> MustOpenWith(const SqliteOptions& options, CheckpointOptions checkpoints) {
  auto opened = OpenSqliteStoreWithCheckpoints(options, checkpoints);
  EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::string Key(int writer, int i) {
  return "ckpt/" + std::to_string(writer) + "/" + std::to_string(i);
}

// `writers` threads each Put `per_writer` keys (numbered from `first`) with 1 KiB values (and
// enqueue every third), while the WAL file's size is sampled; returns the largest size seen, in
// bytes.
uintmax_t WriteLoad(Store& store, const std::string& dir, int writers, int per_writer,
                    int first = 0) {
  std::atomic<bool> done{false};
  uintmax_t wal_max = 0;
  std::thread sampler([&] {
    while (!done) {
      std::error_code ec;
      uintmax_t size = std::filesystem::file_size(dir + "/stratus.db-wal", ec);
      if (!ec) {
        wal_max = std::max(wal_max, size);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::string value(1024, static_cast<char>('a' + w));
      for (int i = first; i < first + per_writer; ++i) {
        Status status = store.Write([&](WriteTxn& txn) -> Status {
          STRATUS_RETURN_IF_ERROR(txn.Put(Key(w, i), value));
          if (i % 3 == 0) {
            STRATUS_RETURN_IF_ERROR(txn.Enqueue("ckpt-q", value, 0));
          }
          return Status::Ok();
        });
        ASSERT_TRUE(status.ok()) << status.error().message;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  done = true;
  sampler.join();
  return wal_max;
}

void ExpectIntact(const TempDir& dir, int writers, int per_writer) {
  auto store = MustOpen(DiskOptions(dir));
  ASSERT_NE(store, nullptr);
  auto all = store->Scan(PrefixScan("ckpt/"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(writers * per_writer));
  for (int w = 0; w < writers; ++w) {
    auto value = store->Get(Key(w, per_writer - 1));
    ASSERT_TRUE(value.ok());
    ASSERT_TRUE(value->has_value());
    EXPECT_EQ(**value, std::string(1024, static_cast<char>('a' + w)));
  }
  EXPECT_EQ(*store->QueueLength("ckpt-q"), writers * ((per_writer + 2) / 3));
  store->Close();
  sqlite3* db = nullptr;
  ASSERT_EQ(
      sqlite3_open_v2((dir.path() + "/stratus.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
      SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "ok");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(CheckpointTest, BackgroundCheckpointsKeepTheWalBoundedAndDataIntact) {
  TempDir dir;
  CheckpointOptions checkpoints;
  checkpoints.background = true;
  checkpoints.checkpoint_pages = 64;     // small, so that a short test crosses it many times
  checkpoints.wal_limit_pages = 100000;  // never reached: the background alone bounds the WAL
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 1000;
  constexpr int kRounds = 8;
  auto store = MustOpenWith(DiskOptions(dir), checkpoints);
  ASSERT_NE(store, nullptr);
  // The load comes in rounds, each well past the threshold (1 000 writes of >1 KiB), and the next
  // round starts once the background has checkpointed at least once since this one began: on a
  // machine whose other work starves the checkpointer thread, one unbroken burst saw as few as 2
  // background checkpoints. A background that never checkpoints fails the wait below.
  uintmax_t wal_max = 0;
  for (int round = 0; round < kRounds; ++round) {
    const int64_t before = SqliteWriterStats(*store).background_checkpoints;
    wal_max = std::max(wal_max, WriteLoad(*store, dir.path(), kWriters, kPerWriter / kRounds,
                                          round * (kPerWriter / kRounds)));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (SqliteWriterStats(*store).background_checkpoints == before &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GT(SqliteWriterStats(*store).background_checkpoints, before) << "round " << round;
  }
  WriterStats stats = SqliteWriterStats(*store);
  // 8 000 writes of >1 KiB: thousands of pages go through the WAL, 50+ times the threshold.
  EXPECT_GE(stats.background_checkpoints, kRounds);
  // The writer only finishes tails after a background checkpoint: never more often.
  EXPECT_LE(stats.writer_checkpoints, stats.background_checkpoints);
  // Bounded: the WAL rewinds after each round instead of growing with the load. Under a load
  // this fast the background chases frames appended meanwhile, so the bound is loose: at most half
  // of what went through the WAL (which is where it would be without checkpoints). A third was
  // too tight for a machine whose other work starves the checkpointer: 15 095 of 38 560 pages
  // (0.39) in one of six runs beside a build, with 5+ rewinds all the same.
  EXPECT_GT(stats.wal_pages_written, 3000);
  EXPECT_LT(stats.wal_pages_max * 2, stats.wal_pages_written)
      << stats.wal_pages_max << " of " << stats.wal_pages_written;
  EXPECT_LT(wal_max, static_cast<uintmax_t>(stats.wal_pages_written / 2 * (kPageBytes + 24)));
  EXPECT_GT(stats.batches, 0);
  EXPECT_GT(stats.commit_us_max, 0);
  EXPECT_LE(stats.commit_us_p50, stats.commit_us_p99);
  EXPECT_LE(stats.commit_us_p99, stats.commit_us_max);
  store->Close();
  std::error_code ec;
  auto wal_after_close = std::filesystem::file_size(dir.path() + "/stratus.db-wal", ec);
  EXPECT_TRUE(ec || wal_after_close == 0) << wal_after_close;
  store.reset();
  ExpectIntact(dir, kWriters, kPerWriter);
}

TEST(CheckpointTest, ABusyBackgroundCheckpointIsReportedAsFinishedHavingCopiedNothing) {
  TempDir dir;
  const std::string path = dir.path() + "/busy.db";
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer,
                         "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1); "
                         "BEGIN IMMEDIATE; INSERT INTO t VALUES(2);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  // A rival's FULL checkpoint takes SQLite's checkpoint lock, then waits in its busy handler for
  // the writer's open transaction: meanwhile any other checkpoint ends SQLITE_BUSY.
  struct Rival {
    std::promise<void> waiting;
    std::atomic<bool> release{false};
    bool signalled = false;
  } state;
  sqlite3* rival = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &rival), SQLITE_OK);
  // A read first, so that the rival's pager has the WAL open (else its checkpoint is a no-op).
  ASSERT_EQ(sqlite3_exec(rival, "SELECT count(*) FROM t", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_busy_handler(
      rival,
      [](void* arg, int) -> int {
        auto* rival_state = static_cast<Rival*>(arg);
        if (!rival_state->signalled) {
          rival_state->signalled = true;
          rival_state->waiting.set_value();
        }
        while (!rival_state->release) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return 0;
      },
      &state);
  std::thread rival_thread(
      [&] { sqlite3_wal_checkpoint_v2(rival, nullptr, SQLITE_CHECKPOINT_FULL, nullptr, nullptr); });
  ASSERT_EQ(state.waiting.get_future().wait_for(std::chrono::seconds(20)),
            std::future_status::ready)
      << "the rival's checkpoint never waited for the writer";

  auto started = internal::Checkpointer::Start(path, false);
  ASSERT_TRUE(started.ok()) << started.error().message;
  std::unique_ptr<internal::Checkpointer> checkpointer = std::move(started).value();
  auto await_finished = [&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int64_t finished = -1;
    while ((finished = checkpointer->TakeFinished()) < 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return finished;
  };
  checkpointer->Request();
  // The writer hears that the busy checkpoint finished, having copied nothing; before, it never
  // heard, so it never asked the background again and the WAL grew to the hard limit.
  EXPECT_EQ(await_finished(), 0);
  EXPECT_EQ(checkpointer->failures(), 1);
  EXPECT_EQ(checkpointer->checkpoints(), 0);

  state.release = true;
  rival_thread.join();
  ASSERT_EQ(sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  checkpointer->Request();  // asked again, it copies the WAL
  EXPECT_GT(await_finished(), 0);
  EXPECT_EQ(checkpointer->checkpoints(), 1);
  checkpointer->Stop();
  sqlite3_close(rival);
  sqlite3_close(writer);
}

TEST(CheckpointTest, TheHardLimitCheckpointsOnTheWriter) {
  TempDir dir;
  CheckpointOptions checkpoints;
  checkpoints.background = true;
  checkpoints.checkpoint_pages = 1000000;  // the background is never asked
  checkpoints.wal_limit_pages = 100;
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 300;
  auto store = MustOpenWith(DiskOptions(dir), checkpoints);
  ASSERT_NE(store, nullptr);
  WriteLoad(*store, dir.path(), kWriters, kPerWriter);
  WriterStats stats = SqliteWriterStats(*store);
  EXPECT_EQ(stats.background_checkpoints, 0);
  EXPECT_GT(stats.writer_checkpoints, 0);
  // Past the limit by at most a few batches' pages (a batch of 4 writes is < 20 pages).
  EXPECT_LT(stats.wal_pages_max, checkpoints.wal_limit_pages + 100) << stats.wal_pages_max;
  store.reset();
  ExpectIntact(dir, kWriters, kPerWriter);
}

TEST(CheckpointTest, TheHardLimitWaitsForAReaderOfOldFramesThenGoesOn) {
  TempDir dir;
  CheckpointOptions checkpoints;
  checkpoints.background = true;
  checkpoints.checkpoint_pages = 1000000;
  checkpoints.wal_limit_pages = 50;
  auto store = MustOpenWith(DiskOptions(dir), checkpoints);
  ASSERT_NE(store, nullptr);
  STRATUS_ASSERT_OK(store->Put("ckpt/pinned", "old"));
  std::promise<void> snapshot_taken;
  std::thread reader([&] {
    Status status = store->Read([&](ReadTxn& txn) -> Status {
      auto value = txn.Get("ckpt/pinned");  // takes the snapshot, pinning the WAL's frames
      EXPECT_TRUE(value.ok() && value->has_value() && **value == "old");
      snapshot_taken.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      value = txn.Get("ckpt/pinned");  // still the snapshot's value, whatever was checkpointed
      EXPECT_TRUE(value.ok() && value->has_value() && **value == "old");
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok());
  });
  snapshot_taken.get_future().wait();
  std::string value(2048, 'x');
  for (int i = 0; i < 200; ++i) {  // ~200+ pages: past the limit while the reader holds on
    STRATUS_ASSERT_OK(store->Put("ckpt/" + std::to_string(i), value));
  }
  STRATUS_ASSERT_OK(store->Put("ckpt/pinned", "new"));
  reader.join();
  for (int i = 0; i < 200; ++i) {  // after the reader: the limit's checkpoint rewinds the WAL
    STRATUS_ASSERT_OK(store->Put("ckpt/again/" + std::to_string(i), value));
  }
  WriterStats stats = SqliteWriterStats(*store);
  EXPECT_GT(stats.writer_checkpoints, 0);
  EXPECT_LT(stats.wal_pages_last, 2 * checkpoints.wal_limit_pages) << stats.wal_pages_last;
  EXPECT_EQ(**store->Get("ckpt/pinned"), "new");
  store.reset();
  auto reopened = MustOpen(DiskOptions(dir));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Scan(PrefixScan("ckpt/"))->size(), 401u);
}

TEST(CheckpointTest, InCommitModeCheckpointsOnTheWriterOnly) {
  TempDir dir;
  CheckpointOptions checkpoints;
  checkpoints.background = false;
  checkpoints.checkpoint_pages = 64;
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 300;
  auto store = MustOpenWith(DiskOptions(dir), checkpoints);
  ASSERT_NE(store, nullptr);
  WriteLoad(*store, dir.path(), kWriters, kPerWriter);
  WriterStats stats = SqliteWriterStats(*store);
  EXPECT_EQ(stats.background_checkpoints, 0);
  EXPECT_GT(stats.writer_checkpoints, 5);
  EXPECT_LT(stats.wal_pages_max, 4 * checkpoints.checkpoint_pages) << stats.wal_pages_max;
  store.reset();
  ExpectIntact(dir, kWriters, kPerWriter);
}

TEST(CheckpointTest, MemoryModeHasNoCheckpoints) {
  auto store = MustOpen(SqliteOptions{});
  ASSERT_NE(store, nullptr);
  STRATUS_ASSERT_OK(store->Put("k", "v"));
  WriterStats stats = SqliteWriterStats(*store);
  EXPECT_EQ(stats.background_checkpoints + stats.writer_checkpoints + stats.wal_pages_max, 0);
}

// With fsync on, the writer's WAL gets each commit's frames as one run (SQLite writes a frame
// as two writes), and on ext4, once the WAL has been fsync'd whole, commits over its existing blocks
// are synced without an fsync (internal::WalVfsName). Every commit reads back after a restart,
// through checkpoints and WAL rewinds.
TEST(CheckpointTest, TheWritersWalIsWrittenOncePerCommitAndRangeSyncedOnExt4) {
  TempDir dir;
  struct statfs fs{};
  ASSERT_EQ(::statfs(dir.path().c_str(), &fs), 0);
  const bool ext4 = fs.f_type == EXT4_SUPER_MAGIC;
  constexpr int kCommits = 400;
  const std::string value(3000, 'v');
  internal::WalVfsStats before = internal::GetWalVfsStats();
  {
    CheckpointOptions checkpoints{.background = true, .checkpoint_pages = 100};
    auto store = std::move(OpenSqliteStoreWithCheckpoints(SqliteOptions{dir.path()}, checkpoints))
                     .value();
    for (int i = 0; i < kCommits; ++i) {
      STRATUS_ASSERT_OK(store->Put("k" + std::to_string(i), value + std::to_string(i)));
    }
    internal::WalVfsStats after = internal::GetWalVfsStats();
    // One run per commit at most (a frame and its header were two writes), plus WAL headers.
    EXPECT_LE(after.writes - before.writes, kCommits + 64);
    if (ext4) {
      EXPECT_GT(after.range_syncs - before.range_syncs, kCommits / 2);
    } else {
      EXPECT_EQ(after.range_syncs - before.range_syncs, 0);
    }
    EXPECT_GT(after.full_syncs - before.full_syncs, 0);  // the first sync of a WAL is an fsync
  }
  auto store = MustOpen(SqliteOptions{dir.path()});
  for (int i = 0; i < kCommits; i += 7) {
    auto v = store->Get("k" + std::to_string(i));
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(v->has_value()) << i;
    EXPECT_EQ(**v, value + std::to_string(i));
  }
}

// Once the WAL has rewound (a checkpoint copied it all), a commit's frames land on pages written
// before, and go to the file in one pwrite instead of one per page.
TEST(CheckpointTest, ARewoundWalTakesOnePwritePerCommit) {
  TempDir dir;
  constexpr int kCommits = 200;
  const std::string value(3000, 'v');
  // Checkpoints by the writer every 50 pages: the WAL rewinds many times below.
  auto store = MustOpenWith(SqliteOptions{dir.path()},
                            CheckpointOptions{.background = false, .checkpoint_pages = 50});
  for (int i = 0; i < kCommits; ++i) {
    STRATUS_ASSERT_OK(store->Put("k" + std::to_string(i), value + std::to_string(i)));
  }
  internal::WalVfsStats before = internal::GetWalVfsStats();
  for (int i = 0; i < kCommits / 4; ++i) {
    STRATUS_ASSERT_OK(store->Put("k" + std::to_string(i), value + "again"));
  }
  internal::WalVfsStats after = internal::GetWalVfsStats();
  ASSERT_GT(after.writes - before.writes, 0);
  // Page by page, each commit's frames (a leaf split: three) took four pwrites or more. A pass
  // that ends a little past the one before writes its last pages page by page.
  const int64_t runs = after.writes - before.writes;
  EXPECT_LE(after.pwrites - before.pwrites, runs + runs / 4);
  for (int i = 0; i < kCommits; i += 7) {
    auto v = store->Get("k" + std::to_string(i));
    ASSERT_TRUE(v.ok() && v->has_value()) << i;
    EXPECT_EQ(**v, value + (i < kCommits / 4 ? std::string("again") : std::to_string(i)));
  }
}

// Without fsync the writer's WAL also gathers each commit's frames into one run (SQLite writes a
// frame as two writes). No sync ends a commit then, so the run is written once the commit frame
// is whole, before SQLite publishes the commit: a reader that reads right after it finds every
// frame in the file (holding the frames until a sync made readers fail with a short read, sqlite
// error 522), and everything reads back after a restart.
TEST(CheckpointTest, WithoutFsyncACommitIsWrittenInOneRunBeforeReadersSeeIt) {
  TempDir dir;
  constexpr int kCommits = 300;
  const std::string value(3000, 'v');
  internal::WalVfsStats before = internal::GetWalVfsStats();
  {
    CheckpointOptions checkpoints{.background = true, .checkpoint_pages = 100};
    auto store = MustOpenWith(SqliteOptions{.data_dir = dir.path(), .fsync = false}, checkpoints);
    for (int i = 0; i < kCommits; ++i) {
      std::string key = "k" + std::to_string(i);
      STRATUS_ASSERT_OK(store->Put(key, value + std::to_string(i)));
      auto v = store->Get(key);  // a reader connection
      ASSERT_TRUE(v.ok()) << i << ": " << v.error().message;
      ASSERT_TRUE(v->has_value()) << i;
      EXPECT_EQ(**v, value + std::to_string(i));
    }
    internal::WalVfsStats after = internal::GetWalVfsStats();
    EXPECT_GE(after.writes - before.writes, kCommits);
    EXPECT_LE(after.writes - before.writes, kCommits + 64);  // plus WAL headers
  }
  auto store = MustOpen(SqliteOptions{.data_dir = dir.path(), .fsync = false});
  for (int i = 0; i < kCommits; i += 7) {
    auto v = store->Get("k" + std::to_string(i));
    ASSERT_TRUE(v.ok() && v->has_value()) << i;
    EXPECT_EQ(**v, value + std::to_string(i));
  }
}

}  // namespace
}  // namespace stratus::store
