#include "services/s3/request_prep.h"

#include "aws/sigv4/aws_chunked.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace stratus::services::s3 {

Status CheckPresignedTime(const HttpRequest& request, const aws::SigV4Claim* claim,
                          int64_t now_ms) {
  if (claim == nullptr) {
    // Legacy SigV2 query authentication (what older SDKs presign with): Expires is absolute.
    std::string key, expires, signature;
    if (request.query.find("Signature=") == std::string::npos) return Status::Ok();
    for (auto& [k, v] : ParseQuery(request.query)) {
      if (k == "AWSAccessKeyId") key = v;
      if (k == "Expires") expires = v;
      if (k == "Signature") signature = v;
    }
    if (key.empty() || signature.empty() || expires.empty()) return Status::Ok();
    auto at = ParseInt64(expires);
    int64_t now = now_ms / 1000;
    if (at && now > *at) {
      Error e("AccessDenied", "Request has expired", 403);
      e.fields["Expires"] = FormatIso8601(static_cast<double>(*at));
      e.fields["ServerTime"] = FormatIso8601(static_cast<double>(now));
      return e;
    }
    return Status::Ok();
  }
  if (!claim->presigned) return Status::Ok();
  const aws::SigV4Claim& v4 = *claim;
  // Verification checks the time window first, whatever the secret: keep only its time verdict.
  Status st = aws::VerifySigV4(request, v4, kKnownSecret, now_ms / 1000, aws::SigV4Dialect::kS3);
  if (!st.ok() && st.error().code == "AccessDenied") return st;
  return Status::Ok();
}

Status DecodeChunkedBody(HttpRequest& request, const aws::SigV4Claim* claim, int64_t now_ms) {
  std::string_view sha = claim && !claim->payload_hash.empty()
                             ? std::string_view(claim->payload_hash)
                             : request.headers.GetOr("x-amz-content-sha256");
  std::optional<aws::AwsChunkedMode> mode = aws::AwsChunkedModeFor(sha);
  if (!mode) return Status::Ok();
  Result<aws::AwsChunkedBody> decoded = Error("InternalFailure", "not decoded");
  bool verified = false;
  if (*mode != aws::AwsChunkedMode::kUnsignedTrailer) {
    if (claim == nullptr) {
      return Error("InvalidRequest", "A signed aws-chunked payload needs a signed request.", 400);
    }
    verified = aws::VerifySigV4(request, *claim, kKnownSecret, now_ms / 1000,
                                aws::SigV4Dialect::kS3)
                   .ok();
  }
  if (verified || *mode == aws::AwsChunkedMode::kUnsignedTrailer) {
    if (claim) {
      decoded = aws::DecodeAwsChunkedRequest(request, *claim, kKnownSecret);
    } else {
      aws::SigV4Claim anonymous;
      anonymous.payload_hash = std::string(sha);
      decoded = aws::DecodeAwsChunkedRequest(request, anonymous, kKnownSecret);
    }
  } else {
    // Unknown secret: the framing is decoded, signatures are not checked (see kKnownSecret).
    decoded = aws::DecodeAwsChunked(request.body, aws::AwsChunkedMode::kUnsignedTrailer,
                                    std::nullopt);
    if (decoded.ok()) {
      if (auto declared = request.headers.Get("x-amz-decoded-content-length")) {
        auto n = ParseInt64(Trim(*declared));
        if (!n || static_cast<uint64_t>(*n) != decoded->payload.size()) {
          return Error("InvalidRequest",
                       "The aws-chunked request body is malformed: the decoded length " +
                           std::to_string(decoded->payload.size()) +
                           " differs from x-amz-decoded-content-length " + std::string(*declared),
                       400);
        }
      }
    }
  }
  if (!decoded.ok()) return std::move(decoded).error();
  request.body = std::move(decoded->payload);
  for (auto& [name, value] : decoded->trailers) request.headers.Set(name, value);
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
  request.headers.Set("Content-Length", std::to_string(request.body.size()));
  return Status::Ok();
}

void MoveBucketIntoPath(HttpRequest& request, const std::string& bucket) {
  std::string path = "/" + UrlEncode(bucket);
  if (request.path != "/" && !request.path.empty()) path += request.path;
  request.path = std::move(path);
  request.target = request.query.empty() ? request.path : request.path + "?" + request.query;
}

}  // namespace stratus::services::s3
