#pragma once
// The REST API (apigateway v1) control plane over store::Store: REST APIs and everything under
// them, API keys, usage plans, tags and account settings. Plain logic that unit tests call
// without a server; the service's handlers adapt requests to it (one operation, one method).
//
// Every method takes the operation's input in canonical JSON (members as the model names them)
// and returns its output the same way, or API Gateway's error (NotFoundException,
// ConflictException, BadRequestException) with AWS's message text.
//
// Thread-safe: all state lives in the store; each call is one transaction. `on_change(apiId)` is
// called after every committed change to an API (the data plane drops its cached copy).
#include <cstdint>
#include <functional>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/apigateway/common.h"
#include "store/store.h"

namespace stratus::services::apigateway {

struct Ctx {
  Scope scope;
  int64_t now_ms = 0;
};

class RestApis {
 public:
  using ChangeFn = std::function<void(const std::string& api_id)>;
  RestApis(store::Store& store, ChangeFn on_change)
      : store_(store), on_change_(std::move(on_change)) {}

  // Operations, named as the AWS operations they implement.
  Result<Json> CreateRestApi(const Ctx& c, const Json& in);
  Result<Json> GetRestApi(const Ctx& c, const Json& in);
  Result<Json> GetRestApis(const Ctx& c, const Json& in);
  Result<Json> UpdateRestApi(const Ctx& c, const Json& in);
  Status DeleteRestApi(const Ctx& c, const Json& in);
  // ImportRestApi / PutRestApi: `body` is the OpenAPI 3 or Swagger 2 document (JSON or YAML).
  Result<Json> ImportRestApi(const Ctx& c, const Json& in, const std::string& body);
  Result<Json> PutRestApi(const Ctx& c, const Json& in, const std::string& body);
  // GetExport: the stage's deployed API as Swagger 2 or OpenAPI 3 JSON.
  Result<std::string> GetExport(const Ctx& c, const Json& in);

  Result<Json> CreateResource(const Ctx& c, const Json& in);
  Result<Json> GetResource(const Ctx& c, const Json& in);
  Result<Json> GetResources(const Ctx& c, const Json& in);
  Result<Json> UpdateResource(const Ctx& c, const Json& in);
  Status DeleteResource(const Ctx& c, const Json& in);

  Result<Json> PutMethod(const Ctx& c, const Json& in);
  Result<Json> GetMethod(const Ctx& c, const Json& in);
  Result<Json> UpdateMethod(const Ctx& c, const Json& in);
  Status DeleteMethod(const Ctx& c, const Json& in);
  Result<Json> PutMethodResponse(const Ctx& c, const Json& in);
  Result<Json> GetMethodResponse(const Ctx& c, const Json& in);
  Result<Json> UpdateMethodResponse(const Ctx& c, const Json& in);
  Status DeleteMethodResponse(const Ctx& c, const Json& in);
  Result<Json> PutIntegration(const Ctx& c, const Json& in);
  Result<Json> GetIntegration(const Ctx& c, const Json& in);
  Result<Json> UpdateIntegration(const Ctx& c, const Json& in);
  Status DeleteIntegration(const Ctx& c, const Json& in);
  Result<Json> PutIntegrationResponse(const Ctx& c, const Json& in);
  Result<Json> GetIntegrationResponse(const Ctx& c, const Json& in);
  Result<Json> UpdateIntegrationResponse(const Ctx& c, const Json& in);
  Status DeleteIntegrationResponse(const Ctx& c, const Json& in);

  Result<Json> CreateDeployment(const Ctx& c, const Json& in);
  Result<Json> GetDeployment(const Ctx& c, const Json& in);
  Result<Json> GetDeployments(const Ctx& c, const Json& in);
  Result<Json> UpdateDeployment(const Ctx& c, const Json& in);
  Status DeleteDeployment(const Ctx& c, const Json& in);

  Result<Json> CreateStage(const Ctx& c, const Json& in);
  Result<Json> GetStage(const Ctx& c, const Json& in);
  Result<Json> GetStages(const Ctx& c, const Json& in);
  Result<Json> UpdateStage(const Ctx& c, const Json& in);
  Status DeleteStage(const Ctx& c, const Json& in);

