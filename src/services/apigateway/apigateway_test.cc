// Unit tests of the API Gateway pieces that need no server: patches, routing, proxy events and
// response mapping (against AWS's documented shapes), templates, throttling, JWT, OpenAPI.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/strings.h"
#include "services/apigateway/common.h"
#include "services/apigateway/http_apis.h"
#include "services/apigateway/jwt.h"
#include "services/apigateway/openapi.h"
#include "services/apigateway/proxy_events.h"
#include "services/apigateway/rest_apis.h"
#include "services/apigateway/router.h"
#include "services/apigateway/templates.h"
#include "services/apigateway/throttle.h"

namespace stratus::services::apigateway {
namespace {

TEST(Patch, ReplacesAddsAndRemoves) {
  Json api = Json{{"name", "a"}, {"binaryMediaTypes", Json::array()}, {"minimumCompressionSize", 1}};
  Json ops = Json::array({Json{{"op", "replace"}, {"path", "/name"}, {"value", "b"}},
                          Json{{"op", "add"}, {"path", "/binaryMediaTypes/image~1png"}},
                          Json{{"op", "replace"}, {"path", "/minimumCompressionSize"}, {"value", "42"}},
                          Json{{"op", "replace"}, {"path", "/variables/x"}, {"value", "1"}}});
  ASSERT_TRUE(ApplyPatch(api, ops, {}).ok());
  EXPECT_EQ(api["name"], "b");
  EXPECT_EQ(api["binaryMediaTypes"], Json::array({"image/png"}));
  EXPECT_EQ(api["minimumCompressionSize"], 42);
  EXPECT_EQ(api["variables"]["x"], "1");
  ASSERT_TRUE(ApplyPatch(api, Json::array({Json{{"op", "remove"}, {"path", "/binaryMediaTypes/image~1png"}}}), {}).ok());
  EXPECT_TRUE(api["binaryMediaTypes"].empty());
}

TEST(Patch, RefusesPathsOutsideTheAllowedSet) {
  Json api = Json::object();
  auto st = ApplyPatch(api, Json::array({Json{{"op", "replace"}, {"path", "/id"}, {"value", "x"}}}),
                       {"name"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "BadRequestException");
  st = ApplyPatch(api, Json::array({Json{{"op", "frobnicate"}, {"path", "/name"}}}), {"name"});
  EXPECT_FALSE(st.ok());
}

TEST(Router, LiteralBeatsParamBeatsGreedy) {
  RouteTrie t;
  t.Add("/", "root");
  t.Add("/items", "items");
  t.Add("/items/{id}", "item");
  t.Add("/items/special", "special");
  t.Add("/{proxy+}", "proxy");
  auto all = [](const RouteTrie::Node&) { return true; };
  EXPECT_EQ(t.Find("/", all).node->id, "root");
  EXPECT_EQ(t.Find("/items/special", all).node->id, "special");
  auto m = t.Find("/items/a%20b", all);
  EXPECT_EQ(m.node->id, "item");
  EXPECT_EQ(m.params[0].second, "a b");
  m = t.Find("/other/deep/path", all);
  EXPECT_EQ(m.node->id, "proxy");
  EXPECT_EQ(m.params[0].first, "proxy");
  EXPECT_EQ(m.params[0].second, "other/deep/path");
  // Backtracking: when the specific route does not accept, the greedy one does.
  auto not_item = [](const RouteTrie::Node& n) { return n.id != "item"; };
  EXPECT_EQ(t.Find("/items/7", not_item).node->id, "proxy");
}

TEST(Router, GreedyNeedsOneSegment) {
  RouteTrie t;
  t.Add("/{proxy+}", "proxy");
  EXPECT_EQ(t.Find("/", [](const RouteTrie::Node&) { return true; }).node, nullptr);
}

TEST(ProxyEvents, V1EventHasAwsShape) {
  ProxyRequest r;
  r.method = "POST";
  r.path = "/foobar";
  r.raw_path = "/foobar";
  r.raw_query = "testQueryString=foo&testVar=bar";
  r.headers.Add("Accept", "application/json");
  r.headers.Add("user-Agent", "test/integration");
  r.headers.Add("Content-Length", "26");
  r.body = "{\"message\": \"hello world\"}";
  r.source_ip = "127.0.0.1";
  ProxyContext c;
  c.account = "111111111111";
  c.api_id = "abc";
  c.stage = "test";
  c.resource_path = "/{pathVariable}";
  c.stage_path = "/test/foobar";
  c.path_parameters = Json{{"pathVariable", "foobar"}};
  Json ev = BuildV1Event(r, c, false);
  EXPECT_EQ(ev["headers"]["User-Agent"], "test/integration");
  EXPECT_FALSE(ev["headers"].contains("Content-Length"));
  EXPECT_EQ(ev["multiValueQueryStringParameters"]["testVar"], Json::array({"bar"}));
  EXPECT_TRUE(ev["stageVariables"].is_null());
  EXPECT_EQ(ev["requestContext"]["path"], "/test/foobar");
  EXPECT_EQ(ev["requestContext"]["identity"]["userAgent"], "test/integration");
  EXPECT_TRUE(ev["requestContext"]["identity"]["accessKey"].is_null());
  EXPECT_EQ(ev["isBase64Encoded"], false);
}

// WriteV2Event's exact bytes for three requests (the benchmark's plain GET with the gateway's
// own headers; query, cookies, a text body, path parameters, stage variables and an authorizer;
// repeated and escaped names and values with a binary body): a faster writer must not change
// one byte.
std::vector<std::string> GoldenV2Events() {
  std::vector<std::string> out;
  ProxyContext c;
  c.account = "000000000000";
  c.api_id = "a1b2c3d4e5";
  c.stage = "$default";
  c.request_id = "Ab1Cd2Ef3Gh4Ij=";
  c.domain_name = "a1b2c3d4e5.execute-api.localhost";
  c.route_key = "$default";
  c.stage_path = "/";
  c.now_ms = 1764323102123;
  {
    ProxyRequest r;
    r.method = "GET";
    r.path = "/";
    r.raw_path = "/";
    r.headers.Add("Host", "127.0.0.1:38713");
    r.headers.Add("X-Forwarded-For", "127.0.0.1");
    r.headers.Add("X-Forwarded-Port", "38713");
    r.headers.Add("X-Forwarded-Proto", "http");
    r.headers.Add("X-Amzn-Trace-Id", "Root=1-6929e5ae-0123456789abcdef01234567");
    r.source_ip = "127.0.0.1";
    out.push_back(WriteV2Event(r, c));
  }
  ProxyContext c2 = c;
  c2.route_key = "POST /items/{id}";
  c2.path_parameters = Json{{"id", "7"}};
  c2.stage_variables = Json{{"env", "dev"}, {"n", "1"}};
  c2.authorizer = Json{{"jwt", Json{{"claims", Json{{"sub", "u1"}}}, {"scopes", nullptr}}}};
  {
    ProxyRequest r;
    r.method = "POST";
    r.path = "/items/7";
    r.raw_path = "/items/7";
    r.raw_query = "a=1&b=x%20y&a=2&c";
    r.headers.Add("Content-Type", "application/json");
    r.headers.Add("User-Agent", "curl/8.0");
    r.headers.Add("Cookie", "s=1; t=2;;  u=3 ");
    r.headers.Add("Connection", "keep-alive");
    r.headers.Add("Expect", "100-continue");
    std::string body = "{\"k\":\"v\\n\",\"caf\xC3\xA9\":1}";
    r.body = body;
    r.source_ip = "10.0.0.1";
    out.push_back(WriteV2Event(r, c2));
  }
  {
    ProxyRequest r;
    r.method = "PUT";
    r.path = "/a \"b\"";
    r.raw_path = "/a%20%22b%22";
    r.raw_query = "k=1&z=%0A&k=2";
    r.headers.Add("X-Quote", "say \"hi\"\\\t");
    r.headers.Add("x-QUOTE", "again");
    r.headers.Add("X-Bad", std::string("\xff\xfe", 2));
    r.headers.Add("Transfer-Encoding", "chunked");
    std::string raw_body("\x00\x01png", 5);
    r.body = raw_body;
    r.base64_body = true;
    out.push_back(WriteV2Event(r, c2));
  }
  return out;
}

TEST(ProxyEvents, V2EventsAreByteForByteTheGoldenOnes) {
  const char* const kGolden[] = {
      R"g({"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"","header)g"
      R"g(s":{"host":"127.0.0.1:38713","x-forwarded-for":"127.0.0.1","x-forwarded-port":"3)g"
      R"g(8713","x-forwarded-proto":"http","x-amzn-trace-id":"Root=1-6929e5ae-0123456789ab)g"
      R"g(cdef01234567"},"requestContext":{"accountId":"000000000000","apiId":"a1b2c3d4e5")g"
      R"g(,"domainName":"a1b2c3d4e5.execute-api.localhost","domainPrefix":"a1b2c3d4e5","ht)g"
      R"g(tp":{"method":"GET","path":"/","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","use)g"
      R"g(rAgent":""},"requestId":"Ab1Cd2Ef3Gh4Ij=","routeKey":"$default","stage":"$defaul)g"
      R"g(t","time":"28/Nov/2025:09:45:02 +0000","timeEpoch":1764323102123},"isBase64Encod)g"
      R"g(ed":false})g",
      R"g({"version":"2.0","routeKey":"POST /items/{id}","rawPath":"/items/7","rawQueryStr)g"
      R"g(ing":"a=1&b=x%20y&a=2&c","cookies":["s=1","t=2","u=3"],"headers":{"content-type")g"
      R"g(:"application/json","user-agent":"curl/8.0"},"queryStringParameters":{"a":"1,2",)g"
      R"g("b":"x y","c":""},"requestContext":{"accountId":"000000000000","apiId":"a1b2c3d4)g"
      R"g(e5","authorizer":{"jwt":{"claims":{"sub":"u1"},"scopes":null}},"domainName":"a1b)g"
      R"g(2c3d4e5.execute-api.localhost","domainPrefix":"a1b2c3d4e5","http":{"method":"POS)g"
      R"g(T","path":"/items/7","protocol":"HTTP/1.1","sourceIp":"10.0.0.1","userAgent":"cu)g"
      R"g(rl/8.0"},"requestId":"Ab1Cd2Ef3Gh4Ij=","routeKey":"POST /items/{id}","stage":"$d)g"
      R"g(efault","time":"28/Nov/2025:09:45:02 +0000","timeEpoch":1764323102123},"body":"{)g"
      R"g(\"k\":\"v\\n\",\"café\":1}","pathParameters":{"id":"7"},"isBase64Encoded":false)g"
      R"g(,"stageVariables":{"env":"dev","n":"1"}})g",
      R"g({"version":"2.0","routeKey":"POST /items/{id}","rawPath":"/a%20%22b%22","rawQuer)g"
      R"g(yString":"k=1&z=%0A&k=2","headers":{"x-quote":"say \"hi\"\\\t,again","x-bad":")g"
      R"g(��"},"queryStringParameters":{"k":"1,2","z":"\n"},"requestContext":{"account)g"
      R"g(Id":"000000000000","apiId":"a1b2c3d4e5","authorizer":{"jwt":{"claims":{"sub":"u1)g"
      R"g("},"scopes":null}},"domainName":"a1b2c3d4e5.execute-api.localhost","domainPrefix)g"
      R"g(":"a1b2c3d4e5","http":{"method":"PUT","path":"/a \"b\"","protocol":"HTTP/1.1","s)g"
      R"g(ourceIp":"","userAgent":""},"requestId":"Ab1Cd2Ef3Gh4Ij=","routeKey":"POST /item)g"
      R"g(s/{id}","stage":"$default","time":"28/Nov/2025:09:45:02 +0000","timeEpoch":17643)g"
      R"g(23102123},"body":"AAFwbmc=","pathParameters":{"id":"7"},"isBase64Encoded":true,")g"
      R"g(stageVariables":{"env":"dev","n":"1"}})g",
  };
  std::vector<std::string> events = GoldenV2Events();
  ASSERT_EQ(events.size(), std::size(kGolden));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i], kGolden[i]) << i;
  }
}

