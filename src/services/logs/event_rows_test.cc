// Events stored many to a row (event_rows.h) read back exactly as events stored one per row:
// the row format, and GetLogEvents / FilterLogEvents / the retention sweep checked against a
// plain model of the events.
#include "services/logs/event_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "services/logs/keys.h"
#include "services/logs/log_store.h"

namespace stratus::services::logs {
namespace {

// ---- the row format -------------------------------------------------------------------------

class EventRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(store::SqliteOptions{});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  std::vector<store::KeyValue> Rows() {
    auto r = store_->Scan(store::PrefixScan(prefix_));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<store::KeyValue>{};
  }
  std::vector<rows::StoredEvent> Walk(std::string lo, std::string hi, bool forward) {
    rows::Cursor c(prefix_, std::move(lo), std::move(hi), forward);
    rows::Cursor::ScanFn scan = [this](const store::ScanOptions& o) { return store_->Scan(o); };
    std::vector<rows::StoredEvent> out;
    EXPECT_TRUE(c.Fill(scan).ok());
    while (c.Valid()) {
      out.push_back(c.Current());
      c.Next();
      EXPECT_TRUE(c.Fill(scan).ok());
    }
    return out;
  }
  static std::vector<std::string> Messages(const std::vector<rows::StoredEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.message);
    return out;
  }

  std::unique_ptr<store::Store> store_;
  std::string prefix_ = std::string("logs/a/r/e/g") + '\0' + "s" + '\0';
};

TEST_F(EventRowsTest, OneRowHoldsManyEventsAndDecodesExactly) {
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    rows::RowWriter w(txn, prefix_);
    STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(100, 1), 7, "first"));
    STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(100, 2), 8, ""));
    STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(-5 + 200, 3), 9, std::string("a\0b", 3)));
    return w.Finish();
  }).ok());
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, prefix_ + keys::Position(100, 1));
  auto summary = rows::SummarizeRow(keys::Position(100, 1), rows[0].value);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->count, 3u);
  EXPECT_EQ(summary->last, keys::Position(195, 3));
  auto events = rows::DecodeRow(keys::Position(100, 1), rows[0].value);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].position, keys::Position(100, 1));
  EXPECT_EQ((*events)[0].ingestion, 7);
  EXPECT_EQ((*events)[0].message, "first");
  EXPECT_EQ((*events)[1].message, "");
  EXPECT_EQ((*events)[2].message, std::string("a\0b", 3));
  EXPECT_EQ((*events)[2].ingestion, 9);
  EXPECT_EQ(keys::PositionTimestamp((*events)[2].position), 195);
  EXPECT_EQ(keys::PositionSeq((*events)[2].position), 3u);
}

TEST_F(EventRowsTest, RowsCloseAtTheirEventAndByteLimits) {
  const size_t n = rows::kMaxRowEvents * 2 + 5;
  std::string big(rows::kMaxRowBytes + 10, 'x');
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    rows::RowWriter w(txn, prefix_);
    for (size_t i = 0; i < n; ++i) {
      STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(1000, i + 1), 1, "m"));
    }
    // An event larger than a row's size gets a row of its own; the next starts another.
    STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(2000, n + 1), 1, big));
    STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(2000, n + 2), 1, "after"));
    return w.Finish();
  }).ok());
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 5u);
  size_t total = 0;
  for (const auto& r : rows) {
    auto summary = rows::SummarizeRow(std::string_view(r.key).substr(prefix_.size()), r.value);
    ASSERT_TRUE(summary.ok());
    EXPECT_LE(summary->count, rows::kMaxRowEvents);
    total += summary->count;
  }
  EXPECT_EQ(total, n + 2);
  auto all = Walk("", rows::Cursor::kAfterAll, true);
  ASSERT_EQ(all.size(), n + 2);
  EXPECT_EQ(all[n].message, big);
  EXPECT_EQ(all[n + 1].message, "after");
  for (size_t i = 0; i + 1 < all.size(); ++i) EXPECT_LT(all[i].position, all[i + 1].position);
}

