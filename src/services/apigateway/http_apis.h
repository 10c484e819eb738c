#pragma once
// The HTTP API (apigatewayv2) control plane over store::Store: APIs (with quick create),
// routes, integrations, stages (auto-deploy), deployments, JWT and Lambda REQUEST authorizers,
// CORS, tags, OpenAPI import and export. Input and output members are the model's
// (PascalCase canonical JSON). Thread-safe; each call is one transaction; `on_change(apiId)`
// runs after every committed change to an API.
//
// WebSocket APIs (ProtocolType WEBSOCKET) are refused with BadRequestException for now.
#include <functional>
#include <string>

#include "services/apigateway/rest_apis.h"

namespace stratus::services::apigateway {

class HttpApis {
 public:
  using ChangeFn = std::function<void(const std::string& api_id)>;
  HttpApis(store::Store& store, ChangeFn on_change)
      : store_(store), on_change_(std::move(on_change)) {}

  // The base URL APIs advertise as ApiEndpoint, e.g. "http://{id}.execute-api.localhost:4566"
  // ("{id}" is replaced). Set once at start-up.
  void SetEndpointTemplate(std::string t) { endpoint_template_ = std::move(t); }

  Result<Json> CreateApi(const Ctx& c, const Json& in);
  Result<Json> GetApi(const Ctx& c, const Json& in);
  Result<Json> GetApis(const Ctx& c, const Json& in);
  Result<Json> UpdateApi(const Ctx& c, const Json& in);
  Status DeleteApi(const Ctx& c, const Json& in);
  Result<Json> ImportApi(const Ctx& c, const Json& in);
  Result<Json> ReimportApi(const Ctx& c, const Json& in);
  Result<std::string> ExportApi(const Ctx& c, const Json& in);
  Status DeleteCorsConfiguration(const Ctx& c, const Json& in);

  Result<Json> CreateRoute(const Ctx& c, const Json& in);
  Result<Json> GetRoute(const Ctx& c, const Json& in);
  Result<Json> GetRoutes(const Ctx& c, const Json& in);
  Result<Json> UpdateRoute(const Ctx& c, const Json& in);
  Status DeleteRoute(const Ctx& c, const Json& in);

  Result<Json> CreateIntegration(const Ctx& c, const Json& in);
  Result<Json> GetIntegration(const Ctx& c, const Json& in);
  Result<Json> GetIntegrations(const Ctx& c, const Json& in);
  Result<Json> UpdateIntegration(const Ctx& c, const Json& in);
  Status DeleteIntegration(const Ctx& c, const Json& in);

  Result<Json> CreateStage(const Ctx& c, const Json& in);
  Result<Json> GetStage(const Ctx& c, const Json& in);
  Result<Json> GetStages(const Ctx& c, const Json& in);
  Result<Json> UpdateStage(const Ctx& c, const Json& in);
  Status DeleteStage(const Ctx& c, const Json& in);
  Status DeleteAccessLogSettings(const Ctx& c, const Json& in);
  Status DeleteRouteSettings(const Ctx& c, const Json& in);

  Result<Json> CreateDeployment(const Ctx& c, const Json& in);
  Result<Json> GetDeployment(const Ctx& c, const Json& in);
  Result<Json> GetDeployments(const Ctx& c, const Json& in);
  Result<Json> UpdateDeployment(const Ctx& c, const Json& in);
  Status DeleteDeployment(const Ctx& c, const Json& in);

  Result<Json> CreateAuthorizer(const Ctx& c, const Json& in);
  Result<Json> GetAuthorizer(const Ctx& c, const Json& in);
  Result<Json> GetAuthorizers(const Ctx& c, const Json& in);
  Result<Json> UpdateAuthorizer(const Ctx& c, const Json& in);
  Status DeleteAuthorizer(const Ctx& c, const Json& in);

  Result<Json> GetTags(const Ctx& c, const Json& in);
  Status TagResource(const Ctx& c, const Json& in);
  Status UntagResource(const Ctx& c, const Json& in);

  // The HTTP API record for the data plane; null Json when absent.
  Result<Json> LoadApi(const Scope& s, const std::string& api_id);

 private:
  Result<Json> Mutate(const Ctx& c, const std::string& api_id,
                      const std::function<Result<Json>(Json& doc)>& fn);
  Result<Json> View(const Ctx& c, const std::string& api_id,
                    const std::function<Result<Json>(const Json& doc)>& fn);
  Result<Json> ApplyDocument(const Ctx& c, const std::string& api_id, const std::string& body,
                             bool fail_on_warnings);
  Json PublicApi(const Json& api) const;

  store::Store& store_;
  const ChangeFn on_change_;
  std::string endpoint_template_ = "http://{id}.execute-api.localhost:4566";
};

// Checks a route key ("$default", "GET /items/{id}", "ANY /{proxy+}"); BadRequestException with
// AWS's text otherwise.
Status ValidateRouteKey(const std::string& key);

}  // namespace stratus::services::apigateway