TEST(ProxyEvents, V2EventHasAwsShape) {
  ProxyRequest r;
  r.method = "GET";
  r.path = "/my/path";
  r.raw_path = "/my/path";
  r.raw_query = "parameter1=value1&parameter1=value2&parameter2=value";
  r.headers.Add("Header1", "value1");
  r.headers.Add("Header1", "value2");
  r.headers.Add("Cookie", "cookie1; cookie2");
  ProxyContext c;
  c.route_key = "$default";
  c.stage = "$default";
  Json ev = BuildV2Event(r, c);
  EXPECT_EQ(ev["version"], "2.0");
  EXPECT_EQ(ev["cookies"], Json::array({"cookie1", "cookie2"}));
  EXPECT_EQ(ev["headers"]["header1"], "value1,value2");
  EXPECT_EQ(ev["queryStringParameters"]["parameter1"], "value1,value2");
  EXPECT_EQ(ev["requestContext"]["http"]["method"], "GET");
  EXPECT_FALSE(ev.contains("body"));
}

// The events are written as text in one pass: every value must come out escaped (quotes,
// backslashes, control characters), invalid UTF-8 replaced, repeated names grouped in order of
// first occurrence, and a binary body base64-encoded, in AWS's member order.
TEST(ProxyEvents, WrittenEventsEscapeGroupAndEncode) {
  ProxyRequest r;
  r.method = "POST";
  r.path = "/a \"b\"";
  r.raw_path = "/a%20%22b%22";
  r.raw_query = "k=1&z=%0A&k=2";
  r.headers.Add("X-Quote", "say \"hi\"\\\t");
  r.headers.Add("x-quote", "again");
  r.headers.Add("X-Bad", std::string("\xff\xfe", 2));
  r.headers.Add("Cookie", "a=1; b=2");
  std::string raw_body("\x00\x01png", 5);
  r.body = raw_body;
  r.base64_body = true;
  ProxyContext c;
  c.route_key = "POST /a";
  c.stage = "$default";
  c.now_ms = 1700000000123;
  c.path_parameters = Json{{"id", "7\"x"}};
  c.authorizer = Json{{"lambda", Json{{"user", "u\n1"}}}};

  std::string v2_text = WriteV2Event(r, c);
  Json v2 = ParseJsonOrDiscarded(v2_text);
  ASSERT_FALSE(v2.is_discarded()) << v2_text;
  EXPECT_EQ(v2["headers"]["x-quote"], "say \"hi\"\\\t,again");
  EXPECT_EQ(v2["headers"]["x-bad"], "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_FALSE(v2["headers"].contains("cookie"));
  EXPECT_EQ(v2["cookies"], Json::array({"a=1", "b=2"}));
  EXPECT_EQ(v2["queryStringParameters"]["k"], "1,2");
  EXPECT_EQ(v2["queryStringParameters"]["z"], "\n");
  EXPECT_EQ(v2["requestContext"]["http"]["path"], "/a \"b\"");
  EXPECT_EQ(v2["requestContext"]["authorizer"]["lambda"]["user"], "u\n1");
  EXPECT_EQ(v2["requestContext"]["timeEpoch"], 1700000000123);
  EXPECT_EQ(v2["pathParameters"]["id"], "7\"x");
  EXPECT_EQ(v2["body"], Base64Encode(raw_body));
  EXPECT_EQ(v2["isBase64Encoded"], true);
  std::vector<std::string> keys;
  for (const auto& [k, v] : v2.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"version", "routeKey", "rawPath", "rawQueryString",
                                            "cookies", "headers", "queryStringParameters",
                                            "requestContext", "body", "pathParameters",
                                            "isBase64Encoded"}));
  EXPECT_EQ(BuildV2Event(r, c), v2);

  Json v1 = ParseJsonOrDiscarded(WriteV1Event(r, c, true));
  ASSERT_FALSE(v1.is_discarded());
  EXPECT_EQ(v1["version"], "1.0");
  EXPECT_EQ(v1["headers"]["X-Quote"], "again");  // the first casing, the last value
  EXPECT_EQ(v1["multiValueHeaders"]["X-Quote"], Json::array({"say \"hi\"\\\t", "again"}));
  EXPECT_EQ(v1["queryStringParameters"]["k"], "2");
  EXPECT_EQ(v1["multiValueQueryStringParameters"]["k"], Json::array({"1", "2"}));
  EXPECT_EQ(v1["requestContext"]["requestTimeEpoch"], 1700000000123);
  EXPECT_EQ(v1["requestContext"]["identity"].size(), 12u);
  EXPECT_EQ(v1["body"], Base64Encode(raw_body));

  ProxyRequest bare;
  bare.method = "GET";
  Json empty = ParseJsonOrDiscarded(WriteV1Event(bare, ProxyContext{}, false));
  ASSERT_FALSE(empty.is_discarded());
  EXPECT_TRUE(empty["headers"].is_null());
  EXPECT_TRUE(empty["multiValueQueryStringParameters"].is_null());
  EXPECT_TRUE(empty["pathParameters"].is_null());
  EXPECT_TRUE(empty["body"].is_null());
  EXPECT_FALSE(empty.contains("version"));
}

