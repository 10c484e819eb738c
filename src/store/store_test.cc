// Key/value semantics of store::Store, run against both the on-disk and the in-memory backend.
#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "store/store_test_util.h"

namespace stratus::store {
namespace {

using testing::MustOpen;
using testing::TempDir;

enum class Mode { kDisk, kMemory };

class StoreTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    SqliteOptions options;
    if (GetParam() == Mode::kDisk) {
      options.data_dir = dir_.path();
    }
    store_ = MustOpen(options);
    ASSERT_NE(store_, nullptr);
  }

  std::vector<std::string> Keys(const ScanOptions& options) {
    auto scanned = store_->Scan(options);
    EXPECT_TRUE(scanned.ok());
    std::vector<std::string> keys;
    if (scanned.ok()) {
      for (const KeyValue& kv : *scanned) {
        keys.push_back(kv.key);
      }
    }
    return keys;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(Mode::kDisk, Mode::kMemory),
                         [](const auto& info) {
                           return info.param == Mode::kDisk ? "Disk" : "Memory";
                         });

TEST_P(StoreTest, PutGetDelete) {
  auto missing = store_->Get("a");
  STRATUS_ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());

  STRATUS_ASSERT_OK(store_->Put("a", "1"));
  auto got = store_->Get("a");
  STRATUS_ASSERT_OK(got);
  EXPECT_EQ(got->value_or("?"), "1");

  STRATUS_ASSERT_OK(store_->Put("a", "2"));  // overwrite
  EXPECT_EQ(store_->Get("a")->value_or("?"), "2");

  STRATUS_ASSERT_OK(store_->Put("a", ""));  // an empty value is a value, not a deletion
  auto empty = store_->Get("a");
  STRATUS_ASSERT_OK(empty);
  ASSERT_TRUE(empty->has_value());
  EXPECT_EQ(**empty, "");

  STRATUS_ASSERT_OK(store_->Delete("a"));
  EXPECT_FALSE(store_->Get("a")->has_value());
  STRATUS_ASSERT_OK(store_->Delete("a"));  // deleting a missing key is fine
}

TEST_P(StoreTest, ScanRangesPrefixesReverseAndLimit) {
  for (const char* key : {"a", "b/1", "b/2", "b/3", "ba", "c"}) {
    STRATUS_ASSERT_OK(store_->Put(key, std::string("v-") + key));
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(Keys(ScanOptions{}), (V{"a", "b/1", "b/2", "b/3", "ba", "c"}));
  EXPECT_EQ(Keys(PrefixScan("b/")), (V{"b/1", "b/2", "b/3"}));
  EXPECT_EQ(Keys(PrefixScan("b/", 2)), (V{"b/1", "b/2"}));
  EXPECT_EQ(Keys(PrefixScan("b/", 0, true)), (V{"b/3", "b/2", "b/1"}));
  EXPECT_EQ(Keys(PrefixScan("b/", 1, true)), (V{"b/3"}));
  EXPECT_EQ(Keys(PrefixScan("b")), (V{"b/1", "b/2", "b/3", "ba"}));
  EXPECT_EQ(Keys(PrefixScan("zz")), V{});
  EXPECT_EQ(Keys(ScanOptions{"b/2", "c", 0, false}), (V{"b/2", "b/3", "ba"}));  // [start, end)
  EXPECT_EQ(Keys(ScanOptions{"b/2", "", 0, false}), (V{"b/2", "b/3", "ba", "c"}));
  EXPECT_EQ(Keys(ScanOptions{"b/2", "", 0, true}), (V{"c", "ba", "b/3", "b/2"}));
  EXPECT_EQ(Keys(ScanOptions{"", "b/2", 0, true}), (V{"b/1", "a"}));
  EXPECT_EQ(Keys(ScanOptions{"c", "b", 0, false}), V{});  // end before start: empty
  EXPECT_EQ(Keys(ScanOptions{"b", "b", 0, false}), V{});

  auto scanned = store_->Scan(PrefixScan("b/"));
  STRATUS_ASSERT_OK(scanned);
  ASSERT_EQ(scanned->size(), 3u);
  EXPECT_EQ((*scanned)[1].value, "v-b/2");
}

TEST_P(StoreTest, BinaryKeysOrderAsUnsignedBytes) {
  const std::string k00("a\x00", 2);
  const std::string k00b("a\x00z", 3);
  const std::string k7f("a\x7f");
  const std::string k80("a\x80");
  const std::string kff("a\xff");
  const std::string kffff("a\xff\xff");
  const std::string b("b");
  for (const std::string& key : {b, kffff, k80, k00b, kff, k00, k7f, std::string("a")}) {
    STRATUS_ASSERT_OK(store_->Put(key, key + "!"));
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(Keys(PrefixScan("a")), (V{"a", k00, k00b, k7f, k80, kff, kffff}));
  EXPECT_EQ(Keys(PrefixScan(k00)), (V{k00, k00b}));
  EXPECT_EQ(Keys(PrefixScan(kff)), (V{kff, kffff}));
  EXPECT_EQ(Keys(PrefixScan(kff, 0, true)), (V{kffff, kff}));
  EXPECT_EQ(store_->Get(k00)->value_or(""), k00 + "!");
  EXPECT_FALSE(store_->Get(std::string("a\x00\x00", 3))->has_value());
  // Keys and values round-trip byte for byte, NULs included.
  auto all = store_->Scan(PrefixScan(k00b));
  STRATUS_ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].key, k00b);
  EXPECT_EQ((*all)[0].value, k00b + "!");
}

