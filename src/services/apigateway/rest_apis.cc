#include "services/apigateway/rest_apis.h"

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "services/apigateway/openapi.h"

namespace stratus::services::apigateway {

namespace {

constexpr int kDefaultLimit = 25;
constexpr int kMaxLimit = 500;
constexpr int64_t kDefaultTimeoutMs = 29000;
constexpr int64_t kMinTimeoutMs = 50;
constexpr int64_t kDefaultAuthorizerTtl = 300;
constexpr int64_t kMaxAuthorizerTtl = 3600;

const std::set<std::string, std::less<>> kHttpMethods = {"GET",  "POST",    "PUT", "DELETE",
                                                         "PATCH", "HEAD",   "OPTIONS", "ANY"};

Error ApiNotFound(const Ctx& c, const std::string& id) {
  return NotFound("Invalid API identifier specified " + c.scope.account + ":" + id);
}
Error ResourceNotFound() { return NotFound("Invalid Resource identifier specified"); }
Error MethodNotFound() { return NotFound("Invalid Method identifier specified"); }
Error IntegrationNotFound() { return NotFound("Invalid Integration identifier specified"); }
Error StageNotFound() { return NotFound("Invalid Stage identifier specified"); }

// A page of `items` (already in order) as {"items": [...], "position"?}.
Result<Json> Page(Json items, const Json& in) {
  int64_t limit = in.value("limit", int64_t{kDefaultLimit});
  if (limit <= 0 || limit > kMaxLimit) limit = kDefaultLimit;
  size_t start = 0;
  if (in.contains("position")) {
    STRATUS_ASSIGN_OR_RETURN(std::string pos, PageAfter(in["position"].get<std::string>()));
    auto n = ParseInt64(pos);
    if (!n || *n < 0) return BadRequest("Invalid position parameter");
    start = static_cast<size_t>(*n);
  }
  Json out = Json::object();
  Json page = Json::array();
  size_t end = std::min(items.size(), start + static_cast<size_t>(limit));
  for (size_t i = start; i < end; ++i) page.push_back(std::move(items[i]));
  out["items"] = std::move(page);
  if (end < items.size()) out["position"] = PageToken(std::to_string(end));
  return out;
}

Json Values(const Json& map) {
  Json arr = Json::array();
  if (map.is_object()) {
    for (const auto& [k, v] : map.items()) arr.push_back(v);
  }
  return arr;
}

void CopyIf(Json& to, const Json& from, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (from.contains(n)) to[n] = from[n];
  }
}

Result<Json*> FindResource(Json& doc, const std::string& id) {
  auto& res = doc["resources"];
  if (!res.contains(id)) return ResourceNotFound();
  return &res[id];
}

Result<Json*> FindMethod(Json& doc, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json * r, FindResource(doc, in.value("resourceId", "")));
  std::string m = in.value("httpMethod", "");
  auto& methods = (*r)["resourceMethods"];
  if (!methods.is_object() || !methods.contains(m)) return MethodNotFound();
  return &methods[m];
}

Result<Json*> FindIntegration(Json& doc, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
  if (!m->contains("methodIntegration")) return IntegrationNotFound();
  return &(*m)["methodIntegration"];
}

// Recomputes `path` for a resource and all its descendants.
void RepathSubtree(Json& doc, const std::string& id) {
  auto& res = doc["resources"];
  std::string parent_path = res[id]["path"].get<std::string>();
  for (auto& [cid, child] : res.items()) {
    if (child.value("parentId", "") == id) {
      child["path"] = ChildPath(parent_path, child.value("pathPart", ""));
      RepathSubtree(doc, cid);
    }
  }
}

Status CheckSiblings(const Json& doc, const std::string& parent_id, const std::string& part,
                     const std::string& self_id) {
  bool variable = part.size() > 1 && part.front() == '{';
  for (const auto& [id, r] : doc["resources"].items()) {
    if (id == self_id || r.value("parentId", "") != parent_id) continue;
    std::string other = r.value("pathPart", "");
    if (other == part) {
      return Conflict("Another resource with the same parent already has this name: " + part);
    }
    if (variable && other.size() > 1 && other.front() == '{') {
      return BadRequest("A sibling (" + other +
                        ") of this resource already has a variable path part -- only one is "
                        "allowed");
    }
  }
  return Status::Ok();
}

Status ValidateIntegrationInput(const Json& in, const std::string& region) {
  std::string type = in.value("type", "");
  std::string uri = in.value("uri", "");
  if (type.empty()) return BadRequest("Enumeration value for IntegrationType must be non-empty");
  if (type != "MOCK") {
    if (in.value("integrationHttpMethod", "").empty()) {
      return BadRequest("Enumeration value for HttpMethod must be non-empty");
    }
    if (uri.empty()) return BadRequest("Invalid integration URI specified");
  }
  if (type == "HTTP" || type == "HTTP_PROXY") {
    if (!StartsWith(uri, "http://") && !StartsWith(uri, "https://")) {
      return BadRequest("Invalid HTTP endpoint specified for URI");
    }
  }
  if (type == "AWS" || type == "AWS_PROXY") {
    if (!StartsWith(uri, "arn:aws:apigateway:")) {
      return BadRequest("AWS ARN for integration must contain path or action");
    }
    if (uri.find(":path/") == std::string::npos && uri.find(":action/") == std::string::npos) {
      return BadRequest("AWS ARN for integration must contain path or action");
    }
    if (type == "AWS_PROXY" && uri.find(":lambda:path/") == std::string::npos &&
        uri.find(":firehose:") == std::string::npos) {
      return BadRequest(
          "Integrations of type 'AWS_PROXY' currently only supports Lambda function and "
          "Firehose stream invocations.");
    }
  }
  if (in.contains("timeoutInMillis")) {
    int64_t t = in["timeoutInMillis"].get<int64_t>();
    if (t < kMinTimeoutMs || t > kDefaultTimeoutMs) {
      return BadRequest("Timeout should be between 50 ms and 29000 ms");
    }
  }
  for (const auto& key : {"requestTemplates"}) {
    if (in.contains(key) && !in[key].is_object()) return BadRequest("Invalid mapping templates");
  }
  (void)region;
  return Status::Ok();
}

