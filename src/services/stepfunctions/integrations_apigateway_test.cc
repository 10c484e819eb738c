// apigateway:invoke's request: AuthType, SigV4 signing (verified as a server would), AllowNullValues.
#include <gtest/gtest.h>

#include "aws/sigv4/sigv4.h"
#include "services/stepfunctions/integrations.h"

namespace stratus::services::stepfunctions {
namespace {

constexpr int64_t kNow = 1700000000;

Json Params() {
  return Json::parse(R"J({"ApiEndpoint":"abc123.execute-api.eu-west-1.amazonaws.com","Method":"POST",
    "Stage":"dev","Path":"items/1","QueryParameters":{"q":["a b","c"]},"Headers":{"X-Test":["1"]},
    "RequestBody":{"keep":1,"gone":null,"nested":{"gone":null,"list":[{"x":null,"y":2}]}}})J");
}

// The request as the data plane receives it.
HttpRequest Received(const ApiRequest& r) {
  HttpRequest h;
  h.method = r.http.method;
  h.path = r.path;
  h.query = r.query;
  h.target = r.path + "?" + r.query;
  h.headers = r.http.headers;
  h.body = r.http.body;
  return h;
}

TEST(ApiGatewayInvokeTest, BuildsTheRequestTheApiSees) {
  auto r = BuildApiRequest(Params(), "http://127.0.0.1:9", "us-east-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->auth_type, "NO_AUTH");
  EXPECT_EQ(r->region, "eu-west-1");
  EXPECT_EQ(r->http.url, "http://127.0.0.1:9/dev/items/1?q=a%20b&q=c");
  EXPECT_EQ(r->http.headers.GetOr("Host"), "abc123.execute-api.eu-west-1.amazonaws.com");
  EXPECT_EQ(r->http.headers.GetOr("X-Test"), "1");
  EXPECT_FALSE(r->http.headers.Has("Authorization"));
  // AllowNullValues defaults to false: null members go, at any depth.
  EXPECT_EQ(Json::parse(r->http.body), Json::parse(R"J({"keep":1,"nested":{"list":[{"y":2}]}})J"));
  Json p = Params();
  p["AllowNullValues"] = true;
  r = BuildApiRequest(p, "http://127.0.0.1:9", "us-east-1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Json::parse(r->http.body), p["RequestBody"]);
}

TEST(ApiGatewayInvokeTest, IamRoleSignsWithSigV4) {
  Json p = Params();
  p["AuthType"] = "IAM_ROLE";
  auto r = BuildApiRequest(p, "http://127.0.0.1:9", "us-east-1");
  ASSERT_TRUE(r.ok());
  SignApiRequest(*r, ApiCredentials{"ASIAEXAMPLE", "secret", "session"}, kNow);
  HttpRequest h = Received(*r);
  EXPECT_EQ(h.headers.GetOr("X-Amz-Security-Token"), "session");
  auto claim = aws::ParseSigV4(h);
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_EQ((*claim)->access_key_id, "ASIAEXAMPLE");
  EXPECT_EQ((*claim)->service, "execute-api");
  EXPECT_EQ((*claim)->region, "eu-west-1");
  EXPECT_TRUE(aws::VerifySigV4(h, **claim, "secret", kNow).ok());
  // The signature covers the path and body: a changed request no longer verifies.
  HttpRequest tampered = h;
  tampered.body = "{}";
  EXPECT_FALSE(aws::VerifySigV4(tampered, **claim, "secret", kNow).ok());
  EXPECT_FALSE(aws::VerifySigV4(h, **claim, "other-secret", kNow).ok());
}

TEST(ApiGatewayInvokeTest, RefusesBadAuthTypeAndNullFlag) {
  Json p = Params();
  p["AuthType"] = "COGNITO";
  auto r = BuildApiRequest(p, "http://x", "us-east-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "States.Runtime");
  EXPECT_NE(r.error().message.find("NO_AUTH, IAM_ROLE or RESOURCE_POLICY"), std::string::npos);
  p = Params();
  p["AllowNullValues"] = "yes";
  EXPECT_FALSE(BuildApiRequest(p, "http://x", "us-east-1").ok());
  p = Params();
  p["AuthType"] = "RESOURCE_POLICY";
  EXPECT_TRUE(BuildApiRequest(p, "http://x", "us-east-1").ok());
  EXPECT_FALSE(BuildApiRequest(Json{{"Method", "GET"}}, "http://x", "us-east-1").ok());
}

}  // namespace
}  // namespace stratus::services::stepfunctions
