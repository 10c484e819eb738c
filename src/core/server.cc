#include "core/server.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/crypto.h"

namespace stratus {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// sendfile(2) moves at most this much per call (Linux's own limit is 0x7ffff000).
constexpr size_t kMaxSendfileBytes = 1u << 30;
// A streamed request body is read from the socket in pieces of up to this many bytes, each
// handed to the BodySink as it arrives.
constexpr size_t kStreamReadBytes = 1024 * 1024;
// A connection's read buffer starts with this much room, so a request's head and a small body
// (a 4 KiB S3 PUT with an SDK's signed headers) arrive in one read instead of 512-byte ones.
constexpr size_t kReadBufferBytes = 8 * 1024;

using Clock = std::chrono::steady_clock;

// One connection. It lives on one io thread: everything here is read and written only there
// (Stop posts its close to that thread).
struct Conn {
  explicit Conn(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  bool idle = true;
  // When the read or write in progress must be done; max() while the handler works. A single
  // timer watches it lazily (Impl::ArmTimer): an operation only writes `deadline`, where Beast's
  // tcp_stream armed and cancelled a timer for every read and write.
  Clock::time_point deadline = Clock::time_point::max();
  asio::steady_timer timer;
  bool timer_armed = false;
  std::string response_head;  // the status line and fields being written
};

// Parses one request's head, and a chunked body, straight into an HttpRequest: Beast's
// basic_parser does the HTTP/1.1 grammar and the limits (header size, body size, Connection,
// Content-Length, Transfer-Encoding), and no Beast message or field list is built in between.
class RequestParser final : public http::basic_parser<true> {
 public:
  explicit RequestParser(HttpRequest& request) : request_(request) {}

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    request_.method.assign(method.data(), method.size());
    request_.target.assign(target.data(), target.size());
    std::string_view t = request_.target;
    size_t q = t.find('?');
    request_.path.assign(t.substr(0, q));
    if (q != std::string_view::npos) request_.query.assign(t.substr(q + 1));
    request_.version = version;
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    request_.headers.Add(std::string(name.data(), name.size()),
                         std::string(value.data(), value.size()));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<uint64_t>&, beast::error_code&) override {}
  size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(uint64_t, beast::string_view body, beast::error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  HttpRequest& request_;
};

void ApplyHeaders(const HttpResponse& response, http::fields& fields) {
  for (const auto& [name, value] : response.headers) {
    fields.insert(name, value);
  }
}

// Whitespace Beast trims from both ends of a field value.
std::string_view TrimValue(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

void AppendFieldValue(std::string& out, std::string_view value) {
  // A CR or LF would end the field early and let a value inject headers: written as a space.
  value = TrimValue(value);
  size_t start = out.size();
  out += value;
  for (char* c = out.data() + start; c != out.data() + out.size(); ++c) {
    if (*c == '\r' || *c == '\n') *c = ' ';
  }
}

void AppendDecimal(std::string& out, uint64_t v) {
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(digits[--n]);
}

// The status line and header section of an in-memory response, as Beast's serializer wrote it
// for http::response<string_body> after keep_alive() and prepare_payload(): the handler's fields
// in order (values trimmed), Content-Length as the body's size (or, for HEAD, the handler's own
// Content-Length if it set one; none for 1xx/204/304), and the Connection field with its
// close/keep-alive token set for `keep_alive` and `version` and the handler's other tokens kept.
// Built by hand because Beast's generic buffer-sequence serializer cost ~19 000 instructions
// per response.
// Written into `out` (cleared first; the connection reuses its capacity).
void ResponseHead(const HttpResponse& response, bool head, bool keep_alive, int version,
                  std::string& out) {
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  AppendDecimal(out, static_cast<uint64_t>(response.status));
  out.push_back(' ');
  out += StatusReason(response.status);
  out += "\r\n";
  bool no_body = !head && (response.status == 204 || response.status == 304 ||
                           response.status < 200);
  bool length_written = false;
  std::string connection;  // the handler's Connection tokens other than close/keep-alive
  for (const auto& [name, value] : response.headers) {
    if (IEquals(name, "connection")) {
      std::string_view rest = value;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view token = TrimValue(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (token.empty() || IEquals(token, "close") || IEquals(token, "keep-alive")) continue;
        if (!connection.empty()) connection += ", ";
        connection += token;
      }
      continue;
    }
    if (IEquals(name, "content-length")) {
      // Kept only on a HEAD answer (the entity's length); otherwise written from the body.
      if (!head || length_written) continue;
      length_written = true;
    } else if (!head && IEquals(name, "transfer-encoding")) {
      continue;  // the body is sent whole, with a Content-Length
    }
    out += name;
    out += ": ";
    AppendFieldValue(out, value);
    out += "\r\n";
  }
  if (!no_body && !length_written) {
    out += "Content-Length: ";
    AppendDecimal(out, response.body.size());
    out += "\r\n";
  }
  if (version == 10 && keep_alive) {
    connection += connection.empty() ? "keep-alive" : ", keep-alive";
  } else if (version != 10 && !keep_alive) {
    connection += connection.empty() ? "close" : ", close";
  }
  if (!connection.empty()) {
    out += "Connection: ";
    out += connection;
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

HttpResponse JsonErrorResponse(int status, std::string_view code, std::string_view message,
                               std::string_view request_id) {
  HttpResponse r;
  r.status = status;
  Json body = {{"__type", code}, {"message", message}};
  r.body = DumpJson(body);
  r.headers.Set("Content-Type", "application/x-amz-json-1.1");
  r.headers.Set("x-amzn-RequestId", std::string(request_id));
  r.headers.Set("x-amzn-ErrorType", std::string(code));
  return r;
}

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, HttpHandler& handler, const RejectFormatter& reject)
      : options_(std::move(options)),
        handler_(handler),
        reject_(reject),
        threads_(options_.io_threads > 0 ? options_.io_threads
                                         : std::max(1u, std::thread::hardware_concurrency())),
        contexts_(MakeContexts(threads_)),
        ioc_(*contexts_[0]),
        acceptor_(ioc_),
        drain_timer_(ioc_) {}

  // One io_context per io thread: a connection lives on one thread for its whole life, so its
  // state needs no strand or lock, and the contexts can skip cross-thread locking paths.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<asio::io_context>(1));
    return v;
  }

  Status Listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      return Error("InvalidConfiguration",
                   "cannot listen on host '" + options_.host + "': not an IP address (" +
                       ec.message() + "); use e.g. 127.0.0.1 or 0.0.0.0");
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error("InvalidConfiguration",
                   "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                       ": " + ec.message() +
                       " (is another stratus running? choose another port with --port)");
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, Accept(acceptor_, 0), asio::detached);
    return Status::Ok();
  }