TEST_F(EventRowsTest, CursorWindowsStartAndEndInsideRows) {
  // Three rows of four events: timestamps 10..21.
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    for (int row = 0; row < 3; ++row) {
      rows::RowWriter w(txn, prefix_);
      for (int i = 0; i < 4; ++i) {
        int ts = 10 + row * 4 + i;
        STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(ts, ts), 0, std::to_string(ts)));
      }
      STRATUS_RETURN_IF_ERROR(w.Finish());
    }
    return Status::Ok();
  }).ok());
  ASSERT_EQ(Rows().size(), 3u);
  auto fwd = Messages(Walk(keys::Position(12, 0), keys::Position(19, 0), true));
  EXPECT_EQ(fwd, (std::vector<std::string>{"12", "13", "14", "15", "16", "17", "18"}));
  auto back = Messages(Walk(keys::Position(12, 0), keys::Position(19, 0), false));
  EXPECT_EQ(back, (std::vector<std::string>{"18", "17", "16", "15", "14", "13", "12"}));
  // Strictly after an event's position (a forward token), and strictly before one (backward).
  auto after = Messages(Walk(keys::Position(14, 14) + std::string(1, '\0'), rows::Cursor::kAfterAll, true));
  EXPECT_EQ(after.front(), "15");
  EXPECT_EQ(after.size(), 7u);
  auto before = Messages(Walk("", keys::Position(14, 14), false));
  EXPECT_EQ(before, (std::vector<std::string>{"13", "12", "11", "10"}));
  EXPECT_TRUE(Walk(keys::Position(30, 0), rows::Cursor::kAfterAll, true).empty());
  EXPECT_TRUE(Walk(keys::Position(15, 0), keys::Position(15, 0), true).empty());
}

TEST_F(EventRowsTest, InsertedEventsMergeIntoTheRowsTheyFallIn) {
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    rows::RowWriter w(txn, prefix_);
    for (int ts : {10, 20, 30}) STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(ts, ts), 0, std::to_string(ts)));
    STRATUS_RETURN_IF_ERROR(w.Finish());
    rows::RowWriter w2(txn, prefix_);
    for (int ts : {50, 60}) STRATUS_RETURN_IF_ERROR(w2.Add(keys::Position(ts, ts), 0, std::to_string(ts)));
    return w2.Finish();
  }).ok());
  // 5 before everything, 15 and 25 inside the first row, 40 between the rows, 55 inside the
  // second, 70 after everything.
  std::vector<rows::StoredEvent> added;
  for (int ts : {5, 15, 25, 40, 55, 70}) {
    added.push_back({keys::Position(ts, 100 + ts), 1, std::to_string(ts)});
  }
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    return rows::InsertEvents(txn, prefix_, added);
  }).ok());
  auto all = Messages(Walk("", rows::Cursor::kAfterAll, true));
  EXPECT_EQ(all, (std::vector<std::string>{"5", "10", "15", "20", "25", "30", "40", "50", "55",
                                           "60", "70"}));
  // Rows stay disjoint: each row's last event comes before the next row's key.
  auto rows = Rows();
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    auto summary = rows::SummarizeRow(std::string_view(rows[i].key).substr(prefix_.size()), rows[i].value);
    ASSERT_TRUE(summary.ok());
    EXPECT_LT(prefix_ + summary->last, rows[i + 1].key);
  }
  auto back = Messages(Walk("", rows::Cursor::kAfterAll, false));
  std::reverse(back.begin(), back.end());
  EXPECT_EQ(back, all);
}

TEST_F(EventRowsTest, DeleteBeforeKeepsTheLaterEventsOfTheRowAcrossTheCutoff) {
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    rows::RowWriter w(txn, prefix_);
    for (int ts = 1; ts <= 6; ++ts) STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(ts, ts), 0, std::to_string(ts)));
    STRATUS_RETURN_IF_ERROR(w.Finish());
    rows::RowWriter w2(txn, prefix_);
    for (int ts = 7; ts <= 9; ++ts) STRATUS_RETURN_IF_ERROR(w2.Add(keys::Position(ts, ts), 0, std::to_string(ts)));
    return w2.Finish();
  }).ok());
  int64_t deleted = -1;
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(deleted, rows::DeleteBefore(txn, prefix_, keys::Position(4, 0)));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(deleted, 3);
  EXPECT_EQ(Messages(Walk("", rows::Cursor::kAfterAll, true)),
            (std::vector<std::string>{"4", "5", "6", "7", "8", "9"}));
  EXPECT_EQ(Rows().front().key, prefix_ + keys::Position(4, 4));
}

