#include "aws/sigv4/aws_chunked.h"

#include <algorithm>
#include <cstdio>

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

// Reads one line ending in CRLF (or a bare LF when `lf_ok`) starting at `pos`; advances `pos`.
// nullopt when the body ends first.
std::optional<std::string_view> ReadLine(std::string_view body, size_t& pos, bool lf_ok) {
  size_t nl = body.find('\n', pos);
  if (nl == std::string_view::npos) return std::nullopt;
  size_t end = nl;
  if (end > pos && body[end - 1] == '\r') {
    --end;
  } else if (!lf_ok) {
    return std::nullopt;
  }
  std::string_view line = body.substr(pos, end - pos);
  pos = nl + 1;
  return line;
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

Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body, AwsChunkedMode mode,
                                        const std::optional<ChunkSigningContext>& signing) {
  bool is_signed = mode != AwsChunkedMode::kUnsignedTrailer;
  bool has_trailer = mode != AwsChunkedMode::kSigned;
  if (is_signed && !signing) {
    return InternalFailure("bug: a signed aws-chunked body was decoded without a signing context");
  }
  AwsChunkedBody out;
  std::string previous = is_signed ? signing->seed_signature : std::string();
  size_t pos = 0;

  while (true) {
    // The chunk header: "<hex size>[;ext=value]*".
    size_t line_start = pos;
    std::optional<std::string_view> line = ReadLine(body, pos, /*lf_ok=*/false);
    if (!line) {
      if (body.size() - line_start > kAwsChunkedMaxHeaderLine) return AwsChunkedMalformed("chunk header too long");
      return AwsChunkedIncompleteBody();
    }
    if (line->size() > kAwsChunkedMaxHeaderLine) return AwsChunkedMalformed("chunk header too long");
    size_t semi = line->find(';');
    std::string_view size_text = Trim(line->substr(0, semi));
    if (size_text.empty() || size_text.size() > kAwsChunkedMaxHexSizeDigits) {
      return AwsChunkedMalformed("invalid chunk size '" + std::string(size_text) + "'");
    }
    uint64_t size = 0;
    for (char c : size_text) {
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return AwsChunkedMalformed("invalid chunk size '" + std::string(size_text) + "'");
      size = size * 16 + static_cast<uint64_t>(d);
    }
    std::string_view chunk_signature;
    while (semi != std::string_view::npos) {
      size_t next = line->find(';', semi + 1);
      std::string_view ext = Trim(line->substr(
          semi + 1, next == std::string_view::npos ? std::string_view::npos : next - semi - 1));
      if (StartsWith(ext, kAwsChunkSignatureExt))
        chunk_signature = ext.substr(kAwsChunkSignatureExt.size());
      semi = next;
    }

    if (size > body.size() - pos) return AwsChunkedIncompleteBody();
    std::string_view data = body.substr(pos, static_cast<size_t>(size));
    pos += static_cast<size_t>(size);

    if (is_signed) {
      if (chunk_signature.empty()) return AwsChunkedSignatureMismatch();
      std::string expected = ChunkSignature(*signing, previous, data);
      if (!ConstantTimeEquals(expected, ToLower(chunk_signature))) return AwsChunkedSignatureMismatch();
      previous = std::move(expected);
    }

    if (size == 0) break;
    out.payload.append(data);
    if (body.size() - pos < 2) return AwsChunkedIncompleteBody();
    if (body[pos] != '\r' || body[pos + 1] != '\n') {
      return AwsChunkedMalformed("chunk data not followed by CRLF");
    }
    pos += 2;
  }

  if (!has_trailer) {
    // The last chunk's header is followed by an empty line; tolerate its absence.
    if (pos == body.size()) return out;
    std::optional<std::string_view> line = ReadLine(body, pos, /*lf_ok=*/true);
    if (!line || !line->empty() || pos != body.size()) {
      return AwsChunkedMalformed("unexpected data after the last chunk");
    }
    return out;
  }

  std::optional<std::string> trailer_signature;
  while (pos < body.size()) {
    std::optional<std::string_view> line = ReadLine(body, pos, /*lf_ok=*/true);
    if (!line) {
      // A last trailer line without its line end.
      line = body.substr(pos);
      pos = body.size();
    }
    if (line->empty()) break;
    size_t colon = line->find(':');
    if (colon == std::string_view::npos || colon == 0) return AwsChunkedMalformedTrailer();
    std::string name = ToLower(Trim(line->substr(0, colon)));
    std::string value(Trim(line->substr(colon + 1)));
    if (name == kAwsTrailerSignatureName) {
      trailer_signature = ToLower(value);
      continue;
    }
    out.trailers.emplace_back(std::move(name), std::move(value));
  }
  if (pos != body.size()) {
    // Only empty lines may follow the trailers' end.
    std::string_view rest = body.substr(pos);
    if (rest.find_first_not_of("\r\n") != std::string_view::npos) {
      return AwsChunkedMalformed("unexpected data after the trailers");
    }
  }
  if (is_signed) {
    if (!trailer_signature) return AwsChunkedSignatureMismatch();
    std::string expected = TrailerSignature(*signing, previous, out.trailers);
    if (!ConstantTimeEquals(expected, *trailer_signature)) return AwsChunkedSignatureMismatch();
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
