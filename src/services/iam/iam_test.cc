// IAM handlers driven without a server: entities, policies with versions, attachments, keys,
// the simulator, durability across a reload, and the authorizer's principal policies.
#include <gtest/gtest.h>

#include <map>

#include "core/clock.h"
#include "core/config.h"
#include "services/iam/iam_common.h"
#include "store/store.h"

namespace stratus::services::iam {
namespace {

constexpr const char* kAllowS3 =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]})";
constexpr const char* kTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})";

class IamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions o;
    o.clock = &clock_;
    store_ = std::move(store::OpenSqliteStore(o)).value();
    Build();
  }
  void Build() {
    handlers_.clear();
    state_ = std::make_unique<IamState>(*store_);
    ASSERT_TRUE(state_->Load().ok());
    iam_ = std::make_unique<Iam>(Iam{*state_, cache_, clock_, config_});
    Registrar on = [this](std::string name, Handler fn) { handlers_[name] = std::move(fn); };
    RegisterUserHandlers(*iam_, on);
    RegisterRoleHandlers(*iam_, on);
    RegisterPolicyHandlers(*iam_, on);
  }
  Result<Json> Call(const std::string& op, const Json& input) {
    auto it = handlers_.find(op);
    EXPECT_NE(it, handlers_.end()) << op;
    if (it == handlers_.end()) return Error("Missing", op, 500);
    aws::CallContext c;
    c.service = "iam";
    c.region = "us-east-1";
    c.caller.account_id = "000000000000";
    c.caller.arn = "arn:aws:iam::000000000000:root";
    c.now_ms = clock_.NowMillis();
    return it->second(c, input);
  }
  Json Ok(const std::string& op, const Json& input) {
    auto r = Call(op, input);
    EXPECT_TRUE(r.ok()) << op << ": " << (r.ok() ? "" : r.error().code + " " + r.error().message);
    return r.ok() ? *r : Json();
  }
  std::string Code(const std::string& op, const Json& input) {
    auto r = Call(op, input);
    return r.ok() ? "ok" : r.error().code;
  }

  ManualClock clock_;
  Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<IamState> state_;
  PolicyCache cache_;
  std::unique_ptr<Iam> iam_;
  std::map<std::string, Handler> handlers_;
};

TEST_F(IamTest, UsersAreCaseInsensitiveUniqueAndDeletedOnlyWhenEmpty) {
  Json u = Ok("CreateUser", {{"UserName", "alice"}, {"Path", "/eng/"}});
  EXPECT_EQ(u["User"]["Arn"], "arn:aws:iam::000000000000:user/eng/alice");
  EXPECT_TRUE(u["User"]["UserId"].get<std::string>().starts_with("AIDA"));
  EXPECT_EQ(Code("CreateUser", {{"UserName", "ALICE"}}), "EntityAlreadyExists");
  EXPECT_EQ(Code("GetUser", {{"UserName", "bob"}}), "NoSuchEntity");
  Ok("PutUserPolicy", {{"UserName", "alice"}, {"PolicyName", "p"}, {"PolicyDocument", kAllowS3}});
  EXPECT_EQ(Code("DeleteUser", {{"UserName", "alice"}}), "DeleteConflict");
  Ok("DeleteUserPolicy", {{"UserName", "alice"}, {"PolicyName", "p"}});
  Ok("DeleteUser", {{"UserName", "alice"}});
  EXPECT_EQ(Code("GetUser", {{"UserName", "alice"}}), "NoSuchEntity");
}