// Header injection guard: mapped header names and static values must be plain tokens.
Status ValidateParameterMappings(const Json& params) {
  if (!params.is_object()) return Status::Ok();
  for (const auto& [k, v] : params.items()) {
    if (k.find_first_of("\r\n") != std::string::npos ||
        (v.is_string() && v.get<std::string>().find_first_of("\r\n") != std::string::npos)) {
      return BadRequest("Invalid mapping expression specified: Validation Result: warnings : [], "
                        "errors : [Invalid mapping expression specified: " + k + "]");
    }
  }
  return Status::Ok();
}

Status ValidateModelSchema(const Json& in) {
  if (!in.contains("schema")) return Status::Ok();
  Json schema = ParseJsonOrDiscarded(in["schema"].get<std::string>());
  if (schema.is_discarded() || !schema.is_object()) {
    return BadRequest("Invalid model specified: Validation Result: warnings : [], errors : "
                      "[Invalid model schema specified]");
  }
  if (schema.contains("type") && !schema["type"].is_string() && !schema["type"].is_array()) {
    return BadRequest("Invalid model specified: Validation Result: warnings : [], errors : "
                      "[Invalid model schema specified]");
  }
  return Status::Ok();
}

const std::vector<std::string> kGatewayResponseTypes = {
    "DEFAULT_4XX",        "DEFAULT_5XX",         "RESOURCE_NOT_FOUND",
    "UNAUTHORIZED",       "INVALID_API_KEY",     "ACCESS_DENIED",
    "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR", "INVALID_SIGNATURE",
    "EXPIRED_TOKEN",      "MISSING_AUTHENTICATION_TOKEN",   "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT", "API_CONFIGURATION_ERROR",        "UNSUPPORTED_MEDIA_TYPE",
    "BAD_REQUEST_PARAMETERS", "BAD_REQUEST_BODY",             "REQUEST_TOO_LARGE",
    "THROTTLED",          "QUOTA_EXCEEDED",      "WAF_FILTERED"};

int DefaultGatewayStatus(const std::string& type) {
  static const std::map<std::string, int, std::less<>> k = {
      {"RESOURCE_NOT_FOUND", 404},     {"UNAUTHORIZED", 401},
      {"INVALID_API_KEY", 403},        {"ACCESS_DENIED", 403},
      {"AUTHORIZER_FAILURE", 500},     {"AUTHORIZER_CONFIGURATION_ERROR", 500},
      {"INVALID_SIGNATURE", 403},      {"EXPIRED_TOKEN", 403},
      {"MISSING_AUTHENTICATION_TOKEN", 403}, {"INTEGRATION_FAILURE", 504},
      {"INTEGRATION_TIMEOUT", 504},    {"API_CONFIGURATION_ERROR", 500},
      {"UNSUPPORTED_MEDIA_TYPE", 415}, {"BAD_REQUEST_PARAMETERS", 400},
      {"BAD_REQUEST_BODY", 400},       {"REQUEST_TOO_LARGE", 413},
      {"THROTTLED", 429},              {"QUOTA_EXCEEDED", 429},
      {"WAF_FILTERED", 403}};
  auto it = k.find(type);
  return it == k.end() ? 0 : it->second;
}

// The deployable view of an API: what the data plane serves for a deployment.
Json Snapshot(const Json& doc) {
  Json s = Json::object();
  s["resources"] = doc.value("resources", Json::object());
  s["authorizers"] = doc.value("authorizers", Json::object());
  s["gatewayResponses"] = doc.value("gatewayResponses", Json::object());
  s["validators"] = doc.value("validators", Json::object());
  s["models"] = doc.value("models", Json::object());
  const Json& api = doc["api"];
  s["binaryMediaTypes"] = api.value("binaryMediaTypes", Json::array());
  s["apiKeySource"] = api.value("apiKeySource", "HEADER");
  s["disableExecuteApiEndpoint"] = api.value("disableExecuteApiEndpoint", false);
  return s;
}

Json ApiSummary(const Json& snapshot) {
  Json summary = Json::object();
  for (const auto& [id, r] : snapshot["resources"].items()) {
    if (!r.contains("resourceMethods")) continue;
    Json methods = Json::object();
    for (const auto& [m, body] : r["resourceMethods"].items()) {
      methods[m] = Json{{"authorizationType", body.value("authorizationType", "NONE")},
                        {"apiKeyRequired", body.value("apiKeyRequired", false)}};
    }
    if (!methods.empty()) summary[r.value("path", "/")] = std::move(methods);
  }
  return summary;
}

Json PublicDeployment(const Json& d) {
  Json out = Json::object();
  CopyIf(out, d, {"id", "description", "createdDate"});
  return out;
}

