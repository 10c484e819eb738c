#include "services/apigateway/http_apis.h"

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "services/apigateway/http_apis_internal.h"
#include "services/apigateway/openapi.h"

namespace stratus::services::apigateway {

namespace httpapi {

namespace {
constexpr int64_t kMinTimeoutMs = 50;
}  // namespace

Error NotFoundOf(const std::string& type, const std::string& what) {
  Error e = NotFound("Invalid " + what + " identifier specified");
  e.fields["ResourceType"] = type;
  return e;
}
Error ApiNotFound(const std::string& id) {
  Error e = NotFound("Invalid API identifier specified " + id);
  e.fields["ResourceType"] = "Api";
  return e;
}

Json Items(const Json& map) {
  Json arr = Json::array();
  if (map.is_object()) {
    for (const auto& [k, v] : map.items()) arr.push_back(v);
  }
  return Json{{"Items", arr}};
}

const std::set<std::string, std::less<>> kRouteMethods = {"GET",  "POST", "PUT",     "DELETE",
                                                          "PATCH", "HEAD", "OPTIONS", "ANY"};

Status ValidateIntegration(const Json& i) {
  std::string type = i.value("IntegrationType", "");
  std::string uri = i.value("IntegrationUri", "");
  if (type == "AWS_PROXY") {
    if (uri.empty() && !i.contains("IntegrationSubtype")) {
      return BadRequest("IntegrationUri is required for AWS_PROXY integrations");
    }
    std::string v = i.value("PayloadFormatVersion", "1.0");
    if (v != "1.0" && v != "2.0") {
      return BadRequest("Invalid PayloadFormatVersion: " + v + ". Supported values are 1.0 and "
                        "2.0");
    }
  } else if (type == "HTTP_PROXY" || type == "HTTP") {
    if (!StartsWith(uri, "http://") && !StartsWith(uri, "https://") &&
        !StartsWith(uri, "arn:")) {
      return BadRequest("Invalid HTTP endpoint specified for URI");
    }
    if (i.value("PayloadFormatVersion", "1.0") != "1.0") {
      return BadRequest("PayloadFormatVersion 1.0 is the only supported value for "
                        "integrations of type " + type);
    }
  } else if (type != "MOCK" && type != "AWS") {
    return BadRequest("Invalid integration type: " + type);
  }
  int64_t t = i.value("TimeoutInMillis", kDefaultTimeoutMs);
  if (t < kMinTimeoutMs || t > kDefaultTimeoutMs) {
    return BadRequest("Timeout must be between 50 and 30000 milliseconds");
  }
  return Status::Ok();
}

Status ValidateAuthorizer(const Json& a) {
  std::string type = a.value("AuthorizerType", "");
  if (type == "JWT") {
    const Json& jwt = a.value("JwtConfiguration", Json::object());
    if (jwt.value("Issuer", "").empty()) {
      return BadRequest("JwtConfiguration.Issuer is required for JWT authorizers");
    }
    if (a.value("IdentitySource", Json::array()).empty()) {
      return BadRequest("IdentitySource is required for JWT authorizers");
    }
  } else if (type == "REQUEST") {
    if (a.value("AuthorizerUri", "").empty()) {
      return BadRequest("AuthorizerUri is required for REQUEST authorizers");
    }
    std::string v = a.value("AuthorizerPayloadFormatVersion", "");
    if (v != "1.0" && v != "2.0") {
      return BadRequest("AuthorizerPayloadFormatVersion must be 1.0 or 2.0 for REQUEST "
                        "authorizers");
    }
    if (a.value("EnableSimpleResponses", false) && v != "2.0") {
      return BadRequest("EnableSimpleResponses is only supported with "
                        "AuthorizerPayloadFormatVersion 2.0");
    }
    if (a.value("AuthorizerResultTtlInSeconds", 0) > 0 &&
        a.value("IdentitySource", Json::array()).empty()) {
      return BadRequest("IdentitySource is required when caching is enabled");
    }
  } else {
    return BadRequest("Invalid authorizer type: " + type);
  }
  return Status::Ok();
}

// The configuration the data plane serves for a deployment.
Json Snapshot(const Json& doc) {
  return Json{{"routes", doc.value("routes", Json::object())},
              {"integrations", doc.value("integrations", Json::object())},
              {"authorizers", doc.value("authorizers", Json::object())},
              {"cors", doc["api"].value("CorsConfiguration", Json())},
              {"disableExecuteApiEndpoint", doc["api"].value("DisableExecuteApiEndpoint", false)}};
}

Json PublicDeployment(const Json& d) {
  Json out = d;
  out.erase("snapshot");
  return out;
}

// Redeploys every auto-deploy stage with the API's current configuration.
void AutoDeploy(Json& doc, const Ctx& c) {
  bool any = false;
  for (const auto& [name, s] : doc["stages"].items()) any = any || s.value("AutoDeploy", false);
  if (!any) return;
  std::string id = NewId(6);
  doc["deployments"][id] = Json{{"DeploymentId", id},
                                {"AutoDeployed", true},
                                {"CreatedDate", EpochSeconds(c.now_ms)},
                                {"DeploymentStatus", "DEPLOYED"},
                                {"snapshot", Snapshot(doc)}};
  for (auto& [name, s] : doc["stages"].items()) {
    if (s.value("AutoDeploy", false)) {
      s["DeploymentId"] = id;
      s["LastUpdatedDate"] = EpochSeconds(c.now_ms);
      s["LastDeploymentStatusMessage"] = "Successfully deployed stage with deployment ID '" + id + "'";
    }
  }
  // Drop auto deployments no stage uses any more.
  std::set<std::string> used;
  for (const auto& [name, s] : doc["stages"].items()) used.insert(s.value("DeploymentId", ""));
  std::vector<std::string> doomed;
  for (const auto& [did, d] : doc["deployments"].items()) {
    if (d.value("AutoDeployed", false) && !used.count(did)) doomed.push_back(did);
  }
  for (const auto& d : doomed) doc["deployments"].erase(d);
}

Result<std::string> TagOwner(const std::string& arn, std::string* stage) {
  auto pos = arn.find("::/");
  if (!StartsWith(arn, "arn:aws:apigateway:") || pos == std::string::npos) {
    return BadRequest("Invalid ARN specified in the request");
  }
  auto parts = Split(std::string_view(arn).substr(pos + 3), '/');
  if (parts.size() >= 2 && parts[0] == "apis") {
    if (parts.size() == 4 && parts[2] == "stages") *stage = parts[3];
    return parts[1];
  }
  return BadRequest("Invalid ARN specified in the request");
}

std::string TargetIntegration(const std::string& target) {
  return StartsWith(target, "integrations/") ? target.substr(13) : std::string();
}

}  // namespace httpapi

using namespace httpapi;  // NOLINT(google-build-using-namespace): this file defines them

Status ValidateRouteKey(const std::string& key) {
  if (key == "$default") return Status::Ok();
  auto space = key.find(' ');
  auto bad = [&] {
    return BadRequest("Invalid route key: " + key +
                      ". Route keys must be $default or an HTTP method and a resource path "
                      "starting with '/', e.g. 'GET /pets'");
  };
  if (space == std::string::npos) return bad();
  std::string method = key.substr(0, space);
  std::string path = key.substr(space + 1);
  if (!kRouteMethods.count(method) || path.empty() || path[0] != '/') return bad();
  if (path.size() > 1) {
    auto segs = Split(std::string_view(path).substr(1), '/');
    for (size_t i = 0; i < segs.size(); ++i) {
      const auto& s = segs[i];
      if (s.empty()) return bad();
      if (s.front() == '{') {
        if (s.back() != '}' || s.size() < 3) return bad();
        if (s[s.size() - 2] == '+' && i + 1 != segs.size()) {
          return BadRequest("Invalid route key: " + key +
                            ". A greedy path variable must be the last path segment");
        }
      } else if (s.find_first_of("{}") != std::string::npos) {
        return bad();
      }
    }
  }
  return Status::Ok();
}

Json HttpApis::PublicApi(const Json& api) const {
  Json out = api;
  out["ApiEndpoint"] = ReplaceAll(endpoint_template_, "{id}", api.value("ApiId", ""));
  return out;
}

Result<Json> HttpApis::LoadApi(const Scope& s, const std::string& api_id) {
  Json doc;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(doc, LoadJson(txn, keys::HttpApi(s, api_id)));
    NormalizeHttpDoc(doc);
    return Status::Ok();
  }));
  return doc;
}

