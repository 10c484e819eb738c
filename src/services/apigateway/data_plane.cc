#include "services/apigateway/data_plane_internal.h"

namespace stratus::services::apigateway {

TimerId DataPlane::Impl::After(int64_t ms, std::function<void()> fn) {
  TimerId id;
  bool wake = false;
  {
    std::lock_guard lock(timer_mu);
    id.due_ns = ctx.clock.MonotonicNanos() + ms * 1'000'000;
    id.seq = ++timer_seq;
    timers.emplace(std::make_pair(id.due_ns, id.seq), std::move(fn));
    wake = id.due_ns < timer_wake_ns;
  }
  if (wake) timer_cv.notify_one();
  return id;
}

void DataPlane::Impl::Cancel(TimerId id) {
  std::function<void()> dropped;  // destroyed outside the lock (it may hold the last exchange)
  std::lock_guard lock(timer_mu);
  auto it = timers.find(std::make_pair(id.due_ns, id.seq));
  if (it == timers.end()) return;
  dropped = std::move(it->second);
  timers.erase(it);
}

void DataPlane::Impl::TimerLoop() {
  std::unique_lock lock(timer_mu);
  while (!stopping) {
    int64_t now = ctx.clock.MonotonicNanos();
    while (!timers.empty() && timers.begin()->first.first <= now) {
      auto fn = std::move(timers.begin()->second);
      timers.erase(timers.begin());
      lock.unlock();
      ctx.workers.Submit(std::move(fn));
      lock.lock();
    }
    if (stopping) break;
    if (timers.empty()) {
      timer_wake_ns = std::numeric_limits<int64_t>::max();
      timer_cv.wait(lock);
    } else {
      timer_wake_ns = timers.begin()->first.first;
      timer_cv.wait_for(lock, std::chrono::nanoseconds(timer_wake_ns - now));
    }
  }
}

std::shared_ptr<const LoadedApi> DataPlane::Impl::Cached(const std::string& id) const {
  std::shared_lock lock(api_mu);
  auto it = apis.find(id);
  if (it == apis.end()) return nullptr;
  if (ctx.clock.NowMillis() - it->second->loaded_ms > kCacheTtlMs) return nullptr;
  return it->second;
}

Result<std::shared_ptr<const LoadedApi>> DataPlane::Impl::Load(const std::string& id) {
  uint64_t generation = 0;
  {
    std::shared_lock lock(api_mu);
    generation = apis_generation;
  }
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
  if (apis_generation == generation) apis[id] = a;  // else serve it to this request only
  return std::shared_ptr<const LoadedApi>(a);
}

Result<std::shared_ptr<const KeyIndex>> DataPlane::Impl::Keys(const Scope& s) {
  std::string k = s.account + "/" + s.region;
  uint64_t generation = 0;
  {
    std::shared_lock lock(api_mu);
    generation = keys_generation;
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
  if (keys_generation == generation) keys[k] = idx;  // else serve it to this request only
  return std::shared_ptr<const KeyIndex>(idx);
}

namespace {

// FormatHttpDate of `second`, formatted once per second per thread (answers of one second share
// it; snprintf per answer showed in profiles).
std::string HttpDate(int64_t second) {
  struct Cached {
    bool set = false;
    int64_t second = 0;
    std::string text;
  };
  thread_local Cached cached;
  if (!cached.set || cached.second != second) {
    cached.text = FormatHttpDate(static_cast<double>(second));
    cached.second = second;
    cached.set = true;
  }
  return cached.text;
}

}  // namespace

void DataPlane::Impl::Finish(const ExchangePtr& ex, HttpResponse resp) {
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
  if (!resp.headers.Has("date")) resp.headers.Set("Date", HttpDate(ctx.clock.NowMillis() / 1000));
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
    seg.aws_strings.reserve(2);  // no Json object: cheap to build and to free (recorder.h)
    seg.aws_strings.push_back({"api_id", api_id});
    seg.aws_strings.push_back({"request_id", ex->request_id});
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

Json DataPlane::Impl::ContextVars(const Exchange& ex, int status, size_t length, double secs) const {
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
                    {"responseType", ex.error_type},
                    {"validationErrorString", ex.validation_error}};
  Json auth = ex.authorizer.is_object() ? ex.authorizer : Json::object();
  if (!ex.principal_id.empty()) auth["principalId"] = ex.principal_id;
  c["authorizer"] = auth;
  return c;
}

void DataPlane::Impl::AccessLog(const ExchangePtr& ex, const HttpResponse& resp, double secs) {
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

void DataPlane::Impl::ApplyCors(const Exchange& ex, HttpResponse& resp) const {
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

std::string DataPlane::Impl::AllowedOrigin(const Json& cors, const std::string& origin) {
  for (const auto& o : cors.value("AllowOrigins", Json::array())) {
    std::string v = o.get<std::string>();
    if (v == "*") return cors.value("AllowCredentials", false) ? origin : "*";
    if (IEquals(v, origin)) return origin;
  }
  return {};
}

void DataPlane::Impl::GatewayError(const ExchangePtr& ex, const std::string& type, int status, const std::string& message) {
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

void DataPlane::Impl::InternalError(const ExchangePtr& ex, const std::string& why, int status) {
  ex->error_message = why;
  if (ex->api && !ex->api->rest) {
    GatewayError(ex, "DEFAULT_5XX", status, "Internal Server Error");
  } else {
    GatewayError(ex, status == 502 ? "DEFAULT_5XX" : "API_CONFIGURATION_ERROR", status,
                 "Internal server error");
  }
}

void DataPlane::Impl::Safe(const ExchangePtr& ex, const std::function<void()>& step) {
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

void DataPlane::Impl::Submit(const ExchangePtr& ex, std::function<void()> step) {
  ctx.workers.Submit([this, ex, step = std::move(step)] { Safe(ex, step); });
}

void DataPlane::Impl::Start(HttpRequest req, Responder responder) {
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

void DataPlane::Impl::Route(const ExchangePtr& ex, bool on_worker) {
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

void DataPlane::Impl::RouteRest(const ExchangePtr& ex, bool on_worker) {
  const StageRt& st = *ex->stage;
  const Json& resources = st.snapshot["resources"];
  std::string method = ex->req.method;
  auto m = st.trie.Find(ex->path, [](const RouteTrie::Node&) { return true; });
  if (!m.node) {
    GatewayError(ex, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token");
    return;
  }
  const Json& res = resources[m.node->id];
  const Json& methods = Member(res, "resourceMethods");  // a reference, not a copy
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
  ex->method = mj;
  auto mi = mj->find("methodIntegration");
  ex->integration = mi != mj->end() ? &*mi : &NullJson();
  ex->resource_id = m.node->id;
  ex->resource_path = m.node->path;
  for (auto& [k, v] : m.params) ex->path_params[k] = v;
  // Stage / method throttling (method settings).
  const Json& ms = Member(st.stage, "methodSettings");
  std::string specific = ReplaceAll(ex->resource_path, "/", "~1") + "/" + ex->method->value("httpMethod", method);
  std::string specific2 = ex->resource_path.substr(1) + "/" + ex->method->value("httpMethod", method);
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
  // MOCK and Lambda proxy integrations never block (a warm invoke hands the event to a parked
  // runtime and completes on an io thread): they run here; authorizers, API keys (the key
  // index is read from the store) and HTTP/AWS calls move to the worker pool.
  std::string auth = ex->method->value("authorizationType", "NONE");
  std::string type = ex->integration->value("type", "");
  bool needs_worker = (auth != "NONE" && auth != "AWS_IAM") ||
                      ex->method->value("apiKeyRequired", false) ||
                      (type != "MOCK" && type != "AWS_PROXY");
  if (needs_worker && !on_worker) {
    Submit(ex, [this, ex] { AuthorizeRest(ex); });
    return;
  }
  AuthorizeRest(ex);
}

void DataPlane::Impl::RouteHttp(const ExchangePtr& ex, bool on_worker) {
  const StageRt& st = *ex->stage;
  const std::string& method = ex->req.method;
  // CORS preflight.
  const Json& cors = st.cors ? *st.cors : NullJson();
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
  const HttpRouteRt* route = nullptr;
  if (m.node) {
    const auto& verbs = st.http_routes.at(m.node->id);
    auto verb = verbs.find(method);
    route = verb != verbs.end() ? &verb->second : &verbs.at("ANY");
    ex->resource_path = m.node->path;
    for (auto& [k, v] : m.params) ex->path_params[k] = v;
  } else if (st.default_route && st.default_route->record.is_object()) {
    route = &*st.default_route;
    ex->resource_path = "$default";
  } else {
    GatewayError(ex, "RESOURCE_NOT_FOUND", 404, "Not Found");
    return;
  }
  ex->http_route = route;
  ex->method = &route->record;
  ex->route_key = route->route_key;
  ex->resource_id = route->route_id;
  if (!route->integration) {
    GatewayError(ex, "RESOURCE_NOT_FOUND", 404, "Not Found");
    return;
  }
  ex->integration = route->integration;
  if (route->throttled && !throttler.Take(route->throttle_key, route->throttle_rate,
                                          route->throttle_burst)) {
    GatewayError(ex, "THROTTLED", 429, "Too Many Requests");
    return;
  }
  // As for REST: a Lambda proxy route without an authorizer runs here, on the io thread.
  if (route->needs_worker && !on_worker) {
    Submit(ex, [this, ex] { AuthorizeHttp(ex); });
    return;
  }
  AuthorizeHttp(ex);
}


HttpRouteRt CompileHttpRoute(const StageRt& st, const std::string& api_id, const Json& route) {
  // Each member as RouteHttp, AuthorizeHttp, Integrate and LambdaProxy read it per request
  // before routes were compiled (the same defaults and lookups).
  HttpRouteRt r;
  r.record = route;
  r.route_key = route.value("RouteKey", "");
  r.route_id = route.value("RouteId", "");
  r.authorization_type = route.value("AuthorizationType", "NONE");
  std::string target = route.value("Target", "");
  std::string iid = StartsWith(target, "integrations/") ? target.substr(13) : "";
  const Json& integs = Member(st.snapshot, "integrations");
  if (auto it = integs.find(iid); it != integs.end()) r.integration = &*it;
  if (r.integration && r.integration->is_object()) {
    const Json& i = *r.integration;
    r.integration_type = i.value("IntegrationType", "");
    r.has_subtype = i.contains("IntegrationSubtype");
    r.payload_version = i.value("PayloadFormatVersion", "1.0");
    r.timeout_ms = i.value("TimeoutInMillis", int64_t{30000});
    std::string uri = ReplaceStageVariables(Member(st.stage, "StageVariables"),
                                            i.value("IntegrationUri", ""));
    r.lambda_function = LambdaArnFromUri(uri);
    if (r.lambda_function.empty()) r.lambda_function = uri;  // the function ARN itself
  }
  bool blocking_integration = !r.integration || !r.integration->is_object() ||
                              r.integration_type != "AWS_PROXY" || r.has_subtype;
  r.needs_worker = (r.authorization_type != "NONE" && r.authorization_type != "AWS_IAM") ||
                   blocking_integration;
  const Json& rs = Member(st.stage, "RouteSettings");
  const Json& defaults = Member(st.stage, "DefaultRouteSettings");
  const Json* settings = nullptr;
  bool route_specific = false;
  if (rs.contains(r.route_key) && rs[r.route_key].contains("ThrottlingRateLimit")) {
    settings = &rs[r.route_key];
    route_specific = true;
  } else if (defaults.contains("ThrottlingRateLimit")) {
    settings = &defaults;
  }
  if (settings) {
    r.throttled = true;
    r.throttle_rate = settings->value("ThrottlingRateLimit", 0.0);
    r.throttle_burst = settings->value("ThrottlingBurstLimit", int64_t{0});
    r.throttle_key = "r/" + api_id + "/" + st.name + "/" +
                     (route_specific ? r.route_key : std::string("*"));
  }
  return r;
}

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
    ++impl_->keys_generation;
  } else {
    impl_->apis.erase(api_id);
    ++impl_->apis_generation;
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
