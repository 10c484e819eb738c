#include "store/segment_store.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "store/device_flush.h"
#include "store/store_test_util.h"

namespace stratus::store {
namespace {

using testing::TempDir;

class SegmentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(uint64_t segment_bytes = 1024) {
    segments_.reset();
    if (!store_) store_ = testing::MustOpen(SqliteOptions{.data_dir = dir_.path() + "/db"});
    SegmentOptions o;
    o.dir = dir_.path() + "/segments";
    o.segment_bytes = segment_bytes;
    o.unlink_grace_ms = 0;
    o.background = false;
    auto opened = SegmentStore::Open(*store_, o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    segments_ = std::move(opened).value();
  }
  // The crash: the process goes away with whatever the files hold.
  void Reopen(uint64_t segment_bytes = 1024) {
    segments_.reset();
    store_.reset();
    Open(segment_bytes);
  }
  // Appends and commits `data` under `id`, as a caller does.
  Extent Put(const std::string& id, const std::string& data) {
    auto e = segments_->Append(data);
    EXPECT_TRUE(e.ok());
    Status st = store_->Write([&](WriteTxn& txn) { return segments_->Reference(txn, id, *e); });
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    segments_->Settle(*e);
    return *e;
  }
  void Drop(const std::string& id) {
    ASSERT_TRUE(store_->Write([&](WriteTxn& txn) { return segments_->Unreference(txn, id); }).ok());
  }
  std::optional<Extent> Find(const std::string& id) {
    std::optional<Extent> out;
    EXPECT_TRUE(store_->Read([&](ReadTxn& txn) -> Status {
      STRATUS_ASSIGN_OR_RETURN(out, SegmentStore::Find(txn, id));
      return Status::Ok();
    }).ok());
    return out;
  }
  std::string ReadId(const std::string& id) {
    auto e = Find(id);
    if (!e) return "<missing>";
    auto bytes = segments_->Read(*e);
    return bytes.ok() ? *bytes : "<error " + bytes.error().message + ">";
  }
  std::string Counts(uint64_t segment) {
    auto v = store_->Get(fmt::format("seg/s/{:016x}", segment));
    return v.ok() && *v ? **v : "";
  }
  uint64_t FileSize(uint64_t segment) {
    std::error_code ec;
    auto n = std::filesystem::file_size(segments_->PathOf(segment), ec);
    return ec ? 0 : n;
  }
  bool FileExists(uint64_t segment) {
    return std::filesystem::exists(segments_->PathOf(segment));
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<SegmentStore> segments_;
};

TEST_F(SegmentStoreTest, AppendsWhileASyncIsHeldAreAnsweredByOneSync) {
  segments_->PauseFlusherForTest(true);
  constexpr int kAppends = 40;
  std::atomic<int> answered{0};
  std::vector<Extent> extents(kAppends);
  for (int i = 0; i < kAppends; ++i) {
    segments_->AppendAsync(fmt::format("value-{:02}", i), [&, i](Result<Extent> r) {
      ASSERT_TRUE(r.ok());
      extents[static_cast<size_t>(i)] = *r;
      answered.fetch_add(1);
    });
  }
  // Nothing is answered before its sync.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(answered.load(), 0);
  EXPECT_EQ(segments_->Stats().syncs, 0);
  segments_->PauseFlusherForTest(false);
  for (int i = 0; i < 500 && answered.load() < kAppends; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(answered.load(), kAppends);
  EXPECT_EQ(segments_->Stats().appends, kAppends);
  EXPECT_EQ(segments_->Stats().syncs, 1);
  // Back to back in one segment, each readable with its CRC.
  for (int i = 0; i < kAppends; ++i) {
    const Extent& e = extents[static_cast<size_t>(i)];
    EXPECT_EQ(e.segment, extents[0].segment);
    EXPECT_EQ(e.offset, static_cast<uint64_t>(i) * 8);
    EXPECT_EQ(*segments_->Read(e), fmt::format("value-{:02}", i));
    segments_->Settle(e);
  }
  EXPECT_EQ(*segments_->Read(extents[3], 6, 2), "03");
  EXPECT_FALSE(segments_->Read(extents[3], 6, 3).ok());
}

// AppendForCommit answers before any sync; the commits that name the extents fdatasync the
// segment once per batch on the store's writer, and a batch that names nothing new syncs nothing.
TEST_F(SegmentStoreTest, AppendForCommitIsSyncedOncePerBatchBeforeItsCommit) {
  constexpr int kAppends = 16;
  std::vector<Extent> extents;
  for (int i = 0; i < kAppends; ++i) {
    auto e = segments_->AppendForCommit(fmt::format("v{:02}", i));
    ASSERT_TRUE(e.ok()) << e.error().message;
    extents.push_back(*e);
  }
  EXPECT_EQ(segments_->Stats().syncs, 0);
  EXPECT_EQ(segments_->Stats().appends, kAppends);
  // One transaction naming all of them: one pre-commit sync.
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < kAppends; ++i) {
      STRATUS_RETURN_IF_ERROR(segments_->Reference(txn, fmt::format("id{}", i),
                                                   extents[static_cast<size_t>(i)]));
    }
    return Status::Ok();
  }));
  for (const Extent& e : extents) segments_->Settle(e);
  EXPECT_EQ(segments_->Stats().syncs, 1);
  EXPECT_EQ(segments_->Stats().commit_syncs, 1);
  // Concurrent PUT-like callers: at most one sync per commit batch, never more than appends.
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto e = segments_->AppendForCommit(fmt::format("t{}-{}", t, i));
        ASSERT_TRUE(e.ok());
        STRATUS_EXPECT_OK(store_->Write([&](WriteTxn& txn) {
          return segments_->Reference(txn, fmt::format("t{}/{}", t, i), *e);
        }));
        segments_->Settle(*e);
      }
    });
  }
  for (auto& th : threads) th.join();
  SegmentStats st = segments_->Stats();
  EXPECT_EQ(st.appends, kAppends + 80);
  EXPECT_GE(st.commit_syncs, 2);
  EXPECT_LE(st.commit_syncs, 81);
  EXPECT_LE(st.commit_syncs, store_->Stats().batches);
  EXPECT_EQ(ReadId("t3/7"), "t3-7");
  EXPECT_EQ(ReadId("id5"), "v05");
  // A commit that names no new bytes syncs nothing.
  int64_t before = segments_->Stats().syncs;
  auto e = segments_->AppendForCommit("late");
  ASSERT_TRUE(e.ok());
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) {
    return segments_->Reference(txn, "late", *e);
  }));
  segments_->Settle(*e);
  EXPECT_EQ(segments_->Stats().syncs, before + 1);
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) { return segments_->Unreference(txn, "late"); }));
  Drop("id0");
  EXPECT_EQ(segments_->Stats().syncs, before + 1);
  // Survives a restart like an Append.
  Reopen();
  EXPECT_EQ(ReadId("t0/0"), "t0-0");
  EXPECT_EQ(ReadId("late"), "<missing>");
}

