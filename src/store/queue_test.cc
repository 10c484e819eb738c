// Durable queues with leases, against both backends. Time is passed explicitly (now_ms) or comes
// from a ManualClock, so nothing here sleeps.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/clock.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace stratus::store {
namespace {

using testing::MustOpen;
using testing::TempDir;

constexpr int64_t kNow = 1700000000000;  // the ManualClock's default start
constexpr int64_t kLeaseMs = 30000;

class QueueTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SqliteOptions options;
    if (GetParam()) {
      options.data_dir = dir_.path();
    }
    options.clock = &clock_;
    store_ = MustOpen(options);
    ASSERT_NE(store_, nullptr);
  }

  int64_t Enqueue(std::string_view queue, std::string_view payload, int64_t visible_at_ms = 0) {
    int64_t id = 0;
    Status st = store_->Write([&](WriteTxn& txn) -> Status {
      STRATUS_ASSIGN_OR_RETURN(id, txn.Enqueue(queue, payload, visible_at_ms));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok());
    return id;
  }

  std::vector<QueueItem> Lease(std::string_view queue, size_t max, int64_t now_ms,
                               int64_t lease_ms = kLeaseMs) {
    auto leased = store_->Lease(queue, max, now_ms, lease_ms);
    EXPECT_TRUE(leased.ok()) << (leased.ok() ? "" : leased.error().message);
    return leased.ok() ? *leased : std::vector<QueueItem>{};
  }

  ManualClock clock_;
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, QueueTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Disk" : "Memory"; });

TEST_P(QueueTest, EnqueueLeaseAck) {
  int64_t a = Enqueue("jobs", "a");
  int64_t b = Enqueue("jobs", "b");
  Enqueue("other", "x");
  EXPECT_LT(a, b);  // ids increase in enqueue order
  EXPECT_EQ(*store_->QueueLength("jobs"), 2);
  EXPECT_EQ(*store_->QueueLength("nobody"), 0);

  auto leased = Lease("jobs", 10, kNow);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[0].id, a);
  EXPECT_EQ(leased[0].payload, "a");
  EXPECT_EQ(leased[0].queue, "jobs");
  EXPECT_EQ(leased[0].attempts, 1);
  EXPECT_EQ(leased[0].enqueued_at_ms, kNow);  // from the store's clock
  EXPECT_EQ(leased[0].visible_at_ms, kNow + kLeaseMs);
  EXPECT_FALSE(leased[0].lease_token.empty());
  EXPECT_NE(leased[0].lease_token, leased[1].lease_token);
  EXPECT_EQ(leased[1].payload, "b");

  // Leased items are invisible until the lease expires.
  EXPECT_TRUE(Lease("jobs", 10, kNow + 1).empty());
  EXPECT_TRUE(Lease("jobs", 10, kNow + kLeaseMs - 1).empty());

  EXPECT_TRUE(*store_->Ack(leased[0].id, leased[0].lease_token));
  EXPECT_FALSE(*store_->Ack(leased[0].id, leased[0].lease_token));  // already gone
  EXPECT_EQ(*store_->QueueLength("jobs"), 1);
  EXPECT_EQ(*store_->QueueLength("other"), 1);
}

TEST_P(QueueTest, LeaseRespectsMaxAndOrder) {
  for (int i = 0; i < 5; ++i) {
    Enqueue("q", "p" + std::to_string(i));
  }
  Enqueue("q", "early", kNow - 5000);  // visible earliest: comes first
  auto first = Lease("q", 2, kNow);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].payload, "early");
  EXPECT_EQ(first[1].payload, "p0");
  auto rest = Lease("q", 100, kNow);
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest[3].payload, "p4");
  EXPECT_TRUE(Lease("q", 0, kNow).empty());
}

TEST_P(QueueTest, DelayedItemsBecomeVisibleLater) {
  Enqueue("q", "later", kNow + 1000);
  EXPECT_TRUE(Lease("q", 1, kNow).empty());
  EXPECT_EQ(*store_->NextVisibleAt("q"), std::optional<int64_t>(kNow + 1000));
  EXPECT_EQ(Lease("q", 1, kNow + 1000).size(), 1u);
}

TEST_P(QueueTest, ExpiredLeaseIsReleasableByAnotherAndOldTokenIsStale) {
  Enqueue("q", "work");
  auto first = Lease("q", 1, kNow, 1000);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].attempts, 1);

  // The lease expires; another worker takes the item.
  auto second = Lease("q", 1, kNow + 1000, 1000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, first[0].id);
  EXPECT_EQ(second[0].attempts, 2);  // attempts count every lease
  EXPECT_NE(second[0].lease_token, first[0].lease_token);

  // The first worker's token is stale: its ack and release fail, the item stays.
  EXPECT_FALSE(*store_->Ack(first[0].id, first[0].lease_token));
  EXPECT_FALSE(*store_->Release(first[0].id, first[0].lease_token, kNow));
  EXPECT_FALSE(*store_->Ack(first[0].id, ""));
  EXPECT_EQ(*store_->QueueLength("q"), 1);
  EXPECT_TRUE(*store_->Ack(second[0].id, second[0].lease_token));
  EXPECT_EQ(*store_->QueueLength("q"), 0);
}

