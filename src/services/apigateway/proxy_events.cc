#include "services/apigateway/proxy_events.h"

#include <array>
#include <charconv>
#include <ctime>
#include <optional>
#include <vector>

#include "core/strings.h"

namespace stratus::services::apigateway {

namespace {

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

namespace {

// RequestTime's text, from a per-thread cache of the current second (no copy for the caller).
const std::string& RequestTimeText(int64_t now_ms) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Every event and access log line of one second shows the same text: formatted once per
  // second per thread (gmtime_r and snprintf were 40% of writing a proxy event).
  struct Cached {
    bool set = false;
    std::time_t second = 0;
    std::string text;
  };
  thread_local Cached cached;
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  if (cached.set && t == cached.second) return cached.text;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  cached.set = true;
  cached.second = t;
  cached.text = buf;
  return cached.text;
}

}  // namespace

std::string RequestTime(int64_t now_ms) { return RequestTimeText(now_ms); }

namespace {

// Appends `s` as a JSON string. Invalid UTF-8 is replaced (U+FFFD), as DumpJson does.
void PutString(std::string& out, std::string_view s) {
  const size_t mark = out.size();
  if (AppendJsonString(out, s)) return;
  out.resize(mark);
  out += DumpJson(Json(std::string(s)));
}

// `"name":` (names are literals that need no escape), preceded by a comma unless first.
void PutKey(std::string& out, std::string_view name, bool first = false) {
  if (!first) out.push_back(',');
  out.push_back('"');
  out.append(name);
  out.append("\":");
}

void PutMember(std::string& out, std::string_view name, std::string_view value,
               bool first = false) {
  PutKey(out, name, first);
  PutString(out, value);
}

// A DOM member (path parameters, stage variables): null when absent or empty.
void PutJson(std::string& out, const Json& v) {
  if (v.is_null() || (v.is_object() && v.empty())) {
    out.append("null");
  } else {
    out += DumpJson(v);
  }
}

// Names (or query keys) in order of first occurrence, each with its values in arrival order.
struct Group {
  std::string name;
  std::vector<std::string_view> values;
};
using Groups = std::vector<Group>;

Group& GroupFor(Groups& groups, std::string_view name, bool case_insensitive) {
  for (auto& g : groups) {
    if (case_insensitive ? IEquals(g.name, name) : g.name == name) return g;
  }
  groups.push_back(Group{std::string(name), {}});
  return groups.back();
}

// {"name":"value",...}: the last value of each name, or all joined by `join` when non-empty.
void PutSingle(std::string& out, const Groups& groups, std::string_view join) {
  out.push_back('{');
  bool first = true;
  for (const auto& g : groups) {
    if (!first) out.push_back(',');
    first = false;
    PutString(out, g.name);
    out.push_back(':');
    if (join.empty() || g.values.size() == 1) {
      PutString(out, g.values.back());
    } else {
      std::string joined(g.values[0]);
      for (size_t i = 1; i < g.values.size(); ++i) {
        joined.append(join);
        joined.append(g.values[i]);
      }
      PutString(out, joined);
    }
  }
  out.push_back('}');
}

// {"name":["v1","v2"],...}
void PutMulti(std::string& out, const Groups& groups) {
  out.push_back('{');
  bool first = true;
  for (const auto& g : groups) {
    if (!first) out.push_back(',');
    first = false;
    PutString(out, g.name);
    out.append(":[");
    for (size_t i = 0; i < g.values.size(); ++i) {
      if (i) out.push_back(',');
      PutString(out, g.values[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

void PutBody(std::string& out, const ProxyRequest& r) {
  if (r.base64_body) {
    PutString(out, Base64Encode(r.body));
  } else {
    PutString(out, r.body);
  }
}

}  // namespace

std::string WriteV1Event(const ProxyRequest& r, const ProxyContext& c, bool http_api) {
  Groups headers;
  for (const auto& [name0, value] : r.headers) {
    if (DroppedV1Header(name0)) continue;
    // Repeated headers keep the casing of their first occurrence.
    GroupFor(headers, CanonicalName(name0), true).values.push_back(value);
  }
  std::vector<std::pair<std::string, std::string>> query;
  Groups qs;
  if (!r.raw_query.empty()) {
    query = ParseQuery(r.raw_query, /*plus_as_space=*/false);
    for (const auto& [k, v] : query) GroupFor(qs, k, false).values.push_back(v);
  }
  std::string out;
  out.reserve(1024 + r.body.size() * (r.base64_body ? 2 : 1) + r.raw_query.size() * 2);
  out.push_back('{');
  if (http_api) PutMember(out, "version", "1.0", true);
  PutMember(out, "resource", c.resource_path, !http_api);
  PutMember(out, "path", http_api ? r.raw_path : r.path);
  PutMember(out, "httpMethod", r.method);
  PutKey(out, "headers");
  if (headers.empty()) {
    out.append("null");
  } else {
    PutSingle(out, headers, {});
  }
  PutKey(out, "multiValueHeaders");
  if (headers.empty()) {
    out.append("null");
  } else {
    PutMulti(out, headers);
  }
  PutKey(out, "queryStringParameters");
  if (qs.empty()) {
    out.append("null");
  } else {
    PutSingle(out, qs, {});
  }
  PutKey(out, "multiValueQueryStringParameters");
  if (qs.empty()) {
    out.append("null");
  } else {
    PutMulti(out, qs);
  }
  PutKey(out, "pathParameters");
  PutJson(out, c.path_parameters);
  PutKey(out, "stageVariables");
  PutJson(out, c.stage_variables);
  PutKey(out, "requestContext");
  out.push_back('{');
  PutMember(out, "accountId", c.account, true);
  PutMember(out, "apiId", c.api_id);
  if (!c.authorizer.is_null()) {
    PutKey(out, "authorizer");
    out += DumpJson(c.authorizer);
  }
  PutMember(out, "deploymentId", c.deployment_id);
  PutMember(out, "domainName", c.domain_name);
  PutMember(out, "domainPrefix", c.api_id);
  PutMember(out, "extendedRequestId", c.extended_request_id);
  PutMember(out, "httpMethod", r.method);
  PutKey(out, "identity");
  auto iam = [&](const char* name) {
    return c.iam_identity.is_object() ? DumpJson(c.iam_identity.value(name, Json())) : std::string("null");
  };
  out.append("{\"accessKey\":" + iam("accessKey") + ",\"accountId\":" + iam("accountId") +
             ",\"caller\":" + iam("caller") +
             ",\"cognitoAuthenticationProvider\":null,\"cognitoAuthenticationType\":null,"
             "\"cognitoIdentityId\":null,\"cognitoIdentityPoolId\":null,"
             "\"principalOrgId\":null");
  PutMember(out, "sourceIp", r.source_ip);
  out.append(",\"user\":" + iam("user"));
  PutMember(out, "userAgent", r.headers.GetOr("user-agent"));
  out.append(",\"userArn\":" + iam("userArn"));
  if (!c.api_key.empty()) {
    PutMember(out, "apiKey", c.api_key);
    PutMember(out, "apiKeyId", c.api_key_id);
  }
  out.push_back('}');
  PutMember(out, "path", c.stage_path);
  PutMember(out, "protocol", r.protocol);
  PutMember(out, "requestId", c.request_id);
  PutMember(out, "requestTime", RequestTimeText(c.now_ms));
  PutKey(out, "requestTimeEpoch");
  out += std::to_string(c.now_ms);
  PutMember(out, "resourceId", c.resource_id);
  PutMember(out, "resourcePath", c.resource_path);
  PutMember(out, "stage", c.stage);
  out.push_back('}');
  PutKey(out, "body");
  if (r.body.empty()) {
    out.append("null");
  } else {
    PutBody(out, r);
  }
  PutKey(out, "isBase64Encoded");
  out.append(r.base64_body ? "true" : "false");
  out.push_back('}');
  return out;
}

namespace {

// `literal` (a key with its punctuation: `,"name":`), its length known at compile time.
template <size_t N>
void PutRaw(std::string& out, const char (&literal)[N]) {
  out.append(literal, N - 1);
}

// One header of a v2 event, in arrival order.
struct HeaderRef {
  std::string_view name;
  std::string_view value;
  bool written = false;
};

// {"name":"v1,v2",...}: v2's `headers`, names lowercased, repeated names (in any case) joined
// with commas under their first occurrence, in order of first occurrence. Scratch space is the
// caller's, reused across events.
void PutV2Headers(std::string& out, std::vector<HeaderRef>& headers, std::string& scratch) {
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < headers.size(); ++i) {
    HeaderRef& h = headers[i];
    if (h.written) continue;
    if (!first) out.push_back(',');
    first = false;
    scratch.assign(h.name);
    for (char& ch : scratch) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    PutString(out, scratch);
    out.push_back(':');
    bool joined = false;
    for (size_t k = i + 1; k < headers.size(); ++k) {
      if (headers[k].written || !IEquals(headers[k].name, h.name)) continue;
      if (!joined) scratch.assign(h.value);
      joined = true;
      scratch.push_back(',');
      scratch.append(headers[k].value);
      headers[k].written = true;
    }
    PutString(out, joined ? std::string_view(scratch) : h.value);
  }
  out.push_back('}');
}

}  // namespace

std::string WriteV2Event(const ProxyRequest& r, const ProxyContext& c) {
  // Per-thread scratch: a warm event allocates only its own text.
  thread_local std::vector<HeaderRef> headers;
  thread_local std::string scratch;
  headers.clear();
  std::vector<std::string> cookies;
  size_t header_bytes = 0;
  for (const auto& [name, value] : r.headers) {
    if (IEquals(name, "cookie")) {
      for (auto& part : Split(value, ';')) {
        auto t = Trim(part);
        if (!t.empty()) cookies.emplace_back(t);
      }
      continue;
    }
    if (IEquals(name, "connection") || IEquals(name, "transfer-encoding") ||
        IEquals(name, "expect")) {
      continue;
    }
    headers.push_back(HeaderRef{name, value});
    header_bytes += name.size() + value.size() + 6;
  }
  std::vector<std::pair<std::string, std::string>> query;
  Groups qs;
  if (!r.raw_query.empty()) {
    query = ParseQuery(r.raw_query, /*plus_as_space=*/false);
    for (const auto& [k, v] : query) GroupFor(qs, k, false).values.push_back(v);
  }
  std::string out;
  out.reserve(640 + header_bytes + r.body.size() * (r.base64_body ? 2 : 1) +
              r.raw_query.size() * 2);
  PutRaw(out, R"({"version":"2.0","routeKey":)");
  PutString(out, c.route_key);
  PutRaw(out, R"(,"rawPath":)");
  PutString(out, r.raw_path);
  PutRaw(out, R"(,"rawQueryString":)");
  PutString(out, r.raw_query);
  if (!cookies.empty()) {
    PutRaw(out, R"(,"cookies":[)");
    for (size_t i = 0; i < cookies.size(); ++i) {
      if (i) out.push_back(',');
      PutString(out, cookies[i]);
    }
    out.push_back(']');
  }
  PutRaw(out, R"(,"headers":)");
  PutV2Headers(out, headers, scratch);
  if (!qs.empty()) {
    PutRaw(out, R"(,"queryStringParameters":)");
    PutSingle(out, qs, ",");
  }
  PutRaw(out, R"(,"requestContext":{"accountId":)");
  PutString(out, c.account);
  PutRaw(out, R"(,"apiId":)");
  PutString(out, c.api_id);
  if (!c.authorizer.is_null()) {
    PutRaw(out, R"(,"authorizer":)");
    out += DumpJson(c.authorizer);
  }
  PutRaw(out, R"(,"domainName":)");
  PutString(out, c.domain_name);
  PutRaw(out, R"(,"domainPrefix":)");
  PutString(out, c.api_id);
  PutRaw(out, R"(,"http":{"method":)");
  PutString(out, r.method);
  PutRaw(out, R"(,"path":)");
  PutString(out, r.path);
  PutRaw(out, R"(,"protocol":)");
  PutString(out, r.protocol);
  PutRaw(out, R"(,"sourceIp":)");
  PutString(out, r.source_ip);
  PutRaw(out, R"(,"userAgent":)");
  PutString(out, r.headers.GetOr("user-agent"));
  PutRaw(out, R"(},"requestId":)");
  PutString(out, c.request_id);
  PutRaw(out, R"(,"routeKey":)");
  PutString(out, c.route_key);
  PutRaw(out, R"(,"stage":)");
  PutString(out, c.stage);
  PutRaw(out, R"(,"time":)");
  PutString(out, RequestTimeText(c.now_ms));
  PutRaw(out, R"(,"timeEpoch":)");
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), c.now_ms);
  (void)ec;  // 24 bytes hold any int64
  out.append(digits, end);
  out.push_back('}');
  if (!r.body.empty()) {
    PutRaw(out, R"(,"body":)");
    PutBody(out, r);
  }
  if (c.path_parameters.is_object() && !c.path_parameters.empty()) {
    PutRaw(out, R"(,"pathParameters":)");
    out += DumpJson(c.path_parameters);
  }
  if (r.base64_body) {
    PutRaw(out, R"(,"isBase64Encoded":true)");
  } else {
    PutRaw(out, R"(,"isBase64Encoded":false)");
  }
  if (c.stage_variables.is_object() && !c.stage_variables.empty()) {
    PutRaw(out, R"(,"stageVariables":)");
    out += DumpJson(c.stage_variables);
  }
  out.push_back('}');
  return out;
}

Json BuildV1Event(const ProxyRequest& r, const ProxyContext& c, bool http_api) {
  return ParseJsonOrDiscarded(WriteV1Event(r, c, http_api));
}

Json BuildV2Event(const ProxyRequest& r, const ProxyContext& c) {
  return ParseJsonOrDiscarded(WriteV2Event(r, c));
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

namespace {

// The usual payload-2.0 answer read without a DOM: a JSON object whose members are only
// statusCode (an integer of 1-9 digits), body (a string) and headers (an object of string
// values), each at most once, every string of printable ASCII without escapes, and which maps
// without error. Anything else - escapes, other bytes, members, value types, duplicates, an
// error - gives nullopt and the caller parses the DOM, so both give the same answer.
std::optional<ProxyResponse> ParseV2ResponseFast(std::string_view p) {
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < p.size() && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) ++i;
  };
  auto next_is = [&](char c) { return i < p.size() && p[i] == c; };
  auto plain_string = [&](std::string_view& out) {
    if (!next_is('"')) return false;
    size_t start = ++i;
    for (; i < p.size(); ++i) {
      auto c = static_cast<unsigned char>(p[i]);
      if (c == '"') {
        out = p.substr(start, i - start);
        ++i;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  };
  // Past a value: a comma before the next member (true, `more` set), or the closing brace.
  auto member_end = [&](bool& more) {
    skip_ws();
    if (next_is(',')) {
      ++i;
      skip_ws();
      more = true;
      return true;
    }
    if (next_is('}')) {
      ++i;
      more = false;
      return true;
    }
    return false;
  };
  constexpr size_t kMaxHeaders = 16;
  std::array<std::pair<std::string_view, std::string_view>, kMaxHeaders> headers;
  size_t header_count = 0;
  bool has_status = false, has_body = false, has_headers = false;
  int status = 0;
  std::string_view body;
  skip_ws();
  if (!next_is('{')) return std::nullopt;
  ++i;
  skip_ws();
  for (bool more = true; more;) {
    std::string_view key;
    if (!plain_string(key)) return std::nullopt;
    skip_ws();
    if (!next_is(':')) return std::nullopt;
    ++i;
    skip_ws();
    if (key == "statusCode") {
      if (has_status) return std::nullopt;
      has_status = true;
      size_t start = i;
      while (i < p.size() && p[i] >= '0' && p[i] <= '9') ++i;
      size_t digits = i - start;
      if (digits == 0 || digits > 9 || (digits > 1 && p[start] == '0')) return std::nullopt;
      for (size_t k = start; k < i; ++k) status = status * 10 + (p[k] - '0');
    } else if (key == "body") {
      if (has_body || !plain_string(body)) return std::nullopt;
      has_body = true;
    } else if (key == "headers") {
      if (has_headers || !next_is('{')) return std::nullopt;
      has_headers = true;
      ++i;
      skip_ws();
      for (bool more_headers = !next_is('}'); more_headers;) {
        std::string_view name, value;
        if (header_count == kMaxHeaders || !plain_string(name)) return std::nullopt;
        skip_ws();
        if (!next_is(':')) return std::nullopt;
        ++i;
        skip_ws();
        if (!plain_string(value) || !HeaderNameOk(name)) return std::nullopt;
        for (size_t k = 0; k < header_count; ++k) {
          if (headers[k].first == name) return std::nullopt;  // the DOM keeps the last value
        }
        headers[header_count++] = {name, value};
        if (!member_end(more_headers)) return std::nullopt;
      }
      if (header_count == 0) ++i;  // the empty object's closing brace
    } else {
      return std::nullopt;
    }
    if (!member_end(more)) return std::nullopt;
  }
  skip_ws();
  if (i != p.size() || !has_status || status < 100 || status > 599) return std::nullopt;
  ProxyResponse out;
  out.status = status;
  for (size_t k = 0; k < header_count; ++k) {
    MergeHeader(out.headers, std::string(headers[k].first), std::string(headers[k].second));
  }
  out.body = body;
  if (!out.headers.Has("content-type")) out.headers.Add("Content-Type", "application/json");
  return out;
}

}  // namespace

Result<ProxyResponse> ParseV2Response(std::string_view payload) {
  if (auto fast = ParseV2ResponseFast(payload)) return std::move(*fast);
  return ParseV2ResponseDom(payload);
}

Result<ProxyResponse> ParseV2ResponseDom(std::string_view payload) {
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
