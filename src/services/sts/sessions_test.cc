// STS sessions without a server: durations, session policies, tags, role chaining, and web
// identity refusals that need no network.
#include "services/sts/sessions.h"

#include <gtest/gtest.h>

#include "identity/directory/directory.h"
#include "store/store.h"

namespace stratus::services::sts {
namespace {

constexpr const char* kRoleArn = "arn:aws:iam::000000000000:role/app";

class SessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions o;
    o.clock = &clock_;
    store_ = std::move(store::OpenSqliteStore(o)).value();
    identity::RoleRecord role;
    role.name = "app";
    role.arn = kRoleArn;
    role.id = "AROAEXAMPLE0000000001";
    role.max_session_seconds = 7200;
    role.trust_policy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"sts:AssumeRole"}]})";
    ASSERT_TRUE(store_->Put(identity::RoleKey("000000000000", "app"), DumpJson(identity::ToJson(role))).ok());
    sts_ = std::make_unique<Sts>(Sts{*store_, clock_});
    root_.account_id = "000000000000";
    root_.arn = "arn:aws:iam::000000000000:root";
    root_.user_id = "000000000000";
    root_.access_key_id = "test";
  }
  std::string Code(const Result<Json>& r) { return r.ok() ? "ok" : r.error().code; }

  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Sts> sts_;
  aws::Caller root_;
};

TEST_F(SessionsTest, AssumeRoleIssuesADurableSessionThatExpires) {
  auto r = AssumeRole(*sts_, root_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s1"},
                                     {"DurationSeconds", 900}, {"SourceIdentity", "alice"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Json& c = (*r)["Credentials"];
  std::string id = c["AccessKeyId"];
  EXPECT_TRUE(id.starts_with("ASIA"));
  EXPECT_EQ(c["Expiration"].get<double>(), 1'700'000'900.0);
  EXPECT_EQ((*r)["AssumedRoleUser"]["Arn"], "arn:aws:sts::000000000000:assumed-role/app/s1");
  EXPECT_EQ((*r)["AssumedRoleUser"]["AssumedRoleId"], "AROAEXAMPLE0000000001:s1");
  auto s = identity::LoadSession(*store_, id);
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->role_name, "app");
  EXPECT_EQ((*s)->source_identity, "alice");
  EXPECT_EQ((*s)->secret, c["SecretAccessKey"]);
  EXPECT_EQ((*s)->token, c["SessionToken"]);
}

TEST_F(SessionsTest, DurationsAreBoundedByTheRoleAndByChaining) {
  EXPECT_EQ(Code(AssumeRole(*sts_, root_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"}, {"DurationSeconds", 7201}})),
            "ValidationError");
  auto first = AssumeRole(*sts_, root_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"},
                                         {"Tags", Json::array({{{"Key", "team"}, {"Value", "a"}}})},
                                         {"TransitiveTagKeys", Json::array({"team"})}});
  ASSERT_TRUE(first.ok());
  aws::Caller session = root_;
  session.access_key_id = (*first)["Credentials"]["AccessKeyId"];
  EXPECT_EQ(Code(AssumeRole(*sts_, session, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s2"}, {"DurationSeconds", 3601}})),
            "ValidationError");
  // Transitive tags pass on and cannot be overridden.
  EXPECT_EQ(Code(AssumeRole(*sts_, session, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s2"},
                                             {"Tags", Json::array({{{"Key", "Team"}, {"Value", "b"}}})}})),
            "AccessDenied");
  auto chained = AssumeRole(*sts_, session, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s2"}});
  ASSERT_TRUE(chained.ok());
  auto s = identity::LoadSession(*store_, (*chained)["Credentials"]["AccessKeyId"].get<std::string>());
  ASSERT_TRUE(s.ok() && s->has_value());
  ASSERT_EQ((*s)->tags.size(), 1u);
  EXPECT_EQ((*s)->tags[0].second, "a");
  EXPECT_EQ(Code(GetSessionToken(*sts_, session, Json::object())), "AccessDenied");
}

TEST_F(SessionsTest, SessionPoliciesAreValidatedAndSized) {
  EXPECT_EQ(Code(AssumeRole(*sts_, root_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"}, {"Policy", "{nope"}})),
            "MalformedPolicyDocument");
  std::string big = R"({"Version":"2012-10-17","Statement":[)";
  for (int i = 0; i < 60; ++i) {
    if (i) big += ",";
    big += R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-)" + std::to_string(i) + R"(/*"})";
  }
  big += "]}";
  EXPECT_EQ(Code(AssumeRole(*sts_, root_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"}, {"Policy", big}})),
            "PackedPolicyTooLarge");
  // PolicyArns need IAM; without it they are refused, not ignored.
  EXPECT_EQ(Code(AssumeRole(*sts_, root_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"},
                                           {"PolicyArns", Json::array({{{"arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"}}})}})),
            "InvalidParameterValue");
  auto ok = AssumeRole(*sts_, root_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"},
                                      {"Policy", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_GT((*ok)["PackedPolicySize"].get<int>(), 0);
}

TEST_F(SessionsTest, UnknownRolesOnlyWithoutEnforcement) {
  const Json in{{"RoleArn", "arn:aws:iam::000000000000:role/made-up"}, {"RoleSessionName", "s"}};
  EXPECT_EQ(Code(AssumeRole(*sts_, root_, in)), "ok");
  sts_->enforcing = true;
  EXPECT_EQ(Code(AssumeRole(*sts_, root_, in)), "AccessDenied");
}

TEST_F(SessionsTest, FederationAndSessionTokens) {
  aws::Caller user = root_;
  user.arn = "arn:aws:iam::000000000000:user/bob";
  user.user_id = "AIDAEXAMPLE";
  auto f = GetFederationToken(*sts_, user, {{"Name", "carol"}, {"DurationSeconds", 1000}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["FederatedUser"]["Arn"], "arn:aws:sts::000000000000:federated-user/carol");
  auto s = identity::LoadSession(*store_, (*f)["Credentials"]["AccessKeyId"].get<std::string>());
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->user_name, "bob");
  EXPECT_TRUE((*s)->has_session_policies);
  auto t = GetSessionToken(*sts_, root_, {{"DurationSeconds", 90000}});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["Credentials"]["Expiration"].get<double>(), 1'700'000'000.0 + 3600);  // root: 1 hour
}

TEST_F(SessionsTest, WebIdentityRefusesWhatItCannotVerify) {
  auto r = AssumeRoleWithWebIdentity(*sts_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"},
                                             {"WebIdentityToken", "not.a-jwt"}});
  EXPECT_EQ(Code(r), "InvalidIdentityToken");
  // A well-formed token from an issuer with no registered provider.
  std::string token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwiYXVkIjoiYXBwIn0.c2ln";
  r = AssumeRoleWithWebIdentity(*sts_, {{"RoleArn", kRoleArn}, {"RoleSessionName", "s"}, {"WebIdentityToken", token}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidIdentityToken");
  EXPECT_NE(r.error().message.find("No OpenIDConnect provider found"), std::string::npos);
}

}  // namespace
}  // namespace stratus::services::sts