TEST(PrefixEndTest, Bounds) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("a\xfe", 2)), std::string("a\xff", 2));
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixEnd(""), "");
  EXPECT_EQ(PrefixEnd(std::string("a\x00", 2)), std::string("a\x01", 2));
  ScanOptions all = PrefixScan("");
  EXPECT_EQ(all.start, "");
  EXPECT_EQ(all.end, "");
}

TEST_P(StoreTest, AllFF_PrefixScansToTheEnd) {
  const std::string ff("\xff", 1);
  const std::string ffx("\xff\x01", 2);
  STRATUS_ASSERT_OK(store_->Put("a", "1"));
  STRATUS_ASSERT_OK(store_->Put(ff, "2"));
  STRATUS_ASSERT_OK(store_->Put(ffx, "3"));
  EXPECT_EQ(Keys(PrefixScan(ff)), (std::vector<std::string>{ff, ffx}));
}

TEST_P(StoreTest, TransactionReadsItsOwnWrites) {
  STRATUS_ASSERT_OK(store_->Put("k/1", "old"));
  STRATUS_ASSERT_OK(store_->Write([](WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Put("k/1", "new"));
    STRATUS_RETURN_IF_ERROR(txn.Put("k/2", "two"));
    auto got = txn.Get("k/1");
    EXPECT_TRUE(got.ok());
    EXPECT_EQ(got->value_or(""), "new");
    auto scanned = txn.Scan(PrefixScan("k/"));
    EXPECT_TRUE(scanned.ok());
    EXPECT_EQ(scanned->size(), 2u);
    STRATUS_RETURN_IF_ERROR(txn.Delete("k/2"));
    EXPECT_FALSE(txn.Get("k/2")->has_value());
    return Status::Ok();
  }));
  EXPECT_EQ(store_->Get("k/1")->value_or(""), "new");
  EXPECT_FALSE(store_->Get("k/2")->has_value());
}

TEST_P(StoreTest, FailedWriteRollsBackAndReturnsItsError) {
  STRATUS_ASSERT_OK(store_->Put("keep", "1"));
  Status status = store_->Write([](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.Put("keep", "2").ok());
    EXPECT_TRUE(txn.Put("new", "x").ok());
    EXPECT_TRUE(txn.Enqueue("q", "item").ok());
    return Error("ConditionalCheckFailedException", "nope");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "ConditionalCheckFailedException");  // unchanged
  EXPECT_EQ(status.error().message, "nope");
  EXPECT_EQ(store_->Get("keep")->value_or(""), "1");
  EXPECT_FALSE(store_->Get("new")->has_value());
  EXPECT_EQ(*store_->QueueLength("q"), 0);
  EXPECT_EQ(store_->Stats().failed_writes, 1);
}

TEST_P(StoreTest, ExceptionInWriteFunctionBecomesInternalFailure) {
  Status status = store_->Write([](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.Put("thrown", "x").ok());
    throw std::runtime_error("parse error at byte 3");
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "InternalFailure");
  EXPECT_NE(status.error().message.find("parse error at byte 3"), std::string::npos);
  EXPECT_FALSE(store_->Get("thrown")->has_value());
  // The store keeps working.
  STRATUS_EXPECT_OK(store_->Put("after", "1"));

  Status read = store_->Read([](ReadTxn&) -> Status { throw 42; });
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "InternalFailure");
  STRATUS_EXPECT_OK(store_->Get("after"));
}

