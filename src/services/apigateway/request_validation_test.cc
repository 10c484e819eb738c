// Request validators: required parameters, body models (each draft-4 keyword with AWS's
// messages), $ref to local definitions and other models, and hostile schemas that must be
// refused or fail closed rather than crash or hang.
#include "services/apigateway/request_validation.h"

#include <gtest/gtest.h>

#include <string>

namespace stratus::services::apigateway {
namespace {

constexpr const char* kApi = "abc123";

// Validates `body` (JSON text) against `schema` (JSON text) with optional other models.
BodyValidation Check(const std::string& schema, const std::string& body,
                     const Json& models = Json::object()) {
  return ValidateJson(Json::parse(schema), Json::parse(body), models, kApi);
}

Json Models(std::initializer_list<std::pair<std::string, std::string>> named) {
  Json m = Json::object();
  for (const auto& [name, schema] : named) m[name] = Json{{"name", name}, {"schema", schema}};
  return m;
}

TEST(RequestValidationTest, TypeKeyword) {
  EXPECT_TRUE(Check(R"({"type":"integer"})", "3").ok);
  EXPECT_FALSE(Check(R"({"type":"integer"})", "3.5").ok);
  EXPECT_TRUE(Check(R"({"type":"number"})", "3").ok);
  EXPECT_TRUE(Check(R"({"type":["string","null"]})", "null").ok);
  auto r = Check(R"({"type":"integer"})", R"("x")");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.ErrorString(),
            R"([instance type (string) does not match any allowed primitive type (allowed: ["integer"])])");
  EXPECT_TRUE(r.config_error.empty());
}

TEST(RequestValidationTest, RequiredPropertiesAndAdditional) {
  const std::string s = R"({"type":"object","required":["name","age"],
    "properties":{"name":{"type":"string"},"age":{"type":"integer"}},
    "additionalProperties":false})";
  EXPECT_TRUE(Check(s, R"({"name":"rex","age":3})").ok);
  auto r = Check(s, R"({"age":3})");
  EXPECT_EQ(r.ErrorString(), R"([object has missing required properties (["name"])])");
  r = Check(s, R"({"name":"rex","age":3,"x":1,"y":2})");
  EXPECT_EQ(r.ErrorString(),
            R"([object instance has properties which are not allowed by the schema: ["x","y"]])");
  r = Check(s, R"({"name":1})");
  ASSERT_EQ(r.errors.size(), 2u);  // every failing keyword is reported
  EXPECT_EQ(r.errors[0], R"(object has missing required properties (["age"]))");
  EXPECT_EQ(r.errors[1],
            R"(instance type (integer) does not match any allowed primitive type (allowed: ["string"]))");
  // additionalProperties as a schema, patternProperties.
  const std::string p = R"({"patternProperties":{"^x-":{"type":"string"}},
    "additionalProperties":{"type":"integer"}})";
  EXPECT_TRUE(Check(p, R"({"x-a":"s","n":1})").ok);
  EXPECT_FALSE(Check(p, R"({"x-a":1})").ok);
  EXPECT_FALSE(Check(p, R"({"n":"s"})").ok);
  EXPECT_EQ(Check(R"({"minProperties":1})", "{}").ErrorString(),
            "[object has too few properties (found 0 but schema requires at least 1)]");
  EXPECT_EQ(Check(R"({"maxProperties":1})", R"({"a":1,"b":2})").ErrorString(),
            "[object has too many properties (found 2 but schema requires at most 1)]");
}

TEST(RequestValidationTest, Strings) {
  EXPECT_EQ(Check(R"({"minLength":3})", R"("ab")").ErrorString(),
            R"([string "ab" is too short (length: 2, required minimum: 3)])");
  EXPECT_EQ(Check(R"({"maxLength":2})", R"("abc")").ErrorString(),
            R"([string "abc" is too long (length: 3, maximum allowed: 2)])");
  EXPECT_TRUE(Check(R"({"maxLength":2})", "\"\xC3\xA9\xC3\xA9\"").ok);  // code points, not bytes
  EXPECT_TRUE(Check(R"({"pattern":"^[a-z]+\\d$"})", R"("abc1")").ok);
  EXPECT_TRUE(Check(R"({"pattern":"b"})", R"("abc")").ok);  // unanchored search
  EXPECT_EQ(Check(R"({"pattern":"^a"})", R"("ba")").ErrorString(),
            R"([ECMA 262 regex "^a" does not match input string "ba"])");
  EXPECT_TRUE(Check(R"({"minLength":5})", "3").ok);  // string keywords skip other types
}

