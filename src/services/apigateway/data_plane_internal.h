#pragma once
// The data plane's private parts, shared by its source files: data_plane.cc (timers, cached
// definitions, answering, routing, the public class), data_plane_auth.cc (authorizers, API keys)
// and data_plane_integrations.cc (Lambda, HTTP, MOCK and AWS integrations). Not a module face:
// include only from those files.
#include "services/apigateway/data_plane.h"

#include <atomic>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
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
#include "services/apigateway/iam_auth.h"
#include "services/apigateway/jwt.h"
#include "services/apigateway/proxy_events.h"
#include "services/apigateway/request_validation.h"
#include "services/apigateway/rest_apis.h"
#include "services/apigateway/router.h"
#include "services/apigateway/templates.h"
#include "services/apigateway/throttle.h"
#include "store/store.h"
#include "trace/recorder.h"

namespace stratus::services::apigateway {



inline constexpr int64_t kCacheTtlMs = 2000;            // re-read definitions changed by other nodes
inline constexpr size_t kMaxPayloadBytes = 10u << 20;   // API Gateway's 10 MB payload limit
inline constexpr int64_t kRestTimeoutMs = 29000;
inline constexpr int64_t kMaxAuthorizerTtlS = 3600;
inline constexpr std::string_view kUserRequest = "/_user_request_";
inline constexpr std::string_view kAwsPathPrefix = "/_aws/execute-api/";

// ---- Request target ---------------------------------------------------------------------------

struct Target {
  std::string api_id;
  std::string stage;       // empty: the first path segment names it (host form)
  std::string path;        // raw path after the stage (or the whole path for host form)
  std::string domain;
};

inline bool IsIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

inline std::optional<Target> ParseTarget(const HttpRequest& r) {
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

struct StageRt;

// An HTTP API route with what every request through it reads from the deployment worked out
// once when the API is loaded (not per request): its record, its integration, its throttle and
// the Lambda function its proxy integration names. Immutable after CompileHttpRoute.
struct HttpRouteRt {
  Json record;                     // the route record
  std::string route_key;           // "GET /items/{id}", "$default"
  std::string route_id;
  std::string authorization_type;  // "NONE" when unset
  const Json* integration = nullptr;  // inside the stage's snapshot; null: Target names none
  std::string integration_type;    // "" when unset
  bool has_subtype = false;        // IntegrationSubtype present (an AWS service integration)
  std::string payload_version;     // PayloadFormatVersion, "1.0" when unset
  int64_t timeout_ms = 30000;      // TimeoutInMillis
  std::string lambda_function;     // AWS_PROXY: the function its IntegrationUri names
  bool needs_worker = true;        // an authorizer or a blocking integration
  // Route throttling: the route's own settings, else the stage's defaults, else none.
  bool throttled = false;
  double throttle_rate = 0;
  int64_t throttle_burst = 0;
  std::string throttle_key;
};

struct StageRt {
  std::string name;
  Json stage;          // the stage record
  std::string deployment_id;
  Json snapshot;       // what the deployment serves
  RouteTrie trie;      // REST: ids are resource ids; HTTP: ids are template paths
  // HTTP APIs: template path -> METHOD -> route.
  std::map<std::string, std::map<std::string, HttpRouteRt>> http_routes;
  std::optional<HttpRouteRt> default_route;  // HTTP $default route
  const Json* cors = nullptr;                // HTTP: the deployment's CORS configuration, if any
  std::shared_ptr<const ModelSet> models;  // REST with request validators: parsed models
};

struct LoadedApi {
  bool rest = true;
  std::string id;
  Scope scope;
  Json api;  // the API's own record (RestApi / Api)
  std::map<std::string, std::shared_ptr<StageRt>> stages;
  int64_t loaded_ms = 0;
};

inline std::shared_ptr<LoadedApi> CompileRest(const std::string& id, const Scope& s, const Json& doc) {
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
    if (!Member(rt->snapshot, "validators").empty()) {
      rt->models = std::make_shared<const ModelSet>(Member(rt->snapshot, "models"), id);
    }
    for (const auto& [rid, r] : rt->snapshot["resources"].items()) {
      rt->trie.Add(r.value("path", "/"), rid);
    }
    a->stages[name] = rt;
  }
  return a;
}

HttpRouteRt CompileHttpRoute(const StageRt& st, const std::string& api_id, const Json& route);

inline std::shared_ptr<LoadedApi> CompileHttp(const std::string& id, const Scope& s, const Json& doc) {
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
    if (auto c = rt->snapshot.find("cors"); c != rt->snapshot.end()) rt->cors = &*c;
    for (const auto& [rid, r] : rt->snapshot["routes"].items()) {
      std::string key = r.value("RouteKey", "");
      if (key == "$default") {
        rt->default_route = CompileHttpRoute(*rt, id, r);
        continue;
      }
      auto sp = key.find(' ');
      std::string method = key.substr(0, sp);
      std::string path = key.substr(sp + 1);
      rt->http_routes[path].insert_or_assign(method, CompileHttpRoute(*rt, id, r));
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

// The null value the exchange's record pointers hold before a route matched.
inline const Json& NullJson() {
  static const Json kNull;
  return kNull;
}

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
  // Matched route: records inside stage->snapshot (kept alive by `stage`), never copied.
  const Json* method = &NullJson();       // REST method record or HTTP route record
  const Json* integration = &NullJson();  // REST methodIntegration or HTTP integration record
  const HttpRouteRt* http_route = nullptr;  // HTTP: the matched route (kept alive by `stage`)
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
  std::string validation_error;  // $context.error.validationErrorString
  std::string origin;  // CORS
};
using ExchangePtr = std::shared_ptr<Exchange>;

// An integration timeout's handle: cancelled when the integration answers first.
struct TimerId {
  int64_t due_ns = 0;
  uint64_t seq = 0;
};

inline std::string ErrorTypeHeader(const std::string& type) {
  static const std::map<std::string, std::string, std::less<>> k = {
      {"MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException"},
      {"UNAUTHORIZED", "UnauthorizedException"},
      {"ACCESS_DENIED", "AccessDeniedException"},
      {"INVALID_SIGNATURE", "InvalidSignatureException"},
      {"EXPIRED_TOKEN", "ExpiredTokenException"},
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

inline bool GlobMatch(std::string_view pattern, std::string_view text) {
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
inline int EvaluatePolicy(const Json& policy, const std::string& arn) {
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

inline std::string Stringify(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// `s` with ${stageVariables.NAME} and $stageVariables.NAME replaced by the stage's variables.
std::string ReplaceStageVariables(const Json& variables, std::string s);

inline std::string LogGroupFromArn(const std::string& arn) {
  auto pos = arn.find(":log-group:");
  if (pos == std::string::npos) return {};
  std::string g = arn.substr(pos + 11);
  if (EndsWith(g, ":*")) g.resize(g.size() - 2);
  return g;
}

inline bool HopByHop(std::string_view name) {
  static constexpr std::string_view k[] = {"connection", "keep-alive", "proxy-authenticate",
                                           "proxy-authorization", "te", "trailer",
                                           "transfer-encoding", "upgrade", "content-length",
                                           "host", "expect"};
  for (auto h : k) {
    if (IEquals(h, name)) return true;
  }
  return false;
}

// ================================================================================================

struct DataPlane::Impl {
  aws::ServiceContext& ctx;
  RestApis* rest = nullptr;
  HttpApis* http = nullptr;
  Throttler throttler;
  std::unique_ptr<HttpClient> client;
  std::unique_ptr<JwksCache> jwks;
  VerifiedJwtCache verified_jwts;  // thread-safe; by "apiId/authorizerId" and token

  mutable std::shared_mutex api_mu;  // guards apis, keys and the generations
  std::unordered_map<std::string, std::shared_ptr<const LoadedApi>> apis;
  std::unordered_map<std::string, std::shared_ptr<const KeyIndex>> keys;  // by "acct/region"
  // Bumped by every Invalidate of an API (apis_generation) or of the keys (keys_generation). A
  // load caches what it read only when no change was invalidated meanwhile: a change committed
  // after its store read would otherwise be hidden for kCacheTtlMs by the copy it read before.
  uint64_t apis_generation = 0;
  uint64_t keys_generation = 0;

  std::mutex auth_mu;  // guards auth_cache
  struct CachedAuth {
    int64_t expires_ms = 0;
    Json result;
  };
  std::unordered_map<std::string, CachedAuth> auth_cache;

  ResourcePolicyCache resource_policies;  // thread-safe; REST resource policies (iam_auth.h)

  // Integration timeouts: one thread sleeping until the earliest deadline. A timer is
  // cancelled when its integration answers, so the map holds only calls in flight; the thread
  // is woken only when a new deadline is earlier than the one it sleeps until (a 30 s timeout
  // behind others wakes nobody).
  std::mutex timer_mu;  // guards timers, timer_seq, timer_wake_ns, stopping
  std::condition_variable timer_cv;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> timers;  // (due ns, seq) -> action
  uint64_t timer_seq = 0;
  int64_t timer_wake_ns = std::numeric_limits<int64_t>::max();  // when the thread wakes next
  bool stopping = false;
  std::thread timer_thread;

  explicit Impl(aws::ServiceContext& c) : ctx(c), throttler(c.clock) {}

  // ---- timers ----
  // Runs `fn` on the worker pool after `ms` unless cancelled first.
  TimerId After(int64_t ms, std::function<void()> fn);
  void Cancel(TimerId id);
  void TimerLoop();

  // ---- definitions ----
  std::shared_ptr<const LoadedApi> Cached(const std::string& id) const;

  // Blocking: reads the store.
  Result<std::shared_ptr<const LoadedApi>> Load(const std::string& id);

  Result<std::shared_ptr<const KeyIndex>> Keys(const Scope& s);

  // ---- answering ----
  void Finish(const ExchangePtr& ex, HttpResponse resp);

  Json ContextVars(const Exchange& ex, int status, size_t length, double secs) const;

  void AccessLog(const ExchangePtr& ex, const HttpResponse& resp, double secs);

  void ApplyCors(const Exchange& ex, HttpResponse& resp) const;

  static std::string AllowedOrigin(const Json& cors, const std::string& origin);

  // REST gateway responses (customisable per API); HTTP APIs answer fixed JSON messages.
  void GatewayError(const ExchangePtr& ex, const std::string& type, int status,
                    const std::string& message);

  // The reason is logged once, with the request, when the response is sent (Finish).
  void InternalError(const ExchangePtr& ex, const std::string& why, int status = 500);

  // Runs one step of the pipeline; a bug that throws (a malformed stored record) answers 500
  // and is logged instead of taking the server down.
  void Safe(const ExchangePtr& ex, const std::function<void()>& step);

  void Submit(const ExchangePtr& ex, std::function<void()> step);

  // ---- pipeline ----
  void Start(HttpRequest req, Responder responder);

  void Route(const ExchangePtr& ex, bool on_worker);

  void RouteRest(const ExchangePtr& ex, bool on_worker);

  void RouteHttp(const ExchangePtr& ex, bool on_worker);

  // ---- authorization ----
  std::string MethodArn(const Exchange& ex) const;

  ProxyRequest MakeProxyRequest(const Exchange& ex, bool binary_base64) const;

  ProxyContext MakeProxyContext(const Exchange& ex) const;

  // The value of one identity source ("method.request.header.X", "$request.header.X", ...).
  std::string IdentityValue(const Exchange& ex, std::string src) const;

  void AuthorizeRest(const ExchangePtr& ex);

  void AuthorizeCognito(const ExchangePtr& ex, const Json& a);

  void CheckApiKey(const ExchangePtr& ex);

  void AuthorizeHttp(const ExchangePtr& ex);

  // AWS_IAM (REST and HTTP APIs, iam_auth.h): verifies the SigV4 signature through the core
  // Authorizer, decides execute-api:Invoke under --enforce-iam, records the caller for the
  // proxy event, then runs `next`; or answers the request with AWS's 403.
  void AuthorizeIam(const ExchangePtr& ex, std::function<void()> next);

  // REST resource policy for non-IAM methods under --enforce-iam (AWS's authorization
  // workflow): the policy is evaluated with the caller anonymous. An explicit deny refuses;
  // `need_allow` (NONE methods) also refuses when no statement allows. Returns true when it
  // answered the request (403, or 500 for an unparsable policy); false to go on.
  bool ResourcePolicyRefuses(const ExchangePtr& ex, bool need_allow);

  // A REST execute-api:Invoke denial: 403 {"Message": message} as AWS words it, or the API's
  // ACCESS_DENIED / DEFAULT_4XX gateway response when customised.
  void RefuseInvoke(const ExchangePtr& ex, const std::string& message);

  // ---- integrations ----

  // Invokes a function; `done(payload, function_error)` runs once: with the answer, or with an
  // error on timeout. `done_blocks`: done may block (it reads the store or calls out), so it
  // runs on a worker thread; otherwise it runs on the thread that completes the invoke (an io
  // thread, for a warm function), saving two thread hand-offs per request. `payload_is_json`:
  // the gateway wrote `payload` with a JSON writer (proxy and authorizer events), so Lambda
  // need not parse it again to check it; false for mapping-template output.
  void InvokeLambda(const ExchangePtr& ex, const std::string& function_arn, std::string payload,
                    bool payload_is_json, int64_t timeout_ms, bool done_blocks,
                    std::function<void(Result<std::string>, bool)> done);

  void Integrate(const ExchangePtr& ex);

  // REST request validators: required parameters and the body against the method's model.
  // Answers 400 and returns false when the request is refused.
  bool ValidateRequest(const ExchangePtr& ex);

  std::string SubstituteStageVariables(const Exchange& ex, std::string s) const;

  void LambdaProxy(const ExchangePtr& ex, const std::string& version, int64_t timeout_ms);

  // Evaluates a parameter mapping source ("method.request.path.x", "'static'", "context.x",
  // "stageVariables.x", v2 "$request.header.x"...).
  std::optional<std::string> MapSource(const Exchange& ex, const std::string& src) const;

  void HttpCall(const ExchangePtr& ex, bool proxy);

  Result<std::string> RequestTemplateBody(const Exchange& ex) const;

  void Mock(const ExchangePtr& ex);

  // Non-proxy integrations: picks the integration response by selectionPattern (against the
  // status code), then maps status, headers and body.
  void IntegrationResponse(const ExchangePtr& ex, int status, Headers up_headers,
                           std::string up_body, const std::string& error_message = "");

  // REST "AWS" integrations: Lambda (non-proxy) and service actions ("action/<Operation>")
  // with the (passthrough) request body as the operation's input.
  void AwsIntegration(const ExchangePtr& ex);

  void CallService(const ExchangePtr& ex, const std::string& service, const std::string& op,
                   Json input, int64_t started, bool v2);

  // HTTP API first-class AWS integrations (IntegrationSubtype), parameters mapped from the
  // request ("$request.body.name" etc.).
  void AwsSubtype(const ExchangePtr& ex);
};

}  // namespace stratus::services::apigateway
