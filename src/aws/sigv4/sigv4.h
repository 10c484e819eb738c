#pragma once
// AWS Signature Version 4: parsing a signed request (Authorization header or presigned query),
// building the canonical request and string to sign, verifying the signature, and signing
// outgoing requests. Pure functions, thread-safe, no exceptions: failures a request can cause are
// returned as AWS-shaped errors (see "Errors" below). Used by the front door for every AWS API
// request and by IAM enforcement. Chunked (`aws-chunked`) request bodies are decoded by
// aws/sigv4/aws_chunked.h.
//
// Canonicalization follows the SigV4 specification and what AWS's own signers do:
//  * Canonical URI. For every service but S3 the raw (still percent-encoded) request path is
//    normalized — dot segments removed, repeated slashes collapsed, as RFC 3986 §5.2.4 with
//    AWS's slash rule — and then URI-encoded once more, so "%2F" on the wire signs as "%252F"
//    ("double encoding"). S3 signs the path exactly as sent: no normalization, and each byte is
//    written in canonical percent form once (an escape "%xx" keeps its meaning, an unreserved
//    character is written literally, anything else is escaped, "/" separates segments and an
//    escaped "%2F" stays escaped). Which rule applies follows the credential scope's service
//    (see IsS3Service), so a request is canonicalized the way its signer did.
//  * Canonical query. Every parameter's name and value are percent-decoded ('+' is a plus, not a
//    space) and re-encoded in canonical form; pairs are sorted by encoded name, then by encoded
//    value. For a presigned request X-Amz-Signature is left out.
//  * Canonical headers. The signed headers in the order the signer listed them, lowercase
//    names, values trimmed with runs of whitespace collapsed to one space, repeated headers
//    joined with ',' in arrival order. A signed header absent from the request is written with
//    an empty value (so the signature will not match unless the signer did the same).
//  * Payload hash. The literal value of x-amz-content-sha256 when the request carries it
//    (a hex SHA-256, UNSIGNED-PAYLOAD, or a STREAMING-* value); for a presigned S3 request
//    without it, UNSIGNED-PAYLOAD (or the X-Amz-Content-Sha256 query parameter); otherwise the
//    hex SHA-256 of the body.
//
// Errors. AWS names the same failure differently per protocol family, so every function that can
// fail takes a SigV4Dialect and returns the exact code, HTTP status and message that family uses
// (kQuery | kJson | kS3):
//   malformed signature:       IncompleteSignature 400 | IncompleteSignatureException 400 |
//                              AuthorizationHeaderMalformed / AuthorizationQueryParametersError 400
//   not SigV4 at all:          MissingAuthenticationToken 403 |
//                              MissingAuthenticationTokenException 400 | InvalidRequest 400
//   signature mismatch:        SignatureDoesNotMatch 403 | InvalidSignatureException 400 |
//                              SignatureDoesNotMatch 403
//   stale/future X-Amz-Date:   SignatureDoesNotMatch 403 | InvalidSignatureException 400 |
//                              RequestTimeTooSkewed 403
//                              ("Signature expired: … is now earlier than … (… - 15 min.)")
//   presigned URL expired:     RequestExpired 400 | RequestExpired 400 |
//                              AccessDenied 403 "Request has expired"
//   body != x-amz-content-sha256: SignatureDoesNotMatch 403 | InvalidSignatureException 400 |
//                              XAmzContentSHA256Mismatch 400
// The kQuery/kJson mismatch messages carry the canonical request and string to sign, as AWS's
// do; S3 puts them in the error's fields (CanonicalRequest, StringToSign, ...) instead. kJson
// uses 400 as DynamoDB, Kinesis and CloudWatch Logs do; rest-json services such as Lambda answer
// the same codes with 403, which the front door sets on the returned Error.
// The front door may parse before it knows the service (and so the dialect) of a request: when
// ParseSigV4 fails it can call it again with the right dialect once the service is known.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http.h"
#include "core/result.h"

