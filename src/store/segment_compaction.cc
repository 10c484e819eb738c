// SegmentStore's recovery (Open) and compaction; appends, syncs and reads are in
// segment_store.cc.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "store/segment_store.h"
#include "store/segment_store_internal.h"

namespace stratus::store {

using namespace internal;  // NOLINT(google-build-using-namespace): this module's own helpers

Status SegmentStore::Recover() {
  std::map<uint64_t, Counts> counts;
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(PrefixScan(kCountsPrefix)));
  uint64_t highest = 0;
  for (const auto& kv : rows) {
    uint64_t segment = 0;
    std::string_view hex = std::string_view(kv.key).substr(kCountsPrefix.size());
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), segment, 16);
    if (ec != std::errc() || p != hex.data() + hex.size()) {
      return InternalFailure("corrupt segment counts key: " + kv.key);
    }
    STRATUS_ASSIGN_OR_RETURN(counts[segment], ParseCounts(kv.value));
    highest = std::max(highest, segment);
  }
  DIR* d = ::opendir(options_.dir.c_str());
  if (d == nullptr) return IoError("cannot list", options_.dir);
  std::vector<uint64_t> present;
  while (dirent* e = ::readdir(d)) {
    if (auto segment = SegmentOfName(e->d_name)) present.push_back(*segment);
  }
  ::closedir(d);
  bool removed = false;
  std::vector<uint64_t> emptied;
  for (uint64_t segment : present) {
    highest = std::max(highest, segment);
    std::string path = PathOf(segment);
    auto it = counts.find(segment);
    if (it == counts.end()) {
      // Nothing committed names it: appends whose commit never happened, or a compacted segment
      // whose unlink the crash interrupted.
      spdlog::info("segment store: removing {} (no committed extent names it)", path);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove", path);
      removed = true;
      continue;
    }
    if (it->second.live == 0) {
      emptied.push_back(segment);
      continue;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return IoError("cannot stat", path);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > it->second.end) {
      // Never acknowledged nor referenced: appended after the last committed extent, or zeros.
      spdlog::info("segment store: truncating {} from {} to {} bytes (uncommitted tail or zeros)",
                   path, size, it->second.end);
      int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) return IoError("cannot open", path);
      bool ok = ::ftruncate(fd, static_cast<off_t>(it->second.end)) == 0 &&
                (!options_.fsync || ::fdatasync(fd) == 0);
      ::close(fd);
      if (!ok) return IoError("cannot truncate", path);
    } else if (size < it->second.end) {
      spdlog::error("segment store: {} is {} bytes, shorter than its committed {} bytes", path,
                    size, it->second.end);
    }
  }
  for (const auto& [segment, c] : counts) {
    if (c.live == 0 && std::find(emptied.begin(), emptied.end(), segment) == emptied.end()) {
      emptied.push_back(segment);
    }
  }
  if (!emptied.empty()) {
    STRATUS_RETURN_IF_ERROR(store_.Write([&](WriteTxn& txn) -> Status {
      for (uint64_t segment : emptied) {
        STRATUS_RETURN_IF_ERROR(txn.Delete(CountsKey(segment)));
      }
      return Status::Ok();
    }));
    for (uint64_t segment : emptied) {
      std::string path = PathOf(segment);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove", path);
    }
    removed = true;
  }
  if (removed && options_.fsync && !SyncDir(options_.dir)) {
    return IoError("cannot sync", options_.dir);
  }
  next_segment_ = highest + 1;
  return Status::Ok();
}

Status SegmentStore::RetireIfEmpty(uint64_t segment, int64_t now_ms, bool& retired) {
  retired = false;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto text, txn.Get(CountsKey(segment)));
    if (!text) return Status::Ok();
    STRATUS_ASSIGN_OR_RETURN(Counts c, ParseCounts(*text));
    if (c.live != 0) return Status::Ok();
    retired = true;
    return txn.Delete(CountsKey(segment));
  }));
  if (retired) {
    std::lock_guard lock(mu_);
    unlink_at_.emplace_back(segment, now_ms + options_.unlink_grace_ms);
    ++stats_.retired_segments;
  }
  return Status::Ok();
}

