#pragma once
// Cross-origin resource sharing as S3 evaluates a bucket's CORS configuration: preflight
// (OPTIONS) answers and the headers added to actual requests that carry an Origin.
#include <optional>
#include <string>
#include <vector>

#include "core/http.h"
#include "core/json.h"

namespace stratus::services::s3 {

// The first CORSRule of `config` ({"CORSRules": [...]}) allowing `origin`, `method` and every
// header of `request_headers` (lowercase), or nullopt.
std::optional<Json> MatchCorsRule(const Json& config, const std::string& origin,
                                  const std::string& method,
                                  const std::vector<std::string>& request_headers);

// The Access-Control-* headers for a matched rule (`preflight` adds Allow-Methods,
// Allow-Headers and Max-Age).
void AddCorsHeaders(Headers& headers, const Json& rule, const std::string& origin,
                    bool preflight, const std::vector<std::string>& request_headers);

// The answer to a preflight request for a bucket with configuration `config` (nullopt: none).
// `resource_type` is "OBJECT" or "BUCKET" for the error body.
HttpResponse PreflightResponse(const std::optional<Json>& config, const HttpRequest& request,
                               const std::string& request_id);

// Splits Access-Control-Request-Headers into lowercase names.
std::vector<std::string> RequestedHeaders(const HttpRequest& request);

}  // namespace stratus::services::s3
