#include "services/apigateway/rest_apis_internal.h"

namespace stratus::services::apigateway {

// ---- Deployments and stages -------------------------------------------------------------------

Result<Json> RestApis::CreateDeployment(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    bool any = false;
    for (const auto& [id, r] : doc["resources"].items()) {
      if (!r.contains("resourceMethods")) continue;
      for (const auto& [verb, m] : r["resourceMethods"].items()) {
        any = true;
        if (!m.contains("methodIntegration")) {
          return BadRequest("No integration defined for method");
        }
      }
    }
    if (!any) return BadRequest("The REST API doesn't contain any methods");
    std::string id = NewId(6);
    Json d = Json{{"id", id}};
    CopyIf(d, in, {"description"});
    d["createdDate"] = EpochSeconds(c.now_ms);
    d["snapshot"] = Snapshot(doc);
    doc["deployments"][id] = d;
    if (in.contains("stageName")) {
      std::string name = in["stageName"].get<std::string>();
      Json& stage = doc["stages"][name];
      if (stage.is_null()) {
        stage = Json{{"deploymentId", id},
                     {"stageName", name},
                     {"cacheClusterEnabled", in.value("cacheClusterEnabled", false)},
                     {"cacheClusterStatus", "NOT_AVAILABLE"},
                     {"methodSettings", Json::object()},
                     {"tracingEnabled", in.value("tracingEnabled", false)},
                     {"createdDate", EpochSeconds(c.now_ms)}};
        if (in.contains("stageDescription")) stage["description"] = in["stageDescription"];
      }
      stage["deploymentId"] = id;
      if (in.contains("variables")) stage["variables"] = in["variables"];
      stage["lastUpdatedDate"] = EpochSeconds(c.now_ms);
    }
    Json out = PublicDeployment(d);
    return out;
  });
}

Result<Json> RestApis::GetDeployment(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("deploymentId", "");
    if (!doc["deployments"].contains(id)) {
      return NotFound("Invalid Deployment identifier specified");
    }
    Json out = PublicDeployment(doc["deployments"][id]);
    for (const auto& e : in.value("embed", Json::array())) {
      if (e == "apisummary") out["apiSummary"] = ApiSummary(doc["deployments"][id]["snapshot"]);
    }
    return out;
  });
}

Result<Json> RestApis::GetDeployments(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json items = Json::array();
    if (doc.contains("deployments")) {
      for (const auto& [id, d] : doc["deployments"].items()) items.push_back(PublicDeployment(d));
    }
    return Page(std::move(items), in);
  });
}

Result<Json> RestApis::UpdateDeployment(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("deploymentId", "");
    if (!doc["deployments"].contains(id)) {
      return NotFound("Invalid Deployment identifier specified");
    }
    Json& d = doc["deployments"][id];
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(d, in.value("patchOperations", Json::array()), {"description"}));
    return PublicDeployment(d);
  });
}

Status RestApis::DeleteDeployment(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("deploymentId", "");
    if (!doc["deployments"].contains(id)) {
      return NotFound("Invalid Deployment identifier specified");
    }
    for (const auto& [name, s] : doc["stages"].items()) {
      if (s.value("deploymentId", "") == id) {
        return BadRequest("Active stages pointing to this deployment must be moved or deleted");
      }
    }
    doc["deployments"].erase(id);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> RestApis::CreateStage(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("stageName", "");
    std::string dep = in.value("deploymentId", "");
    if (!doc["deployments"].contains(dep)) {
      return BadRequest("Invalid deployment identifier specified");
    }
    if (doc["stages"].contains(name)) return Conflict("Stage already exists");
    Json stage = Json{{"deploymentId", dep}, {"stageName", name}};
    CopyIf(stage, in, {"description"});
    stage["cacheClusterEnabled"] = in.value("cacheClusterEnabled", false);
    CopyIf(stage, in, {"cacheClusterSize"});
    stage["cacheClusterStatus"] = "NOT_AVAILABLE";
    stage["methodSettings"] = Json::object();
    CopyIf(stage, in, {"variables", "documentationVersion", "canarySettings"});
    stage["tracingEnabled"] = in.value("tracingEnabled", false);
    CopyIf(stage, in, {"tags"});
    stage["createdDate"] = EpochSeconds(c.now_ms);
    stage["lastUpdatedDate"] = EpochSeconds(c.now_ms);
    doc["stages"][name] = stage;
    return stage;
  });
}

