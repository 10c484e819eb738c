// HTTP APIs (apigatewayv2): routes and integrations. The API-level operations are in http_apis.cc.
#include <set>

#include "core/strings.h"
#include "services/apigateway/http_apis.h"
#include "services/apigateway/http_apis_internal.h"

namespace stratus::services::apigateway {

using namespace httpapi;  // NOLINT(google-build-using-namespace)

// ---- Routes -----------------------------------------------------------------------------------

Result<Json> HttpApis::CreateRoute(const Ctx& c, const Json& in) {
  std::string key = in.value("RouteKey", "");
  STRATUS_RETURN_IF_ERROR(ValidateRouteKey(key));
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    for (const auto& [rid, r] : doc["routes"].items()) {
      if (r.value("RouteKey", "") == key) {
        return Conflict("Unable to create route " + key +
                        ". A route with the same route key already exists for this API");
      }
    }
    std::string rid = NewId(7);
    Json route = Json{{"ApiKeyRequired", in.value("ApiKeyRequired", false)},
                      {"AuthorizationType", in.value("AuthorizationType", "NONE")},
                      {"RouteId", rid},
                      {"RouteKey", key}};
    CopyIf(route, in, {"AuthorizationScopes", "AuthorizerId", "OperationName", "RequestModels",
                       "RequestParameters", "Target", "ModelSelectionExpression",
                       "RouteResponseSelectionExpression"});
    std::string auth = route["AuthorizationType"].get<std::string>();
    if (auth == "JWT" || auth == "CUSTOM") {
      std::string aid = route.value("AuthorizerId", "");
      if (!doc["authorizers"].contains(aid)) {
        return BadRequest("Invalid authorizer id specified: " + aid);
      }
    }
    if (route.contains("Target")) {
      std::string iid = TargetIntegration(route["Target"].get<std::string>());
      if (!doc["integrations"].contains(iid)) {
        return BadRequest("Invalid target integration specified: " +
                          route["Target"].get<std::string>());
      }
    }
    doc["routes"][rid] = route;
    AutoDeploy(doc, c);
    return route;
  });
}

Result<Json> HttpApis::GetRoute(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("RouteId", "");
    if (!doc["routes"].contains(id)) return NotFoundOf("Route", "Route");
    return doc["routes"][id];
  });
}

Result<Json> HttpApis::GetRoutes(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""),
              [&](const Json& doc) -> Result<Json> { return Items(doc["routes"]); });
}

Result<Json> HttpApis::UpdateRoute(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("RouteId", "");
    if (!doc["routes"].contains(id)) return NotFoundOf("Route", "Route");
    Json route = doc["routes"][id];
    CopyIf(route, in, {"ApiKeyRequired", "AuthorizationScopes", "AuthorizationType",
                       "AuthorizerId", "OperationName", "RequestModels", "RequestParameters",
                       "RouteKey", "Target", "ModelSelectionExpression",
                       "RouteResponseSelectionExpression"});
    STRATUS_RETURN_IF_ERROR(ValidateRouteKey(route.value("RouteKey", "")));
    for (const auto& [rid, r] : doc["routes"].items()) {
      if (rid != id && r.value("RouteKey", "") == route.value("RouteKey", "")) {
        return Conflict("A route with the same route key already exists for this API");
      }
    }
    if (route.value("AuthorizationType", "NONE") == "NONE") route.erase("AuthorizerId");
    doc["routes"][id] = route;
    AutoDeploy(doc, c);
    return route;
  });
}

Status HttpApis::DeleteRoute(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("RouteId", "");
    if (!doc["routes"].contains(id)) return NotFoundOf("Route", "Route");
    doc["routes"].erase(id);
    AutoDeploy(doc, c);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

// ---- Integrations -----------------------------------------------------------------------------

Result<Json> HttpApis::CreateIntegration(const Ctx& c, const Json& in) {
  std::string iid = NewId(7);
  Json i = Json{{"ConnectionType", in.value("ConnectionType", "INTERNET")},
                {"IntegrationId", iid},
                {"IntegrationType", in.value("IntegrationType", "")}};
  CopyIf(i, in, {"ConnectionId", "ContentHandlingStrategy", "CredentialsArn", "Description",
                 "IntegrationMethod", "IntegrationSubtype", "IntegrationUri",
                 "PassthroughBehavior", "RequestParameters", "RequestTemplates",
                 "ResponseParameters", "TemplateSelectionExpression", "TlsConfig"});
  i["PayloadFormatVersion"] = in.value("PayloadFormatVersion", "1.0");
  i["TimeoutInMillis"] = in.value("TimeoutInMillis", kDefaultTimeoutMs);
  if (i["IntegrationType"] == "HTTP_PROXY" && !i.contains("IntegrationMethod")) {
    return BadRequest("IntegrationMethod is required for HTTP_PROXY integrations");
  }
  STRATUS_RETURN_IF_ERROR(ValidateIntegration(i));
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    doc["integrations"][iid] = i;
    AutoDeploy(doc, c);
    return i;
  });
}

Result<Json> HttpApis::GetIntegration(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("IntegrationId", "");
    if (!doc["integrations"].contains(id)) return NotFoundOf("Integration", "Integration");
    return doc["integrations"][id];
  });
}

Result<Json> HttpApis::GetIntegrations(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""),
              [&](const Json& doc) -> Result<Json> { return Items(doc["integrations"]); });
}

Result<Json> HttpApis::UpdateIntegration(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("IntegrationId", "");
    if (!doc["integrations"].contains(id)) return NotFoundOf("Integration", "Integration");
    Json i = doc["integrations"][id];
    CopyIf(i, in, {"ConnectionId", "ConnectionType", "ContentHandlingStrategy", "CredentialsArn",
                   "Description", "IntegrationMethod", "IntegrationSubtype", "IntegrationType",
                   "IntegrationUri", "PassthroughBehavior", "PayloadFormatVersion",
                   "RequestParameters", "RequestTemplates", "ResponseParameters",
                   "TemplateSelectionExpression", "TimeoutInMillis", "TlsConfig"});
    STRATUS_RETURN_IF_ERROR(ValidateIntegration(i));
    doc["integrations"][id] = i;
    AutoDeploy(doc, c);
    return i;
  });
}

Status HttpApis::DeleteIntegration(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("IntegrationId", "");
    if (!doc["integrations"].contains(id)) return NotFoundOf("Integration", "Integration");
    for (const auto& [rid, route] : doc["routes"].items()) {
      if (TargetIntegration(route.value("Target", "")) == id) {
        return Conflict("Cannot delete integration " + id + ": it is the target of route " +
                        route.value("RouteKey", ""));
      }
    }
    doc["integrations"].erase(id);
    AutoDeploy(doc, c);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

}  // namespace stratus::services::apigateway