TEST_P(StoreTest, DeleteRange) {
  for (const char* key : {"a", "b/1", "b/2", "b/3", "c"}) {
    STRATUS_ASSERT_OK(store_->Put(key, "v"));
  }
  int64_t deleted = -1;
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(deleted, txn.DeleteRange("b/", PrefixEnd("b/")));
    return Status::Ok();
  }));
  EXPECT_EQ(deleted, 3);
  EXPECT_EQ(Keys(ScanOptions{}), (std::vector<std::string>{"a", "c"}));
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(deleted, txn.DeleteRange("b", ""));
    return Status::Ok();
  }));
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(Keys(ScanOptions{}), (std::vector<std::string>{"a"}));
}

TEST_P(StoreTest, ReadSeesCommittedData) {
  STRATUS_ASSERT_OK(store_->Put("x", "1"));
  STRATUS_ASSERT_OK(store_->Read([](ReadTxn& txn) -> Status {
    auto got = txn.Get("x");
    EXPECT_TRUE(got.ok());
    EXPECT_EQ(got->value_or(""), "1");
    auto scanned = txn.Scan(ScanOptions{});
    EXPECT_EQ(scanned->size(), 1u);
    return Status::Ok();
  }));
  Status error = store_->Read([](ReadTxn&) -> Status { return Error("NoSuchKey", "gone"); });
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().code, "NoSuchKey");
}

TEST_P(StoreTest, WriteFromInsideAWriteFunctionFailsInsteadOfDeadlocking) {
  Status inner = Status::Ok();
  Status outer = store_->Write([&](WriteTxn& txn) -> Status {
    inner = store_->Put("inner", "1");
    auto got = store_->Get("inner");
    EXPECT_FALSE(got.ok());
    return txn.Put("outer", "1");
  });
  STRATUS_EXPECT_OK(outer);
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().code, "InternalFailure");
  EXPECT_FALSE(store_->Get("inner")->has_value());
}

// --- hostile input ---------------------------------------------------------------------------

TEST_P(StoreTest, EmptyKeyIsRefused) {
  Status put = store_->Put("", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, "InternalFailure");
  EXPECT_NE(put.error().message.find("empty key"), std::string::npos);
  EXPECT_FALSE(store_->Get("").ok());
  EXPECT_FALSE(store_->Delete("").ok());
  EXPECT_FALSE(store_
                   ->Write([](WriteTxn& txn) -> Status {
                     STRATUS_RETURN_IF_ERROR(txn.Enqueue("", "p"));
                     return Status::Ok();
                   })
                   .ok());
  EXPECT_FALSE(store_->QueueLength("").ok());
  // An empty start or end is a bound, not a key: allowed.
  STRATUS_EXPECT_OK(store_->Scan(ScanOptions{}));
}

TEST_P(StoreTest, KeyLengthLimit) {
  std::string longest(kMaxKeyBytes, 'k');
  longest[0] = 'L';
  STRATUS_ASSERT_OK(store_->Put(longest, "v"));
  EXPECT_EQ(store_->Get(longest)->value_or(""), "v");
  auto scanned = store_->Scan(PrefixScan("L"));
  STRATUS_ASSERT_OK(scanned);
  ASSERT_EQ(scanned->size(), 1u);
  EXPECT_EQ((*scanned)[0].key, longest);

  std::string too_long(kMaxKeyBytes + 1, 'k');
  Status put = store_->Put(too_long, "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, "InternalFailure");
  EXPECT_NE(put.error().message.find("exceeds the limit"), std::string::npos);
  EXPECT_FALSE(store_->Get(too_long).ok());
  std::string megabyte_key(1 << 20, 'm');
  EXPECT_FALSE(store_->Put(megabyte_key, "v").ok());
  // A refused Put inside a transaction does not poison the rest of it.
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    EXPECT_FALSE(txn.Put(too_long, "v").ok());
    return txn.Put("ok", "v");
  }));
  EXPECT_TRUE(store_->Get("ok")->has_value());
}

TEST_P(StoreTest, HugeValues) {
  std::string big(50u << 20, '\0');
  for (size_t i = 0; i < big.size(); i += 4096) {
    big[i] = static_cast<char>(i / 4096);
  }
  STRATUS_ASSERT_OK(store_->Put("big", big));
  auto got = store_->Get("big");
  STRATUS_ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->size(), big.size());
  EXPECT_TRUE(**got == big);

  std::string too_big(kMaxValueBytes + 1, 'x');
  Status refused = store_->Put("too-big", too_big);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "InternalFailure");
  EXPECT_NE(refused.error().message.find("exceeds the limit"), std::string::npos);
  EXPECT_FALSE(store_
                   ->Write([&](WriteTxn& txn) -> Status {
                     STRATUS_RETURN_IF_ERROR(txn.Enqueue("q", too_big));
                     return Status::Ok();
                   })
                   .ok());
  EXPECT_FALSE(store_->Get("too-big")->has_value());
  STRATUS_EXPECT_OK(store_->Delete("big"));
}

