#include "trace/recorder.h"

#include <gtest/gtest.h>

#include <thread>

namespace stratus::trace {
namespace {

Segment Make(std::string trace_id, std::string id, double start, double end, bool sampled = true) {
  Segment s;
  s.trace_id = std::move(trace_id);
  s.id = std::move(id);
  s.name = "svc";
  s.start_time = start;
  s.end_time = end;
  s.sampled = sampled;
  return s;
}

std::string TraceN(int n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "1-00000001-%024x", n);
  return buf;
}
std::string IdN(int n) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016x", n);
  return buf;
}

TEST(InMemoryRecorder, FindsSegmentsByTrace) {
  InMemoryRecorder rec(100);
  rec.Record(Make(TraceN(1), IdN(1), 10, 11));
  rec.Record(Make(TraceN(2), IdN(2), 10, 11));
  rec.Record(Make(TraceN(1), IdN(3), 10.5, 10.7));
  std::vector<Segment> t1 = rec.TraceSegments(TraceN(1));
  ASSERT_EQ(t1.size(), 2u);
  EXPECT_EQ(t1[0].id, IdN(1));
  EXPECT_EQ(t1[1].id, IdN(3));
  EXPECT_TRUE(rec.TraceSegments(TraceN(9)).empty());
  EXPECT_EQ(rec.stats().recorded, 3u);
}

TEST(InMemoryRecorder, DropsUnsampledSegments) {
  InMemoryRecorder rec(100);
  rec.Record(Make(TraceN(1), IdN(1), 10, 11, /*sampled=*/false));
  EXPECT_TRUE(rec.TraceSegments(TraceN(1)).empty());
  EXPECT_EQ(rec.stats().unsampled, 1u);
  EXPECT_EQ(rec.stats().recorded, 0u);
}

TEST(InMemoryRecorder, ALaterVersionReplacesAnEarlierOne) {
  InMemoryRecorder rec(100);
  Segment started = Make(TraceN(1), IdN(1), 10, 0);
  started.in_progress = true;
  rec.Record(started);
  rec.Record(Make(TraceN(1), IdN(2), 10.1, 10.2));
  Segment done = Make(TraceN(1), IdN(1), 10, 12);
  rec.Record(done);
  std::vector<Segment> t = rec.TraceSegments(TraceN(1));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].id, IdN(2));
  EXPECT_EQ(t[1].id, IdN(1));
  EXPECT_FALSE(t[1].in_progress);
  EXPECT_EQ(t[1].end_time, 12);
}

TEST(InMemoryRecorder, KeepsOnlyTheMostRecent) {
  InMemoryRecorder rec(16);  // one slot per shard
  EXPECT_EQ(rec.capacity(), 16u);
  for (int i = 0; i < 1000; ++i) rec.Record(Make(TraceN(i), IdN(i), i, i + 1));
  InMemoryRecorder::Stats st = rec.stats();
  EXPECT_EQ(st.recorded, 1000u);
  EXPECT_GE(st.evicted, 1000u - 16u);
  std::vector<Segment> held = rec.SegmentsBetween(0, 2000, 10000);
  EXPECT_LE(held.size(), 16u);
  // The newest segment is always held.
  EXPECT_EQ(rec.TraceSegments(TraceN(999)).size(), 1u);
  EXPECT_TRUE(rec.TraceSegments(TraceN(0)).empty());
}

TEST(InMemoryRecorder, CapacityRoundsUpToShards) {
  EXPECT_EQ(InMemoryRecorder(1).capacity(), 16u);
  EXPECT_EQ(InMemoryRecorder(100).capacity(), 112u);
}

TEST(InMemoryRecorder, TimeRange) {
  InMemoryRecorder rec(100);
  rec.Record(Make(TraceN(1), IdN(1), 100, 110));
  rec.Record(Make(TraceN(2), IdN(2), 50, 60));
  rec.Record(Make(TraceN(3), IdN(3), 105, 106));
  Segment open = Make(TraceN(4), IdN(4), 90, 0);
  open.in_progress = true;
  rec.Record(open);
  std::vector<Segment> r = rec.SegmentsBetween(104, 108, 10);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, IdN(4));  // ordered by start time
  EXPECT_EQ(r[1].id, IdN(1));
  EXPECT_EQ(r[2].id, IdN(3));
  EXPECT_EQ(rec.SegmentsBetween(104, 108, 2).size(), 2u);
  EXPECT_EQ(rec.SegmentsBetween(0, 55, 10).size(), 1u);
  // An in-progress segment lasts until now.
  ASSERT_EQ(rec.SegmentsBetween(200, 300, 10).size(), 1u);
  EXPECT_EQ(rec.SegmentsBetween(200, 300, 10)[0].id, IdN(4));
  EXPECT_TRUE(rec.SegmentsBetween(0, 40, 10).empty());
}

TEST(InMemoryRecorder, ConcurrentRecordingAndQuerying) {
  InMemoryRecorder rec(100000);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&rec, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int n = t * kPerThread + i;
        rec.Record(Make(TraceN(n % 1000), IdN(n), n, n + 1));
      }
    });
  }
  std::thread reader([&rec] {
    for (int i = 0; i < 20; ++i) {
      (void)rec.TraceSegments(TraceN(i % 1000));
      (void)rec.SegmentsBetween(0, 1e9, 10);
    }
  });
  for (auto& t : threads) t.join();
  reader.join();
  EXPECT_EQ(rec.stats().recorded, static_cast<uint64_t>(kThreads * kPerThread));
  size_t total = 0;
  for (int i = 0; i < 1000; ++i) total += rec.TraceSegments(TraceN(i)).size();
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kPerThread));
}

TEST(NullRecorder, KeepsNothing) {
  NullRecorder rec;
  rec.Record(Make(TraceN(1), IdN(1), 1, 2));
  EXPECT_TRUE(rec.TraceSegments(TraceN(1)).empty());
  EXPECT_TRUE(rec.SegmentsBetween(0, 10, 10).empty());
}

}  // namespace
}  // namespace stratus::trace
