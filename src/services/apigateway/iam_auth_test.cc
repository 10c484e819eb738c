#include "services/apigateway/iam_auth.h"

#include <gtest/gtest.h>

#include "services/apigateway/proxy_events.h"

namespace stratus::services::apigateway {
namespace {

TEST(IamAuthTest, ExecuteApiArnJoinsStageMethodAndPath) {
  EXPECT_EQ(ExecuteApiArn("eu-west-1", "111122223333", "a1b2c3", "dev", "GET", "/items/7"),
            "arn:aws:execute-api:eu-west-1:111122223333:a1b2c3/dev/GET/items/7");
  EXPECT_EQ(ExecuteApiArn("us-east-1", "000000000000", "x", "$default", "POST", ""),
            "arn:aws:execute-api:us-east-1:000000000000:x/$default/POST/");
  EXPECT_EQ(ExecuteApiArn("us-east-1", "000000000000", "x", "prod", "PUT", "a/b"),
            "arn:aws:execute-api:us-east-1:000000000000:x/prod/PUT/a/b");
}

TEST(IamAuthTest, ResourcePolicyShortArnsAreExpanded) {
  std::string p = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
    "Action":"execute-api:Invoke","Resource":["execute-api:/dev/GET/*","arn:aws:execute-api:r:1:other/*"]},
    {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","NotResource":"execute-api:/*/GET/*"}]})";
  Json out = Json::parse(ExpandResourcePolicy(p, "eu-west-1", "111122223333", "api1"));
  EXPECT_EQ(out["Statement"][0]["Resource"][0], "arn:aws:execute-api:eu-west-1:111122223333:api1/dev/GET/*");
  EXPECT_EQ(out["Statement"][0]["Resource"][1], "arn:aws:execute-api:r:1:other/*");
  EXPECT_EQ(out["Statement"][1]["NotResource"], "arn:aws:execute-api:eu-west-1:111122223333:api1/*/GET/*");
  EXPECT_EQ(ExpandResourcePolicy("  ", "r", "a", "i"), "");
  EXPECT_EQ(ExpandResourcePolicy("not json", "r", "a", "i"), "not json");
}

// The IP allow-list AWS documents: allow everyone, deny outside the listed ranges.
constexpr const char* kIpAllowList = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
  {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
   "Condition":{"NotIpAddress":{"aws:SourceIp":["10.1.0.0/16","127.0.0.1/32"]}}}]})";

TEST(IamAuthTest, AnonymousCallerIsDecidedByTheResourcePolicyAlone) {
  ResourcePolicyCache cache;
  auto p = cache.Get(kIpAllowList, "us-east-1", "111122223333", "api1");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_TRUE(*p);
  std::string arn = ExecuteApiArn("us-east-1", "111122223333", "api1", "dev", "GET", "/x");
  EXPECT_EQ(PolicyOnlyDecision(**p, nullptr, arn, "111122223333", "127.0.0.1", 0), InvokeDecision::kAllowed);
  EXPECT_EQ(PolicyOnlyDecision(**p, nullptr, arn, "111122223333", "10.1.7.9", 0), InvokeDecision::kAllowed);
  EXPECT_EQ(PolicyOnlyDecision(**p, nullptr, arn, "111122223333", "192.0.2.1", 0),
            InvokeDecision::kExplicitDeny);
  // Another API's ARN is not covered by the expanded "execute-api:/*": no allow applies.
  std::string other = ExecuteApiArn("us-east-1", "111122223333", "api2", "dev", "GET", "/x");
  EXPECT_EQ(PolicyOnlyDecision(**p, nullptr, other, "111122223333", "127.0.0.1", 0),
            InvokeDecision::kImplicitDeny);
  // A statement naming an account principal does not apply to an anonymous caller.
  auto acct = cache.Get(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},
    "Action":"execute-api:Invoke","Resource":"execute-api:/*"}]})", "us-east-1", "111122223333", "api1");
  ASSERT_TRUE(acct.ok());
  EXPECT_EQ(PolicyOnlyDecision(**acct, nullptr, arn, "111122223333", "127.0.0.1", 0),
            InvokeDecision::kImplicitDeny);
}

TEST(IamAuthTest, RootIsStoppedOnlyByAnExplicitDeny) {
  ResourcePolicyCache cache;
  aws::Caller root{"AKROOT", "111122223333", "arn:aws:iam::111122223333:root", "111122223333", "", false};
  std::string arn = ExecuteApiArn("us-east-1", "111122223333", "api1", "dev", "GET", "/x");
  auto allow_list = cache.Get(kIpAllowList, "us-east-1", "111122223333", "api1");
  ASSERT_TRUE(allow_list.ok());
  EXPECT_EQ(PolicyOnlyDecision(**allow_list, &root, arn, "111122223333", "192.0.2.1", 0),
            InvokeDecision::kExplicitDeny);
  EXPECT_EQ(PolicyOnlyDecision(**allow_list, &root, arn, "111122223333", "127.0.0.1", 0),
            InvokeDecision::kAllowed);
  auto none = cache.Get(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
    "Action":"execute-api:Invoke","Resource":"execute-api:/*"}]})", "us-east-1", "111122223333", "api1");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(PolicyOnlyDecision(**none, &root, arn, "111122223333", "192.0.2.1", 0), InvokeDecision::kAllowed);
}

TEST(IamAuthTest, ResourcePolicyCacheReportsEmptyAndMalformedPolicies) {
  ResourcePolicyCache cache;
  auto empty = cache.Get(" ", "us-east-1", "111122223333", "api1");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty);
  EXPECT_FALSE(cache.Get("{not json", "us-east-1", "111122223333", "api1").ok());
  EXPECT_EQ(DenialMessage("", "arn:x", InvokeDecision::kExplicitDeny),
            "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:x with an explicit deny");
}

TEST(IamAuthTest, PolicySourceOfUsersRolesSessionsAndRoot) {
  aws::Caller user{"AKIA1", "111122223333", "arn:aws:iam::111122223333:user/dev/alice", "AIDA1", "", false};
  EXPECT_EQ(PolicySourceArn(user), "arn:aws:iam::111122223333:user/dev/alice");
  aws::Caller session{"ASIA1", "111122223333", "arn:aws:sts::111122223333:assumed-role/exec/sess", "AROA1:sess", "t", false};
  EXPECT_EQ(PolicySourceArn(session), "arn:aws:iam::111122223333:role/exec");
  aws::Caller root{"AKROOT", "111122223333", "arn:aws:iam::111122223333:root", "111122223333", "", false};
  EXPECT_EQ(PolicySourceArn(root), "");
  aws::Caller anon;
  anon.anonymous = true;
  anon.arn = "arn:aws:iam::111122223333:user/x";
  EXPECT_EQ(PolicySourceArn(anon), "");
}

TEST(IamAuthTest, SimulationCarriesActionResourceOwnerPolicyAndKeys) {
  Json in = InvokeSimulation("arn:aws:iam::1:user/a", "arn:aws:iam::1:user/a", "arn:x", "{\"p\":1}", "2", "10.0.0.1");
  EXPECT_EQ(in["ActionNames"], Json::array({"execute-api:Invoke"}));
  EXPECT_EQ(in["ResourceArns"], Json::array({"arn:x"}));
  EXPECT_EQ(in["ResourceOwner"], "arn:aws:iam::2:root");
  EXPECT_EQ(in["ResourcePolicy"], "{\"p\":1}");
  EXPECT_EQ(in["ContextEntries"].size(), 2u);
  EXPECT_EQ(in["ContextEntries"][1]["ContextKeyName"], "aws:SourceIp");
  Json none = InvokeSimulation("s", "c", "r", "", "2", "");
  EXPECT_FALSE(none.contains("ResourcePolicy"));
  EXPECT_EQ(none["ContextEntries"].size(), 1u);
}

TEST(IamAuthTest, DecisionAndDenialMessage) {
  auto out = [](const char* d) { return Json{{"EvaluationResults", Json::array({Json{{"EvalDecision", d}}})}}; };
  EXPECT_EQ(*DecisionFrom(out("allowed")), InvokeDecision::kAllowed);
  EXPECT_EQ(*DecisionFrom(out("implicitDeny")), InvokeDecision::kImplicitDeny);
  EXPECT_EQ(*DecisionFrom(out("explicitDeny")), InvokeDecision::kExplicitDeny);
  EXPECT_FALSE(DecisionFrom(out("maybe")).ok());
  EXPECT_FALSE(DecisionFrom(Json::object()).ok());
  EXPECT_EQ(DenialMessage("arn:aws:iam::1:user/a", "arn:r", InvokeDecision::kImplicitDeny),
            "User: arn:aws:iam::1:user/a is not authorized to perform: execute-api:Invoke on resource: arn:r");
  EXPECT_EQ(DenialMessage("", "arn:r", InvokeDecision::kExplicitDeny),
            "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:r with an explicit deny");
}

TEST(IamAuthTest, IdentityForV1AndV2Events) {
  aws::Caller c{"AKIA1", "111122223333", "arn:aws:iam::111122223333:user/alice", "AIDA1", "", false};
  Json v1 = V1Identity(c);
  EXPECT_EQ(v1["accessKey"], "AKIA1");
  EXPECT_EQ(v1["accountId"], "111122223333");
  EXPECT_EQ(v1["caller"], "AIDA1");
  EXPECT_EQ(v1["user"], "AIDA1");
  EXPECT_EQ(v1["userArn"], "arn:aws:iam::111122223333:user/alice");
  Json v2 = V2IamAuthorizer(c)["iam"];
  EXPECT_EQ(v2["callerId"], "AIDA1");
  EXPECT_EQ(v2["userId"], "AIDA1");
  EXPECT_EQ(v2["userArn"], "arn:aws:iam::111122223333:user/alice");
  EXPECT_TRUE(v2["principalOrgId"].is_null());
  EXPECT_TRUE(v2["cognitoIdentity"].is_null());
  EXPECT_TRUE(V1Identity(aws::Caller{})["accessKey"].is_null());
}

TEST(IamAuthTest, V1EventCarriesTheIamIdentityAndNullsWithout) {
  ProxyRequest r;
  r.method = "GET";
  r.path = r.raw_path = "/items";
  ProxyContext c;
  c.account = "111122223333";
  Json bare = Json::parse(WriteV1Event(r, c, false))["requestContext"]["identity"];
  for (const char* k : {"accessKey", "accountId", "caller", "user", "userArn"}) EXPECT_TRUE(bare[k].is_null()) << k;
  c.iam_identity = V1Identity(aws::Caller{"AKIA1", "111122223333", "arn:aws:iam::111122223333:user/alice", "AIDA1", "", false});
  Json id = Json::parse(WriteV1Event(r, c, false))["requestContext"]["identity"];
  EXPECT_EQ(id["accessKey"], "AKIA1");
  EXPECT_EQ(id["accountId"], "111122223333");
  EXPECT_EQ(id["caller"], "AIDA1");
  EXPECT_EQ(id["user"], "AIDA1");
  EXPECT_EQ(id["userArn"], "arn:aws:iam::111122223333:user/alice");
  EXPECT_TRUE(id["cognitoIdentityId"].is_null());
  EXPECT_TRUE(id["principalOrgId"].is_null());
}

}  // namespace
}  // namespace stratus::services::apigateway