TEST(ProxyEvents, V1ResponseValidation) {
  EXPECT_FALSE(ParseV1Response("\"justAString\"", false).ok());
  EXPECT_FALSE(ParseV1Response("{\"statusCode\": \"test\"}", false).ok());
  EXPECT_FALSE(ParseV1Response("{\"statusCode\": 200, \"wrongValue\": 1}", false).ok());
  EXPECT_FALSE(ParseV1Response("{\"multiValueHeaders\": {\"a\": \"b\"}}", false).ok());
  EXPECT_FALSE(ParseV1Response("", false).ok());
  auto r = ParseV1Response("{\"statusCode\": \"201\"}", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  r = ParseV1Response(
      "{\"statusCode\": 200, \"multiValueHeaders\": {\"tesT-Multi\": [\"value-multi\"]}, "
      "\"headers\": {\"test-multi\": \"value-solo\", \"b\": true}}",
      false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers.GetOr("test-multi"), "value-multi, value-solo");
  EXPECT_EQ(r->headers.entries()[0].first, "tesT-Multi");
  EXPECT_EQ(r->headers.GetOr("b"), "true");
  EXPECT_EQ(r->headers.GetOr("content-type"), "application/json");
  // Cookies stay one per line.
  r = ParseV1Response(
      "{\"multiValueHeaders\": {\"Set-Cookie\": [\"a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT\", "
      "\"b=2\"]}}",
      false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers.GetAll("set-cookie"),
            (std::vector<std::string_view>{"a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"}));
  r = ParseV1Response("{\"body\": \"dGVzdA==\", \"isBase64Encoded\": true}", true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "test");
  r = ParseV1Response("{\"body\": \"dGVzdA==\", \"isBase64Encoded\": true}", false);
  EXPECT_EQ(r->body, "dGVzdA==");
  // Header injection in a mapped value is refused.
  EXPECT_FALSE(ParseV1Response("{\"headers\": {\"a\": \"x\\r\\nSet-Cookie: y\"}}", false).ok());
}

TEST(ProxyEvents, V2ResponseInferredAndStructured) {
  auto r = ParseV2Response("{\"hello\": \"world\"}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"hello\": \"world\"}");
  r = ParseV2Response("\"Hello from Lambda!\"");
  EXPECT_EQ(r->body, "Hello from Lambda!");
  r = ParseV2Response("{\"statusCode\": 201, \"cookies\": [\"a=b\"], \"body\": \"x\"}");
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->headers.GetOr("set-cookie"), "a=b");
  EXPECT_FALSE(ParseV2Response("{\"statusCode\": \"x\"}").ok());
}

