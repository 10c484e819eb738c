#include "services/apigateway/data_plane.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/http_client.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/apigateway/http_apis.h"
#include "services/apigateway/jwt.h"
#include "services/apigateway/proxy_events.h"
#include "services/apigateway/rest_apis.h"
#include "services/apigateway/router.h"
#include "services/apigateway/templates.h"
#include "services/apigateway/throttle.h"
#include "store/store.h"
#include "trace/recorder.h"

namespace stratus::services::apigateway {

namespace {

constexpr int64_t kCacheTtlMs = 2000;            // re-read definitions changed by other nodes
constexpr size_t kMaxPayloadBytes = 10u << 20;   // API Gateway's 10 MB payload limit
constexpr int64_t kRestTimeoutMs = 29000;
constexpr int64_t kMaxAuthorizerTtlS = 3600;
constexpr std::string_view kUserRequest = "/_user_request_";
constexpr std::string_view kAwsPathPrefix = "/_aws/execute-api/";

// ---- Request target ---------------------------------------------------------------------------

struct Target {
  std::string api_id;
  std::string stage;       // empty: the first path segment names it (host form)
  std::string path;        // raw path after the stage (or the whole path for host form)
  std::string domain;
};

bool IsIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

std::optional<Target> ParseTarget(const HttpRequest& r) {
  Target t;
  std::string_view path = r.path;
  if (StartsWith(path, "/restapis/")) {
    auto pos = path.find(kUserRequest);
    if (pos == std::string_view::npos) return std::nullopt;
    auto segs = Split(path.substr(10, pos - 10), '/');
    if (segs.size() != 2 || segs[0].empty() || segs[1].empty()) return std::nullopt;
    t.api_id = segs[0];
    t.stage = segs[1];
    t.path = std::string(path.substr(pos + kUserRequest.size()));
    if (t.path.empty()) t.path = "/";
    t.domain = t.api_id + ".execute-api.localhost";
    return t;
  }
  if (StartsWith(path, kAwsPathPrefix)) {
    auto rest = path.substr(kAwsPathPrefix.size());
    auto slash = rest.find('/');
    t.api_id = std::string(rest.substr(0, slash));
    if (t.api_id.empty()) return std::nullopt;
    if (slash == std::string_view::npos) {
      t.path = "/";
    } else {
      rest = rest.substr(slash + 1);
      auto s2 = rest.find('/');
      t.stage = std::string(rest.substr(0, s2));
      t.path = s2 == std::string_view::npos ? "/" : std::string(rest.substr(s2));
    }
    t.domain = t.api_id + ".execute-api.localhost";
    return t;
  }
  std::string host = ToLower(r.Host());
  auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']') == std::string::npos) host.resize(colon);
  auto pos = host.find(".execute-api.");
  if (pos == std::string::npos || pos == 0) return std::nullopt;
  for (size_t i = 0; i < pos; ++i) {
    if (!IsIdChar(host[i])) return std::nullopt;
  }
  t.api_id = host.substr(0, pos);
  t.path = path.empty() ? "/" : std::string(path);
  t.domain = host;
  return t;
}

// ---- Compiled definitions ---------------------------------------------------------------------

struct StageRt {
  std::string name;
  Json stage;          // the stage record
  std::string deployment_id;
  Json snapshot;       // what the deployment serves
  RouteTrie trie;      // REST: ids are resource ids; HTTP: ids are template paths
  // HTTP APIs: template path -> METHOD -> route record.
  std::map<std::string, std::map<std::string, Json>> http_routes;
  Json default_route;  // HTTP $default route, or null
};

struct LoadedApi {
  bool rest = true;
  std::string id;
  Scope scope;
  Json api;  // the API's own record (RestApi / Api)
  std::map<std::string, std::shared_ptr<StageRt>> stages;
  int64_t loaded_ms = 0;
};

std::shared_ptr<LoadedApi> CompileRest(const std::string& id, const Scope& s, const Json& doc) {
  auto a = std::make_shared<LoadedApi>();
  a->rest = true;
  a->id = id;
  a->scope = s;
  a->api = doc["api"];
  if (!doc.contains("stages")) return a;
  for (const auto& [name, stage] : doc["stages"].items()) {
    auto rt = std::make_shared<StageRt>();
    rt->name = name;
    rt->stage = stage;
    rt->deployment_id = stage.value("deploymentId", "");
    if (!doc.contains("deployments") || !doc["deployments"].contains(rt->deployment_id)) continue;
    rt->snapshot = doc["deployments"][rt->deployment_id]["snapshot"];
    for (const auto& [rid, r] : rt->snapshot["resources"].items()) {
      rt->trie.Add(r.value("path", "/"), rid);
    }
    a->stages[name] = rt;
  }
  return a;
}

std::shared_ptr<LoadedApi> CompileHttp(const std::string& id, const Scope& s, const Json& doc) {
  auto a = std::make_shared<LoadedApi>();
  a->rest = false;
  a->id = id;
  a->scope = s;
  a->api = doc["api"];
  for (const auto& [name, stage] : doc["stages"].items()) {
    auto rt = std::make_shared<StageRt>();
    rt->name = name;
    rt->stage = stage;
    rt->deployment_id = stage.value("DeploymentId", "");
    if (!doc["deployments"].contains(rt->deployment_id)) continue;
    rt->snapshot = doc["deployments"][rt->deployment_id]["snapshot"];
    for (const auto& [rid, r] : rt->snapshot["routes"].items()) {
      std::string key = r.value("RouteKey", "");
      if (key == "$default") {
        rt->default_route = r;
        continue;
      }
      auto sp = key.find(' ');
      std::string method = key.substr(0, sp);
      std::string path = key.substr(sp + 1);
      rt->http_routes[path][method] = r;
      rt->trie.Add(path, path);
    }
    a->stages[name] = rt;
  }
  return a;
}

// ---- API keys and usage plans -----------------------------------------------------------------

struct PlanRef {
  std::string id;
  Json plan;
};
struct KeyInfo {
  std::string id;
  bool enabled = false;
  std::vector<PlanRef> plans;
};
struct KeyIndex {
  std::unordered_map<std::string, KeyInfo> by_value;
  int64_t loaded_ms = 0;
};

// ---- The exchange: one request in flight ------------------------------------------------------

struct Exchange {
  HttpRequest req;
  Responder responder;
  std::atomic<bool> answered{false};
  Target target;
  std::shared_ptr<const LoadedApi> api;
  std::shared_ptr<StageRt> stage;
  std::string path;  // raw path after the stage
  std::string request_id;
  std::string extended_id;
  int64_t now_ms = 0;
  int64_t start_ns = 0;
  trace::TraceContext trace;
  // Matched route.
  Json method;          // REST method record or HTTP route record
  Json integration;     // REST methodIntegration or HTTP integration record
  std::string resource_id;
  std::string resource_path;  // REST "/items/{id}"; HTTP template path or "$default"
  std::string route_key;      // HTTP
  Json path_params = Json::object();
  // Filled along the way.
  Json authorizer;  // requestContext.authorizer
  std::string principal_id;
  std::string api_key;
  std::string api_key_id;
  Json identity_extra = Json::object();
  int integration_status = 0;
  double integration_latency_s = -1;
  std::string error_message;
  std::string error_type;
  std::string origin;  // CORS
};
using ExchangePtr = std::shared_ptr<Exchange>;

std::string ErrorTypeHeader(const std::string& type) {
  static const std::map<std::string, std::string, std::less<>> k = {
      {"MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException"},
      {"UNAUTHORIZED", "UnauthorizedException"},
      {"ACCESS_DENIED", "AccessDeniedException"},
      {"INVALID_API_KEY", "ForbiddenException"},
      {"RESOURCE_NOT_FOUND", "NotFoundException"},
      {"THROTTLED", "TooManyRequestsException"},
      {"QUOTA_EXCEEDED", "LimitExceededException"},
      {"REQUEST_TOO_LARGE", "RequestTooLargeException"},
      {"AUTHORIZER_CONFIGURATION_ERROR", "AuthorizerConfigurationException"},
      {"AUTHORIZER_FAILURE", "AuthorizerFailureException"},
      {"BAD_REQUEST_BODY", "BadRequestException"},
      {"BAD_REQUEST_PARAMETERS", "BadRequestException"},
      {"UNSUPPORTED_MEDIA_TYPE", "UnsupportedMediaTypeException"},
      {"INTEGRATION_TIMEOUT", "InternalServerErrorException"},
      {"INTEGRATION_FAILURE", "InternalServerErrorException"},
      {"API_CONFIGURATION_ERROR", "InternalServerErrorException"},
      {"DEFAULT_5XX", "InternalServerErrorException"},
      {"FORBIDDEN", "ForbiddenException"}};
  auto it = k.find(type);
  return it == k.end() ? std::string() : it->second;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Evaluates an authorizer's IAM policy for `arn`: 1 allow, 0 no statement applies, -1 deny.
int EvaluatePolicy(const Json& policy, const std::string& arn) {
  if (!policy.is_object()) return 0;
  Json statements = policy.value("Statement", Json::array());
  if (statements.is_object()) statements = Json::array({statements});
  bool allow = false;
  for (const auto& st : statements) {
    if (!st.is_object()) continue;
    Json actions = st.value("Action", Json::array());
    if (!actions.is_array()) actions = Json::array({actions});
    bool action_ok = false;
    for (const auto& a : actions) {
      if (a.is_string() && (GlobMatch(a.get<std::string>(), "execute-api:Invoke"))) action_ok = true;
    }
    if (!action_ok) continue;
    Json resources = st.value("Resource", Json::array());
    if (!resources.is_array()) resources = Json::array({resources});
    bool res_ok = false;
    for (const auto& r : resources) {
      if (r.is_string() && GlobMatch(r.get<std::string>(), arn)) res_ok = true;
    }
    if (!res_ok) continue;
    std::string effect = st.value("Effect", "");
    if (effect == "Deny") return -1;
    if (effect == "Allow") allow = true;
  }
  return allow ? 1 : 0;
}

std::string Stringify(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string LogGroupFromArn(const std::string& arn) {
  auto pos = arn.find(":log-group:");
  if (pos == std::string::npos) return {};
  std::string g = arn.substr(pos + 11);
  if (EndsWith(g, ":*")) g.resize(g.size() - 2);
  return g;
}

bool HopByHop(std::string_view name) {
  static constexpr std::string_view k[] = {"connection", "keep-alive", "proxy-authenticate",
                                           "proxy-authorization", "te", "trailer",
                                           "transfer-encoding", "upgrade", "content-length",
                                           "host", "expect"};
  for (auto h : k) {
    if (IEquals(h, name)) return true;
  }
  return false;
}

// A JSON Schema (draft 4) subset for request validators: type, required, properties,
// additionalProperties=false, items, enum, min/maxLength, minimum/maximum, min/maxItems.
// Unknown keywords are ignored (AWS validates more; documented).
bool SchemaAccepts(const Json& schema, const Json& v, int depth = 0) {
  if (!schema.is_object() || depth > 32) return true;
  if (schema.contains("type") && schema["type"].is_string()) {
    std::string t = schema["type"].get<std::string>();
    bool ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
              (t == "string" && v.is_string()) || (t == "boolean" && v.is_boolean()) ||
              (t == "integer" && v.is_number_integer()) || (t == "number" && v.is_number()) ||
              (t == "null" && v.is_null());
    if (!ok) return false;
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == v;
    if (!found) return false;
  }
  if (v.is_string()) {
    size_t n = v.get_ref<const std::string&>().size();
    if (schema.contains("minLength") && schema["minLength"].is_number() && n < schema["minLength"].get<size_t>()) return false;
    if (schema.contains("maxLength") && schema["maxLength"].is_number() && n > schema["maxLength"].get<size_t>()) return false;
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (schema.contains("minimum") && schema["minimum"].is_number() && d < schema["minimum"].get<double>()) return false;
    if (schema.contains("maximum") && schema["maximum"].is_number() && d > schema["maximum"].get<double>()) return false;
  }
  if (v.is_object()) {
    for (const auto& r : Member(schema, "required").is_array() ? schema["required"] : Json::array()) {
      if (r.is_string() && !v.contains(r.get<std::string>())) return false;
    }
    const Json& props = Member(schema, "properties");
    for (const auto& [k, sub] : v.items()) {
      if (props.contains(k)) {
        if (!SchemaAccepts(props[k], sub, depth + 1)) return false;
      } else if (schema.contains("additionalProperties") && schema["additionalProperties"] == false) {
        return false;
      }
    }
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && schema["minItems"].is_number() && v.size() < schema["minItems"].get<size_t>()) return false;
    if (schema.contains("maxItems") && schema["maxItems"].is_number() && v.size() > schema["maxItems"].get<size_t>()) return false;
    if (schema.contains("items") && schema["items"].is_object()) {
      for (const auto& item : v) {
        if (!SchemaAccepts(schema["items"], item, depth + 1)) return false;
      }
    }
  }
  return true;
}

}  // namespace

