#pragma once
// SigV4 chunked uploads (`Content-Encoding: aws-chunked`): the body framing S3 clients use when
// x-amz-content-sha256 is one of the STREAMING-* values. Decoding turns such a body into the
// plain payload, verifies each chunk's signature when the upload is signed, and returns the
// trailing headers (x-amz-checksum-crc32 and friends) the newer SDKs send after the last chunk.
// Pure functions, thread-safe, no exceptions.
//
// Framing (S3 "Transferring payload in multiple chunks" and "Trailing headers"):
//   signed:    <hex size>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//   unsigned:  <hex size>\r\n<data>\r\n ... 0\r\n
// then, without trailer, a final \r\n; with trailer, lines "name:value\r\n" ending with an empty
// line, where a signed upload's last trailer line is x-amz-trailer-signature:<sig>.
// Chunk i's signature is HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" + amz date + "\n" +
// scope + "\n" + signature of chunk i-1 (the request's signature for the first) + "\n" +
// sha256("") + "\n" + sha256(data)); the trailer's is HMAC(signing key,
// "AWS4-HMAC-SHA256-TRAILER\n" + amz date + "\n" + scope + "\n" + last chunk's signature + "\n"
// + sha256 of the trailers written "name:value\n", lowercase names sorted).
//
// Decoding is lenient where real clients differ and strict where a byte would change meaning:
// chunk extensions other than chunk-signature are ignored, hex sizes may use either case, a
// missing final CRLF after the last chunk is accepted, and trailer lines may end with LF alone;
// but a size that is not hex, a chunk shorter than its size, data not followed by CRLF, or a
// missing or wrong signature is an error. S3's rule that every chunk but the last carries at
// least 8 KiB is not enforced.
//
// Errors (S3's codes, as only S3 accepts aws-chunked bodies):
//   IncompleteBody 400          the body ends before the framing does
//   InvalidRequest 400          a chunk header or chunk terminator that is not well-formed,
//                               or a decoded length that differs from x-amz-decoded-content-length
//   MalformedTrailerError 400   a trailer line without ':', or trailers not declared in
//                               x-amz-trailer
//   SignatureDoesNotMatch 403   a chunk or trailer signature missing or wrong
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4/sigv4.h"
#include "core/http.h"
#include "core/result.h"

namespace stratus::aws {

// Limits and errors of aws-chunked framing, shared by the in-memory decoder below and decoders
// that take a body as it streams in (S3's).
inline constexpr std::string_view kAwsChunkSignatureExt = "chunk-signature=";
inline constexpr std::string_view kAwsTrailerSignatureName = "x-amz-trailer-signature";
// A chunk size line longer than this is not a size line (16 hex digits plus a signature).
inline constexpr size_t kAwsChunkedMaxHeaderLine = 4096;
inline constexpr size_t kAwsChunkedMaxHexSizeDigits = 16;
// IncompleteBody (400): the body ended before its framing did.
Error AwsChunkedIncompleteBody();
// InvalidRequest (400) naming what is wrong with the framing.
Error AwsChunkedMalformed(const std::string& what);
// MalformedTrailerError (400).
Error AwsChunkedMalformedTrailer();
// SignatureDoesNotMatch (403), S3's text, for a request, chunk or trailer signature.
Error AwsChunkedSignatureMismatch();

// What x-amz-content-sha256 announces about an aws-chunked body.
enum class AwsChunkedMode {
  kSigned,           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  kSignedTrailer,    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  kUnsignedTrailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

// The mode for an x-amz-content-sha256 value; nullopt when the value is not a STREAMING-* value
// this decoder handles (a hex hash, UNSIGNED-PAYLOAD, or the SigV4a ECDSA variants).
std::optional<AwsChunkedMode> AwsChunkedModeFor(std::string_view content_sha256);

// What a signed chunk chain is verified against, all taken from the verified request.
struct ChunkSigningContext {
  std::string signing_key;     // raw, from SigningKey()
  std::string amz_date;        // "20130524T000000Z"
  std::string scope;           // "20130524/us-east-1/s3/aws4_request"
  std::string seed_signature;  // the request's own signature (hex)
};

// The context for a request whose claim has been verified with VerifySigV4.
ChunkSigningContext ChunkSigningContextFor(const SigV4Claim& claim,
                                           std::string_view secret_access_key);

// The signature of one chunk of a signed body, from the signature of the chunk before it (the
// seed signature for the first) and the hex SHA-256 of this chunk's data: for decoders that hash
// chunks as they arrive instead of holding them.
std::string AwsChunkSignature(const ChunkSigningContext& signing, std::string_view previous,
                              std::string_view data_sha256_hex);

// The signature of the trailers after the last chunk (`previous` is the last chunk's signature);
// names lowercase, values trimmed, x-amz-trailer-signature itself left out, in any order.
std::string AwsTrailerSignature(const ChunkSigningContext& signing, std::string_view previous,
                                std::vector<std::pair<std::string, std::string>> trailers);

struct AwsChunkedBody {
  std::string payload;
  // Trailing headers in arrival order, names lowercase, values trimmed; x-amz-trailer-signature
  // is verified and left out.
  std::vector<std::pair<std::string, std::string>> trailers;
};

// Decodes an aws-chunked body held in memory with the one decoder of the framing
// (aws_chunked_stream.h, which streamed bodies feed piece by piece). `signing` is required for the signed modes (a missing context is
// a bug, reported as InternalFailure) and ignored for kUnsignedTrailer.
Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body, AwsChunkedMode mode,
                                        const std::optional<ChunkSigningContext>& signing);

// Decodes the body of a request verified with VerifySigV4: the mode comes from the claim's
// payload hash (an error when it is not a STREAMING-* value), the signing context from the claim
// and secret; the decoded length must equal x-amz-decoded-content-length when that is sent, and
// every trailer must be named in x-amz-trailer when that is sent.
Result<AwsChunkedBody> DecodeAwsChunkedRequest(const HttpRequest& request, const SigV4Claim& claim,
                                               std::string_view secret_access_key);

// Encodes `payload` as an aws-chunked body in chunks of `chunk_size` bytes (the last may be
// shorter), signing them when `signing` is given (mode kSigned, or kSignedTrailer when trailers
// are given) and appending `trailers` after the last chunk. The inverse of DecodeAwsChunked, for
// tests and for stratus sending chunked uploads.
std::string EncodeAwsChunked(std::string_view payload, size_t chunk_size,
                             const std::optional<ChunkSigningContext>& signing,
                             const std::vector<std::pair<std::string, std::string>>& trailers = {});

}  // namespace stratus::aws
