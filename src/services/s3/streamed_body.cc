#include "services/s3/streamed_body.h"

#include <algorithm>
#include <set>

#include "aws/sigv4/aws_chunked.h"
#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/body_hasher.h"
#include "aws/sigv4/aws_chunked_stream.h"
#include "services/s3/errors.h"
#include "services/s3/request_prep.h"

namespace stratus::services::s3 {

namespace {

// Query parameters a streamed PUT may carry: those of PutObject and UploadPart, and of presigned
// URLs (SigV4 and legacy SigV2). Any other names a subresource whose body is small XML.
const std::set<std::string, std::less<>> kStreamableQuery = {"partNumber",
                                                             "uploadId",
                                                             "x-id",
                                                             "X-Amz-Algorithm",
                                                             "X-Amz-Credential",
                                                             "X-Amz-Date",
                                                             "X-Amz-Expires",
                                                             "X-Amz-SignedHeaders",
                                                             "X-Amz-Signature",
                                                             "X-Amz-Security-Token",
                                                             "X-Amz-Content-Sha256",
                                                             "AWSAccessKeyId",
                                                             "Signature",
                                                             "Expires"};


bool IsHexSha256(std::string_view v) {
  return v.size() == 64 && std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

}  // namespace

// What the chunk decoder finds, routed to the sink (payload) and the hasher (chunk ends).
class ObjectBodySink::Consumer final : public aws::ChunkConsumer {
 public:
  explicit Consumer(ObjectBodySink& sink) : sink_(sink) {}
  void Data(std::string_view data) override {
    if (!sink_.failed_) sink_.Payload(data);
  }
  void ChunkEnd(std::string_view signature) override {
    if (!sink_.failed_) sink_.hasher_->ChunkEnd(signature);
  }

