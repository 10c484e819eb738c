#pragma once
// Helpers shared by the files that implement HttpApis (http_apis.cc, http_api_routes.cc,
// http_api_stages.cc). Not part of the service's interface. Pure functions over an HTTP API's
// record (see common.h for its layout); thread-safe.
#include <set>
#include <string>

#include "core/json.h"
#include "core/result.h"
#include "services/apigateway/http_apis.h"

namespace stratus::services::apigateway::httpapi {

// API Gateway's default (and maximum) integration timeout.
inline constexpr int64_t kDefaultTimeoutMs = 30000;

// The methods a route key may name.
extern const std::set<std::string, std::less<>> kRouteMethods;

// NotFoundException naming the resource type, as apigatewayv2 words it.
Error NotFoundOf(const std::string& type, const std::string& what);
Error ApiNotFound(const std::string& id);

// {"Items": [values of the map]}, the shape of every Get* list answer.
Json Items(const Json& map);

Status ValidateIntegration(const Json& integration);
Status ValidateAuthorizer(const Json& authorizer);

// The configuration the data plane serves for a deployment of the API record `doc`.
Json Snapshot(const Json& doc);
// A deployment as the API returns it (without its snapshot).
Json PublicDeployment(const Json& deployment);
// Redeploys every auto-deploy stage of `doc` with the API's current configuration and drops the
// auto deployments no stage uses any more.
void AutoDeploy(Json& doc, const Ctx& c);

// The API id a taggable ARN names (`arn:aws:apigateway:<region>::/apis/<id>[/stages/<name>]`);
// sets `*stage` when the ARN names a stage.
Result<std::string> TagOwner(const std::string& arn, std::string* stage);
// The integration id of a route target `integrations/<id>`, or "".
std::string TargetIntegration(const std::string& target);

}  // namespace stratus::services::apigateway::httpapi