// ================================================================================================

struct DataPlane::Impl {
  aws::ServiceContext& ctx;
  RestApis* rest = nullptr;
  HttpApis* http = nullptr;
  Throttler throttler;
  std::unique_ptr<HttpClient> client;
  std::unique_ptr<JwksCache> jwks;

  mutable std::shared_mutex api_mu;  // guards apis and keys
  std::unordered_map<std::string, std::shared_ptr<const LoadedApi>> apis;
  std::unordered_map<std::string, std::shared_ptr<const KeyIndex>> keys;  // by "acct/region"

  std::mutex auth_mu;  // guards auth_cache
  struct CachedAuth {
    int64_t expires_ms = 0;
    Json result;
  };
  std::unordered_map<std::string, CachedAuth> auth_cache;

  // Integration timeouts: one thread sleeping until the earliest deadline.
  std::mutex timer_mu;  // guards timers, stopping
  std::condition_variable timer_cv;
  std::multimap<int64_t, std::function<void()>> timers;  // monotonic ns -> action
  bool stopping = false;
  std::thread timer_thread;

  explicit Impl(aws::ServiceContext& c) : ctx(c), throttler(c.clock) {}

  // ---- timers ----
  void After(int64_t ms, std::function<void()> fn) {
    {
      std::lock_guard lock(timer_mu);
      timers.emplace(ctx.clock.MonotonicNanos() + ms * 1'000'000, std::move(fn));
    }
    timer_cv.notify_one();
  }
  void TimerLoop() {
    std::unique_lock lock(timer_mu);
    while (!stopping) {
      if (timers.empty()) {
        timer_cv.wait(lock);
        continue;
      }
      int64_t now = ctx.clock.MonotonicNanos();
      auto first = timers.begin();
      if (first->first > now) {
        timer_cv.wait_for(lock, std::chrono::nanoseconds(first->first - now));
        continue;
      }
      auto fn = std::move(first->second);
      timers.erase(first);
      lock.unlock();
      ctx.workers.Submit(std::move(fn));
      lock.lock();
    }
  }

  // ---- definitions ----
  std::shared_ptr<const LoadedApi> Cached(const std::string& id) const {
    std::shared_lock lock(api_mu);
    auto it = apis.find(id);
    if (it == apis.end()) return nullptr;
    if (ctx.clock.NowMillis() - it->second->loaded_ms > kCacheTtlMs) return nullptr;
    return it->second;
  }

  // Blocking: reads the store.
  Result<std::shared_ptr<const LoadedApi>> Load(const std::string& id) {
    STRATUS_ASSIGN_OR_RETURN(auto raw, ctx.store.Get(keys::ApiIndex(id)));
    if (!raw) return std::shared_ptr<const LoadedApi>();
    Json idx = ParseJsonOrDiscarded(*raw);
    if (!idx.is_object()) return InternalFailure("corrupt API index for " + id);
    Scope s{idx.value("account", ""), idx.value("region", "")};
    std::shared_ptr<LoadedApi> a;
    if (idx.value("kind", "") == "rest") {
      STRATUS_ASSIGN_OR_RETURN(Json doc, rest->LoadApi(s, id));
      if (doc.is_null()) return std::shared_ptr<const LoadedApi>();
      a = CompileRest(id, s, doc);
    } else {
      STRATUS_ASSIGN_OR_RETURN(Json doc, http->LoadApi(s, id));
      if (doc.is_null()) return std::shared_ptr<const LoadedApi>();
      a = CompileHttp(id, s, doc);
    }
    a->loaded_ms = ctx.clock.NowMillis();
    std::unique_lock lock(api_mu);
    apis[id] = a;
    return std::shared_ptr<const LoadedApi>(a);
  }

  Result<std::shared_ptr<const KeyIndex>> Keys(const Scope& s) {
    std::string k = s.account + "/" + s.region;
    {
      std::shared_lock lock(api_mu);
      auto it = keys.find(k);
      if (it != keys.end() && ctx.clock.NowMillis() - it->second->loaded_ms <= kCacheTtlMs) {
        return it->second;
      }
    }
    auto idx = std::make_shared<KeyIndex>();
    STRATUS_ASSIGN_OR_RETURN(auto key_rows,
                             ctx.store.Scan(store::PrefixScan(keys::Base(s) + "key/")));
    STRATUS_ASSIGN_OR_RETURN(auto plan_rows,
                             ctx.store.Scan(store::PrefixScan(keys::Base(s) + "plan/")));
    std::unordered_map<std::string, std::string> value_by_id;
    for (const auto& kv : key_rows) {
      Json key = ParseJsonOrDiscarded(kv.value);
      if (!key.is_object()) continue;
      KeyInfo info;
      info.id = key.value("id", "");
      info.enabled = key.value("enabled", false);
      value_by_id[info.id] = key.value("value", "");
      idx->by_value[key.value("value", "")] = info;
    }
    for (const auto& kv : plan_rows) {
      Json plan = ParseJsonOrDiscarded(kv.value);
      if (!plan.is_object()) continue;
      for (const auto& kid : plan.value("keys", Json::array())) {
        auto v = value_by_id.find(kid.get<std::string>());
        if (v == value_by_id.end()) continue;
        idx->by_value[v->second].plans.push_back(PlanRef{plan.value("id", ""), plan});
      }
    }
    idx->loaded_ms = ctx.clock.NowMillis();
    std::unique_lock lock(api_mu);
    keys[k] = idx;
    return std::shared_ptr<const KeyIndex>(idx);
  }

  // ---- answering ----
  void Finish(const ExchangePtr& ex, HttpResponse resp) {
    bool expected = false;
    if (!ex->answered.compare_exchange_strong(expected, true)) return;
    bool rest_api = !ex->api || ex->api->rest;
    if (rest_api) {
      if (!resp.headers.Has("x-amzn-RequestId")) resp.headers.Set("x-amzn-RequestId", ex->request_id);
      resp.headers.Set("x-amz-apigw-id", ex->extended_id);
      resp.headers.Set("X-Amzn-Trace-Id", ex->trace.DownstreamHeader());
    } else {
      resp.headers.Set("Apigw-Requestid", ex->extended_id);
      ApplyCors(*ex, resp);
    }
    if (!resp.headers.Has("date")) {
      resp.headers.Set("Date", FormatHttpDate(static_cast<double>(ctx.clock.NowMillis() / 1000)));
    }
    if (ex->req.method == "HEAD") resp.body.clear();
    double secs = static_cast<double>(ctx.clock.MonotonicNanos() - ex->start_ns) / 1e9;
    std::string api_id = ex->target.api_id;
    ctx.metrics.Observe("execute-api", api_id, resp.status, secs);
    if (ex->integration_latency_s >= 0) {
      ctx.metrics.Observe("execute-api-integration", api_id,
                          ex->integration_status ? ex->integration_status : resp.status,
                          ex->integration_latency_s);
    }
    if (ex->trace.sampled) {
      double start = static_cast<double>(ex->now_ms) / 1000.0;
      trace::Segment seg = trace::NewSegment(
          ex->trace, api_id + "/" + (ex->stage ? ex->stage->name : std::string("-")),
          "AWS::ApiGateway::Stage", start);
      seg.end_time = start + secs;
      seg.aws = Json{{"api_id", api_id}, {"request_id", ex->request_id}};
      trace::SetHttpStatus(seg, resp.status);
      ctx.tracer.Record(std::move(seg));
    }
    AccessLog(ex, resp, secs);
    if (resp.status >= 500) {
      spdlog::warn("execute-api {} {} {} -> {} {}", api_id, ex->req.method, ex->req.path,
                   resp.status, ex->error_message);
    } else {
      spdlog::debug("execute-api {} {} {} -> {}", api_id, ex->req.method, ex->req.path,
                    resp.status);
    }
    ex->responder.Send(std::move(resp));
  }

  Json ContextVars(const Exchange& ex, int status, size_t length, double secs) const {
    Json c = Json::object();
    c["requestId"] = ex.request_id;
    c["extendedRequestId"] = ex.extended_id;
    c["apiId"] = ex.target.api_id;
    c["stage"] = ex.stage ? ex.stage->name : ex.target.stage;
    c["httpMethod"] = ex.req.method;
    c["resourcePath"] = ex.resource_path;
    c["resourceId"] = ex.resource_id;
    c["routeKey"] = ex.route_key;
    c["path"] = ex.req.path;
    c["protocol"] = "HTTP/1.1";
    c["requestTime"] = RequestTime(ex.now_ms);
    c["requestTimeEpoch"] = std::to_string(ex.now_ms);
    c["domainName"] = ex.target.domain;
    c["domainPrefix"] = ex.target.api_id;
    c["accountId"] = ex.api ? ex.api->scope.account : "";
    c["identity"] = Json{{"sourceIp", ex.req.remote_address},
                         {"userAgent", std::string(ex.req.headers.GetOr("user-agent"))},
                         {"apiKey", ex.api_key},
                         {"apiKeyId", ex.api_key_id}};
    c["status"] = std::to_string(status);
    c["responseLength"] = std::to_string(length);
    c["responseLatency"] = std::to_string(static_cast<int64_t>(secs * 1000));
    c["integrationLatency"] =
        ex.integration_latency_s >= 0
            ? std::to_string(static_cast<int64_t>(ex.integration_latency_s * 1000))
            : "-";
    c["integrationStatus"] = ex.integration_status ? std::to_string(ex.integration_status) : "-";
    c["error"] = Json{{"message", ex.error_message},
                      {"messageString", Json(ex.error_message).dump()},
                      {"responseType", ex.error_type}};
    Json auth = ex.authorizer.is_object() ? ex.authorizer : Json::object();
    if (!ex.principal_id.empty()) auth["principalId"] = ex.principal_id;
    c["authorizer"] = auth;
    return c;
  }

