#pragma once
// HttpFetcher: outbound HTTP/1.1 (and HTTPS) requests for HTTP/HTTP_PROXY integrations and JWKS
// fetches. Asynchronous on one io thread of its own (Boost.Asio/Beast coroutines), so a slow
// upstream costs a timer, not a thread; every request has a deadline covering connect to last
// byte, and a response size limit.
//
// Thread-safe: Fetch may be called from any thread; `done` runs exactly once, on the fetcher's
// io thread (keep it short: hand real work to a worker pool). Destroying the fetcher cancels
// requests in flight; their `done` gets a "Cancelled" error.
//
// Errors (Error values, never exceptions): "InvalidUrl", "ConnectionFailed" (DNS, refused, TLS
// handshake), "Timeout", "ResponseTooLarge", "ProtocolError", "Cancelled".
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/http.h"
#include "core/result.h"

namespace stratus::services::apigateway {

struct FetchRequest {
  std::string method = "GET";
  std::string url;  // http://host[:port]/path?query or https://...
  Headers headers;  // Host, Content-Length and User-Agent are set when absent
  std::string body;
  int64_t timeout_ms = 29'000;
  size_t max_response_bytes = size_t{10} << 20;
};

struct FetchUrl {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // "/path?query", at least "/"
};
Result<FetchUrl> ParseFetchUrl(std::string_view url);

class HttpFetcher {
 public:
  HttpFetcher();
  ~HttpFetcher();
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  void Fetch(FetchRequest request, std::function<void(Result<HttpResponse>)> done);
  // Blocks until done. Never call from an io thread or from a Fetch callback.
  Result<HttpResponse> FetchAndWait(FetchRequest request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::services::apigateway