Result<Json> RestApis::GetStage(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string name = in.value("stageName", "");
    if (!doc.contains("stages") || !doc["stages"].contains(name)) return StageNotFound();
    return doc["stages"][name];
  });
}

Result<Json> RestApis::GetStages(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json items = Json::array();
    std::string dep = in.value("deploymentId", "");
    if (doc.contains("stages")) {
      for (const auto& [name, s] : doc["stages"].items()) {
        if (dep.empty() || s.value("deploymentId", "") == dep) items.push_back(s);
      }
    }
    return Json{{"item", std::move(items)}};
  });
}

Result<Json> RestApis::UpdateStage(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("stageName", "");
    if (!doc.contains("stages") || !doc["stages"].contains(name)) return StageNotFound();
    Json stage = doc["stages"][name];
    STRATUS_RETURN_IF_ERROR(PatchStage(stage, in.value("patchOperations", Json::array())));
    if (!doc["deployments"].contains(stage.value("deploymentId", ""))) {
      return BadRequest("Invalid deployment identifier specified");
    }
    if (stage.contains("accessLogSettings")) {
      std::string arn = stage["accessLogSettings"].value("destinationArn", "");
      if (!arn.empty() && !StartsWith(arn, "arn:aws:logs:") &&
          !StartsWith(arn, "arn:aws:firehose:")) {
        return BadRequest("Invalid ARN specified in the request");
      }
    }
    stage["lastUpdatedDate"] = EpochSeconds(c.now_ms);
    doc["stages"][name] = stage;
    return stage;
  });
}

Status RestApis::DeleteStage(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("stageName", "");
    if (!doc.contains("stages") || !doc["stages"].contains(name)) return StageNotFound();
    doc["stages"].erase(name);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

// ---- Authorizers, validators, models, gateway responses ---------------------------------------

namespace {
Status ValidateAuthorizer(const Json& a) {
  std::string type = a.value("type", "");
  if (type == "TOKEN" || type == "REQUEST") {
    std::string uri = a.value("authorizerUri", "");
    if (uri.empty() || !StartsWith(uri, "arn:aws:apigateway:")) {
      return BadRequest("Invalid Authorizer URI: " + uri +
                        ". Authorizer URI should be a valid API Gateway ARN that represents a "
                        "Lambda function invocation.");
    }
  }
  if (type == "TOKEN") {
    std::string src = a.value("identitySource", "");
    if (!StartsWith(src, "method.request.header.")) {
      return BadRequest("Invalid identity source: " + src +
                        ". Identity source must be a header (method.request.header.<name>).");
    }
  }
  if (type == "COGNITO_USER_POOLS" && a.value("providerARNs", Json::array()).empty()) {
    return BadRequest("Invalid Provider ARNs: ProviderARNs must be specified for authorizers of "
                      "type COGNITO_USER_POOLS");
  }
  int64_t ttl = a.value("authorizerResultTtlInSeconds", kDefaultAuthorizerTtl);
  if (ttl < 0 || ttl > kMaxAuthorizerTtl) {
    return BadRequest("Invalid authorizer TTL: " + std::to_string(ttl) +
                      ". TTL must be between 0 and 3600 seconds");
  }
  return Status::Ok();
}
}  // namespace

Result<Json> RestApis::CreateAuthorizer(const Ctx& c, const Json& in) {
  Json a = Json{{"id", NewId(6)}};
  CopyIf(a, in, {"name", "type", "providerARNs", "authType", "authorizerUri",
                 "authorizerCredentials", "identitySource", "identityValidationExpression"});
  std::string type = in.value("type", "");
  if (type == "TOKEN" || type == "REQUEST") {
    a["authorizerResultTtlInSeconds"] =
        in.value("authorizerResultTtlInSeconds", kDefaultAuthorizerTtl);
  } else {
    CopyIf(a, in, {"authorizerResultTtlInSeconds"});
  }
  if (type == "TOKEN" && !a.contains("authType")) a["authType"] = "custom";
  if (type == "COGNITO_USER_POOLS" && !a.contains("identitySource")) {
    a["identitySource"] = "method.request.header.Authorization";
  }
  STRATUS_RETURN_IF_ERROR(ValidateAuthorizer(a));
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    doc["authorizers"][a["id"].get<std::string>()] = a;
    return a;
  });
}

