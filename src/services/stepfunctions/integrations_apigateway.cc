// arn:aws:states:::apigateway:invoke: the execute-api call, its AuthType (SigV4 with the
// execution role's credentials) and AllowNullValues.
#include "aws/sigv4/sigv4.h"
#include "core/strings.h"
#include "services/stepfunctions/integrations.h"

namespace stratus::services::stepfunctions {

namespace {

// The signing name of execute-api calls.
constexpr const char* kExecuteApiService = "execute-api";
// Outside IAM enforcement the role is not assumed: placeholder credentials whose 12-digit
// access key id names the account (as Lambda gives its functions).
constexpr const char* kPlaceholderSecret = "stratus-states-secret";
// The session AssumeRole opens for the execution role (STS's minimum is 900 s).
constexpr int kRoleSessionSeconds = 900;

// "a=1&b=2" from {"a": ["1"], "b": ["2"]} (AWS's QueryParameters: a list of values per name).
std::string QueryString(const Json& params) {
  std::string out;
  if (!params.is_object()) return out;
  for (auto it = params.begin(); it != params.end(); ++it) {
    Json values = it.value().is_array() ? it.value() : Json::array({it.value()});
    for (const auto& v : values) {
      out += (out.empty() ? "" : "&") + UrlEncode(it.key()) + "=" +
             UrlEncode(v.is_string() ? v.get<std::string>() : DumpJson(v));
    }
  }
  return out;
}

// AllowNullValues false: members whose value is null are not sent (at any depth).
void DropNulls(Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it.value().is_null()) {
        it = v.erase(it);
      } else {
        DropNulls(it.value());
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& e : v) DropNulls(e);
  }
}

}  // namespace

Result<ApiRequest> BuildApiRequest(const Json& p, const std::string& base_url, const std::string& default_region) {
  auto invalid = [](std::string message) { return Error("States.Runtime", std::move(message)); };
  std::string endpoint = p.value("ApiEndpoint", "");
  std::string method = p.value("Method", "");
  auto dot = endpoint.find(".execute-api.");
  if (dot == std::string::npos || dot == 0 || method.empty()) {
    return invalid("The apigateway:invoke parameters need ApiEndpoint "
                   "('<apiId>.execute-api.<region>.amazonaws.com') and Method");
  }
  ApiRequest r;
  r.auth_type = p.contains("AuthType") && p["AuthType"].is_string() ? p["AuthType"].get<std::string>() : "NO_AUTH";
  if (r.auth_type != "NO_AUTH" && r.auth_type != "IAM_ROLE" && r.auth_type != "RESOURCE_POLICY") {
    return invalid("The value '" + (p.contains("AuthType") ? DumpJson(p["AuthType"]) : r.auth_type) +
                   "' of AuthType is not valid: expected NO_AUTH, IAM_ROLE or RESOURCE_POLICY");
  }
  bool allow_nulls = false;
  if (p.contains("AllowNullValues")) {
    if (!p["AllowNullValues"].is_boolean()) return invalid("AllowNullValues must be a boolean");
    allow_nulls = p["AllowNullValues"].get<bool>();
  }
  // "<apiId>.execute-api.<region>.amazonaws.com": the region signs the request.
  std::string rest = endpoint.substr(dot + 13);
  r.region = rest.substr(0, rest.find('.'));
  if (r.region.empty()) r.region = default_region;
  std::string stage = p.value("Stage", "");
  std::string path = p.value("Path", "");
  if (!path.empty() && path.front() != '/') path.insert(path.begin(), '/');
  r.path = (stage.empty() ? "" : "/" + stage) + path;
  if (r.path.empty()) r.path = "/";
  r.query = QueryString(p.value("QueryParameters", Json::object()));
  // Sent to this server with the API's own Host, so the data plane sees (and a signature
  // covers) what AWS's would.
  r.http.method = method;
  r.http.url = base_url + r.path + (r.query.empty() ? "" : "?" + r.query);
  r.http.headers.Set("Host", endpoint);
  const Json headers = p.value("Headers", Json::object());
  for (const auto& [name, values] : headers.items()) {
    Json list = values.is_array() ? values : Json::array({values});
    std::string joined;
    for (const auto& v : list) joined += (joined.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : DumpJson(v));
    r.http.headers.Set(name, joined);
  }
  if (p.contains("RequestBody")) {
    Json body = p["RequestBody"];
    if (!allow_nulls) DropNulls(body);
    r.http.body = body.is_string() ? body.get<std::string>() : DumpJson(body);
    if (!r.http.headers.Has("Content-Type")) r.http.headers.Set("Content-Type", "application/json");
  }
  return r;
}