Result<Json> HttpApis::Mutate(const Ctx& c, const std::string& api_id,
                              const std::function<Result<Json>(Json& doc)>& fn) {
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json doc, LoadJson(txn, keys::HttpApi(c.scope, api_id)));
    if (doc.is_null()) return ApiNotFound(api_id);
    NormalizeHttpDoc(doc);
    STRATUS_ASSIGN_OR_RETURN(out, fn(doc));
    return SaveJson(txn, keys::HttpApi(c.scope, api_id), doc);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_(api_id);
  return out;
}

Result<Json> HttpApis::View(const Ctx& c, const std::string& api_id,
                            const std::function<Result<Json>(const Json& doc)>& fn) {
  STRATUS_ASSIGN_OR_RETURN(Json doc, LoadApi(c.scope, api_id));
  if (doc.is_null()) return ApiNotFound(api_id);
  return fn(doc);
}

// ---- APIs -------------------------------------------------------------------------------------

Result<Json> HttpApis::CreateApi(const Ctx& c, const Json& in) {
  std::string protocol = in.value("ProtocolType", "");
  if (protocol == "WEBSOCKET") {
    return BadRequest("WebSocket APIs are not supported by stratus yet (see docs/apigateway.md)");
  }
  if (protocol != "HTTP") return BadRequest("Invalid protocol type: " + protocol);
  std::string id = NewId(10);
  Json api = Json{{"ApiId", id},
                  {"ApiKeySelectionExpression",
                   in.value("ApiKeySelectionExpression", "$request.header.x-api-key")},
                  {"CreatedDate", EpochSeconds(c.now_ms)},
                  {"DisableExecuteApiEndpoint", in.value("DisableExecuteApiEndpoint", false)},
                  {"Name", in.value("Name", "")},
                  {"ProtocolType", protocol},
                  {"RouteSelectionExpression",
                   in.value("RouteSelectionExpression", "$request.method $request.path")},
                  {"Tags", in.value("Tags", Json::object())}};
  CopyIf(api, in, {"CorsConfiguration", "Description", "Version", "DisableSchemaValidation",
                   "IpAddressType"});
  Json doc = Json{{"api", api},
                  {"routes", Json::object()},
                  {"integrations", Json::object()},
                  {"stages", Json::object()},
                  {"deployments", Json::object()},
                  {"authorizers", Json::object()}};
  if (in.contains("Target")) {
    // Quick create: an integration, a route and an auto-deployed $default stage.
    std::string target = in["Target"].get<std::string>();
    std::string route_key = in.value("RouteKey", "$default");
    STRATUS_RETURN_IF_ERROR(ValidateRouteKey(route_key));
    bool http = StartsWith(target, "http://") || StartsWith(target, "https://");
    if (!http && !StartsWith(target, "arn:aws:lambda:")) {
      return BadRequest("Invalid target: " + target +
                        ". The target must be a Lambda function ARN or an HTTP URL");
    }
    std::string iid = NewId(7);
    Json integ = Json{{"ApiGatewayManaged", true},
                      {"ConnectionType", "INTERNET"},
                      {"IntegrationId", iid},
                      {"IntegrationMethod", http ? "ANY" : "POST"},
                      {"IntegrationType", http ? "HTTP_PROXY" : "AWS_PROXY"},
                      {"IntegrationUri", target},
                      {"PayloadFormatVersion", http ? "1.0" : "2.0"},
                      {"TimeoutInMillis", kDefaultTimeoutMs}};
    if (in.contains("CredentialsArn")) integ["CredentialsArn"] = in["CredentialsArn"];
    doc["integrations"][iid] = integ;
    std::string rid = NewId(7);
    doc["routes"][rid] = Json{{"ApiGatewayManaged", true},
                              {"ApiKeyRequired", false},
                              {"AuthorizationType", "NONE"},
                              {"RouteId", rid},
                              {"RouteKey", route_key},
                              {"Target", "integrations/" + iid}};
    doc["stages"]["$default"] = Json{{"ApiGatewayManaged", true},
                                     {"AutoDeploy", true},
                                     {"CreatedDate", EpochSeconds(c.now_ms)},
                                     {"DefaultRouteSettings", Json{{"DetailedMetricsEnabled", false}}},
                                     {"LastUpdatedDate", EpochSeconds(c.now_ms)},
                                     {"RouteSettings", Json::object()},
                                     {"StageName", "$default"},
                                     {"StageVariables", Json::object()},
                                     {"Tags", Json::object()}};
    AutoDeploy(doc, c);
  }
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(SaveJson(txn, keys::HttpApi(c.scope, id), doc));
    return SaveJson(txn, keys::ApiIndex(id),
                    Json{{"account", c.scope.account}, {"region", c.scope.region},
                         {"kind", "http"}});
  });
  if (!st.ok()) return std::move(st).error();
  return PublicApi(api);
}

