#include "services/apigateway/rest_apis_internal.h"

namespace stratus::services::apigateway {

// ---- Resources --------------------------------------------------------------------------------

Result<Json> RestApis::CreateResource(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string parent = in.value("parentId", "");
    STRATUS_ASSIGN_OR_RETURN(Json * p, FindResource(doc, parent));
    std::string part = in.value("pathPart", "");
    STRATUS_RETURN_IF_ERROR(ValidatePathPart(part));
    std::string parent_path = (*p)["path"].get<std::string>();
    if (parent_path.find("+}") != std::string::npos) {
      return BadRequest("Cannot create a child of a resource with a greedy path variable: " +
                        parent_path);
    }
    STRATUS_RETURN_IF_ERROR(CheckSiblings(doc, parent, part, ""));
    std::string id = NewId(6);
    Json r = Json{{"id", id}, {"parentId", parent}, {"pathPart", part},
                  {"path", ChildPath(parent_path, part)}};
    doc["resources"][id] = r;
    return r;
  });
}

Result<Json> RestApis::GetResource(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    std::string id = in.value("resourceId", "");
    if (!doc["resources"].contains(id)) return ResourceNotFound();
    return doc["resources"][id];
  });
}

Result<Json> RestApis::GetResources(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    bool embed = false;
    for (const auto& e : in.value("embed", Json::array())) embed = embed || e == "methods";
    Json items = Json::array();
    for (const auto& [id, r] : doc["resources"].items()) {
      Json item = r;
      if (!embed && item.contains("resourceMethods")) {
        for (auto& [m, body] : item["resourceMethods"].items()) body = Json::object();
      }
      items.push_back(std::move(item));
    }
    std::sort(items.begin(), items.end(), [](const Json& a, const Json& b) {
      return a.value("path", "") < b.value("path", "");
    });
    return Page(std::move(items), in);
  });
}

Result<Json> RestApis::UpdateResource(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("resourceId", "");
    STRATUS_ASSIGN_OR_RETURN(Json * r, FindResource(doc, id));
    if (!r->contains("parentId")) return BadRequest("Root resource cannot be updated");
    Json copy = *r;
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(copy, in.value("patchOperations", Json::array()), {"pathPart", "parentId"}));
    std::string part = copy.value("pathPart", "");
    STRATUS_RETURN_IF_ERROR(ValidatePathPart(part));
    std::string parent = copy.value("parentId", "");
    if (!doc["resources"].contains(parent)) return ResourceNotFound();
    STRATUS_RETURN_IF_ERROR(CheckSiblings(doc, parent, part, id));
    copy["path"] = ChildPath(doc["resources"][parent]["path"].get<std::string>(), part);
    *r = copy;
    RepathSubtree(doc, id);
    return doc["resources"][id];
  });
}

