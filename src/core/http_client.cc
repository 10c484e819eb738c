#include "core/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "core/strings.h"
#include "core/worker_pool.h"

namespace stratus {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  ParsedUrl out;
  std::string_view rest;
  if (StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else if (StartsWith(url, "https://")) {
    rest = url.substr(8);
    out.tls = true;
  } else {
    return Error("InvalidUrl", "not an http or https URL: " + std::string(url));
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!out.target.empty() && out.target[0] == '?') out.target = "/" + out.target;
  if (authority.find('@') != std::string_view::npos) {
    return Error("InvalidUrl", "credentials in URLs are not supported: " + std::string(url));
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error("InvalidUrl", "bad IPv6 host in " + std::string(url));
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return Error("InvalidUrl", "no host in " + std::string(url));
  out.host = std::string(host);
  if (port.empty()) {
    out.port = out.tls ? 443 : 80;
  } else {
    auto p = ParseInt64(port);
    if (!p || *p <= 0 || *p > 65535) return Error("InvalidUrl", "bad port in " + std::string(url));
    out.port = static_cast<uint16_t>(*p);
  }
  return out;
}

class HttpClient::Impl {
 public:
  Impl() : work_(asio::make_work_guard(ioc_)) {}
  ~Impl() {
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void Fetch(ClientRequest request, std::function<void(Result<HttpResponse>)> done) {
    auto parsed = ParseHttpUrl(request.url);
    if (!parsed.ok()) {
      done(parsed.error());
      return;
    }
    // The io thread starts with the first exchange: services build their clients at startup,
    // and an idle server should not hold a thread (stack, TLS, malloc arena) per client.
    std::call_once(thread_once_, [this] { thread_ = std::thread([this] { ioc_.run(); }); });
    asio::co_spawn(ioc_, Run(std::move(request), std::move(parsed).value(), done),
                   [done](std::exception_ptr e) {
                     if (e) done(Error("ProtocolError", "the HTTP exchange failed"));
                   });
  }

 private:
  template <class Stream>
  asio::awaitable<Result<HttpResponse>> Exchange(Stream& stream, const ClientRequest& request,
                                                 const ParsedUrl& url) {
    auto token = asio::as_tuple(asio::use_awaitable);
    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(url.target);
    req.version(11);
    for (const auto& [k, v] : request.headers) req.insert(k, v);
    if (req.find(http::field::host) == req.end()) {
      bool default_port = url.port == (url.tls ? 443 : 80);
      req.set(http::field::host, default_port ? url.host : url.host + ":" + std::to_string(url.port));
    }
    if (req.find(http::field::user_agent) == req.end()) req.set(http::field::user_agent, "stratus");
    req.body() = request.body;
    req.prepare_payload();
    req.keep_alive(false);
    auto [wec, wn] = co_await http::async_write(stream, req, token);
    if (wec) co_return Error("ConnectionFailed", "write failed: " + wec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(request.max_response_bytes);
    parser.header_limit(64 * 1024);
    if (request.method == "HEAD") parser.skip(true);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, token);
    if (rec == http::error::body_limit) {
      co_return Error("ResponseTooLarge", "the response exceeds " +
                                              std::to_string(request.max_response_bytes) + " bytes");
    }
    if (rec == beast::error::timeout) co_return Error("Timeout", "the endpoint did not answer in time");
    if (rec) co_return Error("ProtocolError", "reading the response failed: " + rec.message());
    auto msg = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) out.headers.Add(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(msg.body());
    co_return out;
  }

  asio::awaitable<void> Run(ClientRequest request, ParsedUrl url,
                            std::function<void(Result<HttpResponse>)> done) {
    auto token = asio::as_tuple(asio::use_awaitable);
    auto deadline = std::chrono::milliseconds(request.timeout_ms);
    tcp::resolver resolver(ioc_);
    auto [rec, results] = co_await resolver.async_resolve(url.host, std::to_string(url.port), token);
    if (rec) {
      done(Error("ConnectionFailed", "cannot resolve " + url.host + ": " + rec.message()));
      co_return;
    }
    if (!url.tls) {
      beast::tcp_stream stream(ioc_);
      stream.expires_after(deadline);
      auto [cec, ep] = co_await stream.async_connect(results, token);
      if (cec) {
        done(Error(cec == beast::error::timeout ? "Timeout" : "ConnectionFailed",
                   "cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " +
                       cec.message()));
        co_return;
      }
      done(co_await Exchange(stream, request, url));
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc_, Tls());
    beast::get_lowest_layer(stream).expires_after(deadline);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
      done(Error("ConnectionFailed", "cannot set TLS server name " + url.host));
      co_return;
    }
    if (request.verify_tls) {
      stream.set_verify_mode(ssl::verify_peer);
      stream.set_verify_callback(ssl::host_name_verification(url.host));
    } else {
      stream.set_verify_mode(ssl::verify_none);
    }
    auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(results, token);
    if (cec) {
      done(Error(cec == beast::error::timeout ? "Timeout" : "ConnectionFailed",
                 "cannot connect to " + url.host + ": " + cec.message()));
      co_return;
    }
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, token);
    if (hec) {
      done(Error("ConnectionFailed", "TLS handshake with " + url.host + " failed: " + hec.message()));
      co_return;
    }
    done(co_await Exchange(stream, request, url));
    co_await stream.async_shutdown(token);
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  // The TLS context with the system's CAs, built on the first https request: loading the CA
  // store costs tens of milliseconds, which server startup must not pay for clients that may
  // never speak TLS. Read-only once built.
  ssl::context& Tls() {
    std::call_once(tls_once_, [this] {
      tls_.emplace(ssl::context::tls_client);
      tls_->set_default_verify_paths();
    });
    return *tls_;
  }
  std::once_flag tls_once_;
  std::optional<ssl::context> tls_;
  std::once_flag thread_once_;
  std::thread thread_;  // runs ioc_; started by the first Fetch
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() = default;

void HttpClient::Fetch(ClientRequest request, std::function<void(Result<HttpResponse>)> done) {
  impl_->Fetch(std::move(request), std::move(done));
}

Result<HttpResponse> HttpClient::FetchAndWait(ClientRequest request) {
  std::promise<Result<HttpResponse>> promise;
  auto future = promise.get_future();
  // The request may be to this server (a JWT authorizer fetching stratus's own Cognito JWKS),
  // answered by a pool task: a pool thread waiting here must not count against the pool.
  WorkerPool::BlockingScope waiting;
  Fetch(std::move(request), [&promise](Result<HttpResponse> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace stratus
