#include "services/s3/streamed_body.h"

#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <set>

#include "aws/sigv4/aws_chunked.h"
#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/errors.h"

namespace stratus::services::s3 {

namespace {

// Query parameters a streamed PUT may carry: those of PutObject and UploadPart, and of presigned
// URLs (SigV4 and legacy SigV2). Any other names a subresource whose body is small XML.
const std::set<std::string, std::less<>> kStreamableQuery = {
    "partNumber",          "uploadId",        "x-id",         "X-Amz-Algorithm",
    "X-Amz-Credential",    "X-Amz-Date",      "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature",     "X-Amz-Security-Token", "X-Amz-Content-Sha256", "AWSAccessKeyId",
    "Signature",           "Expires"};

// The chunk size line of an aws-chunked body is no longer than this (as aws_chunked.cc).
constexpr size_t kMaxChunkHeaderLine = 4096;
constexpr size_t kMaxHexSizeDigits = 16;
constexpr size_t kMaxTrailerBytes = 16 * 1024;

Error IncompleteBody() {
  return Error("IncompleteBody", "The request body terminated unexpectedly", 400);
}
Error Malformed(const std::string& what) {
  return Error("InvalidRequest", "The aws-chunked request body is malformed: " + what, 400);
}
Error MalformedTrailer() {
  return Error("MalformedTrailerError",
               "The request contained trailing data that was not well-formed or did not conform "
               "to our published schema.",
               400);
}

// An OpenSSL message digest fed piece by piece.
class EvpHash {
 public:
  explicit EvpHash(const EVP_MD* md) : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, md, nullptr); }
  ~EvpHash() { EVP_MD_CTX_free(ctx_); }
  EvpHash(const EvpHash&) = delete;
  EvpHash& operator=(const EvpHash&) = delete;
  void Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Final() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return std::string(reinterpret_cast<char*>(out), n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

bool IsHexSha256(std::string_view v) {
  return v.size() == 64 && std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

}  // namespace

// MD5 and the announced checksums of the payload, computed as it streams; final values are
// taken once, by Finish.
class ObjectBodySink::Digester final : public BodyDigests {
 public:
  explicit Digester(std::set<std::string> algorithms) : md5_(EVP_md5()) {
    for (const std::string& a : algorithms) {
      if (a == "SHA1") sha1_ = std::make_unique<EvpHash>(EVP_sha1());
      if (a == "SHA256") sha256_ = std::make_unique<EvpHash>(EVP_sha256());
      if (a == "CRC32" || a == "CRC32C" || a == "CRC64NVME") crcs_.emplace_back(a, 0);
    }
  }
  void Update(std::string_view data) {
    md5_.Update(data);
    if (sha1_) sha1_->Update(data);
    if (sha256_) sha256_->Update(data);
    for (auto& [a, crc] : crcs_) {
      if (a == "CRC32") crc = Crc32(data, static_cast<uint32_t>(crc));
      if (a == "CRC32C") crc = Crc32c(data, static_cast<uint32_t>(crc));
      if (a == "CRC64NVME") crc = Crc64Nvme(data, crc);
    }
  }
  void Finish() {
    md5_value_ = md5_.Final();
    if (sha1_) values_["SHA1"] = Base64Encode(sha1_->Final());
    if (sha256_) values_["SHA256"] = Base64Encode(sha256_->Final());
    for (const auto& [a, crc] : crcs_) values_[a] = ChecksumValue(a, crc);
  }
  std::string Md5() const override { return md5_value_; }
  std::optional<std::string> Compute(std::string_view algorithm) const override {
    auto it = values_.find(std::string(algorithm));
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

 private:
  EvpHash md5_;
  std::unique_ptr<EvpHash> sha1_, sha256_;
  std::vector<std::pair<std::string, uint64_t>> crcs_;
  std::string md5_value_;
  std::map<std::string, std::string> values_;
};

// Decodes STREAMING-UNSIGNED-PAYLOAD-TRAILER framing incrementally, with the rules and errors of
// aws::DecodeAwsChunked for that mode.
class ObjectBodySink::ChunkDecoder {
 public:
  // Feeds wire bytes; payload bytes go to `out`. Stops at the first error.
  template <typename Out>
  Status Feed(std::string_view in, Out&& out) {
    while (!in.empty()) {
      switch (state_) {
        case State::kSize: {
          size_t nl = in.find('\n');
          std::string_view part = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
          line_ += part;
          in.remove_prefix(part.size());
          if (nl == std::string_view::npos) {
            if (line_.size() > kMaxChunkHeaderLine) return Malformed("chunk header too long");
            break;
          }
          if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
            return Malformed("invalid chunk size '" + std::string(Trim(line_)) + "'");
          }
          std::string_view header(line_.data(), line_.size() - 2);
          if (header.size() > kMaxChunkHeaderLine) return Malformed("chunk header too long");
          std::string_view size_text = Trim(header.substr(0, header.find(';')));
          if (size_text.empty() || size_text.size() > kMaxHexSizeDigits) {
            return Malformed("invalid chunk size '" + std::string(size_text) + "'");
          }
          uint64_t size = 0;
          for (char c : size_text) {
            int d = (c >= '0' && c <= '9')   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
            if (d < 0) return Malformed("invalid chunk size '" + std::string(size_text) + "'");
            size = size * 16 + static_cast<uint64_t>(d);
          }
          line_.clear();
          left_ = size;
          state_ = size == 0 ? State::kTrailers : State::kData;
          break;
        }
        case State::kData: {
          size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size()));
          out(in.substr(0, n));
          in.remove_prefix(n);
          left_ -= n;
          if (left_ == 0) state_ = State::kDataEnd;
          break;
        }
        case State::kDataEnd: {
          line_.push_back(in.front());
          in.remove_prefix(1);
          if (line_.size() == 2) {
            if (line_ != "\r\n") return Malformed("chunk data not followed by CRLF");
            line_.clear();
            state_ = State::kSize;
          }
          break;
        }
        case State::kTrailers: {
          size_t nl = in.find('\n');
          std::string_view part = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
          line_ += part;
          in.remove_prefix(part.size());
          if (line_.size() > kMaxTrailerBytes) return MalformedTrailer();
          if (nl == std::string_view::npos) break;
          STRATUS_RETURN_IF_ERROR(TrailerLine());
          break;
        }
        case State::kDone:
          if (in.find_first_not_of("\r\n") != std::string_view::npos) {
            return Malformed("unexpected data after the trailers");
          }
          in = {};
          break;
      }
    }
    return Status::Ok();
  }

