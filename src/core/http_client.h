#pragma once
// HttpClient: outbound HTTP/1.1 and HTTPS requests for services that call out (SNS http/https
// deliveries, API Gateway HTTP integrations, JWKS fetches). Asynchronous: a request never holds a
// caller's thread; every request has a deadline, so an endpoint that hangs costs a timer, not a
// thread.
//
// The client owns one io thread, started by its first Fetch. It is thread-safe: Fetch may be
// called from any thread, and `done` is called exactly once on the client's thread (keep it
// short; hand real work to a worker pool). Destroy the client only after its users: requests
// still in flight are abandoned and their `done` is never called.
//
// Errors (as Error values, never exceptions): "InvalidUrl", "ConnectionFailed" (DNS, refused,
// TLS handshake), "Timeout", "ResponseTooLarge", "ProtocolError".
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/http.h"
#include "core/result.h"

namespace stratus {

struct ClientRequest {
  std::string method = "GET";
  std::string url;          // http://host[:port]/path?query or https://...
  Headers headers;          // Host, Content-Length and User-Agent are added when absent
  std::string body;
  int64_t timeout_ms = 30'000;             // the whole exchange, connect to last byte
  size_t max_response_bytes = 16 << 20;
  bool verify_tls = true;   // verify the server certificate against the system CA store
};

// The parts of a URL the client needs.
struct ParsedUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string target;  // path and query, at least "/"
};
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void Fetch(ClientRequest request, std::function<void(Result<HttpResponse>)> done);
  // Blocks until done. Never call from a network io thread or from a Fetch callback. On a
  // WorkerPool thread the wait is a WorkerPool::BlockingScope (the request may be to this server).
  Result<HttpResponse> FetchAndWait(ClientRequest request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus
