#pragma once
// store::SegmentStore — small byte strings (S3 bodies of at most a few hundred KiB) appended to
// shared, append-only segment files beside the Store, group-synced, and referenced from Store
// transactions by an id the caller chooses.
//
// Why: a small value kept inside the Store costs its pages in the WAL and again in the database
// (a 4 KiB body wrote ~28 KiB); one file per value costs a create, an fsync and a directory
// fsync. Appending to a shared file writes the bytes once, and one fdatasync covers every
// append made while the previous one ran.
//
// How bytes become durable and visible, atomically with the metadata that names them:
//   1. Append/AppendAsync writes the bytes at the end of the active segment and answers once an
//      fdatasync that started after the write has returned (appends arriving during one sync share
//      the next). The answer is an Extent (segment, offset, length, CRC32C); nothing refers to it.
//   2. The caller commits one Store::Write that records its metadata and calls
//      Reference(txn, id, extent). Only after that commit are the bytes part of any visible state.
//   3. The caller calls Settle(extent) once that commit has ended, committed or not: until then
//      the extent's segment is pinned (never compacted nor removed).
// So a committed record never names bytes that were not synced. Bytes past the last committed
// extent of a segment are garbage: Open truncates them, and removes segment files that no
// committed extent names (a crash between 1 and 2).
//
// Dead space: Unreference (in the transaction that drops the metadata) removes the extent and
// lowers its segment's live-byte count in the same commit. A background thread compacts sealed
// segments whose live bytes fall below `compact_below` of their length: it copies their live
// extents to the active segment, syncs, flips the extent records in one transaction, and unlinks
// the old file `unlink_grace_ms` later (a reader that looked the extent up just before the flip
// still finds the file). Segments with no live bytes are dropped without copying. A crash at any
// point leaves either the old records (the copies are garbage, truncated or dead) or the new ones
// (the old file has no record: Open removes it).
//
// Zeros ahead: an append's fdatasync is cheapest when the blocks it lands on are already
// allocated and written and the file's size does not change: ext4 then writes the data only,
// not the inode too (one I/O instead of two; measured on this ext4: 65-75 -> 41 us of CPU and
// 180-230 -> 99 us per fdatasync of 32 KiB). A background thread therefore writes zeros ahead of
// the active segment's end, in chunks, and fdatasyncs them, off the appends' path. The zeros
// change nothing else: bytes past a segment's last committed extent were already garbage, and
// Open truncates them (a sealed segment's file is its committed bytes plus zeros until then).
// Even then ext4 (without a journal) writes the inode's block on every fdatasync after a write
// changed the file's mtime, i.e. most of them: a second I/O round trip and ~50-100 us of CPU in
// this VM. So on ext4 the pre-commit sync of appends that all lie inside synced zeros is
// sync_file_range (write the data, wait for it) and one fdatasync of a clean regular file
// (internal::OpenDeviceFlushFile), whose only effect is the device's cache flush: the same bytes
// durable before the COMMIT starts, without the inode (its mtime reaches the disk by ordinary
// writeback).
//
// Store keys (prefix "seg/"): seg/x/<id> → "<segment> <offset> <length> <crc32c>" (an extent) and
// seg/s/<segment, 16 hex> → "<live bytes> <end>" (end = the end of its last committed extent).
// Files: <dir>/<segment, 16 hex>.seg; a path is built only from a number.
//
// Thread-safe: every method may be called concurrently. AppendAsync's `done` runs on the store's
// flusher thread (or on the calling thread when fsync is off, or on failure before the write).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace stratus::store {