Result<Json> RestApis::GetAuthorizer(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("authorizerId", "");
    if (!doc.contains("authorizers") || !doc["authorizers"].contains(id)) {
      return NotFound("Invalid Authorizer identifier specified");
    }
    return doc["authorizers"][id];
  });
}

Result<Json> RestApis::GetAuthorizers(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    return Page(Values(doc.value("authorizers", Json::object())), in);
  });
}

Result<Json> RestApis::UpdateAuthorizer(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("authorizerId", "");
    if (!doc["authorizers"].contains(id)) {
      return NotFound("Invalid Authorizer identifier specified");
    }
    Json a = doc["authorizers"][id];
    STRATUS_RETURN_IF_ERROR(ApplyPatch(
        a, in.value("patchOperations", Json::array()),
        {"name", "type", "providerARNs", "authType", "authorizerUri", "authorizerCredentials",
         "identitySource", "identityValidationExpression", "authorizerResultTtlInSeconds"}));
    STRATUS_RETURN_IF_ERROR(ValidateAuthorizer(a));
    doc["authorizers"][id] = a;
    return a;
  });
}

Status RestApis::DeleteAuthorizer(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("authorizerId", "");
    if (!doc["authorizers"].contains(id)) {
      return NotFound("Invalid Authorizer identifier specified");
    }
    for (const auto& [rid, r] : doc["resources"].items()) {
      if (!r.contains("resourceMethods")) continue;
      for (const auto& [verb, m] : r["resourceMethods"].items()) {
        if (m.value("authorizerId", "") == id) {
          return Conflict("Cannot delete authorizer '" + doc["authorizers"][id].value("name", "") +
                          "', is referenced in method: " + verb + " " + r.value("path", ""));
        }
      }
    }
    doc["authorizers"].erase(id);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> RestApis::CreateRequestValidator(const Ctx& c, const Json& in) {
  Json v = Json{{"id", NewId(6)}};
  CopyIf(v, in, {"name"});
  v["validateRequestBody"] = in.value("validateRequestBody", false);
  v["validateRequestParameters"] = in.value("validateRequestParameters", false);
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    doc["validators"][v["id"].get<std::string>()] = v;
    return v;
  });
}

Result<Json> RestApis::GetRequestValidator(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("requestValidatorId", "");
    if (!doc.contains("validators") || !doc["validators"].contains(id)) {
      return NotFound("Invalid Request Validator identifier specified");
    }
    return doc["validators"][id];
  });
}

Result<Json> RestApis::GetRequestValidators(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    return Page(Values(doc.value("validators", Json::object())), in);
  });
}

Result<Json> RestApis::UpdateRequestValidator(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("requestValidatorId", "");
    if (!doc["validators"].contains(id)) {
      return NotFound("Invalid Request Validator identifier specified");
    }
    Json& v = doc["validators"][id];
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(v, in.value("patchOperations", Json::array()),
                   {"name", "validateRequestBody", "validateRequestParameters"}));
    return v;
  });
}