TEST_F(IamTest, ManagedPolicyVersionsAndAttachments) {
  Json p = Ok("CreatePolicy", {{"PolicyName", "read"}, {"PolicyDocument", kAllowS3}});
  std::string arn = p["Policy"]["Arn"];
  EXPECT_EQ(arn, "arn:aws:iam::000000000000:policy/read");
  EXPECT_EQ(p["Policy"]["DefaultVersionId"], "v1");
  for (int i = 2; i <= 5; ++i) {
    Json v = Ok("CreatePolicyVersion", {{"PolicyArn", arn}, {"PolicyDocument", kAllowS3}});
    EXPECT_EQ(v["PolicyVersion"]["VersionId"], "v" + std::to_string(i));
  }
  EXPECT_EQ(Code("CreatePolicyVersion", {{"PolicyArn", arn}, {"PolicyDocument", kAllowS3}}),
            "LimitExceeded");
  Ok("SetDefaultPolicyVersion", {{"PolicyArn", arn}, {"VersionId", "v3"}});
  EXPECT_EQ(Code("DeletePolicyVersion", {{"PolicyArn", arn}, {"VersionId", "v3"}}), "DeleteConflict");
  Ok("DeletePolicyVersion", {{"PolicyArn", arn}, {"VersionId", "v1"}});
  Json list = Ok("ListPolicyVersions", {{"PolicyArn", arn}});
  EXPECT_EQ(list["Versions"].size(), 4u);

  Ok("CreateRole", {{"RoleName", "r"}, {"AssumeRolePolicyDocument", kTrust}});
  Ok("AttachRolePolicy", {{"RoleName", "r"}, {"PolicyArn", arn}});
  EXPECT_EQ(Code("AttachRolePolicy", {{"RoleName", "r"}, {"PolicyArn", "arn:aws:iam::000000000000:policy/none"}}),
            "NoSuchEntity");
  EXPECT_EQ(Code("DeletePolicy", {{"PolicyArn", arn}}), "DeleteConflict");
  Json attached = Ok("ListAttachedRolePolicies", {{"RoleName", "r"}});
  ASSERT_EQ(attached["AttachedPolicies"].size(), 1u);
  EXPECT_EQ(attached["AttachedPolicies"][0]["PolicyArn"], arn);
  Ok("DetachRolePolicy", {{"RoleName", "r"}, {"PolicyArn", arn}});
  // IAM refuses to delete a policy that still has non-default versions.
  EXPECT_EQ(Code("DeletePolicy", {{"PolicyArn", arn}}), "DeleteConflict");
  for (const char* v : {"v2", "v4", "v5"}) Ok("DeletePolicyVersion", {{"PolicyArn", arn}, {"VersionId", v}});
  Ok("DeletePolicy", {{"PolicyArn", arn}});
}