struct SegmentOptions {
  std::string dir;                               // created if missing; required
  bool fsync = true;                             // fdatasync before an append is answered
  uint64_t segment_bytes = uint64_t{64} << 20;   // a segment is sealed once this long
  double compact_below = 0.5;                    // live/length ratio under which a sealed
                                                 // segment is compacted
  int64_t unlink_grace_ms = 10'000;              // how long a retired file stays readable
  bool background = true;                        // compaction and zeroing threads (tests call
                                                 // CompactNow)
  // With fsync and background: the active segment is kept written with zeros, and synced, this
  // far past its end (see "Zeros ahead" below); 0 = never.
  uint64_t zero_ahead_bytes = uint64_t{4} << 20;
  // With fsync, on ext4: a pre-commit sync of appends that all landed inside synced zeros is
  // sync_file_range (the data written and waited for) plus one device cache flush, instead of an
  // fdatasync that would also write the inode (see "Zeros ahead"). false = always fdatasync.
  bool range_sync = true;
};

// Where an appended byte string lives.
struct Extent {
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t crc = 0;  // CRC32C of the bytes
  bool operator==(const Extent&) const = default;
};

// The CRC32C an Extent carries: core's Crc32c, computed with SSE4.2 where the CPU has it.
uint32_t SegmentCrc32c(std::string_view data);

struct SegmentStats {
  int64_t appends = 0;
  int64_t syncs = 0;              // fdatasync calls made for appends (one per group)
  int64_t commit_syncs = 0;       // of which pre-commit syncs on the store's writer thread
  int64_t compacted_segments = 0; // segments whose live extents were copied and flipped
  int64_t retired_segments = 0;   // segment files removed (compacted or emptied)
  int64_t moved_bytes = 0;        // live bytes copied by compaction
  int64_t zeroed_bytes = 0;       // zeros written ahead of active segments' ends
  int64_t range_syncs = 0;        // of commit_syncs, data-only syncs inside synced zeros
};

class SegmentStore {
 public:
  // Opens the directory, recovers (truncates uncommitted tails, removes segment files without
  // committed extents, drops emptied segments) and starts the flusher (and compactor) threads.
  // `store` must outlive the SegmentStore.
  static Result<std::unique_ptr<SegmentStore>> Open(Store& store, SegmentOptions options);
  // Answers every append already made (after its sync) and stops the threads.
  ~SegmentStore();
  SegmentStore(const SegmentStore&) = delete;
  SegmentStore& operator=(const SegmentStore&) = delete;

  using AppendDone = std::function<void(Result<Extent>)>;
  // Appends `data` (1 byte at least) and calls `done` once it is durable (see the header comment;
  // `done` must be quick). The extent is pinned until Settle.
  void AppendAsync(std::string_view data, AppendDone done);
  // The blocking form of AppendAsync. Must not be called from the flusher thread.
  Result<Extent> Append(std::string_view data);
  // Writes `data` (1 byte at least) at the end of the active segment and answers at once, before
  // any sync: the extent is pinned until Settle, and may be named only by a transaction that
  // calls Reference — Reference asks the Store to fdatasync the segment on its writer thread just
  // before that transaction's group commit (WriteTxn::SyncBeforeCommit), so one segment sync and
  // one WAL fsync cover a whole batch of PUTs, in that order, with no hand-off between them.
  Result<Extent> AppendForCommit(std::string_view data);
  // Ends the pin of an appended extent: its referencing commit has ended (either way). Once.
  void Settle(const Extent& extent);

  // Within the caller's transaction: `id` (1..128 bytes) names `extent`; its segment's live
  // bytes grow, and the commit is made durable only after every segment write made before this
  // call has been fdatasync'd (SyncBeforeCommit). An id already naming an extent is an error (a
  // bug), and so is an extent in a segment whose sync failed. The live-byte counts that Reference
  // and Unreference change are written once per physical commit (WriteTxn::AddBeforeCommit), not
  // once per call: a commit of many PUTs reads and writes its segment's count row once.
  Status Reference(WriteTxn& txn, std::string_view id, const Extent& extent);
  // Within the caller's transaction: `id` no longer names anything; its segment's live bytes
  // shrink. An unknown id is not an error (nothing to release).
  Status Unreference(WriteTxn& txn, std::string_view id);
  // The extent `id` names, as of the transaction's snapshot.
  static Result<std::optional<Extent>> Find(ReadTxn& txn, std::string_view id);
  // Bytes [offset, offset + length) of an extent; the whole extent's CRC is checked when the
  // whole of it is read. Errors (InternalFailure) when the file is missing or short, or the CRC
  // does not match.
  Result<std::string> Read(const Extent& extent, uint64_t offset, uint64_t length);
  Result<std::string> Read(const Extent& extent) { return Read(extent, 0, extent.length); }