// Written by AppendForCommit but never committed: restart truncates it.
TEST_F(SegmentStoreTest, AppendForCommitWithoutACommitIsTruncatedAtRestart) {
  Extent kept = Put("kept", "kept-bytes");
  auto e = segments_->AppendForCommit("never-committed");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(FileSize(kept.segment), kept.length + e->length);
  Reopen();
  EXPECT_EQ(FileSize(kept.segment), kept.length);
  EXPECT_EQ(ReadId("kept"), "kept-bytes");
}

TEST_F(SegmentStoreTest, ConcurrentAppendersGetDisjointExtents) {
  std::vector<std::thread> threads;
  std::vector<std::vector<Extent>> got(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto e = segments_->Append(std::string(100, static_cast<char>('a' + t)));
        ASSERT_TRUE(e.ok());
        got[static_cast<size_t>(t)].push_back(*e);
      }
    });
  }
  for (auto& th : threads) th.join();
  // 200 appends of 100 bytes into 1 KiB segments: at least 20 segments, never overlapping.
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (int t = 0; t < 4; ++t) {
    for (const Extent& e : got[static_cast<size_t>(t)]) {
      EXPECT_LE(e.offset + e.length, 1024u);
      EXPECT_TRUE(seen.emplace(e.segment, e.offset).second);
      EXPECT_EQ(*segments_->Read(e), std::string(100, static_cast<char>('a' + t)));
      segments_->Settle(e);
    }
  }
  EXPECT_GE(segments_->ActiveSegmentForTest(), 20u);
  EXPECT_LE(segments_->Stats().syncs, 200);
}