Result<int64_t> SegmentStore::CompactSegment(uint64_t segment) {
  // Every extent in the segment (a scan of all extents: compaction runs once per many MiB of
  // deletes, and an index per segment would cost every PUT another key).
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(PrefixScan(kExtentPrefix)));
  struct Move {
    std::string id;
    Extent from;
    Extent to;
  };
  std::vector<Move> moves;
  for (auto& kv : rows) {
    STRATUS_ASSIGN_OR_RETURN(Extent e, ParseExtent(kv.value));
    if (e.segment != segment) continue;
    moves.push_back(Move{kv.key.substr(kExtentPrefix.size()), e, {}});
  }
  rows.clear();
  size_t appended = 0;
  auto settle = [&] {
    for (size_t i = 0; i < appended; ++i) Settle(moves[i].to);
  };
  int64_t moved_bytes = 0;
  for (Move& m : moves) {
    auto bytes = Read(m.from);
    if (bytes.ok()) {
      auto to = Append(*bytes);
      if (to.ok()) {
        m.to = *to;
        ++appended;
        moved_bytes += static_cast<int64_t>(m.from.length);
        continue;
      }
      bytes = std::move(to).error();
    }
    settle();
    return std::move(bytes).error();
  }
  bool retired = false;
  Status st = store_.Write([&](WriteTxn& txn) -> Status {
    retired = false;
    for (const Move& m : moves) {
      std::string key = ExtentKey(m.id);
      STRATUS_ASSIGN_OR_RETURN(auto text, txn.Get(key));
      if (!text) continue;  // deleted meanwhile: its copy is dead space
      STRATUS_ASSIGN_OR_RETURN(Extent cur, ParseExtent(*text));
      if (!(cur == m.from)) continue;
      STRATUS_RETURN_IF_ERROR(txn.Put(key, FormatExtent(m.to)));
      STRATUS_RETURN_IF_ERROR(AdjustCounts(txn, m.to.segment, static_cast<int64_t>(m.to.length),
                                           m.to.offset + m.to.length));
      STRATUS_RETURN_IF_ERROR(
          AdjustCounts(txn, m.from.segment, -static_cast<int64_t>(m.from.length), 0));
    }
    // A release of one of this segment's extents by an earlier transaction of the same physical
    // commit is not in the row yet (AddBeforeCommit): the count then reaches 0 at the commit and
    // a later pass retires the segment (RetireIfEmpty).
    STRATUS_ASSIGN_OR_RETURN(Counts c, LoadCounts(txn, segment));
    if (c.live != 0) {
      spdlog::warn("segment store: segment {} still has {} live bytes after compaction", segment,
                   c.live);
      return Status::Ok();
    }
    retired = true;
    return txn.Delete(CountsKey(segment));
  });
  settle();
  STRATUS_RETURN_IF_ERROR(st);
  std::lock_guard lock(mu_);
  ++stats_.compacted_segments;
  stats_.moved_bytes += moved_bytes;
  if (retired) ++stats_.retired_segments;
  return retired ? 1 : 0;
}

void SegmentStore::UnlinkDue(int64_t now_ms) {
  std::vector<uint64_t> due;
  {
    std::lock_guard lock(mu_);
    auto it = std::partition(unlink_at_.begin(), unlink_at_.end(),
                             [&](const auto& u) { return u.second > now_ms; });
    for (auto i = it; i != unlink_at_.end(); ++i) {
      due.push_back(i->first);
      files_.erase(i->first);
    }
    unlink_at_.erase(it, unlink_at_.end());
  }
  for (uint64_t segment : due) {
    std::string path = PathOf(segment);
    // A failure leaves a file no record names: the next Open removes it.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) (void)IoError("cannot remove", path);
  }
}

Result<int64_t> SegmentStore::CompactNow(int64_t now_ms) {
  std::lock_guard compact_lock(compact_mu_);
  if (now_ms == 0) now_ms = WallMillis();
  UnlinkDue(now_ms);
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(PrefixScan(kCountsPrefix)));
  uint64_t active = 0;
  std::set<uint64_t> pinned;
  {
    std::lock_guard lock(mu_);
    sealed_since_compact_ = false;
    if (active_) active = active_->segment;
    for (const auto& [segment, n] : pins_) pinned.insert(segment);
  }
  int64_t retired = 0;
  for (const auto& kv : rows) {
    uint64_t segment = 0;
    std::string_view hex = std::string_view(kv.key).substr(kCountsPrefix.size());
    std::from_chars(hex.data(), hex.data() + hex.size(), segment, 16);
    // The active segment still grows; a pinned one has appends whose commits are on their way.
    if (segment == active || pinned.contains(segment)) continue;
    STRATUS_ASSIGN_OR_RETURN(Counts c, ParseCounts(kv.value));
    if (c.live == 0) {
      bool done = false;
      STRATUS_RETURN_IF_ERROR(RetireIfEmpty(segment, now_ms, done));
      retired += done ? 1 : 0;
    } else if (static_cast<double>(c.live) < options_.compact_below * static_cast<double>(c.end)) {
      STRATUS_ASSIGN_OR_RETURN(int64_t n, CompactSegment(segment));
      if (n > 0) {
        std::lock_guard lock(mu_);
        unlink_at_.emplace_back(segment, now_ms + options_.unlink_grace_ms);
      }
      retired += n;
    }
  }
  UnlinkDue(now_ms);
  return retired;
}

void SegmentStore::CompactLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    compact_cv_.wait_for(lock, kCompactInterval,
                         [this] { return stopping_ || sealed_since_compact_; });
    if (stopping_) break;
    lock.unlock();
    auto r = CompactNow();
    if (!r.ok()) spdlog::warn("segment store: compaction failed: {}", r.error().message);
    lock.lock();
  }
}

}  // namespace stratus::store
