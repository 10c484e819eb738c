#include "cli/remote.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "aws/sigv4/sigv4.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace stratus::cli {

namespace {

constexpr int64_t kFollowIntervalMs = 1000;
constexpr int64_t kCallTimeoutMs = 15 * 60 * 1000;  // a function may run for 15 minutes

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string Region(const RemoteOptions& o) {
  if (!o.region.empty()) return o.region;
  std::string r = Env("AWS_REGION", "");
  return r.empty() ? Env("AWS_DEFAULT_REGION", "us-east-1") : r;
}

// Sends a SigV4-signed request to the endpoint.
Result<HttpResponse> Send(HttpClient& client, const RemoteOptions& o, const std::string& service,
                          std::string method, std::string target, Headers headers,
                          std::string body) {
  auto url = ParseHttpUrl(o.endpoint);
  if (!url.ok()) return url.error();
  HttpRequest req;
  req.method = std::move(method);
  req.target = target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = target.substr(q + 1);
  req.headers = std::move(headers);
  req.headers.Set("Host", url->host + ":" + std::to_string(url->port));
  req.body = std::move(body);
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  aws::SignRequest(req, Env("AWS_ACCESS_KEY_ID", "test"), Env("AWS_SECRET_ACCESS_KEY", "test"),
                   Region(o), service, now, Env("AWS_SESSION_TOKEN", ""));
  ClientRequest cr;
  cr.method = req.method;
  std::string base = o.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  cr.url = base + target;
  cr.headers = req.headers;
  cr.body = std::move(req.body);
  cr.timeout_ms = kCallTimeoutMs;
  cr.max_response_bytes = 64 << 20;
  return client.FetchAndWait(std::move(cr));
}

// Prints an AWS error response; returns 2.
int PrintError(const HttpResponse& r) {
  Json body = ParseJsonOrDiscarded(r.body);
  std::string code(r.headers.GetOr("x-amzn-errortype"));
  code = code.substr(0, code.find(':'));
  std::string message;
  if (body.is_object()) {
    if (code.empty()) code = body.value("__type", body.value("Type", ""));
    message = body.value("message", body.value("Message", ""));
  }
  std::cerr << "stratus: " << (code.empty() ? "error" : code) << " (HTTP " << r.status
            << "): " << (message.empty() ? r.body : message) << "\n";
  return 2;
}

}  // namespace

int RunInvoke(const RemoteOptions& o, const std::string& function, const std::string& payload_arg,
              const std::string& qualifier) {
  std::string payload = payload_arg.empty() ? "{}" : payload_arg;
  if (StartsWith(payload, "@")) {
    std::ifstream in(payload.substr(1), std::ios::binary);
    if (!in) {
      std::cerr << "stratus: cannot read " << payload.substr(1) << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    payload = ss.str();
  }
  if (!Json::accept(payload)) {
    std::cerr << "stratus: the payload is not valid JSON\n";
    return 2;
  }
  std::string target = "/2015-03-31/functions/" + UrlEncode(function) + "/invocations";
  if (!qualifier.empty()) target += "?Qualifier=" + UrlEncode(qualifier);
  Headers headers;
  headers.Set("Content-Type", "application/json");
  headers.Set("X-Amz-Invocation-Type", "RequestResponse");
  headers.Set("X-Amz-Log-Type", "Tail");
  HttpClient client;
  auto r = Send(client, o, "lambda", "POST", target, std::move(headers), payload);
  if (!r.ok()) {
    std::cerr << "stratus: cannot reach " << o.endpoint << ": " << r.error().message << "\n";
    return 2;
  }
  if (r->status >= 300) return PrintError(*r);
  if (auto tail = r->headers.Get("x-amz-log-result")) {
    if (auto decoded = Base64Decode(*tail)) std::cerr << *decoded;
  }
  std::cout << r->body << "\n";
  return r->headers.Has("x-amz-function-error") ? 1 : 0;
}

int RunLogs(const RemoteOptions& o, const std::string& function, bool follow,
            int64_t since_minutes) {
  HttpClient client;
  std::string group = "/aws/lambda/" + function;
  int64_t start = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count() -
                  since_minutes * 60 * 1000;
  std::set<std::string> seen;  // event ids printed at the current start time
  while (true) {
    std::string token;
    int64_t newest = start;
    do {
      Json in{{"logGroupName", group}, {"startTime", start}, {"interleaved", true}};
      if (!token.empty()) in["nextToken"] = token;
      Headers headers;
      headers.Set("Content-Type", "application/x-amz-json-1.1");
      headers.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents");
      auto r = Send(client, o, "logs", "POST", "/", std::move(headers), DumpJson(in));
      if (!r.ok()) {
        std::cerr << "stratus: cannot reach " << o.endpoint << ": " << r.error().message << "\n";
        return 2;
      }
      if (r->status >= 300) {
        // No logs yet is not an error while following.
        if (follow && r->body.find("ResourceNotFoundException") != std::string::npos) break;
        return PrintError(*r);
      }
      Json out = ParseJsonOrDiscarded(r->body);
      if (!out.is_object()) return 2;
      for (const auto& e : out.value("events", Json::array())) {
        std::string id = e.value("eventId", "");
        if (!seen.insert(id).second) continue;
        int64_t ts = e.value("timestamp", int64_t{0});
        newest = std::max(newest, ts);
        std::string message = e.value("message", "");
        while (!message.empty() && message.back() == '\n') message.pop_back();
        std::cout << FormatIso8601(static_cast<double>(ts) / 1000.0, true) << " "
                  << e.value("logStreamName", "") << " " << message << "\n";
      }
      token = out.value("nextToken", "");
    } while (!token.empty());
    std::cout.flush();
    if (!follow) return 0;
    start = newest;
    std::this_thread::sleep_for(std::chrono::milliseconds(kFollowIntervalMs));
  }
}

}  // namespace stratus::cli