  Result<Json> CreateAuthorizer(const Ctx& c, const Json& in);
  Result<Json> GetAuthorizer(const Ctx& c, const Json& in);
  Result<Json> GetAuthorizers(const Ctx& c, const Json& in);
  Result<Json> UpdateAuthorizer(const Ctx& c, const Json& in);
  Status DeleteAuthorizer(const Ctx& c, const Json& in);

  Result<Json> CreateRequestValidator(const Ctx& c, const Json& in);
  Result<Json> GetRequestValidator(const Ctx& c, const Json& in);
  Result<Json> GetRequestValidators(const Ctx& c, const Json& in);
  Result<Json> UpdateRequestValidator(const Ctx& c, const Json& in);
  Status DeleteRequestValidator(const Ctx& c, const Json& in);

  Result<Json> CreateModel(const Ctx& c, const Json& in);
  Result<Json> GetModel(const Ctx& c, const Json& in);
  Result<Json> GetModels(const Ctx& c, const Json& in);
  Result<Json> UpdateModel(const Ctx& c, const Json& in);
  Status DeleteModel(const Ctx& c, const Json& in);

  Result<Json> PutGatewayResponse(const Ctx& c, const Json& in);
  Result<Json> GetGatewayResponse(const Ctx& c, const Json& in);
  Result<Json> GetGatewayResponses(const Ctx& c, const Json& in);
  Result<Json> UpdateGatewayResponse(const Ctx& c, const Json& in);
  Status DeleteGatewayResponse(const Ctx& c, const Json& in);

  Result<Json> CreateApiKey(const Ctx& c, const Json& in);
  Result<Json> GetApiKey(const Ctx& c, const Json& in);
  Result<Json> GetApiKeys(const Ctx& c, const Json& in);
  Result<Json> UpdateApiKey(const Ctx& c, const Json& in);
  Status DeleteApiKey(const Ctx& c, const Json& in);

  Result<Json> CreateUsagePlan(const Ctx& c, const Json& in);
  Result<Json> GetUsagePlan(const Ctx& c, const Json& in);
  Result<Json> GetUsagePlans(const Ctx& c, const Json& in);
  Result<Json> UpdateUsagePlan(const Ctx& c, const Json& in);
  Status DeleteUsagePlan(const Ctx& c, const Json& in);
  Result<Json> CreateUsagePlanKey(const Ctx& c, const Json& in);
  Result<Json> GetUsagePlanKey(const Ctx& c, const Json& in);
  Result<Json> GetUsagePlanKeys(const Ctx& c, const Json& in);
  Status DeleteUsagePlanKey(const Ctx& c, const Json& in);

  Result<Json> GetTags(const Ctx& c, const Json& in);
  Status TagResource(const Ctx& c, const Json& in);
  Status UntagResource(const Ctx& c, const Json& in);

  Result<Json> GetAccount(const Ctx& c);
  Result<Json> UpdateAccount(const Ctx& c, const Json& in);

  // The REST API record (see common.h) for the data plane; null Json when absent.
  Result<Json> LoadApi(const Scope& s, const std::string& api_id);

  // The gateway response defaults AWS applies when none is customised.
  static Json DefaultGatewayResponse(const std::string& type);

 private:
  // Reads the API record, runs `fn` on it and writes it back in one transaction.
  Result<Json> Mutate(const Ctx& c, const std::string& api_id,
                      const std::function<Result<Json>(Json& doc)>& fn);
  Result<Json> View(const Ctx& c, const std::string& api_id,
                    const std::function<Result<Json>(const Json& doc)>& fn);

  store::Store& store_;
  const ChangeFn on_change_;
};

// Helpers shared with the importer and the data plane.
// The resource path of `pathPart` under `parent_path` ("/" + "items" -> "/items").
std::string ChildPath(const std::string& parent_path, const std::string& path_part);
// Checks a path part as AWS does (BadRequestException with AWS's text).
Status ValidatePathPart(const std::string& part);
// Function ARN inside a Lambda integration URI
// ("arn:aws:apigateway:<r>:lambda:path/2015-03-31/functions/<arn>/invocations"), or "".
std::string LambdaArnFromUri(const std::string& uri);

}  // namespace stratus::services::apigateway
