// WriteAsyncRerunnable (rerunnable_write.h): write functions that run without a savepoint of their own while
// every function applied before them in the physical commit is rerunnable too, and the replay
// that undoes one failing after it wrote (sqlite_writer.cc RunBatch).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/rerunnable_write.h"

#include "store/sqlite_store.h"
#include "store/store_test_util.h"

namespace stratus::store {
namespace {

using testing::MustOpen;
using testing::TempDir;
using testing::WriterGate;

// One write of a scripted batch: it counts its runs, writes `key` (unless empty) and returns
// `fails` (an error) or Ok.
struct Step {
  std::string key;
  bool rerunnable = true;
  bool fails = false;
};

struct BatchOutcome {
  std::vector<Status> results;
  std::vector<int> runs;
  int64_t replays = 0;
};

// Queues `steps` in order behind a gate (so they form one batch, in that order) with WriteAsync,
// and waits for every answer.
BatchOutcome RunBatch(Store& store, const std::vector<Step>& steps) {
  BatchOutcome out;
  out.results.resize(steps.size());
  std::vector<std::atomic<int>> runs(steps.size());
  std::mutex mu;
  std::condition_variable cv;
  size_t answered = 0;
  int64_t replays_before = SqliteWriterStats(store).replays;
  {
    WriterGate gate(store);
    for (size_t i = 0; i < steps.size(); ++i) {
      const Step& step = steps[i];
      auto fn = [&runs, i, step](WriteTxn& txn) -> Status {
        ++runs[i];
        if (!step.key.empty()) STRATUS_RETURN_IF_ERROR(txn.Put(step.key, "v"));
        if (step.fails) return Error("ConditionalCheckFailedException", "step fails");
        return Status::Ok();
      };
      auto done = [&, i](Status st) {
        std::lock_guard lock(mu);
        out.results[i] = std::move(st);
        ++answered;
        cv.notify_all();
      };
      if (step.rerunnable) {
        WriteAsyncRerunnable(store, fn, done);
      } else {
        store.WriteAsync(fn, done);
      }
    }
    gate.ReleaseWhenQueued(steps.size());
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return answered == steps.size(); });
  for (auto& r : runs) out.runs.push_back(r.load());
  out.replays = SqliteWriterStats(store).replays - replays_before;
  return out;
}

void ExpectStored(Store& store, const std::map<std::string, bool>& expected) {
  for (const auto& [key, present] : expected) {
    auto got = store.Get(key);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->has_value(), present) << key;
  }
}

class RerunnableWriteTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SqliteOptions options;
    if (GetParam()) options.data_dir = dir_.path();
    store_ = MustOpen(options);
    ASSERT_NE(store_, nullptr);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// A rerunnable function failing after it wrote: the transaction is rolled back, the rerunnable
// functions applied before it run again (twice in all), and the rest of the batch runs isolated
// as usual (a later failure rolls back its own savepoint only: no second replay).
TEST_P(RerunnableWriteTest, AFailureAfterWritingIsUndoneByAReplay) {
  BatchOutcome out = RunBatch(*store_, {{"a"},
                                        {"b", true, true},
                                        {"c"},
                                        {"d", false, false},
                                        {"e", true, true},
                                        {"f"}});
  std::vector<bool> ok;
  for (const Status& st : out.results) ok.push_back(st.ok());
  EXPECT_EQ(ok, (std::vector<bool>{true, false, true, true, false, true}));
  EXPECT_EQ(out.results[1].error().code, "ConditionalCheckFailedException");
  EXPECT_EQ(out.results[4].error().code, "ConditionalCheckFailedException");
  EXPECT_EQ(out.runs, (std::vector<int>{2, 1, 1, 1, 1, 1}));
  EXPECT_EQ(out.replays, 1);
  ExpectStored(*store_, {{"a", true}, {"b", false}, {"c", true}, {"d", true}, {"e", false},
                         {"f", true}});
}

// A rerunnable function failing before any write needs nothing undone: no replay.
TEST_P(RerunnableWriteTest, AFailureBeforeWritingNeedsNoReplay) {
  BatchOutcome out = RunBatch(*store_, {{"a"}, {"", true, true}, {"c"}});
  EXPECT_TRUE(out.results[0].ok());
  EXPECT_FALSE(out.results[1].ok());
  EXPECT_TRUE(out.results[2].ok());
  EXPECT_EQ(out.runs, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(out.replays, 0);
  ExpectStored(*store_, {{"a", true}, {"c", true}});
}

// After a function that is not rerunnable, rerunnable ones are isolated by savepoints: a failure
// rolls back its own writes only, and the earlier function is never run twice.
TEST_P(RerunnableWriteTest, NothingIsRerunPastAFunctionThatIsNotRerunnable) {
  BatchOutcome out = RunBatch(*store_, {{"d", false, false}, {"a"}, {"b", true, true}, {"c"}});
  EXPECT_TRUE(out.results[0].ok());
  EXPECT_TRUE(out.results[1].ok());
  EXPECT_FALSE(out.results[2].ok());
  EXPECT_TRUE(out.results[3].ok());
  EXPECT_EQ(out.runs, (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(out.replays, 0);
  ExpectStored(*store_, {{"d", true}, {"a", true}, {"b", false}, {"c", true}});
}

// What a replayed function registers for its commit (totals, notifications) counts once.
TEST_P(RerunnableWriteTest, AReplayedFunctionsTotalsAndTopicsCountOnce) {
  int key = 0;
  std::atomic<int> applies{0};
  std::atomic<int64_t> applied_sum{0};
  auto apply = [&](WriteTxn& txn, const std::vector<WriteTxn::CommitTotal>& totals) -> Status {
    ++applies;
    for (const auto& t : totals) applied_sum += t.sum;
    return txn.Put("totals", std::to_string(applied_sum.load()));
  };
  std::atomic<int> notified{0};
  auto watch = store_->Subscribe("t", [&] { ++notified; });
  std::atomic<int> runs_a{0};
  std::promise<Status> a_done;
  std::promise<Status> b_done;
  {
    WriterGate gate(*store_);
    WriteAsyncRerunnable(
        *store_,
        [&](WriteTxn& txn) -> Status {
          ++runs_a;
          txn.Notify("t");
          STRATUS_RETURN_IF_ERROR(txn.AddBeforeCommit(&key, 1, 5, 0, apply));
          return txn.Put("a", "v");
        },
        [&](Status st) { a_done.set_value(std::move(st)); });
    WriteAsyncRerunnable(
        *store_,
        [&](WriteTxn& txn) -> Status {
          STRATUS_RETURN_IF_ERROR(txn.AddBeforeCommit(&key, 1, 100, 0, apply));
          STRATUS_RETURN_IF_ERROR(txn.Put("b", "v"));
          return Error("ConditionalCheckFailedException", "b fails");
        },
        [&](Status st) { b_done.set_value(std::move(st)); });
    gate.ReleaseWhenQueued(2);
  }
  STRATUS_EXPECT_OK(a_done.get_future().get());
  EXPECT_FALSE(b_done.get_future().get().ok());
  EXPECT_EQ(runs_a.load(), 2);
  EXPECT_EQ(applies.load(), 1);
  EXPECT_EQ(applied_sum.load(), 5);
  EXPECT_EQ(store_->Get("totals")->value_or(""), "5");
  EXPECT_FALSE(store_->Get("b")->has_value());
  store_->Close();  // delivers pending notifications
  EXPECT_EQ(notified.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(DiskAndMemory, RerunnableWriteTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Disk") : std::string("Memory");
                         });

}  // namespace
}  // namespace stratus::store