  void AccessLog(const ExchangePtr& ex, const HttpResponse& resp, double secs) {
    if (!ex->stage || !ctx.clients.logs) return;
    const Json& st = ex->stage->stage;
    Json settings = ex->api->rest ? st.value("accessLogSettings", Json())
                                  : st.value("AccessLogSettings", Json());
    if (!settings.is_object()) return;
    std::string arn = settings.value(ex->api->rest ? "destinationArn" : "DestinationArn", "");
    std::string format = settings.value(ex->api->rest ? "format" : "Format", "");
    std::string group = LogGroupFromArn(arn);
    if (group.empty() || format.empty()) return;
    Json vars = ContextVars(*ex, resp.status, resp.body.size(), secs);
    TemplateInputs in;
    in.context = &vars;
    in.stage_variables = nullptr;
    auto line = RenderTemplate(format, in);
    if (!line.ok()) {
      spdlog::warn("execute-api {}: access log format not rendered: {}", ex->target.api_id,
                   line.error().message);
      return;
    }
    Scope s = ex->api->scope;
    std::string stream = ex->target.api_id + "-" + ex->stage->name;
    aws::LogSink* sink = ctx.clients.logs;
    int64_t ts = ex->now_ms;
    ctx.workers.Submit([sink, s, group, stream, ts, msg = std::move(line).value()] {
      Status st = sink->Append(s.account, s.region, group, stream, {{ts, msg}});
      if (!st.ok()) spdlog::warn("execute-api access log to {} failed: {}", group, st.error().message);
    });
  }

  void ApplyCors(const Exchange& ex, HttpResponse& resp) const {
    if (ex.origin.empty() || !ex.stage) return;
    const Json& cors = ex.stage->snapshot.value("cors", Json());
    if (!cors.is_object()) return;
    std::string allow = AllowedOrigin(cors, ex.origin);
    if (allow.empty()) return;
    resp.headers.Set("Access-Control-Allow-Origin", allow);
    if (cors.value("AllowCredentials", false)) {
      resp.headers.Set("Access-Control-Allow-Credentials", "true");
    }
    std::vector<std::string> expose;
    for (const auto& h : cors.value("ExposeHeaders", Json::array())) expose.push_back(h.get<std::string>());
    if (!expose.empty()) resp.headers.Set("Access-Control-Expose-Headers", Join(expose, ","));
  }

  static std::string AllowedOrigin(const Json& cors, const std::string& origin) {
    for (const auto& o : cors.value("AllowOrigins", Json::array())) {
      std::string v = o.get<std::string>();
      if (v == "*") return cors.value("AllowCredentials", false) ? origin : "*";
      if (IEquals(v, origin)) return origin;
    }
    return {};
  }