TEST_F(SegmentStoreTest, ReferencesCountLiveBytesPerSegment) {
  Extent a = Put("a", std::string(100, 'a'));
  Extent b = Put("b", std::string(50, 'b'));
  ASSERT_EQ(a.segment, b.segment);
  EXPECT_EQ(Counts(a.segment), "150 150");
  // An id names one extent: a second reference is a bug, refused.
  auto c = segments_->Append("c");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(store_->Write([&](WriteTxn& txn) { return segments_->Reference(txn, "a", *c); }).ok());
  segments_->Settle(*c);
  EXPECT_EQ(Counts(a.segment), "150 150");
  Drop("a");
  EXPECT_EQ(Counts(a.segment), "50 150");
  EXPECT_FALSE(Find("a").has_value());
  Drop("a");  // unknown ids release nothing
  Drop("never");
  EXPECT_EQ(Counts(a.segment), "50 150");
  EXPECT_EQ(ReadId("b"), std::string(50, 'b'));
  // A reference rolled back with its transaction counts nothing.
  auto d = segments_->Append("ddd");
  ASSERT_TRUE(d.ok());
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(segments_->Reference(txn, "d", *d));
    return Error("PreconditionFailed", "no", 412);
  });
  EXPECT_FALSE(st.ok());
  segments_->Settle(*d);
  EXPECT_FALSE(Find("d").has_value());
  EXPECT_EQ(Counts(a.segment), "50 150");
}

// Many references and releases committed together (the count row is written once per physical
// commit): the counts are the sum of the applied ones; a rolled-back one adds nothing.
TEST_F(SegmentStoreTest, CountsOfManyWritesInOneBatchAddUp) {
  Extent a = Put("a", std::string(100, 'a'));
  constexpr int kWrites = 32;
  constexpr int kFailing = 5;
  std::vector<Extent> extents;
  for (int i = 0; i < kWrites; ++i) {
    auto e = segments_->AppendForCommit(std::string(10 + i, 'x'));
    ASSERT_TRUE(e.ok());
    extents.push_back(*e);
  }
  std::atomic<int> done{0};
  std::vector<Status> results(kWrites + 1);
  for (int i = 0; i < kWrites; ++i) {
    store_->WriteAsync(
        [&, i](WriteTxn& txn) -> Status {
          STRATUS_RETURN_IF_ERROR(segments_->Reference(txn, fmt::format("w{}", i), extents[i]));
          if (i == kFailing) return Error("PreconditionFailed", "no", 412);
          return Status::Ok();
        },
        [&, i](Status st) {
          results[static_cast<size_t>(i)] = std::move(st);
          ++done;
        });
  }
  store_->WriteAsync([&](WriteTxn& txn) { return segments_->Unreference(txn, "a"); },
                     [&](Status st) {
                       results[kWrites] = std::move(st);
                       ++done;
                     });
  while (done.load() < kWrites + 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (const Extent& e : extents) segments_->Settle(e);
  uint64_t live = 0;
  uint64_t end = a.offset + a.length;
  for (int i = 0; i < kWrites; ++i) {
    if (i == kFailing) {
      EXPECT_FALSE(results[static_cast<size_t>(i)].ok());
      EXPECT_FALSE(Find(fmt::format("w{}", i)).has_value());
      continue;
    }
    EXPECT_TRUE(results[static_cast<size_t>(i)].ok());
    ASSERT_EQ(extents[static_cast<size_t>(i)].segment, a.segment);
    live += extents[static_cast<size_t>(i)].length;
    end = std::max(end, extents[static_cast<size_t>(i)].offset +
                            extents[static_cast<size_t>(i)].length);
  }
  EXPECT_TRUE(results[kWrites].ok());
  EXPECT_EQ(Counts(a.segment), fmt::format("{} {}", live, end));
  EXPECT_EQ(ReadId("w7"), std::string(17, 'x'));
}

TEST_F(SegmentStoreTest, RestartTruncatesTheUncommittedTailAndRemovesOrphanSegments) {
  Extent a = Put("a", "committed-a");
  Extent b = Put("b", "committed-b");
  // Synced but never referenced (the crash came before the commit), then a torn write.
  auto lost = segments_->Append("acknowledged-to-nobody");
  ASSERT_TRUE(lost.ok());
  {
    std::ofstream torn(segments_->PathOf(a.segment), std::ios::app | std::ios::binary);
    torn << "half-a-record";
  }
  // A segment nothing committed ever named.
  {
    std::ofstream orphan(segments_->PathOf(a.segment + 7), std::ios::binary);
    orphan << "orphan bytes";
  }
  uint64_t committed_end = b.offset + b.length;
  ASSERT_GT(FileSize(a.segment), committed_end);
  Reopen();
  EXPECT_EQ(FileSize(a.segment), committed_end);
  EXPECT_FALSE(FileExists(a.segment + 7));
  EXPECT_EQ(ReadId("a"), "committed-a");
  EXPECT_EQ(ReadId("b"), "committed-b");
  // New appends go to a fresh segment numbered past every file seen, never over old bytes.
  Extent c = Put("c", "after-restart");
  EXPECT_GT(c.segment, a.segment + 7);
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(ReadId("c"), "after-restart");
}

TEST_F(SegmentStoreTest, RestartDropsEmptiedSegments) {
  Extent a = Put("a", "aaaa");
  Drop("a");
  EXPECT_EQ(Counts(a.segment), "0 4");
  Reopen();
  EXPECT_FALSE(FileExists(a.segment));
  EXPECT_EQ(Counts(a.segment), "");
}

TEST_F(SegmentStoreTest, ReadDetectsCorruptBytes) {
  Extent a = Put("a", "precious bytes");
  int fd = ::open(segments_->PathOf(a.segment).c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "X", 1, static_cast<off_t>(a.offset + 3)), 1);
  ::close(fd);
  auto r = segments_->Read(a);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("checksum"), std::string::npos);
}