TEST_P(QueueTest, ReleaseWithBackoffAndNewPayload) {
  Enqueue("q", "v1");
  auto leased = Lease("q", 1, kNow);
  ASSERT_EQ(leased.size(), 1u);
  const QueueItem& item = leased[0];
  EXPECT_TRUE(*store_->Release(item.id, item.lease_token, kNow + 5000, std::string("v2")));
  EXPECT_EQ(*store_->NextVisibleAt("q"), std::optional<int64_t>(kNow + 5000));
  EXPECT_TRUE(Lease("q", 1, kNow + 4999).empty());
  auto again = Lease("q", 1, kNow + 5000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].payload, "v2");
  EXPECT_EQ(again[0].attempts, 2);

  // Release without a payload keeps it; released now = visible now.
  EXPECT_TRUE(*store_->Release(again[0].id, again[0].lease_token, kNow + 5000));
  auto third = Lease("q", 1, kNow + 5000);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].payload, "v2");
}

TEST_P(QueueTest, ReleaseExtendsALeaseAndTheHolderCanStillAck) {
  Enqueue("q", "long job");
  auto leased = Lease("q", 1, kNow, 1000);
  ASSERT_EQ(leased.size(), 1u);
  // Extend: visible again only at +60s (ChangeMessageVisibility).
  EXPECT_TRUE(*store_->Release(leased[0].id, leased[0].lease_token, kNow + 60000));
  EXPECT_TRUE(Lease("q", 1, kNow + 1000).empty());
  EXPECT_TRUE(*store_->Ack(leased[0].id, leased[0].lease_token));
}

TEST_P(QueueTest, NextVisibleAtCoversLeasedItems) {
  EXPECT_EQ(*store_->NextVisibleAt("q"), std::nullopt);
  Enqueue("q", "a", kNow + 9000);
  Enqueue("q", "b", kNow + 100);
  EXPECT_EQ(*store_->NextVisibleAt("q"), std::optional<int64_t>(kNow + 100));
  auto leased = Lease("q", 1, kNow + 100, 2000);
  ASSERT_EQ(leased.size(), 1u);
  // The leased item reappears at +2100, still before the delayed one.
  EXPECT_EQ(*store_->NextVisibleAt("q"), std::optional<int64_t>(kNow + 2100));
  EXPECT_TRUE(*store_->Ack(leased[0].id, leased[0].lease_token));
  EXPECT_EQ(*store_->NextVisibleAt("q"), std::optional<int64_t>(kNow + 9000));
}

TEST_P(QueueTest, RemoveQueueItem) {
  int64_t id = Enqueue("timers", "t");
  bool removed = false;
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(removed, txn.RemoveQueueItem(id));
    return Status::Ok();
  }));
  EXPECT_TRUE(removed);
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(removed, txn.RemoveQueueItem(id));
    return Status::Ok();
  }));
  EXPECT_FALSE(removed);
  EXPECT_EQ(*store_->QueueLength("timers"), 0);
}

TEST_P(QueueTest, IdsAreNeverReused) {
  int64_t first = Enqueue("q", "a");
  auto leased = Lease("q", 1, kNow);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_TRUE(*store_->Ack(leased[0].id, leased[0].lease_token));
  int64_t second = Enqueue("q", "b");
  EXPECT_GT(second, first);
}

TEST_P(QueueTest, ConcurrentWorkersLeaseEachItemOnce) {
  constexpr int kItems = 300;
  constexpr int kWorkers = 6;
  for (int i = 0; i < kItems; ++i) {
    Enqueue("q", std::to_string(i));
  }
  std::mutex mu;
  std::multiset<std::string> seen;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      for (;;) {
        auto leased = store_->Lease("q", 7, kNow, 600000);
        ASSERT_TRUE(leased.ok());
        if (leased->empty()) {
          return;
        }
        for (const QueueItem& item : *leased) {
          ASSERT_TRUE(*store_->Ack(item.id, item.lease_token));
          std::lock_guard lock(mu);
          seen.insert(item.payload);
        }
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kItems));
  for (const std::string& payload : seen) {
    EXPECT_EQ(seen.count(payload), 1u) << payload;
  }
  EXPECT_EQ(*store_->QueueLength("q"), 0);
}

TEST_P(QueueTest, EnqueueIsPartOfTheTransaction) {
  Status st = store_->Write([](WriteTxn& txn) -> Status {
    EXPECT_TRUE(txn.Enqueue("q", "never").ok());
    return Error("Nope", "roll back");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(*store_->QueueLength("q"), 0);
  EXPECT_EQ(*store_->NextVisibleAt("q"), std::nullopt);
}

}  // namespace
}  // namespace stratus::store
