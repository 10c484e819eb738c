#pragma once
// Helpers shared by sigv4.cc (canonical requests, verification) and sigv4_parse.cc (parsing a
// claim). Internal to src/aws/sigv4.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/sigv4/sigv4.h"

namespace stratus::aws::sigv4_internal {

// Query parameters of the presigned form.
inline constexpr std::string_view kQAlgorithm = "X-Amz-Algorithm";
inline constexpr std::string_view kQCredential = "X-Amz-Credential";
inline constexpr std::string_view kQSignature = "X-Amz-Signature";
inline constexpr std::string_view kQSignedHeaders = "X-Amz-SignedHeaders";
inline constexpr std::string_view kQDate = "X-Amz-Date";
inline constexpr std::string_view kQExpires = "X-Amz-Expires";
inline constexpr std::string_view kQSecurityToken = "X-Amz-Security-Token";
inline constexpr std::string_view kQContentSha256 = "X-Amz-Content-Sha256";

// Parses "YYYYMMDDTHHMMSSZ" into epoch seconds.
std::optional<int64_t> ParseAmzDate(std::string_view s);

// Errors, worded per dialect (the table in sigv4.h).
// A malformed signature. `s3_message` is S3's wording; `presigned` selects S3's code.
Error Incomplete(SigV4Dialect dialect, std::string message, std::string s3_message, bool presigned);
// A signature that is well-formed but wrong (or about the wrong scope, host or time).
Error Mismatch(SigV4Dialect dialect, std::string message);
// An Authorization header that is not SigV4 at all ("Bearer ...", SigV2 "AWS key:sig").
Error UnsupportedScheme(SigV4Dialect dialect);
Error UnsupportedAlgorithm(SigV4Dialect dialect, std::string_view algorithm, bool presigned);
Error InvalidDate(SigV4Dialect dialect, std::string_view got, bool presigned);

}  // namespace stratus::aws::sigv4_internal