Json DefaultMethodSetting() {
  return Json{{"metricsEnabled", false},
              {"loggingLevel", "OFF"},
              {"dataTraceEnabled", false},
              {"throttlingBurstLimit", 5000},
              {"throttlingRateLimit", 10000.0},
              {"cachingEnabled", false},
              {"cacheTtlInSeconds", 300},
              {"cacheDataEncrypted", false},
              {"requireAuthorizationForCacheControl", true},
              {"unauthorizedCacheControlHeaderStrategy", "SUCCEED_WITH_RESPONSE_HEADER"}};
}

// Stage patch: method settings paths ("/*/*/throttling/rateLimit") go to methodSettings; the
// rest is generic.
Status PatchStage(Json& stage, const Json& ops) {
  static const std::map<std::string, std::string, std::less<>> kSettings = {
      {"throttling/burstLimit", "throttlingBurstLimit"},
      {"throttling/rateLimit", "throttlingRateLimit"},
      {"logging/loglevel", "loggingLevel"},
      {"logging/dataTrace", "dataTraceEnabled"},
      {"metrics/enabled", "metricsEnabled"},
      {"caching/enabled", "cachingEnabled"},
      {"caching/ttlInSeconds", "cacheTtlInSeconds"},
      {"caching/dataEncrypted", "cacheDataEncrypted"},
      {"caching/requireAuthorizationForCacheControl", "requireAuthorizationForCacheControl"},
      {"caching/unauthorizedCacheControlHeaderStrategy",
       "unauthorizedCacheControlHeaderStrategy"}};
  Json generic = Json::array();
  for (const auto& op : ops) {
    std::string path = op.value("path", "");
    auto segs = Split(path.size() > 1 ? std::string_view(path).substr(1) : std::string_view(), '/');
    if (segs.size() == 4) {
      std::string setting = segs[2] + "/" + segs[3];
      auto it = kSettings.find(setting);
      if (it == kSettings.end()) return BadRequest("Invalid method setting path: " + path);
      std::string key = segs[0] + "/" + segs[1];
      Json& ms = stage["methodSettings"];
      if (!ms.contains(key)) ms[key] = DefaultMethodSetting();
      if (op.value("op", "") == "remove") {
        ms.erase(key);
        continue;
      }
      Json patch = Json::array({Json{{"op", "replace"}, {"path", "/" + it->second},
                                     {"value", op.value("value", "")}}});
      STRATUS_RETURN_IF_ERROR(ApplyPatch(ms[key], patch, {}));
      continue;
    }
    generic.push_back(op);
  }
  return ApplyPatch(stage, generic,
                    {"description", "deploymentId", "variables", "cacheClusterEnabled",
                     "cacheClusterSize", "tracingEnabled", "accessLogSettings",
                     "clientCertificateId", "documentationVersion", "canarySettings",
                     "webAclArn"});
}

// A resource ARN's path after "::" ("/restapis/abc/stages/dev").
Result<std::string> ArnPath(const std::string& arn) {
  auto pos = arn.find("::/");
  if (!StartsWith(arn, "arn:aws:apigateway:") || pos == std::string::npos) {
    return BadRequest("Invalid ARN specified in the request");
  }
  return arn.substr(pos + 2);
}

}  // namespace

std::string ChildPath(const std::string& parent_path, const std::string& path_part) {
  return parent_path == "/" ? "/" + path_part : parent_path + "/" + path_part;
}

Status ValidatePathPart(const std::string& part) {
  auto bad = [] {
    return BadRequest(
        "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the "
        "end and an optional plus sign before the closing brace.");
  };
  if (part.empty()) return bad();
  std::string_view inner = part;
  if (part.front() == '{') {
    if (part.size() < 3 || part.back() != '}') return bad();
    inner = std::string_view(part).substr(1, part.size() - 2);
    if (!inner.empty() && inner.back() == '+') inner.remove_suffix(1);
    if (inner.empty()) return bad();
  }
  for (char ch : inner) {
    bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
              ch == '-' || ch == ':' || ch == '$' || ch == '@' || ch == '~';
    if (!ok) return bad();
  }
  return Status::Ok();
}

std::string LambdaArnFromUri(const std::string& uri) {
  auto start = uri.find("/functions/");
  auto end = uri.rfind("/invocations");
  if (start == std::string::npos || end == std::string::npos || end <= start + 11) return {};
  return uri.substr(start + 11, end - start - 11);
}

Json RestApis::DefaultGatewayResponse(const std::string& type) {
  int status = DefaultGatewayStatus(type);
  Json r = Json{{"responseType", type}};
  if (status) r["statusCode"] = std::to_string(status);
  r["responseParameters"] = Json::object();
  r["responseTemplates"] =
      Json{{"application/json", "{\"message\":$context.error.messageString}"}};
  r["defaultResponse"] = true;
  return r;
}

Result<Json> RestApis::LoadApi(const Scope& s, const std::string& api_id) {
  Json doc;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(doc, LoadJson(txn, keys::RestApi(s, api_id)));
    NormalizeRestDoc(doc);
    return Status::Ok();
  }));
  return doc;
}

Result<Json> RestApis::Mutate(const Ctx& c, const std::string& api_id,
                              const std::function<Result<Json>(Json& doc)>& fn) {
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json doc, LoadJson(txn, keys::RestApi(c.scope, api_id)));
    if (doc.is_null()) return ApiNotFound(c, api_id);
    NormalizeRestDoc(doc);
    STRATUS_ASSIGN_OR_RETURN(out, fn(doc));
    return SaveJson(txn, keys::RestApi(c.scope, api_id), doc);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_(api_id);
  return out;
}

