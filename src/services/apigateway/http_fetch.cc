#include "services/apigateway/http_fetch.h"

#include <atomic>
#include <future>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/strings.h"

namespace stratus::services::apigateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

Result<FetchUrl> ParseFetchUrl(std::string_view url) {
  FetchUrl u;
  std::string_view rest;
  if (StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else if (StartsWith(url, "https://")) {
    rest = url.substr(8);
    u.tls = true;
  } else {
    return Error("InvalidUrl", "not an http(s) URL: " + std::string(url));
  }
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  u.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (u.target[0] == '?') u.target.insert(0, "/");
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Error("InvalidUrl", "bad host in URL: " + std::string(url));
  }
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error("InvalidUrl", "bad IPv6 host: " + std::string(url));
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      u.port = std::string(authority.substr(close + 2));
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  auto p = ParseInt64(u.port);
  if (!p || *p <= 0 || *p > 65535) return Error("InvalidUrl", "bad port in URL: " + std::string(url));
  return u;
}

class HttpFetcher::Impl {
 public:
  Impl() : work_(net::make_work_guard(io_)), tls_(net::ssl::context::tls_client) {
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(net::ssl::verify_peer);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void Fetch(FetchRequest req, std::function<void(Result<HttpResponse>)> done) {
    auto url = ParseFetchUrl(req.url);
    if (!url.ok()) {
      done(std::move(url).error());
      return;
    }
    net::co_spawn(io_, Run(std::move(req), std::move(url).value()),
                  [done](std::exception_ptr e, Outcome r) {
                    if (e || !r) {
                      done(Error("Cancelled", "the request was abandoned"));
                      return;
                    }
                    done(std::move(*r));
                  });
  }

 private:
  // One exchange. Asio reports failures through error codes here (redirect_error), so nothing
  // throws out of the coroutine except cancellation on shutdown.
  using Outcome = std::optional<Result<HttpResponse>>;  // co_spawn needs a default-constructible value

  net::awaitable<Outcome> Run(FetchRequest req, FetchUrl url) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.timeout_ms);
    beast::error_code ec;
    tcp::resolver resolver(io_);
    net::steady_timer guard(io_);
    std::atomic<bool> timed_out{false};
    guard.expires_at(deadline);
    guard.async_wait([&](beast::error_code e) {
      if (!e) {
        timed_out = true;
        resolver.cancel();
      }
    });
    auto results = co_await resolver.async_resolve(url.host, url.port,
                                                   net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      guard.cancel();
      if (timed_out) co_return Outcome(Error("Timeout", "resolving " + url.host + " timed out", 504));
      co_return Outcome(Error("ConnectionFailed", "cannot resolve " + url.host + ": " + ec.message()));
    }
    bhttp::request<bhttp::string_body> msg;
    msg.method_string(req.method);
    msg.target(url.target);
    msg.version(11);
    for (const auto& [k, v] : req.headers) msg.insert(k, v);
    if (!req.headers.Has("host")) {
      bool default_port = (url.tls && url.port == "443") || (!url.tls && url.port == "80");
      msg.set(bhttp::field::host, default_port ? url.host : url.host + ":" + url.port);
    }
    if (!req.headers.Has("user-agent")) msg.set(bhttp::field::user_agent, "stratus-apigateway");
    msg.body() = std::move(req.body);
    msg.prepare_payload();
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(req.max_response_bytes);
    parser.header_limit(64 * 1024);
    beast::flat_buffer buffer;
    auto remaining = [&] {
      auto left = deadline - std::chrono::steady_clock::now();
      return left.count() > 0 ? std::chrono::duration_cast<std::chrono::milliseconds>(left)
                              : std::chrono::milliseconds(1);
    };
    auto fail = [&](const char* stage) -> Result<HttpResponse> {
      if (ec == beast::error::timeout || timed_out) {
        return Error("Timeout", std::string(stage) + " timed out", 504);
      }
      if (ec == bhttp::error::body_limit) {
        return Error("ResponseTooLarge", "the response exceeds the size limit");
      }
      std::string code = std::string(stage) == "connect" || std::string(stage) == "tls"
                             ? "ConnectionFailed"
                             : "ProtocolError";
      return Error(code, std::string(stage) + ": " + ec.message());
    };
    if (url.tls) {
      beast::ssl_stream<beast::tcp_stream> stream(io_, tls_);
      if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
        guard.cancel();
        co_return Outcome(Error("ConnectionFailed", "cannot set SNI for " + url.host));
      }
      beast::get_lowest_layer(stream).expires_after(remaining());
      co_await beast::get_lowest_layer(stream).async_connect(
          results, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        guard.cancel();
        co_return Outcome(fail("connect"));
      }
      beast::get_lowest_layer(stream).expires_after(remaining());
      co_await stream.async_handshake(net::ssl::stream_base::client,
                                      net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        guard.cancel();
        co_return Outcome(fail("tls"));
      }
      beast::get_lowest_layer(stream).expires_after(remaining());
      co_await bhttp::async_write(stream, msg, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        guard.cancel();
        co_return Outcome(fail("write"));
      }
      co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
      guard.cancel();
      if (ec) co_return Outcome(fail("read"));
    } else {
      beast::tcp_stream stream(io_);
      stream.expires_after(remaining());
      co_await stream.async_connect(results, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        guard.cancel();
        co_return Outcome(fail("connect"));
      }
      stream.expires_after(remaining());
      co_await bhttp::async_write(stream, msg, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        guard.cancel();
        co_return Outcome(fail("write"));
      }
      co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
      guard.cancel();
      if (ec) co_return Outcome(fail("read"));
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.Add(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    co_return Outcome(std::move(out));
  }

  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  net::ssl::context tls_;
  std::thread thread_;
};

HttpFetcher::HttpFetcher() : impl_(std::make_unique<Impl>()) {}
HttpFetcher::~HttpFetcher() = default;

void HttpFetcher::Fetch(FetchRequest request, std::function<void(Result<HttpResponse>)> done) {
  impl_->Fetch(std::move(request), std::move(done));
}

Result<HttpResponse> HttpFetcher::FetchAndWait(FetchRequest request) {
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  auto future = promise->get_future();
  Fetch(std::move(request), [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace stratus::services::apigateway
