#include "services/s3/cors.h"

#include "core/strings.h"

namespace stratus::services::s3 {

namespace {

// Matches `value` against a pattern with at most one '*' wildcard (case-insensitive for headers).
bool WildcardMatch(std::string_view pattern, std::string_view value) {
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == value;
  std::string_view head = pattern.substr(0, star);
  std::string_view tail = pattern.substr(star + 1);
  return value.size() >= head.size() + tail.size() && StartsWith(value, head) &&
         EndsWith(value, tail);
}

std::string JoinList(const Json& list) {
  std::vector<std::string> items;
  for (const auto& v : list) {
    if (v.is_string()) items.push_back(v.get<std::string>());
  }
  return Join(items, ", ");
}

}  // namespace

std::vector<std::string> RequestedHeaders(const HttpRequest& request) {
  std::vector<std::string> out;
  for (const std::string& h : Split(request.headers.GetOr("access-control-request-headers"), ',')) {
    std::string t = ToLower(Trim(h));
    if (!t.empty()) out.push_back(std::move(t));
  }
  return out;
}

std::optional<Json> MatchCorsRule(const Json& config, const std::string& origin,
                                  const std::string& method,
                                  const std::vector<std::string>& request_headers) {
  for (const auto& rule : config.value("CORSRules", Json::array())) {
    bool origin_ok = false;
    for (const auto& o : rule.value("AllowedOrigins", Json::array())) {
      if (o.is_string() && WildcardMatch(o.get<std::string>(), origin)) origin_ok = true;
    }
    bool method_ok = false;
    for (const auto& m : rule.value("AllowedMethods", Json::array())) {
      if (m.is_string() && m.get<std::string>() == method) method_ok = true;
    }
    if (!origin_ok || !method_ok) continue;
    bool headers_ok = true;
    for (const std::string& h : request_headers) {
      bool allowed = false;
      for (const auto& a : rule.value("AllowedHeaders", Json::array())) {
        if (a.is_string() && WildcardMatch(ToLower(a.get<std::string>()), h)) allowed = true;
      }
      headers_ok = headers_ok && allowed;
    }
    if (headers_ok) return rule;
  }
  return std::nullopt;
}

void AddCorsHeaders(Headers& headers, const Json& rule, const std::string& origin,
                    bool preflight, const std::vector<std::string>& request_headers) {
  bool any_origin = false;
  for (const auto& o : rule.value("AllowedOrigins", Json::array())) {
    if (o == "*") any_origin = true;
  }
  headers.Set("Access-Control-Allow-Origin", any_origin ? "*" : origin);
  if (!any_origin) headers.Set("Access-Control-Allow-Credentials", "true");
  headers.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
  headers.Set("Access-Control-Allow-Methods", JoinList(rule.value("AllowedMethods", Json::array())));
  if (auto expose = rule.find("ExposeHeaders"); expose != rule.end() && !expose->empty()) {
    headers.Set("Access-Control-Expose-Headers", JoinList(*expose));
  }
  if (auto age = rule.find("MaxAgeSeconds"); age != rule.end() && age->is_number()) {
    headers.Set("Access-Control-Max-Age", std::to_string(age->get<int64_t>()));
  }
  if (preflight && !request_headers.empty()) {
    headers.Set("Access-Control-Allow-Headers", Join(request_headers, ", "));
  }
}

HttpResponse PreflightResponse(const std::optional<Json>& config, const HttpRequest& request,
                               const std::string& request_id) {
  std::string origin(request.headers.GetOr("origin"));
  std::string method(request.headers.GetOr("access-control-request-method"));
  auto requested = RequestedHeaders(request);
  HttpResponse r;
  r.headers.Set("x-amz-request-id", request_id);
  r.headers.Set("x-amz-id-2", request_id);
  std::optional<Json> rule;
  if (config && !origin.empty() && !method.empty()) {
    rule = MatchCorsRule(*config, origin, method, requested);
  }
  if (rule) {
    AddCorsHeaders(r.headers, *rule, origin, true, requested);
    return r;
  }
  r.status = 403;
  r.headers.Set("Content-Type", "application/xml");
  std::string message = !config ? "CORSResponse: CORS is not enabled for this bucket."
                                : "CORSResponse: This CORS request is not allowed. This is usually "
                                  "because the evalution of Origin, request method / "
                                  "Access-Control-Request-Method or Access-Control-Request-Headers "
                                  "are not whitelisted by the resource's CORS spec.";
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessForbidden</Code><Message>" +
           XmlEscape(message) + "</Message><Method>" + XmlEscape(method) +
           "</Method><ResourceType>OBJECT</ResourceType><RequestId>" + request_id +
           "</RequestId><HostId>" + request_id + "</HostId></Error>";
  return r;
}

}  // namespace stratus::services::s3