Result<Json> RestApis::View(const Ctx& c, const std::string& api_id,
                            const std::function<Result<Json>(const Json& doc)>& fn) {
  STRATUS_ASSIGN_OR_RETURN(Json doc, LoadApi(c.scope, api_id));
  if (doc.is_null()) return ApiNotFound(c, api_id);
  return fn(doc);
}

// ---- REST APIs --------------------------------------------------------------------------------

Result<Json> RestApis::CreateRestApi(const Ctx& c, const Json& in) {
  std::string name = in.value("name", "");
  if (name.empty()) return BadRequest("Invalid REST API name specified");
  Json api = Json::object();
  std::string id = NewId(10);
  std::string root = NewId(10);
  api["id"] = id;
  api["name"] = name;
  CopyIf(api, in, {"description", "version"});
  api["createdDate"] = EpochSeconds(c.now_ms);
  CopyIf(api, in, {"binaryMediaTypes", "minimumCompressionSize"});
  api["apiKeySource"] = in.value("apiKeySource", "HEADER");
  api["endpointConfiguration"] =
      in.value("endpointConfiguration", Json{{"types", Json::array({"EDGE"})}});
  CopyIf(api, in, {"policy"});
  api["tags"] = in.value("tags", Json::object());
  api["disableExecuteApiEndpoint"] = in.value("disableExecuteApiEndpoint", false);
  api["rootResourceId"] = root;
  Json doc = Json::object();
  doc["resources"] = Json::object();
  if (in.contains("cloneFrom")) {
    STRATUS_ASSIGN_OR_RETURN(Json src, LoadApi(c.scope, in["cloneFrom"].get<std::string>()));
    if (src.is_null()) return ApiNotFound(c, in["cloneFrom"].get<std::string>());
    for (const char* k : {"resources", "authorizers", "validators", "models", "gatewayResponses"}) {
      if (src.contains(k)) doc[k] = src[k];
    }
    api["rootResourceId"] = src["api"]["rootResourceId"];
  } else {
    doc["resources"][root] = Json{{"id", root}, {"path", "/"}};
  }
  doc["api"] = api;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(SaveJson(txn, keys::RestApi(c.scope, id), doc));
    return SaveJson(txn, keys::ApiIndex(id),
                    Json{{"account", c.scope.account}, {"region", c.scope.region},
                         {"kind", "rest"}});
  });
  if (!st.ok()) return std::move(st).error();
  return api;
}

Result<Json> RestApis::GetRestApi(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [](const Json& doc) -> Result<Json> {
    return doc["api"];
  });
}

Result<Json> RestApis::GetRestApis(const Ctx& c, const Json& in) {
  std::string prefix = keys::Base(c.scope) + "rest/";
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::PrefixScan(prefix)));
  Json items = Json::array();
  for (const auto& kv : rows) {
    Json doc = ParseJsonOrDiscarded(kv.value);
    if (doc.is_discarded()) continue;
    items.push_back(doc["api"]);
  }
  std::sort(items.begin(), items.end(), [](const Json& a, const Json& b) {
    return a.value("createdDate", 0.0) < b.value("createdDate", 0.0);
  });
  return Page(std::move(items), in);
}

Result<Json> RestApis::UpdateRestApi(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_RETURN_IF_ERROR(ApplyPatch(doc["api"], in.value("patchOperations", Json::array()),
                                       {"name", "description", "version", "binaryMediaTypes",
                                        "minimumCompressionSize", "apiKeySource", "policy",
                                        "endpointConfiguration", "disableExecuteApiEndpoint"}));
    return doc["api"];
  });
}

Status RestApis::DeleteRestApi(const Ctx& c, const Json& in) {
  std::string id = in.value("restApiId", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::RestApi(c.scope, id)));
    if (!raw) return ApiNotFound(c, id);
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::RestApi(c.scope, id)));
    return txn.Delete(keys::ApiIndex(id));
  });
  if (st.ok() && on_change_) on_change_(id);
  return st;
}

Result<Json> RestApis::ImportRestApi(const Ctx& c, const Json& in, const std::string& body) {
  STRATUS_ASSIGN_OR_RETURN(ImportedApi imported, ParseOpenApi(body, c.scope.region));
  bool fail_on_warnings = in.value("failOnWarnings", false);
  if (fail_on_warnings && !imported.warnings.empty()) {
    return BadRequest("Warnings found during import:\n\t" + Join(imported.warnings, "\n\t"));
  }
  Json create = Json{{"name", imported.name.empty() ? "imported" : imported.name}};
  if (!imported.description.empty()) create["description"] = imported.description;
  if (!imported.version.empty()) create["version"] = imported.version;
  if (!imported.binary_media_types.empty()) create["binaryMediaTypes"] = imported.binary_media_types;
  if (!imported.api_key_source.empty()) create["apiKeySource"] = imported.api_key_source;
  const Json& params = in.value("parameters", Json::object());
  if (params.contains("endpointConfigurationTypes")) {
    create["endpointConfiguration"] =
        Json{{"types", Json::array({params["endpointConfigurationTypes"]})}};
  }
  STRATUS_ASSIGN_OR_RETURN(Json api, CreateRestApi(c, create));
  Json put = Json{{"restApiId", api["id"]}, {"mode", "overwrite"}};
  auto r = PutRestApi(c, put, body);
  if (!r.ok()) {
    (void)DeleteRestApi(c, Json{{"restApiId", api["id"]}});
    return r;
  }
  return r;
}