TEST_F(EventRowsTest, LegacySingleEventRowsAreRead) {
  // The format written before rows held many events: ingestion time then the message.
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    std::string v;
    keys::AppendBigEndian(v, 1'700'000'000'000ULL);
    v += "legacy";
    STRATUS_RETURN_IF_ERROR(txn.Put(prefix_ + keys::Position(5, 1), v));
    rows::RowWriter w(txn, prefix_);
    STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(6, 2), 3, "chunk"));
    return w.Finish();
  }).ok());
  auto all = Walk("", rows::Cursor::kAfterAll, true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].message, "legacy");
  EXPECT_EQ(all[0].ingestion, 1'700'000'000'000LL);
  EXPECT_EQ(all[0].position, keys::Position(5, 1));
  EXPECT_EQ(all[1].message, "chunk");
}

TEST_F(EventRowsTest, ChunkRowsWrittenBeforeTheCompactFormatAreRead) {
  // The chunk format (kChunkTag): header, then per event position, ingestion, length, bytes.
  auto chunk = [](const std::vector<std::tuple<std::string, uint64_t, std::string>>& events) {
    std::string v(1, rows::kChunkTag);
    for (int i = 3; i >= 0; --i) v.push_back(static_cast<char>((events.size() >> (i * 8)) & 0xFF));
    v += std::get<0>(events.back());
    for (const auto& [position, ingestion, message] : events) {
      v += position;
      keys::AppendBigEndian(v, ingestion);
      for (int i = 3; i >= 0; --i) v.push_back(static_cast<char>((message.size() >> (i * 8)) & 0xFF));
      v += message;
    }
    return v;
  };
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Put(prefix_ + keys::Position(5, 1),
                                    chunk({{keys::Position(5, 1), 11, "old one"},
                                           {keys::Position(5, 2), 12, "old two"}})));
    rows::RowWriter w(txn, prefix_);
    STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(6, 3), 13, "new three"));
    return w.Finish();
  }).ok());
  auto all = Walk("", rows::Cursor::kAfterAll, true);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(Messages(all), (std::vector<std::string>{"old one", "old two", "new three"}));
  EXPECT_EQ(all[1].position, keys::Position(5, 2));
  EXPECT_EQ(all[1].ingestion, 12);
  EXPECT_EQ(all[2].ingestion, 13);
  auto back = Walk("", rows::Cursor::kAfterAll, false);
  EXPECT_EQ(Messages(back), (std::vector<std::string>{"new three", "old two", "old one"}));
}

// Function log lines as Lambda writes them, with random request ids.
std::vector<std::string> LambdaLines(std::mt19937& rng, int invocations) {
  auto id = [&] {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 36; ++i) s.push_back(i == 8 || i == 13 || i == 18 || i == 23 ? '-' : kHex[rng() % 16]);
    return s;
  };
  std::vector<std::string> out;
  for (int i = 0; i < invocations; ++i) {
    std::string rid = id();
    out.push_back("START RequestId: " + rid + " Version: $LATEST");
    if (i % 3 == 0) out.push_back("handler says " + std::to_string(rng() % 1000));
    out.push_back("END RequestId: " + rid);
    out.push_back("REPORT RequestId: " + rid + "\tDuration: 0." + std::to_string(10 + rng() % 90) +
                  " ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 2 MB");
  }
  return out;
}

