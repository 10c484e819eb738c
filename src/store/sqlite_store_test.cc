// The SQLite backend's own properties: group commit, batch isolation, persistence, migrations,
// the directory lock, snapshots, Close and storage failures.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "store/store_test_util.h"

namespace stratus::store {
namespace {

using testing::MustOpen;
using testing::TempDir;
using testing::WriterGate;

SqliteOptions DiskOptions(const TempDir& dir) {
  SqliteOptions options;
  options.data_dir = dir.path();
  return options;
}

// Runs `failing` (a write function whose pre-commit step fails with `message`) and a plain Put of
// `<prefix>2` in one batch, and checks that the whole batch fails: both writes report
// `message`, neither key (nor `extra_absent`) is stored, and the store goes on (`<prefix>3`).
void ExpectWholeBatchFails(Store& store, const std::function<Status(WriteTxn&)>& failing,
                           const std::string& prefix, const std::string& message,
                           const std::string& extra_absent = "") {
  std::vector<std::future<Status>> results;
  {
    WriterGate gate(store);
    results.push_back(std::async(std::launch::async, [&] { return store.Write(failing); }));
    results.push_back(std::async(std::launch::async, [&] {
      return store.Write([&](WriteTxn& txn) { return txn.Put(prefix + "2", "v"); });
    }));
    gate.ReleaseWhenQueued(2);
  }
  for (auto& f : results) {
    Status st = f.get();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, message);
  }
  EXPECT_FALSE(store.Get(prefix + "1")->has_value());
  EXPECT_FALSE(store.Get(prefix + "2")->has_value());
  if (!extra_absent.empty()) {
    EXPECT_FALSE(store.Get(extra_absent)->has_value());
  }
  STRATUS_EXPECT_OK(store.Put(prefix + "3", "v"));
  EXPECT_TRUE(store.Get(prefix + "3")->has_value());
}

TEST(SqliteStoreTest, ManyConcurrentWritersAreGroupCommitted) {
  TempDir dir;
  constexpr int kThreads = 16;
  constexpr int kWritesPerThread = 500;
  {
    auto store = MustOpen(DiskOptions(dir));  // fsync on
    ASSERT_NE(store, nullptr);
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kWritesPerThread; ++i) {
          std::string key = "w/" + std::to_string(t) + "/" + std::to_string(i);
          if (!store->Put(key, key).ok()) {
            ++failures;
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    EXPECT_EQ(failures, 0);
    StoreStats stats = store->Stats();
    EXPECT_EQ(stats.commits, kThreads * kWritesPerThread);
    // Group commit: while one batch is fsync'd the other writers queue up behind it.
    EXPECT_LE(stats.batches * 2, stats.commits) << "batches=" << stats.batches;
    std::printf("group commit: %lld commits in %lld batches\n",
                static_cast<long long>(stats.commits), static_cast<long long>(stats.batches));
  }
  auto reopened = MustOpen(DiskOptions(dir));
  ASSERT_NE(reopened, nullptr);
  auto all = reopened->Scan(PrefixScan("w/"));
  STRATUS_ASSERT_OK(all);
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kWritesPerThread));
  for (const KeyValue& kv : *all) {
    ASSERT_EQ(kv.key, kv.value);
  }
}