// --- notifications ---------------------------------------------------------------------------

// Counts calls and lets a test wait for them.
class Counter {
 public:
  void Bump() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

TEST_P(StoreTest, NotificationsAfterCommitOnly) {
  Counter calls;
  std::atomic<bool> saw_committed{true};
  auto watch = store_->Subscribe("topic/a", [&] {
    // Runs after the commit: the data is already visible to readers.
    auto got = store_->Get("notified");
    if (!got.ok() || !got->has_value()) {
      saw_committed = false;
    }
    calls.Bump();
  });
  Counter other;
  auto other_watch = store_->Subscribe("topic/b", [&] { other.Bump(); });

  // A rolled-back write notifies nobody.
  EXPECT_FALSE(store_
                   ->Write([](WriteTxn& txn) -> Status {
                     txn.Notify("topic/a");
                     return Error("Boom", "rolled back");
                   })
                   .ok());
  STRATUS_ASSERT_OK(store_->Write([](WriteTxn& txn) -> Status {
    txn.Notify("topic/a");
    txn.Notify("topic/a");  // once per commit
    return txn.Put("notified", "yes");
  }));
  ASSERT_TRUE(calls.WaitFor(1));
  // A later commit on another topic is delivered after the first; then nothing more came for a.
  STRATUS_ASSERT_OK(store_->Write([](WriteTxn& txn) -> Status {
    txn.Notify("topic/b");
    return Status::Ok();
  }));
  ASSERT_TRUE(other.WaitFor(1));
  EXPECT_EQ(calls.count(), 1);
  EXPECT_TRUE(saw_committed);

  // After the handle is gone, no more calls.
  watch.reset();
  STRATUS_ASSERT_OK(store_->Write([](WriteTxn& txn) -> Status {
    txn.Notify("topic/a");
    txn.Notify("topic/b");
    return Status::Ok();
  }));
  ASSERT_TRUE(other.WaitFor(2));
  EXPECT_EQ(calls.count(), 1);
}

TEST_P(StoreTest, WatchDestroyedInsideItsCallback) {
  Counter calls;
  std::unique_ptr<Store::Watch> watch;
  watch = store_->Subscribe("t", [&] {
    watch.reset();  // must not deadlock
    calls.Bump();
  });
  STRATUS_ASSERT_OK(store_->Write([](WriteTxn& txn) -> Status {
    txn.Notify("t");
    return Status::Ok();
  }));
  ASSERT_TRUE(calls.WaitFor(1));
}

TEST_P(StoreTest, WatchOutlivesStore) {
  auto watch = store_->Subscribe("t", [] {});
  store_.reset();
  watch.reset();  // no crash, no use-after-free (the sanitizer build checks)
}

// --- Close ------------------------------------------------------------------------------------

TEST_P(StoreTest, CloseThenEveryCallFails) {
  STRATUS_ASSERT_OK(store_->Put("a", "1"));
  store_->Close();
  store_->Close();  // idempotent
  Status put = store_->Put("b", "2");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, "ServiceUnavailable");
  EXPECT_FALSE(store_->Get("a").ok());
  EXPECT_FALSE(store_->Scan(ScanOptions{}).ok());
  EXPECT_FALSE(store_->Read([](ReadTxn&) { return Status::Ok(); }).ok());
  EXPECT_FALSE(store_->Lease("q", 1, 0, 1000).ok());
  EXPECT_FALSE(store_->Ack(1, "t").ok());
  EXPECT_FALSE(store_->QueueLength("q").ok());
  auto watch = store_->Subscribe("t", [] {});  // a handle that never fires
  EXPECT_NE(watch, nullptr);
}

TEST_P(StoreTest, CloseDrainsQueuedWrites) {
  // Writers race Close(): each write either succeeded (and is then durable: checked after reopen
  // in the disk test below) or failed with ServiceUnavailable; none hangs.
  constexpr int kThreads = 8;
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Status st = store_->Put("w/" + std::to_string(t) + "/" + std::to_string(i), "v");
        if (st.ok()) {
          ++ok;
        } else if (st.error().code == "ServiceUnavailable") {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  store_->Close();
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(other, 0);
  EXPECT_EQ(ok + refused, kThreads * 200);
  EXPECT_EQ(store_->Stats().commits, ok.load());
}

}  // namespace
}  // namespace stratus::store
