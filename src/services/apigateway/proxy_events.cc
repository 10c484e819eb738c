#include "services/apigateway/proxy_events.h"

#include <ctime>

#include "core/strings.h"

namespace stratus::services::apigateway {

namespace {

Json NullIfEmpty(Json j) {
  if (j.is_object() && j.empty()) return Json();
  return j;
}

// CloudFront, in front of every REST API, rewrites a few header names into their canonical
// casing; the rest keep the casing the client sent.
std::string CanonicalName(const std::string& name) {
  if (IEquals(name, "user-agent")) return "User-Agent";
  if (IEquals(name, "host")) return "Host";
  return name;
}

bool DroppedV1Header(std::string_view name) {
  return IEquals(name, "content-length") || IEquals(name, "connection") ||
         IEquals(name, "transfer-encoding") || IEquals(name, "expect");
}

void QueryMaps(const std::string& raw_query, Json& single, Json& multi, bool comma_join) {
  single = Json::object();
  multi = Json::object();
  if (raw_query.empty()) return;
  for (auto& [k, v] : ParseQuery(raw_query, /*plus_as_space=*/false)) {
    if (!multi.contains(k)) multi[k] = Json::array();
    multi[k].push_back(v);
    if (comma_join && single.contains(k)) {
      single[k] = single[k].get<std::string>() + "," + v;
    } else {
      single[k] = v;
    }
  }
}

std::string HeaderValueString(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return {};
}

bool HeaderNameOk(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    if (ch <= 32 || ch >= 127 || ch == ':') return false;
  }
  return true;
}

bool HeaderValueOk(std::string_view v) { return v.find_first_of("\r\n") == std::string::npos; }

// Adds `value` to `name`, joining with ", " into one header line that keeps the casing of the
// first occurrence (as AWS merges multiValueHeaders and headers). Set-Cookie is never joined
// (a cookie's Expires holds a comma; RFC 6265 forbids folding): each value is its own line.
void MergeHeader(Headers& h, const std::string& name, const std::string& value) {
  if (IEquals(name, "set-cookie")) {
    h.Add(name, value);
    return;
  }
  if (auto cur = h.Get(name)) {
    std::string joined = std::string(*cur) + ", " + value;
    std::string kept;
    for (const auto& [n, v] : h) {
      if (IEquals(n, name)) {
        kept = n;
        break;
      }
    }
    h.Remove(name);
    h.Add(kept, joined);
  } else {
    h.Add(name, value);
  }
}

}  // namespace

std::string RequestTime(int64_t now_ms) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Json BuildV1Event(const ProxyRequest& r, const ProxyContext& c, bool http_api) {
  Json headers = Json::object();
  Json multi_headers = Json::object();
  for (const auto& [name0, value] : r.headers) {
    if (DroppedV1Header(name0)) continue;
    std::string name = CanonicalName(name0);
    // Repeated headers keep the casing of their first occurrence.
    std::string key = name;
    for (auto it = multi_headers.begin(); it != multi_headers.end(); ++it) {
      if (IEquals(it.key(), name)) {
        key = it.key();
        break;
      }
    }
    headers[key] = value;
    multi_headers[key].push_back(value);
  }
  Json qs, mqs;
  QueryMaps(r.raw_query, qs, mqs, /*comma_join=*/false);
  Json identity = Json{{"accessKey", nullptr},
                       {"accountId", nullptr},
                       {"caller", nullptr},
                       {"cognitoAuthenticationProvider", nullptr},
                       {"cognitoAuthenticationType", nullptr},
                       {"cognitoIdentityId", nullptr},
                       {"cognitoIdentityPoolId", nullptr},
                       {"principalOrgId", nullptr},
                       {"sourceIp", r.source_ip},
                       {"user", nullptr},
                       {"userAgent", std::string(r.headers.GetOr("user-agent"))},
                       {"userArn", nullptr}};
  if (!c.api_key.empty()) {
    identity["apiKey"] = c.api_key;
    identity["apiKeyId"] = c.api_key_id;
  }
  Json rc = Json::object();
  rc["accountId"] = c.account;
  rc["apiId"] = c.api_id;
  if (!c.authorizer.is_null()) rc["authorizer"] = c.authorizer;
  rc["deploymentId"] = c.deployment_id;
  rc["domainName"] = c.domain_name;
  rc["domainPrefix"] = c.api_id;
  rc["extendedRequestId"] = c.extended_request_id;
  rc["httpMethod"] = r.method;
  rc["identity"] = identity;
  rc["path"] = c.stage_path;
  rc["protocol"] = r.protocol;
  rc["requestId"] = c.request_id;
  rc["requestTime"] = RequestTime(c.now_ms);
  rc["requestTimeEpoch"] = c.now_ms;
  rc["resourceId"] = c.resource_id;
  rc["resourcePath"] = c.resource_path;
  rc["stage"] = c.stage;
  Json ev = Json::object();
  if (http_api) ev["version"] = "1.0";
  ev["resource"] = c.resource_path;
  ev["path"] = http_api ? r.raw_path : r.path;
  ev["httpMethod"] = r.method;
  ev["headers"] = NullIfEmpty(headers);
  ev["multiValueHeaders"] = NullIfEmpty(multi_headers);
  ev["queryStringParameters"] = NullIfEmpty(qs);
  ev["multiValueQueryStringParameters"] = NullIfEmpty(mqs);
  ev["pathParameters"] = NullIfEmpty(c.path_parameters.is_null() ? Json::object() : c.path_parameters);
  ev["stageVariables"] = NullIfEmpty(c.stage_variables.is_null() ? Json::object() : c.stage_variables);
  ev["requestContext"] = rc;
  ev["body"] = r.body.empty() ? Json() : Json(r.body);
  ev["isBase64Encoded"] = r.base64_body;
  return ev;
}