void CheckBatchIsolation(const SqliteOptions& options) {
  auto store = MustOpen(options);
  ASSERT_NE(store, nullptr);
  std::atomic<int> notified_bad{0};
  std::atomic<int> notified_good{0};
  auto bad_watch = store->Subscribe("bad", [&] { ++notified_bad; });
  auto good_watch = store->Subscribe("good", [&] { ++notified_good; });

  StoreStats before = store->Stats();
  WriterGate gate(*store);
  std::vector<Status> results(5);
  std::vector<std::thread> writers;
  writers.emplace_back([&] { results[0] = store->Put("ok/0", "0"); });
  writers.emplace_back([&] {
    results[1] = store->Write([](WriteTxn& txn) -> Status {
      EXPECT_TRUE(txn.Put("bad/1", "x").ok());
      EXPECT_TRUE(txn.Put("ok/0", "overwritten by a failing write").ok());
      txn.Notify("bad");
      return Error("TransactionCanceledException", "condition failed");
    });
  });
  writers.emplace_back([&] {
    results[2] = store->Write([](WriteTxn& txn) -> Status {
      txn.Notify("good");
      return txn.Put("ok/2", "2");
    });
  });
  writers.emplace_back([&] {
    results[3] = store->Write([](WriteTxn& txn) -> Status {
      EXPECT_TRUE(txn.Put("bad/3", "x").ok());
      throw std::logic_error("bug");
    });
  });
  writers.emplace_back([&] { results[4] = store->Put("ok/4", "4"); });
  gate.ReleaseWhenQueued(5);
  for (auto& writer : writers) {
    writer.join();
  }
  StoreStats after = store->Stats();
  EXPECT_EQ(after.batches - before.batches, 2);  // the gate's batch, then all five together
  EXPECT_EQ(after.commits - before.commits, 4);  // gate + three good writes
  EXPECT_EQ(after.failed_writes - before.failed_writes, 2);

  EXPECT_TRUE(results[0].ok());
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, "TransactionCanceledException");
  EXPECT_TRUE(results[2].ok());
  ASSERT_FALSE(results[3].ok());
  EXPECT_EQ(results[3].error().code, "InternalFailure");
  EXPECT_TRUE(results[4].ok());

  // Whatever order the batch ran them in, the failing writes left nothing behind.
  EXPECT_EQ(store->Get("ok/0")->value_or(""), "0");
  EXPECT_EQ(store->Get("ok/2")->value_or(""), "2");
  EXPECT_EQ(store->Get("ok/4")->value_or(""), "4");
  EXPECT_FALSE(store->Get("bad/1")->has_value());
  EXPECT_FALSE(store->Get("bad/3")->has_value());

  store->Close();  // delivers pending notifications
  EXPECT_EQ(notified_good, 1);
  EXPECT_EQ(notified_bad, 0);
}

TEST(SqliteStoreTest, WriteAsyncCommitsDurablyAndBatches) {
  TempDir dir;
  constexpr int kWrites = 2000;
  {
    auto store = MustOpen(DiskOptions(dir));
    ASSERT_NE(store, nullptr);
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    int failed = 0;
    // All issued from one thread without waiting: they must group into few fsyncs.
    for (int i = 0; i < kWrites; ++i) {
      std::string key = "a/" + std::to_string(i);
      store->WriteAsync(
          [key](WriteTxn& txn) { return txn.Put(key, key); },
          [&](Status st) {
            std::lock_guard lock(mu);
            if (!st.ok()) ++failed;
            ++done;
            cv.notify_all();
          });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == kWrites; });
    EXPECT_EQ(failed, 0);
    EXPECT_LT(store->Stats().batches, kWrites / 10);
  }
  auto reopened = MustOpen(DiskOptions(dir));
  auto all = reopened->Scan(PrefixScan("a/"));
  STRATUS_ASSERT_OK(all);
  EXPECT_EQ(all->size(), static_cast<size_t>(kWrites));
}

// Overwrites the stack below the caller's frame (where a finished Write's request lived).
[[gnu::noinline]] void ScribbleStack() {
  volatile char scribble[8192];
  for (size_t k = 0; k < sizeof(scribble); ++k) scribble[k] = static_cast<char>(0xAB);
}

