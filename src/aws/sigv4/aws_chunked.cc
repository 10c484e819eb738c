#include "aws/sigv4/aws_chunked.h"

#include <algorithm>
#include <cstdio>

#include "aws/sigv4/aws_chunked_stream.h"
#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::aws {

Error AwsChunkedIncompleteBody() {
  return Error("IncompleteBody", "The request body terminated unexpectedly", 400);
}
Error AwsChunkedMalformed(const std::string& what) {
  return Error("InvalidRequest", "The aws-chunked request body is malformed: " + what, 400);
}
Error AwsChunkedMalformedTrailer() {
  return Error("MalformedTrailerError",
               "The request contained trailing data that was not well-formed or did not conform "
               "to our published schema.",
               400);
}
Error AwsChunkedSignatureMismatch() {
  return Error("SignatureDoesNotMatch",
               "The request signature we calculated does not match the signature you provided. "
               "Check your key and signing method.",
               403);
}

namespace {

constexpr std::string_view kChunkAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD";
constexpr std::string_view kTrailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER";


std::string ChunkSignatureOfHash(const ChunkSigningContext& ctx, std::string_view previous,
                                 std::string_view data_sha256_hex) {
  std::string sts;
  sts.reserve(256);
  sts += kChunkAlgorithm;
  sts.push_back('\n');
  sts += ctx.amz_date;
  sts.push_back('\n');
  sts += ctx.scope;
  sts.push_back('\n');
  sts += previous;
  sts.push_back('\n');
  sts += kEmptySha256;
  sts.push_back('\n');
  sts += data_sha256_hex;
  return Sign(ctx.signing_key, sts);
}

std::string ChunkSignature(const ChunkSigningContext& ctx, std::string_view previous,
                           std::string_view data) {
  return ChunkSignatureOfHash(ctx, previous, Sha256Hex(data));
}

std::string TrailerSignature(const ChunkSigningContext& ctx, std::string_view previous,
                             std::vector<std::pair<std::string, std::string>> trailers) {
  std::stable_sort(trailers.begin(), trailers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical;
  for (const auto& [name, value] : trailers) {
    canonical += name;
    canonical.push_back(':');
    canonical += value;
    canonical.push_back('\n');
  }
  std::string sts;
  sts += kTrailerAlgorithm;
  sts.push_back('\n');
  sts += ctx.amz_date;
  sts.push_back('\n');
  sts += ctx.scope;
  sts.push_back('\n');
  sts += previous;
  sts.push_back('\n');
  sts += Sha256Hex(canonical);
  return Sign(ctx.signing_key, sts);
}

}  // namespace

std::optional<AwsChunkedMode> AwsChunkedModeFor(std::string_view content_sha256) {
  if (content_sha256 == kStreamingSignedPayload) return AwsChunkedMode::kSigned;
  if (content_sha256 == kStreamingSignedPayloadTrailer) return AwsChunkedMode::kSignedTrailer;
  if (content_sha256 == kStreamingUnsignedPayloadTrailer) return AwsChunkedMode::kUnsignedTrailer;
  return std::nullopt;
}

ChunkSigningContext ChunkSigningContextFor(const SigV4Claim& claim,
                                           std::string_view secret_access_key) {
  return ChunkSigningContext{SigningKey(secret_access_key, claim.date, claim.region, claim.service),
                             claim.amz_date, claim.CredentialScope(), claim.signature};
}

std::string AwsChunkSignature(const ChunkSigningContext& signing, std::string_view previous,
                              std::string_view data_sha256_hex) {
  return ChunkSignatureOfHash(signing, previous, data_sha256_hex);
}

std::string AwsTrailerSignature(const ChunkSigningContext& signing, std::string_view previous,
                                std::vector<std::pair<std::string, std::string>> trailers) {
  return TrailerSignature(signing, previous, std::move(trailers));
}

namespace {

// Collects a whole body's payload from the decoder and checks the chain of chunk signatures.
class CollectingConsumer final : public ChunkConsumer {
 public:
  CollectingConsumer(std::string& payload, const std::optional<ChunkSigningContext>& signing)
      : payload_(payload), signing_(signing) {
    if (signing_) previous_ = signing_->seed_signature;
  }
  void Data(std::string_view data) override { payload_.append(data); }
  void ChunkEnd(std::string_view signature) override {
    std::string_view chunk = std::string_view(payload_).substr(chunk_start_);
    chunk_start_ = payload_.size();
    if (mismatch_) return;
    if (signature.empty()) {
      mismatch_ = true;
      return;
    }
    std::string expected = ChunkSignature(*signing_, previous_, chunk);
    if (!ConstantTimeEquals(expected, signature)) mismatch_ = true;
    previous_ = std::move(expected);
  }
  bool mismatch() const { return mismatch_; }
  const std::string& previous() const { return previous_; }