// ParseV2Response reads the usual answers without a DOM; every payload, taken that way or not,
// maps exactly as through the DOM (status, header lines in order, body, or the same error).
TEST(ProxyEvents, V2ResponseFastPathMatchesDom) {
  auto same = [](std::string_view payload) {
    auto a = ParseV2Response(payload);
    auto b = ParseV2ResponseDom(payload);
    SCOPED_TRACE(std::string(payload));
    ASSERT_EQ(a.ok(), b.ok());
    if (!a.ok()) {
      EXPECT_EQ(a.error().message, b.error().message);
      return;
    }
    EXPECT_EQ(a->status, b->status);
    EXPECT_EQ(a->body, b->body);
    std::vector<std::pair<std::string, std::string>> ha, hb;
    for (const auto& [n, v] : a->headers) ha.emplace_back(n, v);
    for (const auto& [n, v] : b->headers) hb.emplace_back(n, v);
    EXPECT_EQ(ha, hb);
  };
  const std::vector<std::string> cases = {
      R"({"statusCode": 200, "body": "ok"})",
      R"({"statusCode":200,"body":"ok"})",
      " \t\r\n{ \"body\" : \"ok\" , \"statusCode\" : 404 } \n",
      R"({"statusCode": 201})",
      R"({"statusCode": 0})",
      R"({"statusCode": 99, "body": "x"})",
      R"({"statusCode": 600, "body": "x"})",
      R"({"statusCode": 599, "body": ""})",
      R"({"statusCode": 0200, "body": "x"})",
      R"({"statusCode": 200.0, "body": "x"})",
      R"({"statusCode": 2e2, "body": "x"})",
      R"({"statusCode": -200, "body": "x"})",
      R"({"statusCode": 1234567890, "body": "x"})",
      R"({"statusCode": 99999999999999999999, "body": "x"})",
      R"({"statusCode": "200", "body": "x"})",
      R"({"statusCode": 200, "statusCode": 201})",
      R"({"statusCode": 200, "body": "a", "body": "b"})",
      R"({"statusCode": 200, "body": null})",
      R"({"statusCode": 200, "body": 5})",
      R"({"statusCode": 200, "body": {"a": 1}})",
      R"({"statusCode": 200, "body": "caf\u00e9 \"q\" \\ \n"})",
      "{\"statusCode\": 200, \"body\": \"caf\xc3\xa9\"}",
      "{\"statusCode\": 200, \"body\": \"bad \xff\"}",
      "{\"statusCode\": 200, \"body\": \"tab\there\"}",
      R"({"statusCode": 200, "body": "x", "isBase64Encoded": false})",
      R"({"statusCode": 200, "body": "eA==", "isBase64Encoded": true})",
      R"({"statusCode": 200, "headers": {}, "body": "x"})",
      R"({"statusCode": 200, "headers": { }, "body": "x"})",
      R"({"statusCode": 200, "headers": {"Content-Type": "text/plain", "X-A": "1"}, "body": "x"})",
      R"({"statusCode": 200, "headers": {"x-a": "1", "X-A": "2"}})",
      R"({"statusCode": 200, "headers": {"x-a": "1", "x-a": "2"}})",
      R"({"statusCode": 200, "headers": {"set-cookie": "a=b", "Set-Cookie": "c=d"}})",
      R"({"statusCode": 200, "headers": {"bad name": "1"}})",
      R"({"statusCode": 200, "headers": {"": "1"}})",
      R"({"statusCode": 200, "headers": {"a:b": "1"}})",
      R"({"statusCode": 200, "headers": {"x": 1, "y": true}})",
      R"({"statusCode": 200, "headers": {"x": "a
