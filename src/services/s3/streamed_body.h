#pragma once
// Object bodies received as they arrive (core/server's BodySink) instead of in memory: the bytes
// go to a BlobWriter while their MD5 (the ETag), the checksums the request announces and, for a
// body signed with a hex x-amz-content-sha256, its SHA-256 are computed; an aws-chunked body with
// unsigned trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER, the SDKs' default) is decoded on the way.
//
// Which requests stream: PUTs of an object key (PutObject, UploadPart) whose body is plain or
// unsigned aws-chunked. Bodies with signed chunks (STREAMING-AWS4-HMAC-SHA256-*) are left to the
// in-memory path, which verifies each chunk's signature.
//
// Life of a body: Open (io thread, headers only) → Append per piece (io thread) → Complete in
// PrepareRequest (the framing's verdict, trailers become headers as DecodeChunkedBody makes them)
// → the handler checks digests and calls Publish (worker thread). A body never published is
// removed when the sink is destroyed, so nothing half-written is ever visible.
//
// Thread-safety: one thread at a time; the server's dispatch orders Append before Complete.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4/sigv4.h"
#include "core/http.h"
#include "core/result.h"
#include "services/s3/checksums.h"
#include "store/blob_store.h"

namespace stratus::services::s3 {

class ObjectBodySink final : public BodySink {
 public:
  // A sink for `head`'s body, or null when S3 does not stream it (see above).
  static std::shared_ptr<ObjectBodySink> Open(store::BlobStore& blobs, const HttpRequest& head,
                                              const aws::SigV4Claim* claim);
  ~ObjectBodySink() override;

  void Append(std::string_view piece) override;

  // Once the whole body has arrived: S3's error for broken aws-chunked framing (IncompleteBody,
  // InvalidRequest, MalformedTrailerError), XAmzContentSHA256Mismatch, or a write failure;
  // otherwise moves the trailers into `request`'s headers, drops "aws-chunked" from its
  // Content-Encoding and sets Content-Length to the payload's size.
  Status Complete(HttpRequest& request);

  uint64_t size() const { return payload_size_; }
  // Valid after Complete succeeded.
  const BodyDigests& digests() const;
  // Makes the payload a durable blob (not yet referenced); callable once.
  Result<std::string> Publish();

  // For tests: the sink of a request, or null when `request` carries none of ours.
  static ObjectBodySink* Of(const HttpRequest& request);

 private:
  class Digester;
  class ChunkDecoder;
  ObjectBodySink(std::unique_ptr<store::BlobWriter> writer, std::unique_ptr<Digester> digests,
                 std::unique_ptr<ChunkDecoder> chunked, std::string claimed_sha256);
  void Payload(std::string_view data);

  std::unique_ptr<store::BlobWriter> writer_;
  std::unique_ptr<Digester> digests_;
  std::unique_ptr<ChunkDecoder> chunked_;  // null for a plain body
  std::string claimed_sha256_;  // a hex x-amz-content-sha256 the body must match, lowercase
  uint64_t payload_size_ = 0;
  std::optional<Error> failed_;
};

}  // namespace stratus::services::s3
