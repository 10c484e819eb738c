#pragma once
// Helpers shared by the REST API control plane's source files (rest_apis.cc: APIs, import and
// export, tags; rest_resources.cc: resources, methods, integrations; rest_stages.cc:
// deployments, stages, authorizers, validators, models, gateway responses; rest_keys.cc: API
// keys and usage plans). Not a module face: include only from those files.
#include "services/apigateway/rest_apis.h"

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "services/apigateway/openapi.h"
#include "services/apigateway/request_validation.h"

namespace stratus::services::apigateway {


inline constexpr int kDefaultLimit = 25;
inline constexpr int kMaxLimit = 500;
inline constexpr int64_t kDefaultTimeoutMs = 29000;
inline constexpr int64_t kMinTimeoutMs = 50;
inline constexpr int64_t kDefaultAuthorizerTtl = 300;
inline constexpr int64_t kMaxAuthorizerTtl = 3600;

inline const std::set<std::string, std::less<>> kHttpMethods = {"GET",  "POST",    "PUT", "DELETE",
                                                         "PATCH", "HEAD",   "OPTIONS", "ANY"};

inline Error ApiNotFound(const Ctx& c, const std::string& id) {
  return NotFound("Invalid API identifier specified " + c.scope.account + ":" + id);
}
inline Error ResourceNotFound() { return NotFound("Invalid Resource identifier specified"); }
inline Error MethodNotFound() { return NotFound("Invalid Method identifier specified"); }
inline Error IntegrationNotFound() { return NotFound("Invalid Integration identifier specified"); }
inline Error StageNotFound() { return NotFound("Invalid Stage identifier specified"); }

// A page of `items` (already in order) as {"items": [...], "position"?}.
inline Result<Json> Page(Json items, const Json& in) {
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

inline Json Values(const Json& map) {
  Json arr = Json::array();
  if (map.is_object()) {
    for (const auto& [k, v] : map.items()) arr.push_back(v);
  }
  return arr;
}

inline Result<Json*> FindResource(Json& doc, const std::string& id) {
  auto& res = doc["resources"];
  if (!res.contains(id)) return ResourceNotFound();
  return &res[id];
}

inline Result<Json*> FindMethod(Json& doc, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json * r, FindResource(doc, in.value("resourceId", "")));
  std::string m = in.value("httpMethod", "");
  auto& methods = (*r)["resourceMethods"];
  if (!methods.is_object() || !methods.contains(m)) return MethodNotFound();
  return &methods[m];
}

inline Result<Json*> FindIntegration(Json& doc, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json * m, FindMethod(doc, in));
  if (!m->contains("methodIntegration")) return IntegrationNotFound();
  return &(*m)["methodIntegration"];
}

// Recomputes `path` for a resource and all its descendants.
inline void RepathSubtree(Json& doc, const std::string& id) {
  auto& res = doc["resources"];
  std::string parent_path = res[id]["path"].get<std::string>();
  for (auto& [cid, child] : res.items()) {
    if (child.value("parentId", "") == id) {
      child["path"] = ChildPath(parent_path, child.value("pathPart", ""));
      RepathSubtree(doc, cid);
    }
  }
}

inline Status CheckSiblings(const Json& doc, const std::string& parent_id, const std::string& part,
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

inline Status ValidateIntegrationInput(const Json& in, const std::string& region) {
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
inline Status ValidateParameterMappings(const Json& params) {
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

// A model's schema must be a draft-4 JSON Schema the request validators can evaluate
// (request_validation.h); AWS refuses others at CreateModel/UpdateModel.
inline Status ValidateModelSchema(const Json& in) {
  if (!in.contains("schema")) return Status::Ok();
  if (!in["schema"].is_string()) {
    return BadRequest("Invalid model specified: Validation Result: warnings : [], errors : "
                      "[Invalid model schema specified]");
  }
  if (auto why = CheckModelSchema(in["schema"].get<std::string>())) {
    return BadRequest("Invalid model specified: Validation Result: warnings : [], errors : "
                      "[Invalid model schema specified: " + *why + "]");
  }
  return Status::Ok();
}

inline const std::vector<std::string> kGatewayResponseTypes = {
    "DEFAULT_4XX",        "DEFAULT_5XX",         "RESOURCE_NOT_FOUND",
    "UNAUTHORIZED",       "INVALID_API_KEY",     "ACCESS_DENIED",
    "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR", "INVALID_SIGNATURE",
    "EXPIRED_TOKEN",      "MISSING_AUTHENTICATION_TOKEN",   "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT", "API_CONFIGURATION_ERROR",        "UNSUPPORTED_MEDIA_TYPE",
    "BAD_REQUEST_PARAMETERS", "BAD_REQUEST_BODY",             "REQUEST_TOO_LARGE",
    "THROTTLED",          "QUOTA_EXCEEDED",      "WAF_FILTERED"};

inline int DefaultGatewayStatus(const std::string& type) {
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
inline Json Snapshot(const Json& doc) {
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

inline Json ApiSummary(const Json& snapshot) {
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

inline Json PublicDeployment(const Json& d) {
  Json out = Json::object();
  CopyIf(out, d, {"id", "description", "createdDate"});
  return out;
}

inline Json DefaultMethodSetting() {
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
inline Status PatchStage(Json& stage, const Json& ops) {
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
inline Result<std::string> ArnPath(const std::string& arn) {
  auto pos = arn.find("::/");
  if (!StartsWith(arn, "arn:aws:apigateway:") || pos == std::string::npos) {
    return BadRequest("Invalid ARN specified in the request");
  }
  return arn.substr(pos + 2);
}


}  // namespace stratus::services::apigateway
