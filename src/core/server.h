#pragma once
// HttpServer: the HTTP/1.1 server every stratus request arrives through (Boost.Beast on Asio
// C++20 coroutines; no Beast type appears in this header).
//
// It owns the listening socket and `io_threads` threads. Each connection is a coroutine that
// reads a request (keep-alive, chunked bodies, Expect: 100-continue), enforces the header and body
// limits and the idle timeout, hands the request to the HttpHandler and writes its response.
// A Content-Length body goes to the BodySink the handler returns from OpenBodySink, piece by
// piece as it arrives, or else is collected in memory; either way it is read straight from the
// socket in large reads under one deadline (read_timeout_ms) for the whole body.
// The handler may answer from any thread; the connection waits without holding a thread.
//
// Shutdown (Stop) is graceful: the acceptor closes, idle connections are closed, requests in
// flight finish and are answered (their connections then close), and Run returns once every
// connection is gone or `drain_timeout_ms` has passed.
//
// Thread-safety: Start/Run/Stop may be called from different threads; Stop is idempotent and
// safe from a signal-handling thread.
#include <cstdint>
#include <memory>
#include <string>

#include "core/http.h"
#include "core/result.h"

namespace stratus {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;          // 0 = an ephemeral port (tests)
  int io_threads = 0;            // 0 = one per core
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 256ull * 1024 * 1024;          // a body collected in memory
  uint64_t max_streamed_body_bytes = 5ull << 30;          // a body sent to a BodySink (S3: 5 GiB)
  int64_t idle_timeout_ms = 60'000;     // a connection silent this long between requests closes
  int64_t read_timeout_ms = 300'000;    // one request's header+body must arrive within this
  int64_t drain_timeout_ms = 10'000;    // graceful shutdown waits at most this long
};

// Formats the error response for a request the server rejects before the handler sees it (too
// large, malformed HTTP). The front door implements this to answer in the protocol of the
// service the request was meant for.
class RejectFormatter {
 public:
  virtual ~RejectFormatter() = default;
  // `request` has method, target and headers but no body. `code` is AWS-style
  // ("RequestEntityTooLarge", "RequestHeaderSectionTooLarge", "BadRequest").
  virtual HttpResponse FormatReject(const HttpRequest& request, int status, std::string_view code,
                                    std::string_view message) const = 0;
};

class HttpServer {
 public:
  // `handler` and `reject` must outlive the server.
  HttpServer(ServerOptions options, HttpHandler& handler, const RejectFormatter& reject);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Fails with a message naming the address when the port is taken.
  Status Listen();
  // The bound port (after Listen), useful with port 0.
  uint16_t port() const;
  // Runs the io threads until Stop() completes the drain. Blocks the caller (which becomes one of
  // the io threads).
  void Run();
  // Begins a graceful shutdown (idempotent).
  void Stop();
  // Opens an extra listening socket on 127.0.0.1 and an ephemeral port; requests arriving on it
  // carry `tag` (non-zero, unique) in HttpRequest::listener_tag and go to the same handler.
  // Returns the port. Thread-safe; valid once Listen has succeeded.
  Result<uint16_t> AddListener(uint64_t tag);
  // Closes the listener with `tag` (connections already accepted stay open until their peer
  // closes them). Unknown tags are ignored. Thread-safe.
  void RemoveListener(uint64_t tag);
  // Connections currently open.
  size_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A JSON error body in AWS's json-protocol shape; the default RejectFormatter uses it.
HttpResponse JsonErrorResponse(int status, std::string_view code, std::string_view message,
                               std::string_view request_id);

}  // namespace stratus