  Result<uint16_t> AddListener(uint64_t tag) {
    auto acceptor = std::make_shared<tcp::acceptor>(ioc_);
    beast::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error("InternalFailure", "cannot open a listener: " + ec.message());
    uint16_t port = acceptor->local_endpoint().port();
    {
      std::lock_guard lock(mu_);
      if (stopping_.load()) return Error("ServiceUnavailable", "the server is shutting down");
      extra_[tag] = acceptor;
    }
    asio::co_spawn(ioc_, AcceptExtra(acceptor, tag), asio::detached);
    return port;
  }

  void RemoveListener(uint64_t tag) {
    std::shared_ptr<tcp::acceptor> acceptor;
    {
      std::lock_guard lock(mu_);
      auto it = extra_.find(tag);
      if (it == extra_.end()) return;
      acceptor = it->second;
      extra_.erase(it);
    }
    asio::post(ioc_, [acceptor] {
      beast::error_code ignored;
      acceptor->close(ignored);
    });
  }

  uint16_t port() const { return port_; }

  void Run() {
    // Contexts other than the acceptor's have no work until a connection arrives; the guards
    // keep their threads waiting for one.
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::vector<std::thread> threads;
    for (int i = 1; i < threads_; ++i) {
      guards.push_back(asio::make_work_guard(*contexts_[i]));
      threads.emplace_back([this, i] { contexts_[i]->run(); });
    }
    ioc_.run();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads) t.join();
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      std::lock_guard lock(mu_);
      for (auto& [tag, extra] : extra_) extra->close(ec);
      extra_.clear();
      for (auto& weak : conns_) {
        if (auto conn = weak.lock()) {
          asio::post(conn->socket.get_executor(), [conn] {
            if (conn->idle) {
              beast::error_code ignored;
              conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
              conn->socket.close(ignored);
            }
          });
        }
      }
      drain_deadline_ = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options_.drain_timeout_ms);
      WaitForDrain();
    });
  }

  size_t open_connections() const { return open_.load(); }

 private:
  void WaitForDrain() {
    if (open_.load() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      if (open_.load() != 0) {
        spdlog::warn("shutdown: {} connection(s) still busy after {} ms; closing them",
                     open_.load(), options_.drain_timeout_ms);
      }
      ioc_.stop();
      return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(5));
    drain_timer_.async_wait([this](beast::error_code) { WaitForDrain(); });
  }

  // Keeps an extra listener's acceptor alive while its accept loop runs.
  asio::awaitable<void> AcceptExtra(std::shared_ptr<tcp::acceptor> acceptor, uint64_t tag) {
    co_await Accept(*acceptor, tag);
  }

  asio::awaitable<void> Accept(tcp::acceptor& acceptor, uint64_t tag) {
    auto token = asio::as_tuple(asio::use_awaitable);
    while (!stopping_.load()) {
      asio::io_context& target = *contexts_[next_context_++ % contexts_.size()];
      auto [ec, socket] = co_await acceptor.async_accept(target, token);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto conn = std::make_shared<Conn>(std::move(socket));
      {
        std::lock_guard lock(mu_);
        // Drop entries of closed connections so the list stays small.
        conns_.remove_if([](const std::weak_ptr<Conn>& w) { return w.expired(); });
        conns_.push_back(conn);
      }
      open_.fetch_add(1);
      asio::co_spawn(conn->socket.get_executor(), Session(conn, tag), [this](std::exception_ptr e) {
        open_.fetch_sub(1);
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("bug: connection ended by exception: {}", ex.what());
          }
        }
      });
    }
  }

  // The connection's operations from now on must finish within `ms`; an operation that is still
  // waiting then is cancelled (it fails with operation_aborted and the session closes).
  void SetDeadline(const std::shared_ptr<Conn>& conn, int64_t ms) {
    Clock::time_point now = Clock::now();
    conn->deadline = now + std::chrono::milliseconds(ms);
    if (!conn->timer_armed) ArmTimer(conn, now);
  }

  // No deadline while the handler works on the request.
  static void ClearDeadline(Conn& conn) { conn.deadline = Clock::time_point::max(); }

  // Arms the connection's timer for its deadline, or for the shortest timeout from now if that
  // is sooner: no deadline set later can be earlier than that, so the timer is never moved
  // forward. When it fires before the deadline it re-arms; while no deadline is set it stays
  // unarmed until SetDeadline.
  void ArmTimer(const std::shared_ptr<Conn>& conn, Clock::time_point now) {
    conn->timer_armed = true;
    conn->timer.expires_at(std::min(conn->deadline, now + min_timeout_));
    conn->timer.async_wait([this, weak = std::weak_ptr<Conn>(conn)](beast::error_code ec) {
      std::shared_ptr<Conn> conn = weak.lock();
      if (!conn) return;  // the connection is gone (its timer was cancelled with it)
      conn->timer_armed = false;
      if (ec || conn->deadline == Clock::time_point::max()) return;
      Clock::time_point now = Clock::now();
      if (conn->deadline <= now) {
        beast::error_code ignored;
        conn->socket.cancel(ignored);
        return;
      }
      ArmTimer(conn, now);
    });
  }

  // A connection's request waiting for its handler's answer: one per connection, reused by each
  // of its requests in turn (a Responder answers once, and the session reads the next request
  // only after the answer of the last one arrived, so no earlier request's Responder can touch
  // it again). Owned by the session coroutine (and briefly by the posted hand-over); Responders
  // hold only a weak reference, so a Responder that outlives the connection or the whole server
  // never touches freed io objects.
  struct Pending {
    explicit Pending(const asio::any_io_executor& ex)
        : executor(ex), io_thread(std::this_thread::get_id()) {}
    const asio::any_io_executor executor;  // the connection's io thread
    const std::thread::id io_thread;
    // True while the handler's Handle call runs; read and written on io_thread only. An answer
    // given on io_thread while it is set is taken inline: no post, no timer (a Runtime API 202,
    // a MOCK integration, a health check).
    bool in_handle = false;
    // Created by the first answer that comes later, then kept for the connection's next ones;
    // cancelled when the answer arrives. Touched on io_thread only (the hand-over is posted
    // there).
    std::optional<asio::steady_timer> timer;
    std::optional<HttpResponse> response;   // written on the connection's io thread only
  };

  // Hands the request to the handler and resumes when it answers (from any thread).
  asio::awaitable<HttpResponse> Dispatch(const std::shared_ptr<Pending>& pending,
                                         HttpRequest request) {
    std::weak_ptr<Pending> weak = pending;
    pending->response.reset();
    pending->in_handle = true;
    handler_.Handle(std::move(request), Responder([weak, alive = alive_](HttpResponse r) {
                      if (auto p = weak.lock();
                          p && std::this_thread::get_id() == p->io_thread && p->in_handle) {
                        p->response = std::move(r);  // answered inside Handle, on this thread
                        return;
                      }
                      // Post only while the io_contexts exist (see Liveness).
                      std::lock_guard lock(alive->mu);
                      if (!alive->alive) return;
                      auto p = weak.lock();
                      if (!p) return;  // the connection is gone
                      asio::post(p->executor, [p, r = std::move(r)]() mutable {
                        p->response = std::move(r);
                        if (p->timer) p->timer->cancel();
                      });
                    }));
    pending->in_handle = false;
    if (!pending->response) {
      if (!pending->timer) {
        pending->timer.emplace(pending->executor, asio::steady_timer::time_point::max());
      }
      while (!pending->response) {
        co_await pending->timer->async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    co_return std::move(*pending->response);
  }

  asio::awaitable<bool> Write(std::shared_ptr<Conn> conn, HttpResponse& response, bool head,
                              bool keep_alive, int version) {
    auto token = asio::as_tuple(asio::use_awaitable);
    SetDeadline(conn, options_.read_timeout_ms);
    if (response.file) {
      co_return co_await WriteFile(conn, response, head, keep_alive, version);
    }
    std::string& head_bytes = conn->response_head;
    ResponseHead(response, head, keep_alive, version, head_bytes);
    bool send_body = !head && !(response.status == 204 || response.status == 304 ||
                                response.status < 200);
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(head_bytes),
        send_body ? asio::buffer(response.body) : asio::const_buffer()};
    auto [ec, n] = co_await asio::async_write(conn->socket, buffers, token);
    co_return !ec;
  }

  // Sends a FileBody: every region in order, each with sendfile(2) from the page cache to the
  // socket (no copy through user space). A file that cannot be opened answers 500 before any
  // byte is sent; one that turns out shorter than its region closes the connection.
  asio::awaitable<bool> WriteFile(std::shared_ptr<Conn> conn, HttpResponse& response, bool head,
                                  bool keep_alive, int version) {
    auto token = asio::as_tuple(asio::use_awaitable);
    const FileBody& file = *response.file;
    std::vector<FileRegion> regions;
    regions.reserve(1 + file.more.size());
    regions.push_back(FileRegion{file.path, file.offset, file.length});
    for (const auto& r : file.more) regions.push_back(r);
    struct Fds {
      std::vector<int> fds;
      ~Fds() {
        for (int fd : fds) {
          if (fd >= 0) ::close(fd);
        }
      }
    } open_files;
    for (const auto& r : regions) {
      int fd = -1;
      if (r.length > 0) {
        fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
          spdlog::error("cannot open response body file {}: {}", r.path, std::strerror(errno));
          HttpResponse err =
              JsonErrorResponse(500, "InternalFailure", "response body unavailable", "");
          co_return co_await Write(conn, err, head, false, version);
        }
      }
      open_files.fds.push_back(fd);
    }
    uint64_t total = file.TotalLength();
    http::response<http::empty_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(response.status));
    res.reason(StatusReason(response.status));
    ApplyHeaders(response, res.base());
    res.keep_alive(keep_alive);
    res.content_length(total);
    http::response_serializer<http::empty_body> sr{res};
    tcp::socket& socket = conn->socket;
    auto [hec, hn] = co_await http::async_write_header(socket, sr, token);
    if (hec) co_return false;
    if (head || total == 0) co_return true;
    beast::error_code nb_ec;
    socket.native_non_blocking(true, nb_ec);
    if (nb_ec) co_return false;
    for (size_t i = 0; i < regions.size(); ++i) {
      off_t offset = static_cast<off_t>(regions[i].offset);
      uint64_t left = regions[i].length;
      while (left > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(left, kMaxSendfileBytes));
        ssize_t n = ::sendfile(socket.native_handle(), open_files.fds[i], &offset, want);
        if (n > 0) {
          left -= static_cast<uint64_t>(n);
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          // A client that stops reading for read_timeout_ms is dropped.
          SetDeadline(conn, options_.read_timeout_ms);
          auto [wec] = co_await socket.async_wait(tcp::socket::wait_write, token);
          if (wec) co_return false;
          continue;
        }
        if (n == 0) {
          spdlog::error("short read of response body file {}", regions[i].path);
        }
        co_return false;  // the connection closes; the client sees a truncated body
      }
    }
    co_return true;
  }

  asio::awaitable<void> Reject(std::shared_ptr<Conn> conn, const HttpRequest& head, int status,
                               std::string_view code, std::string_view message) {
    spdlog::info("rejected {} {}: {} {}", head.method, head.target, status, message);
    HttpResponse response = reject_.FormatReject(head, status, code, message);
    response.close = true;
    co_await Write(std::move(conn), response, false, false, 11);
  }

  // Reads a body of exactly `length` bytes that follows the headers, first from what `buffer`
  // already holds (leaving any pipelined bytes after it there), then straight from the socket in
  // large reads: into `sink` piece by piece when given, else into `body`. One deadline bounds the
  // whole body by read_timeout_ms.
  // False when the body did not arrive whole.
  asio::awaitable<bool> ReadSizedBody(std::shared_ptr<Conn> conn, beast::flat_buffer& buffer,
                                      uint64_t length, BodySink* sink, std::string& body) {
    auto token = asio::as_tuple(asio::use_awaitable);
    uint64_t got = 0;
    if (sink == nullptr) body.resize(static_cast<size_t>(length));
    {
      auto held = buffer.data();
      size_t take = static_cast<size_t>(std::min<uint64_t>(held.size(), length));
      if (take > 0) {
        if (sink) {
          sink->Append(std::string_view(static_cast<const char*>(held.data()), take));
        } else {
          std::memcpy(body.data(), held.data(), take);
        }
        buffer.consume(take);
        got = take;
      }
    }
    if (got == length) co_return true;
    tcp::socket& socket = conn->socket;
    SetDeadline(conn, options_.read_timeout_ms);
    bool whole = true;
    if (sink == nullptr) {
      auto [ec, n] = co_await asio::async_read(
          socket, asio::buffer(body.data() + got, static_cast<size_t>(length - got)), token);
      whole = !ec;
    } else {
      std::string piece(static_cast<size_t>(std::min<uint64_t>(kStreamReadBytes, length - got)),
                        '\0');
      while (got < length) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(piece.size(), length - got));
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(piece.data(), want), token);
        if (ec) {
          whole = false;
          break;
        }
        sink->Append(std::string_view(piece.data(), n));
        got += n;
      }
    }
    co_return whole;
  }

  asio::awaitable<void> Session(std::shared_ptr<Conn> conn, uint64_t tag) {
    auto token = asio::as_tuple(asio::use_awaitable);
    tcp::socket& socket = conn->socket;
    beast::flat_buffer buffer;
    buffer.reserve(kReadBufferBytes);
    std::string remote;
    auto pending = std::make_shared<Pending>(co_await asio::this_coro::executor);
    {
      beast::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    while (true) {
      conn->idle = true;
      if (stopping_.load()) break;
      HttpRequest request;
      RequestParser parser(request);
      parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
      // Content-Length is checked below, once it is known whether the body is streamed; a
      // chunked body's limit is set before it is read.
      parser.body_limit(boost::none);
      SetDeadline(conn, buffer.size() > 0 ? options_.read_timeout_ms : options_.idle_timeout_ms);
      auto [ec, n] = co_await http::async_read_header(socket, buffer, parser, token);
      conn->idle = false;
      if (ec) {
        if (ec == http::error::header_limit) {
          co_await Reject(conn, request, 431, "RequestHeaderSectionTooLarge",
                          "Your request header section exceeds the maximum allowed size.");
        } else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                   ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
                   ec != asio::error::bad_descriptor && ec != http::error::partial_message) {
          HttpRequest empty;
          co_await Reject(conn, empty, 400, "BadRequest",
                          "The request could not be parsed as HTTP/1.1: " + ec.message());
        }
        break;
      }
      std::optional<uint64_t> length;
      if (auto declared = parser.content_length(); declared && !parser.chunked()) {
        length = *declared;
      }
      std::shared_ptr<BodySink> sink;
      if (length && *length > 0) sink = handler_.OpenBodySink(request);
      uint64_t limit = sink ? options_.max_streamed_body_bytes : options_.max_body_bytes;
      if (length && *length > limit) {
        co_await Reject(conn, request, 413, "RequestEntityTooLarge",
                        "Request body of " + std::to_string(*length) +
                            " bytes exceeds the maximum allowed size of " +
                            std::to_string(limit) + " bytes.");
        break;
      }
      if (IEquals(request.headers.GetOr("expect"), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [cec, cn] = co_await asio::async_write(socket, asio::buffer(kContinue), token);
        if (cec) break;
      }
      if (length) {
        if (!co_await ReadSizedBody(conn, buffer, *length, sink.get(), request.body)) {
          spdlog::debug("client went away mid-request or was too slow: {} {}", request.method,
                        request.target);
          break;
        }
        request.streamed_body = std::move(sink);
      } else if (!parser.is_done()) {
        parser.body_limit(options_.max_body_bytes);
        SetDeadline(conn, options_.read_timeout_ms);
        auto [bec, bn] = co_await http::async_read(socket, buffer, parser, token);
        if (bec == http::error::body_limit) {
          co_await Reject(conn, request, 413, "RequestEntityTooLarge",
                          "Request body exceeds the maximum allowed size of " +
                              std::to_string(options_.max_body_bytes) + " bytes.");
          break;
        }
        if (bec) {
          if (bec != asio::error::eof && bec != http::error::end_of_stream &&
              bec != http::error::partial_message && bec != asio::error::operation_aborted &&
              bec != asio::error::connection_reset) {
            co_await Reject(conn, request, 400, "BadRequest",
                            "The request body could not be read: " + bec.message());
          } else {
            spdlog::debug("client went away mid-request: {}", bec.message());
          }
          break;
        }
      }
      bool keep_alive = parser.keep_alive();
      int version = request.version;
      request.remote_address = remote;
      request.local_port = port_;
      request.listener_tag = tag;
      bool head = request.method == "HEAD";
      ClearDeadline(*conn);
      HttpResponse response = co_await Dispatch(pending, std::move(request));
      keep_alive = keep_alive && !response.close && !stopping_.load();
      if (!co_await Write(conn, response, head, keep_alive, version)) break;
      if (!keep_alive) break;
    }
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
  }

  // Whether the io_contexts still exist; shared with every Responder.
  struct Liveness {
    std::mutex mu;
    bool alive = true;  // guarded by mu
  };

 public:
  ~Impl() {
    std::lock_guard lock(alive_->mu);
    alive_->alive = false;
  }

 private:
  std::shared_ptr<Liveness> alive_ = std::make_shared<Liveness>();
  const ServerOptions options_;
  HttpHandler& handler_;
  const RejectFormatter& reject_;
  const int threads_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  asio::io_context& ioc_;  // the first context: acceptor and shutdown timer
  std::atomic<size_t> next_context_{0};  // round-robin over contexts_ by every accept loop
  tcp::acceptor acceptor_;
  asio::steady_timer drain_timer_;  // used only on the io_context after Stop
  std::chrono::steady_clock::time_point drain_deadline_;
  uint16_t port_ = 0;
  // The shortest of the idle and read timeouts: how far ahead a connection's timer is armed.
  const Clock::duration min_timeout_ = std::chrono::milliseconds(
      std::max<int64_t>(1, std::min(options_.idle_timeout_ms, options_.read_timeout_ms)));
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::mutex mu_;  // guards conns_ and extra_
  std::list<std::weak_ptr<Conn>> conns_;
  std::map<uint64_t, std::shared_ptr<tcp::acceptor>> extra_;
};

HttpServer::HttpServer(ServerOptions options, HttpHandler& handler, const RejectFormatter& reject)
    : impl_(std::make_unique<Impl>(std::move(options), handler, reject)) {}
HttpServer::~HttpServer() = default;
Status HttpServer::Listen() { return impl_->Listen(); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }
Result<uint16_t> HttpServer::AddListener(uint64_t tag) { return impl_->AddListener(tag); }
void HttpServer::RemoveListener(uint64_t tag) { impl_->RemoveListener(tag); }
size_t HttpServer::open_connections() const { return impl_->open_connections(); }

}  // namespace stratus