TEST(RequestValidationTest, Numbers) {
  EXPECT_EQ(Check(R"({"minimum":1})", "0").ErrorString(),
            "[numeric instance is lower than the required minimum (minimum: 1, found: 0)]");
  EXPECT_TRUE(Check(R"({"minimum":1})", "1").ok);
  EXPECT_EQ(Check(R"({"minimum":1,"exclusiveMinimum":true})", "1").ErrorString(),
            "[numeric instance is not strictly greater than the required minimum 1]");
  EXPECT_EQ(Check(R"({"maximum":10})", "10.5").ErrorString(),
            "[numeric instance is greater than the required maximum (maximum: 10, found: 10.5)]");
  EXPECT_EQ(Check(R"({"maximum":10,"exclusiveMaximum":true})", "10").ErrorString(),
            "[numeric instance is not strictly lower than the required maximum 10]");
  EXPECT_TRUE(Check(R"({"multipleOf":3})", "9").ok);
  EXPECT_TRUE(Check(R"({"multipleOf":3})", "-9").ok);
  EXPECT_TRUE(Check(R"({"multipleOf":0.1})", "0.3").ok);
  EXPECT_EQ(Check(R"({"multipleOf":3})", "7").ErrorString(),
            "[remainder of division is not zero (7 / 3)]");
}

TEST(RequestValidationTest, Arrays) {
  EXPECT_EQ(Check(R"({"minItems":1})", "[]").ErrorString(),
            "[array is too short: must have at least 1 elements but instance has 0 elements]");
  EXPECT_EQ(Check(R"({"maxItems":1})", "[1,2]").ErrorString(),
            "[array is too long: must have at most 1 elements but instance has 2 elements]");
  EXPECT_TRUE(Check(R"({"items":{"type":"integer"}})", "[1,2]").ok);
  EXPECT_FALSE(Check(R"({"items":{"type":"integer"}})", R"([1,"2"])").ok);
  EXPECT_TRUE(Check(R"({"items":[{"type":"integer"}],"additionalItems":false})", "[1]").ok);
  EXPECT_FALSE(Check(R"({"items":[{"type":"integer"}],"additionalItems":false})", "[1,2]").ok);
  EXPECT_EQ(Check(R"({"uniqueItems":true})", R"([{"a":1,"b":2},{"b":2,"a":1}])").ErrorString(),
            "[array must not contain duplicate elements]");
  EXPECT_TRUE(Check(R"({"uniqueItems":true})", "[1,2]").ok);
}

TEST(RequestValidationTest, Enum) {
  EXPECT_TRUE(Check(R"({"enum":["a",1,{"x":[1]}]})", R"({"x":[1.0]})").ok);
  EXPECT_EQ(Check(R"({"enum":["a","b"]})", R"("c")").ErrorString(),
            R"([instance value ("c") not found in enum (possible values: ["a","b"])])");
}

TEST(RequestValidationTest, Combinators) {
  const std::string any = R"({"anyOf":[{"type":"string"},{"type":"integer"}]})";
  EXPECT_TRUE(Check(any, "1").ok);
  EXPECT_EQ(Check(any, "true").ErrorString(),
            "[instance failed to match at least one required schema among 2]");
  const std::string one = R"({"oneOf":[{"type":"integer"},{"minimum":0}]})";
  EXPECT_TRUE(Check(one, "-1").ok);
  EXPECT_EQ(Check(one, "1").ErrorString(),
            "[instance failed to match exactly one schema (matched 2 out of 2)]");
  const std::string all = R"({"allOf":[{"type":"integer"},{"minimum":0}]})";
  EXPECT_EQ(Check(all, "-1").ErrorString(),
            "[instance failed to match all required schemas (matched only 1 out of 2)]");
  EXPECT_EQ(Check(R"({"not":{"type":"null"}})", "null").ErrorString(),
            "[instance matched a schema which it should not have]");
  EXPECT_TRUE(Check(R"({"not":{"type":"null"}})", "1").ok);
}

TEST(RequestValidationTest, FormatAndUnknownKeywordsIgnored) {
  EXPECT_TRUE(Check(R"({"format":"date-time","x-custom":1})", R"("not a date")").ok);
}