TEST_F(EventRowsTest, CompactRowsDecodeExactlyAndAreUnderHalfTheChunkFormat) {
  std::mt19937 rng(7);
  std::vector<std::string> lines = LambdaLines(rng, 60);
  // Messages that share prefixes and suffixes in every way, and none.
  const char* pieces[] = {"", "a", "ab", "aba", "abab", "REPORT ", "x\ty", "\0", "zzzz"};
  for (int i = 0; i < 300; ++i) {
    std::string m;
    for (int k = static_cast<int>(rng() % 4); k > 0; --k) m += pieces[rng() % std::size(pieces)];
    lines.push_back(std::string(m.data(), m.size()));
  }
  int64_t ingestion = 1'764'000'000'000;
  size_t chunk_bytes = rows::kChunkHeaderBytes;
  std::vector<std::tuple<std::string, int64_t, std::string>> written;
  int64_t ts = 1'764'000'000'000;
  for (size_t i = 0; i < lines.size(); ++i) {
    ts += static_cast<int64_t>(rng() % 3);
    ingestion += static_cast<int64_t>(rng() % 5) - 2;  // ingestion times may go backwards
    written.emplace_back(keys::Position(ts, 1000 + i), ingestion, lines[i]);
    chunk_bytes += rows::kEventHeaderBytes + lines[i].size();
  }
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    rows::RowWriter w(txn, prefix_);
    for (const auto& [position, ing, message] : written) {
      STRATUS_RETURN_IF_ERROR(w.Add(position, ing, message));
    }
    return w.Finish();
  }).ok());
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value[0], rows::kCompactTag);
  auto events = rows::DecodeRow(std::string_view(rows[0].key).substr(prefix_.size()), rows[0].value);
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ((*events)[i].position, std::get<0>(written[i])) << i;
    EXPECT_EQ((*events)[i].ingestion, std::get<1>(written[i])) << i;
    EXPECT_EQ((*events)[i].message, std::get<2>(written[i])) << i;
  }
  // The Lambda lines alone: under 45% of the chunk format's bytes (43% here).
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(int64_t removed, txn.DeleteRange(prefix_, prefix_ + rows::Cursor::kAfterAll));
    (void)removed;
    rows::RowWriter w(txn, prefix_);
    for (size_t i = 0; i < 60 * 3; ++i) {
      STRATUS_RETURN_IF_ERROR(w.Add(std::get<0>(written[i]), std::get<1>(written[i]), std::get<2>(written[i])));
    }
    return w.Finish();
  }).ok());
  size_t lambda_chunk_bytes = rows::kChunkHeaderBytes;
  for (size_t i = 0; i < 60 * 3; ++i) lambda_chunk_bytes += rows::kEventHeaderBytes + lines[i].size();
  rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_LT(rows[0].value.size() * 100, lambda_chunk_bytes * 45)
      << rows[0].value.size() << " of " << lambda_chunk_bytes;
}

TEST_F(EventRowsTest, TruncatedOrAlteredCompactRowsAreErrorsNotCrashes) {
  std::mt19937 rng(9);
  std::vector<std::string> lines = LambdaLines(rng, 4);
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    rows::RowWriter w(txn, prefix_);
    for (size_t i = 0; i < lines.size(); ++i) {
      STRATUS_RETURN_IF_ERROR(w.Add(keys::Position(50, i + 1), 3, lines[i]));
    }
    return w.Finish();
  }).ok());
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  const std::string value = rows[0].value;
  const std::string first = keys::Position(50, 1);
  ASSERT_TRUE(rows::DecodeRow(first, value).ok());
  for (size_t n = 0; n < value.size(); ++n) {
    auto d = rows::DecodeRow(first, value.substr(0, n));
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_EQ(d.error().code, "InternalFailure");
  }
  // Every byte after the header altered: an error or other events, never a crash.
  for (size_t i = rows::kChunkHeaderBytes; i < value.size(); ++i) {
    for (unsigned char x : {0x00, 0x05, 0x7f, 0x80, 0xff}) {
      std::string bad = value;
      bad[i] = static_cast<char>(x);
      auto d = rows::DecodeRow(first, bad);
      if (d.ok()) {
        EXPECT_EQ(d->size(), lines.size());
      }
    }
  }
  EXPECT_FALSE(rows::DecodeRow("short", value).ok());
}

TEST_F(EventRowsTest, CorruptRowsAreErrorsNotCrashes) {
  for (std::string bad : {std::string(), std::string("\x01\x00", 2), std::string("abc"),
                          std::string("\x01\x00\x00\x00\x02") + std::string(16, 'p') +
                              std::string(16, 'p') + std::string(8, '\0') +
                              std::string("\x00\x00\x10\x00", 4) + "short"}) {
    auto d = rows::DecodeRow(keys::Position(1, 1), bad);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, "InternalFailure");
  }
}

// ---- the API over batched rows, against a model -----------------------------------------

struct ModelEvent {
  int64_t timestamp;
  uint64_t seq;
  std::string stream;
  std::string message;
};

class BatchedEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(store::SqliteOptions{});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
    logs_ = std::make_unique<LogStore>(*store_, clock_);
  }
  // One "flush": each stream's batch in one PutEventsMany call, recorded in the model.
  void Flush(const std::vector<std::pair<std::string, std::vector<InputEvent>>>& batches) {
    std::vector<LogStore::StreamBatch> in;
    for (const auto& [stream, events] : batches) in.push_back({scope_, "/g", stream, events});
    auto st = logs_->PutEventsMany(in);
    for (size_t i = 0; i < st.size(); ++i) ASSERT_TRUE(st[i].ok()) << st[i].error().message;
    for (const auto& [stream, events] : batches) {
      for (const auto& e : events) {
        model_.push_back({e.timestamp, ++next_seq_[stream], stream, e.message});
      }
    }
  }
  std::vector<ModelEvent> Stream(const std::string& name, int64_t lo = INT64_MIN,
                                 int64_t hi = INT64_MAX) const {
    std::vector<ModelEvent> out;
    for (const auto& e : model_) {
      if (e.stream == name && e.timestamp >= lo && e.timestamp < hi) out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const ModelEvent& a, const ModelEvent& b) {
      return std::tie(a.timestamp, a.seq) < std::tie(b.timestamp, b.seq);
    });
    return out;
  }
  static std::vector<std::string> Messages(const std::vector<ModelEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.message);
    return out;
  }
  // Every event of a stream through GetLogEvents pages of `limit`, following tokens.
  std::vector<std::string> PageThrough(const std::string& stream, Json in, bool forward) {
    std::vector<std::string> seen;
    std::string token;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = logs_->GetEvents(scope_, "/g", stream, in);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      std::vector<std::string> msgs;
      for (auto& e : (*page)["events"]) {
        msgs.push_back(e["message"]);
        EXPECT_EQ(e["ingestionTime"], ingestion_);
      }
      if (forward) {
        seen.insert(seen.end(), msgs.begin(), msgs.end());
      } else {
        seen.insert(seen.begin(), msgs.begin(), msgs.end());
      }
      std::string next = (*page)[forward ? "nextForwardToken" : "nextBackwardToken"];
      if (next == token) break;
      token = next;
      in["nextToken"] = token;
    }
    return seen;
  }

  ManualClock clock_;
  int64_t ingestion_ = clock_.NowMillis();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LogStore> logs_;
  Scope scope_{"000000000000", "us-east-1"};
  std::vector<ModelEvent> model_;
  std::map<std::string, uint64_t> next_seq_;
};

TEST_F(BatchedEventsTest, AFlushIsOneRowPerStream) {
  int64_t t = clock_.NowMillis();
  std::vector<InputEvent> a, b;
  for (int i = 0; i < 90; ++i) a.push_back({t + i / 3, "a" + std::to_string(i)});
  for (int i = 0; i < 30; ++i) b.push_back({t + i, "b" + std::to_string(i)});
  Flush({{"a", a}, {"b", b}});
  auto rows = store_->Scan(store::PrefixScan(keys::GroupEventPrefix(scope_, "/g")));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u) << "one row per stream per flush, not one per event";
  Flush({{"a", {{t + 40, "a-next"}}}});
  rows = store_->Scan(store::PrefixScan(keys::GroupEventPrefix(scope_, "/g")));
  EXPECT_EQ(rows->size(), 3u);
  EXPECT_EQ(PageThrough("a", Json{{"startFromHead", true}}, true), Messages(Stream("a")));
}

