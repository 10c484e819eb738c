#include "store/blob_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace stratus::store {
namespace {

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(OpenSqliteStore(SqliteOptions{})).value();
    blobs_ = std::move(BlobStore::Open(*store_, BlobOptions{.delete_grace_ms = 1000})).value();
  }
  bool Exists(const std::string& id) {
    return std::filesystem::exists(blobs_->Body(id, 0, 0).path);
  }
  std::unique_ptr<Store> store_;
  std::unique_ptr<BlobStore> blobs_;
};

TEST_F(BlobStoreTest, PutReadAndConcat) {
  auto a = blobs_->Put("hello ");
  auto b = blobs_->Put("world");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(BlobStore::ValidId(*a));
  EXPECT_EQ(*blobs_->Read(*a, 0, 6), "hello ");
  EXPECT_EQ(*blobs_->Size(*b), 5u);
  auto c = blobs_->Concat({{*a, 0, 6}, {*b, 1, 3}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*blobs_->Read(*c, 0, 9), "hello orl");
  FileBody body = blobs_->Body(*c, 6, 3);
  EXPECT_EQ(body.offset, 6u);
  EXPECT_EQ(body.length, 3u);
  EXPECT_TRUE(body.path.starts_with(blobs_->dir()));
  // A range past the end of the source fails and leaves nothing behind.
  EXPECT_FALSE(blobs_->Concat({{*a, 0, 600}}).ok());
  EXPECT_TRUE(std::filesystem::is_empty(blobs_->dir() + "/tmp"));
  EXPECT_FALSE(blobs_->Read("../../etc/passwd", 0, 1).ok());
}

TEST_F(BlobStoreTest, WriterPublishesPiecesAsOneBlob) {
  auto w = blobs_->NewWriter();
  ASSERT_TRUE(w.ok());
  std::string big(9 << 20, 'x');  // past one writeback step
  ASSERT_TRUE((*w)->Append("head:").ok());
  ASSERT_TRUE((*w)->Append(big).ok());
  ASSERT_TRUE((*w)->Append(":tail").ok());
  EXPECT_EQ((*w)->size(), big.size() + 10);
  auto id = (*w)->Finish();
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(BlobStore::ValidId(*id));
  EXPECT_EQ(*blobs_->Size(*id), big.size() + 10);
  EXPECT_EQ(*blobs_->Read(*id, 0, 5), "head:");
  EXPECT_EQ(*blobs_->Read(*id, big.size() + 5, 5), ":tail");
  EXPECT_FALSE((*w)->Finish().ok());
  w->reset();
  EXPECT_TRUE(Exists(*id));  // a finished writer's blob stays
}

TEST_F(BlobStoreTest, AnUnfinishedWriterLeavesNothing) {
  {
    auto w = blobs_->NewWriter();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("partial").ok());
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(blobs_->dir() + "/tmp"),
                            std::filesystem::directory_iterator()),
              1);
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(blobs_->dir() + "/tmp"),
                          std::filesystem::directory_iterator()),
            0);
}

TEST_F(BlobStoreTest, UnreferencedBlobsAreDeletedAfterTheirGrace) {
  auto id = blobs_->Put("payload");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(store_->Write([&](WriteTxn& t) { return blobs_->Reference(t, *id); }).ok());
  EXPECT_EQ(*blobs_->CollectOrphans(INT64_MAX), 0);  // referenced: kept
  const int64_t now = 1'700'000'000'000;
  ASSERT_TRUE(store_->Write([&](WriteTxn& t) { return blobs_->Unreference(t, *id, now); }).ok());
  EXPECT_EQ(*blobs_->RunDeletions(now + 10), 0);  // still in its grace period
  EXPECT_TRUE(Exists(*id));
  EXPECT_EQ(*blobs_->CollectOrphans(INT64_MAX), 0);  // dying, not orphaned
  EXPECT_EQ(*blobs_->RunDeletions(now + 1000), 1);
  EXPECT_FALSE(Exists(*id));
  EXPECT_FALSE(store_->Get("blob/ref/" + *id)->has_value());
  EXPECT_EQ(*store_->QueueLength("blob/delete"), 0);
}

TEST_F(BlobStoreTest, OrphansOfInterruptedWritesAreCollected) {
  auto orphan = blobs_->Put("never committed");
  auto kept = blobs_->Put("committed");
  ASSERT_TRUE(orphan.ok() && kept.ok());
  ASSERT_TRUE(store_->Write([&](WriteTxn& t) { return blobs_->Reference(t, *kept); }).ok());
  std::ofstream(blobs_->dir() + "/tmp/" + std::string(32, 'a')) << "half-written";
  // Files modified after the cut-off are left alone: their commit may be on its way.
  EXPECT_EQ(*blobs_->CollectOrphans(0), 0);
  EXPECT_TRUE(Exists(*orphan));
  EXPECT_EQ(*blobs_->CollectOrphans(INT64_MAX), 2);
  EXPECT_FALSE(Exists(*orphan));
  EXPECT_TRUE(Exists(*kept));
  EXPECT_TRUE(std::filesystem::is_empty(blobs_->dir() + "/tmp"));
}

TEST_F(BlobStoreTest, DiscardAndReferenceChecks) {
  auto id = blobs_->Put("x");
  ASSERT_TRUE(id.ok());
  blobs_->Discard(*id);
  EXPECT_FALSE(Exists(*id));
  EXPECT_FALSE(store_->Write([&](WriteTxn& t) { return blobs_->Reference(t, "nope"); }).ok());
}

TEST(BlobStoreDir, InMemoryDirectoryIsRemovedAndDataDirIsKept) {
  auto store = std::move(OpenSqliteStore(SqliteOptions{})).value();
  std::string dir;
  {
    auto blobs = std::move(BlobStore::Open(*store, BlobOptions{})).value();
    dir = blobs->dir();
    EXPECT_TRUE(std::filesystem::exists(dir));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  std::string data = std::filesystem::temp_directory_path() / ("blobtest-" + std::to_string(getpid()));
  {
    auto blobs = std::move(BlobStore::Open(*store, BlobOptions{.dir = data})).value();
    auto id = blobs->Put("durable");
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*blobs->Read(*id, 0, 7), "durable");
  }
  EXPECT_TRUE(std::filesystem::exists(data + "/tmp"));
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace stratus::store