TEST_F(SegmentStoreTest, CompactionMovesLiveExtentsAndRetiresTheOldSegment) {
  // Segment 1: four 200-byte values; three are deleted, so 200 of 800 bytes are live.
  std::vector<Extent> first;
  for (int i = 0; i < 4; ++i) first.push_back(Put(fmt::format("k{}", i), std::string(200, '0' + i)));
  const uint64_t old_segment = first[0].segment;
  for (const Extent& e : first) ASSERT_EQ(e.segment, old_segment);
  Drop("k0");
  Drop("k1");
  Drop("k3");
  // Segment 2: a mostly live one (not compacted), which seals segment 1.
  Extent big = Put("big", std::string(900, 'b'));
  ASSERT_NE(big.segment, old_segment);
  // An appended extent whose commit is still on its way pins its segment.
  Extent pinned = *segments_->Append(std::string(300, 'p'));
  ASSERT_NE(pinned.segment, big.segment);
  Extent later = Put("later", std::string(1000, 'x'));  // seals the pinned segment
  ASSERT_NE(later.segment, pinned.segment);
  ASSERT_TRUE(store_->Write([&](WriteTxn& txn) { return segments_->Reference(txn, "p", pinned); }).ok());
  Drop("p");  // 0 live bytes, but still pinned
  auto retired = segments_->CompactNow();
  ASSERT_TRUE(retired.ok()) << retired.error().message;
  EXPECT_EQ(*retired, 1);
  EXPECT_FALSE(FileExists(old_segment));
  EXPECT_EQ(Counts(old_segment), "");
  EXPECT_TRUE(FileExists(pinned.segment));
  EXPECT_TRUE(FileExists(big.segment));
  // The live value moved and reads the same; its old place is gone.
  auto moved = Find("k2");
  ASSERT_TRUE(moved.has_value());
  EXPECT_NE(moved->segment, old_segment);
  EXPECT_EQ(ReadId("k2"), std::string(200, '2'));
  EXPECT_EQ(ReadId("big"), std::string(900, 'b'));
  EXPECT_EQ(segments_->Stats().compacted_segments, 1);
  EXPECT_EQ(segments_->Stats().moved_bytes, 200);
  // Once settled, the emptied segment goes without copying.
  segments_->Settle(pinned);
  retired = segments_->CompactNow();
  ASSERT_TRUE(retired.ok());
  EXPECT_EQ(*retired, 1);
  EXPECT_FALSE(FileExists(pinned.segment));
  EXPECT_EQ(segments_->Stats().compacted_segments, 1);
  // Everything survives a restart, and the moved value's new segment is not truncated under it.
  Reopen();
  EXPECT_EQ(ReadId("k2"), std::string(200, '2'));
  EXPECT_EQ(ReadId("big"), std::string(900, 'b'));
  EXPECT_EQ(ReadId("later"), std::string(1000, 'x'));
  EXPECT_FALSE(FileExists(old_segment));
}