namespace stratus::aws {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kSigV4Terminator = "aws4_request";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingSignedPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedPayloadTrailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedPayloadTrailer =
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
// The hex SHA-256 of the empty string.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// How far X-Amz-Date may be from the server's clock (AWS: 15 minutes either way).
inline constexpr int64_t kMaxClockSkewSeconds = int64_t{15} * 60;
// The longest validity a presigned URL may ask for (X-Amz-Expires, AWS: one week).
inline constexpr int64_t kMaxPresignExpiresSeconds = int64_t{7} * 24 * 3600;

// The protocol family whose error codes a failure is reported with (see the table above).
enum class SigV4Dialect {
  kQuery,  // awsQuery / ec2 protocols: STS, SQS (query), SNS, IAM, CloudFormation, ...
  kJson,   // json 1.0 / 1.1 and rest-json: DynamoDB, Lambda, Logs, Kinesis, Step Functions, ...
  kS3,     // S3's rest-xml errors, with their extra fields
};

// What a request claims about its signer, parsed without verifying anything.
struct SigV4Claim {
  std::string algorithm;  // "AWS4-HMAC-SHA256"
  std::string access_key_id;
  std::string date;  // credential scope date, "20150830"
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lowercase, in the order given
  std::string signature;                    // lowercase hex
  std::string amz_date;        // "20150830T123600Z": X-Amz-Date, or the Date header reformatted
  int64_t request_time = 0;    // amz_date as epoch seconds
  std::string security_token;  // X-Amz-Security-Token, if any
  bool presigned = false;      // from the query string (X-Amz-Signature)
  std::optional<int64_t> expires_seconds;  // presigned X-Amz-Expires
  std::string payload_hash;  // x-amz-content-sha256 when sent (header, or presigned query)

  // "20150830/us-east-1/service/aws4_request"
  std::string CredentialScope() const;
};

// True for the services that sign with S3's rules (no path normalization, single encoding):
// "s3", "s3-object-lambda", "s3-outposts", "s3express".
bool IsS3Service(std::string_view service);

// Parses the SigV4 claim of a request. Returns nullopt when the request carries no signature at
// all (no Authorization header and no X-Amz-Algorithm/X-Amz-Credential/X-Amz-Signature query
// parameter: anonymous). Returns the dialect's error when it carries a malformed one: missing
// Credential/SignedHeaders/Signature or date, a credential that is not
// key/date/region/service/aws4_request, an algorithm other than AWS4-HMAC-SHA256, a date not in
// ISO 8601 basic format, both header and query signatures, or a bad X-Amz-Expires.
Result<std::optional<SigV4Claim>> ParseSigV4(const HttpRequest& request,
                                             SigV4Dialect dialect = SigV4Dialect::kQuery);

// The canonical URI of a raw (percent-encoded) request path, by the rules above. `s3` selects
// S3's rule. An empty path is "/".
std::string CanonicalUri(std::string_view raw_path, bool s3);
// The canonical query string of a raw query (without '?'). `presigned` drops X-Amz-Signature.
std::string CanonicalQueryString(std::string_view raw_query, bool presigned);
// The payload hash the signer used, by the rules above.
std::string PayloadHash(const HttpRequest& request, const SigV4Claim& claim);

// The canonical request (task 1 of the SigV4 spec) for `request` as signed by `claim`.
// `payload_hash` is the hex SHA-256 of the body, or the literal from x-amz-content-sha256
// (see PayloadHash). The URI rule follows IsS3Service(claim.service).
std::string CanonicalRequest(const HttpRequest& request, const SigV4Claim& claim,
                             std::string_view payload_hash);
// The string to sign (task 2) for a canonical request.
std::string StringToSign(const SigV4Claim& claim, std::string_view canonical_request);
// The signing key (task 3), raw 32 bytes, for a secret, scope date, region and service.
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);
// The lowercase hex signature over a string to sign.
std::string Sign(std::string_view signing_key, std::string_view string_to_sign);