Json BuildV2Event(const ProxyRequest& r, const ProxyContext& c) {
  Json headers = Json::object();
  Json cookies = Json::array();
  for (const auto& [name, value] : r.headers) {
    std::string lower = ToLower(name);
    if (lower == "cookie") {
      for (auto& part : Split(value, ';')) {
        auto t = Trim(part);
        if (!t.empty()) cookies.push_back(std::string(t));
      }
      continue;
    }
    if (lower == "connection" || lower == "transfer-encoding" || lower == "expect") continue;
    if (headers.contains(lower)) {
      headers[lower] = headers[lower].get<std::string>() + "," + value;
    } else {
      headers[lower] = value;
    }
  }
  Json qs, mqs;
  QueryMaps(r.raw_query, qs, mqs, /*comma_join=*/true);
  Json rc = Json::object();
  rc["accountId"] = c.account;
  rc["apiId"] = c.api_id;
  if (!c.authorizer.is_null()) rc["authorizer"] = c.authorizer;
  rc["domainName"] = c.domain_name;
  rc["domainPrefix"] = c.api_id;
  rc["http"] = Json{{"method", r.method},
                    {"path", r.path},
                    {"protocol", r.protocol},
                    {"sourceIp", r.source_ip},
                    {"userAgent", std::string(r.headers.GetOr("user-agent"))}};
  rc["requestId"] = c.request_id;
  rc["routeKey"] = c.route_key;
  rc["stage"] = c.stage;
  rc["time"] = RequestTime(c.now_ms);
  rc["timeEpoch"] = c.now_ms;
  Json ev = Json::object();
  ev["version"] = "2.0";
  ev["routeKey"] = c.route_key;
  ev["rawPath"] = r.raw_path;
  ev["rawQueryString"] = r.raw_query;
  if (!cookies.empty()) ev["cookies"] = cookies;
  ev["headers"] = headers;
  if (!qs.empty()) ev["queryStringParameters"] = qs;
  ev["requestContext"] = rc;
  if (!r.body.empty()) ev["body"] = r.body;
  if (c.path_parameters.is_object() && !c.path_parameters.empty()) {
    ev["pathParameters"] = c.path_parameters;
  }
  ev["isBase64Encoded"] = r.base64_body;
  if (c.stage_variables.is_object() && !c.stage_variables.empty()) {
    ev["stageVariables"] = c.stage_variables;
  }
  return ev;
}

Result<ProxyResponse> ParseV1Response(std::string_view payload, bool decode_base64) {
  auto malformed = [](const std::string& why) {
    return Error("MalformedProxyResponse", "Malformed Lambda proxy response: " + why, 502);
  };
  Json j = ParseJsonOrDiscarded(payload);
  if (j.is_discarded() || !j.is_object()) return malformed("not a JSON object");
  ProxyResponse out;
  for (const auto& [k, v] : j.items()) {
    if (k != "statusCode" && k != "headers" && k != "multiValueHeaders" && k != "body" &&
        k != "isBase64Encoded") {
      return malformed("unexpected member " + k);
    }
  }
  if (j.contains("statusCode")) {
    const Json& s = j["statusCode"];
    if (s.is_number_integer()) {
      out.status = s.get<int>();
    } else if (s.is_string()) {
      auto n = ParseInt64(s.get<std::string>());
      if (!n) return malformed("statusCode is not a number");
      out.status = static_cast<int>(*n);
    } else if (!s.is_null()) {
      return malformed("statusCode is not a number");
    }
  }
  if (out.status < 100 || out.status > 599) return malformed("statusCode out of range");
  if (j.contains("multiValueHeaders") && !j["multiValueHeaders"].is_null()) {
    const Json& mh = j["multiValueHeaders"];
    if (!mh.is_object()) return malformed("multiValueHeaders is not an object");
    for (const auto& [name, values] : mh.items()) {
      if (!values.is_array()) return malformed("multiValueHeaders values must be lists");
      if (!HeaderNameOk(name)) return malformed("invalid header name");
      for (const auto& v : values) {
        std::string s = HeaderValueString(v);
        if (!HeaderValueOk(s)) return malformed("invalid header value");
        MergeHeader(out.headers, name, s);
      }
    }
  }
  if (j.contains("headers") && !j["headers"].is_null()) {
    const Json& h = j["headers"];
    if (!h.is_object()) return malformed("headers is not an object");
    for (const auto& [name, v] : h.items()) {
      if (v.is_object() || v.is_array()) return malformed("header values must be scalars");
      std::string s = HeaderValueString(v);
      if (!HeaderNameOk(name) || !HeaderValueOk(s)) return malformed("invalid header");
      MergeHeader(out.headers, name, s);
    }
  }
  bool b64 = false;
  if (j.contains("isBase64Encoded") && !j["isBase64Encoded"].is_null()) {
    if (!j["isBase64Encoded"].is_boolean()) return malformed("isBase64Encoded is not a boolean");
    b64 = j["isBase64Encoded"].get<bool>();
  }
  if (j.contains("body") && !j["body"].is_null()) {
    if (!j["body"].is_string()) return malformed("body is not a string");
    out.body = j["body"].get<std::string>();
    if (b64 && decode_base64) {
      auto d = Base64Decode(out.body);
      if (!d) return malformed("body is not valid base64");
      out.body = std::move(*d);
    }
  }
  if (!out.headers.Has("content-type")) out.headers.Add("Content-Type", "application/json");
  return out;
}