b"}})",
      R"({"statusCode": 200, "headers": null})",
      R"({"statusCode": 200, "headers": []})",
      R"({"statusCode": 200, "headers": {"a": "1"}, "headers": {"b": "2"}})",
      R"({"statusCode": 200, "cookies": ["a=b"], "body": "x"})",
      R"({"statusCode": 200, "multiValueHeaders": {"a": ["1", "2"]}})",
      R"({"statusCode": 200, "body": "x",})",
      R"({"statusCode": 200 "body": "x"})",
      R"({"statusCode": 200, "body": "x"} x)",
      R"({"statusCode": 200, "body": "x"}})",
      R"({"statusCode": 200, "body": "x")",
      R"({"statusCode": 200, "body": "x)",
      R"({"statusCode": })",
      R"({"statusCode" 200})",
      R"({statusCode: 200})",
      R"({})",
      R"({"body": "only"})",
      R"([])",
      R"("text")",
      "",
      "   ",
      R"({"hello": "world"})",
  };
  for (const auto& c : cases) same(c);
  // Every prefix of an answer the fast path takes, and every one-byte change of it.
  const std::string base =
      R"({"statusCode": 200, "headers": {"X-A": "1", "x-b": "22"}, "body": "ok go"})";
  for (size_t n = 0; n <= base.size(); ++n) same(base.substr(0, n));
  const std::string bytes = "{}[]:,\"\\ 0129aeE.-\x01\x80\n";
  for (size_t i = 0; i < base.size(); ++i) {
    for (char b : bytes) {
      std::string m = base;
      m[i] = b;
      same(m);
    }
  }
}