// Remembers recently derived signing keys. A key depends on (secret, scope date, region, service),
// so it changes once a day per credential and scope, while deriving it costs four HMACs (about a
// fifth of a verification, docs/sigv4.md). Thread-safe: a mutex guards a small table that is
// searched linearly and overwritten round-robin; entries match on all four inputs exactly.
class SigningKeyCache {
 public:
  static constexpr size_t kDefaultCapacity = 64;
  explicit SigningKeyCache(size_t capacity = kDefaultCapacity);
  SigningKeyCache(const SigningKeyCache&) = delete;
  SigningKeyCache& operator=(const SigningKeyCache&) = delete;

  // SigningKey(secret, date, region, service), from the table when it is there.
  std::string Get(std::string_view secret_access_key, std::string_view date,
                  std::string_view region, std::string_view service);

 private:
  struct Entry {
    std::string secret, date, region, service, key;
  };
  std::mutex mu_;
  std::vector<Entry> entries_;  // guarded by mu_; at most capacity_
  size_t next_ = 0;             // guarded by mu_: the entry replaced next once full
  size_t capacity_;             // set once at construction
};

// Verifies the claim against `secret_access_key` at time `now_epoch_seconds`, in this order:
// the request time (header form: within kMaxClockSkewSeconds of now; presigned: not before
// X-Amz-Date minus the skew and not after X-Amz-Date plus X-Amz-Expires), 'host' among the
// signed headers, the scope date equal to the date of X-Amz-Date, the signature, and finally a
// hex x-amz-content-sha256 against the body. Returns the dialect's error for the first failure.
// A STREAMING-* payload is not checked here: its chunks are verified by DecodeAwsChunked.
Status VerifySigV4(const HttpRequest& request, const SigV4Claim& claim,
                   std::string_view secret_access_key, int64_t now_epoch_seconds,
                   SigV4Dialect dialect = SigV4Dialect::kQuery);
// As above, taking the signing key from `keys` (what the front door does on every request).
Status VerifySigV4(const HttpRequest& request, const SigV4Claim& claim,
                   std::string_view secret_access_key, int64_t now_epoch_seconds,
                   SigV4Dialect dialect, SigningKeyCache& keys);

// Signs an outgoing request in place: sets X-Amz-Date, x-amz-content-sha256 (the body's hash,
// or `payload_hash` when given, e.g. UNSIGNED-PAYLOAD), X-Amz-Security-Token when a session
// token is given, and Authorization. Signs every header present except hop-by-hop ones,
// user-agent, expect, x-amzn-trace-id and authorization; the request must carry a Host header.
// For tests and for stratus calling AWS-shaped endpoints.
void SignRequest(HttpRequest& request, std::string_view access_key_id,
                 std::string_view secret_access_key, std::string_view region,
                 std::string_view service, int64_t now_epoch_seconds,
                 std::string_view session_token = {}, std::string_view payload_hash = {});

// Presigns an outgoing request in place: appends X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-SignedHeaders (host only), X-Amz-Security-Token when given and finally
// X-Amz-Signature to the query (updating `query` and `target`). S3 requests sign
// UNSIGNED-PAYLOAD, others the body's hash, as AWS's SDKs do.
void PresignRequest(HttpRequest& request, std::string_view access_key_id,
                    std::string_view secret_access_key, std::string_view region,
                    std::string_view service, int64_t now_epoch_seconds, int64_t expires_seconds,
                    std::string_view session_token = {});

// The account id derived from an access key id: AWS encodes the account in the key; stratus
// follows the community convention that a 12-digit key id is the account itself, and otherwise
// uses the default account 000000000000.
std::string AccountForAccessKey(std::string_view access_key_id);

}  // namespace stratus::aws