  // Compacts (or drops) every sealed, unpinned segment under the threshold now, and unlinks
  // retired files whose grace has passed at `now_ms` (0 = the system clock). Returns how many
  // segments were retired. The background thread calls it after each seal and periodically.
  Result<int64_t> CompactNow(int64_t now_ms = 0);

  SegmentStats Stats() const;
  const std::string& dir() const { return options_.dir; }
  std::string PathOf(uint64_t segment) const;
  // The segment appends go to now (0 before the first append).
  uint64_t ActiveSegmentForTest() const;
  // While paused, the flusher leaves appends waiting (a test sees them grouped into one sync).
  void PauseFlusherForTest(bool paused);
  // While paused, the zeroing thread holds the chunk it chose (appends must skip it) unwritten.
  void PauseZeroingForTest(bool paused);

 private:
  struct File;
  struct Pending {
    Extent extent;
    AppendDone done;
    std::shared_ptr<File> file;
  };
  SegmentStore(Store& store, SegmentOptions options, uint64_t next_segment);
  Status Recover();
  Result<std::shared_ptr<File>> OpenFile(uint64_t segment);  // for reading; cached
  void FlushLoop();
  void CompactLoop();
  // Writes zeros ahead of the active segment's end while NeedsZerosLocked (the zeroing thread).
  void ZeroLoop();
  bool NeedsZerosLocked() const;  // mu_ held
  Result<int64_t> CompactSegment(uint64_t segment);
  // Writes at the end of the active segment (opening a new one when needed); mu_ held.
  Result<Extent> WriteLocked(std::string_view data, uint32_t crc);
  // fdatasyncs every file written by AppendForCommit since the last call (the pre-commit sync).
  Status SyncDirty();
  Status RetireIfEmpty(uint64_t segment, int64_t now_ms, bool& retired);
  void UnlinkDue(int64_t now_ms);

  Store& store_;
  const SegmentOptions options_;

  mutable std::mutex mu_;
  std::condition_variable flush_cv_;     // pending_ grew, or stopping_
  std::condition_variable compact_cv_;   // a segment was sealed, or stopping_
  std::condition_variable zero_cv_;      // the active segment's end neared its zeros, or stopping_
  bool stopping_ = false;                // guarded by mu_
  uint64_t next_segment_;                // guarded by mu_
  std::shared_ptr<File> active_;         // guarded by mu_; the segment appends go to
  uint64_t active_end_ = 0;              // guarded by mu_
  std::vector<Pending> pending_;         // guarded by mu_; written, waiting for a sync
  std::map<uint64_t, int64_t> pins_;     // guarded by mu_; appended, not yet settled
  std::map<uint64_t, std::shared_ptr<File>> files_;  // guarded by mu_; open for reading
  std::vector<std::pair<uint64_t, int64_t>> unlink_at_;  // guarded by mu_; retired segments
  bool sealed_since_compact_ = false;    // guarded by mu_
  bool flush_paused_ = false;            // guarded by mu_ (PauseFlusherForTest)
  bool zero_paused_ = false;             // guarded by mu_ (PauseZeroingForTest)
  std::vector<std::shared_ptr<File>> dirty_;  // guarded by mu_; AppendForCommit, not synced
  std::set<uint64_t> broken_;            // guarded by mu_; segments whose fdatasync failed
  SegmentStats stats_;                   // guarded by mu_
  std::mutex compact_mu_;                // one compaction at a time
  std::thread flusher_;
  std::thread compactor_;
  std::thread zeroer_;
  // A descriptor of options_.dir whose fdatasync flushes the device (range syncs), or -1.
  int flush_fd_ = -1;
};

}  // namespace stratus::store