Result<Json> RestApis::PutRestApi(const Ctx& c, const Json& in, const std::string& body) {
  STRATUS_ASSIGN_OR_RETURN(ImportedApi imported, ParseOpenApi(body, c.scope.region));
  if (in.value("failOnWarnings", false) && !imported.warnings.empty()) {
    return BadRequest("Warnings found during import:\n\t" + Join(imported.warnings, "\n\t"));
  }
  bool merge = in.value("mode", "merge") == "merge";
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string root = doc["api"]["rootResourceId"].get<std::string>();
    if (!merge) {
      Json root_res = Json{{"id", root}, {"path", "/"}};
      doc["resources"] = Json::object();
      doc["resources"][root] = root_res;
      doc["authorizers"] = Json::object();
      doc["models"] = Json::object();
      doc["validators"] = Json::object();
      doc["gatewayResponses"] = Json::object();
      if (!imported.name.empty()) doc["api"]["name"] = imported.name;
      if (!imported.description.empty()) doc["api"]["description"] = imported.description;
    }
    if (!imported.binary_media_types.empty()) {
      doc["api"]["binaryMediaTypes"] = imported.binary_media_types;
    }
    if (!imported.api_key_source.empty()) doc["api"]["apiKeySource"] = imported.api_key_source;
    if (!imported.policy.empty()) doc["api"]["policy"] = imported.policy;
    // Authorizers, validators, models by name.
    std::map<std::string, std::string> auth_ids;
    for (auto& [id, a] : doc["authorizers"].items()) auth_ids[a.value("name", "")] = id;
    for (const auto& [name, a] : imported.authorizers.items()) {
      std::string id = auth_ids.count(name) ? auth_ids[name] : NewId(6);
      Json rec = a;
      rec["id"] = id;
      rec["name"] = name;
      doc["authorizers"][id] = rec;
      auth_ids[name] = id;
    }
    std::map<std::string, std::string> validator_ids;
    for (auto& [id, v] : doc["validators"].items()) validator_ids[v.value("name", "")] = id;
    for (const auto& [name, v] : imported.validators.items()) {
      std::string id = validator_ids.count(name) ? validator_ids[name] : NewId(6);
      Json rec = v;
      rec["id"] = id;
      rec["name"] = name;
      doc["validators"][id] = rec;
      validator_ids[name] = id;
    }
    for (const auto& [name, m] : imported.models.items()) {
      Json rec = m;
      if (!rec.contains("id")) rec["id"] = NewId(6);
      doc["models"][name] = rec;
    }
    for (const auto& [type, gr] : imported.gateway_responses.items()) {
      doc["gatewayResponses"][type] = gr;
    }
    // Resources: create the path chain for each imported path.
    std::map<std::string, std::string> by_path;
    for (auto& [id, r] : doc["resources"].items()) by_path[r.value("path", "")] = id;
    for (const auto& [path, methods] : imported.paths.items()) {
      std::string parent = root;
      std::string cur = "/";
      if (path != "/") {
        for (const auto& part : Split(std::string_view(path).substr(1), '/')) {
          STRATUS_RETURN_IF_ERROR(ValidatePathPart(part));
          std::string next = ChildPath(cur, part);
          if (!by_path.count(next)) {
            STRATUS_RETURN_IF_ERROR(CheckSiblings(doc, parent, part, ""));
            std::string id = NewId(6);
            doc["resources"][id] =
                Json{{"id", id}, {"parentId", parent}, {"pathPart", part}, {"path", next}};
            by_path[next] = id;
          }
          parent = by_path[next];
          cur = next;
        }
      }
      Json& res = doc["resources"][by_path[cur]];
      for (const auto& [verb, method] : methods.items()) {
        Json m = method;
        if (m.contains("authorizerName")) {
          std::string an = m["authorizerName"].get<std::string>();
          m.erase("authorizerName");
          if (!auth_ids.count(an)) {
            return BadRequest("Errors found during import:\n\tUnable to find authorizer " + an +
                              " for method " + verb + " " + path);
          }
          m["authorizerId"] = auth_ids[an];
          const Json& a = doc["authorizers"][auth_ids[an]];
          m["authorizationType"] =
              a.value("type", "") == "COGNITO_USER_POOLS" ? "COGNITO_USER_POOLS" : "CUSTOM";
        }
        if (m.contains("validatorName")) {
          std::string vn = m["validatorName"].get<std::string>();
          m.erase("validatorName");
          if (validator_ids.count(vn)) m["requestValidatorId"] = validator_ids[vn];
        }
        if (m.contains("methodIntegration")) {
          m["methodIntegration"]["cacheNamespace"] = res["id"];
        }
        res["resourceMethods"][verb] = m;
      }
    }
    Json api = doc["api"];
    if (!imported.warnings.empty()) api["warnings"] = imported.warnings;
    return api;
  });
}

