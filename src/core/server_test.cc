#include "core/server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace stratus {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Collects a streamed body and counts the pieces it came in.
class RecordingSink : public BodySink {
 public:
  void Append(std::string_view piece) override {
    bytes += piece;
    ++pieces;
  }
  std::string bytes;
  int pieces = 0;
};

// Echoes the request; "/slow" answers from another thread after 200 ms; "/file" sends a file;
// "/stream..." bodies go to a RecordingSink and are echoed as "stream:<bytes>".
class EchoHandler : public HttpHandler {
 public:
  std::shared_ptr<BodySink> OpenBodySink(const HttpRequest& head) override {
    if (!head.path.starts_with("/stream")) return nullptr;
    ++sinks_opened;
    auto sink = std::make_shared<RecordingSink>();
    last_sink = sink;
    return sink;
  }
  void Handle(HttpRequest request, Responder responder) override {
    if (request.streamed_body) {
      auto* sink = static_cast<RecordingSink*>(request.streamed_body.get());
      HttpResponse r;
      r.body = "stream:" + sink->bytes + "|" + request.body;
      responder.Send(std::move(r));
      return;
    }
    if (request.path == "/slow") {
      std::thread([responder] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        HttpResponse r;
        r.body = "slow";
        responder.Send(std::move(r));
      }).detach();
      return;
    }
    HttpResponse r;
    if (request.path == "/file") {
      r.file = FileBody{file_path, 2, 5};
      responder.Send(std::move(r));
      return;
    }
    if (request.path == "/files") {  // several regions, one empty, sent in order
      r.file = FileBody{file_path, 0, 2};
      r.file->more = {{file_path, 7, 3}, {file_path, 5, 0}, {file_path, 1, 1}};
      responder.Send(std::move(r));
      return;
    }
    if (request.path == "/missing-file") {
      r.file = FileBody{file_path, 0, 1};
      r.file->more = {{file_path + ".gone", 0, 4}};
      responder.Send(std::move(r));
      return;
    }
    if (request.path == "/drop") {
      return;  // a buggy handler: the Responder's destructor answers 500
    }
    if (request.path == "/204") {
      r.status = 204;
      r.headers.Set("Content-Length", "99");  // not a length a 204 may carry: dropped
      responder.Send(std::move(r));
      return;
    }
    if (request.path == "/inject") {
      r.headers.Set("X-Value", "  a\r\nX-Evil: 1  ");  // trimmed; CR/LF cannot end the field
      r.headers.Set("Content-Length", "1");          // the body's own length wins
      r.headers.Set("Connection", "keep-alive, Upgrade");
      r.body = "inject";
      responder.Send(std::move(r));
      return;
    }
    r.headers.Set("X-Method", request.method);
    r.headers.Set("X-Tag", std::to_string(request.listener_tag));
    r.headers.Set("X-Query", request.query);
    r.body = request.path + "|" + request.body;
    responder.Send(std::move(r));
  }
  std::string file_path;
  std::atomic<int> sinks_opened{0};
  std::weak_ptr<RecordingSink> last_sink;  // for tests on one connection at a time
};

class TestReject : public RejectFormatter {
 public:
  HttpResponse FormatReject(const HttpRequest&, int status, std::string_view code,
                            std::string_view message) const override {
    return JsonErrorResponse(status, code, message, "test-request-id");
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_.file_path = ::testing::TempDir() + "/server_test_file.txt";
    std::ofstream(handler_.file_path) << "0123456789";
    ServerOptions options;
    options.port = 0;
    options.io_threads = 2;
    options.max_body_bytes = 1024;
    options.max_streamed_body_bytes = 8 * 1024 * 1024;
    options.max_header_bytes = 2048;
    options.drain_timeout_ms = 5000;
    server_ = std::make_unique<HttpServer>(options, handler_, reject_);
    ASSERT_TRUE(server_->Listen().ok());
    runner_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    server_->Stop();
    runner_.join();
    std::remove(handler_.file_path.c_str());
  }

  // Sends raw bytes and reads one response.
  http::response<http::string_body> Exchange(tcp::socket& socket, const std::string& raw) {
    asio::write(socket, asio::buffer(raw));
    return ReadResponse(socket);
  }
  http::response<http::string_body> ReadResponse(tcp::socket& socket) {
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(socket, buffer_, res, ec);
    EXPECT_FALSE(ec) << ec.message();
    return res;
  }
  tcp::socket Connect() {
    tcp::socket socket(io_);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return socket;
  }