 private:
  ObjectBodySink& sink_;
};

std::shared_ptr<ObjectBodySink> ObjectBodySink::Open(store::BlobStore& blobs, HashingPool& hashers,
                                                     const HttpRequest& head,
                                                     const aws::SigV4Claim* claim, int64_t now_ms) {
  if (head.method != "PUT" || head.headers.Has("x-amz-copy-source")) return nullptr;
  for (const auto& [name, value] : ParseQuery(head.query)) {
    if (!kStreamableQuery.contains(name)) return nullptr;
  }
  std::string_view sha = claim && !claim->payload_hash.empty()
                             ? std::string_view(claim->payload_hash)
                             : head.headers.GetOr("x-amz-content-sha256");
  std::unique_ptr<aws::ChunkStreamDecoder> chunked;
  std::optional<aws::ChunkSigningContext> signing;
  std::optional<Error> refused;
  bool signed_trailer = false;
  if (StartsWith(sha, "STREAMING-")) {
    auto mode = aws::AwsChunkedModeFor(sha);
    if (!mode) return nullptr;  // SigV4a and others: the in-memory path refuses them
    auto wire_length = ParseInt64(Trim(head.headers.GetOr("content-length")));
    if (!wire_length || *wire_length < 0) return nullptr;
    chunked = std::make_unique<aws::ChunkStreamDecoder>(*mode, static_cast<uint64_t>(*wire_length));
    if (*mode != aws::AwsChunkedMode::kUnsignedTrailer) {
      signed_trailer = *mode == aws::AwsChunkedMode::kSignedTrailer;
      if (claim == nullptr) {
        refused =
            Error("InvalidRequest", "A signed aws-chunked payload needs a signed request.", 400);
      } else if (aws::VerifySigV4(head, *claim, kKnownSecret, now_ms / 1000, aws::SigV4Dialect::kS3)
                     .ok()) {
        signing = aws::ChunkSigningContextFor(*claim, kKnownSecret);
      }
      // Otherwise an unknown secret: the framing is decoded, signatures are not checked.
    }
  }
  // The checksums this body will be checked against or stored with.
  std::set<std::string> algorithms;
  auto announce = [&](std::string_view name) {
    std::string upper = ToUpper(Trim(name));
    if (std::find(std::begin(kChecksumAlgorithms), std::end(kChecksumAlgorithms), upper) !=
        std::end(kChecksumAlgorithms)) {
      algorithms.insert(upper);
    }
  };
  for (const auto& [name, value] : head.headers) {
    std::string lower = ToLower(name);
    if (StartsWith(lower, "x-amz-checksum-")) announce(std::string_view(lower).substr(15));
  }
  announce(head.headers.GetOr("x-amz-sdk-checksum-algorithm"));
  for (const std::string& t : Split(head.headers.GetOr("x-amz-trailer"), ',')) {
    std::string lower = ToLower(Trim(t));
    if (StartsWith(lower, "x-amz-checksum-")) announce(std::string_view(lower).substr(15));
  }
  auto writer = blobs.NewWriter();
  if (!writer.ok()) return nullptr;  // the in-memory path reports the disk's error
  // A plain body's claimed SHA-256 is checked with the SHA256 checksum's digest: hashed once.
  std::string claimed = !chunked && IsHexSha256(sha) ? ToLower(sha) : std::string();
  if (!claimed.empty()) algorithms.insert("SHA256");
  auto hasher = std::make_unique<BodyHasher>(hashers, std::move(algorithms), signing);
  std::shared_ptr<ObjectBodySink> sink(
      new ObjectBodySink(std::move(writer).value(), std::move(hasher), std::move(chunked),
                         std::move(signing), signed_trailer, std::move(claimed)));
  if (refused) sink->Fail(std::move(*refused));
  return sink;
}

ObjectBodySink::ObjectBodySink(std::unique_ptr<store::BlobWriter> writer,
                               std::unique_ptr<BodyHasher> hasher,
                               std::unique_ptr<aws::ChunkStreamDecoder> chunked,
                               std::optional<aws::ChunkSigningContext> signing, bool signed_trailer,
                               std::string claimed_sha256)
    : writer_(std::move(writer)),
      hasher_(std::move(hasher)),
      chunked_(std::move(chunked)),
      consumer_(std::make_unique<Consumer>(*this)),
      signing_(std::move(signing)),
      signed_trailer_(signed_trailer),
      claimed_sha256_(std::move(claimed_sha256)) {}

ObjectBodySink::~ObjectBodySink() = default;

void ObjectBodySink::Fail(Error error) {
  if (failed_) return;
  failed_ = std::move(error);
  hasher_->Cancel();
}

void ObjectBodySink::Payload(std::string_view data) {
  payload_size_ += data.size();
  hasher_->Data(data);
  if (Status st = writer_->Append(data); !st.ok()) Fail(std::move(st).error());
}

void ObjectBodySink::Append(std::string_view piece) {
  if (failed_) return;
  // A wrong chunk signature found by the hasher: stop writing what follows it.
  if (hasher_->Failed()) {
    Fail(aws::AwsChunkedSignatureMismatch());
    return;
  }
  if (!chunked_) {
    Payload(piece);
    return;
  }
  Status st = chunked_->Feed(piece, *consumer_);
  if (!st.ok()) Fail(std::move(st).error());
}

Status ObjectBodySink::Complete(HttpRequest& request) {
  if (failed_) return *failed_;
  if (chunked_) {
    if (Status st = chunked_->End(); !st.ok()) {
      Fail(st.error());
      return st;
    }
  }
  hasher_->Close();
  if (hasher_->Failed()) {
    Fail(aws::AwsChunkedSignatureMismatch());
    return *failed_;
  }
  if (!chunked_) return Status::Ok();
  if (auto declared = request.headers.Get("x-amz-decoded-content-length")) {
    auto n = ParseInt64(Trim(*declared));
    if (!n || *n < 0 || static_cast<uint64_t>(*n) != payload_size_) {
      Fail(aws::AwsChunkedMalformed("the decoded length " + std::to_string(payload_size_) +
                     " differs from x-amz-decoded-content-length " + std::string(*declared)));
      return *failed_;
    }
  }
  std::vector<std::string> declared;
  for (const std::string& n : Split(request.headers.GetOr("x-amz-trailer"), ',')) {
    std::string t = ToLower(Trim(n));
    if (!t.empty()) declared.push_back(std::move(t));
  }
  for (const auto& [name, value] : chunked_->trailers()) {
    // A checksum must be announced for it to have been computed while the body streamed.
    bool checksum = StartsWith(name, "x-amz-checksum-");
    if ((!declared.empty() || checksum) &&
        std::find(declared.begin(), declared.end(), name) == declared.end()) {
      Fail(aws::AwsChunkedMalformedTrailer());
      return *failed_;
    }
    request.headers.Set(name, value);
  }
  if (auto enc = request.headers.Get("content-encoding")) {
    std::vector<std::string> kept;
    for (const std::string& c : Split(*enc, ',')) {
      std::string t(Trim(c));
      if (!t.empty() && ToLower(t) != "aws-chunked") kept.push_back(t);
    }
    if (kept.empty()) {
      request.headers.Remove("content-encoding");
    } else {
      request.headers.Set("Content-Encoding", Join(kept, ","));
    }
  }
  request.headers.Set("Content-Length", std::to_string(payload_size_));
  return Status::Ok();
}

Status ObjectBodySink::Settle() {
  if (failed_) return *failed_;
  if (settled_) return Status::Ok();
  if (Status st = hasher_->Wait(); !st.ok()) {
    Fail(st.error());
    return st;
  }
  if (signing_ && signed_trailer_) {
    const std::string& claimed = chunked_->trailer_signature();
    std::string expected =
        aws::AwsTrailerSignature(*signing_, hasher_->last_signature(), chunked_->trailers());
    if (claimed.empty() || !ConstantTimeEquals(expected, claimed)) {
      Fail(aws::AwsChunkedSignatureMismatch());
      return *failed_;
    }
  }
  if (!claimed_sha256_.empty()) {
    // The SHA-256 of a plain body is its payload's.
    std::string actual =
        HexEncode(Base64Decode(*hasher_->digests().Compute("SHA256")).value_or(""));
    if (actual != claimed_sha256_) {
      Error e("XAmzContentSHA256Mismatch",
              "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
      e.fields["ClientComputedContentSHA256"] = claimed_sha256_;
      e.fields["S3ComputedContentSHA256"] = actual;
      Fail(e);
      return e;
    }
  }
  settled_ = true;
  return Status::Ok();
}

const BodyDigests& ObjectBodySink::digests() const { return hasher_->digests(); }

Result<std::string> ObjectBodySink::Publish() {
  if (failed_) return *failed_;
  if (!settled_) return InternalFailure("bug: a streamed body was published before Settle");
  return writer_->Finish();
}

ObjectBodySink* ObjectBodySink::Of(const HttpRequest& request) {
  return dynamic_cast<ObjectBodySink*>(request.streamed_body.get());
}

}  // namespace stratus::services::s3
