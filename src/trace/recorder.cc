#include "trace/recorder.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <unordered_set>

namespace stratus::trace {

namespace {

// Enough shards that two io threads and a few workers rarely meet on one lock; a power of two
// so the shard is a mask of the hash.
constexpr size_t kShards = 16;

struct Slot {
  uint64_t seq = 0;  // recording order within the shard
  Segment segment;
};

// Keeps, of several versions of one segment (same trace and id), the last recorded.
template <class Entry, class SegmentOf>
void KeepLatestVersions(std::vector<Entry>& entries, SegmentOf segment_of) {
  // entries are in recording order; walk from the newest, keep first sightings.
  struct KeyHash {
    size_t operator()(const std::pair<std::string_view, std::string_view>& k) const {
      return std::hash<std::string_view>{}(k.first) * 31 + std::hash<std::string_view>{}(k.second);
    }
  };
  std::unordered_set<std::pair<std::string_view, std::string_view>, KeyHash> seen;
  std::vector<Entry> kept;
  kept.reserve(entries.size());
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const Segment& s = segment_of(*it);
    if (seen.emplace(s.trace_id, s.id).second) kept.push_back(std::move(*it));
  }
  std::reverse(kept.begin(), kept.end());
  entries = std::move(kept);
}

}  // namespace

struct InMemoryRecorder::Shard {
  size_t capacity = 1;  // set once at construction
  mutable std::mutex mu;
  // guarded by mu. Grows to `capacity` (a deque, so growing never moves held segments, and
  // memory is only taken as segments arrive), then works as a ring.
  std::deque<Slot> ring;
  size_t next = 0;       // guarded by mu: once full, the slot the next segment overwrites
  uint64_t seq = 0;      // guarded by mu: recording order within the shard
  uint64_t evicted = 0;  // guarded by mu

  // Calls fn(slot) for held segments, oldest first. Caller holds mu.
  template <class Fn>
  void ForEachHeld(Fn&& fn) const {
    size_t n = ring.size();
    size_t oldest = n < capacity ? 0 : next;
    for (size_t i = 0; i < n; ++i) fn(ring[(oldest + i) % n]);
  }
};

InMemoryRecorder::InMemoryRecorder(size_t capacity)
    : shards_(std::make_unique<Shard[]>(kShards)), shard_count_(kShards) {
  size_t per_shard = std::max<size_t>(1, (capacity + kShards - 1) / kShards);
  for (size_t i = 0; i < shard_count_; ++i) shards_[i].capacity = per_shard;
}

InMemoryRecorder::~InMemoryRecorder() = default;

InMemoryRecorder::Shard& InMemoryRecorder::ShardFor(std::string_view trace_id) const {
  return shards_[std::hash<std::string_view>{}(trace_id) & (shard_count_ - 1)];
}

void InMemoryRecorder::Record(Segment segment) {
  if (!segment.sampled) {
    unsampled_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Shard& shard = ShardFor(segment.trace_id);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.ring.size() < shard.capacity) {
    shard.ring.push_back(Slot{++shard.seq, std::move(segment)});
    return;
  }
  Slot& slot = shard.ring[shard.next];
  ++shard.evicted;
  slot.seq = ++shard.seq;
  // One move assignment (a segment has ~20 members; a move costs ~300 instructions). The evicted
  // segment's std::string buffers go to `segment` (libstdc++'s move assignment hands them over)
  // and are freed with it by the caller, outside the lock; its vector and Json members' old
  // contents (for the hops' segments: the three aws_strings) are freed here, under it.
  slot.segment = std::move(segment);
  shard.next = (shard.next + 1) % shard.capacity;
}

std::vector<Segment> InMemoryRecorder::TraceSegments(std::string_view trace_id) const {
  const Shard& shard = ShardFor(trace_id);
  std::vector<Segment> out;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    shard.ForEachHeld([&](const Slot& slot) {
      if (slot.segment.trace_id == trace_id) out.push_back(slot.segment);
    });
  }
  KeepLatestVersions(out, [](const Segment& s) -> const Segment& { return s; });
  return out;
}

std::vector<Segment> InMemoryRecorder::SegmentsBetween(double from, double to, size_t limit) const {
  std::vector<Segment> out;
  if (limit == 0) return out;
  for (size_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    std::lock_guard<std::mutex> lock(shard.mu);
    // Pointers into the ring, valid while mu is held; only the `limit` earliest are copied.
    std::vector<const Slot*> found;
    shard.ForEachHeld([&](const Slot& slot) {
      const Segment& s = slot.segment;
      if (s.start_time <= to && (s.in_progress || s.end_time >= from)) found.push_back(&slot);
    });
    KeepLatestVersions(found, [](const Slot* slot) -> const Segment& { return slot->segment; });
    auto earlier = [](const Slot* a, const Slot* b) {
      return a->segment.start_time < b->segment.start_time ||
             (a->segment.start_time == b->segment.start_time && a->seq < b->seq);
    };
    if (found.size() > limit) {
      std::partial_sort(found.begin(), found.begin() + static_cast<long>(limit), found.end(),
                        earlier);
      found.resize(limit);
    }
    for (const Slot* slot : found) out.push_back(slot->segment);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Segment& a, const Segment& b) { return a.start_time < b.start_time; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

InMemoryRecorder::Stats InMemoryRecorder::stats() const {
  Stats st;
  for (size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    st.recorded += shards_[i].seq;
    st.evicted += shards_[i].evicted;
  }
  st.unsampled = unsampled_.load(std::memory_order_relaxed);
  return st;
}

size_t InMemoryRecorder::capacity() const { return shard_count_ * shards_[0].capacity; }

}  // namespace stratus::trace