  EchoHandler handler_;
  TestReject reject_;
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  asio::io_context io_;
  beast::flat_buffer buffer_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequests) {
  auto s = Connect();
  auto r1 = Exchange(s, "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r1.result_int(), 200);
  EXPECT_EQ(r1.body(), "/a|");
  EXPECT_EQ(r1["X-Query"], "x=1");
  auto r2 = Exchange(s, "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(r2.body(), "/b|abc");
  EXPECT_TRUE(r2.keep_alive());
}

TEST_F(ServerTest, ResponseHeadIsFramedAsHttp11) {
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n")));
  http::response_parser<http::empty_body> head_parser;
  head_parser.skip(true);  // a HEAD answer: no body follows its Content-Length
  beast::error_code hec;
  http::read(s, buffer_, head_parser, hec);
  ASSERT_FALSE(hec) << hec.message();
  EXPECT_EQ(head_parser.get().result_int(), 200);
  EXPECT_EQ(head_parser.get()[http::field::content_length], "3");  // the entity's length
  auto none = Exchange(s, "GET /204 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(none.result_int(), 204);
  EXPECT_EQ(none.count(http::field::content_length), 0u);
  auto inject = Exchange(s, "GET /inject HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(inject.body(), "inject");
  EXPECT_EQ(inject["X-Value"], "a  X-Evil: 1");
  EXPECT_EQ(inject.count("X-Evil"), 0u);
  EXPECT_EQ(inject[http::field::content_length], "6");
  EXPECT_EQ(inject[http::field::connection], "Upgrade");
  EXPECT_TRUE(inject.keep_alive());
  auto after = Exchange(s, "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(after.body(), "/a|");
  EXPECT_EQ(after[http::field::connection], "close");
  EXPECT_FALSE(after.keep_alive());
  char byte;
  beast::error_code ec;
  s.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);  // the server closed the connection
}

TEST_F(ServerTest, Http10KeepAliveIsAnswered) {
  auto s = Connect();
  auto r = Exchange(s, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(r.version(), 10);
  EXPECT_EQ(r[http::field::connection], "keep-alive");
  EXPECT_EQ(Exchange(s, "GET /b HTTP/1.0\r\n\r\n").body(), "/b|");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto s = Connect();
  asio::write(s, asio::buffer(std::string(
                     "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")));
  EXPECT_EQ(ReadResponse(s).body(), "/1|");
  EXPECT_EQ(ReadResponse(s).body(), "/2|");
}

TEST_F(ServerTest, ChunkedBodyIsAssembled) {
  auto s = Connect();
  auto r = Exchange(s,
                    "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_EQ(r.body(), "/c|abcde");
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponse) {
  auto s = Connect();
  asio::write(s, asio::buffer(std::string(
                     "PUT /e HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")));
  http::response<http::empty_body> interim;
  http::response_parser<http::empty_body> parser;
  beast::error_code ec;
  http::read_header(s, buffer_, parser, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.get().result_int(), 100);
  asio::write(s, asio::buffer(std::string("wxyz")));
  EXPECT_EQ(ReadResponse(s).body(), "/e|wxyz");
}

TEST_F(ServerTest, OversizedBodyGets413AndServerKeepsServing) {
  auto s = Connect();
  auto r = Exchange(s, "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_NE(r.body().find("RequestEntityTooLarge"), std::string::npos);
  // A chunked body that grows past the limit is cut off too.
  auto s2 = Connect();
  std::string chunk(900, 'x');
  auto r2 = Exchange(s2, "POST /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n384\r\n" +
                             chunk + "\r\n384\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(r2.result_int(), 413);
  auto s3 = Connect();
  EXPECT_EQ(Exchange(s3, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
}

TEST_F(ServerTest, OversizedHeadersGet431) {
  auto s = Connect();
  auto r = Exchange(s, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.result_int(), 431);
  auto s2 = Connect();
  EXPECT_EQ(Exchange(s2, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
}

TEST_F(ServerTest, GarbageGets400) {
  auto s = Connect();
  auto r = Exchange(s, "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(r.result_int(), 400);
  auto s2 = Connect();
  EXPECT_EQ(Exchange(s2, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 200);
}

TEST_F(ServerTest, AsyncAnswerFromAnotherThread) {
  auto s = Connect();
  EXPECT_EQ(Exchange(s, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n").body(), "slow");
}

TEST_F(ServerTest, DroppedResponderAnswers500) {
  auto s = Connect();
  EXPECT_EQ(Exchange(s, "GET /drop HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 500);
}

TEST_F(ServerTest, FileBodyRegion) {
  auto s = Connect();
  auto r = Exchange(s, "GET /file HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.body(), "23456");
  // HEAD: the entity's Content-Length, no body.
  asio::write(s, asio::buffer(std::string("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n")));
  http::response_parser<http::string_body> head;
  head.skip(true);
  beast::error_code ec;
  http::read(s, buffer_, head, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(head.get().result_int(), 200);
  EXPECT_EQ(head.get()[http::field::content_length], "3");
  EXPECT_EQ(Exchange(s, "GET /after HTTP/1.1\r\nHost: h\r\n\r\n").body(), "/after|");
}

TEST_F(ServerTest, FileBodyOfSeveralRegions) {
  auto s = Connect();
  auto r = Exchange(s, "GET /files HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.body(), "017891");
  EXPECT_EQ(r[http::field::content_length], "6");
  // A region whose file is gone answers 500 before any byte of the body.
  EXPECT_EQ(Exchange(s, "GET /missing-file HTTP/1.1\r\nHost: h\r\n\r\n").result_int(), 500);
  auto again = Connect();
  EXPECT_EQ(Exchange(again, "GET /files HTTP/1.1\r\nHost: h\r\n\r\n").body(), "017891");
}

TEST(ServerLifetime, ResponderOutlivingTheServerIsHarmless) {
  struct Keep : HttpHandler {
    void Handle(HttpRequest, Responder r) override { kept.push_back(r); }
    std::vector<Responder> kept;
  } keep;
  TestReject reject;
  ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  options.drain_timeout_ms = 50;
  auto server = std::make_unique<HttpServer>(options, keep, reject);
  ASSERT_TRUE(server->Listen().ok());
  std::thread runner([&] { server->Run(); });
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
  asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: h\r\n\r\n")));
  for (int i = 0; i < 100 && keep.kept.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server->Stop();
  runner.join();
  server.reset();
  keep.kept.clear();  // the responders answer into a server that is gone: dropped, no crash
}

TEST_F(ServerTest, ExtraListenersTagTheirRequests) {
  auto port = server_->AddListener(42);
  ASSERT_TRUE(port.ok());
  tcp::socket socket(io_);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), *port));
  EXPECT_EQ(Exchange(socket, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")["X-Tag"], "42");
  auto main = Connect();
  EXPECT_EQ(Exchange(main, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")["X-Tag"], "0");
  server_->RemoveListener(42);
  // The connection accepted before removal keeps working; new ones are refused.
  EXPECT_EQ(Exchange(socket, "GET /y HTTP/1.1\r\nHost: h\r\n\r\n")["X-Tag"], "42");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  tcp::socket late(io_);
  beast::error_code ec;
  late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), *port), ec);
  EXPECT_TRUE(ec);
}

TEST_F(ServerTest, GracefulStopAnswersInFlightRequests) {
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto idle = Connect();
  server_->Stop();
  auto r = ReadResponse(s);
  EXPECT_EQ(r.body(), "slow");
  EXPECT_FALSE(r.keep_alive());
  runner_.join();
  runner_ = std::thread([] {});  // TearDown joins again
}

}  // namespace
}  // namespace stratus

namespace stratus {
namespace {

TEST_F(ServerTest, StreamedBodyReachesTheSinkWhole) {
  auto s = Connect();
  // Larger than max_body_bytes (1024), within max_streamed_body_bytes, sent in two writes so that
  // part of it arrives after the headers.
  std::string body(3 * 1024 * 1024, 'a');
  for (size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('b' + i % 20);
  std::string head = "PUT /stream HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  asio::write(s, asio::buffer(head + body.substr(0, 100)));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  asio::write(s, asio::buffer(body.substr(100)));
  auto r = ReadResponse(s);
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(r.body() == "stream:" + body + "|") << r.body().size();
  // The connection stays usable; a small body that arrives with its headers is streamed too.
  EXPECT_EQ(Exchange(s, "PUT /stream2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz")
                .body(),
            "stream:xyz|");
  // Requests the handler does not stream keep their in-memory body.
  EXPECT_EQ(Exchange(s, "POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok").body(),
            "/m|ok");
  EXPECT_EQ(handler_.sinks_opened.load(), 2);
}

TEST_F(ServerTest, PipelinedBytesAfterAStreamedBodyStayForTheNextRequest) {
  auto s = Connect();
  asio::write(s, asio::buffer(std::string(
                     "PUT /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"
                     "POST /next HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nzz")));
  EXPECT_EQ(ReadResponse(s).body(), "stream:abcd|");
  EXPECT_EQ(ReadResponse(s).body(), "/next|zz");
}

TEST_F(ServerTest, StreamedBodyOverItsLimitGets413BeforeAnyByteIsRead) {
  auto s = Connect();
  auto r = Exchange(s, "PUT /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 9000000\r\n\r\n");
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_NE(r.body().find("8388608"), std::string::npos) << r.body();
}

TEST_F(ServerTest, ChunkedBodiesAreNotOfferedToSinks) {
  auto s = Connect();
  auto r = Exchange(s,
                    "PUT /stream HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(r.body(), "/stream|abc");
  EXPECT_EQ(handler_.sinks_opened.load(), 0);
}

TEST_F(ServerTest, ExpectContinueWithAStreamedBody) {
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("PUT /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                                          "Expect: 100-continue\r\n\r\n")));
  http::response<http::empty_body> interim;
  http::response_parser<http::empty_body> parser;
  beast::error_code ec;
  http::read_header(s, buffer_, parser, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.get().result_int(), 100);
  asio::write(s, asio::buffer(std::string("hello")));
  EXPECT_EQ(ReadResponse(s).body(), "stream:hello|");
}

TEST_F(ServerTest, TruncatedStreamedBodyIsNeverDispatchedAndTheSinkIsReleased) {
  {
    auto s = Connect();
    asio::write(s, asio::buffer(std::string(
                       "PUT /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\npart")));
    for (int i = 0; i < 200 && handler_.sinks_opened.load() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(handler_.sinks_opened.load(), 1);
    EXPECT_FALSE(handler_.last_sink.expired());
  }  // the client goes away mid-body
  for (int i = 0; i < 400 && !handler_.last_sink.expired(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(handler_.last_sink.expired());
  auto s2 = Connect();
  EXPECT_EQ(Exchange(s2, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n").body(), "/ok|");
}

TEST(ServerTimeouts, ASlowStreamedBodyIsCutOffAtTheReadTimeout) {
  EchoHandler handler;
  TestReject reject;
  ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  options.read_timeout_ms = 150;
  HttpServer server(options, handler, reject);
  ASSERT_TRUE(server.Listen().ok());
  std::thread runner([&] { server.Run(); });
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  asio::write(s, asio::buffer(std::string(
                     "PUT /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")));
  // The server closes the connection without answering once the timeout passes.
  char c;
  beast::error_code ec;
  auto started = std::chrono::steady_clock::now();
  s.read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(handler.last_sink.expired());
  server.Stop();
  runner.join();
}

// A connection idle past the idle timeout closes, also after it has served a request (the
// deadline a write left behind must not keep it open); so does one whose head never completes.
TEST(ServerTimeouts, IdleConnectionsAndSlowHeadsAreClosed) {
  EchoHandler handler;
  TestReject reject;
  ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  options.idle_timeout_ms = 300;
  options.read_timeout_ms = 600;
  HttpServer server(options, handler, reject);
  ASSERT_TRUE(server.Listen().ok());
  std::thread runner([&] { server.Run(); });
  asio::io_context io;
  auto connect = [&] {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    return s;
  };
  // Waits for the server to close `s`; the time it took.
  auto closed_after = [](tcp::socket& s) {
    char c;
    beast::error_code ec;
    auto started = std::chrono::steady_clock::now();
    s.read_some(asio::buffer(&c, 1), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    return std::chrono::steady_clock::now() - started;
  };
  tcp::socket silent = connect();
  EXPECT_LT(closed_after(silent), std::chrono::seconds(5));

  tcp::socket served = connect();
  asio::write(served, asio::buffer(std::string("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(served, buffer, res);
  EXPECT_EQ(res.body(), "/a|");
  auto idle = closed_after(served);
  EXPECT_GE(idle, std::chrono::milliseconds(200));
  EXPECT_LT(idle, std::chrono::seconds(5));

  // A head must arrive whole within the idle timeout from when the server began to wait: in
  // time for a slow client, too late for one that never finishes it.
  tcp::socket slow = connect();
  asio::write(slow, asio::buffer(std::string("GET /b HTTP/1.1\r\n")));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  asio::write(slow, asio::buffer(std::string("Host: h\r\n\r\n")));
  http::response<http::string_body> res2;
  beast::flat_buffer buffer2;
  http::read(slow, buffer2, res2);
  EXPECT_EQ(res2.body(), "/b|");
  tcp::socket slower = connect();
  asio::write(slower, asio::buffer(std::string("GET /c HTTP/1.1\r\n")));
  EXPECT_LT(closed_after(slower), std::chrono::seconds(5));
  EXPECT_EQ(handler.sinks_opened.load(), 0);
  server.Stop();
  runner.join();
}

}  // namespace
}  // namespace stratus