TEST(ProxyEvents, BinaryTypes) {
  Json types = Json::array({"image/*", "application/octet-stream"});
  EXPECT_TRUE(IsBinaryType("image/png", types));
  EXPECT_TRUE(IsBinaryType("text/html, application/octet-stream;q=0.9", types));
  EXPECT_FALSE(IsBinaryType("application/json", types));
  EXPECT_FALSE(IsBinaryType("*/*", Json::array()));
}

TEST(Templates, PassthroughAndContextOnly) {
  Json ctx = Json{{"requestId", "r1"}, {"error", Json{{"messageString", "\"boom\""}}}};
  Json sv = Json{{"env", "dev"}};
  TemplateInputs in{&ctx, &sv, "{\"a\":1}"};
  EXPECT_EQ(*RenderTemplate("{\"statusCode\": 200}", in), "{\"statusCode\": 200}");
  EXPECT_EQ(*RenderTemplate("$input.body", in), "{\"a\":1}");
  EXPECT_EQ(*RenderTemplate("$input.json('$')", in), "{\"a\":1}");
  EXPECT_EQ(*RenderTemplate("{\"message\":$context.error.messageString}", in), "{\"message\":\"boom\"}");
  EXPECT_EQ(*RenderTemplate("${context.requestId}-$stageVariables.env", in), "r1-dev");
  auto r = RenderTemplate("#set($x = 1)\n$x", in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Velocity"), std::string::npos);
  EXPECT_FALSE(RenderTemplate("$input.path('$.a')", in).ok());
  EXPECT_FALSE(RenderTemplate("$util.escapeJavaScript($input.body)", in).ok());
}

TEST(Templates, PlainTemplatesRenderToThemselves) {
  TemplateInputs none{nullptr, nullptr, ""};
  for (std::string_view plain : {"{\"statusCode\": 200}", "", "ok\n  {\"a\": [1, 2]}"}) {
    EXPECT_TRUE(IsPlainTemplate(plain)) << plain;
    EXPECT_EQ(*RenderTemplate(plain, none), plain);
  }
  EXPECT_FALSE(IsPlainTemplate("$input.body"));
  EXPECT_FALSE(IsPlainTemplate("#set($x = 1)"));
  EXPECT_FALSE(IsPlainTemplate("{\"id\": \"${context.requestId}\"}"));
}

TEST(Throttle, BucketAndQuota) {
  ManualClock clock;
  Throttler t(clock);
  EXPECT_TRUE(t.Take("k", 1, 2));
  EXPECT_TRUE(t.Take("k", 1, 2));
  EXPECT_FALSE(t.Take("k", 1, 2));
  clock.Advance(1000);
  EXPECT_TRUE(t.Take("k", 1, 2));
  EXPECT_FALSE(t.Take("zero", 10, 0));
  EXPECT_TRUE(t.CountQuota("q", "DAY", 2, 0));
  EXPECT_TRUE(t.CountQuota("q", "DAY", 2, 0));
  EXPECT_FALSE(t.CountQuota("q", "DAY", 2, 0));
  clock.Advance(86'400'000);
  EXPECT_TRUE(t.CountQuota("q", "DAY", 2, 0));
  EXPECT_FALSE(t.CountQuota("m", "MONTH", 0, 0));
}

TEST(Jwt, RejectsGarbageWithoutFetching) {
  ManualClock clock;
  int fetches = 0;
  JwksCache cache([&](const std::string&, int64_t) -> Result<std::string> {
    ++fetches;
    return Error("ConnectionFailed", "no network in unit tests");
  }, clock);
  JwtRequirements req{"https://issuer.example", {}};
  EXPECT_FALSE(VerifyJwt("not-a-jwt", req, cache, 0).ok());
  EXPECT_FALSE(VerifyJwt("a.b.c", req, cache, 0).ok());
  // alg none is refused before any key lookup.
  std::string none = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0.";
  EXPECT_FALSE(VerifyJwt(none, req, cache, 0).ok());
  EXPECT_EQ(fetches, 0);
  EXPECT_FALSE(VerifyRsaSignature(Json{{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}}, "RS256", "x", "y"));
}

TEST(OpenApi, ImportsSwaggerWithExtensions) {
  const char* doc = R"({
    "swagger": "2.0", "info": {"title": "pets", "version": "1"},
    "x-amazon-apigateway-binary-media-types": ["image/png"],
    "securityDefinitions": {
      "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
      "tok": {"type": "apiKey", "name": "Authorization", "in": "header",
              "x-amazon-apigateway-authtype": "custom",
              "x-amazon-apigateway-authorizer": {"type": "token",
                 "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"}}},
    "paths": {
      "/pets/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true}],
        "security": [{"api_key": []}, {"tok": []}],
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
          "responses": {"default": {"statusCode": "200"}}}}}}})";
  auto r = ParseOpenApi(doc, "us-east-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Json& m = r->paths["/pets/{id}"]["GET"];
  EXPECT_TRUE(m["apiKeyRequired"].get<bool>());
  EXPECT_EQ(m["authorizerName"], "tok");
  EXPECT_EQ(m["requestParameters"]["method.request.path.id"], true);
  EXPECT_EQ(m["methodIntegration"]["type"], "MOCK");
  EXPECT_EQ(m["methodIntegration"]["integrationResponses"]["200"]["statusCode"], "200");
  EXPECT_EQ(r->authorizers["tok"]["identitySource"], "method.request.header.Authorization");
}

