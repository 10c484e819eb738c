#include "services/sns/http_sender.h"

#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

namespace stratus::services::sns {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

bool ParseUrl(const std::string& url, Url& out) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return false;
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') < colon) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  } else if (colon != std::string::npos && authority.find('[') == std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  } else {
    out.host = authority;
    out.port = out.tls ? "443" : "80";
  }
  if (!out.host.empty() && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  return !out.host.empty();
}

}  // namespace

class HttpSender::Impl {
 public:
  Impl() : ssl_(asio::ssl::context::tls_client), guard_(asio::make_work_guard(io_)) {
    ssl_.set_default_verify_paths();
    ssl_.set_verify_mode(asio::ssl::verify_peer);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void Post(std::string url, std::vector<std::pair<std::string, std::string>> headers,
            std::string body, int64_t timeout_ms, std::function<void(HttpPostResult)> done) {
    asio::co_spawn(io_,
                   Run(std::move(url), std::move(headers), std::move(body), timeout_ms,
                       std::move(done)),
                   asio::detached);
  }

 private:
  asio::awaitable<void> Run(std::string url, std::vector<std::pair<std::string, std::string>> headers,
                            std::string body, int64_t timeout_ms,
                            std::function<void(HttpPostResult)> done) {
    HttpPostResult result;
    Url u;
    if (!ParseUrl(url, u)) {
      result.error = "invalid URL " + url;
      done(std::move(result));
      co_return;
    }
    http::request<http::string_body> req{http::verb::post, u.target, 11};
    req.set(http::field::host, u.host + ((u.port == "80" || u.port == "443") ? "" : ":" + u.port));
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    auto deadline = std::chrono::milliseconds(timeout_ms);
    beast::error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    asio::ip::tcp::resolver resolver(io_);
    auto endpoints = co_await resolver.async_resolve(u.host, u.port, token);
    if (ec) {
      result.error = "resolve " + u.host + ": " + ec.message();
      done(std::move(result));
      co_return;
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    if (!u.tls) {
      beast::tcp_stream stream(io_);
      stream.expires_after(deadline);
      co_await stream.async_connect(endpoints, token);
      if (!ec) co_await http::async_write(stream, req, token);
      if (!ec) co_await http::async_read(stream, buffer, res, token);
      beast::error_code ignored;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    } else {
      beast::ssl_stream<beast::tcp_stream> stream(io_, ssl_);
      SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
      stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
      beast::get_lowest_layer(stream).expires_after(deadline);
      co_await beast::get_lowest_layer(stream).async_connect(endpoints, token);
      if (!ec) co_await stream.async_handshake(asio::ssl::stream_base::client, token);
      if (!ec) co_await http::async_write(stream, req, token);
      if (!ec) co_await http::async_read(stream, buffer, res, token);
    }
    if (ec) {
      result.error = ec == beast::error::timeout ? "timeout" : ec.message();
    } else {
      result.status = static_cast<int>(res.result_int());
      result.body = std::move(res.body());
    }
    done(std::move(result));
  }

  asio::io_context io_;
  asio::ssl::context ssl_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

HttpSender::HttpSender() : impl_(std::make_unique<Impl>()) {}
HttpSender::~HttpSender() = default;

void HttpSender::Post(std::string url, std::vector<std::pair<std::string, std::string>> headers,
                      std::string body, int64_t timeout_ms,
                      std::function<void(HttpPostResult)> done) {
  impl_->Post(std::move(url), std::move(headers), std::move(body), timeout_ms, std::move(done));
}

}  // namespace stratus::services::sns
