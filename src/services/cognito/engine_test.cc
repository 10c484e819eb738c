// Engine flows over an in-memory store: sign-up, confirmation through the outbox, every auth
// flow and its error paths (wrong passwords, lockout, existence hiding, replayed SRP sessions,
// revoked and tampered tokens, MFA).
#include "services/cognito/engine.h"

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/cognito/jwt.h"
#include "services/cognito/secrets.h"
#include "services/cognito/srp.h"

namespace stratus::services::cognito {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(store::SqliteOptions{.data_dir = "", .fsync = false, .clock = &clock_});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    dir_ = std::make_unique<Directory>(*store_, clock_);
    users_ = std::make_unique<Users>(*store_, clock_);
    tokens_ = std::make_unique<Tokens>(*store_, clock_, [] { return std::string("http://localhost:4566"); });
    triggers_ = std::make_unique<Triggers>(clients_);
    engine_ = std::make_unique<Engine>(*store_, clock_, *dir_, *users_, *tokens_, *triggers_);
    auto pool = dir_->CreatePool(scope_, Json{{"PoolName", "p"}, {"AutoVerifiedAttributes", Json::array({"email"})}});
    ASSERT_TRUE(pool.ok());
    pool_id_ = (*pool)["Id"];
    auto client = dir_->CreateClient(scope_, Json{{"UserPoolId", pool_id_}, {"ClientName", "web"},
                                                  {"ExplicitAuthFlows", Json::array({"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                                                                                      "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"})},
                                                  {"PreventUserExistenceErrors", "ENABLED"}});
    ASSERT_TRUE(client.ok());
    client_id_ = (*client)["ClientId"];
  }

  std::string LastCode() {
    auto msgs = users_->Outbox(pool_id_, "", "");
    EXPECT_TRUE(msgs.ok() && !msgs->empty());
    return msgs->back()["Code"];
  }

  void SignUpConfirmed(const std::string& user, const std::string& password) {
    auto r = engine_->SignUp(Json{{"ClientId", client_id_}, {"Username", user}, {"Password", password},
                                  {"UserAttributes", Json::array({Json{{"Name", "email"}, {"Value", user + "@example.com"}}})}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE((*r)["UserConfirmed"].get<bool>());
    EXPECT_EQ((*r)["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    auto c = engine_->ConfirmSignUp(Json{{"ClientId", client_id_}, {"Username", user}, {"ConfirmationCode", LastCode()}});
    ASSERT_TRUE(c.ok()) << c.error().message;
  }

  Result<Json> PasswordAuth(const std::string& user, const std::string& password) {
    return engine_->InitiateAuth(Json{{"ClientId", client_id_}, {"AuthFlow", "USER_PASSWORD_AUTH"},
                                      {"AuthParameters", Json{{"USERNAME", user}, {"PASSWORD", password}}}});
  }

  ManualClock clock_{1700000000000};
  aws::ServiceClients clients_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Directory> dir_;
  std::unique_ptr<Users> users_;
  std::unique_ptr<Tokens> tokens_;
  std::unique_ptr<Triggers> triggers_;
  std::unique_ptr<Engine> engine_;
  Scope scope_{"000000000000", "us-east-1"};
  std::string pool_id_;
  std::string client_id_;
};

TEST_F(EngineTest, SignUpConfirmAndPasswordSignIn) {
  SignUpConfirmed("alice", "Passw0rd!");
  auto r = PasswordAuth("alice", "Passw0rd!");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Json& a = (*r)["AuthenticationResult"];
  auto claims = tokens_->Verify(pool_id_, a["AccessToken"].get<std::string>(), "access");
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ((*claims)["username"], "alice");
  EXPECT_EQ((*claims)["client_id"], client_id_);
  auto id = tokens_->Verify(pool_id_, a["IdToken"].get<std::string>(), "id");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*id)["cognito:username"], "alice");
  EXPECT_EQ((*id)["email_verified"], true);
  EXPECT_EQ((*id)["aud"], client_id_);
  EXPECT_EQ((*id)["iss"], "http://localhost:4566/" + pool_id_);
  // An ID token is not an access token.
  EXPECT_FALSE(tokens_->Verify(pool_id_, a["IdToken"].get<std::string>(), "access").ok());
  auto me = engine_->GetUser(Json{{"AccessToken", a["AccessToken"]}});
  ASSERT_TRUE(me.ok());
  EXPECT_EQ((*me)["Username"], "alice");
  // Refresh.
  auto refreshed = engine_->InitiateAuth(Json{{"ClientId", client_id_}, {"AuthFlow", "REFRESH_TOKEN_AUTH"},
                                              {"AuthParameters", Json{{"REFRESH_TOKEN", a["RefreshToken"]}}}});
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_FALSE((*refreshed)["AuthenticationResult"].contains("RefreshToken"));
}

TEST_F(EngineTest, WrongCodesAndPasswords) {
  auto r = engine_->SignUp(Json{{"ClientId", client_id_}, {"Username", "bob"}, {"Password", "weak"}});
  EXPECT_EQ(r.error().code, "InvalidPasswordException");
  ASSERT_TRUE(engine_->SignUp(Json{{"ClientId", client_id_}, {"Username", "bob"}, {"Password", "Passw0rd!"},
                                   {"UserAttributes", Json::array({Json{{"Name", "email"}, {"Value", "b@x.io"}}})}}).ok());
  EXPECT_EQ(engine_->SignUp(Json{{"ClientId", client_id_}, {"Username", "bob"}, {"Password", "Passw0rd!"}}).error().code,
            "UsernameExistsException");
  EXPECT_EQ(PasswordAuth("bob", "Passw0rd!").error().code, "UserNotConfirmedException");
  EXPECT_EQ(engine_->ConfirmSignUp(Json{{"ClientId", client_id_}, {"Username", "bob"}, {"ConfirmationCode", "000000x"}}).error().code,
            "CodeMismatchException");
  clock_.Advance(int64_t{25} * 3600 * 1000);
  EXPECT_EQ(engine_->ConfirmSignUp(Json{{"ClientId", client_id_}, {"Username", "bob"}, {"ConfirmationCode", LastCode()}}).error().code,
            "ExpiredCodeException");
}

TEST_F(EngineTest, ExistenceHiddenAndLockout) {
  SignUpConfirmed("carol", "Passw0rd!");
  auto unknown = PasswordAuth("nobody", "Passw0rd!");
  EXPECT_EQ(unknown.error().code, "NotAuthorizedException");
  EXPECT_EQ(unknown.error().message, "Incorrect username or password.");
  auto wrong = PasswordAuth("carol", "nope");
  EXPECT_EQ(wrong.error().code, "NotAuthorizedException");
  EXPECT_EQ(wrong.error().message, unknown.error().message);
  for (int i = 0; i < 4; ++i) (void)PasswordAuth("carol", "nope");
  // Locked: even the right password is refused until the lockout passes.
  EXPECT_EQ(PasswordAuth("carol", "Passw0rd!").error().message, "Password attempts exceeded");
  clock_.Advance(2000);
  EXPECT_TRUE(PasswordAuth("carol", "Passw0rd!").ok());
  // Forgot password for an unknown user looks like success.
  auto fp = engine_->ForgotPassword(Json{{"ClientId", client_id_}, {"Username", "nobody"}});
  ASSERT_TRUE(fp.ok());
  EXPECT_TRUE((*fp).contains("CodeDeliveryDetails"));
}

TEST_F(EngineTest, SrpSignInAndReplay) {
  SignUpConfirmed("dave", "Passw0rd!");
  auto c = srp::MakeClientEphemeral();
  auto init = engine_->InitiateAuth(Json{{"ClientId", client_id_}, {"AuthFlow", "USER_SRP_AUTH"},
                                         {"AuthParameters", Json{{"USERNAME", "dave"}, {"SRP_A", c.A_hex}}}});
  ASSERT_TRUE(init.ok()) << init.error().message;
  EXPECT_EQ((*init)["ChallengeName"], "PASSWORD_VERIFIER");
  const Json& p = (*init)["ChallengeParameters"];
  std::string short_name = PoolShortName(pool_id_);
  auto key = srp::ClientKey(short_name, p["USER_ID_FOR_SRP"].get<std::string>(), "Passw0rd!", c.a_hex, c.A_hex,
                            p["SRP_B"].get<std::string>(), p["SALT"].get<std::string>());
  ASSERT_TRUE(key);
  std::string ts = srp::FormatTimestamp(clock_.NowMillis() / 1000);
  std::string block = p["SECRET_BLOCK"];
  std::string sig = srp::ClaimSignature(*key, short_name, p["USER_ID_FOR_SRP"].get<std::string>(), *Base64Decode(block), ts);
  Json respond = Json{{"ClientId", client_id_}, {"ChallengeName", "PASSWORD_VERIFIER"}, {"Session", (*init)["Session"]},
                      {"ChallengeResponses", Json{{"USERNAME", p["USER_ID_FOR_SRP"]}, {"PASSWORD_CLAIM_SECRET_BLOCK", block},
                                                  {"PASSWORD_CLAIM_SIGNATURE", sig}, {"TIMESTAMP", ts}}}};
  auto done = engine_->RespondToAuthChallenge(respond);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_TRUE((*done)["AuthenticationResult"].contains("AccessToken"));
  // The same session again: refused.
  EXPECT_EQ(engine_->RespondToAuthChallenge(respond).error().code, "NotAuthorizedException");
  // A bad signature.
  auto init2 = engine_->InitiateAuth(Json{{"ClientId", client_id_}, {"AuthFlow", "USER_SRP_AUTH"},
                                          {"AuthParameters", Json{{"USERNAME", "dave"}, {"SRP_A", c.A_hex}}}});
  Json bad = respond;
  bad["Session"] = (*init2)["Session"];
  bad["ChallengeResponses"]["PASSWORD_CLAIM_SECRET_BLOCK"] = (*init2)["ChallengeParameters"]["SECRET_BLOCK"];
  EXPECT_EQ(engine_->RespondToAuthChallenge(bad).error().message, "Incorrect username or password.");
  // Unknown users get a challenge that always fails (existence hidden).
  auto fake = engine_->InitiateAuth(Json{{"ClientId", client_id_}, {"AuthFlow", "USER_SRP_AUTH"},
                                         {"AuthParameters", Json{{"USERNAME", "ghost"}, {"SRP_A", c.A_hex}}}});
  ASSERT_TRUE(fake.ok());
  EXPECT_EQ((*fake)["ChallengeName"], "PASSWORD_VERIFIER");
  // A correct answer after the session's 3 minutes: refused as expired.
  auto init3 = engine_->InitiateAuth(Json{{"ClientId", client_id_}, {"AuthFlow", "USER_SRP_AUTH"},
                                          {"AuthParameters", Json{{"USERNAME", "dave"}, {"SRP_A", c.A_hex}}}});
  ASSERT_TRUE(init3.ok());
  const Json& p3 = (*init3)["ChallengeParameters"];
  auto key3 = srp::ClientKey(short_name, p3["USER_ID_FOR_SRP"].get<std::string>(), "Passw0rd!", c.a_hex, c.A_hex,
                             p3["SRP_B"].get<std::string>(), p3["SALT"].get<std::string>());
  ASSERT_TRUE(key3);
  clock_.Advance(int64_t{3} * 60 * 1000 + 1000);
  std::string ts3 = srp::FormatTimestamp(clock_.NowMillis() / 1000);
  std::string block3 = p3["SECRET_BLOCK"];
  Json late = Json{{"ClientId", client_id_}, {"ChallengeName", "PASSWORD_VERIFIER"}, {"Session", (*init3)["Session"]},
                   {"ChallengeResponses", Json{{"USERNAME", p3["USER_ID_FOR_SRP"]}, {"PASSWORD_CLAIM_SECRET_BLOCK", block3},
                                               {"PASSWORD_CLAIM_SIGNATURE", srp::ClaimSignature(*key3, short_name, p3["USER_ID_FOR_SRP"].get<std::string>(),
                                                                                                 *Base64Decode(block3), ts3)},
                                               {"TIMESTAMP", ts3}}}};
  auto expired = engine_->RespondToAuthChallenge(late);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, "NotAuthorizedException");
  EXPECT_EQ(expired.error().message, "Invalid session for the user, session is expired.");
}

TEST_F(EngineTest, RevocationAndSignOut) {
  SignUpConfirmed("erin", "Passw0rd!");
  auto r = PasswordAuth("erin", "Passw0rd!");
  ASSERT_TRUE(r.ok());
  Json a = (*r)["AuthenticationResult"];
  ASSERT_TRUE(engine_->RevokeToken(Json{{"ClientId", client_id_}, {"Token", a["RefreshToken"]}}).ok());
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", a["AccessToken"]}}).error().message, "Access Token has been revoked");
  EXPECT_EQ(engine_->InitiateAuth(Json{{"ClientId", client_id_}, {"AuthFlow", "REFRESH_TOKEN_AUTH"},
                                       {"AuthParameters", Json{{"REFRESH_TOKEN", a["RefreshToken"]}}}}).error().code,
            "NotAuthorizedException");
  auto r2 = PasswordAuth("erin", "Passw0rd!");
  Json b = (*r2)["AuthenticationResult"];
  ASSERT_TRUE(engine_->GlobalSignOut(Json{{"AccessToken", b["AccessToken"]}}).ok());
  EXPECT_FALSE(engine_->GetUser(Json{{"AccessToken", b["AccessToken"]}}).ok());
  // Tampered and alg:none tokens.
  std::string t = b["AccessToken"];
  auto dot = t.find('.');
  std::string none = jwt::Base64UrlEncode(R"({"alg":"none","kid":"x"})") + t.substr(dot, t.rfind('.') - dot) + ".";
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", none}}).error().code, "NotAuthorizedException");
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", "garbage"}}).error().code, "NotAuthorizedException");
  // Expiry.
  auto r3 = PasswordAuth("erin", "Passw0rd!");
  clock_.Advance(int64_t{3601} * 1000);
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", (*r3)["AuthenticationResult"]["AccessToken"]}}).error().message,
            "Access Token has expired");
}

TEST_F(EngineTest, AdminCreateUserNewPasswordAndTotp) {
  auto created = engine_->AdminCreateUser(scope_, Json{{"UserPoolId", pool_id_}, {"Username", "frank"},
                                                       {"TemporaryPassword", "Temp0rary!"}, {"MessageAction", "SUPPRESS"}});
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ((*created)["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
  auto r = PasswordAuth("frank", "Temp0rary!");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["ChallengeName"], "NEW_PASSWORD_REQUIRED");
  auto done = engine_->RespondToAuthChallenge(Json{{"ClientId", client_id_}, {"ChallengeName", "NEW_PASSWORD_REQUIRED"},
                                                   {"Session", (*r)["Session"]},
                                                   {"ChallengeResponses", Json{{"USERNAME", "frank"}, {"NEW_PASSWORD", "Final-Passw0rd"}}}});
  ASSERT_TRUE(done.ok()) << done.error().message;
  std::string access = (*done)["AuthenticationResult"]["AccessToken"];
  // TOTP: associate, verify, prefer; the next sign-in asks for a code.
  ASSERT_TRUE(dir_->SetMfaConfig(scope_, Json{{"UserPoolId", pool_id_}, {"MfaConfiguration", "OPTIONAL"},
                                              {"SoftwareTokenMfaConfiguration", Json{{"Enabled", true}}}}).ok());
  auto assoc = engine_->AssociateSoftwareToken(Json{{"AccessToken", access}});
  ASSERT_TRUE(assoc.ok());
  std::string secret = *secrets::Base32Decode((*assoc)["SecretCode"].get<std::string>());
  EXPECT_EQ(engine_->VerifySoftwareToken(Json{{"AccessToken", access}, {"UserCode", "000000"}}).error().code,
            "EnableSoftwareTokenMFAException");
  std::string code = secrets::Hotp(secret, clock_.NowMillis() / 1000 / 30);
  ASSERT_TRUE(engine_->VerifySoftwareToken(Json{{"AccessToken", access}, {"UserCode", code}}).ok());
  ASSERT_TRUE(engine_->SetUserMfaPreference(Json{{"AccessToken", access},
                                                 {"SoftwareTokenMfaSettings", Json{{"Enabled", true}, {"PreferredMfa", true}}}}).ok());
  auto me = engine_->GetUser(Json{{"AccessToken", access}});
  ASSERT_TRUE(me.ok()) << me.error().message;
  EXPECT_EQ((*me)["Username"], "frank");
  EXPECT_EQ((*me)["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");
  EXPECT_EQ((*me)["UserMFASettingList"], Json::array({"SOFTWARE_TOKEN_MFA"}));
  EXPECT_FALSE(me->contains("MFAOptions")) << "MFAOptions lists SMS only";
  clock_.Advance(60000);
  auto mfa = PasswordAuth("frank", "Final-Passw0rd");
  ASSERT_TRUE(mfa.ok());
  EXPECT_EQ((*mfa)["ChallengeName"], "SOFTWARE_TOKEN_MFA");
  Json answer = Json{{"ClientId", client_id_}, {"ChallengeName", "SOFTWARE_TOKEN_MFA"}, {"Session", (*mfa)["Session"]},
                     {"ChallengeResponses", Json{{"USERNAME", "frank"}, {"SOFTWARE_TOKEN_MFA_CODE", "123456"}}}};
  EXPECT_EQ(engine_->RespondToAuthChallenge(answer).error().code, "CodeMismatchException");
  answer["ChallengeResponses"]["SOFTWARE_TOKEN_MFA_CODE"] = secrets::Hotp(secret, clock_.NowMillis() / 1000 / 30);
  auto ok = engine_->RespondToAuthChallenge(answer);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE((*ok)["AuthenticationResult"].contains("IdToken"));
}

TEST_F(EngineTest, TriggerWithoutLambdaFailsLoudly) {
  ASSERT_TRUE(dir_->UpdatePool(scope_, Json{{"UserPoolId", pool_id_},
                                            {"LambdaConfig", Json{{"PreSignUp", "arn:aws:lambda:us-east-1:000000000000:function:f"}}},
                                            {"AutoVerifiedAttributes", Json::array({"email"})}}).ok());
  auto r = engine_->SignUp(Json{{"ClientId", client_id_}, {"Username", "gina"}, {"Password", "Passw0rd!"}});
  EXPECT_EQ(r.error().code, "UnexpectedLambdaException");
}

TEST_F(EngineTest, KeyRotationKeepsOldTokensValid) {
  SignUpConfirmed("hank", "Passw0rd!");
  auto before = PasswordAuth("hank", "Passw0rd!");
  std::string old_token = (*before)["AuthenticationResult"]["AccessToken"];
  clock_.Advance(Tokens::kRotationMs + 1000);
  auto after = PasswordAuth("hank", "Passw0rd!");
  ASSERT_TRUE(after.ok());
  auto jwks = tokens_->Jwks(pool_id_);
  EXPECT_EQ((*jwks)["keys"].size(), 2u);
  auto h1 = jwt::Parse(old_token);
  auto h2 = jwt::Parse((*after)["AuthenticationResult"]["AccessToken"].get<std::string>());
  EXPECT_NE(h1->header["kid"], h2->header["kid"]);
  EXPECT_TRUE(tokens_->Verify(pool_id_, (*after)["AuthenticationResult"]["AccessToken"].get<std::string>(), "access").ok());
}

TEST_F(EngineTest, RememberedTokensAreStillCheckedOnEveryUse) {
  // A token seen once skips the signature check the next time; revocation, expiry, a tampered
  // copy and its key leaving the pool must still refuse it.
  SignUpConfirmed("ruth", "Passw0rd!");
  auto signin = [&] {
    return (*PasswordAuth("ruth", "Passw0rd!"))["AuthenticationResult"]["AccessToken"].get<std::string>();
  };
  std::string revoked = signin();
  ASSERT_TRUE(engine_->GetUser(Json{{"AccessToken", revoked}}).ok());
  ASSERT_TRUE(engine_->GetUser(Json{{"AccessToken", revoked}}).ok());
  ASSERT_TRUE(engine_->GlobalSignOut(Json{{"AccessToken", revoked}}).ok());
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", revoked}}).error().message, "Access Token has been revoked");

  std::string t = signin();
  ASSERT_TRUE(engine_->GetUser(Json{{"AccessToken", t}}).ok());
  std::string tampered = t;
  tampered[tampered.rfind('.') + 5] = tampered[tampered.rfind('.') + 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", tampered}}).error().message, "Invalid Access Token");
  std::string payload_swapped = t;
  size_t dot = t.find('.');
  payload_swapped.insert(dot + 1, "e30");  // another payload under the same signature
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", payload_swapped}}).error().code, "NotAuthorizedException");
  EXPECT_TRUE(engine_->GetUser(Json{{"AccessToken", t}}).ok()) << "the genuine token still works";

  // Rotated out of the JWKS (kPublishedKeys newer keys): no longer vouched for.
  for (size_t i = 0; i < Tokens::kPublishedKeys; ++i) ASSERT_TRUE(tokens_->RotateForTest(pool_id_).ok());
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", t}}).error().message, "Invalid Access Token");

  std::string expiring = signin();
  ASSERT_TRUE(engine_->GetUser(Json{{"AccessToken", expiring}}).ok());
  clock_.Advance(int64_t{3601} * 1000);
  EXPECT_EQ(engine_->GetUser(Json{{"AccessToken", expiring}}).error().message, "Access Token has expired");
}

TEST_F(EngineTest, ListUsersFilter) {
  SignUpConfirmed("ivan", "Passw0rd!");
  SignUpConfirmed("iris", "Passw0rd!");
  auto all = engine_->ListUsers(scope_, Json{{"UserPoolId", pool_id_}, {"Filter", "username ^= \"iv\""}});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ((*all)["Users"].size(), 1u);
  EXPECT_EQ((*all)["Users"][0]["Username"], "ivan");
  EXPECT_EQ(engine_->ListUsers(scope_, Json{{"UserPoolId", pool_id_}, {"Filter", "bogus"}}).error().code,
            "InvalidParameterException");
  EXPECT_FALSE(ParseUserFilter("email = \"unterminated").has_value());
  EXPECT_FALSE(ParseUserFilter("password = \"x\"").has_value());
}

}  // namespace
}  // namespace stratus::services::cognito