 private:
  std::string& payload_;
  const std::optional<ChunkSigningContext>& signing_;
  std::string previous_;     // the last verified signature in the chain
  size_t chunk_start_ = 0;   // where the current chunk's data begins in payload_
  bool mismatch_ = false;
};

}  // namespace

Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body, AwsChunkedMode mode,
                                        const std::optional<ChunkSigningContext>& signing) {
  bool is_signed = mode != AwsChunkedMode::kUnsignedTrailer;
  if (is_signed && !signing) {
    return InternalFailure("bug: a signed aws-chunked body was decoded without a signing context");
  }
  AwsChunkedBody out;
  out.payload.reserve(body.size());
  ChunkStreamDecoder decoder(mode, body.size());
  CollectingConsumer consumer(out.payload, signing);
  Status fed = decoder.Feed(body, consumer);
  // A wrong signature met before the framing broke is the answer, as it would be mid-stream.
  if (consumer.mismatch()) return AwsChunkedSignatureMismatch();
  STRATUS_RETURN_IF_ERROR(fed);
  STRATUS_RETURN_IF_ERROR(decoder.End());
  if (consumer.mismatch()) return AwsChunkedSignatureMismatch();
  out.trailers = decoder.trailers();
  if (mode == AwsChunkedMode::kSignedTrailer) {
    if (decoder.trailer_signature().empty()) return AwsChunkedSignatureMismatch();
    std::string expected = TrailerSignature(*signing, consumer.previous(), out.trailers);
    if (!ConstantTimeEquals(expected, decoder.trailer_signature())) {
      return AwsChunkedSignatureMismatch();
    }
  }
  return out;
}

Result<AwsChunkedBody> DecodeAwsChunkedRequest(const HttpRequest& request, const SigV4Claim& claim,
                                               std::string_view secret_access_key) {
  std::optional<AwsChunkedMode> mode = AwsChunkedModeFor(claim.payload_hash);
  if (!mode) {
    return Error("InvalidArgument",
                 "x-amz-content-sha256 '" + claim.payload_hash +
                     "' does not announce an aws-chunked body this server decodes.",
                 400);
  }
  std::optional<ChunkSigningContext> ctx;
  if (*mode != AwsChunkedMode::kUnsignedTrailer) {
    ctx = ChunkSigningContextFor(claim, secret_access_key);
  }
  STRATUS_ASSIGN_OR_RETURN(AwsChunkedBody decoded, DecodeAwsChunked(request.body, *mode, ctx));

  if (auto declared = request.headers.Get("x-amz-decoded-content-length")) {
    std::optional<int64_t> length = ParseInt64(Trim(*declared));
    if (!length || *length < 0 || static_cast<uint64_t>(*length) != decoded.payload.size()) {
      return AwsChunkedMalformed("the decoded length " + std::to_string(decoded.payload.size()) +
                       " differs from x-amz-decoded-content-length " + std::string(*declared));
    }
  }
  if (auto declared = request.headers.Get("x-amz-trailer")) {
    std::vector<std::string> names;
    for (const std::string& n : Split(*declared, ',')) {
      std::string_view t = Trim(n);
      if (!t.empty()) names.push_back(ToLower(t));
    }
    for (const auto& [name, value] : decoded.trailers) {
      if (std::find(names.begin(), names.end(), name) == names.end()) return AwsChunkedMalformedTrailer();
    }
  }
  return decoded;
}

std::string EncodeAwsChunked(std::string_view payload, size_t chunk_size,
                             const std::optional<ChunkSigningContext>& signing,
                             const std::vector<std::pair<std::string, std::string>>& trailers) {
  if (chunk_size == 0) chunk_size = payload.size() ? payload.size() : 1;
  std::string out;
  out.reserve(payload.size() + (payload.size() / chunk_size + 2) * 100);
  std::string previous = signing ? signing->seed_signature : std::string();
  auto write_chunk = [&](std::string_view data) {
    char size_hex[24];
    int n = std::snprintf(size_hex, sizeof(size_hex), "%zx", data.size());
    out.append(size_hex, static_cast<size_t>(n));
    if (signing) {
      previous = ChunkSignature(*signing, previous, data);
      out += ';';
      out += kAwsChunkSignatureExt;
      out += previous;
    }
    out += "\r\n";
    if (!data.empty()) {
      out.append(data);
      out += "\r\n";
    }
  };
  for (size_t off = 0; off < payload.size(); off += chunk_size) {
    write_chunk(payload.substr(off, chunk_size));
  }
  write_chunk({});
  if (!trailers.empty()) {
    std::vector<std::pair<std::string, std::string>> lowered;
    for (const auto& [name, value] : trailers) {
      out += name;
      out += ':';
      out += value;
      out += "\r\n";
      lowered.emplace_back(ToLower(name), std::string(Trim(value)));
    }
    if (signing) {
      out += kAwsTrailerSignatureName;
      out += ':';
      out += TrailerSignature(*signing, previous, std::move(lowered));
      out += "\r\n";
    }
  }
  out += "\r\n";
  return out;
}

}  // namespace stratus::aws
