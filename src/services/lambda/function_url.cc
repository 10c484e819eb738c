#include "services/lambda/function_url.h"

#include <ctime>

#include "core/strings.h"

namespace stratus::services::lambda {

namespace {

bool IsTextual(std::string_view content_type) {
  std::string ct = ToLower(content_type);
  return ct.empty() || StartsWith(ct, "text/") || ct.find("json") != std::string::npos ||
         ct.find("xml") != std::string::npos || ct.find("javascript") != std::string::npos ||
         ct.find("x-www-form-urlencoded") != std::string::npos;
}

std::string ClfTime(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%d/%b/%Y:%H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

std::string UrlIdFromHost(std::string_view host) {
  host = host.substr(0, host.find(':'));
  std::string h = ToLower(host);
  size_t dot = h.find(".lambda-url.");
  if (dot == std::string::npos || dot == 0) return {};
  std::string rest = h.substr(dot + std::string_view(".lambda-url.").size());
  size_t region_end = rest.find('.');
  if (region_end == std::string::npos) return {};
  std::string domain = rest.substr(region_end + 1);
  if (domain != "localhost" && domain != "localhost.localstack.cloud") return {};
  return h.substr(0, dot);
}

Json UrlEvent(const HttpRequest& r, const std::string& url_id, const std::string& region,
              const std::string& account, const std::string& request_id, int64_t now_ms) {
  Json headers = Json::object();
  Json cookies = Json::array();
  for (const auto& [name, value] : r.headers) {
    std::string n = ToLower(name);
    if (n == "cookie") {
      for (auto& c : Split(value, ';')) {
        std::string t(Trim(c));
        if (!t.empty()) cookies.push_back(t);
      }
      continue;
    }
    if (headers.contains(n)) {
      headers[n] = headers[n].get<std::string>() + "," + value;
    } else {
      headers[n] = value;
    }
  }
  Json query = Json::object();
  for (auto& [k, v] : ParseQuery(r.query)) {
    if (query.contains(k)) {
      query[k] = query[k].get<std::string>() + "," + v;
    } else {
      query[k] = v;
    }
  }
  std::string domain = url_id + ".lambda-url." + region + ".localhost";
  Json event{{"version", "2.0"},
             {"routeKey", "$default"},
             {"rawPath", UrlDecode(r.path)},
             {"rawQueryString", r.query},
             {"headers", headers}};
  if (!cookies.empty()) event["cookies"] = cookies;
  if (!query.empty()) event["queryStringParameters"] = query;
  event["requestContext"] = Json{
      {"accountId", "anonymous"},
      {"apiId", url_id},
      {"domainName", domain},
      {"domainPrefix", url_id},
      {"http", Json{{"method", r.method},
                    {"path", UrlDecode(r.path)},
                    {"protocol", r.version == 10 ? "HTTP/1.0" : "HTTP/1.1"},
                    {"sourceIp", r.remote_address},
                    {"userAgent", std::string(r.headers.GetOr("user-agent"))}}},
      {"requestId", request_id},
      {"routeKey", "$default"},
      {"stage", "$default"},
      {"time", ClfTime(now_ms)},
      {"timeEpoch", now_ms}};
  (void)account;
  if (!r.body.empty()) {
    bool text = IsTextual(r.headers.GetOr("content-type")) && IsValidUtf8(r.body);
    event["body"] = text ? r.body : Base64Encode(r.body);
    event["isBase64Encoded"] = !text;
  } else {
    event["isBase64Encoded"] = false;
  }
  return event;
}

HttpResponse UrlResponse(const std::string& payload) {
  HttpResponse out;
  Json result = ParseJsonOrDiscarded(payload);
  if (result.is_object() && result.contains("statusCode")) {
    out.status = result["statusCode"].is_number_integer() ? result["statusCode"].get<int>() : 200;
    if (out.status < 100 || out.status > 599) out.status = 500;
    if (result.contains("headers") && result["headers"].is_object()) {
      for (auto& [k, v] : result["headers"].items()) {
        out.headers.Set(k, v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    if (result.contains("multiValueHeaders") && result["multiValueHeaders"].is_object()) {
      for (auto& [k, vs] : result["multiValueHeaders"].items()) {
        if (!vs.is_array()) continue;
        for (auto& v : vs) out.headers.Add(k, v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    if (result.contains("cookies") && result["cookies"].is_array()) {
      for (auto& c : result["cookies"]) {
        if (c.is_string()) out.headers.Add("Set-Cookie", c.get<std::string>());
      }
    }
    if (result.contains("body")) {
      const Json& b = result["body"];
      std::string body = b.is_string() ? b.get<std::string>() : DumpJson(b);
      if (result.value("isBase64Encoded", false)) {
        auto decoded = Base64Decode(body);
        body = decoded ? *decoded : body;
      }
      out.body = std::move(body);
    }
    if (!out.headers.Has("content-type")) out.headers.Set("Content-Type", "application/json");
    return out;
  }
  out.status = 200;
  out.headers.Set("Content-Type", "application/json");
  out.body = result.is_string() ? result.get<std::string>() : payload;
  return out;
}

}  // namespace stratus::services::lambda