// Write and WriteAsync in one group commit: a synchronous caller returns (and its request on
// its stack is gone, here overwritten at once) while the writer still runs the batch's callbacks.
TEST(SqliteStoreTest, WriteAndWriteAsyncShareBatches) {
  TempDir dir;
  auto store = MustOpen(DiskOptions(dir));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kSyncWrites = 1000;
  std::atomic<bool> stop{false};
  std::atomic<int> async_done{0};
  std::atomic<int> async_issued{0};
  std::thread async_writer([&] {
    while (!stop.load()) {
      if (async_issued.load() - async_done.load() > 64) {
        std::this_thread::yield();
        continue;
      }
      std::string key = "async/" + std::to_string(async_issued.fetch_add(1));
      store->WriteAsync([key](WriteTxn& txn) { return txn.Put(key, "v"); },
                        [&](Status st) {
                          EXPECT_TRUE(st.ok());
                          async_done.fetch_add(1);
                        });
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kSyncWrites; ++i) {
        std::string key = "sync/" + std::to_string(t) + "/" + std::to_string(i);
        STRATUS_EXPECT_OK(store->Write([&](WriteTxn& txn) { return txn.Put(key, "v"); }));
        ScribbleStack();
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  async_writer.join();
  while (async_done.load() < async_issued.load()) std::this_thread::yield();
  auto synced = store->Scan(PrefixScan("sync/"));
  STRATUS_ASSERT_OK(synced);
  EXPECT_EQ(synced->size(), static_cast<size_t>(kThreads * kSyncWrites));
  auto async = store->Scan(PrefixScan("async/"));
  STRATUS_ASSERT_OK(async);
  EXPECT_EQ(async->size(), static_cast<size_t>(async_issued.load()));
}

TEST(SqliteStoreTest, WriteAsyncErrorsChainingAndClose) {
  auto store = MustOpen(SqliteOptions{});
  ASSERT_NE(store, nullptr);
  std::promise<Status> failed;
  store->WriteAsync(
      [](WriteTxn& txn) -> Status {
        STRATUS_RETURN_IF_ERROR(txn.Put("k", "v"));
        return Error("ConditionalCheckFailedException", "no");
      },
      [&](Status st) { failed.set_value(std::move(st)); });
  Status f = failed.get_future().get();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "ConditionalCheckFailedException");
  EXPECT_FALSE(store->Get("k")->has_value()) << "a failed async write is rolled back";

  // A callback may queue the next write (it runs on the writer thread).
  std::promise<void> chained;
  store->WriteAsync([](WriteTxn& txn) { return txn.Put("first", "1"); },
                    [&](Status st) {
                      EXPECT_TRUE(st.ok());
                      store->WriteAsync([](WriteTxn& txn) { return txn.Put("second", "2"); },
                                        [&](Status st2) {
                                          EXPECT_TRUE(st2.ok());
                                          chained.set_value();
                                        });
                    });
  chained.get_future().wait();
  EXPECT_EQ(**store->Get("second"), "2");

  store->Close();
  std::promise<Status> closed;
  store->WriteAsync([](WriteTxn& txn) { return txn.Put("late", "x"); },
                    [&](Status st) { closed.set_value(std::move(st)); });
  Status c = closed.get_future().get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "ServiceUnavailable");
}

// SyncBeforeCommit: one call per key per batch, after every function of the batch and before
// its commit; a failing sync rolls the whole batch back; a failed function's sync is not run.
TEST(SqliteStoreTest, PreCommitSyncsRunOncePerBatchBeforeTheCommit) {
  TempDir dir;
  auto store = MustOpen(DiskOptions(dir));
  ASSERT_NE(store, nullptr);
  std::atomic<int> functions_run{0};
  std::atomic<int> syncs{0};
  std::atomic<int> functions_at_sync{-1};
  int key_a = 0;
  int key_b = 0;
  auto sync_a = [&]() -> Status {
    ++syncs;
    functions_at_sync = functions_run.load();
    return Status::Ok();
  };
  constexpr int kWrites = 8;
  std::vector<std::future<Status>> results;
  {
    WriterGate gate(*store);
    for (int i = 0; i < kWrites; ++i) {
      results.push_back(std::async(std::launch::async, [&, i] {
        return store->Write([&, i](WriteTxn& txn) -> Status {
          STRATUS_RETURN_IF_ERROR(txn.SyncBeforeCommit(&key_a, sync_a));
          ++functions_run;
          return txn.Put("p/" + std::to_string(i), "v");
        });
      }));
    }
    // A failing function's sync must not run.
    results.push_back(std::async(std::launch::async, [&] {
      return store->Write([&](WriteTxn& txn) -> Status {
        STRATUS_RETURN_IF_ERROR(txn.SyncBeforeCommit(&key_b, [] {
          ADD_FAILURE() << "the sync of a rolled-back function ran";
          return Status::Ok();
        }));
        return InternalFailure("the function fails");
      });
    }));
    gate.ReleaseWhenQueued(kWrites + 1);
  }
  for (int i = 0; i < kWrites; ++i) STRATUS_EXPECT_OK(results[static_cast<size_t>(i)].get());
  EXPECT_FALSE(results.back().get().ok());
  EXPECT_EQ(syncs.load(), 1);
  EXPECT_EQ(functions_at_sync.load(), kWrites);

  // A failing sync fails every write of its batch, including one that asked for no sync.
  ExpectWholeBatchFails(
      *store,
      [&](WriteTxn& txn) -> Status {
        STRATUS_RETURN_IF_ERROR(
            txn.SyncBeforeCommit(&key_a, [] { return InternalFailure("cannot sync x"); }));
        return txn.Put("f/1", "v");
      },
      "f/", "cannot sync x");
}

// AddBeforeCommit: one apply per key per batch, after every function and before the pre-commit
// syncs, with the totals of the applied functions only; a failing apply rolls the batch back.
TEST(SqliteStoreTest, CommitTotalsAreAppliedOncePerBatch) {
  TempDir dir;
  auto store = MustOpen(DiskOptions(dir));
  ASSERT_NE(store, nullptr);
  int key = 0;
  int sync_key = 0;
  std::atomic<int> functions_run{0};
  std::atomic<int> applies{0};
  std::atomic<int> functions_at_apply{-1};
  std::atomic<int> applies_at_sync{-1};
  std::vector<WriteTxn::CommitTotal> seen;  // written by the writer thread, read after the join
  auto apply = [&](WriteTxn& txn, const std::vector<WriteTxn::CommitTotal>& totals) -> Status {
    ++applies;
    functions_at_apply = functions_run.load();
    seen = totals;
    std::string text;
    for (const auto& t : totals) {
      text += std::to_string(t.slot) + ":" + std::to_string(t.sum) + ":" + std::to_string(t.mark) +
              " ";
    }
    return txn.Put("totals", text);
  };
  constexpr int kWrites = 8;
  std::vector<std::future<Status>> results;
  {
    WriterGate gate(*store);
    for (int i = 0; i < kWrites; ++i) {
      results.push_back(std::async(std::launch::async, [&, i] {
        return store->Write([&, i](WriteTxn& txn) -> Status {
          // Two slots: 7 for the even writes, 3 for the odd ones.
          uint64_t slot = i % 2 == 0 ? 7 : 3;
          STRATUS_RETURN_IF_ERROR(txn.AddBeforeCommit(&key, slot, i + 1, 100 + i, apply));
          STRATUS_RETURN_IF_ERROR(txn.SyncBeforeCommit(&sync_key, [&] {
            applies_at_sync = applies.load();
            return Status::Ok();
          }));
          ++functions_run;
          return txn.Put("t/" + std::to_string(i), "v");
        });
      }));
    }
    // A function that fails after adding: its delta must not count.
    results.push_back(std::async(std::launch::async, [&] {
      return store->Write([&](WriteTxn& txn) -> Status {
        STRATUS_RETURN_IF_ERROR(txn.AddBeforeCommit(&key, 7, 1000, 9999, apply));
        return InternalFailure("the function fails");
      });
    }));
    gate.ReleaseWhenQueued(kWrites + 1);
  }
  for (int i = 0; i < kWrites; ++i) STRATUS_EXPECT_OK(results[static_cast<size_t>(i)].get());
  EXPECT_FALSE(results.back().get().ok());
  EXPECT_EQ(applies.load(), 1);
  EXPECT_EQ(functions_at_apply.load(), kWrites);
  EXPECT_EQ(applies_at_sync.load(), 1);  // the totals are written before the syncs run
  ASSERT_EQ(seen.size(), 2u);
  int64_t sum7 = 0;
  int64_t sum3 = 0;
  uint64_t mark7 = 0;
  uint64_t mark3 = 0;
  for (const auto& t : seen) {
    if (t.slot == 7) {
      sum7 = t.sum;
      mark7 = t.mark;
    } else if (t.slot == 3) {
      sum3 = t.sum;
      mark3 = t.mark;
    }
  }
  EXPECT_EQ(sum7, 1 + 3 + 5 + 7);
  EXPECT_EQ(mark7, 106u);
  EXPECT_EQ(sum3, 2 + 4 + 6 + 8);
  EXPECT_EQ(mark3, 107u);
  EXPECT_TRUE(store->Get("totals")->has_value());

  // A failing apply fails every write of its batch, including one that added nothing.
  ExpectWholeBatchFails(
      *store,
      [&](WriteTxn& txn) -> Status {
        STRATUS_RETURN_IF_ERROR(txn.AddBeforeCommit(
            &key, 1, 1, 1, [](WriteTxn& t, const std::vector<WriteTxn::CommitTotal>&) -> Status {
              STRATUS_RETURN_IF_ERROR(t.Put("g/apply", "v"));
              return InternalFailure("cannot apply");
            }));
        return txn.Put("g/1", "v");
      },
      "g/", "cannot apply", "g/apply");

  // Alone in its batch, a transaction's own totals are applied.
  applies = 0;
  STRATUS_EXPECT_OK(store->Write([&](WriteTxn& txn) -> Status {
    return txn.AddBeforeCommit(&key, 5, -4, 2, apply);
  }));
  EXPECT_EQ(applies.load(), 1);
  EXPECT_EQ(store->Get("totals")->value_or(""), "5:-4:2 ");
}

TEST(SqliteStoreTest, FailingWriterDoesNotAffectOthersInItsBatch) {
  TempDir dir;
  CheckBatchIsolation(DiskOptions(dir));
  CheckBatchIsolation(SqliteOptions{});
}

TEST(SqliteStoreTest, MaxBatchBoundsABatch) {
  TempDir dir;
  SqliteOptions options = DiskOptions(dir);
  options.max_batch = 2;
  auto store = MustOpen(options);
  ASSERT_NE(store, nullptr);
  StoreStats before = store->Stats();
  WriterGate gate(*store);
  std::vector<std::thread> writers;
  for (int i = 0; i < 5; ++i) {
    writers.emplace_back([&, i] { EXPECT_TRUE(store->Put("k" + std::to_string(i), "v").ok()); });
  }
  gate.ReleaseWhenQueued(5);
  for (auto& writer : writers) {
    writer.join();
  }
  EXPECT_EQ(store->Stats().batches - before.batches, 1 + 3);  // gate, then 2 + 2 + 1
}

TEST(SqliteStoreTest, ReopenKeepsDataQueuesAndLeases) {
  TempDir dir;
  ManualClock clock;
  SqliteOptions options = DiskOptions(dir);
  options.clock = &clock;
  int64_t leased_id = 0;
  std::string token;
  const int64_t now = clock.NowMillis();
  {
    auto store = MustOpen(options);
    ASSERT_NE(store, nullptr);
    STRATUS_ASSERT_OK(store->Put("persist/a", "1"));
    STRATUS_ASSERT_OK(store->Write([](WriteTxn& txn) -> Status {
      STRATUS_RETURN_IF_ERROR(txn.Put("persist/b", std::string("\x00\xff", 2)));
      STRATUS_RETURN_IF_ERROR(txn.Enqueue("q", "first"));
      STRATUS_RETURN_IF_ERROR(txn.Enqueue("q", "second"));
      return Status::Ok();
    }));
    auto leased = store->Lease("q", 1, now, 60000);
    STRATUS_ASSERT_OK(leased);
    ASSERT_EQ(leased->size(), 1u);
    leased_id = (*leased)[0].id;
    token = (*leased)[0].lease_token;
  }  // destructor closes
  auto store = MustOpen(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("persist/a")->value_or(""), "1");
  EXPECT_EQ(store->Get("persist/b")->value_or(""), std::string("\x00\xff", 2));
  EXPECT_EQ(*store->QueueLength("q"), 2);
  // The lease survived the restart: only the second item is visible, and the token still acks.
  auto visible = store->Lease("q", 10, now, 60000);
  STRATUS_ASSERT_OK(visible);
  ASSERT_EQ(visible->size(), 1u);
  EXPECT_EQ((*visible)[0].payload, "second");
  EXPECT_TRUE(*store->Ack(leased_id, token));
  // Ids keep increasing across restarts.
  int64_t next = 0;
  STRATUS_ASSERT_OK(store->Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(next, txn.Enqueue("q", "third"));
    return Status::Ok();
  }));
  EXPECT_GT(next, (*visible)[0].id);
}