Status RestApis::DeleteResource(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string id = in.value("resourceId", "");
    STRATUS_ASSIGN_OR_RETURN(Json * r, FindResource(doc, id));
    if (!r->contains("parentId")) return BadRequest("Cannot delete the root resource");
    std::vector<std::string> doomed = {id};
    for (size_t i = 0; i < doomed.size(); ++i) {
      for (const auto& [cid, child] : doc["resources"].items()) {
        if (child.value("parentId", "") == doomed[i]) doomed.push_back(cid);
      }
    }
    for (const auto& d : doomed) doc["resources"].erase(d);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

// ---- Methods ----------------------------------------------------------------------------------

namespace {

// A method's requestModels must name models of its API (or the built-in Empty and Error every
// AWS REST API has), as PutMethod/UpdateMethod check on AWS.
Status CheckRequestModels(const Json& doc, const Json& method) {
  auto models = method.find("requestModels");
  if (models == method.end() || !models->is_object()) return Status::Ok();
  for (const auto& [type, name] : models->items()) {
    if (!name.is_string()) return BadRequest("Invalid model identifier specified: " + name.dump());
    const auto& n = name.get_ref<const std::string&>();
    if (n == "Empty" || n == "Error") continue;
    if (!doc.contains("models") || !doc["models"].contains(n)) {
      return BadRequest("Invalid model identifier specified: " + n);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Json> RestApis::PutMethod(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * r, FindResource(doc, in.value("resourceId", "")));
    std::string verb = in.value("httpMethod", "");
    if (!kHttpMethods.count(verb)) return BadRequest("Invalid HttpMethod specified");
    if ((*r)["resourceMethods"].contains(verb)) {
      return Conflict("Method already exists for this resource");
    }
    std::string auth = in.value("authorizationType", "");
    static const std::set<std::string, std::less<>> kAuth = {"NONE", "AWS_IAM", "CUSTOM",
                                                             "COGNITO_USER_POOLS"};
    if (!kAuth.count(auth)) {
      return BadRequest("Invalid authorization type specified. Valid values are NONE, AWS_IAM, "
                        "CUSTOM, COGNITO_USER_POOLS");
    }
    Json m = Json{{"httpMethod", verb}, {"authorizationType", auth}};
    if (auth == "CUSTOM" || auth == "COGNITO_USER_POOLS") {
      std::string aid = in.value("authorizerId", "");
      if (aid.empty() || !doc["authorizers"].contains(aid)) {
        return BadRequest("Invalid authorizer ID specified");
      }
      m["authorizerId"] = aid;
    }
    m["apiKeyRequired"] = in.value("apiKeyRequired", false);
    if (in.contains("requestValidatorId")) {
      if (!doc["validators"].contains(in["requestValidatorId"].get<std::string>())) {
        return BadRequest("Invalid Request Validator identifier specified");
      }
    }
    CopyIf(m, in, {"requestValidatorId", "operationName", "requestParameters", "requestModels",
                   "authorizationScopes"});
    STRATUS_RETURN_IF_ERROR(CheckRequestModels(doc, m));
    (*r)["resourceMethods"][verb] = m;
    return m;
  });
}

Result<Json> RestApis::GetMethod(const Ctx& c, const Json& in) {
  Json copy = in;
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json d = doc;
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(d, copy));
    return *m;
  });
}

Result<Json> RestApis::UpdateMethod(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
    STRATUS_RETURN_IF_ERROR(ApplyPatch(
        *m, in.value("patchOperations", Json::array()),
        {"authorizationType", "authorizerId", "apiKeyRequired", "requestValidatorId",
         "operationName", "requestParameters", "requestModels", "authorizationScopes"}));
    if (m->contains("authorizerId") &&
        !doc["authorizers"].contains((*m)["authorizerId"].get<std::string>())) {
      return BadRequest("Invalid authorizer ID specified");
    }
    STRATUS_RETURN_IF_ERROR(CheckRequestModels(doc, *m));
    return *m;
  });
}

Status RestApis::DeleteMethod(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
    (void)m;
    doc["resources"][in.value("resourceId", "")]["resourceMethods"].erase(
        in.value("httpMethod", ""));
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> RestApis::PutMethodResponse(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
    std::string code = in.value("statusCode", "");
    Json mr = Json{{"statusCode", code}};
    CopyIf(mr, in, {"responseParameters", "responseModels"});
    (*m)["methodResponses"][code] = mr;
    return mr;
  });
}

Result<Json> RestApis::GetMethodResponse(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json d = doc;
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(d, in));
    std::string code = in.value("statusCode", "");
    if (!(*m)["methodResponses"].contains(code)) {
      return NotFound("Invalid Response status code specified");
    }
    return (*m)["methodResponses"][code];
  });
}

Result<Json> RestApis::UpdateMethodResponse(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
    std::string code = in.value("statusCode", "");
    if (!(*m)["methodResponses"].contains(code)) {
      return NotFound("Invalid Response status code specified");
    }
    Json& mr = (*m)["methodResponses"][code];
    STRATUS_RETURN_IF_ERROR(ApplyPatch(mr, in.value("patchOperations", Json::array()),
                                       {"responseParameters", "responseModels"}));
    return mr;
  });
}

