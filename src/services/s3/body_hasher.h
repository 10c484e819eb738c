#pragma once
// The digests of a body that is being received, computed on a worker pool instead of the thread
// that receives it, so that receiving and writing (io thread) overlap hashing (a pool thread):
// MD5 (the ETag), the checksums the request announces, and for a signed aws-chunked body the
// SHA-256 of every chunk with its place in the signature chain (aws/sigv4/aws_chunked.h).
//
// The receiving thread copies payload bytes into 1 MiB blocks; a full block goes to the pool,
// where a body's blocks are hashed in order by up to two lanes at once: one computes MD5 (the
// ETag, the one digest every body needs and the slowest, ~850 MB/s per core), the other the
// announced checksums and the chunk signatures, so that a single body hashes at MD5's pace
// rather than at the sum of its digests'. One task at a time per lane; a block is reused once
// both lanes are done with it. A body with nothing but MD5 to compute has one lane, and so has
// every body when the pool has fewer than kMinThreadsToSplit threads: on two cores the receiver
// and two lanes outnumber the cores, and splitting measured slower than one lane (docs/s3.md). At most kMaxQueuedBytes wait per body, and at most the pool's
// backlog limit across all bodies (so many uploads at once cannot hold more memory than that
// between them): past either, Data blocks its caller until the pool has caught up — the same
// io-thread time as hashing inline, but only when receivers outrun the hashers. A pool task never
// waits on anything, so bodies cannot deadlock each other however few threads the pool has.
// Memory per body beyond its queued blocks: the block being filled and one spare.
//
// Thread-safety: Data, ChunkEnd, Close and Cancel from one thread at a time (the receiver);
// Failed from any thread; Wait from any one thread after Close, then digests() and
// last_signature() from that thread.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "aws/sigv4/aws_chunked.h"
#include "core/result.h"
#include "core/worker_pool.h"
#include "services/s3/checksums.h"

namespace stratus::services::s3 {

// The threads streamed bodies are hashed on and the memory their queued blocks may take between
// them; one per S3 service, outliving every body. Thread-safe.
class HashingPool {
 public:
  // Whether a body's MD5 and its other digests hash in two lanes at once (see BodyHasher).
  enum class Lanes { kAuto, kOne, kTwo };
  static constexpr size_t kMinThreadsToSplit = 3;  // kAuto splits from this many threads
  HashingPool(size_t threads, size_t max_backlog_bytes, Lanes lanes = Lanes::kAuto);
  WorkerPool& workers() { return workers_; }
  bool split_digests() const { return split_digests_; }
  // Takes `n` bytes of the backlog budget, waiting while it is spent (a block may always be
  // queued when nothing else is).
  void Acquire(size_t n);
  void Release(size_t n);

 private:
  WorkerPool workers_;
  const size_t max_backlog_bytes_;
  const bool split_digests_;
  std::mutex mu_;  // guards used_
  std::condition_variable cv_;
  size_t used_ = 0;
};

class BodyHasher {
 public:
  static constexpr size_t kBlockBytes = 1 << 20;
  static constexpr size_t kMaxQueuedBytes = 8 << 20;

  // `algorithms`: the checksums to compute besides MD5 (kChecksumAlgorithms names). `signing`:
  // given when chunk signatures are to be verified against it. `pool` must outlive the hasher's
  // queued work (the owner's pool, destroyed after every body).
  BodyHasher(HashingPool& pool, std::set<std::string> algorithms,
             std::optional<aws::ChunkSigningContext> signing);
  ~BodyHasher();
  BodyHasher(const BodyHasher&) = delete;
  BodyHasher& operator=(const BodyHasher&) = delete;

  // Payload bytes (copied).
  void Data(std::string_view data);
  // The chunk whose data ended with the last Data claims `signature` (hex, lowercase).
  void ChunkEnd(std::string_view signature);
  // No more data: queues what is left.
  void Close();
  // Drops queued work (the body failed); Wait must not be called after it.
  void Cancel();
  // True once a chunk signature is known to be wrong (a hint to stop receiving early).
  bool Failed() const;

  // Waits for every queued block to be hashed. SignatureDoesNotMatch when a chunk's signature
  // was missing or wrong.
  Status Wait();
  // After Wait: the digests, and the last chunk's verified signature (the trailer's "previous").
  const BodyDigests& digests() const;
  const std::string& last_signature() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace stratus::services::s3