TEST(RequestValidationTest, LocalAndModelRefs) {
  const std::string local = R"({"definitions":{"pos":{"type":"integer","minimum":1}},
    "properties":{"n":{"$ref":"#/definitions/pos"}}})";
  EXPECT_TRUE(Check(local, R"({"n":2})").ok);
  EXPECT_FALSE(Check(local, R"({"n":0})").ok);
  Json models = Models({{"Name", R"({"type":"string","minLength":1})"},
                        {"Pet", R"({"type":"object","required":["name"],
                          "properties":{"name":{"$ref":
                          "https://apigateway.amazonaws.com/restapis/abc123/models/Name"}}})"}});
  const std::string pets = R"({"type":"array","items":{"$ref":
      "https://apigateway.amazonaws.com/restapis/abc123/models/Pet"}})";
  EXPECT_TRUE(Check(pets, R"([{"name":"rex"}])", models).ok);
  auto r = Check(pets, R"([{"name":""}])", models);
  EXPECT_EQ(r.ErrorString(), R"([string "" is too short (length: 0, required minimum: 1)])");
  // Imported OpenAPI documents point at their definitions, which became models.
  EXPECT_TRUE(Check(R"({"$ref":"#/components/schemas/Pet"})", R"({"name":"a"})", models).ok);
  EXPECT_FALSE(Check(R"({"$ref":"#/definitions/Pet"})", "{}", models).ok);
  // A recursive schema over a finite instance is fine.
  const std::string tree = R"({"type":"object","properties":{"kids":{"type":"array",
    "items":{"$ref":"#"}}},"required":["v"]})";
  EXPECT_TRUE(Check(tree, R"({"v":1,"kids":[{"v":2,"kids":[{"v":3}]}]})").ok);
  EXPECT_FALSE(Check(tree, R"({"v":1,"kids":[{"kids":[]}]})").ok);
}

