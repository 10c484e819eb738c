// The authorizer without a server: which caller a key maps to, and under enforcement the
// signature, the session token and expiry (ExpiredToken needs a clock that moves: 15 minutes of
// sleep in an integration test would not do).
#include <gtest/gtest.h>

#include "core/metrics.h"
#include "core/worker_pool.h"
#include "identity/directory/directory.h"
#include "services/iam/authorizer.h"
#include "services/iam/iam_common.h"
#include "store/store.h"
#include "trace/recorder.h"

namespace stratus::services::iam {
namespace {

struct NoListeners : aws::ListenerRegistry {
  Result<uint16_t> Open(uint64_t) override { return Error("Unavailable", "none"); }
  void Close(uint64_t) override {}
};

constexpr int64_t kNow = 1'700'000'000;

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore(store::SqliteOptions{})).value();
    config_.enforce_iam = true;
    ctx_ = std::make_unique<aws::ServiceContext>(aws::ServiceContext{
        *store_, clock_, config_, workers_, metrics_, recorder_, clients_,
        [] { return std::string("http://localhost:4566"); }, listeners_});
    state_ = std::make_unique<IamState>(*store_);
    ASSERT_TRUE(state_->Load().ok());
    authorizer_ = std::make_unique<IamAuthorizer>(*ctx_, *state_, cache_);
    session_.access_key_id = "ASIAEXAMPLE000000001";
    session_.secret = "session-secret";
    session_.token = "session-token";
    session_.account = "000000000000";
    session_.arn = "arn:aws:sts::000000000000:assumed-role/r/s";
    session_.user_id = "AROAEXAMPLE:s";
    session_.role_name = "r";
    session_.role_arn = "arn:aws:iam::000000000000:role/r";
    session_.issued = kNow;
    session_.expiration = kNow + 900;
    ASSERT_TRUE(identity::SaveSession(*store_, session_).ok());
  }
  Status Authenticate(const std::string& key, const std::string& secret, const std::string& token,
                      int64_t now, aws::Caller& caller, const std::string& tamper = {}) {
    HttpRequest r;
    r.method = "POST";
    r.path = r.target = "/";
    r.headers.Set("Host", "localhost:4566");
    r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    r.body = "Action=GetCallerIdentity&Version=2011-06-15";
    aws::SignRequest(r, key, secret, "us-east-1", "sts", now, token);
    if (!tamper.empty()) r.body = tamper;
    auto claim = aws::ParseSigV4(r, aws::SigV4Dialect::kQuery);
    EXPECT_TRUE(claim.ok() && claim->has_value());
    return authorizer_->Authenticate(r, &**claim, aws::SigV4Dialect::kQuery, now * 1000, caller);
  }
  std::string Code(const Status& s) { return s.ok() ? "ok" : s.error().code; }

  ManualClock clock_{kNow * 1000};
  Config config_;
  WorkerPool workers_{2};
  Metrics metrics_;
  trace::InMemoryRecorder recorder_;
  aws::ServiceClients clients_;
  NoListeners listeners_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<aws::ServiceContext> ctx_;
  std::unique_ptr<IamState> state_;
  PolicyCache cache_;
  std::unique_ptr<IamAuthorizer> authorizer_;
  identity::SessionRecord session_;
};

TEST_F(AuthorizerTest, RootKeyAndSessions) {
  aws::Caller root;
  EXPECT_EQ(Code(Authenticate("test", "test", "", kNow, root)), "ok");
  EXPECT_EQ(root.arn, "arn:aws:iam::000000000000:root");
  aws::Caller c;
  EXPECT_EQ(Code(Authenticate(session_.access_key_id, session_.secret, session_.token, kNow + 10, c)), "ok");
  EXPECT_EQ(c.arn, session_.arn);
  EXPECT_EQ(c.user_id, session_.user_id);
}

TEST_F(AuthorizerTest, ExpiredSessionsWrongTokensAndSecrets) {
  aws::Caller c;
  EXPECT_EQ(Code(Authenticate(session_.access_key_id, session_.secret, session_.token, kNow + 901, c)),
            "ExpiredToken");
  EXPECT_EQ(Code(Authenticate(session_.access_key_id, session_.secret, "other-token", kNow, c)),
            "InvalidClientTokenId");
  EXPECT_EQ(Code(Authenticate(session_.access_key_id, "wrong", session_.token, kNow, c)),
            "SignatureDoesNotMatch");
  EXPECT_EQ(Code(Authenticate("test", "test", "", kNow, c, "Action=ListUsers&Version=2010-05-08")),
            "SignatureDoesNotMatch");
  EXPECT_EQ(Code(Authenticate("AKIANOSUCHKEY0000000", "x", "", kNow, c)), "InvalidClientTokenId");
}

TEST_F(AuthorizerTest, WithoutEnforcementAnyKeyPassesButKnownOnesIdentify) {
  authorizer_->SetEnforcingForTest(false);
  aws::Caller c;
  EXPECT_EQ(Code(Authenticate(session_.access_key_id, "wrong", session_.token, kNow + 5000, c)), "ok");
  EXPECT_EQ(Code(Authenticate("AKIANOSUCHKEY0000000", "x", "", kNow, c)), "ok");
  aws::Caller s;
  EXPECT_EQ(Code(Authenticate(session_.access_key_id, "wrong", session_.token, kNow, s)), "ok");
  EXPECT_EQ(s.arn, session_.arn);
}

}  // namespace
}  // namespace stratus::services::iam