TEST(OpenApi, ImportsYamlAndRefusesMalformed) {
  auto r = ParseOpenApi("openapi: 3.0.1\ninfo:\n  title: y\n  version: '1'\npaths:\n  /a:\n    get:\n"
                        "      x-amazon-apigateway-integration:\n        type: http_proxy\n"
                        "        httpMethod: GET\n        uri: http://example.com\n",
                        "us-east-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "y");
  EXPECT_EQ(r->paths["/a"]["GET"]["methodIntegration"]["type"], "HTTP_PROXY");
  EXPECT_FALSE(ParseOpenApi("", "us-east-1").ok());
  EXPECT_FALSE(ParseOpenApi("{\"foo\": 1}", "us-east-1").ok());
  EXPECT_FALSE(ParseOpenApi("[1, 2", "us-east-1").ok());
  EXPECT_FALSE(ParseOpenApi("{\"swagger\": \"2.0\", \"paths\": {\"noslash\": {}}}", "us-east-1").ok());
  auto bad_integ = ParseOpenApi(
      "{\"swagger\": \"2.0\", \"paths\": {\"/a\": {\"get\": {\"x-amazon-apigateway-integration\": "
      "{\"type\": \"teleport\"}}}}}",
      "us-east-1");
  EXPECT_FALSE(bad_integ.ok());
  // Deeply nested YAML is refused, not a stack overflow.
  std::string deep(5000, '[');
  EXPECT_FALSE(ParseOpenApi(deep, "us-east-1").ok());
}

TEST(Validation, PathPartsAndRouteKeys) {
  EXPECT_TRUE(ValidatePathPart("items").ok());
  EXPECT_TRUE(ValidatePathPart("{id}").ok());
  EXPECT_TRUE(ValidatePathPart("{proxy+}").ok());
  EXPECT_FALSE(ValidatePathPart("").ok());
  EXPECT_FALSE(ValidatePathPart("a/b").ok());
  EXPECT_FALSE(ValidatePathPart("{}").ok());
  EXPECT_FALSE(ValidatePathPart("a{b}").ok());
  EXPECT_TRUE(ValidateRouteKey("$default").ok());
  EXPECT_TRUE(ValidateRouteKey("GET /items/{id}").ok());
  EXPECT_TRUE(ValidateRouteKey("ANY /{proxy+}").ok());
  EXPECT_FALSE(ValidateRouteKey("GET items").ok());
  EXPECT_FALSE(ValidateRouteKey("FETCH /x").ok());
  EXPECT_FALSE(ValidateRouteKey("GET /{proxy+}/x").ok());
  EXPECT_FALSE(ValidateRouteKey("GET /a//b").ok());
  EXPECT_EQ(LambdaArnFromUri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                             "arn:aws:lambda:us-east-1:000000000000:function:f/invocations"),
            "arn:aws:lambda:us-east-1:000000000000:function:f");
}

}  // namespace
}  // namespace stratus::services::apigateway