TEST(RequestValidationTest, UnresolvableRefsFailClosed) {
  for (const std::string& schema :
       {std::string(R"({"$ref":"#/definitions/nope"})"),
        std::string(R"({"$ref":"https://apigateway.amazonaws.com/restapis/other/models/Pet"})"),
        std::string(R"({"$ref":"https://apigateway.amazonaws.com/restapis/abc123/models/Nope"})"),
        std::string(R"({"$ref":"http://example.com/schema.json"})")}) {
    auto r = Check(schema, "{}");
    EXPECT_FALSE(r.ok) << schema;
    EXPECT_FALSE(r.config_error.empty()) << schema;
  }
}

TEST(RequestValidationTest, RefCyclesAndBlowupsAreBounded) {
  Json models = Models({{"A", R"({"$ref":"https://apigateway.amazonaws.com/restapis/abc123/models/B"})"},
                        {"B", R"({"$ref":"https://apigateway.amazonaws.com/restapis/abc123/models/A"})"}});
  auto r = Check(R"({"$ref":"https://apigateway.amazonaws.com/restapis/abc123/models/A"})", "{}",
                 models);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.config_error.find("deeper than"), std::string::npos) << r.config_error;
  // A self-loop through a local pointer.
  r = Check(R"({"definitions":{"x":{"$ref":"#/definitions/x"}},"$ref":"#/definitions/x"})", "1");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.config_error.empty());
  // Exponential fan-out: each level doubles the work; the step budget stops it.
  r = Check(R"({"definitions":{"x":{"allOf":[{"$ref":"#/definitions/x"},{"$ref":"#/definitions/x"}]}},
               "$ref":"#/definitions/x"})", "1");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.config_error.empty());
  // Deeply nested schema text.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += R"({"not":)";
  deep += "{}";
  for (int i = 0; i < 5000; ++i) deep += "}";
  r = Check(deep, "1");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.config_error.empty());
  // A pattern RE2 cannot run, and a huge one.
  EXPECT_FALSE(Check(R"j({"pattern":"(?=a)"})j", R"("a")").config_error.empty());
  Json huge = Json{{"pattern", std::string(100000, 'a')}};
  EXPECT_FALSE(ValidateJson(huge, Json("a"), Json::object(), kApi).config_error.empty());
}

TEST(RequestValidationTest, DeeplyNestedBodyIsBounded) {
  // 200 000 nested arrays against a recursive schema: the depth bound stops the walk (fail
  // closed), and nothing recurses over the body's depth.
  std::string body(200000, '[');
  body += std::string(200000, ']');
  Json models = Models({{"Tree", R"({"type":"array","items":{"$ref":"#"}})"}});
  auto r = ValidateRequestBody(models, kApi, "Tree", body);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.config_error.empty());
  Json enum_models = Models({{"E", R"({"enum":[1,2]})"}});
  r = ValidateRequestBody(enum_models, kApi, "E", body);  // quoted in the message: bounded
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.ErrorString().find("deeply nested value"), std::string::npos) << r.ErrorString();
}

TEST(RequestValidationTest, RequestBodyEntryPoint) {
  Json models = Models({{"Pet", R"({"type":"object","required":["name"]})"}});
  EXPECT_TRUE(ValidateRequestBody(models, kApi, "Pet", R"({"name":"a"})").ok);
  auto r = ValidateRequestBody(models, kApi, "Pet", "");  // empty body validated as {}
  EXPECT_EQ(r.ErrorString(), R"([object has missing required properties (["name"])])");
  r = ValidateRequestBody(models, kApi, "Pet", "not json");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.config_error.empty());
  r = ValidateRequestBody(models, kApi, "Missing", "{}");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.config_error.empty());
}

TEST(RequestValidationTest, ModelSetIsParsedOnceAndReused) {
  Json models = Models({{"Sku", R"({"type":"string","pattern":"^[A-Z]+-\\d+$"})"},
                        {"Bad", "not json"},
                        {"Line", R"({"type":"object","required":["sku"],"properties":{"sku":
                          {"$ref":"https://apigateway.amazonaws.com/restapis/abc123/models/Sku"}}})"}});
  const ModelSet set(models, kApi);
  bool bad = false;
  ASSERT_NE(set.Schema("Sku", &bad), nullptr);
  EXPECT_NE(set.Pattern("^[A-Z]+-\\d+$"), nullptr);  // compiled at construction
  EXPECT_EQ(set.Schema("Bad", &bad), nullptr);
  EXPECT_TRUE(bad);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(set.ValidateBody("Line", R"({"sku":"AB-12"})").ok);
    EXPECT_EQ(set.ValidateBody("Line", R"({"sku":"ab"})").ErrorString(),
              R"([ECMA 262 regex "^[A-Z]+-\\d+$" does not match input string "ab"])");
  }
  auto r = set.ValidateBody("Bad", "{}");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.config_error.empty());
}

TEST(RequestValidationTest, BuiltInEmptyModel) {
  EXPECT_TRUE(ValidateRequestBody(Json::object(), kApi, "Empty", R"({"any":1})").ok);
  EXPECT_TRUE(ValidateRequestBody(Json::object(), kApi, "Empty", "").ok);
  EXPECT_EQ(ValidateRequestBody(Json::object(), kApi, "Empty", "[1]").ErrorString(),
            R"([instance type (array) does not match any allowed primitive type (allowed: ["object"])])");
  Json own = Models({{"Empty", R"({"type":"array"})"}});  // an API's own model wins
  EXPECT_TRUE(ValidateRequestBody(own, kApi, "Empty", "[1]").ok);
}

TEST(RequestValidationTest, SelectsModelByContentType) {
  Json rm = Json{{"application/json", "Pet"}, {"$default", "Any"}};
  EXPECT_EQ(SelectRequestModel(rm, "application/json; charset=utf-8"), "Pet");
  EXPECT_EQ(SelectRequestModel(rm, "Application/JSON"), "Pet");
  EXPECT_EQ(SelectRequestModel(rm, "text/plain"), "Any");
  EXPECT_EQ(SelectRequestModel(Json{{"application/json", "Pet"}}, "text/plain"), "");
  EXPECT_EQ(SelectRequestModel(Json(), "application/json"), "");
}

TEST(RequestValidationTest, MissingRequiredParameters) {
  Json params = Json{{"method.request.querystring.q", true},
                     {"method.request.header.X-Tenant", true},
                     {"method.request.querystring.opt", false},
                     {"method.request.path.id", true}};
  auto none = [](std::string_view, std::string_view) { return false; };
  auto missing = MissingRequiredParameters(params, none);
  EXPECT_EQ(MissingParametersMessage(missing),
            "Missing required request parameters: [q, X-Tenant, id]");
  auto headers_only = [](std::string_view where, std::string_view) { return where == "header"; };
  EXPECT_EQ(MissingRequiredParameters(params, headers_only),
            (std::vector<std::string>{"q", "id"}));
  auto all = [](std::string_view, std::string_view) { return true; };
  EXPECT_TRUE(MissingRequiredParameters(params, all).empty());
}

TEST(RequestValidationTest, CheckModelSchemaRefusesBadSchemas) {
  EXPECT_FALSE(CheckModelSchema(R"({"type":"object","properties":{"a":{"type":"string"}}})"));
  EXPECT_TRUE(CheckModelSchema("not json"));
  EXPECT_TRUE(CheckModelSchema("[]"));
  EXPECT_TRUE(CheckModelSchema(R"({"type":"str"})"));
  EXPECT_TRUE(CheckModelSchema(R"({"required":"name"})"));
  EXPECT_TRUE(CheckModelSchema(R"({"minLength":-1})"));
  EXPECT_TRUE(CheckModelSchema(R"({"properties":{"a":1}})"));
  EXPECT_TRUE(CheckModelSchema(R"({"pattern":"(unclosed"})"));
  EXPECT_TRUE(CheckModelSchema(R"({"anyOf":[]})"));
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += R"({"items":)";
  deep += "{}";
  for (int i = 0; i < 1000; ++i) deep += "}";
  auto why = CheckModelSchema(deep);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("deeper"), std::string::npos);
}

}  // namespace
}  // namespace stratus::services::apigateway