Status RestApis::DeleteRequestValidator(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("requestValidatorId", "");
    if (!doc["validators"].contains(id)) {
      return NotFound("Invalid Request Validator identifier specified");
    }
    doc["validators"].erase(id);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> RestApis::CreateModel(const Ctx& c, const Json& in) {
  STRATUS_RETURN_IF_ERROR(ValidateModelSchema(in));
  std::string name = in.value("name", "");
  bool ok_name = !name.empty();
  for (char ch : name) ok_name = ok_name && std::isalnum(static_cast<unsigned char>(ch));
  if (!ok_name) return BadRequest("Invalid model name specified: " + name);
  Json m = Json{{"id", NewId(6)}, {"name", name}};
  CopyIf(m, in, {"description", "schema", "contentType"});
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    if (doc["models"].contains(name)) return Conflict("Model name already exists for this REST API");
    doc["models"][name] = m;
    return m;
  });
}

Result<Json> RestApis::GetModel(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string name = in.value("modelName", "");
    if (!doc.contains("models") || !doc["models"].contains(name)) {
      return NotFound("Invalid model name specified: " + name);
    }
    return doc["models"][name];
  });
}

Result<Json> RestApis::GetModels(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    return Page(Values(doc.value("models", Json::object())), in);
  });
}

Result<Json> RestApis::UpdateModel(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("modelName", "");
    if (!doc["models"].contains(name)) return NotFound("Invalid model name specified: " + name);
    Json m = doc["models"][name];
    STRATUS_RETURN_IF_ERROR(ApplyPatch(m, in.value("patchOperations", Json::array()),
                                       {"schema", "description"}));
    STRATUS_RETURN_IF_ERROR(ValidateModelSchema(m));
    doc["models"][name] = m;
    return m;
  });
}

Status RestApis::DeleteModel(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string name = in.value("modelName", "");
    if (!doc["models"].contains(name)) return NotFound("Invalid model name specified: " + name);
    doc["models"].erase(name);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> RestApis::PutGatewayResponse(const Ctx& c, const Json& in) {
  STRATUS_RETURN_IF_ERROR(ValidateParameterMappings(in.value("responseParameters", Json())));
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string type = in.value("responseType", "");
    Json gr = Json{{"responseType", type}};
    if (in.contains("statusCode")) {
      gr["statusCode"] = in["statusCode"];
    } else if (int s = DefaultGatewayStatus(type)) {
      gr["statusCode"] = std::to_string(s);
    }
    gr["responseParameters"] = in.value("responseParameters", Json::object());
    gr["responseTemplates"] = in.value("responseTemplates", Json::object());
    gr["defaultResponse"] = false;
    doc["gatewayResponses"][type] = gr;
    return gr;
  });
}

Result<Json> RestApis::GetGatewayResponse(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string type = in.value("responseType", "");
    if (doc.contains("gatewayResponses") && doc["gatewayResponses"].contains(type)) {
      return doc["gatewayResponses"][type];
    }
    return DefaultGatewayResponse(type);
  });
}

Result<Json> RestApis::GetGatewayResponses(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json items = Json::array();
    for (const auto& t : kGatewayResponseTypes) {
      if (doc.contains("gatewayResponses") && doc["gatewayResponses"].contains(t)) {
        items.push_back(doc["gatewayResponses"][t]);
      } else {
        items.push_back(DefaultGatewayResponse(t));
      }
    }
    return Page(std::move(items), in);
  });
}

Result<Json> RestApis::UpdateGatewayResponse(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string type = in.value("responseType", "");
    Json gr = doc["gatewayResponses"].contains(type) ? doc["gatewayResponses"][type]
                                                      : DefaultGatewayResponse(type);
    STRATUS_RETURN_IF_ERROR(ApplyPatch(gr, in.value("patchOperations", Json::array()),
                                       {"statusCode", "responseParameters", "responseTemplates"}));
    STRATUS_RETURN_IF_ERROR(ValidateParameterMappings(gr.value("responseParameters", Json())));
    gr["defaultResponse"] = false;
    doc["gatewayResponses"][type] = gr;
    return gr;
  });
}

Status RestApis::DeleteGatewayResponse(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string type = in.value("responseType", "");
    if (!doc["gatewayResponses"].contains(type)) {
      return NotFound("Invalid Gateway Response identifier specified");
    }
    doc["gatewayResponses"].erase(type);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

}  // namespace stratus::services::apigateway