TEST_F(BatchedEventsTest, ReadsMatchTheModelAcrossFlushesAndOutOfOrderBatches) {
  std::mt19937 rng(4);
  int64_t base = clock_.NowMillis() - 3'600'000;
  int counter = 0;
  // 40 flushes: mostly appending (as function logs do), sometimes a batch of older timestamps
  // that lands between or inside earlier rows, sometimes equal timestamps.
  for (int flush = 0; flush < 40; ++flush) {
    std::vector<std::pair<std::string, std::vector<InputEvent>>> batches;
    for (const char* stream : {"s1", "s2", "s3"}) {
      if (rng() % 4 == 0) continue;
      int64_t start = rng() % 5 == 0 ? base + static_cast<int64_t>(rng() % (flush * 50 + 1))
                                     : base + flush * 50;
      std::vector<InputEvent> events;
      int n = 1 + static_cast<int>(rng() % 40);
      int64_t ts = start;
      for (int i = 0; i < n; ++i) {
        ts += static_cast<int64_t>(rng() % 3);
        events.push_back({ts, std::string(stream) + "#" + std::to_string(counter++) +
                                  std::string(rng() % 200, 'x')});
      }
      batches.emplace_back(stream, std::move(events));
    }
    if (!batches.empty()) Flush(batches);
  }
  for (const char* stream : {"s1", "s2", "s3"}) {
    SCOPED_TRACE(stream);
    auto expected = Messages(Stream(stream));
    ASSERT_FALSE(expected.empty());
    for (int limit : {1, 3, 7, 50, 10000}) {
      SCOPED_TRACE(limit);
      EXPECT_EQ(PageThrough(stream, Json{{"startFromHead", true}, {"limit", limit}}, true), expected);
      EXPECT_EQ(PageThrough(stream, Json{{"limit", limit}}, false), expected);
    }
    // Time windows that start and end inside rows.
    for (int w = 0; w < 10; ++w) {
      int64_t lo = base + static_cast<int64_t>(rng() % 2000);
      int64_t hi = lo + static_cast<int64_t>(rng() % 600);
      auto want = Messages(Stream(stream, lo, hi));
      EXPECT_EQ(PageThrough(stream, Json{{"startFromHead", true}, {"startTime", lo}, {"endTime", hi}, {"limit", 5}}, true), want);
      EXPECT_EQ(PageThrough(stream, Json{{"startTime", lo}, {"endTime", hi}, {"limit", 4}}, false), want);
    }
  }
  // FilterLogEvents: every stream merged by (timestamp, sequence, stream name), in pages.
  std::vector<ModelEvent> merged;
  for (const char* stream : {"s1", "s2", "s3"}) {
    auto s = Stream(stream);
    merged.insert(merged.end(), s.begin(), s.end());
  }
  std::stable_sort(merged.begin(), merged.end(), [](const ModelEvent& a, const ModelEvent& b) {
    return std::tie(a.timestamp, a.seq, a.stream) < std::tie(b.timestamp, b.seq, b.stream);
  });
  for (int limit : {1, 13, 10000}) {
    Json in = {{"limit", limit}};
    std::vector<std::string> seen;
    for (int guard = 0; guard < 10000; ++guard) {
      auto page = logs_->FilterEvents(scope_, "/g", in);
      ASSERT_TRUE(page.ok());
      for (auto& e : (*page)["events"]) {
        seen.push_back(e["message"]);
        EXPECT_EQ(e["ingestionTime"], ingestion_);
      }
      if (!page->contains("nextToken")) break;
      in["nextToken"] = (*page)["nextToken"];
    }
    EXPECT_EQ(seen, Messages(merged)) << "limit " << limit;
  }
  // A filter pattern and an inclusive time window.
  int64_t lo = base + 300, hi = base + 900;
  auto window = logs_->FilterEvents(scope_, "/g", Json{{"filterPattern", "s2"}, {"startTime", lo}, {"endTime", hi}});
  ASSERT_TRUE(window.ok());
  std::vector<std::string> want;
  for (const auto& e : merged) {
    if (e.stream == "s2" && e.timestamp >= lo && e.timestamp <= hi) want.push_back(e.message);
  }
  std::vector<std::string> got;
  for (auto& e : (*window)["events"]) got.push_back(e["message"]);
  EXPECT_EQ(got, want);
}

TEST_F(BatchedEventsTest, SweepCountsAndKeepsEventsOneByOne) {
  int64_t now = clock_.NowMillis();
  std::vector<InputEvent> events;
  // One batch spanning the retention cutoff (1 day): 5 expired events, 5 kept, in one row.
  for (int i = 0; i < 10; ++i) events.push_back({now - 86'400'000 - 5'000 + i * 1'000, "e" + std::to_string(i)});
  Flush({{"s", events}});
  ASSERT_TRUE(logs_->PutRetention(scope_, "/g", 1).ok());
  auto n = logs_->SweepExpired();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 5);
  auto left = logs_->GetEvents(scope_, "/g", "s", Json{{"startFromHead", true}});
  ASSERT_TRUE(left.ok());
  ASSERT_EQ((*left)["events"].size(), 5u);
  EXPECT_EQ((*left)["events"][0]["message"], "e5");
  EXPECT_EQ((*left)["events"][4]["message"], "e9");
}

}  // namespace
}  // namespace stratus::services::logs