Status RestApis::DeleteMethodResponse(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
    std::string code = in.value("statusCode", "");
    if (!(*m)["methodResponses"].contains(code)) {
      return NotFound("Invalid Response status code specified");
    }
    (*m)["methodResponses"].erase(code);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

// ---- Integrations -----------------------------------------------------------------------------

Result<Json> RestApis::PutIntegration(const Ctx& c, const Json& in) {
  STRATUS_RETURN_IF_ERROR(ValidateIntegrationInput(in, c.scope.region));
  STRATUS_RETURN_IF_ERROR(ValidateParameterMappings(in.value("requestParameters", Json())));
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
    Json i = Json::object();
    i["type"] = in["type"];
    if (in.contains("integrationHttpMethod")) i["httpMethod"] = in["integrationHttpMethod"];
    CopyIf(i, in, {"uri", "connectionType", "connectionId", "credentials", "requestParameters",
                   "requestTemplates"});
    i["passthroughBehavior"] = in.value("passthroughBehavior", "WHEN_NO_MATCH");
    CopyIf(i, in, {"contentHandling"});
    i["timeoutInMillis"] = in.value("timeoutInMillis", kDefaultTimeoutMs);
    i["cacheNamespace"] = in.value("cacheNamespace", in.value("resourceId", ""));
    i["cacheKeyParameters"] = in.value("cacheKeyParameters", Json::array());
    CopyIf(i, in, {"tlsConfig"});
    (*m)["methodIntegration"] = i;
    return i;
  });
}

Result<Json> RestApis::GetIntegration(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json d = doc;
    STRATUS_ASSIGN_OR_RETURN(Json * i, FindIntegration(d, in));
    return *i;
  });
}

Result<Json> RestApis::UpdateIntegration(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * i, FindIntegration(doc, in));
    Json copy = *i;
    STRATUS_RETURN_IF_ERROR(ApplyPatch(
        copy, in.value("patchOperations", Json::array()),
        {"type", "httpMethod", "uri", "connectionType", "connectionId", "credentials",
         "requestParameters", "requestTemplates", "passthroughBehavior", "contentHandling",
         "timeoutInMillis", "cacheNamespace", "cacheKeyParameters", "tlsConfig"}));
    Json check = copy;
    if (check.contains("httpMethod")) check["integrationHttpMethod"] = check["httpMethod"];
    STRATUS_RETURN_IF_ERROR(ValidateIntegrationInput(check, c.scope.region));
    STRATUS_RETURN_IF_ERROR(ValidateParameterMappings(copy.value("requestParameters", Json())));
    *i = copy;
    return *i;
  });
}

Status RestApis::DeleteIntegration(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
    if (!m->contains("methodIntegration")) return IntegrationNotFound();
    m->erase("methodIntegration");
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> RestApis::PutIntegrationResponse(const Ctx& c, const Json& in) {
  STRATUS_RETURN_IF_ERROR(ValidateParameterMappings(in.value("responseParameters", Json())));
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * i, FindIntegration(doc, in));
    std::string code = in.value("statusCode", "");
    Json ir = Json{{"statusCode", code}};
    CopyIf(ir, in, {"selectionPattern", "responseParameters", "responseTemplates",
                    "contentHandling"});
    (*i)["integrationResponses"][code] = ir;
    return ir;
  });
}

Result<Json> RestApis::GetIntegrationResponse(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [&](const Json& doc) -> Result<Json> {
    Json d = doc;
    STRATUS_ASSIGN_OR_RETURN(Json * i, FindIntegration(d, in));
    std::string code = in.value("statusCode", "");
    if (!(*i)["integrationResponses"].contains(code)) {
      return NotFound("Invalid Response status code specified");
    }
    return (*i)["integrationResponses"][code];
  });
}

Result<Json> RestApis::UpdateIntegrationResponse(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * i, FindIntegration(doc, in));
    std::string code = in.value("statusCode", "");
    if (!(*i)["integrationResponses"].contains(code)) {
      return NotFound("Invalid Response status code specified");
    }
    Json& ir = (*i)["integrationResponses"][code];
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(ir, in.value("patchOperations", Json::array()),
                   {"selectionPattern", "responseParameters", "responseTemplates",
                    "contentHandling"}));
    return ir;
  });
}

Status RestApis::DeleteIntegrationResponse(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(Json * i, FindIntegration(doc, in));
    std::string code = in.value("statusCode", "");
    if (!(*i)["integrationResponses"].contains(code)) {
      return NotFound("Invalid Response status code specified");
    }
    (*i)["integrationResponses"].erase(code);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

}  // namespace stratus::services::apigateway
