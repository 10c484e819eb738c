#pragma once
// store::BlobStore — byte strings too large for Store values (S3 object bodies, multipart parts)
// kept as immutable files beside the Store, and referenced from Store transactions.
//
// How a blob becomes durable and visible, atomically with the metadata that names it:
//   1. Put/Concat/Copy writes the bytes to <dir>/tmp/<id>, fsyncs the file, renames it to
//      <dir>/<id[0..2]>/<id> and fsyncs that directory; nothing refers to it yet.
//   2. The caller commits one Store::Write that records the id in its own metadata and calls
//      Reference(txn, id). Only after that commit is the blob part of any visible state.
// A crash between 1 and 2 leaves a file no reference names: CollectOrphans deletes it. A caller
// whose commit fails calls Discard(id).
//
// Dropping a blob: the transaction that drops the metadata calls Unreference(txn, id, now), which
// marks the reference as dying and enqueues (durably, in the same commit) the file's deletion
// for now + delete_grace_ms, so that responses already streaming from the file — a reader is
// handed a path (FileBody), the server opens it a moment later — finish first. RunDeletions,
// called periodically by the owner, unlinks files whose grace has passed and removes their
// reference keys. A crash anywhere in between leaves the queue item, which is retried.
//
// Store keys and queues used (prefix "blob/"): blob/ref/<id> ("" = live, "d" = dying) and the
// queue "blob/delete". Blob ids are 32 lowercase hex characters; a path is built only from a
// well-formed id, so no input can name a file outside the directory.
//
// Small values (S3 bodies up to a few hundred KiB) do not get a file each: the BlobStore owns a
// SegmentStore (segment_store.h) that appends them to shared, group-synced segment files, in
// `segment_dir` (<dir>/segments by default) — see segments().
//
// In-memory mode (empty `dir`): a private directory under $TMPDIR, removed by the destructor.
// Thread-safe: every method may be called concurrently; blobs are immutable once written.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/http.h"
#include "core/result.h"
#include "store/segment_store.h"
#include "store/store.h"

namespace stratus::store {

struct BlobOptions {
  std::string dir;                    // "" = a private temporary directory
  bool fsync = true;                  // fsync files and directories before Put returns
  int64_t delete_grace_ms = 60'000;   // how long an unreferenced file stays readable
  bool segments = true;               // open a SegmentStore for small values (segments())
  std::string segment_dir;            // "" = <dir>/segments
  uint64_t segment_bytes = uint64_t{64} << 20;  // SegmentOptions::segment_bytes
};

// A byte range of an existing blob.
struct BlobRange {
  std::string id;
  uint64_t offset = 0;
  uint64_t length = 0;
};

class BlobStore;

// A blob written piece by piece as its bytes arrive (a request body streamed from the socket),
// published like Put's once whole. Writeback of what is written starts every few MiB, so the
// final fsync waits for little; once durable, the blob's pages are dropped from the page cache
// (a streamed body is not expected to be read back at once, and the next one reuses them). Destroying a writer that was not finished (or whose Finish
// failed) removes its temporary file. Not thread-safe: one writer per body, used by one thread
// at a time.
class BlobWriter {
 public:
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Appends bytes. After a failure (disk full) later appends are ignored and Finish fails.
  Status Append(std::string_view data);
  uint64_t size() const { return size_; }
  // Makes the blob durable and gives it its place; returns its id (not yet referenced, as after
  // Put). Callable once.
  Result<std::string> Finish();

 private:
  friend class BlobStore;
  BlobWriter(BlobStore& blobs, std::string id, std::string tmp_path, int fd);
  BlobStore& blobs_;
  const std::string id_;
  const std::string tmp_path_;
  int fd_;              // -1 once finished
  uint64_t size_ = 0;
  uint64_t flushed_ = 0;  // bytes whose writeback has been started
  uint64_t previous_flushed_ = 0;  // flushed_ one writeback step earlier
  uint64_t dropped_ = 0;  // bytes below which clean pages were dropped from the page cache
  std::optional<Error> failed_;
};

class BlobStore {
 public:
  // Opens (creating if needed) the blob directory. Fails with a message naming the directory
  // when it cannot be created or written. `store` must outlive the BlobStore.
  static Result<std::unique_ptr<BlobStore>> Open(Store& store, BlobOptions options);
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  // Writes `data` as a new, not yet referenced blob; returns its id. `while_flushing`, when
  // given, runs after the bytes are handed to the kernel and their writeback has started, before
  // the fsync waits for it: CPU work on the same bytes (hashing) overlaps the disk's.
  Result<std::string> Put(std::string_view data, const std::function<void()>& while_flushing = {});
  // Starts a blob written piece by piece (see BlobWriter). The writer must not outlive the store.
  Result<std::unique_ptr<BlobWriter>> NewWriter();
  // Writes the concatenation of `ranges` of existing blobs as a new blob (multipart completion,
  // ranged copies), copying in the kernel where it can.
  Result<std::string> Concat(const std::vector<BlobRange>& ranges);

  // Within the caller's transaction: the blob is referenced by committed metadata. Fails if the
  // file does not exist (a bug or a discarded id).
  Status Reference(WriteTxn& txn, std::string_view id);
  // Within the caller's transaction: the metadata naming the blob is gone; its file is deleted
  // once `now_ms + delete_grace_ms` has passed.
  Status Unreference(WriteTxn& txn, std::string_view id, int64_t now_ms);
  // Deletes a blob that was never referenced (the commit that would have named it failed).
  void Discard(std::string_view id);

  // The file region holding bytes [offset, offset + length) of a blob, for streaming responses.
  FileBody Body(std::string_view id, uint64_t offset, uint64_t length) const;
  // Reads bytes of a blob into memory (small reads: copies into a Store value, tests).
  Result<std::string> Read(std::string_view id, uint64_t offset, uint64_t length) const;
  // The size of a blob's file, or an error when it does not exist.
  Result<uint64_t> Size(std::string_view id) const;

  // Unlinks files whose deletion is due at `now_ms`; returns how many.
  Result<int64_t> RunDeletions(int64_t now_ms);
  // Deletes blob files (and temp files) that no reference names and that were last modified
  // before `modified_before_ms` (so that blobs between their write and their commit are left
  // alone). Returns how many files were removed.
  Result<int64_t> CollectOrphans(int64_t modified_before_ms);

  const std::string& dir() const { return dir_; }
  // The store for small values, or nullptr when BlobOptions::segments is false.
  SegmentStore* segments() { return segments_.get(); }
  // True when `id` is a well-formed blob id.
  static bool ValidId(std::string_view id);

 private:
  BlobStore(Store& store, BlobOptions options, std::string dir, bool owns_dir);
  std::string PathOf(std::string_view id) const;
  Result<std::string> Publish(const std::string& tmp_path, const std::string& id, int fd);
  friend class BlobWriter;

  Store& store_;
  const BlobOptions options_;
  const std::string dir_;
  const bool owns_dir_;  // in-memory mode: the directory is removed by the destructor
  std::unique_ptr<SegmentStore> segments_;  // closed before the directory goes
};

}  // namespace stratus::store
