// The OAuth2 data plane without a server, on a manual clock: what needs time to pass (an
// authorization code's five minutes) is tested by moving the clock, not by sleeping.
#include "services/cognito/oauth.h"

#include <future>

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/metrics.h"
#include "core/worker_pool.h"
#include "services/cognito/engine.h"
#include "store/store.h"
#include "trace/recorder.h"

namespace stratus::services::cognito {
namespace {

struct NoListeners : aws::ListenerRegistry {
  Result<uint16_t> Open(uint64_t) override { return Error("Unavailable", "none"); }
  void Close(uint64_t) override {}
};

constexpr const char* kCallback = "https://app.example/cb";

class OAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(store::SqliteOptions{.data_dir = "", .fsync = false, .clock = &clock_});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ctx_ = std::make_unique<aws::ServiceContext>(aws::ServiceContext{
        *store_, clock_, config_, workers_, metrics_, recorder_, clients_,
        [] { return std::string("http://localhost:4566"); }, listeners_});
    dir_ = std::make_unique<Directory>(*store_, clock_);
    users_ = std::make_unique<Users>(*store_, clock_);
    tokens_ = std::make_unique<Tokens>(*store_, clock_, ctx_->external_url);
    triggers_ = std::make_unique<Triggers>(clients_);
    engine_ = std::make_unique<Engine>(*store_, clock_, *dir_, *users_, *tokens_, *triggers_);
    plane_ = MakeOAuthPlane(*ctx_, *engine_);

    auto pool = dir_->CreatePool(scope_, Json{{"PoolName", "p"}});
    ASSERT_TRUE(pool.ok()) << pool.error().message;
    pool_id_ = (*pool)["Id"];
    ASSERT_TRUE(dir_->CreateDomain(scope_, Json{{"UserPoolId", pool_id_}, {"Domain", "app"}}).ok());
    auto client = dir_->CreateClient(
        scope_, Json{{"UserPoolId", pool_id_}, {"ClientName", "web"},
                     {"AllowedOAuthFlowsUserPoolClient", true}, {"AllowedOAuthFlows", Json::array({"code"})},
                     {"AllowedOAuthScopes", Json::array({"openid"})}, {"CallbackURLs", Json::array({kCallback})},
                     {"SupportedIdentityProviders", Json::array({"COGNITO"})}});
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_id_ = (*client)["ClientId"];
    ASSERT_TRUE(engine_->AdminCreateUser(scope_, Json{{"UserPoolId", pool_id_}, {"Username", "ann"},
                                                      {"MessageAction", "SUPPRESS"},
                                                      {"TemporaryPassword", "Temp-passw0rd!"}}).ok());
    ASSERT_TRUE(engine_->AdminSetUserPassword(scope_, Json{{"UserPoolId", pool_id_}, {"Username", "ann"},
                                                           {"Password", "Passw0rd!"}, {"Permanent", true}}).ok());
  }

  HttpResponse Post(const std::string& path, const std::string& form) {
    HttpRequest r;
    r.method = "POST";
    r.path = r.target = path;
    r.headers.Set("Host", "localhost:4566");
    r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    r.body = form;
    EXPECT_TRUE(plane_->Matches(r));
    std::promise<HttpResponse> answered;
    plane_->Handle(std::move(r), Responder([&](HttpResponse resp) { answered.set_value(std::move(resp)); }));
    return answered.get_future().get();
  }

  // Signs "ann" in on the hosted page; returns the authorization code the redirect carries.
  std::string SignInForCode() {
    HttpResponse resp = Post("/_cognito/app/login",
                             "client_id=" + client_id_ + "&redirect_uri=" + UrlEncode(kCallback) +
                                 "&response_type=code&scope=openid&username=ann&password=Passw0rd%21");
    EXPECT_EQ(resp.status, 302) << resp.body;
    std::string location(resp.headers.GetOr("location"));
    std::string prefix = std::string(kCallback) + "?code=";
    EXPECT_EQ(location.rfind(prefix, 0), 0u) << location;
    return location.substr(prefix.size());
  }

  HttpResponse Redeem(const std::string& code) {
    return Post("/_cognito/app/oauth2/token", "grant_type=authorization_code&client_id=" + client_id_ +
                                                  "&code=" + code + "&redirect_uri=" + UrlEncode(kCallback));
  }

  ManualClock clock_{1700000000000};
  Config config_;
  WorkerPool workers_{2};
  Metrics metrics_;
  trace::InMemoryRecorder recorder_;
  aws::ServiceClients clients_;
  NoListeners listeners_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<aws::ServiceContext> ctx_;
  std::unique_ptr<Directory> dir_;
  std::unique_ptr<Users> users_;
  std::unique_ptr<Tokens> tokens_;
  std::unique_ptr<Triggers> triggers_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<OAuthPlane> plane_;
  Scope scope_{"000000000000", "us-east-1"};
  std::string pool_id_;
  std::string client_id_;
};

TEST_F(OAuthTest, CodeRedeemedWithinFiveMinutesGivesTokens) {
  std::string code = SignInForCode();
  clock_.Advance(300'000);  // the last second of its validity
  HttpResponse resp = Redeem(code);
  ASSERT_EQ(resp.status, 200) << resp.body;
  Json body = ParseJsonOrDiscarded(resp.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_TRUE(tokens_->Verify(pool_id_, body["access_token"].get<std::string>(), "access").ok());
  EXPECT_TRUE(body.contains("id_token"));
  // One use only.
  HttpResponse again = Redeem(code);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(ParseJsonOrDiscarded(again.body)["error"], "invalid_grant");
}

TEST_F(OAuthTest, ExpiredCodeIsRefusedWithInvalidGrant) {
  std::string code = SignInForCode();
  clock_.Advance(301'000);  // Cognito's codes last five minutes
  HttpResponse resp = Redeem(code);
  EXPECT_EQ(resp.status, 400) << resp.body;
  Json body = ParseJsonOrDiscarded(resp.body);
  EXPECT_EQ(body["error"], "invalid_grant");
  EXPECT_FALSE(body.contains("access_token"));
  // Refused, not merely late: the code is gone, even once the clock is set back.
  clock_.Advance(-301'000);
  EXPECT_EQ(ParseJsonOrDiscarded(Redeem(code).body)["error"], "invalid_grant");
}

}  // namespace
}  // namespace stratus::services::cognito