TEST_F(IamTest, MalformedDocumentsAreRejectedWithIamsMessages) {
  auto r = Call("CreatePolicy", {{"PolicyName", "bad"}, {"PolicyDocument", "{not json"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "MalformedPolicyDocument");
  r = Call("CreatePolicy",
           {{"PolicyName", "bad"},
            {"PolicyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]})"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "MalformedPolicyDocument");
  // A trust policy must name a principal; an identity policy must not.
  EXPECT_EQ(Code("CreateRole", {{"RoleName", "r"},
                                {"AssumeRolePolicyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]})"}}),
            "MalformedPolicyDocument");
  EXPECT_EQ(Code("CreatePolicy", {{"PolicyName", "p"}, {"PolicyDocument", kTrust}}),
            "MalformedPolicyDocument");
  // 10 000 statements: past the size quota, answered at once.
  std::string big = R"({"Version":"2012-10-17","Statement":[)";
  for (int i = 0; i < 10000; ++i) {
    if (i) big += ",";
    big += R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"*"})";
  }
  big += "]}";
  EXPECT_EQ(Code("CreatePolicy", {{"PolicyName", "big"}, {"PolicyDocument", big}}), "LimitExceeded");
}

TEST_F(IamTest, AccessKeysAreListedUpdatedAndDeleted) {
  Ok("CreateUser", {{"UserName", "k"}});
  Json a = Ok("CreateAccessKey", {{"UserName", "k"}});
  std::string id = a["AccessKey"]["AccessKeyId"];
  EXPECT_TRUE(id.starts_with("AKIA"));
  EXPECT_EQ(a["AccessKey"]["SecretAccessKey"].get<std::string>().size(), 40u);
  Ok("CreateAccessKey", {{"UserName", "k"}});
  EXPECT_EQ(Code("CreateAccessKey", {{"UserName", "k"}}), "LimitExceeded");
  auto key = state_->FindKey(id);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->user_name, "k");
  Ok("UpdateAccessKey", {{"UserName", "k"}, {"AccessKeyId", id}, {"Status", "Inactive"}});
  EXPECT_FALSE(state_->FindKey(id)->active);
  Json list = Ok("ListAccessKeys", {{"UserName", "k"}});
  EXPECT_EQ(list["AccessKeyMetadata"].size(), 2u);
  Json used = Ok("GetAccessKeyLastUsed", {{"AccessKeyId", id}});
  EXPECT_EQ(used["UserName"], "k");
  Ok("DeleteAccessKey", {{"UserName", "k"}, {"AccessKeyId", id}});
  EXPECT_FALSE(state_->FindKey(id));
}

TEST_F(IamTest, StateSurvivesAReload) {
  Ok("CreateUser", {{"UserName", "u"}});
  Ok("CreateGroup", {{"GroupName", "g"}});
  Ok("AddUserToGroup", {{"GroupName", "g"}, {"UserName", "u"}});
  Ok("CreateRole", {{"RoleName", "r"}, {"AssumeRolePolicyDocument", kTrust}});
  Json p = Ok("CreatePolicy", {{"PolicyName", "p"}, {"PolicyDocument", kAllowS3}});
  Ok("AttachGroupPolicy", {{"GroupName", "g"}, {"PolicyArn", p["Policy"]["Arn"]}});
  std::string id = Ok("CreateAccessKey", {{"UserName", "u"}})["AccessKey"]["AccessKeyId"];
  Build();
  EXPECT_EQ(Ok("GetGroup", {{"GroupName", "g"}})["Users"].size(), 1u);
  EXPECT_EQ(Ok("GetRole", {{"RoleName", "r"}})["Role"]["RoleName"], "r");
  EXPECT_TRUE(state_->FindKey(id));
  // The group's attached policy reaches the user's effective policies.
  PrincipalPolicies pp = UserPolicies(*state_, cache_, "000000000000", "u");
  EXPECT_TRUE(pp.found);
  EXPECT_EQ(pp.identity.size(), 1u);
}

TEST_F(IamTest, PrincipalPoliciesIncludeBoundaryAndTags) {
  Json p = Ok("CreatePolicy", {{"PolicyName", "b"}, {"PolicyDocument", kAllowS3}});
  Ok("CreateRole", {{"RoleName", "r"}, {"AssumeRolePolicyDocument", kTrust},
                    {"Tags", Json::array({{{"Key", "team"}, {"Value", "blue"}}})}});
  Ok("PutRolePolicy", {{"RoleName", "r"}, {"PolicyName", "i"}, {"PolicyDocument", kAllowS3}});
  Ok("PutRolePermissionsBoundary", {{"RoleName", "r"}, {"PermissionsBoundary", p["Policy"]["Arn"]}});
  PrincipalPolicies pp = RolePolicies(*state_, cache_, "000000000000", "r");
  EXPECT_TRUE(pp.found);
  EXPECT_EQ(pp.identity.size(), 1u);
  EXPECT_TRUE(pp.boundary);
  ASSERT_EQ(pp.tags.size(), 1u);
  EXPECT_EQ(pp.tags[0].second, "blue");
  EXPECT_FALSE(RolePolicies(*state_, cache_, "000000000000", "nobody").found);
}

TEST_F(IamTest, SimulateCustomPolicyDecides) {
  Json r = Ok("SimulateCustomPolicy",
              {{"PolicyInputList", Json::array({kAllowS3})},
               {"ActionNames", Json::array({"s3:GetObject", "s3:PutObject"})},
               {"ResourceArns", Json::array({"arn:aws:s3:::b/k"})}});
  ASSERT_EQ(r["EvaluationResults"].size(), 2u);
  EXPECT_EQ(r["EvaluationResults"][0]["EvalDecision"], "allowed");
  EXPECT_EQ(r["EvaluationResults"][1]["EvalDecision"], "implicitDeny");
}

TEST_F(IamTest, SimulatePrincipalPolicyUsesTheUsersGroups) {
  Ok("CreateUser", {{"UserName", "u"}});
  Ok("CreateGroup", {{"GroupName", "g"}});
  Ok("AddUserToGroup", {{"GroupName", "g"}, {"UserName", "u"}});
  Ok("PutGroupPolicy", {{"GroupName", "g"}, {"PolicyName", "p"}, {"PolicyDocument", kAllowS3}});
  Json r = Ok("SimulatePrincipalPolicy",
              {{"PolicySourceArn", "arn:aws:iam::000000000000:user/u"},
               {"ActionNames", Json::array({"s3:GetObject"})},
               {"ResourceArns", Json::array({"arn:aws:s3:::b/k", "arn:aws:s3:::other/k"})}});
  ASSERT_EQ(r["EvaluationResults"].size(), 1u);
  EXPECT_EQ(Code("SimulatePrincipalPolicy", {{"PolicySourceArn", "arn:aws:iam::000000000000:user/none"},
                                             {"ActionNames", Json::array({"s3:GetObject"})}}),
            "NoSuchEntity");
}

TEST_F(IamTest, AuthorizationDetailsListEverything) {
  Ok("CreateUser", {{"UserName", "u"}});
  Ok("CreateRole", {{"RoleName", "r"}, {"AssumeRolePolicyDocument", kTrust}});
  Ok("CreatePolicy", {{"PolicyName", "p"}, {"PolicyDocument", kAllowS3}});
  Json d = Ok("GetAccountAuthorizationDetails", Json::object());
  EXPECT_EQ(d["UserDetailList"].size(), 1u);
  EXPECT_EQ(d["RoleDetailList"].size(), 1u);
  EXPECT_GE(d["Policies"].size(), 1u);
}

}  // namespace
}  // namespace stratus::services::iam