Result<ProxyResponse> ParseV2Response(std::string_view payload) {
  auto malformed = [](const std::string& why) {
    return Error("MalformedProxyResponse", "Malformed Lambda proxy response: " + why, 502);
  };
  Json j = ParseJsonOrDiscarded(payload);
  if (j.is_discarded()) return malformed("not JSON");
  ProxyResponse out;
  if (!j.is_object() || !j.contains("statusCode")) {
    // Inferred format: the whole answer is the body.
    out.headers.Add("Content-Type", "application/json");
    out.body = j.is_string() ? j.get<std::string>() : std::string(payload);
    return out;
  }
  const Json& s = j["statusCode"];
  if (s.is_number_integer()) {
    out.status = s.get<int>();
  } else if (s.is_string() && ParseInt64(s.get<std::string>())) {
    out.status = static_cast<int>(*ParseInt64(s.get<std::string>()));
  } else {
    return malformed("statusCode is not a number");
  }
  if (out.status < 100 || out.status > 599) return malformed("statusCode out of range");
  if (j.contains("headers") && j["headers"].is_object()) {
    for (const auto& [name, v] : j["headers"].items()) {
      if (v.is_object() || v.is_array()) return malformed("header values must be scalars");
      std::string val = HeaderValueString(v);
      if (!HeaderNameOk(name) || !HeaderValueOk(val)) return malformed("invalid header");
      MergeHeader(out.headers, name, val);
    }
  }
  if (j.contains("multiValueHeaders") && j["multiValueHeaders"].is_object()) {
    for (const auto& [name, vals] : j["multiValueHeaders"].items()) {
      if (!vals.is_array()) return malformed("multiValueHeaders values must be lists");
      for (const auto& v : vals) {
        std::string val = HeaderValueString(v);
        if (!HeaderNameOk(name) || !HeaderValueOk(val)) return malformed("invalid header");
        MergeHeader(out.headers, name, val);
      }
    }
  }
  if (j.contains("cookies") && j["cookies"].is_array()) {
    for (const auto& ck : j["cookies"]) {
      if (!ck.is_string() || !HeaderValueOk(ck.get<std::string>())) {
        return malformed("cookies must be strings");
      }
      out.headers.Add("Set-Cookie", ck.get<std::string>());
    }
  }
  if (j.contains("body") && !j["body"].is_null()) {
    out.body = j["body"].is_string() ? j["body"].get<std::string>() : j["body"].dump();
    if (j.value("isBase64Encoded", false)) {
      auto d = Base64Decode(out.body);
      if (!d) return malformed("body is not valid base64");
      out.body = std::move(*d);
    }
  }
  if (!out.headers.Has("content-type")) out.headers.Add("Content-Type", "application/json");
  return out;
}

bool IsBinaryType(std::string_view content_type, const Json& binary_media_types) {
  if (!binary_media_types.is_array() || binary_media_types.empty() || content_type.empty()) {
    return false;
  }
  for (auto& part0 : Split(content_type, ',')) {
    std::string part = ToLower(Trim(part0.substr(0, part0.find(';'))));
    if (part.empty()) continue;
    for (const auto& t : binary_media_types) {
      if (!t.is_string()) continue;
      std::string pat = ToLower(t.get<std::string>());
      if (pat == "*/*" || pat == part) return true;
      if (EndsWith(pat, "/*") && StartsWith(part, pat.substr(0, pat.size() - 1))) return true;
    }
  }
  return false;
}

}  // namespace stratus::services::apigateway
