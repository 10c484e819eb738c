// HTTP APIs (apigatewayv2): stages, deployments and authorizers.
#include <set>

#include "core/strings.h"
#include "services/apigateway/http_apis.h"
#include "services/apigateway/http_apis_internal.h"

namespace stratus::services::apigateway {

using namespace httpapi;  // NOLINT(google-build-using-namespace)

// ---- Stages and deployments -------------------------------------------------------------------

Result<Json> HttpApis::CreateStage(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("StageName", "");
    if (doc["stages"].contains(name)) return Conflict("Stage " + name + " already exists");
    Json s = Json{{"AutoDeploy", in.value("AutoDeploy", false)},
                  {"CreatedDate", EpochSeconds(c.now_ms)},
                  {"DefaultRouteSettings",
                   in.value("DefaultRouteSettings", Json{{"DetailedMetricsEnabled", false}})},
                  {"LastUpdatedDate", EpochSeconds(c.now_ms)},
                  {"RouteSettings", in.value("RouteSettings", Json::object())},
                  {"StageName", name},
                  {"StageVariables", in.value("StageVariables", Json::object())},
                  {"Tags", in.value("Tags", Json::object())}};
    CopyIf(s, in, {"AccessLogSettings", "ClientCertificateId", "DeploymentId", "Description"});
    if (s.contains("DeploymentId") &&
        !doc["deployments"].contains(s["DeploymentId"].get<std::string>())) {
      return BadRequest("Invalid deployment identifier specified");
    }
    doc["stages"][name] = s;
    AutoDeploy(doc, c);
    return doc["stages"][name];
  });
}

Result<Json> HttpApis::GetStage(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string name = in.value("StageName", "");
    if (!doc["stages"].contains(name)) return NotFoundOf("Stage", "Stage");
    return doc["stages"][name];
  });
}

Result<Json> HttpApis::GetStages(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""),
              [&](const Json& doc) -> Result<Json> { return Items(doc["stages"]); });
}

Result<Json> HttpApis::UpdateStage(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("StageName", "");
    if (!doc["stages"].contains(name)) return NotFoundOf("Stage", "Stage");
    Json& s = doc["stages"][name];
    CopyIf(s, in, {"AccessLogSettings", "AutoDeploy", "ClientCertificateId",
                   "DefaultRouteSettings", "DeploymentId", "Description", "StageVariables"});
    if (in.contains("RouteSettings")) {
      for (const auto& [k, v] : in["RouteSettings"].items()) s["RouteSettings"][k] = v;
    }
    if (s.contains("DeploymentId") &&
        !doc["deployments"].contains(s["DeploymentId"].get<std::string>())) {
      return BadRequest("Invalid deployment identifier specified");
    }
    s["LastUpdatedDate"] = EpochSeconds(c.now_ms);
    if (in.value("AutoDeploy", false)) AutoDeploy(doc, c);
    return doc["stages"][name];
  });
}

Status HttpApis::DeleteStage(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("StageName", "");
    if (!doc["stages"].contains(name)) return NotFoundOf("Stage", "Stage");
    doc["stages"].erase(name);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Status HttpApis::DeleteAccessLogSettings(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("StageName", "");
    if (!doc["stages"].contains(name)) return NotFoundOf("Stage", "Stage");
    doc["stages"][name].erase("AccessLogSettings");
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Status HttpApis::DeleteRouteSettings(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("StageName", "");
    if (!doc["stages"].contains(name)) return NotFoundOf("Stage", "Stage");
    Json& rs = doc["stages"][name]["RouteSettings"];
    std::string key = in.value("RouteKey", "");
    if (!rs.is_object() || !rs.contains(key)) return NotFoundOf("RouteSettings", "route settings");
    rs.erase(key);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> HttpApis::CreateDeployment(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string stage = in.value("StageName", "");
    if (!stage.empty() && !doc["stages"].contains(stage)) return NotFoundOf("Stage", "Stage");
    if (!stage.empty() && doc["stages"][stage].value("AutoDeploy", false)) {
      return BadRequest("Stage " + stage + " has auto-deploy enabled: deployments are made for "
                        "it automatically");
    }
    if (doc["routes"].empty()) {
      return BadRequest("Unable to deploy API because no routes exist in this API");
    }
    for (const auto& [rid, r] : doc["routes"].items()) {
      if (!r.contains("Target")) {
        return BadRequest("Unable to deploy API because route " + r.value("RouteKey", "") +
                          " has no target");
      }
    }
    std::string id = NewId(6);
    Json d = Json{{"AutoDeployed", false},
                  {"CreatedDate", EpochSeconds(c.now_ms)},
                  {"DeploymentId", id},
                  {"DeploymentStatus", "DEPLOYED"}};
    CopyIf(d, in, {"Description"});
    Json stored = d;
    stored["snapshot"] = Snapshot(doc);
    doc["deployments"][id] = stored;
    if (!stage.empty()) {
      doc["stages"][stage]["DeploymentId"] = id;
      doc["stages"][stage]["LastUpdatedDate"] = EpochSeconds(c.now_ms);
    }
    return d;
  });
}

Result<Json> HttpApis::GetDeployment(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("DeploymentId", "");
    if (!doc["deployments"].contains(id)) return NotFoundOf("Deployment", "Deployment");
    return PublicDeployment(doc["deployments"][id]);
  });
}