  // The body has ended: whether the framing did.
  Status End() {
    switch (state_) {
      case State::kSize:
      case State::kData:
      case State::kDataEnd:
        return IncompleteBody();
      case State::kTrailers:
        // A last trailer line without its line end, or none after the last chunk.
        if (!line_.empty()) STRATUS_RETURN_IF_ERROR(TrailerLine());
        return Status::Ok();
      case State::kDone:
        return Status::Ok();
    }
    return Status::Ok();
  }

  std::vector<std::pair<std::string, std::string>>& trailers() { return trailers_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailers, kDone };

  Status TrailerLine() {
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      state_ = State::kDone;
      line_.clear();
      return Status::Ok();
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return MalformedTrailer();
    trailers_.emplace_back(ToLower(Trim(line.substr(0, colon))),
                           std::string(Trim(line.substr(colon + 1))));
    line_.clear();
    return Status::Ok();
  }

  State state_ = State::kSize;
  std::string line_;  // a partial size line, chunk terminator or trailer line
  uint64_t left_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;
};

std::shared_ptr<ObjectBodySink> ObjectBodySink::Open(store::BlobStore& blobs,
                                                     const HttpRequest& head,
                                                     const aws::SigV4Claim* claim) {
  if (head.method != "PUT" || head.headers.Has("x-amz-copy-source")) return nullptr;
  for (const auto& [name, value] : ParseQuery(head.query)) {
    if (!kStreamableQuery.contains(name)) return nullptr;
  }
  std::string_view sha = claim && !claim->payload_hash.empty()
                             ? std::string_view(claim->payload_hash)
                             : head.headers.GetOr("x-amz-content-sha256");
  std::unique_ptr<ChunkDecoder> chunked;
  if (StartsWith(sha, "STREAMING-")) {
    auto mode = aws::AwsChunkedModeFor(sha);
    // Signed chunks are verified on the in-memory path.
    if (!mode || *mode != aws::AwsChunkedMode::kUnsignedTrailer) return nullptr;
    chunked = std::make_unique<ChunkDecoder>();
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
  std::string claimed = !chunked && IsHexSha256(sha) ? ToLower(sha) : std::string();
  if (!claimed.empty()) algorithms.insert("SHA256");
  return std::shared_ptr<ObjectBodySink>(new ObjectBodySink(
      std::move(writer).value(), std::make_unique<Digester>(std::move(algorithms)),
      std::move(chunked), std::move(claimed)));
}

ObjectBodySink::ObjectBodySink(std::unique_ptr<store::BlobWriter> writer,
                               std::unique_ptr<Digester> digests,
                               std::unique_ptr<ChunkDecoder> chunked, std::string claimed_sha256)
    : writer_(std::move(writer)),
      digests_(std::move(digests)),
      chunked_(std::move(chunked)),
      claimed_sha256_(std::move(claimed_sha256)) {}

ObjectBodySink::~ObjectBodySink() = default;

void ObjectBodySink::Payload(std::string_view data) {
  payload_size_ += data.size();
  digests_->Update(data);
  if (Status st = writer_->Append(data); !st.ok()) failed_ = std::move(st).error();
}

void ObjectBodySink::Append(std::string_view piece) {
  if (failed_) return;
  if (!chunked_) {
    Payload(piece);
    return;
  }
  Status st = chunked_->Feed(piece, [this](std::string_view data) {
    if (!failed_) Payload(data);
  });
  if (!st.ok() && !failed_) failed_ = std::move(st).error();
}

Status ObjectBodySink::Complete(HttpRequest& request) {
  if (failed_) return *failed_;
  digests_->Finish();
  if (!claimed_sha256_.empty()) {
    // The SHA-256 of a plain body is its payload's.
    std::string actual = HexEncode(Base64Decode(*digests_->Compute("SHA256")).value_or(""));
    if (actual != claimed_sha256_) {
      Error e("XAmzContentSHA256Mismatch",
              "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
      e.fields["ClientComputedContentSHA256"] = claimed_sha256_;
      e.fields["S3ComputedContentSHA256"] = actual;
      return e;
    }
  }
  if (!chunked_) return Status::Ok();
  STRATUS_RETURN_IF_ERROR(chunked_->End());
  if (auto declared = request.headers.Get("x-amz-decoded-content-length")) {
    auto n = ParseInt64(Trim(*declared));
    if (!n || *n < 0 || static_cast<uint64_t>(*n) != payload_size_) {
      return Malformed("the decoded length " + std::to_string(payload_size_) +
                       " differs from x-amz-decoded-content-length " + std::string(*declared));
    }
  }
  std::vector<std::string> declared;
  for (const std::string& n : Split(request.headers.GetOr("x-amz-trailer"), ',')) {
    std::string t = ToLower(Trim(n));
    if (!t.empty()) declared.push_back(std::move(t));
  }
  for (auto& [name, value] : chunked_->trailers()) {
    // A checksum must be announced for it to have been computed while the body streamed.
    bool checksum = StartsWith(name, "x-amz-checksum-");
    if ((!declared.empty() || checksum) &&
        std::find(declared.begin(), declared.end(), name) == declared.end()) {
      return MalformedTrailer();
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

const BodyDigests& ObjectBodySink::digests() const { return *digests_; }

Result<std::string> ObjectBodySink::Publish() {
  if (failed_) return *failed_;
  return writer_->Finish();
}

ObjectBodySink* ObjectBodySink::Of(const HttpRequest& request) {
  return dynamic_cast<ObjectBodySink*>(request.streamed_body.get());
}

}  // namespace stratus::services::s3
