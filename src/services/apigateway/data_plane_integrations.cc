#include "services/apigateway/data_plane_internal.h"
#include "services/apigateway/request_validation.h"

namespace stratus::services::apigateway {

void DataPlane::Impl::InvokeLambda(const ExchangePtr& ex, const std::string& function_arn,
                                   std::string payload, bool payload_is_json,
                                   int64_t timeout_ms, bool done_blocks,
                                   std::function<void(Result<std::string>, bool)> done) {
  if (!ctx.clients.operations) {
    done(Error("ServiceUnavailable", "no in-process operation caller"), false);
    return;
  }
  if (function_arn.empty()) {
    done(Error("InvalidIntegration", "the integration URI names no Lambda function"), false);
    return;
  }
  // Whichever of the answer and the timeout comes first calls `done`; one allocation for both.
  struct State {
    std::atomic<bool> answered{false};
    std::function<void(Result<std::string>, bool)> done;
    void Answer(aws::OperationResult& result) {
      if (!result.ok()) {
        done(std::move(result).error(), false);
        return;
      }
      aws::OperationOutput out = std::move(result).value();
      bool fe = out.body.contains("FunctionError");
      done(out.payload ? std::move(*out.payload) : std::string(), fe);
    }
  };
  auto state = std::make_shared<State>();
  state->done = std::move(done);
  aws::InternalCall call;
  call.service = "lambda";
  call.operation = "Invoke";
  call.input = Json::object();  // member by member: an initializer list copies values twice
  call.input.get_ref<Json::object_t&>().reserve(2);  // a growing object copies its members
  call.input.emplace("FunctionName", function_arn);
  call.input.emplace("InvocationType", "RequestResponse");
  call.payload = std::move(payload);
  call.payload_is_json = payload_is_json;
  call.account = ex->api->scope.account;
  call.region = ex->api->scope.region;
  call.principal_arn = "apigateway.amazonaws.com";
  call.trace = ex->trace;
  TimerId timer = After(timeout_ms, [this, ex, state, timeout_ms] {
    if (state->answered.exchange(true)) return;
    Safe(ex, [state, timeout_ms] {
      state->done(Error("Timeout", "the integration did not answer within " +
                                       std::to_string(timeout_ms) + " ms", 504),
                  false);
    });
  });
  ctx.clients.operations->Call(
      std::move(call), [this, ex, state, timer, done_blocks](aws::OperationResult r) {
        if (state->answered.exchange(true)) return;
        Cancel(timer);
        if (!done_blocks) {
          Safe(ex, [&] { state->Answer(r); });
          return;
        }
        auto result = std::make_shared<aws::OperationResult>(std::move(r));
        Submit(ex, [state, result] { state->Answer(*result); });
      });
}

void DataPlane::Impl::Integrate(const ExchangePtr& ex) {
  const Json& i = *ex->integration;
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
  if (const HttpRouteRt* r = ex->http_route) {  // the route's integration, read when loaded
    if (r->integration_type == "AWS_PROXY") {
      if (r->has_subtype) return AwsSubtype(ex);
      return LambdaProxy(ex, r->payload_version, r->timeout_ms);
    }
    if (r->integration_type == "HTTP_PROXY") return HttpCall(ex, true);
    return InternalError(ex, "unsupported HTTP API integration type " + r->integration_type);
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

bool DataPlane::Impl::ValidateRequest(const ExchangePtr& ex) {
  std::string vid = ex->method->value("requestValidatorId", "");
  const Json& validators = Member(ex->stage->snapshot, "validators");
  if (vid.empty() || !validators.contains(vid)) return true;
  const Json& v = validators[vid];
  if (v.value("validateRequestParameters", false)) {
    auto present = [&](std::string_view where, std::string_view name) {
      std::string n(name);
      if (where == "path") return ex->path_params.contains(n);
      if (where == "header") return !Trim(ex->req.headers.GetOr(n)).empty();
      for (auto& [qk, qv] : ParseQuery(ex->req.query, false)) {
        if (qk == n && !qv.empty()) return true;  // AWS: "included and not blank"
      }
      return false;
    };
    auto missing = MissingRequiredParameters(Member(*ex->method, "requestParameters"), present);
    if (!missing.empty()) {
      GatewayError(ex, "BAD_REQUEST_PARAMETERS", 400, MissingParametersMessage(missing));
      return false;
    }
  }
  if (v.value("validateRequestBody", false)) {
    std::string model = SelectRequestModel(Member(*ex->method, "requestModels"),
                                           ex->req.headers.GetOr("content-type", "application/json"));
    if (!model.empty()) {
      BodyValidation r =
          ex->stage->models ? ex->stage->models->ValidateBody(model, ex->req.body)
                            : ValidateRequestBody(Member(ex->stage->snapshot, "models"),
                                                  ex->target.api_id, model, ex->req.body);
      if (!r.ok) {
        if (!r.config_error.empty()) {
          spdlog::warn("execute-api {}: model {} cannot validate the body, refusing it: {}",
                       ex->target.api_id, model, r.config_error);
        }
        if (!r.config_error.empty()) r.errors = {r.config_error};
        ex->validation_error = r.ErrorString();
        GatewayError(ex, "BAD_REQUEST_BODY", 400, "Invalid request body");
        return false;
      }
    }
  }
  return true;
}

std::string DataPlane::Impl::SubstituteStageVariables(const Exchange& ex, std::string s) const {
  return ReplaceStageVariables(Member(ex.stage->stage, ex.api->rest ? "variables" : "StageVariables"),
                               std::move(s));
}

std::string ReplaceStageVariables(const Json& sv, std::string s) {
  for (const auto& [k, v] : sv.items()) {
    s = ReplaceAll(s, "${stageVariables." + k + "}", Stringify(v));
    s = ReplaceAll(s, "$stageVariables." + k, Stringify(v));
  }
  return s;
}

void DataPlane::Impl::LambdaProxy(const ExchangePtr& ex, const std::string& version, int64_t timeout_ms) {
  const Json& i = *ex->integration;
  bool rest_api = ex->api->rest;
  if (rest_api && i.value("httpMethod", "POST") != "POST") {
    return InternalError(ex, "Lambda proxy integrations must use POST to invoke the function, "
                             "not " + i.value("httpMethod", ""));
  }
  std::string computed_fn;
  const std::string* fn = &computed_fn;
  if (!rest_api && ex->http_route) {
    fn = &ex->http_route->lambda_function;  // worked out when the API was loaded
  } else {
    std::string uri = SubstituteStageVariables(*ex, i.value(rest_api ? "uri" : "IntegrationUri", ""));
    computed_fn = LambdaArnFromUri(uri);
    if (computed_fn.empty()) computed_fn = uri;  // HTTP APIs take the function ARN itself
  }
  static const Json kNoBinaryTypes;  // HTTP APIs have none (and do not look them up below)
  const Json& binary_types =
      rest_api ? Member(ex->stage->snapshot, "binaryMediaTypes") : kNoBinaryTypes;
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
  std::string event = (!rest_api && version == "2.0") ? WriteV2Event(pr, pc)
                                                      : WriteV1Event(pr, pc, !rest_api);
  bool decode_out = rest_api ? IsBinaryType(ex->req.headers.GetOr("accept"), binary_types) : true;
  int64_t started = ctx.clock.MonotonicNanos();
  InvokeLambda(ex, *fn, std::move(event), /*payload_is_json=*/true, timeout_ms, /*done_blocks=*/false,
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

std::optional<std::string> DataPlane::Impl::MapSource(const Exchange& ex, const std::string& src) const {
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

void DataPlane::Impl::HttpCall(const ExchangePtr& ex, bool proxy) {
  const Json& i = *ex->integration;
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

Result<std::string> DataPlane::Impl::RequestTemplateBody(const Exchange& ex) const {
  const Json& templates = Member(*ex.integration, "requestTemplates");  // not a copy
  std::string ct = ToLower(Trim(std::string(ex.req.headers.GetOr("content-type", "application/json")).substr(
      0, std::string(ex.req.headers.GetOr("content-type", "application/json")).find(';'))));
  if (ct.empty()) ct = "application/json";
  const Json* tpl = nullptr;
  if (templates.contains(ct)) {
    tpl = &templates[ct];
  } else if (!templates.empty()) {
    std::string pass = ex.integration->value("passthroughBehavior", "WHEN_NO_MATCH");
    if (pass == "NEVER") {
      return Error("UnsupportedMediaType", "Unsupported Media Type", 415);
    }
    if (pass == "WHEN_NO_TEMPLATES") return Error("UnsupportedMediaType", "Unsupported Media Type", 415);
  }
  if (!tpl || !tpl->is_string()) return ex.req.body;  // passthrough
  const std::string& text = tpl->get_ref<const std::string&>();
  if (IsPlainTemplate(text)) return text;  // no variables: the context need not be built
  Json vars = ContextVars(ex, 0, 0, 0);
  Json sv = ex.stage->stage.value("variables", Json::object());
  TemplateInputs in{&vars, &sv, ex.req.body};
  return RenderTemplate(tpl->get<std::string>(), in);
}

void DataPlane::Impl::Mock(const ExchangePtr& ex) {
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

void DataPlane::Impl::IntegrationResponse(const ExchangePtr& ex, int status, Headers up_headers, std::string up_body, const std::string& error_message) {
  const Json& responses = Member(*ex->integration, "integrationResponses");  // not a copy
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
  const Json& templates = Member(*chosen, "responseTemplates");
  const Json* tpl = nullptr;
  if (templates.contains("application/json")) {
    tpl = &templates["application/json"];
  } else if (!templates.empty()) {
    tpl = &templates.begin().value();
    resp.headers.Set("Content-Type", templates.begin().key());
  }
  if (tpl && tpl->is_string() && IsPlainTemplate(tpl->get_ref<const std::string&>()) &&
      !tpl->get_ref<const std::string&>().empty()) {
    resp.body = tpl->get<std::string>();  // no variables: the context need not be built
  } else if (tpl && tpl->is_string() && !tpl->get<std::string>().empty()) {
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

void DataPlane::Impl::AwsIntegration(const ExchangePtr& ex) {
  std::string uri = SubstituteStageVariables(*ex, ex->integration->value("uri", ""));
  auto body = RequestTemplateBody(*ex);
  if (!body.ok()) return InternalError(ex, body.error().message);
  int64_t started = ctx.clock.MonotonicNanos();
  std::string fn = LambdaArnFromUri(uri);
  if (!fn.empty()) {
    InvokeLambda(ex, fn, *body, /*payload_is_json=*/false, kRestTimeoutMs, /*done_blocks=*/true,
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

void DataPlane::Impl::CallService(const ExchangePtr& ex, const std::string& service, const std::string& op, Json input, int64_t started, bool v2) {
  aws::InternalCall call;
  call.service = service;
  call.operation = op;
  call.input = std::move(input);
  call.account = ex->api->scope.account;
  call.region = ex->api->scope.region;
  call.principal_arn = ex->integration->value(v2 ? "CredentialsArn" : "credentials", "apigateway.amazonaws.com");
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

void DataPlane::Impl::AwsSubtype(const ExchangePtr& ex) {
  static const std::map<std::string, std::pair<std::string, std::string>, std::less<>> kSubtypes = {
      {"SQS-SendMessage", {"sqs", "SendMessage"}},
      {"SQS-ReceiveMessage", {"sqs", "ReceiveMessage"}},
      {"SQS-DeleteMessage", {"sqs", "DeleteMessage"}},
      {"SQS-PurgeQueue", {"sqs", "PurgeQueue"}},
      {"StepFunctions-StartExecution", {"stepfunctions", "StartExecution"}},
      {"StepFunctions-StartSyncExecution", {"stepfunctions", "StartSyncExecution"}},
      {"StepFunctions-StopExecution", {"stepfunctions", "StopExecution"}},
      {"Lambda-Invoke", {"lambda", "Invoke"}}};
  std::string subtype = ex->integration->value("IntegrationSubtype", "");
  auto it = kSubtypes.find(subtype);
  if (it == kSubtypes.end()) {
    return InternalError(ex, "integration subtype " + subtype + " is not supported by stratus");
  }
  Json body = ParseJsonOrDiscarded(ex->req.body);
  Json input = Json::object();
  for (const auto& [k, src0] : Member(*ex->integration, "RequestParameters").items()) {
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

}  // namespace stratus::services::apigateway