Result<std::string> RestApis::GetExport(const Ctx& c, const Json& in) {
  std::string stage_name = in.value("stageName", "");
  std::string type = in.value("exportType", "");
  if (type != "swagger" && type != "oas30") {
    return BadRequest("No API exporter for type '" + type + "'");
  }
  std::string accepts = in.value("accepts", "application/json");
  if (accepts.find("yaml") != std::string::npos) {
    return BadRequest("Only application/json exports are supported by stratus");
  }
  STRATUS_ASSIGN_OR_RETURN(Json doc, LoadApi(c.scope, in.value("restApiId", "")));
  if (doc.is_null()) return ApiNotFound(c, in.value("restApiId", ""));
  if (!doc["stages"].contains(stage_name)) return StageNotFound();
  std::string dep = doc["stages"][stage_name].value("deploymentId", "");
  const Json& snapshot = doc["deployments"][dep]["snapshot"];
  Json params = in.value("parameters", Json::object());
  std::string ext = params.value("extensions", "");
  bool integrations = ext.find("integrations") != std::string::npos ||
                      ext.find("apigateway") != std::string::npos;
  Json out = ExportOpenApi(doc["api"], snapshot, stage_name, c.scope.region, type == "oas30",
                           integrations);
  return out.dump(2);
}

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

// ---- API keys and usage plans -----------------------------------------------------------------

namespace {
Json PublicKey(const Json& k, bool include_value) {
  Json out = k;
  if (!include_value) out.erase("value");
  return out;
}
}  // namespace

Result<Json> RestApis::CreateApiKey(const Ctx& c, const Json& in) {
  std::string value = in.value("value", "");
  if (value.empty()) value = NewApiKeyValue();
  if (value.size() < 20 || value.size() > 128) {
    return BadRequest("API Key value should be at least 20 characters");
  }
  Json k = Json{{"id", NewId(10)}, {"value", value}};
  CopyIf(k, in, {"name", "customerId", "description"});
  k["enabled"] = in.value("enabled", false);
  k["createdDate"] = EpochSeconds(c.now_ms);
  k["lastUpdatedDate"] = EpochSeconds(c.now_ms);
  Json stage_keys = Json::array();
  for (const auto& sk : in.value("stageKeys", Json::array())) {
    stage_keys.push_back(sk.value("restApiId", "") + "/" + sk.value("stageName", ""));
  }
  k["stageKeys"] = stage_keys;
  k["tags"] = in.value("tags", Json::object());
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(keys::ApiKeyValue(c.scope, value)));
    if (existing) return Conflict("API Key already exists");
    STRATUS_RETURN_IF_ERROR(SaveJson(txn, keys::ApiKey(c.scope, k["id"].get<std::string>()), k));
    return txn.Put(keys::ApiKeyValue(c.scope, value), k["id"].get<std::string>());
  });
  if (!st.ok()) return std::move(st).error();
  return k;
}

Result<Json> RestApis::GetApiKey(const Ctx& c, const Json& in) {
  std::string id = in.value("apiKey", "");
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(keys::ApiKey(c.scope, id)));
  if (!raw) return NotFound("Invalid API Key identifier specified");
  Json k = ParseJsonOrDiscarded(*raw);
  return PublicKey(k, in.value("includeValue", false));
}

Result<Json> RestApis::GetApiKeys(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto rows,
                           store_.Scan(store::PrefixScan(keys::Base(c.scope) + "key/")));
  Json items = Json::array();
  std::string name_query = in.value("nameQuery", "");
  std::string customer = in.value("customerId", "");
  for (const auto& kv : rows) {
    Json k = ParseJsonOrDiscarded(kv.value);
    if (k.is_discarded()) continue;
    if (!name_query.empty() && !StartsWith(k.value("name", ""), name_query)) continue;
    if (!customer.empty() && k.value("customerId", "") != customer) continue;
    items.push_back(PublicKey(k, in.value("includeValues", false)));
  }
  return Page(std::move(items), in);
}

Result<Json> RestApis::UpdateApiKey(const Ctx& c, const Json& in) {
  std::string id = in.value("apiKey", "");
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, id)));
    if (k.is_null()) return NotFound("Invalid API Key identifier specified");
    Json ops = Json::array();
    for (const auto& op : in.value("patchOperations", Json::array())) {
      // Stage keys arrive as "/stages" add/remove with value "apiId/stage".
      if (op.value("path", "") == "/stages") {
        Json& sk = k["stageKeys"];
        std::string v = op.value("value", "");
        auto it = std::find(sk.begin(), sk.end(), Json(v));
        if (op.value("op", "") == "add" && it == sk.end()) sk.push_back(v);
        if (op.value("op", "") == "remove" && it != sk.end()) sk.erase(it);
        continue;
      }
      ops.push_back(op);
    }
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(k, ops, {"name", "description", "enabled", "customerId"}));
    k["lastUpdatedDate"] = EpochSeconds(c.now_ms);
    out = k;
    return SaveJson(txn, keys::ApiKey(c.scope, id), k);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return PublicKey(out, false);
}

Status RestApis::DeleteApiKey(const Ctx& c, const Json& in) {
  std::string id = in.value("apiKey", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, id)));
    if (k.is_null()) return NotFound("Invalid API Key identifier specified");
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::ApiKey(c.scope, id)));
    return txn.Delete(keys::ApiKeyValue(c.scope, k.value("value", "")));
  });
  if (st.ok() && on_change_) on_change_("");
  return st;
}

namespace {
Status CheckApiStages(store::ReadTxn& txn, const Ctx& c, const Json& stages) {
  for (const auto& s : stages) {
    std::string api = s.value("apiId", "");
    STRATUS_ASSIGN_OR_RETURN(Json doc, LoadJson(txn, keys::RestApi(c.scope, api)));
    if (doc.is_null()) {
      return NotFound("Invalid API identifier specified " + c.scope.account + ":" + api);
    }
    if (!doc.contains("stages") || !doc["stages"].contains(s.value("stage", ""))) {
      return BadRequest("Invalid stage identifier specified");
    }
  }
  return Status::Ok();
}
Json PublicPlan(const Json& p) {
  Json out = p;
  out.erase("keys");
  return out;
}
}  // namespace

