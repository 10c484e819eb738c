#pragma once
// What segment_store.cc (appends, syncs, reads) and segment_compaction.cc (recovery and
// compaction) share: the record formats, the file handle, and I/O helpers. Not an interface:
// only those two files include it.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/segment_store.h"
#include "store/store.h"

namespace stratus::store {

namespace internal {

inline constexpr std::string_view kExtentPrefix = "seg/x/";
inline constexpr std::string_view kCountsPrefix = "seg/s/";
inline constexpr std::string_view kSuffix = ".seg";
inline constexpr size_t kSegmentNameDigits = 16;
// The compactor looks at the counts this often even when no segment was sealed (deletes alone
// make dead space), and at once after a seal.
inline constexpr auto kCompactInterval = std::chrono::seconds(30);

struct Counts {
  uint64_t live = 0;
  uint64_t end = 0;
};

int64_t WallMillis();
Error IoError(const std::string& what, const std::string& path);
std::string ExtentKey(std::string_view id);
std::string CountsKey(uint64_t segment);
std::string FormatExtent(const Extent& e);
Result<Extent> ParseExtent(std::string_view text);
Result<Counts> ParseCounts(std::string_view text);
Result<Counts> LoadCounts(ReadTxn& txn, uint64_t segment);
Status AdjustCounts(WriteTxn& txn, uint64_t segment, int64_t live_delta, uint64_t end);
std::optional<uint64_t> SegmentOfName(std::string_view name);
bool SyncDir(const std::string& dir);

}  // namespace internal

struct SegmentStore::File {
  uint64_t segment = 0;
  int fd = -1;
  // Guarded by SegmentStore::mu_: zeros are written up to `zeroed`; [fence_from, fence_to) is
  // being written with zeros right now (empty when fence_to == 0): no append may land there.
  uint64_t zeroed = 0, fence_from = 0, fence_to = 0;
  // Guarded by SegmentStore::mu_: [zero_from, zero_to) is the latest contiguous run of zeros
  // written and fdatasync'd: its blocks are allocated and inside the file's durable size, so
  // bytes appended there need no metadata to be durable. (`zeroed` is not that: the first
  // kZeroLeadBytes are never zeroed, and it is set to the segment's size to stop the zeroing.)
  uint64_t zero_from = 0, zero_to = 0;
  // Guarded by SegmentStore::mu_: what AppendForCommit wrote since the last pre-commit sync, and
  // whether any of it lies outside [zero_from, zero_to) (then only an fdatasync will do).
  uint64_t unsynced_from = UINT64_MAX, unsynced_to = 0;
  bool unsynced_needs_metadata = false;
  File(uint64_t s, int f) : segment(s), fd(f) {}
  ~File() {
    if (fd >= 0) ::close(fd);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
};

}  // namespace stratus::store