Result<Json> HttpApis::GetDeployments(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json items = Json::array();
    for (const auto& [id, d] : doc["deployments"].items()) items.push_back(PublicDeployment(d));
    return Json{{"Items", items}};
  });
}

Result<Json> HttpApis::UpdateDeployment(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("DeploymentId", "");
    if (!doc["deployments"].contains(id)) return NotFoundOf("Deployment", "Deployment");
    CopyIf(doc["deployments"][id], in, {"Description"});
    return PublicDeployment(doc["deployments"][id]);
  });
}

Status HttpApis::DeleteDeployment(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("DeploymentId", "");
    if (!doc["deployments"].contains(id)) return NotFoundOf("Deployment", "Deployment");
    for (const auto& [name, s] : doc["stages"].items()) {
      if (s.value("DeploymentId", "") == id) {
        return BadRequest("Deployment " + id + " is in use by stage " + name);
      }
    }
    doc["deployments"].erase(id);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

// ---- Authorizers ------------------------------------------------------------------------------

Result<Json> HttpApis::CreateAuthorizer(const Ctx& c, const Json& in) {
  Json a = Json{{"AuthorizerId", NewId(6)}};
  CopyIf(a, in, {"AuthorizerCredentialsArn", "AuthorizerPayloadFormatVersion",
                 "AuthorizerResultTtlInSeconds", "AuthorizerType", "AuthorizerUri",
                 "EnableSimpleResponses", "IdentitySource", "IdentityValidationExpression",
                 "JwtConfiguration", "Name"});
  if (a.value("AuthorizerType", "") == "REQUEST" && !a.contains("AuthorizerResultTtlInSeconds")) {
    a["AuthorizerResultTtlInSeconds"] = 0;
  }
  STRATUS_RETURN_IF_ERROR(ValidateAuthorizer(a));
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    doc["authorizers"][a["AuthorizerId"].get<std::string>()] = a;
    AutoDeploy(doc, c);
    return a;
  });
}

Result<Json> HttpApis::GetAuthorizer(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("AuthorizerId", "");
    if (!doc["authorizers"].contains(id)) return NotFoundOf("Authorizer", "Authorizer");
    return doc["authorizers"][id];
  });
}

Result<Json> HttpApis::GetAuthorizers(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""),
              [&](const Json& doc) -> Result<Json> { return Items(doc["authorizers"]); });
}

Result<Json> HttpApis::UpdateAuthorizer(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("AuthorizerId", "");
    if (!doc["authorizers"].contains(id)) return NotFoundOf("Authorizer", "Authorizer");
    Json a = doc["authorizers"][id];
    CopyIf(a, in, {"AuthorizerCredentialsArn", "AuthorizerPayloadFormatVersion",
                   "AuthorizerResultTtlInSeconds", "AuthorizerType", "AuthorizerUri",
                   "EnableSimpleResponses", "IdentitySource", "IdentityValidationExpression",
                   "JwtConfiguration", "Name"});
    STRATUS_RETURN_IF_ERROR(ValidateAuthorizer(a));
    doc["authorizers"][id] = a;
    AutoDeploy(doc, c);
    return a;
  });
}

Status HttpApis::DeleteAuthorizer(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("AuthorizerId", "");
    if (!doc["authorizers"].contains(id)) return NotFoundOf("Authorizer", "Authorizer");
    for (const auto& [rid, route] : doc["routes"].items()) {
      if (route.value("AuthorizerId", "") == id) {
        return Conflict("Cannot delete authorizer " + id + ": route " +
                        route.value("RouteKey", "") + " uses it");
      }
    }
    doc["authorizers"].erase(id);
    AutoDeploy(doc, c);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

}  // namespace stratus::services::apigateway
