#pragma once
// Function URLs: the HTTP request ↔ Lambda event mapping (payload format 2.0, as AWS documents
// for function URLs) and the response mapping back. Pure functions, thread-safe.
#include <string>

#include "core/http.h"
#include "core/json.h"

namespace stratus::services::lambda {

// "<url-id>" when `host` is "<url-id>.lambda-url.<region>.localhost[:port]" or the same under
// ".localhost.localstack.cloud"; "" otherwise.
std::string UrlIdFromHost(std::string_view host);

// The event a function URL request becomes.
Json UrlEvent(const HttpRequest& request, const std::string& url_id, const std::string& region,
              const std::string& account, const std::string& request_id, int64_t now_ms);

// The HTTP response for a function's result (its payload JSON text). A result with a
// "statusCode" member is taken as a response description (statusCode, headers, cookies, body,
// isBase64Encoded); anything else is the JSON body of a 200.
HttpResponse UrlResponse(const std::string& payload);

}  // namespace stratus::services::lambda
