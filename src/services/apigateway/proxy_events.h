#pragma once
// Lambda proxy integration payloads, exactly as AWS documents them: the REST API event
// (payload format 1.0, also used by HTTP APIs configured for 1.0), the HTTP API event (payload
// format 2.0), and the mapping of a function's answer back to an HTTP response for each.
// Pure functions; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http.h"
#include "core/json.h"
#include "core/result.h"

namespace stratus::services::apigateway {

// The request as the gateway saw it, after it added its own headers (X-Forwarded-*, Host,
// X-Amzn-Trace-Id).
struct ProxyRequest {
  std::string method;
  std::string path;        // decoded path after the stage: "/items/7"
  std::string raw_path;    // as sent, after the stage (v2 rawPath)
  std::string raw_query;   // without '?'
  Headers headers;
  std::string_view body;     // the raw request bytes (not owned: the caller keeps them alive)
  bool base64_body = false;  // the event carries `body` base64-encoded (a binary media type)
  std::string source_ip;
  std::string protocol = "HTTP/1.1";
};

// What the gateway knows about the request besides the request itself.
// The text members are views (of the gateway's exchange, which outlives the event written from
// them): a context costs no copies.
struct ProxyContext {
  std::string_view account;
  std::string_view api_id;
  std::string_view stage;
  std::string_view request_id;
  std::string_view extended_request_id;
  std::string_view domain_name;
  std::string_view deployment_id;
  std::string_view resource_id;    // REST: resource id; HTTP 1.0: route id
  std::string_view resource_path;  // REST: "/items/{id}"; HTTP: the route key's path or "$default"
  std::string_view route_key;      // HTTP APIs
  std::string stage_path;     // requestContext.path: "/<stage>/items/7" (REST), rawPath (HTTP)
  int64_t now_ms = 0;
  Json path_parameters;       // object, or null when none
  Json stage_variables;       // object, or null when none
  Json authorizer;            // requestContext.authorizer, or null
  std::string_view api_key;   // the API key used, if any
  std::string_view api_key_id;
  // AWS_IAM callers: requestContext.identity's accessKey, accountId, caller, user, userArn
  // (an object with those members), or null.
  Json iam_identity;
};

// "27/Nov/2026:11:02:38 +0000"
std::string RequestTime(int64_t now_ms);

// The REST API / payload format 1.0 event, as JSON text written in one pass (no DOM): what a
// Lambda proxy integration sends.
std::string WriteV1Event(const ProxyRequest& r, const ProxyContext& c, bool http_api);
// The HTTP API payload format 2.0 event, as JSON text.
std::string WriteV2Event(const ProxyRequest& r, const ProxyContext& c);
// The same events as DOMs (Lambda authorizers add and drop members): the text above, parsed.
Json BuildV1Event(const ProxyRequest& r, const ProxyContext& c, bool http_api);
Json BuildV2Event(const ProxyRequest& r, const ProxyContext& c);

struct ProxyResponse {
  int status = 200;
  Headers headers;
  std::string body;  // raw bytes
};

// Maps a function's payload-1.0 answer; an error (the gateway answers 502) when it is not
// AWS's proxy response shape. `decode_base64`: isBase64Encoded bodies are decoded (the
// response's content is binary for this request).
Result<ProxyResponse> ParseV1Response(std::string_view payload, bool decode_base64);
// Maps a payload-2.0 answer, including the inferred form (no statusCode: the whole answer is
// a 200 JSON body).
Result<ProxyResponse> ParseV2Response(std::string_view payload);
// The same through a DOM for every payload: ParseV2Response's path for every shape its
// DOM-free reader does not take; tests compare the two.
Result<ProxyResponse> ParseV2ResponseDom(std::string_view payload);

// True when `content_type` matches one of `binary_media_types` ("image/png", "image/*",
// "*/*"); for Accept lists, any listed type matching counts.
bool IsBinaryType(std::string_view content_type, const Json& binary_media_types);

}  // namespace stratus::services::apigateway