Result<Json> RestApis::CreateUsagePlan(const Ctx& c, const Json& in) {
  std::string name = in.value("name", "");
  if (name.empty()) return BadRequest("Invalid usage plan name specified");
  Json p = Json{{"id", NewId(6)}, {"name", name}};
  CopyIf(p, in, {"description"});
  p["apiStages"] = in.value("apiStages", Json::array());
  CopyIf(p, in, {"throttle", "quota"});
  p["tags"] = in.value("tags", Json::object());
  p["keys"] = Json::array();
  if (p.contains("quota")) {
    static const std::set<std::string, std::less<>> kPeriods = {"DAY", "WEEK", "MONTH"};
    if (!kPeriods.count(p["quota"].value("period", ""))) {
      return BadRequest("Invalid quota period specified");
    }
  }
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(CheckApiStages(txn, c, p["apiStages"]));
    return SaveJson(txn, keys::UsagePlan(c.scope, p["id"].get<std::string>()), p);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return PublicPlan(p);
}

Result<Json> RestApis::GetUsagePlan(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto raw,
                           store_.Get(keys::UsagePlan(c.scope, in.value("usagePlanId", ""))));
  if (!raw) return NotFound("Invalid Usage Plan ID specified");
  return PublicPlan(ParseJsonOrDiscarded(*raw));
}

Result<Json> RestApis::GetUsagePlans(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto rows,
                           store_.Scan(store::PrefixScan(keys::Base(c.scope) + "plan/")));
  Json items = Json::array();
  std::string key_id = in.value("keyId", "");
  for (const auto& kv : rows) {
    Json p = ParseJsonOrDiscarded(kv.value);
    if (p.is_discarded()) continue;
    if (!key_id.empty()) {
      const Json& ks = p["keys"];
      if (std::find(ks.begin(), ks.end(), Json(key_id)) == ks.end()) continue;
    }
    items.push_back(PublicPlan(p));
  }
  return Page(std::move(items), in);
}

Result<Json> RestApis::UpdateUsagePlan(const Ctx& c, const Json& in) {
  std::string id = in.value("usagePlanId", "");
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    Json ops = Json::array();
    for (const auto& op : in.value("patchOperations", Json::array())) {
      std::string path = op.value("path", "");
      if (path == "/apiStages") {
        auto parts = Split(op.value("value", ""), ':');
        if (parts.size() != 2) return BadRequest("Invalid API stage specified: " + op.value("value", ""));
        Json stage = Json{{"apiId", parts[0]}, {"stage", parts[1]}};
        Json& list = p["apiStages"];
        auto it = std::find_if(list.begin(), list.end(), [&](const Json& s) {
          return s.value("apiId", "") == parts[0] && s.value("stage", "") == parts[1];
        });
        if (op.value("op", "") == "add") {
          STRATUS_RETURN_IF_ERROR(CheckApiStages(txn, c, Json::array({stage})));
          if (it == list.end()) list.push_back(stage);
        } else if (op.value("op", "") == "remove" && it != list.end()) {
          list.erase(it);
        }
        continue;
      }
      ops.push_back(op);
    }
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(p, ops, {"name", "description", "throttle", "quota", "productCode"}));
    out = p;
    return SaveJson(txn, keys::UsagePlan(c.scope, id), p);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return PublicPlan(out);
}

Status RestApis::DeleteUsagePlan(const Ctx& c, const Json& in) {
  std::string id = in.value("usagePlanId", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::UsagePlan(c.scope, id)));
    if (!raw) return NotFound("Invalid Usage Plan ID specified");
    return txn.Delete(keys::UsagePlan(c.scope, id));
  });
  if (st.ok() && on_change_) on_change_("");
  return st;
}

Result<Json> RestApis::CreateUsagePlanKey(const Ctx& c, const Json& in) {
  std::string plan_id = in.value("usagePlanId", "");
  std::string key_id = in.value("keyId", "");
  if (in.value("keyType", "") != "API_KEY") return BadRequest("Invalid key type specified");
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, plan_id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, key_id)));
    if (k.is_null()) return NotFound("Invalid API Key identifier specified");
    Json& ks = p["keys"];
    if (std::find(ks.begin(), ks.end(), Json(key_id)) != ks.end()) {
      return Conflict("Usage Plan " + plan_id + " already contains API key " + key_id);
    }
    ks.push_back(key_id);
    out = Json{{"id", key_id}, {"type", "API_KEY"}, {"value", k.value("value", "")}};
    if (k.contains("name")) out["name"] = k["name"];
    return SaveJson(txn, keys::UsagePlan(c.scope, plan_id), p);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return out;
}

Result<Json> RestApis::GetUsagePlanKey(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json keys_page, GetUsagePlanKeys(c, Json{{"usagePlanId", in.value("usagePlanId", "")}, {"limit", kMaxLimit}}));
  for (const auto& k : keys_page["items"]) {
    if (k.value("id", "") == in.value("keyId", "")) return k;
  }
  return NotFound("Invalid Usage Plan Key identifier specified");
}