Result<Json> HttpApis::GetApi(const Ctx& c, const Json& in) {
  return View(c, in.value("ApiId", ""),
              [&](const Json& doc) -> Result<Json> { return PublicApi(doc["api"]); });
}

Result<Json> HttpApis::GetApis(const Ctx& c, const Json& in) {
  (void)in;
  STRATUS_ASSIGN_OR_RETURN(auto rows,
                           store_.Scan(store::PrefixScan(keys::Base(c.scope) + "http/")));
  Json items = Json::array();
  for (const auto& kv : rows) {
    Json doc = ParseJsonOrDiscarded(kv.value);
    if (!doc.is_discarded()) items.push_back(PublicApi(doc["api"]));
  }
  return Json{{"Items", items}};
}

Result<Json> HttpApis::UpdateApi(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    Json& api = doc["api"];
    CopyIf(api, in, {"ApiKeySelectionExpression", "CorsConfiguration", "Description",
                     "DisableSchemaValidation", "DisableExecuteApiEndpoint", "Name",
                     "RouteSelectionExpression", "Version", "IpAddressType"});
    AutoDeploy(doc, c);
    return PublicApi(api);
  });
}

Status HttpApis::DeleteApi(const Ctx& c, const Json& in) {
  std::string id = in.value("ApiId", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::HttpApi(c.scope, id)));
    if (!raw) return ApiNotFound(id);
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::HttpApi(c.scope, id)));
    return txn.Delete(keys::ApiIndex(id));
  });
  if (st.ok() && on_change_) on_change_(id);
  return st;
}

