#pragma once
// HTTP rules S3 applies to object reads and writes: byte ranges (RFC 9110, single ranges) and
// conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) with
// S3's precedence. Pure functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::s3 {

struct ByteRange {
  uint64_t start = 0;
  uint64_t length = 0;
  // "bytes start-end/size"
  std::string ContentRange(uint64_t size) const;
};

// The range a Range header selects in an object of `size` bytes. nullopt = serve the whole
// object (no header, a header S3 ignores: not "bytes=", several ranges, malformed numbers).
// InvalidRange (416) when the range is well-formed but unsatisfiable.
Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size);

enum class Precondition { kProceed, kNotModified };

// Evaluates the conditional members of a GetObject/HeadObject input (IfMatch, IfNoneMatch,
// IfModifiedSince, IfUnmodifiedSince; timestamps as epoch seconds) against an object's ETag
// (unquoted) and Last-Modified. PreconditionFailed (412) names the failing header.
// `prefix` selects the CopySource* members of CopyObject/UploadPartCopy ("CopySource"), whose
// failures are all 412 (a copy never answers 304).
Result<Precondition> EvaluateConditions(const Json& input, std::string_view etag,
                                        int64_t last_modified_ms, std::string_view prefix = "");

// True when an If-Match / If-None-Match list ("a", "b" or *) names `etag`.
bool EtagListMatches(std::string_view list, std::string_view etag);

}  // namespace stratus::services::s3
