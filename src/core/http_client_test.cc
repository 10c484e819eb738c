#include "core/http_client.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/server.h"

namespace stratus {
namespace {

class Echo : public HttpHandler {
 public:
  void Handle(HttpRequest request, Responder responder) override {
    if (request.path == "/hang") {
      hung_.push_back(responder);  // never answered during the test
      return;
    }
    HttpResponse r;
    if (request.path == "/big") {
      r.body = std::string(1 << 20, 'x');
    } else {
      r.status = request.path == "/missing" ? 404 : 200;
      r.headers.Set("X-Method", request.method);
      r.body = request.target + "|" + request.body;
    }
    responder.Send(std::move(r));
  }
  std::vector<Responder> hung_;
};

class Reject : public RejectFormatter {
  HttpResponse FormatReject(const HttpRequest&, int status, std::string_view code,
                            std::string_view message) const override {
    return JsonErrorResponse(status, code, message, "id");
  }
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.io_threads = 1;
    o.drain_timeout_ms = 100;
    server_ = std::make_unique<HttpServer>(o, echo_, reject_);
    ASSERT_TRUE(server_->Listen().ok());
    runner_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    echo_.hung_.clear();  // answers them while the server runs
    server_->Stop();
    runner_.join();
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  Echo echo_;
  Reject reject_;
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  HttpClient client_;
};

TEST(ParseHttpUrl, Forms) {
  auto u = ParseHttpUrl("https://example.com/a?b=1");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a?b=1");
  auto v = ParseHttpUrl("http://[::1]:8080");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "::1");
  EXPECT_EQ(v->port, 8080);
  EXPECT_EQ(v->target, "/");
  EXPECT_FALSE(ParseHttpUrl("ftp://x").ok());
  EXPECT_FALSE(ParseHttpUrl("http://:80/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://h:99999/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://user:pw@h/").ok());
}

TEST_F(HttpClientTest, GetAndPost) {
  auto get = client_.FetchAndWait(ClientRequest{.url = Url("/a?x=1")});
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "/a?x=1|");
  ClientRequest post{.method = "POST", .url = Url("/p"), .body = "hello"};
  auto r = client_.FetchAndWait(post);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "/p|hello");
  EXPECT_EQ(r->headers.GetOr("x-method"), "POST");
  auto missing = client_.FetchAndWait(ClientRequest{.url = Url("/missing")});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpClientTest, DeadlinesAndLimits) {
  auto hang = client_.FetchAndWait(ClientRequest{.url = Url("/hang"), .timeout_ms = 200});
  ASSERT_FALSE(hang.ok());
  EXPECT_EQ(hang.error().code, "Timeout");
  auto big = client_.FetchAndWait(ClientRequest{.url = Url("/big"), .max_response_bytes = 1000});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "ResponseTooLarge");
  // Nothing listens on port 1.
  auto refused = client_.FetchAndWait(ClientRequest{.url = "http://127.0.0.1:1/"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ConnectionFailed");
  // TLS to a plain HTTP port fails the handshake, not the process.
  auto tls = client_.FetchAndWait(
      ClientRequest{.url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/",
                    .timeout_ms = 2000});
  ASSERT_FALSE(tls.ok());
  auto bad = client_.FetchAndWait(ClientRequest{.url = "nope"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidUrl");
}

TEST_F(HttpClientTest, ManyConcurrentRequests) {
  std::atomic<int> ok{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < 50; ++i) {
    client_.Fetch(ClientRequest{.url = Url("/n" + std::to_string(i))},
                  [&](Result<HttpResponse> r) {
                    if (r.ok() && r->status == 200) ok.fetch_add(1);
                    finished.fetch_add(1);
                  });
  }
  for (int i = 0; i < 500 && finished.load() < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ok.load(), 50);
}

}  // namespace
}  // namespace stratus