void SignApiRequest(ApiRequest& r, const ApiCredentials& creds, int64_t now_seconds) {
  HttpRequest signed_request;
  signed_request.method = r.http.method;
  signed_request.path = r.path;
  signed_request.query = r.query;
  signed_request.target = r.path + (r.query.empty() ? "" : "?" + r.query);
  signed_request.headers = r.http.headers;
  signed_request.body = r.http.body;
  aws::SignRequest(signed_request, creds.access_key_id, creds.secret_access_key, r.region, kExecuteApiService,
                   now_seconds, creds.session_token);
  r.http.headers = std::move(signed_request.headers);
}

void Integrations::ExecutionRoleCredentials(const ExecutionInfo& info, std::function<void(Result<ApiCredentials>)> done) {
  if (!context_.config.enforce_iam) return done(ApiCredentials{info.account, kPlaceholderSecret, ""});
  aws::OperationCaller* ops = context_.clients.operations;
  if (!ops) return done(Error("States.TaskFailed", "stratus has no in-process STS to assume the execution role"));
  aws::InternalCall call;
  call.service = "sts";
  call.operation = "AssumeRole";
  call.input = Json{{"RoleArn", info.role_arn}, {"RoleSessionName", "stratus-states"},
                    {"DurationSeconds", kRoleSessionSeconds}};
  call.account = info.account;
  call.region = info.region;
  call.principal_arn = "states.amazonaws.com";
  ops->Call(std::move(call), [done, role = info.role_arn](aws::OperationResult out) {
    if (!out.ok()) {
      return done(Error("States.TaskFailed", "Unable to assume the execution role " + role + " to sign the "
                                             "apigateway:invoke request: " + out.error().code + ": " +
                                             out.error().message));
    }
    const Json c = out->body.value("Credentials", Json::object());
    done(ApiCredentials{c.value("AccessKeyId", ""), c.value("SecretAccessKey", ""), c.value("SessionToken", "")});
  });
}

void Integrations::InvokeApi(const ExecutionInfo& info, const Json& p, std::function<void(TaskResult)> done) {
  auto fail = [done](std::string error, std::string cause) {
    TaskResult r;
    r.kind = TaskResult::Kind::kFailed;
    r.error = std::move(error);
    r.cause = std::move(cause);
    done(std::move(r));
  };
  auto built = BuildApiRequest(p, context_.external_url(), info.region);
  if (!built.ok()) return fail(built.error().code, built.error().message);
  auto request = std::make_shared<ApiRequest>(std::move(*built));
  auto send = [this, done](ClientRequest req) {
    HttpClient* client;
    {
      std::lock_guard lock(http_mu_);
      if (!http_) http_ = std::make_unique<HttpClient>();
      client = http_.get();
    }
    client->Fetch(std::move(req), [this, done](Result<HttpResponse> resp) {
      context_.workers.Submit([done, resp = std::move(resp)]() mutable {
        TaskResult r;
        if (!resp.ok()) {
          r.kind = TaskResult::Kind::kFailed;
          r.error = "ApiGateway." + resp.error().code;
          r.cause = resp.error().message;
          return done(std::move(r));
        }
        if (resp->status >= 400) {
          r.kind = TaskResult::Kind::kFailed;
          r.error = "ApiGateway." + std::to_string(resp->status);
          r.cause = resp->body;
          return done(std::move(r));
        }
        Json headers = Json::object();
        for (const auto& [name, value] : resp->headers) headers[name].push_back(value);
        Json body = Json(resp->body);
        if (resp->headers.GetOr("Content-Type").find("json") != std::string_view::npos) {
          Json parsed = ParseJsonOrDiscarded(resp->body);
          if (!parsed.is_discarded()) body = std::move(parsed);
        }
        r.kind = TaskResult::Kind::kSucceeded;
        r.output = Json{{"Headers", std::move(headers)},
                        {"ResponseBody", std::move(body)},
                        {"StatusCode", resp->status},
                        {"StatusText", std::string(StatusReason(resp->status))}};
        done(std::move(r));
      });
    });
  };
  if (request->auth_type == "NO_AUTH") return send(std::move(request->http));
  // IAM_ROLE and RESOURCE_POLICY: the request is signed with the execution role's credentials
  // (the API's IAM authorization, or its resource policy, then decides).
  ExecutionRoleCredentials(info, [this, request, send, fail](Result<ApiCredentials> creds) {
    if (!creds.ok()) return fail(creds.error().code, creds.error().message);
    SignApiRequest(*request, *creds, context_.clock.NowMillis() / 1000);
    send(std::move(request->http));
  });
}

}  // namespace stratus::services::stepfunctions
