#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "identity/policy/policy.h"

namespace stratus::identity::policy {
namespace {

constexpr std::string_view kAccount = "123456789012";
constexpr std::string_view kUserArn = "arn:aws:iam::123456789012:user/alice";
constexpr std::string_view kQueue = "arn:aws:sqs:us-east-1:123456789012:orders";

PolicyPtr P(std::string_view doc, PolicyKind kind = PolicyKind::kIdentity) {
  auto r = ParsePolicy(doc, kind);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << doc;
  return r.ok() ? *r : nullptr;
}

std::string Allow(std::string_view action, std::string_view resource, std::string cond = "") {
  return std::string(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":")") +
         std::string(action) + R"(","Resource":")" + std::string(resource) + "\"" +
         (cond.empty() ? "" : ",\"Condition\":" + cond) + "}}";
}
std::string Deny(std::string_view action, std::string_view resource) {
  return std::string(R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":")") +
         std::string(action) + R"(","Resource":")" + std::string(resource) + "\"}}";
}

struct Case {
  Principal principal{PrincipalType::kUser, kUserArn, "", kAccount};
  std::string action = "sqs:SendMessage";
  std::string resource = std::string(kQueue);
  std::string resource_account;
  std::vector<PolicyPtr> identity;
  PolicyPtr boundary;
  std::vector<PolicyPtr> session;
  bool has_session = false;
  PolicyPtr resource_policy;
  RequestContext context;