// Reads one integer from the database file directly (tests may look under the hood).
int64_t QueryInt(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

std::string QueryPlan(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string query = std::string("EXPLAIN QUERY PLAN ") + sql;
  EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::string plan;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    plan += "\n";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return plan;
}

TEST(SqliteStoreTest, SchemaVersionAndLeaseIndex) {
  TempDir dir;
  { ASSERT_NE(MustOpen(DiskOptions(dir)), nullptr); }
  std::string path = dir.path() + "/stratus.db";
  EXPECT_EQ(QueryInt(path, "SELECT MAX(version) FROM schema_version"),
            SqliteMigrations().back().version);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM schema_version"),
            static_cast<int64_t>(SqliteMigrations().size()));
  std::string plan =
      QueryPlan(path,
                "SELECT id FROM queue_items WHERE queue = x'71' AND visible_at_ms <= 5 "
                "ORDER BY visible_at_ms, id LIMIT 10");
  EXPECT_NE(plan.find("queue_items_by_visibility"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST(SqliteStoreTest, MigrationsApplyInOrderOnceAndRefuseNewerDatabases) {
  TempDir dir;
  std::string path = dir.path() + "/stratus.db";
  std::vector<Migration> v1 = SqliteMigrations();
  {
    auto store = MustOpen(DiskOptions(dir));
    ASSERT_NE(store, nullptr);
    STRATUS_ASSERT_OK(store->Put("user/1", "ann"));
  }
  int next = v1.back().version + 1;
  std::vector<Migration> v2 = v1;
  v2.push_back({next, "copy users",
                "CREATE TABLE users_copy AS SELECT key, value FROM kv;"
                "INSERT INTO kv(key, value) VALUES (x'6d6967', x'6f6b');"});
  {
    auto opened = OpenSqliteStoreWithMigrationsForTest(DiskOptions(dir), v2);
    STRATUS_ASSERT_OK(opened);
    EXPECT_EQ((*opened)->Get("mig")->value_or(""), "ok");  // written by the migration
    EXPECT_EQ((*opened)->Get("user/1")->value_or(""), "ann");
  }
  EXPECT_EQ(QueryInt(path, "SELECT MAX(version) FROM schema_version"), next);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM users_copy"), 1);
  {
    // Opening again does not re-run it (it would fail: users_copy exists).
    auto opened = OpenSqliteStoreWithMigrationsForTest(DiskOptions(dir), v2);
    STRATUS_ASSERT_OK(opened);
  }
  // An older binary refuses the newer database with a message that says what to do.
  auto refused = OpenSqliteStoreWithMigrationsForTest(DiskOptions(dir), v1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("newer stratus"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("schema version " + std::to_string(next)),
            std::string::npos);

  // A failing migration changes nothing (it runs in the transaction that records it) and the
  // lock is released, so a fixed binary can open the directory.
  std::vector<Migration> broken = v2;
  broken.push_back({next + 1, "broken", "CREATE TABLE t (x); THIS IS NOT SQL;"});
  auto failed = OpenSqliteStoreWithMigrationsForTest(DiskOptions(dir), broken);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "InternalFailure");
  EXPECT_EQ(QueryInt(path, "SELECT MAX(version) FROM schema_version"), next);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 't'"), 0);
  auto fixed = OpenSqliteStoreWithMigrationsForTest(DiskOptions(dir), v2);
  STRATUS_ASSERT_OK(fixed);
}

TEST(SqliteStoreTest, MigrationsRunInMemoryToo) {
  std::vector<Migration> migrations = SqliteMigrations();
  migrations.push_back(
      {migrations.back().version + 1, "seed", "INSERT INTO kv(key, value) VALUES (x'61', x'62');"});
  auto opened = OpenSqliteStoreWithMigrationsForTest(SqliteOptions{}, migrations);
  STRATUS_ASSERT_OK(opened);
  EXPECT_EQ((*opened)->Get("a")->value_or(""), "b");
}

TEST(SqliteStoreTest, DirectoryLockKeepsASecondStoreOut) {
  TempDir dir;
  auto first = MustOpen(DiskOptions(dir));
  ASSERT_NE(first, nullptr);
  auto second = OpenSqliteStore(DiskOptions(dir));
  ASSERT_FALSE(second.ok());
  const std::string& message = second.error().message;
  EXPECT_NE(message.find(dir.path()), std::string::npos) << message;
  EXPECT_NE(message.find("pid " + std::to_string(getpid())), std::string::npos) << message;
  EXPECT_NE(message.find("--data-dir"), std::string::npos) << message;
  // The first store is unaffected.
  STRATUS_EXPECT_OK(first->Put("a", "1"));
  first->Close();
  auto third = OpenSqliteStore(DiskOptions(dir));
  STRATUS_ASSERT_OK(third);
  EXPECT_EQ((*third)->Get("a")->value_or(""), "1");
}

TEST(SqliteStoreTest, UncreatableDataDirectoryFailsWithAFix) {
  TempDir dir;
  std::string file = dir.path() + "/a-file";
  FILE* made = std::fopen(file.c_str(), "w");
  ASSERT_NE(made, nullptr);
  std::fclose(made);
  SqliteOptions options;
  options.data_dir = file + "/sub";
  auto opened = OpenSqliteStore(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("cannot create the data directory"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("--data-dir"), std::string::npos);
}

TEST(SqliteStoreTest, ReadersSeeASnapshotAndDoNotBlockTheWriter) {
  TempDir dir;
  auto store = MustOpen(DiskOptions(dir));
  ASSERT_NE(store, nullptr);
  STRATUS_ASSERT_OK(store->Put("x", "v1"));
  STRATUS_ASSERT_OK(store->Read([&](ReadTxn& txn) -> Status {
    EXPECT_EQ(txn.Get("x")->value_or(""), "v1");
    // A write commits while this read transaction is open: the writer does not wait for it.
    std::thread writer([&] { EXPECT_TRUE(store->Put("x", "v2").ok()); });
    writer.join();
    EXPECT_EQ(store->Get("x")->value_or(""), "v2");  // a new read sees it
    EXPECT_EQ(txn.Get("x")->value_or(""), "v1");     // this snapshot does not
    EXPECT_EQ(txn.Scan(ScanOptions{})->at(0).value, "v1");
    return Status::Ok();
  }));
}

TEST(SqliteStoreTest, ReadsDoNotWaitForABatchInProgress) {
  TempDir dir;
  auto store = MustOpen(DiskOptions(dir));
  ASSERT_NE(store, nullptr);
  STRATUS_ASSERT_OK(store->Put("x", "v1"));
  std::promise<void> inside;
  std::promise<void> release;
  std::thread writer([&] {
    EXPECT_TRUE(store
                    ->Write([&](WriteTxn& txn) -> Status {
                      EXPECT_TRUE(txn.Put("x", "uncommitted").ok());
                      inside.set_value();
                      release.get_future().wait();
                      return Status::Ok();
                    })
                    .ok());
  });
  inside.get_future().wait();
  // The writer holds an open transaction with an uncommitted change; readers are not blocked
  // and do not see it.
  EXPECT_EQ(store->Get("x")->value_or(""), "v1");
  EXPECT_EQ(*store->QueueLength("q"), 0);
  release.set_value();
  writer.join();
  EXPECT_EQ(store->Get("x")->value_or(""), "uncommitted");
}

TEST(SqliteStoreTest, CloseCommitsQueuedWritesAndCheckpoints) {
  TempDir dir;
  auto store = MustOpen(DiskOptions(dir));
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> writers;
  std::vector<Status> results(10);
  {
    WriterGate gate(*store);
    for (int i = 0; i < 10; ++i) {
      writers.emplace_back([&, i] { results[i] = store->Put("queued/" + std::to_string(i), "v"); });
    }
    for (int i = 0; i < 10000 && PendingWritesForTest(*store) < 10; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::thread closer([&] { store->Close(); });
    gate.ReleaseWhenQueued(10);
    closer.join();
  }
  for (auto& writer : writers) {
    writer.join();
  }
  for (const Status& result : results) {
    EXPECT_TRUE(result.ok());  // queued before Close: committed, not refused
  }
  std::error_code ec;
  auto wal_size = std::filesystem::file_size(dir.path() + "/stratus.db-wal", ec);
  EXPECT_TRUE(ec || wal_size == 0) << "WAL left with " << wal_size << " bytes";
  store.reset();
  auto reopened = MustOpen(DiskOptions(dir));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Scan(PrefixScan("queued/"))->size(), 10u);
}

TEST(SqliteStoreTest, StorageFailureIsAnInternalFailureAndTheStoreRecovers) {
  TempDir dir;
  SqliteOptions options = DiskOptions(dir);
  auto store = MustOpen(options);
  ASSERT_NE(store, nullptr);
  STRATUS_ASSERT_OK(store->Put("before", "1"));
  // Cap the database size so that a large write hits SQLITE_FULL, as on a full disk.
  STRATUS_ASSERT_OK(ExecOnWriterForTest(*store, "PRAGMA max_page_count = 64"));
  std::string big(1 << 20, 'x');
  bool ignored_error_seen = false;
  Status full = store->Write([&](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.Put("small-in-failed-txn", "1").ok());
    Status put = txn.Put("big", big);
    ignored_error_seen = !put.ok();
    // The transaction is dead: later operations fail too (and never run outside it).
    EXPECT_FALSE(txn.Put("after-failure", "x").ok());
    EXPECT_FALSE(txn.Get("before").ok());
    return Status::Ok();  // ignores the error: the store must still abort this transaction
  });
  EXPECT_TRUE(ignored_error_seen);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, "InternalFailure");
  EXPECT_FALSE(store->Get("big")->has_value());
  EXPECT_FALSE(store->Get("small-in-failed-txn")->has_value());
  EXPECT_FALSE(store->Get("after-failure")->has_value());
  STRATUS_EXPECT_OK(store->Put("small", "still works"));
  STRATUS_ASSERT_OK(ExecOnWriterForTest(*store, "PRAGMA max_page_count = 1073741823"));
  STRATUS_EXPECT_OK(store->Put("big", big));
  EXPECT_EQ(store->Get("before")->value_or(""), "1");
  EXPECT_EQ(store->Get("small")->value_or(""), "still works");
}

}  // namespace
}  // namespace stratus::store