Status HttpApis::DeleteCorsConfiguration(const Ctx& c, const Json& in) {
  auto r = Mutate(c, in.value("ApiId", ""), [&](Json& doc) -> Result<Json> {
    doc["api"].erase("CorsConfiguration");
    AutoDeploy(doc, c);
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Result<Json> HttpApis::ApplyDocument(const Ctx& c, const std::string& api_id,
                                     const std::string& body, bool fail_on_warnings) {
  STRATUS_ASSIGN_OR_RETURN(Json doc_in, ParseJsonOrYaml(body));
  if (!doc_in.is_object() || !doc_in.contains("openapi")) {
    return BadRequest("Invalid OpenAPI input: HTTP APIs import OpenAPI 3 documents only");
  }
  Json warnings = Json::array();
  return Mutate(c, api_id, [&](Json& doc) -> Result<Json> {
    doc["routes"] = Json::object();
    doc["integrations"] = Json::object();
    doc["authorizers"] = Json::object();
    const Json& info = doc_in.value("info", Json::object());
    if (info.contains("title") && info["title"].is_string()) doc["api"]["Name"] = info["title"];
    if (info.contains("version")) {
      doc["api"]["Version"] = info["version"].is_string() ? info["version"].get<std::string>()
                                                          : info["version"].dump();
    }
    if (info.contains("description")) doc["api"]["Description"] = info["description"];
    if (doc_in.contains("x-amazon-apigateway-cors")) {
      const Json& x = doc_in["x-amazon-apigateway-cors"];
      Json cors = Json::object();
      for (const auto& [k, v] : x.items()) {
        std::string key = k;
        if (!key.empty()) key[0] = static_cast<char>(std::toupper(key[0]));
        cors[key] = v;
      }
      doc["api"]["CorsConfiguration"] = cors;
    }
    std::map<std::string, std::string> auth_ids;
    const Json& schemes =
        doc_in.value("components", Json::object()).value("securitySchemes", Json::object());
    for (const auto& [name, s] : schemes.items()) {
      if (!s.is_object() || !s.contains("x-amazon-apigateway-authorizer")) continue;
      const Json& x = s["x-amazon-apigateway-authorizer"];
      std::string id = NewId(6);
      Json a = Json{{"AuthorizerId", id}, {"Name", name}};
      std::string type = ToUpper(x.value("type", ""));
      a["AuthorizerType"] = type;
      if (type == "JWT") {
        const Json& jc = x.value("jwtConfiguration", Json::object());
        Json jwt = Json::object();
        if (jc.contains("issuer")) jwt["Issuer"] = jc["issuer"];
        if (jc.contains("audience")) jwt["Audience"] = jc["audience"];
        a["JwtConfiguration"] = jwt;
      } else {
        if (x.contains("authorizerUri")) a["AuthorizerUri"] = x["authorizerUri"];
        a["AuthorizerPayloadFormatVersion"] = x.value("authorizerPayloadFormatVersion", "2.0");
        a["EnableSimpleResponses"] = x.value("enableSimpleResponses", false);
        a["AuthorizerResultTtlInSeconds"] = x.value("authorizerResultTtlInSeconds", 0);
      }
      Json src = x.value("identitySource", Json());
      if (src.is_string()) {
        Json list = Json::array();
        for (auto& p : Split(src.get<std::string>(), ',')) list.push_back(std::string(Trim(p)));
        src = list;
      }
      if (src.is_null()) {
        src = Json::array({"$request.header." + s.value("name", "Authorization")});
      }
      a["IdentitySource"] = src;
      STRATUS_RETURN_IF_ERROR(ValidateAuthorizer(a));
      doc["authorizers"][id] = a;
      auth_ids[name] = id;
    }
    const Json& paths = doc_in.value("paths", Json::object());
    if (!paths.is_object()) return BadRequest("Invalid OpenAPI input: 'paths' must be an object");
    for (const auto& [path, item] : paths.items()) {
      if (!item.is_object()) return BadRequest("Invalid OpenAPI input: bad path item " + path);
      for (const auto& [verb_raw, op] : item.items()) {
        std::string verb = verb_raw == "x-amazon-apigateway-any-method" ? "ANY" : ToUpper(verb_raw);
        if (!kRouteMethods.count(verb)) continue;
        std::string key = path == "$default" ? "$default" : verb + " " + path;
        STRATUS_RETURN_IF_ERROR(ValidateRouteKey(key));
        std::string rid = NewId(7);
        Json route = Json{{"ApiKeyRequired", false}, {"AuthorizationType", "NONE"},
                          {"RouteId", rid}, {"RouteKey", key}};
        if (op.contains("operationId")) route["OperationName"] = op["operationId"];
        for (const auto& req : op.value("security", Json::array())) {
          for (const auto& [sname, scopes] : req.items()) {
            if (!auth_ids.count(sname)) {
              return BadRequest("Invalid OpenAPI input: unknown security scheme " + sname);
            }
            const Json& a = doc["authorizers"][auth_ids[sname]];
            route["AuthorizerId"] = auth_ids[sname];
            route["AuthorizationType"] = a["AuthorizerType"] == "JWT" ? "JWT" : "CUSTOM";
            if (scopes.is_array() && !scopes.empty()) route["AuthorizationScopes"] = scopes;
          }
        }
        if (op.contains("x-amazon-apigateway-integration")) {
          const Json& x = op["x-amazon-apigateway-integration"];
          std::string iid = NewId(7);
          Json integ = Json{{"IntegrationId", iid},
                            {"ConnectionType", x.value("connectionType", "INTERNET")},
                            {"IntegrationType", ToUpper(x.value("type", ""))},
                            {"PayloadFormatVersion", x.value("payloadFormatVersion", "1.0")},
                            {"TimeoutInMillis", x.value("timeoutInMillis", kDefaultTimeoutMs)}};
          if (x.contains("uri")) {
            if (!x["uri"].is_string()) {
              return BadRequest("Invalid OpenAPI input: integration uri of " + key +
                                " must be a string");
            }
            integ["IntegrationUri"] = x["uri"];
          }
          if (x.contains("httpMethod")) integ["IntegrationMethod"] = ToUpper(x["httpMethod"].get<std::string>());
          if (x.contains("requestParameters")) integ["RequestParameters"] = x["requestParameters"];
          STRATUS_RETURN_IF_ERROR(ValidateIntegration(integ));
          doc["integrations"][iid] = integ;
          route["Target"] = "integrations/" + iid;
        } else {
          warnings.push_back("Route " + key + " has no integration");
        }
        doc["routes"][rid] = route;
      }
    }
    if (fail_on_warnings && !warnings.empty()) {
      return BadRequest("Warnings found during import: " + warnings.dump());
    }
    AutoDeploy(doc, c);
    Json api = PublicApi(doc["api"]);
    if (!warnings.empty()) api["Warnings"] = warnings;
    return api;
  });
}

Result<Json> HttpApis::ImportApi(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json doc_in, ParseJsonOrYaml(in.value("Body", "")));
  std::string name = doc_in.is_object() ? doc_in.value("info", Json::object()).value("title", Json("imported")).dump() : "";
  STRATUS_ASSIGN_OR_RETURN(Json api, CreateApi(c, Json{{"Name", "imported"}, {"ProtocolType", "HTTP"}}));
  auto r = ApplyDocument(c, api["ApiId"].get<std::string>(), in.value("Body", ""),
                         in.value("FailOnWarnings", false));
  if (!r.ok()) (void)DeleteApi(c, Json{{"ApiId", api["ApiId"]}});
  (void)name;
  return r;
}

Result<Json> HttpApis::ReimportApi(const Ctx& c, const Json& in) {
  return ApplyDocument(c, in.value("ApiId", ""), in.value("Body", ""),
                       in.value("FailOnWarnings", false));
}

Result<std::string> HttpApis::ExportApi(const Ctx& c, const Json& in) {
  if (in.value("Specification", "") != "OAS30") {
    return BadRequest("Invalid specification: only OAS30 is supported");
  }
  if (in.value("OutputType", "JSON") != "JSON") {
    return BadRequest("Only JSON exports are supported by stratus");
  }
  STRATUS_ASSIGN_OR_RETURN(Json doc, LoadApi(c.scope, in.value("ApiId", "")));
  if (doc.is_null()) return ApiNotFound(in.value("ApiId", ""));
  Json snapshot = Snapshot(doc);
  std::string stage = in.value("StageName", "");
  if (!stage.empty()) {
    if (!doc["stages"].contains(stage)) return NotFoundOf("Stage", "Stage");
    std::string dep = doc["stages"][stage].value("DeploymentId", "");
    if (doc["deployments"].contains(dep)) snapshot = doc["deployments"][dep]["snapshot"];
  }
  bool ext = in.value("IncludeExtensions", true);
  Json out = Json{{"openapi", "3.0.1"},
                  {"info", Json{{"title", doc["api"].value("Name", "")},
                                {"version", doc["api"].value("Version", "1.0")}}}};
  Json paths = Json::object();
  for (const auto& [rid, r] : snapshot["routes"].items()) {
    std::string key = r.value("RouteKey", "");
    std::string path = "$default";
    std::string verb = "x-amazon-apigateway-any-method";
    if (key != "$default") {
      auto sp = key.find(' ');
      path = key.substr(sp + 1);
      std::string m = key.substr(0, sp);
      verb = m == "ANY" ? "x-amazon-apigateway-any-method" : ToLower(m);
    }
    Json op = Json{{"responses", Json{{"default", Json{{"description", "Default response for " + key}}}}}};
    std::string iid = TargetIntegration(r.value("Target", ""));
    if (ext && snapshot["integrations"].contains(iid)) {
      const Json& i = snapshot["integrations"][iid];
      Json x = Json{{"type", ToLower(i.value("IntegrationType", ""))},
                    {"payloadFormatVersion", i.value("PayloadFormatVersion", "1.0")}};
      if (i.contains("IntegrationUri")) x["uri"] = i["IntegrationUri"];
      if (i.contains("IntegrationMethod")) x["httpMethod"] = i["IntegrationMethod"];
      x["connectionType"] = i.value("ConnectionType", "INTERNET");
      op["x-amazon-apigateway-integration"] = x;
    }
    paths[path][verb] = op;
  }
  out["paths"] = paths;
  if (ext && !snapshot["cors"].is_null()) {
    Json cors = Json::object();
    for (const auto& [k, v] : snapshot["cors"].items()) {
      std::string key = k;
      key[0] = static_cast<char>(std::tolower(key[0]));
      cors[key] = v;
    }
    out["x-amazon-apigateway-cors"] = cors;
  }
  return out.dump(2);
}

// ---- Tags -------------------------------------------------------------------------------------

Result<Json> HttpApis::GetTags(const Ctx& c, const Json& in) {
  std::string stage;
  STRATUS_ASSIGN_OR_RETURN(std::string id, TagOwner(in.value("ResourceArn", ""), &stage));
  return View(c, id, [&](const Json& doc) -> Result<Json> {
    if (!stage.empty()) {
      if (!doc["stages"].contains(stage)) return NotFoundOf("Stage", "Stage");
      return Json{{"Tags", doc["stages"][stage].value("Tags", Json::object())}};
    }
    return Json{{"Tags", doc["api"].value("Tags", Json::object())}};
  });
}

Status HttpApis::TagResource(const Ctx& c, const Json& in) {
  std::string stage;
  STRATUS_ASSIGN_OR_RETURN(std::string id, TagOwner(in.value("ResourceArn", ""), &stage));
  auto r = Mutate(c, id, [&](Json& doc) -> Result<Json> {
    Json* owner = &doc["api"];
    if (!stage.empty()) {
      if (!doc["stages"].contains(stage)) return NotFoundOf("Stage", "Stage");
      owner = &doc["stages"][stage];
    }
    for (const auto& [k, v] : Member(in, "Tags").items()) (*owner)["Tags"][k] = v;
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

Status HttpApis::UntagResource(const Ctx& c, const Json& in) {
  std::string stage;
  STRATUS_ASSIGN_OR_RETURN(std::string id, TagOwner(in.value("ResourceArn", ""), &stage));
  auto r = Mutate(c, id, [&](Json& doc) -> Result<Json> {
    Json* owner = &doc["api"];
    if (!stage.empty()) {
      if (!doc["stages"].contains(stage)) return NotFoundOf("Stage", "Stage");
      owner = &doc["stages"][stage];
    }
    for (const auto& k : in.value("TagKeys", Json::array())) {
      (*owner)["Tags"].erase(k.get<std::string>());
    }
    return Json();
  });
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

}  // namespace stratus::services::apigateway