  Outcome Run() const {
    std::vector<const Policy*> id, se;
    for (const auto& p : identity) id.push_back(p.get());
    for (const auto& p : session) se.push_back(p.get());
    EvaluationInput in;
    in.request = Request{principal, action, resource, resource_account, &context};
    in.identity = id;
    in.boundary = boundary.get();
    in.session = se;
    in.has_session_policies = has_session;
    in.resource_policy = resource_policy.get();
    return Evaluate(in);
  }
};

TEST(Evaluate, ImplicitDenyWithoutPolicies) {
  Case c;
  Outcome o = c.Run();
  EXPECT_EQ(o.decision, Decision::kImplicitDeny);
  EXPECT_EQ(o.by, PolicyType::kIdentity);
  EXPECT_EQ(DenialMessage(kUserArn, c.action, c.resource, o),
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
            "sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:orders because no "
            "identity-based policy allows the sqs:SendMessage action");
}

TEST(Evaluate, AllowAndExplicitDeny) {
  Case c;
  c.identity = {P(Allow("sqs:*", "*"))};
  EXPECT_TRUE(c.Run().allowed());
  c.identity.push_back(P(Deny("sqs:Send*", "arn:aws:sqs:*:*:orders")));
  Outcome o = c.Run();
  EXPECT_EQ(o.decision, Decision::kExplicitDeny);
  EXPECT_EQ(DenialMessage(kUserArn, c.action, c.resource, o),
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
            "sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:orders with an "
            "explicit deny in an identity-based policy");
}

TEST(Evaluate, ActionsAreCaseInsensitiveResourcesAreNot) {
  Case c;
  c.identity = {P(Allow("SQS:sendmessage", "arn:aws:sqs:us-east-1:123456789012:orders"))};
  EXPECT_TRUE(c.Run().allowed());
  c.resource = "arn:aws:sqs:us-east-1:123456789012:Orders";
  EXPECT_FALSE(c.Run().allowed());
}

TEST(Evaluate, NotActionAndNotResource) {
  Case c;
  c.identity = {P(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}})")};
  EXPECT_TRUE(c.Run().allowed());
  c.action = "iam:CreateUser";
  EXPECT_FALSE(c.Run().allowed());
  Case d;
  d.identity = {P(Allow("sqs:*", "*")),
                P(R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sqs:*","NotResource":"arn:aws:sqs:*:*:public-*"}})")};
  EXPECT_EQ(d.Run().decision, Decision::kExplicitDeny);
  d.resource = "arn:aws:sqs:us-east-1:123456789012:public-q";
  EXPECT_TRUE(d.Run().allowed());
}

TEST(Evaluate, PermissionsBoundary) {
  Case c;
  c.identity = {P(Allow("*", "*"))};
  c.boundary = P(Allow("sqs:ReceiveMessage", "*"));
  Outcome o = c.Run();
  EXPECT_EQ(o.decision, Decision::kImplicitDeny);
  EXPECT_EQ(o.by, PolicyType::kBoundary);
  EXPECT_NE(DenialMessage(kUserArn, c.action, c.resource, o)
                .find("because no permissions boundary allows the sqs:SendMessage action"),
            std::string::npos);
  c.boundary = P(Allow("sqs:*", "*"));
  EXPECT_TRUE(c.Run().allowed());
  c.boundary = P(Deny("sqs:*", "*"));
  EXPECT_EQ(c.Run().by, PolicyType::kBoundary);
}

TEST(Evaluate, SessionPolicies) {
  Case c;
  c.principal = Principal{PrincipalType::kAssumedRole,
                          "arn:aws:sts::123456789012:assumed-role/worker/s1",
                          "arn:aws:iam::123456789012:role/worker", kAccount};
  c.identity = {P(Allow("sqs:*", "*"))};
  c.has_session = true;
  c.session = {P(Allow("sqs:ReceiveMessage", "*"))};
  EXPECT_EQ(c.Run().by, PolicyType::kSession);
  c.session.push_back(P(Allow("sqs:SendMessage", "*")));
  EXPECT_TRUE(c.Run().allowed());
  // Having session policies that are all empty of grants denies everything.
  c.session = {};
  EXPECT_FALSE(c.Run().allowed());
}

TEST(Evaluate, ResourcePolicySameAccount) {
  Case c;
  std::string rp = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":")" +
                   std::string(kUserArn) + R"("},"Action":"sqs:SendMessage","Resource":")" +
                   std::string(kQueue) + R"("}})";
  c.resource_policy = P(rp, PolicyKind::kResource);
  EXPECT_TRUE(c.Run().allowed());  // no identity policy needed
  // The user's boundary does not limit a grant naming the user directly.
  c.boundary = P(Allow("s3:*", "*"));
  EXPECT_TRUE(c.Run().allowed());
  // An explicit deny in the resource policy beats an identity allow.
  Case d;
  d.identity = {P(Allow("sqs:*", "*"))};
  d.resource_policy = P(R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*"}})",
                        PolicyKind::kResource);
  Outcome o = d.Run();
  EXPECT_EQ(o.decision, Decision::kExplicitDeny);
  EXPECT_EQ(o.by, PolicyType::kResource);
}

TEST(Evaluate, ResourcePolicyNamingTheRoleKeepsSessionLimits) {
  Case c;
  c.principal = Principal{PrincipalType::kAssumedRole,
                          "arn:aws:sts::123456789012:assumed-role/worker/s1",
                          "arn:aws:iam::123456789012:role/worker", kAccount};
  c.resource_policy = P(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/worker"},"Action":"sqs:*","Resource":"*"}})",
                        PolicyKind::kResource);
  EXPECT_TRUE(c.Run().allowed());
  c.has_session = true;
  c.session = {P(Allow("s3:*", "*"))};
  EXPECT_EQ(c.Run().by, PolicyType::kSession);
  // Naming the session itself bypasses the session policy's implicit deny.
  c.resource_policy = P(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/worker/s1"},"Action":"sqs:*","Resource":"*"}})",
                        PolicyKind::kResource);
  EXPECT_TRUE(c.Run().allowed());
}

TEST(Evaluate, CrossAccountNeedsBothSides) {
  Case c;
  c.resource = "arn:aws:sqs:us-east-1:999999999999:theirs";
  c.resource_account = "999999999999";
  c.identity = {P(Allow("sqs:*", "*"))};
  Outcome o = c.Run();
  EXPECT_EQ(o.by, PolicyType::kResource);
  c.resource_policy = P(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sqs:SendMessage","Resource":"*"}})",
                        PolicyKind::kResource);
  EXPECT_TRUE(c.Run().allowed());
  c.identity = {};
  EXPECT_EQ(c.Run().by, PolicyType::kIdentity);
}