Result<Json> RestApis::GetUsagePlanKeys(const Ctx& c, const Json& in) {
  std::string plan_id = in.value("usagePlanId", "");
  Json items = Json::array();
  Status st = store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, plan_id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    for (const auto& kid : p["keys"]) {
      STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, kid.get<std::string>())));
      if (k.is_null()) continue;
      if (in.contains("nameQuery") && !StartsWith(k.value("name", ""), in["nameQuery"].get<std::string>())) continue;
      Json item = Json{{"id", kid}, {"type", "API_KEY"}, {"value", k.value("value", "")}};
      if (k.contains("name")) item["name"] = k["name"];
      items.push_back(item);
    }
    return Status::Ok();
  });
  if (!st.ok()) return std::move(st).error();
  return Page(std::move(items), in);
}

Status RestApis::DeleteUsagePlanKey(const Ctx& c, const Json& in) {
  std::string plan_id = in.value("usagePlanId", "");
  std::string key_id = in.value("keyId", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, plan_id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    Json& ks = p["keys"];
    auto it = std::find(ks.begin(), ks.end(), Json(key_id));
    if (it == ks.end()) return NotFound("Invalid Usage Plan Key identifier specified");
    ks.erase(it);
    return SaveJson(txn, keys::UsagePlan(c.scope, plan_id), p);
  });
  if (st.ok() && on_change_) on_change_("");
  return st;
}

// ---- Tags and account -------------------------------------------------------------------------

namespace {
// Runs `fn` on the tags object of the resource an ARN names, inside a write transaction.
Status WithTags(store::Store& store, const Ctx& c, const std::string& arn, bool write,
                const std::function<Status(Json& tags)>& fn, const RestApis::ChangeFn& changed) {
  STRATUS_ASSIGN_OR_RETURN(std::string path, ArnPath(arn));
  auto parts = Split(std::string_view(path).substr(1), '/');
  std::string api_changed;
  Status st = store.Write([&](store::WriteTxn& txn) -> Status {
    std::string key;
    std::vector<std::string> inner;  // JSON path to the tags owner inside the record
    if (parts.size() == 2 && parts[0] == "restapis") {
      key = keys::RestApi(c.scope, parts[1]);
      inner = {"api"};
      api_changed = parts[1];
    } else if (parts.size() == 4 && parts[0] == "restapis" && parts[2] == "stages") {
      key = keys::RestApi(c.scope, parts[1]);
      inner = {"stages", parts[3]};
      api_changed = parts[1];
    } else if (parts.size() == 2 && parts[0] == "apikeys") {
      key = keys::ApiKey(c.scope, parts[1]);
    } else if (parts.size() == 2 && parts[0] == "usageplans") {
      key = keys::UsagePlan(c.scope, parts[1]);
    } else {
      return BadRequest("Invalid ARN specified in the request");
    }
    STRATUS_ASSIGN_OR_RETURN(Json doc, LoadJson(txn, key));
    if (doc.is_null()) return NotFound("Invalid resource identifier specified");
    Json* owner = &doc;
    for (const auto& s : inner) {
      if (!owner->contains(s)) return NotFound("Invalid resource identifier specified");
      owner = &(*owner)[s];
    }
    Json& tags = (*owner)["tags"];
    if (tags.is_null()) tags = Json::object();
    STRATUS_RETURN_IF_ERROR(fn(tags));
    if (!write) return Status::Ok();
    return SaveJson(txn, key, doc);
  });
  if (st.ok() && write && !api_changed.empty() && changed) changed(api_changed);
  return st;
}
}  // namespace

Result<Json> RestApis::GetTags(const Ctx& c, const Json& in) {
  Json out;
  STRATUS_RETURN_IF_ERROR(WithTags(store_, c, in.value("resourceArn", ""), false,
                                   [&](Json& tags) -> Status {
                                     out = tags;
                                     return Status::Ok();
                                   },
                                   on_change_));
  return Json{{"tags", out}};
}

Status RestApis::TagResource(const Ctx& c, const Json& in) {
  return WithTags(store_, c, in.value("resourceArn", ""), true,
                  [&](Json& tags) -> Status {
                    for (const auto& [k, v] : Member(in, "tags").items()) tags[k] = v;
                    if (tags.size() > 50) {
                      return BadRequest("Too many tags: a resource can have at most 50");
                    }
                    return Status::Ok();
                  },
                  on_change_);
}

Status RestApis::UntagResource(const Ctx& c, const Json& in) {
  return WithTags(store_, c, in.value("resourceArn", ""), true,
                  [&](Json& tags) -> Status {
                    for (const auto& k : in.value("tagKeys", Json::array())) {
                      tags.erase(k.get<std::string>());
                    }
                    return Status::Ok();
                  },
                  on_change_);
}

Result<Json> RestApis::GetAccount(const Ctx& c) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(keys::Account(c.scope)));
  Json a = raw ? ParseJsonOrDiscarded(*raw) : Json::object();
  if (a.is_discarded()) a = Json::object();
  if (!a.contains("throttleSettings")) {
    a["throttleSettings"] = Json{{"burstLimit", 5000}, {"rateLimit", 10000.0}};
  }
  if (!a.contains("features")) a["features"] = Json::array({"UsagePlans"});
  if (!a.contains("apiKeyVersion")) a["apiKeyVersion"] = "4";
  return a;
}

Result<Json> RestApis::UpdateAccount(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json a, GetAccount(c));
  STRATUS_RETURN_IF_ERROR(
      ApplyPatch(a, in.value("patchOperations", Json::array()), {"cloudwatchRoleArn", "features"}));
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::Account(c.scope), DumpJson(a)));
  return a;
}

}  // namespace stratus::services::apigateway
