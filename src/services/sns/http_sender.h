#pragma once
// HttpSender: the outbound HTTP(S) POSTs of SNS http/https deliveries. Asynchronous on one io
// thread of its own (Boost.Asio/Beast coroutines): a delivery never holds a caller's thread, and
// every request has a deadline, so an endpoint that hangs costs a timer, not a thread. HTTPS
// verifies the server against the system CA store (OpenSSL) and sends SNI.
//
// Thread-safe: Post may be called from any thread; `done` runs exactly once on the sender's io
// thread (keep it short). The destructor stops the io thread; requests still in flight are
// abandoned without calling `done`.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stratus::services::sns {

struct HttpPostResult {
  int status = 0;          // 0 when no response arrived
  std::string error;       // "" on a response; else what failed (connect, timeout, tls, ...)
  std::string body;
};

class HttpSender {
 public:
  HttpSender();
  ~HttpSender();
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  void Post(std::string url, std::vector<std::pair<std::string, std::string>> headers,
            std::string body, int64_t timeout_ms, std::function<void(HttpPostResult)> done);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::services::sns