TEST(Evaluate, ServicePrincipalsAndAnonymous) {
  Case c;
  c.principal = Principal{PrincipalType::kService, "sns.amazonaws.com", "", ""};
  EXPECT_FALSE(c.Run().allowed());
  c.resource_policy = P(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*",
      "Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:t"}}}})",
                        PolicyKind::kResource);
  EXPECT_FALSE(c.Run().allowed());
  c.context.Set("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:t");
  EXPECT_TRUE(c.Run().allowed());
  Case a;
  a.principal = Principal{PrincipalType::kAnonymous, "", "", ""};
  a.resource_policy = P(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}})",
                        PolicyKind::kResource);
  EXPECT_TRUE(a.Run().allowed());
}

TEST(Evaluate, RootIsAllowedInItsAccountUnlessDenied) {
  Case c;
  c.principal = Principal{PrincipalType::kRoot, "arn:aws:iam::123456789012:root", "", kAccount};
  EXPECT_TRUE(c.Run().allowed());
  c.resource_policy = P(R"({"Statement":{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"sqs:*","Resource":"*"}})",
                        PolicyKind::kResource);
  EXPECT_EQ(c.Run().decision, Decision::kExplicitDeny);
}

TEST(Evaluate, PolicyVariablesInResources) {
  Case c;
  c.action = "s3:GetObject";
  c.resource = "arn:aws:s3:::home/alice/notes.txt";
  c.identity = {P(Allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))};
  EXPECT_FALSE(c.Run().allowed());  // aws:username absent: the variable matches nothing
  c.context.Set("aws:username", "alice");
  EXPECT_TRUE(c.Run().allowed());
  c.context.Set("aws:username", "bob");
  EXPECT_FALSE(c.Run().allowed());
  // A legacy document takes "${...}" literally.
  c.identity = {P(R"({"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}})")};
  EXPECT_FALSE(c.Run().allowed());
  c.resource = "arn:aws:s3:::home/${aws:username}/x";
  EXPECT_TRUE(c.Run().allowed());
}

TEST(Evaluate, ConditionsGateStatements) {
  Case c;
  c.identity = {P(Allow("sqs:*", "*", R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})"))};
  EXPECT_FALSE(c.Run().allowed());
  c.context.Set("aws:SourceIp", "10.9.9.9");
  EXPECT_TRUE(c.Run().allowed());
  c.context.Set("aws:SourceIp", "11.0.0.1");
  EXPECT_FALSE(c.Run().allowed());
}

TEST(Evaluate, WildcardOnlyRequestsNeedStar) {
  Case c;
  c.action = "sqs:ListQueues";
  c.resource = "*";
  c.identity = {P(Allow("sqs:*", "arn:aws:sqs:*:*:*"))};
  EXPECT_FALSE(c.Run().allowed());
  c.identity = {P(Allow("sqs:*", "*"))};
  EXPECT_TRUE(c.Run().allowed());
  EXPECT_EQ(DenialMessage("arn:x", "sqs:ListQueues", "*", Outcome{}),
            "User: arn:x is not authorized to perform: sqs:ListQueues because no identity-based "
            "policy allows the sqs:ListQueues action");
}

TEST(Evaluate, LargePoliciesStayFast) {
  std::string doc = R"({"Version":"2012-10-17","Statement":[)";
  for (int i = 0; i < 10000; ++i) {
    if (i) doc += ",";
    doc += R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b)" +
           std::to_string(i) + R"(/*"})";
  }
  doc += "]}";
  Case c;
  c.identity = {P(doc)};
  c.action = "s3:GetObject";
  c.resource = "arn:aws:s3:::b9999/key";
  EXPECT_TRUE(c.Run().allowed());
  c.resource = "arn:aws:s3:::nope/key";
  EXPECT_FALSE(c.Run().allowed());
}

}  // namespace
}  // namespace stratus::identity::policy
