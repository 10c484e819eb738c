#pragma once
// The execute-api data plane shared by REST and HTTP APIs.
//
// Reachable as the host "<apiId>.execute-api.<anything>" (execute-api.localhost,
// execute-api.localhost.localstack.cloud, ...) with the stage as the first path segment (HTTP
// APIs with a $default stage take paths without one), and as the path forms
// "/restapis/<apiId>/<stage>/_user_request_/<path>" and "/_aws/execute-api/<apiId>/<stage>/<path>".
//
// A request runs: stage and route resolution, CORS preflight (HTTP APIs), stage/route
// throttling, authorization (Lambda TOKEN/REQUEST, JWT, COGNITO_USER_POOLS, AWS_IAM), API key
// and usage-plan throttling and quotas, the integration (MOCK, HTTP, HTTP_PROXY, AWS_PROXY to
// Lambda, AWS service actions), the response mapping, then the access log, metrics
// (service "execute-api", operation = API id; "execute-api-integration" for integration
// latency) and a trace segment. Errors are AWS's gateway responses.
//
// Threads: Matches/Handle run on io threads. A cached API whose matched route needs neither
// a Lambda/Cognito/JWT authorizer nor an API key, and whose integration is MOCK or a Lambda
// proxy, runs on the io thread: the Lambda invoke starts there and its answer is mapped on the
// thread that completes it (no worker hand-off). Everything else moves to the worker pool, and
// Lambda/HTTP calls complete asynchronously with a timer for the integration timeout. API definitions are cached per API id and dropped on every change
// made through this process (and after kCacheTtl, for changes made by other cluster nodes).
// Thread-safe.
#include <memory>
#include <string>

#include "aws/framework/service.h"
#include "services/apigateway/common.h"

namespace stratus::services::apigateway {

class RestApis;
class HttpApis;

class DataPlane {
 public:
  explicit DataPlane(aws::ServiceContext& context);
  ~DataPlane();
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  // The control planes the definitions are read through; set once before Start.
  void Attach(RestApis* rest, HttpApis* http);
  Status Start();
  void Stop();

  bool Matches(const HttpRequest& request) const;
  void Handle(HttpRequest request, Responder responder);

  // Drops the cached definition of `api_id` ("" = API keys or usage plans changed).
  void Invalidate(const std::string& api_id);
  void FlushAuthorizerCache(const std::string& api_id);
  // GetUsage: a usage plan's per-key daily usage.
  Result<Json> Usage(const Scope& scope, const Json& in);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::services::apigateway
