#pragma once
// Object bodies received as they arrive (core/server's BodySink) instead of in memory: the bytes
// go to a BlobWriter on the receiving io thread while a BodyHasher computes, on the S3 service's
// hashing pool, their MD5 (the ETag), the checksums the request announces and, for a body signed
// with a hex x-amz-content-sha256, its SHA-256. An aws-chunked body is decoded on the way
// (aws::ChunkStreamDecoder, the one aws-chunked decoder), whichever its mode: unsigned
// trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER, the SDKs' default), or signed chunks
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]), whose chain of chunk signatures and trailer signature are verified as the chunks are hashed, when
// the request's own signature verifies with kKnownSecret (request_prep.h: otherwise the framing
// alone is decoded, as on the in-memory path).
//
// Which requests stream: PUTs of an object key (PutObject, UploadPart) of 1 MiB or more
// (FrontDoor::kStreamedBodyMinBytes), up to 5 GiB of wire bytes.
//
// Life of a body: Open (io thread, headers only) → Append per piece (io thread) → Complete in
// PrepareRequest (io thread: the framing's verdict; trailers become headers as DecodeChunkedBody
// makes them) → Settle in the handler (worker thread: waits for the hashing, then the signature
// verdicts and XAmzContentSHA256Mismatch) → digests() and Publish. A body never published is
// removed when the sink is destroyed, so nothing half-written (or unverified) is ever visible.
//
// Thread-safety: one thread at a time; the server's dispatch orders Append before Complete, and
// the handler runs after PrepareRequest.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4/aws_chunked.h"
#include "aws/sigv4/sigv4.h"
#include "core/http.h"
#include "core/result.h"
#include "services/s3/checksums.h"
#include "store/blob_store.h"

namespace stratus::aws {
class ChunkStreamDecoder;
}  // namespace stratus::aws

namespace stratus::services::s3 {

class BodyHasher;
class HashingPool;

class ObjectBodySink final : public BodySink {
 public:
  // A sink for `head`'s body, or null when S3 does not stream it (see above). `hashers` runs the
  // hashing and must outlive the sink; `now_ms` is the arrival time (a signed chunked body's
  // request signature is checked against it).
  static std::shared_ptr<ObjectBodySink> Open(store::BlobStore& blobs, HashingPool& hashers,
                                              const HttpRequest& head, const aws::SigV4Claim* claim,
                                              int64_t now_ms);
  ~ObjectBodySink() override;

  void Append(std::string_view piece) override;

  // Once the whole body has arrived: S3's error for broken aws-chunked framing (IncompleteBody,
  // InvalidRequest, MalformedTrailerError), a chunk signature already known to be wrong
  // (SignatureDoesNotMatch), InvalidRequest for a signed chunked body without a signed request,
  // or a write failure; otherwise moves the trailers into `request`'s headers, drops
  // "aws-chunked" from its Content-Encoding and sets Content-Length to the payload's size.
  // Does not wait for the hashing.
  Status Complete(HttpRequest& request);
  // After Complete succeeded: waits for the hashing; SignatureDoesNotMatch for a wrong or missing
  // chunk or trailer signature, XAmzContentSHA256Mismatch for a plain body whose SHA-256 is not
  // the one it was signed with. May block: call it on a worker thread.
  Status Settle();

  uint64_t size() const { return payload_size_; }
  // Valid after Settle succeeded.
  const BodyDigests& digests() const;
  // Makes the payload a durable blob (not yet referenced); callable once, after Settle.
  Result<std::string> Publish();

  // For tests: the sink of a request, or null when `request` carries none of ours.
  static ObjectBodySink* Of(const HttpRequest& request);

 private:
  class Consumer;
  ObjectBodySink(std::unique_ptr<store::BlobWriter> writer, std::unique_ptr<BodyHasher> hasher,
                 std::unique_ptr<aws::ChunkStreamDecoder> chunked,
                 std::optional<aws::ChunkSigningContext> signing, bool signed_trailer,
                 std::string claimed_sha256);
  void Payload(std::string_view data);
  void Fail(Error error);

  std::unique_ptr<store::BlobWriter> writer_;
  std::unique_ptr<BodyHasher> hasher_;
  std::unique_ptr<aws::ChunkStreamDecoder> chunked_;  // null for a plain body
  std::unique_ptr<Consumer> consumer_;
  // A signed chunked body whose request signature verified: what its chunks are checked with.
  const std::optional<aws::ChunkSigningContext> signing_;
  const bool signed_trailer_;   // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  std::string claimed_sha256_;  // a hex x-amz-content-sha256 the body must match, lowercase
  uint64_t payload_size_ = 0;
  bool settled_ = false;
  std::optional<Error> failed_;
};

}  // namespace stratus::services::s3