TEST_F(SegmentStoreTest, CompactedFileStaysReadableDuringItsGrace) {
  segments_.reset();
  SegmentOptions o;
  o.dir = dir_.path() + "/segments";
  o.segment_bytes = 1024;
  o.unlink_grace_ms = 60'000;
  o.background = false;
  segments_ = std::move(SegmentStore::Open(*store_, o)).value();
  Extent a = Put("a", std::string(100, 'a'));
  Put("b", std::string(200, 'b'));
  Drop("b");
  Put("c", std::string(1000, 'c'));  // seals a's segment
  ASSERT_EQ(*segments_->CompactNow(1'000'000), 1);
  // A reader that found the old extent before the flip still reads it.
  EXPECT_TRUE(FileExists(a.segment));
  EXPECT_EQ(*segments_->Read(a), std::string(100, 'a'));
  ASSERT_TRUE(segments_->CompactNow(1'000'000 + 60'000).ok());
  EXPECT_FALSE(FileExists(a.segment));
  EXPECT_EQ(ReadId("a"), std::string(100, 'a'));
}

TEST_F(SegmentStoreTest, WithoutFsyncAppendsAnswerAtOnce) {
  segments_.reset();
  SegmentOptions o;
  o.dir = dir_.path() + "/segments";
  o.fsync = false;
  o.background = false;
  segments_ = std::move(SegmentStore::Open(*store_, o)).value();
  segments_->PauseFlusherForTest(true);  // nothing waits for the flusher
  auto e = segments_->Append("quick");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(segments_->Stats().syncs, 0);
  EXPECT_EQ(*segments_->Read(*e), "quick");
  segments_->Settle(*e);
}

// With fsync and the background threads on, the active segment is written with zeros (and
// synced) ahead of its end; appends land over them; never past segment_bytes; restart truncates
// the zeros away with the uncommitted tail.
TEST_F(SegmentStoreTest, ZerosAreWrittenAheadOfTheActiveSegmentAndTruncatedAtRestart) {
  constexpr uint64_t kAhead = 2 << 20;
  constexpr uint64_t kSegment = 4 << 20;
  segments_.reset();
  SegmentOptions o;
  o.dir = dir_.path() + "/segments";
  o.segment_bytes = kSegment;
  o.unlink_grace_ms = 0;
  o.background = true;
  o.zero_ahead_bytes = kAhead;
  segments_ = std::move(SegmentStore::Open(*store_, o)).value();
  auto size_reaches = [&](uint64_t segment, uint64_t n) {
    for (int i = 0; i < 500 && FileSize(segment) < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return FileSize(segment) >= n;
  };
  Extent a = Put("a", "first");
  ASSERT_TRUE(size_reaches(a.segment, a.length + kAhead));
  // Counted once the chunk's fdatasync has returned, after the size grew.
  for (int i = 0; i < 500 && segments_->Stats().zeroed_bytes < static_cast<int64_t>(kAhead / 2);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(segments_->Stats().zeroed_bytes, static_cast<int64_t>(kAhead / 2));
  {
    // Written zeros (a lead past the end is left as it was: a hole, or appends).
    std::ifstream in(segments_->PathOf(a.segment), std::ios::binary);
    in.seekg(static_cast<std::streamoff>(kAhead - 100));
    std::string zeros(100, 'x');
    in.read(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    EXPECT_EQ(zeros, std::string(100, '\0'));
  }
  // Appends land over the zeros, one after the other, and read back.
  Extent b = Put("b", std::string(50'000, 'b'));
  EXPECT_EQ(b.segment, a.segment);
  EXPECT_EQ(b.offset, a.offset + a.length);
  uint64_t end = b.offset + b.length;
  for (int i = 0; i < 30; ++i) {
    Extent c = Put(fmt::format("c{}", i), std::string(100'000, static_cast<char>('0' + i)));
    EXPECT_EQ(c.segment, a.segment);
    // Right after the previous one, unless zeros were being written there (then past them).
    EXPECT_GE(c.offset, end);
    end = c.offset + c.length;
  }
  // The zeros follow the end up to the segment's size, never past it.
  ASSERT_TRUE(size_reaches(a.segment, kSegment));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(FileSize(a.segment), kSegment);
  EXPECT_EQ(ReadId("a"), "first");
  EXPECT_EQ(ReadId("b"), std::string(50'000, 'b'));
  EXPECT_EQ(ReadId("c7"), std::string(100'000, '7'));
  EXPECT_EQ(ReadId("c29"), std::string(100'000, static_cast<char>('0' + 29)));
  // A crash: the file is its committed bytes plus zeros; restart truncates the zeros.
  Reopen();
  EXPECT_EQ(FileSize(a.segment), end);
  EXPECT_EQ(ReadId("a"), "first");
  EXPECT_EQ(ReadId("b"), std::string(50'000, 'b'));
  EXPECT_EQ(ReadId("c3"), std::string(100'000, '3'));
}

// On ext4, a commit whose appends all lie inside zeros already synced is made durable by
// sync_file_range and a device flush (no inode write); appends before the zeros, or with
// range_sync off, keep the fdatasync. Either way the bytes read back after a restart.
TEST_F(SegmentStoreTest, AppendsInsideSyncedZerosAreRangeSyncedOnExt4) {
  struct statfs fs{};
  ASSERT_EQ(::statfs(dir_.path().c_str(), &fs), 0);
  const bool ext4 = fs.f_type == EXT4_SUPER_MAGIC;
  segments_.reset();
  auto o_dir = [&](const std::string& name) { return dir_.path() + "/segments-" + name; };
  for (bool range_sync : {true, false}) {
    const std::string name = range_sync ? "range" : "plain";
    auto open = [&](std::unique_ptr<Store>& db, std::unique_ptr<SegmentStore>& segs) {
      db = testing::MustOpen(SqliteOptions{.data_dir = dir_.path() + "/db-" + name});
      SegmentOptions o;
      o.dir = o_dir(name);
      o.segment_bytes = 8 << 20;
      o.background = true;
      o.zero_ahead_bytes = 4 << 20;
      o.range_sync = range_sync;
      segs = std::move(SegmentStore::Open(*db, o)).value();
    };
    std::unique_ptr<Store> db;
    std::unique_ptr<SegmentStore> segs;
    open(db, segs);
    auto commit = [&](const std::string& id, const std::string& data) {
      auto e = segs->AppendForCommit(data);
      ASSERT_TRUE(e.ok()) << e.error().message;
      STRATUS_ASSERT_OK(db->Write([&](WriteTxn& txn) { return segs->Reference(txn, id, *e); }));
      segs->Settle(*e);
    };
    // The first MiB is never zeroed: those commits fdatasync.
    commit("first", "first");
    EXPECT_EQ(segs->Stats().range_syncs, 0);
    for (int i = 0; i < 300 && segs->Stats().zeroed_bytes < (2 << 20); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GE(segs->Stats().zeroed_bytes, 2 << 20);
    for (int i = 0; i < 40; ++i) {
      commit(std::to_string(i), std::string(60'000, static_cast<char>('a' + i % 26)));
    }
    SegmentStats st = segs->Stats();
    EXPECT_EQ(st.commit_syncs, 41) << name;
    if (range_sync && ext4) {
      EXPECT_GT(st.range_syncs, 0);
      EXPECT_LT(st.range_syncs, 41);  // the first commits land before the zeros
      // The device flush is a clean regular file's fdatasync (not the directory's).
      struct stat flush{};
      ASSERT_EQ(::stat((o_dir(name) + "/.device-flush").c_str(), &flush), 0);
      EXPECT_TRUE(S_ISREG(flush.st_mode));
      EXPECT_EQ(flush.st_size, 0);
    } else {
      EXPECT_EQ(st.range_syncs, 0) << name;
    }
    // A restart reads every committed byte back.
    segs.reset();
    db.reset();
    open(db, segs);
    for (std::string id : {"first", "0", "17", "39"}) {
      auto e = [&] {
        std::optional<Extent> out;
        EXPECT_TRUE(db->Read([&](ReadTxn& txn) -> Status {
          STRATUS_ASSIGN_OR_RETURN(out, SegmentStore::Find(txn, id));
          return Status::Ok();
        }).ok());
        return out;
      }();
      ASSERT_TRUE(e.has_value()) << name << " " << id;
      auto bytes = segs->Read(*e);
      ASSERT_TRUE(bytes.ok()) << bytes.error().message;
      EXPECT_EQ(*bytes, id == "first" ? std::string("first")
                                      : std::string(60'000, static_cast<char>(
                                                                'a' + std::stoi(id) % 26)));
    }
  }
}

// The device-flush descriptor is a regular file, created empty and synced, on ext4 only: a
// directory's fsync on a journalled ext4 may return without flushing the device.
TEST_F(SegmentStoreTest, DeviceFlushFileIsARegularFileOnExt4Only) {
  struct statfs fs{};
  ASSERT_EQ(::statfs(dir_.path().c_str(), &fs), 0);
  int fd = internal::OpenDeviceFlushFile(dir_.path());
  if (fs.f_type != EXT4_SUPER_MAGIC) {
    EXPECT_EQ(fd, -1);
    return;
  }
  ASSERT_GE(fd, 0);
  struct stat st{};
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(::fdatasync(fd), 0);
  ::close(fd);
  // Opened again (a restart): the same file, still empty.
  fd = internal::OpenDeviceFlushFile(dir_.path());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 0);
  ::close(fd);
  struct statfs shm{};
  if (::statfs("/dev/shm", &shm) == 0 && shm.f_type != EXT4_SUPER_MAGIC) {
    EXPECT_EQ(internal::OpenDeviceFlushFile("/dev/shm"), -1);
  }
}

// Appends that reach the chunk the zeroing thread is writing skip past it: the zeros never land
// on appended bytes (were they written over them, the reads below would fail their CRC).
TEST_F(SegmentStoreTest, AnAppendSkipsTheChunkBeingZeroed) {
  segments_.reset();
  SegmentOptions o;
  o.dir = dir_.path() + "/segments";
  o.segment_bytes = 4 << 20;
  o.unlink_grace_ms = 0;
  o.background = true;
  o.zero_ahead_bytes = 2 << 20;
  segments_ = std::move(SegmentStore::Open(*store_, o)).value();
  segments_->PauseZeroingForTest(true);
  Put("a", "first");  // the zeroing thread picks a chunk ~1 MiB ahead and holds it
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Appends until one has skipped the held chunk (however late the thread chose it).
  std::vector<Extent> extents;
  bool skipped = false;
  for (int i = 0; i < 28 && !skipped; ++i) {
    extents.push_back(Put(fmt::format("p{}", i), std::string(120'000, static_cast<char>('a' + i))));
    if (i == 0) continue;
    const Extent& prev = extents[extents.size() - 2];
    EXPECT_GE(extents.back().offset, prev.offset + prev.length);
    skipped = extents.back().offset > prev.offset + prev.length;
  }
  EXPECT_TRUE(skipped);
  segments_->PauseZeroingForTest(false);
  for (int i = 0; i < 300 && segments_->Stats().zeroed_bytes < (1 << 20); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(segments_->Stats().zeroed_bytes, 1 << 20);
  EXPECT_EQ(ReadId("a"), "first");
  for (size_t i = 0; i < extents.size(); ++i) {
    EXPECT_EQ(ReadId(fmt::format("p{}", i)), std::string(120'000, static_cast<char>('a' + i))) << i;
  }
}

TEST(SegmentCrcTest, MatchesCoreCrc32cAtEverySizeAndAlignment) {
  std::string data;
  for (int i = 0; i < 4096 + 13; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  for (size_t start : {0, 1, 3, 7}) {
    for (size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 4096}) {
      std::string_view v(data.data() + start, n);
      EXPECT_EQ(SegmentCrc32c(v), Crc32c(v)) << start << "+" << n;
    }
  }
  EXPECT_EQ(SegmentCrc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
}

TEST_F(SegmentStoreTest, EmptyAppendIsRefused) {
  EXPECT_FALSE(segments_->Append("").ok());
}

// The ordering invariant under "a committed record never names bytes that are not durable": when
// a commit that names extents starts (after its pre-commit syncs, before COMMIT), none of their
// pages is dirty or still being written (cachestat, Linux 6.5+); the device flush follows them.
// A pre-commit step registered after the References runs at that point. Covers the range path
// (appends inside synced zeros), bytes appended after the commit's first Reference (named by a
// later Reference of the same commit), and bytes appended then but named only by the next commit.
TEST_F(SegmentStoreTest, ACommitStartsOnlyOnceTheBytesItNamesAreWritten) {
  segments_.reset();
  SegmentOptions o;
  o.dir = dir_.path() + "/segments";
  o.segment_bytes = 8 << 20;
  o.background = true;
  o.zero_ahead_bytes = 4 << 20;
  segments_ = std::move(SegmentStore::Open(*store_, o)).value();
  auto wait_zeroed = [&](int64_t n) {
    for (int i = 0; i < 500 && segments_->Stats().zeroed_bytes < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return segments_->Stats().zeroed_bytes >= n;
  };
  // The zeros start 1 MiB past the end and reach 4 MiB past it; the appends below land in them.
  Extent lead = Put("lead", "l");
  ASSERT_TRUE(wait_zeroed(3 << 20));
  Put("filler", std::string((1 << 20) + 8192, 'f'));
  const int fd = ::open(segments_->PathOf(lead.segment).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  // Pages of the extent dirty or under writeback (linux/mman.h's cachestat; -1 = no cachestat).
  auto unwritten = [&](const Extent& e) -> int64_t {
    struct { uint64_t off, len; } range{e.offset, e.length};
    struct { uint64_t cache, dirty, writeback, evicted, recently_evicted; } cs{};
    constexpr long kCachestat = 451;
    if (::syscall(kCachestat, fd, &range, &cs, 0) != 0) return -1;
    return static_cast<int64_t>(cs.dirty + cs.writeback);
  };
  const int64_t range_syncs = segments_->Stats().range_syncs;
  auto x = segments_->AppendForCommit(std::string(3000, 'x'));
  ASSERT_TRUE(x.ok());
  if (unwritten(*x) < 0) GTEST_SKIP() << "no cachestat on this kernel";
  Extent y, z;
  int64_t at_commit[3] = {-2, -2, -2};
  int probe = 0;
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(segments_->Reference(txn, "x", *x));
    // A PUT arriving while the commit is built: appended after the write of x started.
    STRATUS_ASSIGN_OR_RETURN(y, segments_->AppendForCommit(std::string(5000, 'y')));
    STRATUS_RETURN_IF_ERROR(segments_->Reference(txn, "y", y));
    STRATUS_ASSIGN_OR_RETURN(z, segments_->AppendForCommit(std::string(7000, 'z')));
    return txn.SyncBeforeCommit(&probe, [&] {
      at_commit[0] = unwritten(*x);
      at_commit[1] = unwritten(y);
      return Status::Ok();
    });
  }));
  EXPECT_EQ(at_commit[0], 0);
  EXPECT_EQ(at_commit[1], 0);
  STRATUS_ASSERT_OK(store_->Write([&](WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(segments_->Reference(txn, "z", z));
    return txn.SyncBeforeCommit(&probe, [&] {
      at_commit[2] = unwritten(z);
      return Status::Ok();
    });
  }));
  EXPECT_EQ(at_commit[2], 0);
  for (const Extent& e : {*x, y, z}) segments_->Settle(e);
  ::close(fd);
  EXPECT_GE(segments_->Stats().range_syncs - range_syncs, 1);  // the path this checks
  EXPECT_EQ(ReadId("x"), std::string(3000, 'x'));
  EXPECT_EQ(ReadId("y"), std::string(5000, 'y'));
  EXPECT_EQ(ReadId("z"), std::string(7000, 'z'));
}

}  // namespace
}  // namespace stratus::store
