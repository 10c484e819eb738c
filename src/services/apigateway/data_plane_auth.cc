#include "services/apigateway/data_plane_internal.h"

#include "aws/framework/authorizer.h"
#include "aws/sigv4/sigv4.h"
#include "services/apigateway/iam_auth.h"

namespace stratus::services::apigateway {

std::string DataPlane::Impl::MethodArn(const Exchange& ex) const {
  return ExecuteApiArn(ex.api->scope.region, ex.api->scope.account, ex.target.api_id,
                       ex.stage->name, ex.req.method, ex.path);
}

ProxyRequest DataPlane::Impl::MakeProxyRequest(const Exchange& ex, bool binary_base64) const {
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
  r.body = ex.req.body;  // a view: the exchange outlives the event written from it
  r.base64_body = binary_base64;
  return r;
}

ProxyContext DataPlane::Impl::MakeProxyContext(const Exchange& ex) const {
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
  if (ex.identity_extra.contains("iam")) c.iam_identity = ex.identity_extra["iam"];
  return c;
}

std::string DataPlane::Impl::IdentityValue(const Exchange& ex, std::string src) const {
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

void DataPlane::Impl::AuthorizeRest(const ExchangePtr& ex) {
  std::string type = ex->method->value("authorizationType", "NONE");
  if (type == "AWS_IAM") {
    AuthorizeIam(ex, [this, ex] { CheckApiKey(ex); });
    return;
  }
  // NONE needs the resource policy's allow; CUSTOM and COGNITO_USER_POOLS are refused only by
  // its explicit deny, checked before the authorizer runs (AWS's first phase).
  if (ResourcePolicyRefuses(ex, /*need_allow=*/type == "NONE")) return;
  if (type == "NONE") {
    CheckApiKey(ex);
    return;
  }
  const Json& auths = ex->stage->snapshot.value("authorizers", Json::object());
  std::string aid = ex->method->value("authorizerId", "");
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
  InvokeLambda(ex, fn, event.dump(), /*payload_is_json=*/true, kRestTimeoutMs, /*done_blocks=*/true,
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

void DataPlane::Impl::AuthorizeCognito(const ExchangePtr& ex, const Json& a) {
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
    auto verified = verified_jwts.Verify(ex->target.api_id, token, req, *jwks, ex->now_ms / 1000);
    if (!verified.ok()) {
      err = verified.error().message;
      continue;
    }
    const Json* claims = &(*verified)->claims;
    const Json& scopes = ex->method->value("authorizationScopes", Json::array());
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
    ex->authorizer = Json{{"claims", (*verified)->string_claims}};
    CheckApiKey(ex);
    return;
  }
  ex->error_message = "COGNITO_USER_POOLS: " + err;
  GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
}

void DataPlane::Impl::CheckApiKey(const ExchangePtr& ex) {
  if (!ex->method->value("apiKeyRequired", false)) {
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
  std::string method_key = ex->resource_path + "/" + ex->method->value("httpMethod", ex->req.method);
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

void DataPlane::Impl::AuthorizeHttp(const ExchangePtr& ex) {
  std::string type = ex->http_route ? ex->http_route->authorization_type
                                    : ex->method->value("AuthorizationType", "NONE");
  if (type == "NONE") {
    Integrate(ex);
    return;
  }
  if (type == "AWS_IAM") {
    AuthorizeIam(ex, [this, ex] { Integrate(ex); });
    return;
  }
  const Json& auths = ex->stage->snapshot.value("authorizers", Json::object());
  std::string aid = ex->method->value("AuthorizerId", "");
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
    auto verified =
        verified_jwts.Verify(ex->target.api_id + "/" + aid, token, req, *jwks, ex->now_ms / 1000);
    if (!verified.ok()) {
      ex->error_message = "JWT: " + verified.error().message;
      spdlog::info("execute-api {}: JWT refused: {}", ex->target.api_id, verified.error().message);
      GatewayError(ex, "UNAUTHORIZED", 401, "Unauthorized");
      return;
    }
    const VerifiedJwt& jwt = **verified;
    const Json& needed = ex->method->value("AuthorizationScopes", Json::array());
    if (!needed.empty()) {
      bool ok = false;
      for (const auto& n : needed) {
        for (const auto& g : jwt.scopes) ok = ok || g == n.get<std::string>();
      }
      if (!ok) {
        GatewayError(ex, "FORBIDDEN", 403, "Forbidden");
        return;
      }
    }
    Json scopes = jwt.scopes.empty() ? Json() : Json(jwt.scopes);
    ex->authorizer = Json{{"jwt", Json{{"claims", jwt.string_claims}, {"scopes", std::move(scopes)}}}};
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
  InvokeLambda(ex, fn, event.dump(), /*payload_is_json=*/true, 10000, /*done_blocks=*/true,
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

}  // namespace stratus::services::apigateway

namespace stratus::services::apigateway {

namespace {

// The gateway response type of a SigV4 failure the core verifier (or IAM) reports.
std::string SignatureFailureType(const Error& e) {
  if (e.code == "ExpiredToken") return "EXPIRED_TOKEN";
  return "INVALID_SIGNATURE";
}

}  // namespace

void DataPlane::Impl::AuthorizeIam(const ExchangePtr& ex, std::function<void()> next) {
  const bool rest = ex->api->rest;
  auto refuse = [this, ex, rest](const std::string& type, const std::string& message) {
    // HTTP APIs answer every IAM refusal but a bad signature with {"message":"Forbidden"}.
    GatewayError(ex, rest ? type : "FORBIDDEN", 403, message);
  };
  auto parsed = aws::ParseSigV4(ex->req, aws::SigV4Dialect::kQuery);
  if (!parsed.ok()) {
    ex->error_message = parsed.error().message;
    return refuse("INVALID_SIGNATURE", parsed.error().message);
  }
  if (!parsed->has_value()) {
    return refuse("MISSING_AUTHENTICATION_TOKEN", rest ? "Missing Authentication Token" : "Forbidden");
  }
  const aws::SigV4Claim& claim = **parsed;
  if (claim.service != kExecuteApiSigningName) {
    std::string m = "Credential should be scoped to correct service: '" +
                    std::string(kExecuteApiSigningName) + "'. ";
    ex->error_message = m;
    return GatewayError(ex, rest ? "INVALID_SIGNATURE" : "FORBIDDEN", 403, m);
  }
  // Who calls: as the front door does for AWS APIs, the key's account root unless IAM knows the
  // key; IAM verifies the signature with the key's secret only under enforcement.
  aws::Caller caller;
  caller.access_key_id = claim.access_key_id;
  caller.account_id = aws::AccountForAccessKey(claim.access_key_id);
  if (caller.account_id.empty()) caller.account_id = ctx.config.account_id;
  caller.session_token = claim.security_token;
  caller.arn = "arn:aws:iam::" + caller.account_id + ":root";
  caller.user_id = caller.account_id;
  aws::Authorizer* authorizer = ctx.clients.authorizer;
  if (authorizer) {
    Status st = authorizer->Authenticate(ex->req, &claim, aws::SigV4Dialect::kQuery, ex->now_ms, caller);
    if (!st.ok()) {
      const Error& e = st.error();
      ex->error_message = e.message;
      // The signature mismatch text is AWS's for HTTP APIs too.
      return GatewayError(ex, rest ? SignatureFailureType(e) : "FORBIDDEN", 403, e.message);
    }
  }
  auto admit = [this, ex, rest, caller, next] {
    ex->identity_extra["iam"] = V1Identity(caller);
    if (!rest) ex->authorizer = V2IamAuthorizer(caller);
    next();
  };
  if (!authorizer || !authorizer->Enforcing()) return admit();

  const std::string arn = MethodArn(*ex);
  const std::string source = PolicySourceArn(caller);
  const Scope& scope = ex->api->scope;
  // The account root: AWS lets only SCPs and explicit denies in resource policies stop it;
  // stratus has no SCPs, so the REST resource policy alone decides.
  if (source.empty()) {
    if (!rest) return admit();
    const Json& stored = ex->api->api.value("policy", Json());
    auto parsed = resource_policies.Get(stored.is_string() ? stored.get<std::string>() : std::string(),
                                        scope.region, scope.account, ex->target.api_id);
    if (!parsed.ok()) return InternalError(ex, "resource policy: " + parsed.error().message);
    if (*parsed && PolicyOnlyDecision(**parsed, &caller, arn, scope.account, ex->req.remote_address,
                                      ex->now_ms) == InvokeDecision::kExplicitDeny) {
      std::string message = DenialMessage(caller.arn, arn, InvokeDecision::kExplicitDeny);
      ex->error_message = message;
      return RefuseInvoke(ex, message);
    }
    return admit();
  }
  aws::OperationCaller* ops = ctx.clients.operations;
  if (!ops) return InternalError(ex, "AWS_IAM: stratus has no in-process IAM to authorize the caller");
  std::string policy;
  if (rest) {
    const Json& p = ex->api->api.value("policy", Json());
    if (p.is_string()) policy = ExpandResourcePolicy(p.get<std::string>(), scope.region, scope.account, ex->target.api_id);
  }
  aws::InternalCall call;
  call.service = "iam";
  call.operation = "SimulatePrincipalPolicy";
  call.input = InvokeSimulation(source, caller.arn, arn, policy, scope.account, ex->req.remote_address);
  call.account = caller.account_id;
  call.region = scope.region;
  call.trace = ex->trace;
  ops->Call(std::move(call), [this, ex, rest, caller, arn, admit](aws::OperationResult out) {
    if (!out.ok()) {
      // An unknown principal (a user deleted since its key was issued) has no permissions.
      spdlog::info("execute-api {}: IAM could not evaluate {}: {}: {}", ex->target.api_id, caller.arn,
                   out.error().code, out.error().message);
      ex->error_message = out.error().message;
      return GatewayError(ex, rest ? "ACCESS_DENIED" : "FORBIDDEN", 403,
                          rest ? DenialMessage(caller.arn, arn, InvokeDecision::kImplicitDeny) : "Forbidden");
    }
    auto decision = DecisionFrom(out->body);
    if (!decision.ok()) return InternalError(ex, "AWS_IAM: " + decision.error().message);
    if (*decision == InvokeDecision::kAllowed) return admit();
    std::string message = DenialMessage(caller.arn, arn, *decision);
    ex->error_message = message;
    if (!rest) return GatewayError(ex, "FORBIDDEN", 403, "Forbidden");
    RefuseInvoke(ex, message);
  });
}

void DataPlane::Impl::RefuseInvoke(const ExchangePtr& ex, const std::string& message) {
  // REST APIs word IAM denials {"Message": ...} (capital M), unless the API customised the
  // ACCESS_DENIED (or DEFAULT_4XX) gateway response.
  const Json& custom = ex->stage->snapshot.value("gatewayResponses", Json::object());
  if (custom.contains("ACCESS_DENIED") || custom.contains("DEFAULT_4XX")) {
    return GatewayError(ex, "ACCESS_DENIED", 403, message);
  }
  ex->error_type = "ACCESS_DENIED";
  HttpResponse resp;
  resp.status = 403;
  resp.headers.Set("Content-Type", "application/json");
  resp.headers.Set("x-amzn-ErrorType", ErrorTypeHeader("ACCESS_DENIED"));
  resp.body = Json{{"Message", message}}.dump();
  Finish(ex, std::move(resp));
}

bool DataPlane::Impl::ResourcePolicyRefuses(const ExchangePtr& ex, bool need_allow) {
  // Without enforcement nothing is authorized against IAM policies, resource policies included.
  aws::Authorizer* authorizer = ctx.clients.authorizer;
  if (!authorizer || !authorizer->Enforcing()) return false;
  const Json& stored = ex->api->api.value("policy", Json());
  if (!stored.is_string() || stored.get<std::string>().empty()) return false;
  const Scope& scope = ex->api->scope;
  auto parsed = resource_policies.Get(stored.get<std::string>(), scope.region, scope.account,
                                      ex->target.api_id);
  if (!parsed.ok()) {
    InternalError(ex, "resource policy: " + parsed.error().message);
    return true;
  }
  if (!*parsed) return false;
  const std::string arn = MethodArn(*ex);
  InvokeDecision d =
      PolicyOnlyDecision(**parsed, nullptr, arn, scope.account, ex->req.remote_address, ex->now_ms);
  if (d == InvokeDecision::kAllowed || (d == InvokeDecision::kImplicitDeny && !need_allow)) return false;
  std::string message = DenialMessage("", arn, d);
  ex->error_message = message;
  RefuseInvoke(ex, message);
  return true;
}

}  // namespace stratus::services::apigateway