  // REST gateway responses (customisable per API); HTTP APIs answer fixed JSON messages.
  void GatewayError(const ExchangePtr& ex, const std::string& type, int status,
                    const std::string& message) {
    ex->error_type = type;
    if (ex->error_message.empty()) ex->error_message = message;
    HttpResponse resp;
    resp.status = status;
    resp.headers.Set("Content-Type", "application/json");
    if (ex->api && !ex->api->rest) {
      resp.body = Json{{"message", message}}.dump();
      Finish(ex, std::move(resp));
      return;
    }
    Json gr;
    if (ex->stage) {
      const Json& custom = ex->stage->snapshot.value("gatewayResponses", Json::object());
      if (custom.contains(type)) {
        gr = custom[type];
      } else {
        std::string fallback = status >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX";
        if (custom.contains(fallback)) {
          gr = custom[fallback];
          gr.erase("statusCode");  // a DEFAULT_* keeps the specific type's status
        }
      }
    }
    if (gr.is_null()) gr = RestApis::DefaultGatewayResponse(type);
    if (gr.contains("statusCode")) {
      if (auto n = ParseInt64(gr["statusCode"].get<std::string>())) resp.status = static_cast<int>(*n);
    }
    std::string hdr = ErrorTypeHeader(type);
    if (!hdr.empty()) resp.headers.Set("x-amzn-ErrorType", hdr);
    Json vars = ContextVars(*ex, resp.status, 0, 0);
    vars["error"]["message"] = message;
    vars["error"]["messageString"] = Json(message).dump();
    TemplateInputs in;
    in.context = &vars;
    in.stage_variables = ex->stage ? &ex->stage->stage : nullptr;
    Json sv = ex->stage ? ex->stage->stage.value("variables", Json::object()) : Json::object();
    in.stage_variables = &sv;
    const Json& templates = gr.value("responseTemplates", Json::object());
    std::string tpl = "{\"message\":$context.error.messageString}";
    if (templates.contains("application/json")) {
      tpl = templates["application/json"].get<std::string>();
    } else if (!templates.empty()) {
      tpl = templates.begin().value().get<std::string>();
    }
    auto body = RenderTemplate(tpl, in);
    resp.body = body.ok() ? *body : Json{{"message", message}}.dump();
    for (const auto& [k, v] : Member(gr, "responseParameters").items()) {
      if (!StartsWith(k, "gatewayresponse.header.") || !v.is_string()) continue;
      std::string value = v.get<std::string>();
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
        value = value.substr(1, value.size() - 2);
      } else if (StartsWith(value, "method.request.header.")) {
        value = std::string(ex->req.headers.GetOr(value.substr(22)));
      } else {
        continue;
      }
      if (value.find_first_of("\r\n") != std::string::npos) continue;
      resp.headers.Set(k.substr(23), value);
    }
    Finish(ex, std::move(resp));
  }

  // The reason is logged once, with the request, when the response is sent (Finish).
  void InternalError(const ExchangePtr& ex, const std::string& why, int status = 500) {
    ex->error_message = why;
    if (ex->api && !ex->api->rest) {
      GatewayError(ex, "DEFAULT_5XX", status, "Internal Server Error");
    } else {
      GatewayError(ex, status == 502 ? "DEFAULT_5XX" : "API_CONFIGURATION_ERROR", status,
                   "Internal server error");
    }
  }

  // Runs one step of the pipeline; a bug that throws (a malformed stored record) answers 500
  // and is logged instead of taking the server down.
  void Safe(const ExchangePtr& ex, const std::function<void()>& step) {
    try {
      step();
    } catch (const std::exception& e) {
      spdlog::error("execute-api {}: internal error: {}", ex->target.api_id, e.what());
      ex->error_message = e.what();
      try {
        GatewayError(ex, "DEFAULT_5XX", 500, ex->api && !ex->api->rest ? "Internal Server Error"
                                                                       : "Internal server error");
      } catch (...) {
        HttpResponse resp;
        resp.status = 500;
        resp.body = "{\"message\":\"Internal server error\"}";
        bool expected = false;
        if (ex->answered.compare_exchange_strong(expected, true)) ex->responder.Send(std::move(resp));
      }
    }
  }

  void Submit(const ExchangePtr& ex, std::function<void()> step) {
    ctx.workers.Submit([this, ex, step = std::move(step)] { Safe(ex, step); });
  }

  // ---- pipeline ----
  void Start(HttpRequest req, Responder responder) {
    auto ex = std::make_shared<Exchange>();
    ex->req = std::move(req);
    ex->responder = std::move(responder);
    ex->now_ms = ctx.clock.NowMillis();
    ex->start_ns = ctx.clock.MonotonicNanos();
    ex->request_id = NewUuid();
    ex->extended_id = RandomAlnum(16);
    ex->trace = trace::BeginHop(ex->req.headers.Get("x-amzn-trace-id"), ex->now_ms / 1000);
    auto t = ParseTarget(ex->req);
    if (!t) {
      GatewayError(ex, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token");
      return;
    }
    ex->target = std::move(*t);
    if (auto origin = ex->req.headers.Get("origin")) ex->origin = std::string(*origin);
    if (auto a = Cached(ex->target.api_id)) {
      ex->api = a;
      Safe(ex, [this, ex] { Route(ex, /*on_worker=*/false); });
      return;
    }
    Submit(ex, [this, ex] {
      auto a = Load(ex->target.api_id);
      if (!a.ok()) {
        InternalError(ex, "loading API " + ex->target.api_id + ": " + a.error().message);
        return;
      }
      if (!*a) {
        // Unknown API: AWS answers as for an unknown route (REST's 403 / HTTP's 404 both
        // happen; the id alone cannot tell which kind was meant).
        GatewayError(ex, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token");
        return;
      }
      ex->api = *a;
      Route(ex, /*on_worker=*/true);
    });
  }

  void Route(const ExchangePtr& ex, bool on_worker) {
    const LoadedApi& api = *ex->api;
    // Stage.
    std::string path = ex->target.path;
    std::string stage_name = ex->target.stage;
    if (stage_name.empty()) {
      auto segs = Split(std::string_view(path).substr(path.empty() ? 0 : 1), '/');
      std::string first = segs.empty() ? "" : UrlDecode(segs[0]);
      if (!first.empty() && api.stages.count(first)) {
        stage_name = first;
        path = path.substr(1 + segs[0].size());
        if (path.empty()) path = "/";
      } else if (!api.rest && api.stages.count("$default")) {
        stage_name = "$default";
      }
    }
    if (!ex->target.stage.empty() && !api.rest && !api.stages.count(stage_name) &&
        api.stages.count("$default")) {
      // Path forms name a stage; an HTTP API's $default stage has no name in the path.
      path = "/" + stage_name + (path == "/" ? "" : path);
      stage_name = "$default";
    }
    auto st = api.stages.find(stage_name);
    if (st == api.stages.end()) {
      if (api.rest) {
        GatewayError(ex, stage_name.empty() ? "MISSING_AUTHENTICATION_TOKEN" : "FORBIDDEN",
                     403, stage_name.empty() ? "Missing Authentication Token" : "Forbidden");
      } else {
        GatewayError(ex, "RESOURCE_NOT_FOUND", 404, "Not Found");
      }
      return;
    }
    ex->stage = st->second;
    ex->path = path;
    bool disabled = api.rest ? api.api.value("disableExecuteApiEndpoint", false)
                             : api.api.value("DisableExecuteApiEndpoint", false);
    if (disabled) {
      GatewayError(ex, "FORBIDDEN", 403, "Forbidden");
      return;
    }
    if (ex->req.body.size() > kMaxPayloadBytes) {
      GatewayError(ex, "REQUEST_TOO_LARGE", 413,
                   api.rest ? "Request Too Long" : "Request Entity Too Large");
      return;
    }
    if (api.rest) {
      RouteRest(ex, on_worker);
    } else {
      RouteHttp(ex, on_worker);
    }
  }

  void RouteRest(const ExchangePtr& ex, bool on_worker) {
    const StageRt& st = *ex->stage;
    const Json& resources = st.snapshot["resources"];
    std::string method = ex->req.method;
    auto m = st.trie.Find(ex->path, [](const RouteTrie::Node&) { return true; });
    if (!m.node) {
      GatewayError(ex, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token");
      return;
    }
    const Json& res = resources[m.node->id];
    const Json& methods = res.value("resourceMethods", Json::object());
    const Json* mj = nullptr;
    if (methods.contains(method)) {
      mj = &methods[method];
    } else if (methods.contains("ANY")) {
      mj = &methods["ANY"];
    }
    if (!mj) {
      GatewayError(ex, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token");
      return;
    }
    ex->method = *mj;
    ex->integration = mj->value("methodIntegration", Json());
    ex->resource_id = m.node->id;
    ex->resource_path = m.node->path;
    for (auto& [k, v] : m.params) ex->path_params[k] = v;
    // Stage / method throttling (method settings).
    const Json& ms = st.stage.value("methodSettings", Json::object());
    std::string specific = ReplaceAll(ex->resource_path, "/", "~1") + "/" + ex->method.value("httpMethod", method);
    std::string specific2 = ex->resource_path.substr(1) + "/" + ex->method.value("httpMethod", method);
    const Json* setting = nullptr;
    std::string bucket_key;
    for (const auto& k : {specific, specific2, std::string("*/*")}) {
      if (ms.contains(k) && ms[k].contains("throttlingRateLimit")) {
        setting = &ms[k];
        bucket_key = k;
        break;
      }
    }
    if (setting) {
      double rate = (*setting).value("throttlingRateLimit", 10000.0);
      int64_t burst = (*setting).value("throttlingBurstLimit", int64_t{5000});
      std::string key = "m/" + ex->target.api_id + "/" + st.name + "/" + bucket_key;
      if (!throttler.Take(key, rate, burst)) {
        GatewayError(ex, "THROTTLED", 429, "Too Many Requests");
        return;
      }
    }
    std::string auth = ex->method.value("authorizationType", "NONE");
    bool needs_worker = auth != "NONE" || ex->method.value("apiKeyRequired", false) ||
                        ex->integration.value("type", "") != "MOCK";
    if (needs_worker && !on_worker) {
      Submit(ex, [this, ex] { AuthorizeRest(ex); });
      return;
    }
    AuthorizeRest(ex);
  }

  void RouteHttp(const ExchangePtr& ex, bool on_worker) {
    const StageRt& st = *ex->stage;
    std::string method = ex->req.method;
    // CORS preflight.
    const Json& cors = st.snapshot.value("cors", Json());
    if (method == "OPTIONS" && cors.is_object() && !ex->origin.empty() &&
        ex->req.headers.Has("access-control-request-method")) {
      HttpResponse resp;
      resp.status = 204;
      std::string allow = AllowedOrigin(cors, ex->origin);
      if (!allow.empty()) {
        std::vector<std::string> methods, headers;
        for (const auto& m : cors.value("AllowMethods", Json::array())) methods.push_back(m.get<std::string>());
        for (const auto& h : cors.value("AllowHeaders", Json::array())) headers.push_back(h.get<std::string>());
        if (!methods.empty()) resp.headers.Set("Access-Control-Allow-Methods", Join(methods, ","));
        if (!headers.empty()) resp.headers.Set("Access-Control-Allow-Headers", Join(headers, ","));
        if (cors.contains("MaxAge") && cors["MaxAge"].get<int64_t>() >= 0) {
          resp.headers.Set("Access-Control-Max-Age", std::to_string(cors["MaxAge"].get<int64_t>()));
        }
      }
      Finish(ex, std::move(resp));
      return;
    }
    auto accept = [&](const RouteTrie::Node& n) {
      auto it = st.http_routes.find(n.id);
      return it != st.http_routes.end() &&
             (it->second.count(method) || it->second.count("ANY"));
    };
    auto m = st.trie.Find(ex->path, accept);
    if (m.node) {
      const auto& verbs = st.http_routes.at(m.node->id);
      ex->method = verbs.count(method) ? verbs.at(method) : verbs.at("ANY");
      ex->resource_path = m.node->path;
      for (auto& [k, v] : m.params) ex->path_params[k] = v;
    } else if (st.default_route.is_object()) {
      ex->method = st.default_route;
      ex->resource_path = "$default";
    } else {
      GatewayError(ex, "RESOURCE_NOT_FOUND", 404, "Not Found");
      return;
    }
    ex->route_key = ex->method.value("RouteKey", "");
    ex->resource_id = ex->method.value("RouteId", "");
    std::string target = ex->method.value("Target", "");
    std::string iid = StartsWith(target, "integrations/") ? target.substr(13) : "";
    const Json& integs = st.snapshot.value("integrations", Json::object());
    if (!integs.contains(iid)) {
      GatewayError(ex, "RESOURCE_NOT_FOUND", 404, "Not Found");
      return;
    }
    ex->integration = integs[iid];
    // Route throttling.
    const Json& rs = Member(st.stage, "RouteSettings");
    const Json& defaults = Member(st.stage, "DefaultRouteSettings");
    const Json* settings = nullptr;
    bool route_specific = false;
    if (rs.contains(ex->route_key) && rs[ex->route_key].contains("ThrottlingRateLimit")) {
      settings = &rs[ex->route_key];
      route_specific = true;
    } else if (defaults.contains("ThrottlingRateLimit")) {
      settings = &defaults;
    }
    if (settings) {
      std::string key = "r/" + ex->target.api_id + "/" + st.name + "/" +
                        (route_specific ? ex->route_key : std::string("*"));
      if (!throttler.Take(key, settings->value("ThrottlingRateLimit", 0.0),
                          settings->value("ThrottlingBurstLimit", int64_t{0}))) {
        GatewayError(ex, "THROTTLED", 429, "Too Many Requests");
        return;
      }
    }
    if (!on_worker) {
      Submit(ex, [this, ex] { AuthorizeHttp(ex); });
      return;
    }
    AuthorizeHttp(ex);
  }

  // ---- authorization ----
  std::string MethodArn(const Exchange& ex) const {
    return "arn:aws:execute-api:" + ex.api->scope.region + ":" + ex.api->scope.account + ":" +
           ex.target.api_id + "/" + ex.stage->name + "/" + ex.req.method +
           (ex.path.empty() ? "/" : ex.path);
  }

  ProxyRequest MakeProxyRequest(const Exchange& ex, bool binary_base64) const {
    ProxyRequest r;
    r.method = ex.req.method;
    r.raw_path = ex.api->rest ? ex.path : ex.req.path;
    r.path = UrlDecode(ex.path);
    r.raw_query = ex.req.query;
    r.source_ip = ex.req.remote_address;
    r.headers = ex.req.headers;
    if (!r.headers.Has("host")) r.headers.Add("Host", ex.target.domain);
    r.headers.Set("X-Amzn-Trace-Id", ex.trace.DownstreamHeader());
    r.headers.Set("X-Forwarded-For", ex.req.remote_address);
    r.headers.Set("X-Forwarded-Port", std::to_string(ex.req.local_port));
    r.headers.Set("X-Forwarded-Proto", "http");
    if (binary_base64) {
      r.body = Base64Encode(ex.req.body);
      r.base64_body = true;
    } else {
      r.body = ex.req.body;
    }
    return r;
  }

  ProxyContext MakeProxyContext(const Exchange& ex) const {
    ProxyContext c;
    c.account = ex.api->scope.account;
    c.api_id = ex.target.api_id;
    c.stage = ex.stage->name;
    c.request_id = ex.request_id;
    c.extended_request_id = ex.extended_id;
    c.domain_name = ex.target.domain;
    c.deployment_id = ex.stage->deployment_id;
    c.resource_id = ex.resource_id;
    c.resource_path = ex.resource_path;
    c.route_key = ex.route_key;
    c.stage_path = ex.api->rest ? "/" + ex.stage->name + UrlDecode(ex.path) : ex.req.path;
    c.now_ms = ex.now_ms;
    c.path_parameters = ex.path_params.empty() ? Json() : ex.path_params;
    Json sv = ex.api->rest ? ex.stage->stage.value("variables", Json())
                           : ex.stage->stage.value("StageVariables", Json());
    c.stage_variables = sv.is_object() && !sv.empty() ? sv : Json();
    c.authorizer = ex.authorizer;
    c.api_key = ex.api_key;
    c.api_key_id = ex.api_key_id;
    return c;
  }

  // The value of one identity source ("method.request.header.X", "$request.header.X", ...).
  std::string IdentityValue(const Exchange& ex, std::string src) const {
    src = std::string(Trim(src));
    auto query = [&](const std::string& name) -> std::string {
      for (auto& [k, v] : ParseQuery(ex.req.query, false)) {
        if (k == name) return v;
      }
      return {};
    };
    if (StartsWith(src, "method.request.header.")) return std::string(ex.req.headers.GetOr(src.substr(22)));
    if (StartsWith(src, "method.request.querystring.")) return query(src.substr(27));
    if (StartsWith(src, "$request.header.")) return std::string(ex.req.headers.GetOr(src.substr(16)));
    if (StartsWith(src, "$request.querystring.")) return query(src.substr(21));
    if (StartsWith(src, "stageVariables.") || StartsWith(src, "$stageVariables.")) {
      std::string name = src.substr(src.find('.') + 1);
      Json sv = ex.api->rest ? ex.stage->stage.value("variables", Json::object())
                             : ex.stage->stage.value("StageVariables", Json::object());
      return sv.value(name, "");
    }
    if (StartsWith(src, "context.") || StartsWith(src, "$context.")) {
      std::string name = src.substr(src.find('.') + 1);
      if (name == "httpMethod") return ex.req.method;
      if (name == "requestId") return ex.request_id;
      if (name == "identity.sourceIp") return ex.req.remote_address;
      return {};
    }
    return {};
  }

  void AuthorizeRest(const ExchangePtr& ex) {
    std::string type = ex->method.value("authorizationType", "NONE");
    if (type == "NONE") {
      CheckApiKey(ex);
      return;
    }
    if (type == "AWS_IAM") {
      std::string_view auth = ex->req.headers.GetOr("authorization");
      if (!StartsWith(auth, "AWS4-HMAC-SHA256")) {
        GatewayError(ex, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token");
        return;
      }
      auto cred = auth.find("Credential=");
      if (cred != std::string_view::npos) {
        auto slash = auth.find('/', cred);
        ex->identity_extra["accessKey"] = std::string(auth.substr(cred + 11, slash - cred - 11));
      }
      CheckApiKey(ex);
      return;
    }
    const Json& auths = ex->stage->snapshot.value("authorizers", Json::object());
    std::string aid = ex->method.value("authorizerId", "");
    if (!auths.contains(aid)) {
      InternalError(ex, "method refers to authorizer " + aid + ", which the deployment lacks");
      return;
    }
    const Json& a = auths[aid];
    std::string atype = a.value("type", "");
    if (atype == "COGNITO_USER_POOLS") {
      AuthorizeCognito(ex, a);
      return;
    }
    // Lambda authorizers: TOKEN or REQUEST.
    std::vector<std::string> sources;
    for (auto& s : Split(a.value("identitySource", ""), ',')) {
      if (!Trim(s).empty()) sources.push_back(std::string(Trim(s)));
    }
    std::string cache_key = ex->target.api_id + "/" + aid;
    Json event;
    if (atype == "TOKEN") {
      std::string token = sources.empty() ? "" : IdentityValue(*ex, sources[0]);
      if (token.empty()) {
        GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
        return;
      }
      std::string expr = a.value("identityValidationExpression", "");
      if (!expr.empty()) {
        RE2 re(expr);
        if (!re.ok() || !RE2::FullMatch(token, re)) {
          GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
          return;
        }
      }
      cache_key += "/" + token;
      event = Json{{"type", "TOKEN"}, {"authorizationToken", token}, {"methodArn", MethodArn(*ex)}};
    } else {
      for (const auto& s : sources) {
        std::string v = IdentityValue(*ex, s);
        if (v.empty()) {
          GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
          return;
        }
        cache_key += "/" + v;
      }
      Json v1 = BuildV1Event(MakeProxyRequest(*ex, false), MakeProxyContext(*ex), false);
      event = Json{{"type", "REQUEST"}, {"methodArn", MethodArn(*ex)}};
      for (const char* k : {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
                            "queryStringParameters", "multiValueQueryStringParameters",
                            "pathParameters", "stageVariables", "requestContext"}) {
        event[k] = v1[k];
      }
    }
    int64_t ttl = std::min<int64_t>(a.value("authorizerResultTtlInSeconds", 300), kMaxAuthorizerTtlS);
    if (sources.empty()) ttl = 0;
    auto apply = [this, ex](const Json& result) {
      std::string arn = MethodArn(*ex);
      int verdict = EvaluatePolicy(result.value("policyDocument", Json()), arn);
      if (verdict <= 0) {
        GatewayError(ex, "ACCESS_DENIED", 403,
                     verdict < 0 ? "User is not authorized to access this resource with an explicit deny"
                                 : "User is not authorized to access this resource");
        return;
      }
      ex->principal_id = Stringify(result.value("principalId", Json("")));
      Json authz = Json::object();
      authz["principalId"] = ex->principal_id;
      for (const auto& [k, v] : Member(result, "context").items()) {
        authz[k] = v.is_string() ? v : Json(Stringify(v));
      }
      authz["integrationLatency"] = 0;
      ex->authorizer = authz;
      if (result.contains("usageIdentifierKey")) {
        ex->identity_extra["usageIdentifierKey"] = Stringify(result["usageIdentifierKey"]);
      }
      CheckApiKey(ex);
    };
    if (ttl > 0) {
      std::unique_lock lock(auth_mu);
      auto it = auth_cache.find(cache_key);
      if (it != auth_cache.end() && it->second.expires_ms > ctx.clock.NowMillis()) {
        Json cached = it->second.result;
        lock.unlock();
        apply(cached);
        return;
      }
    }
    std::string fn = LambdaArnFromUri(a.value("authorizerUri", ""));
    InvokeLambda(ex, fn, event.dump(), kRestTimeoutMs,
                 [this, ex, apply, ttl, cache_key](Result<std::string> payload, bool function_error) {
                   if (!payload.ok()) {
                     ex->error_message = "authorizer: " + payload.error().message;
                     GatewayError(ex, "AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error");
                     return;
                   }
                   Json result = ParseJsonOrDiscarded(*payload);
                   if (function_error) {
                     std::string msg = result.is_object() ? result.value("errorMessage", "") : "";
                     if (msg == "Unauthorized") {
                       GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
                     } else {
                       ex->error_message = "authorizer function failed: " + std::string(*payload);
                       GatewayError(ex, "AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error");
                     }
                     return;
                   }
                   if (!result.is_object() || !result.contains("policyDocument")) {
                     ex->error_message = "authorizer answered without a policyDocument";
                     GatewayError(ex, "AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error");
                     return;
                   }
                   if (ttl > 0) {
                     std::lock_guard lock(auth_mu);
                     auth_cache[cache_key] = CachedAuth{ctx.clock.NowMillis() + ttl * 1000, result};
                   }
                   apply(result);
                 });
  }

  void AuthorizeCognito(const ExchangePtr& ex, const Json& a) {
    std::string src = a.value("identitySource", "method.request.header.Authorization");
    std::string token = IdentityValue(*ex, src);
    if (StartsWith(token, "Bearer ")) token = token.substr(7);
    if (token.empty()) {
      GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
      return;
    }
    // The pool's issuer: stratus's Cognito serves each pool's JWKS under the server's URL
    // (<external-url>/<poolId>/.well-known/jwks.json); tokens it mints carry that issuer.
    std::string err = "no provider accepted the token";
    for (const auto& arn : a.value("providerARNs", Json::array())) {
      std::string s = arn.get<std::string>();
      auto slash = s.rfind('/');
      if (slash == std::string::npos) continue;
      std::string pool = s.substr(slash + 1);
      JwtRequirements req{ctx.external_url() + "/" + pool, {}};
      auto claims = VerifyJwt(token, req, *jwks, ex->now_ms / 1000);
      if (!claims.ok()) {
        err = claims.error().message;
        continue;
      }
      const Json& scopes = ex->method.value("authorizationScopes", Json::array());
      if (!scopes.empty()) {
        auto granted = Split(claims->value("scope", ""), ' ');
        bool ok = false;
        for (const auto& s2 : scopes) {
          for (const auto& g : granted) ok = ok || g == s2.get<std::string>();
        }
        if (!ok) {
          GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
          return;
        }
      }
      Json str_claims = Json::object();
      for (const auto& [k, v] : claims->items()) str_claims[k] = v.is_string() ? v : Json(Stringify(v));
      ex->authorizer = Json{{"claims", str_claims}};
      CheckApiKey(ex);
      return;
    }
    ex->error_message = "COGNITO_USER_POOLS: " + err;
    GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
  }

  void CheckApiKey(const ExchangePtr& ex) {
    if (!ex->method.value("apiKeyRequired", false)) {
      Integrate(ex);
      return;
    }
    std::string source = ex->stage->snapshot.value("apiKeySource", "HEADER");
    std::string value = source == "AUTHORIZER" ? ex->identity_extra.value("usageIdentifierKey", "")
                                               : std::string(ex->req.headers.GetOr("x-api-key"));
    auto forbidden = [&] { GatewayError(ex, "INVALID_API_KEY", 403, "Forbidden"); };
    if (value.empty()) return forbidden();
    auto idx = Keys(ex->api->scope);
    if (!idx.ok()) return InternalError(ex, "loading API keys: " + idx.error().message);
    auto it = (*idx)->by_value.find(value);
    if (it == (*idx)->by_value.end() || !it->second.enabled) return forbidden();
    const KeyInfo& key = it->second;
    std::string api_stage = ex->target.api_id;
    const PlanRef* plan = nullptr;
    const Json* api_stage_rec = nullptr;
    for (const auto& p : key.plans) {
      const Json& stages = p.plan.contains("apiStages") ? p.plan["apiStages"] : Member(p.plan, "apiStages");
      if (!stages.is_array()) continue;
      for (const auto& s : stages) {
        if (s.value("apiId", "") == ex->target.api_id && s.value("stage", "") == ex->stage->name) {
          plan = &p;
          api_stage_rec = &s;
          break;
        }
      }
      if (plan) break;
    }
    if (!plan) return forbidden();
    ex->api_key = value;
    ex->api_key_id = key.id;
    std::string base = "k/" + plan->id + "/" + key.id;
    if (plan->plan.contains("throttle")) {
      const Json& t = plan->plan["throttle"];
      if (!throttler.Take(base, t.value("rateLimit", 10000.0), t.value("burstLimit", int64_t{5000}))) {
        return GatewayError(ex, "THROTTLED", 429, "Too Many Requests");
      }
    }
    std::string method_key = ex->resource_path + "/" + ex->method.value("httpMethod", ex->req.method);
    const Json& per_method = Member(*api_stage_rec, "throttle");
    if (per_method.contains(method_key)) {
      const Json& t = per_method[method_key];
      if (!throttler.Take(base + "/" + method_key, t.value("rateLimit", 10000.0),
                          t.value("burstLimit", int64_t{5000}))) {
        return GatewayError(ex, "THROTTLED", 429, "Too Many Requests");
      }
    }
    if (plan->plan.contains("quota")) {
      const Json& q = plan->plan["quota"];
      if (!throttler.CountQuota(base, q.value("period", "DAY"), q.value("limit", int64_t{0}),
                                q.value("offset", int64_t{0}))) {
        return GatewayError(ex, "QUOTA_EXCEEDED", 429, "Limit Exceeded");
      }
    } else {
      throttler.Count(base);
    }
    Integrate(ex);
  }

  void AuthorizeHttp(const ExchangePtr& ex) {
    std::string type = ex->method.value("AuthorizationType", "NONE");
    if (type == "NONE") {
      Integrate(ex);
      return;
    }
    if (type == "AWS_IAM") {
      if (!StartsWith(ex->req.headers.GetOr("authorization"), "AWS4-HMAC-SHA256")) {
        GatewayError(ex, "FORBIDDEN", 403, "Forbidden");
        return;
      }
      Integrate(ex);
      return;
    }
    const Json& auths = ex->stage->snapshot.value("authorizers", Json::object());
    std::string aid = ex->method.value("AuthorizerId", "");
    if (!auths.contains(aid)) {
      InternalError(ex, "route refers to authorizer " + aid + ", which the deployment lacks");
      return;
    }
    const Json& a = auths[aid];
    if (a.value("AuthorizerType", "") == "JWT") {
      std::string token;
      for (const auto& s : a.value("IdentitySource", Json::array())) {
        token = IdentityValue(*ex, s.get<std::string>());
        if (!token.empty()) break;
      }
      if (StartsWith(token, "Bearer ") || StartsWith(token, "bearer ")) token = token.substr(7);
      if (token.empty()) {
        GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
        return;
      }
      const Json& jc = a.value("JwtConfiguration", Json::object());
      JwtRequirements req;
      req.issuer = jc.value("Issuer", "");
      for (const auto& aud : jc.value("Audience", Json::array())) req.audience.push_back(aud.get<std::string>());
      auto claims = VerifyJwt(token, req, *jwks, ex->now_ms / 1000);
      if (!claims.ok()) {
        ex->error_message = "JWT: " + claims.error().message;
        spdlog::info("execute-api {}: JWT refused: {}", ex->target.api_id, claims.error().message);
        GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
        return;
      }
      std::vector<std::string> granted;
      std::string scope_claim = claims->contains("scope") ? Stringify((*claims)["scope"])
                                                          : Stringify(claims->value("scp", Json("")));
      for (auto& g : Split(scope_claim, ' ')) {
        if (!g.empty()) granted.push_back(g);
      }
      const Json& needed = ex->method.value("AuthorizationScopes", Json::array());
      if (!needed.empty()) {
        bool ok = false;
        for (const auto& n : needed) {
          for (const auto& g : granted) ok = ok || g == n.get<std::string>();
        }
        if (!ok) {
          GatewayError(ex, "FORBIDDEN", 403, "Forbidden");
          return;
        }
      }
      Json str_claims = Json::object();
      for (const auto& [k, v] : claims->items()) str_claims[k] = v.is_string() ? v : Json(Stringify(v));
      Json scopes = granted.empty() ? Json() : Json(granted);
      ex->authorizer = Json{{"jwt", Json{{"claims", str_claims}, {"scopes", scopes}}}};
      Integrate(ex);
      return;
    }
    // Lambda REQUEST authorizer.
    std::string version = a.value("AuthorizerPayloadFormatVersion", "2.0");
    std::string cache_key = ex->target.api_id + "/" + aid;
    Json identity = Json::array();
    for (const auto& s : a.value("IdentitySource", Json::array())) {
      std::string v = IdentityValue(*ex, s.get<std::string>());
      if (v.empty()) {
        GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
        return;
      }
      identity.push_back(v);
      cache_key += "/" + v;
    }
    std::string route_arn = "arn:aws:execute-api:" + ex->api->scope.region + ":" +
                            ex->api->scope.account + ":" + ex->target.api_id + "/" +
                            ex->stage->name + "/" + ex->req.method + UrlDecode(ex->path);
    Json event;
    if (version == "2.0") {
      event = BuildV2Event(MakeProxyRequest(*ex, false), MakeProxyContext(*ex));
      event["type"] = "REQUEST";
      event["routeArn"] = route_arn;
      event["identitySource"] = identity;
      event.erase("body");
      event.erase("isBase64Encoded");
    } else {
      event = BuildV1Event(MakeProxyRequest(*ex, false), MakeProxyContext(*ex), true);
      event["type"] = "REQUEST";
      event["methodArn"] = route_arn;
      std::vector<std::string> ids;
      for (const auto& i : identity) ids.push_back(i.get<std::string>());
      event["identitySource"] = Join(ids, ",");
      event.erase("body");
    }
    bool simple = a.value("EnableSimpleResponses", false);
    int64_t ttl = a.value("AuthorizerResultTtlInSeconds", 0);
    auto apply = [this, ex, simple, route_arn](const Json& result) {
      Json lambda_ctx = result.value("context", Json::object());
      if (simple) {
        if (!result.value("isAuthorized", false)) {
          GatewayError(ex, "FORBIDDEN", 403, "Forbidden");
          return;
        }
      } else {
        int verdict = EvaluatePolicy(result.value("policyDocument", Json()), route_arn);
        if (verdict <= 0) {
          GatewayError(ex, "FORBIDDEN", 403, "Forbidden");
          return;
        }
        ex->principal_id = Stringify(result.value("principalId", Json("")));
      }
      Json authz = Json{{"lambda", lambda_ctx}};
      if (!ex->principal_id.empty()) authz["principalId"] = ex->principal_id;
      ex->authorizer = authz;
      Integrate(ex);
    };
    if (ttl > 0) {
      std::unique_lock lock(auth_mu);
      auto it = auth_cache.find(cache_key);
      if (it != auth_cache.end() && it->second.expires_ms > ctx.clock.NowMillis()) {
        Json cached = it->second.result;
        lock.unlock();
        apply(cached);
        return;
      }
    }
    std::string fn = LambdaArnFromUri(a.value("AuthorizerUri", ""));
    if (fn.empty()) fn = a.value("AuthorizerUri", "");
    InvokeLambda(ex, fn, event.dump(), 10000,
                 [this, ex, apply, ttl, cache_key](Result<std::string> payload, bool function_error) {
                   if (!payload.ok() || function_error) {
                     ex->error_message = "authorizer failed: " +
                                         (payload.ok() ? *payload : payload.error().message);
                     GatewayError(ex, "AUTHORIZER_FAILURE", 500, "Internal Server Error");
                     return;
                   }
                   Json result = ParseJsonOrDiscarded(*payload);
                   if (!result.is_object()) {
                     ex->error_message = "authorizer answered " + *payload;
                     GatewayError(ex, "AUTHORIZER_FAILURE", 500, "Internal Server Error");
                     return;
                   }
                   if (ttl > 0) {
                     std::lock_guard lock(auth_mu);
                     auth_cache[cache_key] = CachedAuth{ctx.clock.NowMillis() + ttl * 1000, result};
                   }
                   apply(result);
                 });
  }

  // ---- integrations ----

  // Invokes a function; `done(payload, function_error)` runs once, on a worker thread, or with
  // an error on timeout.
  void InvokeLambda(const ExchangePtr& ex, const std::string& function_arn, std::string payload,
                    int64_t timeout_ms,
                    std::function<void(Result<std::string>, bool)> done) {
    if (!ctx.clients.operations) {
      done(Error("ServiceUnavailable", "no in-process operation caller"), false);
      return;
    }
    if (function_arn.empty()) {
      done(Error("InvalidIntegration", "the integration URI names no Lambda function"), false);
      return;
    }
    auto once = std::make_shared<std::atomic<bool>>(false);
    auto shared_done = std::make_shared<std::function<void(Result<std::string>, bool)>>(std::move(done));
    aws::InternalCall call;
    call.service = "lambda";
    call.operation = "Invoke";
    call.input = Json{{"FunctionName", function_arn}, {"InvocationType", "RequestResponse"}};
    call.payload = std::move(payload);
    call.account = ex->api->scope.account;
    call.region = ex->api->scope.region;
    call.principal_arn = "apigateway.amazonaws.com";
    call.trace = ex->trace;
    After(timeout_ms, [this, ex, once, shared_done, timeout_ms] {
      if (once->exchange(true)) return;
      Safe(ex, [shared_done, timeout_ms] {
        (*shared_done)(Error("Timeout", "the integration did not answer within " +
                                            std::to_string(timeout_ms) + " ms", 504),
                       false);
      });
    });
    ctx.clients.operations->Call(std::move(call), [this, ex, once, shared_done](aws::OperationResult r) {
      if (once->exchange(true)) return;
      auto result = std::make_shared<aws::OperationResult>(std::move(r));
      Submit(ex, [shared_done, result] {
        if (!result->ok()) {
          (*shared_done)(std::move(*result).error(), false);
          return;
        }
        aws::OperationOutput out = std::move(*result).value();
        bool fe = out.body.contains("FunctionError");
        (*shared_done)(out.payload.value_or(""), fe);
      });
    });
  }

  void Integrate(const ExchangePtr& ex) {
    const Json& i = ex->integration;
    if (!i.is_object()) {
      InternalError(ex, "no integration for " + ex->req.method + " " + ex->resource_path);
      return;
    }
    if (ex->api->rest) {
      if (!ValidateRequest(ex)) return;
      std::string type = i.value("type", "");
      if (type == "MOCK") return Mock(ex);
      if (type == "AWS_PROXY") return LambdaProxy(ex, "1.0", kRestTimeoutMs);
      if (type == "HTTP_PROXY") return HttpCall(ex, /*proxy=*/true);
      if (type == "HTTP") return HttpCall(ex, /*proxy=*/false);
      if (type == "AWS") return AwsIntegration(ex);
      return InternalError(ex, "unsupported integration type " + type);
    }
    std::string type = i.value("IntegrationType", "");
    int64_t timeout = i.value("TimeoutInMillis", int64_t{30000});
    if (type == "AWS_PROXY") {
      if (i.contains("IntegrationSubtype")) return AwsSubtype(ex);
      return LambdaProxy(ex, i.value("PayloadFormatVersion", "1.0"), timeout);
    }
    if (type == "HTTP_PROXY") return HttpCall(ex, true);
    return InternalError(ex, "unsupported HTTP API integration type " + type);
  }

  // REST request validators: required parameters and the body against the method's model.
  // Answers 400 and returns false when the request is refused.
  bool ValidateRequest(const ExchangePtr& ex) {
    std::string vid = ex->method.value("requestValidatorId", "");
    const Json& validators = Member(ex->stage->snapshot, "validators");
    if (vid.empty() || !validators.contains(vid)) return true;
    const Json& v = validators[vid];
    if (v.value("validateRequestParameters", false)) {
      std::vector<std::string> missing;
      for (const auto& [k, required] : Member(ex->method, "requestParameters").items()) {
        if (!required.is_boolean() || !required.get<bool>()) continue;
        std::string value;
        if (StartsWith(k, "method.request.path.")) {
          std::string n = k.substr(20);
          if (ex->path_params.contains(n)) value = ex->path_params[n].get<std::string>();
        } else {
          value = IdentityValue(*ex, k);
          if (value.empty() && StartsWith(k, "method.request.querystring.")) {
            for (auto& [qk, qv] : ParseQuery(ex->req.query, false)) {
              if (qk == k.substr(27)) value = "present";
            }
          }
        }
        if (value.empty()) missing.push_back(k.substr(k.rfind('.') + 1));
      }
      if (!missing.empty()) {
        GatewayError(ex, "BAD_REQUEST_PARAMETERS", 400,
                     "Missing required request parameters: [" + Join(missing, ", ") + "]");
        return false;
      }
    }
    if (v.value("validateRequestBody", false)) {
      std::string ct = ToLower(Trim(std::string(ex->req.headers.GetOr("content-type", "application/json"))
                                        .substr(0, std::string(ex->req.headers.GetOr("content-type", "application/json")).find(';'))));
      const Json& models = Member(ex->method, "requestModels");
      std::string model = models.contains(ct) ? Stringify(models[ct])
                          : models.contains("$default") ? Stringify(models["$default"]) : "";
      const Json& defs = Member(ex->stage->snapshot, "models");
      if (!model.empty() && model != "Empty" && defs.contains(model)) {
        Json schema = ParseJsonOrDiscarded(defs[model].value("schema", "{}"));
        Json body = ParseJsonOrDiscarded(ex->req.body);
        if (body.is_discarded() || !SchemaAccepts(schema, body)) {
          GatewayError(ex, "BAD_REQUEST_BODY", 400, "Invalid request body");
          return false;
        }
      }
    }
    return true;
  }

  std::string SubstituteStageVariables(const Exchange& ex, std::string s) const {
    Json sv = ex.api->rest ? ex.stage->stage.value("variables", Json::object())
                           : ex.stage->stage.value("StageVariables", Json::object());
    for (const auto& [k, v] : sv.items()) {
      s = ReplaceAll(s, "${stageVariables." + k + "}", Stringify(v));
      s = ReplaceAll(s, "$stageVariables." + k, Stringify(v));
    }
    return s;
  }

  void LambdaProxy(const ExchangePtr& ex, const std::string& version, int64_t timeout_ms) {
    const Json& i = ex->integration;
    bool rest_api = ex->api->rest;
    if (rest_api && i.value("httpMethod", "POST") != "POST") {
      return InternalError(ex, "Lambda proxy integrations must use POST to invoke the function, "
                               "not " + i.value("httpMethod", ""));
    }
    std::string uri = SubstituteStageVariables(*ex, i.value(rest_api ? "uri" : "IntegrationUri", ""));
    std::string fn = LambdaArnFromUri(uri);
    if (fn.empty()) fn = uri;  // HTTP APIs take the function ARN itself
    const Json binary_types = rest_api ? ex->stage->snapshot.value("binaryMediaTypes", Json::array())
                                       : Json::array();
    bool binary_in;
    if (rest_api) {
      binary_in = IsBinaryType(ex->req.headers.GetOr("content-type"), binary_types);
    } else {
      std::string ct = ToLower(ex->req.headers.GetOr("content-type"));
      bool textual = ct.empty() || StartsWith(ct, "text/") || ct.find("json") != std::string::npos ||
                     ct.find("xml") != std::string::npos || ct.find("javascript") != std::string::npos ||
                     StartsWith(ct, "application/x-www-form-urlencoded");
      binary_in = !ex->req.body.empty() && (!textual || !IsValidUtf8(ex->req.body));
    }
    ProxyRequest pr = MakeProxyRequest(*ex, binary_in);
    ProxyContext pc = MakeProxyContext(*ex);
    Json event = (!rest_api && version == "2.0") ? BuildV2Event(pr, pc)
                                                 : BuildV1Event(pr, pc, !rest_api);
    bool decode_out = rest_api ? IsBinaryType(ex->req.headers.GetOr("accept"), binary_types) : true;
    int64_t started = ctx.clock.MonotonicNanos();
    InvokeLambda(ex, fn, DumpJson(event), timeout_ms,
                 [this, ex, version, rest_api, decode_out, started](Result<std::string> payload,
                                                                    bool function_error) {
                   ex->integration_latency_s =
                       static_cast<double>(ctx.clock.MonotonicNanos() - started) / 1e9;
                   if (!payload.ok()) {
                     const Error& e = payload.error();
                     if (e.code == "Timeout") {
                       ex->error_message = e.message;
                       if (rest_api) {
                         GatewayError(ex, "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out");
                       } else {
                         GatewayError(ex, "INTEGRATION_TIMEOUT", 503, "Service Unavailable");
                       }
                       return;
                     }
                     return InternalError(ex, "Lambda invoke failed: " + e.code + ": " + e.message);
                   }
                   ex->integration_status = 200;
                   if (function_error) {
                     return InternalError(ex, "the function failed: " + payload->substr(0, 512),
                                          rest_api ? 502 : 500);
                   }
                   auto mapped = (!rest_api && version == "2.0")
                                     ? ParseV2Response(*payload)
                                     : ParseV1Response(*payload, decode_out);
                   if (!mapped.ok()) {
                     return InternalError(ex, mapped.error().message + " (" + payload->substr(0, 256) + ")",
                                          rest_api ? 502 : 500);
                   }
                   HttpResponse resp;
                   resp.status = mapped->status;
                   resp.headers = std::move(mapped->headers);
                   resp.body = std::move(mapped->body);
                   Finish(ex, std::move(resp));
                 });
  }

  // Evaluates a parameter mapping source ("method.request.path.x", "'static'", "context.x",
  // "stageVariables.x", v2 "$request.header.x"...).
  std::optional<std::string> MapSource(const Exchange& ex, const std::string& src) const {
    if (src.size() >= 2 && src.front() == '\'' && src.back() == '\'') return src.substr(1, src.size() - 2);
    if (StartsWith(src, "method.request.path.")) {
      std::string n = src.substr(20);
      if (ex.path_params.contains(n)) return ex.path_params[n].get<std::string>();
      return std::nullopt;
    }
    if (StartsWith(src, "$request.path.")) {
      std::string n = src.substr(14);
      if (ex.path_params.contains(n)) return ex.path_params[n].get<std::string>();
      return std::nullopt;
    }
    if (StartsWith(src, "method.request.header.") || StartsWith(src, "method.request.querystring.") ||
        StartsWith(src, "$request.header.") || StartsWith(src, "$request.querystring.") ||
        StartsWith(src, "stageVariables.") || StartsWith(src, "context.") ||
        StartsWith(src, "$context.") || StartsWith(src, "$stageVariables.")) {
      std::string v = IdentityValue(ex, src);
      if (v.empty()) return std::nullopt;
      return v;
    }
    if (!src.empty() && src[0] != '$' && src.find('.') == std::string::npos) return src;  // v2 static
    return std::nullopt;
  }

  void HttpCall(const ExchangePtr& ex, bool proxy) {
    const Json& i = ex->integration;
    bool rest_api = ex->api->rest;
    std::string uri = SubstituteStageVariables(*ex, i.value(rest_api ? "uri" : "IntegrationUri", ""));
    std::string method = i.value(rest_api ? "httpMethod" : "IntegrationMethod", "ANY");
    if (method == "ANY") method = ex->req.method;
    // Mappings.
    Json mappings = i.value(rest_api ? "requestParameters" : "RequestParameters", Json::object());
    std::map<std::string, std::string> path_vars;
    for (const auto& [k, v] : ex->path_params.items()) path_vars[k] = v.get<std::string>();
    Headers headers;
    std::vector<std::pair<std::string, std::string>> extra_query;
    std::string raw_query = ex->req.query;
    std::string path_override;
    if (proxy) {
      for (const auto& [n, v] : ex->req.headers) {
        if (!HopByHop(n)) headers.Add(n, v);
      }
    }
    for (const auto& [target, source] : mappings.items()) {
      if (!source.is_string()) continue;
      auto value = MapSource(*ex, source.get<std::string>());
      std::string t = target;
      if (StartsWith(t, "integration.request.header.")) {
        if (value) headers.Set(t.substr(27), *value);
      } else if (StartsWith(t, "integration.request.querystring.")) {
        if (value) extra_query.emplace_back(t.substr(32), *value);
      } else if (StartsWith(t, "integration.request.path.")) {
        if (value) path_vars[t.substr(25)] = *value;
      } else if (StartsWith(t, "append:header.") || StartsWith(t, "overwrite:header.")) {
        if (value) headers.Set(t.substr(t.find('.') + 1), *value);
      } else if (StartsWith(t, "remove:header.")) {
        headers.Remove(t.substr(14));
      } else if (StartsWith(t, "append:querystring.") || StartsWith(t, "overwrite:querystring.")) {
        if (value) extra_query.emplace_back(t.substr(t.find('.') + 1), *value);
      } else if (t == "overwrite:path") {
        if (value) path_override = *value;
      }
    }
    for (const auto& [k, v] : headers) {
      if (k.find_first_of("\r\n") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
        return GatewayError(ex, "BAD_REQUEST_PARAMETERS", 400, "Invalid request parameters");
      }
    }
    for (const auto& [k, v] : path_vars) {
      bool greedy = uri.find("{" + k + "+}") != std::string::npos;
      uri = ReplaceAll(uri, "{" + k + "+}", UrlEncode(v, true));
      uri = ReplaceAll(uri, "{" + k + "}", greedy ? UrlEncode(v, true) : UrlEncode(v, k == "proxy"));
    }
    if (!path_override.empty()) {
      auto parsed = ParseHttpUrl(uri);
      if (parsed.ok()) {
        uri = uri.substr(0, uri.find(parsed->target)) + path_override;
      }
    }
    if (!rest_api && proxy && i.value("IntegrationUri", "").find('{') == std::string::npos &&
        ex->resource_path != "$default" && false) {
      // (HTTP APIs send the URI as configured; path variables fill {name} placeholders.)
    }
    std::string query;
    if (proxy) query = raw_query;
    for (const auto& [k, v] : extra_query) {
      if (!query.empty()) query += "&";
      query += UrlEncode(k) + "=" + UrlEncode(v);
    }
    if (!query.empty()) uri += (uri.find('?') == std::string::npos ? "?" : "&") + query;
    if (!client) return InternalError(ex, "no HTTP client");
    ClientRequest creq;
    creq.method = method;
    creq.url = uri;
    creq.headers = std::move(headers);
    creq.headers.Set("X-Amzn-Trace-Id", ex->trace.DownstreamHeader());
    if (proxy) {
      creq.headers.Set("X-Forwarded-For", ex->req.remote_address);
      creq.body = ex->req.body;
    } else {
      auto body = RequestTemplateBody(*ex);
      if (!body.ok()) return InternalError(ex, body.error().message);
      creq.body = *body;
      if (!creq.headers.Has("content-type")) creq.headers.Set("Content-Type", "application/json");
    }
    creq.timeout_ms = i.value(rest_api ? "timeoutInMillis" : "TimeoutInMillis", int64_t{29000});
    int64_t started = ctx.clock.MonotonicNanos();
    client->Fetch(std::move(creq), [this, ex, proxy, started](Result<HttpResponse> r) {
      auto shared = std::make_shared<Result<HttpResponse>>(std::move(r));
      Submit(ex, [this, ex, proxy, started, shared]() mutable {
        Result<HttpResponse> r = std::move(*shared);
        ex->integration_latency_s = static_cast<double>(ctx.clock.MonotonicNanos() - started) / 1e9;
        bool rest_api = ex->api->rest;
        if (!r.ok()) {
          ex->error_message = "HTTP integration: " + r.error().code + ": " + r.error().message;
          if (r.error().code == "Timeout") {
            return rest_api ? GatewayError(ex, "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out")
                            : GatewayError(ex, "INTEGRATION_TIMEOUT", 504, "Gateway Timeout");
          }
          return InternalError(ex, ex->error_message, rest_api ? 500 : 500);
        }
        HttpResponse up = std::move(r).value();
        ex->integration_status = up.status;
        if (proxy) {
          HttpResponse resp;
          resp.status = up.status;
          for (const auto& [n, v] : up.headers) {
            if (!HopByHop(n)) resp.headers.Add(n, v);
          }
          resp.body = std::move(up.body);
          return Finish(ex, std::move(resp));
        }
        IntegrationResponse(ex, up.status, std::move(up.headers), std::move(up.body));
      });
    });
  }

  Result<std::string> RequestTemplateBody(const Exchange& ex) const {
    const Json& templates = ex.integration.value("requestTemplates", Json::object());
    std::string ct = ToLower(Trim(std::string(ex.req.headers.GetOr("content-type", "application/json")).substr(
        0, std::string(ex.req.headers.GetOr("content-type", "application/json")).find(';'))));
    if (ct.empty()) ct = "application/json";
    const Json* tpl = nullptr;
    if (templates.contains(ct)) {
      tpl = &templates[ct];
    } else if (!templates.empty()) {
      std::string pass = ex.integration.value("passthroughBehavior", "WHEN_NO_MATCH");
      if (pass == "NEVER") {
        return Error("UnsupportedMediaType", "Unsupported Media Type", 415);
      }
      if (pass == "WHEN_NO_TEMPLATES") return Error("UnsupportedMediaType", "Unsupported Media Type", 415);
    }
    if (!tpl || !tpl->is_string()) return ex.req.body;  // passthrough
    Json vars = ContextVars(ex, 0, 0, 0);
    Json sv = ex.stage->stage.value("variables", Json::object());
    TemplateInputs in{&vars, &sv, ex.req.body};
    return RenderTemplate(tpl->get<std::string>(), in);
  }

  void Mock(const ExchangePtr& ex) {
    auto body = RequestTemplateBody(*ex);
    if (!body.ok()) {
      if (body.error().http_status == 415) {
        return GatewayError(ex, "UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported Media Type");
      }
      return InternalError(ex, body.error().message);
    }
    int status = 200;
    Json j = ParseJsonOrDiscarded(*body);
    if (j.is_object() && j.contains("statusCode")) {
      if (j["statusCode"].is_number_integer()) {
        status = j["statusCode"].get<int>();
      } else if (j["statusCode"].is_string()) {
        if (auto n = ParseInt64(j["statusCode"].get<std::string>())) status = static_cast<int>(*n);
      }
    }
    ex->integration_status = status;
    ex->integration_latency_s = 0;
    IntegrationResponse(ex, status, Headers(), "");
  }

  // Non-proxy integrations: picks the integration response by selectionPattern (against the
  // status code), then maps status, headers and body.
  void IntegrationResponse(const ExchangePtr& ex, int status, Headers up_headers,
                           std::string up_body, const std::string& error_message = "") {
    const Json& responses = ex->integration.value("integrationResponses", Json::object());
    const Json* chosen = nullptr;
    const Json* fallback = nullptr;
    std::string subject = error_message.empty() ? std::to_string(status) : error_message;
    for (const auto& [code, ir] : responses.items()) {
      std::string pattern = ir.value("selectionPattern", "");
      if (pattern.empty()) {
        if (!fallback) fallback = &ir;
        continue;
      }
      RE2 re(pattern);
      if (re.ok() && RE2::FullMatch(subject, re)) {
        chosen = &ir;
        break;
      }
    }
    if (!chosen) chosen = fallback;
    if (!chosen) {
      return InternalError(ex, "Execution failed due to configuration error: No match for output "
                               "mapping and no default output mapping specified");
    }
    HttpResponse resp;
    auto code = ParseInt64(chosen->value("statusCode", "200"));
    resp.status = code ? static_cast<int>(*code) : 200;
    resp.headers.Set("Content-Type", "application/json");
    const Json& templates = chosen->value("responseTemplates", Json::object());
    const Json* tpl = nullptr;
    if (templates.contains("application/json")) {
      tpl = &templates["application/json"];
    } else if (!templates.empty()) {
      tpl = &templates.begin().value();
      resp.headers.Set("Content-Type", templates.begin().key());
    }
    if (tpl && tpl->is_string() && !tpl->get<std::string>().empty()) {
      Json vars = ContextVars(*ex, resp.status, 0, 0);
      Json sv = ex->stage->stage.value("variables", Json::object());
      TemplateInputs in{&vars, &sv, up_body};
      auto rendered = RenderTemplate(tpl->get<std::string>(), in);
      if (!rendered.ok()) return InternalError(ex, rendered.error().message);
      resp.body = std::move(rendered).value();
    } else {
      resp.body = std::move(up_body);
      if (auto ct = up_headers.Get("content-type")) resp.headers.Set("Content-Type", std::string(*ct));
    }
    for (const auto& [k, v] : Member(*chosen, "responseParameters").items()) {
      if (!StartsWith(k, "method.response.header.") || !v.is_string()) continue;
      std::string src = v.get<std::string>();
      std::optional<std::string> value;
      if (src.size() >= 2 && src.front() == '\'' && src.back() == '\'') {
        value = src.substr(1, src.size() - 2);
      } else if (StartsWith(src, "integration.response.header.")) {
        if (auto h = up_headers.Get(src.substr(28))) value = std::string(*h);
      } else if (src == "integration.response.body") {
        value = up_body;
      } else if (StartsWith(src, "context.") || StartsWith(src, "stageVariables.")) {
        value = IdentityValue(*ex, src);
      }
      if (!value || value->find_first_of("\r\n") != std::string::npos) continue;
      resp.headers.Set(k.substr(23), *value);
    }
    Finish(ex, std::move(resp));
  }

  // REST "AWS" integrations: Lambda (non-proxy) and service actions ("action/<Operation>")
  // with the (passthrough) request body as the operation's input.
  void AwsIntegration(const ExchangePtr& ex) {
    std::string uri = SubstituteStageVariables(*ex, ex->integration.value("uri", ""));
    auto body = RequestTemplateBody(*ex);
    if (!body.ok()) return InternalError(ex, body.error().message);
    int64_t started = ctx.clock.MonotonicNanos();
    std::string fn = LambdaArnFromUri(uri);
    if (!fn.empty()) {
      InvokeLambda(ex, fn, *body, kRestTimeoutMs,
                   [this, ex, started](Result<std::string> payload, bool function_error) {
                     ex->integration_latency_s =
                         static_cast<double>(ctx.clock.MonotonicNanos() - started) / 1e9;
                     if (!payload.ok()) {
                       if (payload.error().code == "Timeout") {
                         return GatewayError(ex, "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out");
                       }
                       return InternalError(ex, "Lambda invoke failed: " + payload.error().message);
                     }
                     std::string msg;
                     if (function_error) {
                       Json e = ParseJsonOrDiscarded(*payload);
                       msg = e.is_object() ? e.value("errorMessage", "error") : "error";
                     }
                     IntegrationResponse(ex, 200, Headers(), *payload, msg);
                   });
      return;
    }
    // arn:aws:apigateway:<region>:<service>:action/<Operation>
    auto parts = Split(uri, ':');
    auto action = uri.find(":action/");
    if (parts.size() < 6 || action == std::string::npos) {
      return InternalError(ex, "AWS integration URI " + uri +
                               " is not supported by stratus (only Lambda and action/<Operation> "
                               "forms; path forms need the Velocity engine)");
    }
    std::string service = parts[4];
    auto dot = service.find('.');
    if (dot != std::string::npos) service = service.substr(dot + 1);
    if (service == "states") service = "stepfunctions";
    std::string op = uri.substr(action + 8);
    op = op.substr(0, op.find_first_of("&?"));
    Json input = ParseJsonOrDiscarded(*body);
    if (!input.is_object()) input = Json::object();
    CallService(ex, service, op, std::move(input), started, /*proxy_v2=*/false);
  }

  void CallService(const ExchangePtr& ex, const std::string& service, const std::string& op,
                   Json input, int64_t started, bool v2) {
    aws::InternalCall call;
    call.service = service;
    call.operation = op;
    call.input = std::move(input);
    call.account = ex->api->scope.account;
    call.region = ex->api->scope.region;
    call.principal_arn = ex->integration.value(v2 ? "CredentialsArn" : "credentials", "apigateway.amazonaws.com");
    call.trace = ex->trace;
    ctx.clients.operations->Call(std::move(call), [this, ex, started, v2](aws::OperationResult r) {
      auto shared = std::make_shared<aws::OperationResult>(std::move(r));
      Submit(ex, [this, ex, started, v2, shared]() mutable {
        aws::OperationResult r = std::move(*shared);
        ex->integration_latency_s = static_cast<double>(ctx.clock.MonotonicNanos() - started) / 1e9;
        int status = r.ok() ? 200 : r.error().http_status;
        Json body = r.ok() ? r.value().body
                           : Json{{"__type", r.error().code}, {"message", r.error().message}};
        ex->integration_status = status;
        if (v2) {
          HttpResponse resp;
          resp.status = status;
          resp.headers.Set("Content-Type", "application/json");
          resp.body = DumpJson(body);
          return Finish(ex, std::move(resp));
        }
        IntegrationResponse(ex, status, Headers(), DumpJson(body));
      });
    });
  }

  // HTTP API first-class AWS integrations (IntegrationSubtype), parameters mapped from the
  // request ("$request.body.name" etc.).
  void AwsSubtype(const ExchangePtr& ex) {
    static const std::map<std::string, std::pair<std::string, std::string>, std::less<>> kSubtypes = {
        {"SQS-SendMessage", {"sqs", "SendMessage"}},
        {"SQS-ReceiveMessage", {"sqs", "ReceiveMessage"}},
        {"SQS-DeleteMessage", {"sqs", "DeleteMessage"}},
        {"SQS-PurgeQueue", {"sqs", "PurgeQueue"}},
        {"StepFunctions-StartExecution", {"stepfunctions", "StartExecution"}},
        {"StepFunctions-StartSyncExecution", {"stepfunctions", "StartSyncExecution"}},
        {"StepFunctions-StopExecution", {"stepfunctions", "StopExecution"}},
        {"Lambda-Invoke", {"lambda", "Invoke"}}};
    std::string subtype = ex->integration.value("IntegrationSubtype", "");
    auto it = kSubtypes.find(subtype);
    if (it == kSubtypes.end()) {
      return InternalError(ex, "integration subtype " + subtype + " is not supported by stratus");
    }
    Json body = ParseJsonOrDiscarded(ex->req.body);
    Json input = Json::object();
    for (const auto& [k, src0] : Member(ex->integration, "RequestParameters").items()) {
      std::string src = src0.get<std::string>();
      std::string value;
      if (StartsWith(src, "$request.body.")) {
        const Json* cur = &body;
        for (const auto& p : Split(src.substr(14), '.')) {
          if (!cur->is_object() || !cur->contains(p)) {
            cur = nullptr;
            break;
          }
          cur = &(*cur)[p];
        }
        if (!cur) continue;
        value = Stringify(*cur);
      } else if (src == "$request.body") {
        value = ex->req.body;
      } else {
        auto v = MapSource(*ex, src);
        if (!v) continue;
        value = *v;
      }
      input[k] = value;
    }
    int64_t started = ctx.clock.MonotonicNanos();
    CallService(ex, it->second.first, it->second.second, std::move(input), started, true);
  }
};

// ================================================================================================

DataPlane::DataPlane(aws::ServiceContext& context) : impl_(std::make_unique<Impl>(context)) {}

DataPlane::~DataPlane() { Stop(); }

void DataPlane::Attach(RestApis* rest, HttpApis* http) {
  impl_->rest = rest;
  impl_->http = http;
}

Status DataPlane::Start() {
  Impl& d = *impl_;
  d.client = std::make_unique<HttpClient>();
  HttpClient* client = d.client.get();
  d.jwks = std::make_unique<JwksCache>(
      [client](const std::string& url, int64_t timeout_ms) -> Result<std::string> {
        ClientRequest req;
        req.url = url;
        req.timeout_ms = timeout_ms;
        req.max_response_bytes = 1 << 20;
        auto r = client->FetchAndWait(std::move(req));
        if (!r.ok()) return std::move(r).error();
        if (r->status < 200 || r->status >= 300) {
          return Error("HttpError", url + " answered " + std::to_string(r->status));
        }
        return std::move(r->body);
      },
      d.ctx.clock);
  {
    std::lock_guard lock(d.timer_mu);
    d.stopping = false;
  }
  d.timer_thread = std::thread([&d] { d.TimerLoop(); });
  std::string url = d.ctx.external_url();
  auto parsed = ParseHttpUrl(url);
  if (parsed.ok() && d.http) {
    d.http->SetEndpointTemplate("http://{id}.execute-api.localhost:" + std::to_string(parsed->port));
  }
  return Status::Ok();
}

void DataPlane::Stop() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.timer_mu);
    d.stopping = true;
    d.timers.clear();
  }
  d.timer_cv.notify_all();
  if (d.timer_thread.joinable()) d.timer_thread.join();
  d.client.reset();
}

bool DataPlane::Matches(const HttpRequest& request) const {
  std::string_view path = request.path;
  if (StartsWith(path, "/restapis/")) return path.find(kUserRequest) != std::string_view::npos;
  if (StartsWith(path, kAwsPathPrefix)) return true;
  std::string_view host = request.Host();
  auto pos = host.find(".execute-api.");
  if (pos == std::string_view::npos || pos == 0) return false;
  for (size_t i = 0; i < pos; ++i) {
    if (!IsIdChar(host[i])) return false;
  }
  return true;
}

void DataPlane::Handle(HttpRequest request, Responder responder) {
  impl_->Start(std::move(request), std::move(responder));
}

void DataPlane::Invalidate(const std::string& api_id) {
  std::unique_lock lock(impl_->api_mu);
  if (api_id.empty()) {
    impl_->keys.clear();
  } else {
    impl_->apis.erase(api_id);
  }
}

void DataPlane::FlushAuthorizerCache(const std::string& api_id) {
  std::lock_guard lock(impl_->auth_mu);
  for (auto it = impl_->auth_cache.begin(); it != impl_->auth_cache.end();) {
    if (StartsWith(it->first, api_id + "/")) {
      it = impl_->auth_cache.erase(it);
    } else {
      ++it;
    }
  }
}

Result<Json> DataPlane::Usage(const Scope& scope, const Json& in) {
  std::string plan_id = in.value("usagePlanId", "");
  STRATUS_ASSIGN_OR_RETURN(auto raw, impl_->ctx.store.Get(keys::UsagePlan(scope, plan_id)));
  if (!raw) return NotFound("Invalid Usage Plan ID specified");
  Json plan = ParseJsonOrDiscarded(*raw);
  std::string start = in.value("startDate", "");
  std::string end = in.value("endDate", "");
  auto parse_day = [](const std::string& s) -> std::optional<int64_t> {
    auto t = ParseIso8601(s + "T00:00:00Z");
    if (!t) return std::nullopt;
    return static_cast<int64_t>(*t) / 86400;
  };
  auto from = parse_day(start);
  auto to = parse_day(end);
  if (!from || !to || *to < *from) return BadRequest("Invalid start date or end date");
  if (*to - *from > 90) return BadRequest("The usage data period cannot exceed 90 days");
  int64_t limit = plan.contains("quota") ? plan["quota"].value("limit", int64_t{0}) : 0;
  std::string period = plan.contains("quota") ? plan["quota"].value("period", "DAY") : "DAY";
  Json items = Json::object();
  std::string only = in.value("keyId", "");
  for (const auto& kid : plan.value("keys", Json::array())) {
    std::string k = kid.get<std::string>();
    if (!only.empty() && k != only) continue;
    items[k] = impl_->throttler.DailyUsage("k/" + plan_id + "/" + k, *from, *to, limit, period);
  }
  return Json{{"usagePlanId", plan_id}, {"startDate", start}, {"endDate", end}, {"items", items}};
}

}  // namespace stratus::services::apigateway
