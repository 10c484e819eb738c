#pragma once
// Turning an S3 request into the form the model describes before the codec sees it
// (Service::PrepareRequest): presigned URL time checks, aws-chunked body decoding, and
// virtual-hosted buckets moved into the path. Pure functions over the request.
#include <cstdint>

#include "aws/sigv4/sigv4.h"
#include "core/http.h"
#include "core/result.h"

namespace stratus::services::s3 {

// The secret whose signatures S3 can check before IAM knows credentials: the one every SDK
// example, LocalStack user and test here signs with. Requests signed with another secret are
// served unverified, as every request is until signature enforcement exists.
inline constexpr std::string_view kKnownSecret = "test";

// A presigned URL outside its validity (SigV4: X-Amz-Date - 15 min .. X-Amz-Date +
// X-Amz-Expires; legacy SigV2 query auth with no claim: until Expires): AccessDenied "Request has
// expired" / "Request is not yet valid", with S3's extra fields.
Status CheckPresignedTime(const HttpRequest& request, const aws::SigV4Claim* claim,
                          int64_t now_ms);

// Decodes an aws-chunked body (x-amz-content-sha256 STREAMING-*): the payload replaces the
// body, trailers (x-amz-checksum-*) become headers, "aws-chunked" leaves Content-Encoding.
// Chunk and trailer signatures are verified when the request's signature verifies with
// kKnownSecret; otherwise the framing alone is decoded. S3's errors for broken framing
// (IncompleteBody, InvalidRequest, MalformedTrailerError) and bad chunk signatures
// (SignatureDoesNotMatch). A request without a STREAMING-* payload is left alone.
Status DecodeChunkedBody(HttpRequest& request, const aws::SigV4Claim* claim, int64_t now_ms);

// Moves a virtual-hosted bucket into the path: "/key" on host "b.s3.localhost" becomes
// "/b/key" ("/" becomes "/b").
void MoveBucketIntoPath(HttpRequest& request, const std::string& bucket);

}  // namespace stratus::services::s3
