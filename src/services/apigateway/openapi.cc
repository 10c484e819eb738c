#include "services/apigateway/openapi.h"

#include <set>

#include <yaml-cpp/yaml.h>

#include "core/strings.h"
#include "services/apigateway/common.h"

namespace stratus::services::apigateway {

namespace {

constexpr int kMaxYamlDepth = 64;

Error InvalidDocument(const std::string& why) {
  return BadRequest("Invalid OpenAPI input: " + why);
}

// yaml-cpp reports malformed input by throwing; this converter is the one place that catches,
// so no exception leaves the parser.
Result<Json> YamlToJson(const YAML::Node& node, int depth) {
  if (depth > kMaxYamlDepth) return InvalidDocument("the document nests too deeply");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Json();
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return Json(s);
      if (s == "true" || s == "True" || s == "TRUE") return Json(true);
      if (s == "false" || s == "False" || s == "FALSE") return Json(false);
      if (s == "null" || s == "~" || s.empty()) return s.empty() ? Json("") : Json();
      if (auto i = ParseInt64(s)) return Json(*i);
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-') &&
          s.find_first_not_of("0123456789.eE+-") == std::string::npos) {
        if (auto d = ParseDouble(s)) return Json(*d);
      }
      return Json(s);
    }
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (const auto& child : node) {
        STRATUS_ASSIGN_OR_RETURN(Json v, YamlToJson(child, depth + 1));
        arr.push_back(std::move(v));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) {
        STRATUS_ASSIGN_OR_RETURN(Json v, YamlToJson(kv.second, depth + 1));
        obj[kv.first.Scalar()] = std::move(v);
      }
      return obj;
    }
  }
  return Json();
}

std::string Upper(const Json& v) { return v.is_string() ? ToUpper(v.get<std::string>()) : ""; }

// The model a body schema names: "#/definitions/X" or "#/components/schemas/X" (each
// definition becomes a model), else empty (inline body schemas are not imported as models).
std::string ModelOfSchema(const Json& schema) {
  if (!schema.is_object() || !schema.contains("$ref") || !schema["$ref"].is_string()) return {};
  std::string ref = schema["$ref"].get<std::string>();
  for (std::string_view prefix : {"#/definitions/", "#/components/schemas/"}) {
    if (StartsWith(ref, prefix) && ref.find('/', prefix.size()) == std::string::npos) {
      return ref.substr(prefix.size());
    }
  }
  return {};
}

// requestModels for an operation: OpenAPI 3's requestBody content types (a requestBody may be
// a "#/components/requestBodies/x" $ref), or Swagger 2's `in: body` parameter for each type the
// operation (or the document) consumes.
Json RequestModels(const Json& op, const Json& item, const Json& root, bool swagger) {
  Json models = Json::object();
  if (!swagger) {
    Json body = op.value("requestBody", Json());
    if (body.is_object() && body.contains("$ref") && body["$ref"].is_string()) {
      std::string ref = body["$ref"].get<std::string>();
      constexpr std::string_view kPrefix = "#/components/requestBodies/";
      const Json& bodies = root.value("components", Json::object()).value("requestBodies", Json::object());
      body = StartsWith(ref, kPrefix) && bodies.is_object()
                 ? bodies.value(ref.substr(kPrefix.size()), Json())
                 : Json();
    }
    if (!body.is_object() || !body.contains("content") || !body["content"].is_object()) {
      return models;
    }
    for (const auto& [type, media] : body["content"].items()) {
      std::string model = media.is_object() ? ModelOfSchema(media.value("schema", Json())) : "";
      if (!model.empty()) models[type] = model;
    }
    return models;
  }
  std::string model;
  for (const Json* params : {&item, &op}) {
    const Json& list = params->value("parameters", Json::array());
    if (!list.is_array()) continue;
    for (const auto& p : list) {
      if (p.is_object() && p.value("in", Json("")) == "body") {
        model = ModelOfSchema(p.value("schema", Json()));
      }
    }
  }
  if (model.empty()) return models;
  Json consumes = op.value("consumes", root.value("consumes", Json::array()));
  if (!consumes.is_array() || consumes.empty()) consumes = Json::array({"application/json"});
  for (const auto& type : consumes) {
    if (type.is_string()) models[type.get<std::string>()] = model;
  }
  return models;
}

// The method's parameters ("in": path/query/header) as requestParameters.
void AddParameters(Json& request_parameters, const Json& params, const Json& root) {
  if (!params.is_array()) return;
  for (const auto& p0 : params) {
    Json p = p0;
    if (p.contains("$ref") && p["$ref"].is_string()) {
      // "#/parameters/x" or "#/components/parameters/x"
      auto segs = Split(std::string_view(p["$ref"].get<std::string>()).substr(2), '/');
      const Json* cur = &root;
      for (const auto& s : segs) {
        if (!cur->is_object() || !cur->contains(s)) {
          cur = nullptr;
          break;
        }
        cur = &(*cur)[s];
      }
      if (!cur) continue;
      p = *cur;
    }
    std::string in = p.value("in", "");
    std::string name = p.value("name", "");
    if (name.empty()) continue;
    std::string where = in == "query" ? "querystring" : in;
    if (where != "path" && where != "querystring" && where != "header") continue;
    request_parameters["method.request." + where + "." + name] = p.value("required", false);
  }
}

Result<Json> ParseIntegration(const Json& x) {
  if (!x.is_object()) return InvalidDocument("x-amazon-apigateway-integration must be an object");
  Json i = Json::object();
  std::string type = Upper(x.value("type", Json("")));
  static const std::set<std::string, std::less<>> kTypes = {"HTTP", "AWS", "MOCK", "HTTP_PROXY",
                                                            "AWS_PROXY"};
  if (!kTypes.count(type)) {
    return BadRequest("Invalid integration type specified: " + x.value("type", Json("")).dump());
  }
  i["type"] = type;
  if (x.contains("httpMethod")) i["httpMethod"] = Upper(x["httpMethod"]);
  for (const char* k : {"uri", "credentials", "requestParameters", "requestTemplates",
                        "connectionType", "connectionId", "cacheNamespace", "cacheKeyParameters",
                        "tlsConfig"}) {
    if (x.contains(k)) i[k] = x[k];
  }
  if (i.contains("uri") && !i["uri"].is_string()) {
    // SAM leaves Fn::Sub objects for the deployer to resolve; stratus needs a resolved string.
    return BadRequest("Invalid integration URI: expected a string, got " + i["uri"].dump());
  }
  i["passthroughBehavior"] =
      x.contains("passthroughBehavior") ? Upper(x["passthroughBehavior"]) : "WHEN_NO_MATCH";
  if (x.contains("contentHandling")) i["contentHandling"] = x["contentHandling"];
  i["timeoutInMillis"] = x.value("timeoutInMillis", 29000);
  if (type != "MOCK" && !i.contains("uri")) {
    return BadRequest("Invalid integration URI specified for integration of type " + type);
  }
  if (x.contains("responses") && x["responses"].is_object()) {
    Json responses = Json::object();
    for (const auto& [pattern, r] : x["responses"].items()) {
      std::string code = r.contains("statusCode") ? (r["statusCode"].is_string()
                                                         ? r["statusCode"].get<std::string>()
                                                         : r["statusCode"].dump())
                                                  : "200";
      Json ir = Json{{"statusCode", code}};
      if (pattern != "default") ir["selectionPattern"] = pattern;
      for (const char* k : {"responseParameters", "responseTemplates", "contentHandling"}) {
        if (r.contains(k)) ir[k] = r[k];
      }
      responses[code] = ir;
    }
    i["integrationResponses"] = responses;
  }
  i["cacheKeyParameters"] = i.value("cacheKeyParameters", Json::array());
  return i;
}

Json ParseAuthorizer(const std::string& name, const Json& scheme) {
  const Json& x = scheme["x-amazon-apigateway-authorizer"];
  Json a = Json::object();
  std::string type = Upper(x.value("type", Json("token")));
  a["type"] = type;
  for (const char* k : {"authorizerUri", "authorizerCredentials", "identitySource",
                        "identityValidationExpression", "providerARNs"}) {
    if (x.contains(k)) a[k] = x[k];
  }
  if (type == "TOKEN" && !a.contains("identitySource")) {
    a["identitySource"] = "method.request.header." + scheme.value("name", "Authorization");
  }
  if (type == "COGNITO_USER_POOLS" && !a.contains("identitySource")) {
    a["identitySource"] = "method.request.header." + scheme.value("name", "Authorization");
  }
  if (type != "COGNITO_USER_POOLS") {
    a["authorizerResultTtlInSeconds"] = x.value("authorizerResultTtlInSeconds", 300);
  }
  if (scheme.contains("x-amazon-apigateway-authtype")) {
    a["authType"] = scheme["x-amazon-apigateway-authtype"];
  }
  (void)name;
  return a;
}

}  // namespace

Result<Json> ParseJsonOrYaml(const std::string& text) {
  Json j = ParseJsonOrDiscarded(text);
  if (!j.is_discarded()) return j;
  try {
    YAML::Node node = YAML::Load(text);
    return YamlToJson(node, 0);
  } catch (const std::exception& e) {
    return InvalidDocument(std::string("the body is neither JSON nor YAML (") + e.what() + ")");
  }
}

Result<ImportedApi> ParseOpenApi(const std::string& text, const std::string& region) {
  (void)region;
  if (text.empty()) return InvalidDocument("the body is empty");
  STRATUS_ASSIGN_OR_RETURN(Json doc, ParseJsonOrYaml(text));
  if (!doc.is_object()) return InvalidDocument("the document is not an object");
  bool swagger = doc.contains("swagger");
  bool oas3 = doc.contains("openapi");
  if (!swagger && !oas3) {
    return InvalidDocument("the document has neither a 'swagger' nor an 'openapi' version");
  }
  ImportedApi out;
  const Json& info = doc.value("info", Json::object());
  if (info.is_object()) {
    out.name = info.value("title", Json("")).is_string() ? info.value("title", "") : "";
    if (info.contains("description") && info["description"].is_string()) {
      out.description = info["description"].get<std::string>();
    }
    if (info.contains("version")) {
      out.version = info["version"].is_string() ? info["version"].get<std::string>()
                                                : info["version"].dump();
    }
  }
  if (doc.contains("x-amazon-apigateway-binary-media-types")) {
    out.binary_media_types = doc["x-amazon-apigateway-binary-media-types"];
    if (!out.binary_media_types.is_array()) {
      return InvalidDocument("x-amazon-apigateway-binary-media-types must be a list");
    }
  }
  if (doc.contains("x-amazon-apigateway-api-key-source")) {
    out.api_key_source = Upper(doc["x-amazon-apigateway-api-key-source"]);
  }
  if (doc.contains("x-amazon-apigateway-policy")) {
    out.policy = doc["x-amazon-apigateway-policy"].dump();
  }
  if (doc.contains("x-amazon-apigateway-cors")) out.cors = doc["x-amazon-apigateway-cors"];
  // Security schemes: authorizers and the API key scheme.
  const Json& schemes = swagger ? doc.value("securityDefinitions", Json::object())
                                : doc.value("components", Json::object())
                                      .value("securitySchemes", Json::object());
  std::set<std::string> api_key_schemes;
  std::set<std::string> iam_schemes;
  if (schemes.is_object()) {
    for (const auto& [name, s] : schemes.items()) {
      if (!s.is_object()) continue;
      if (s.contains("x-amazon-apigateway-authorizer")) {
        out.authorizers[name] = ParseAuthorizer(name, s);
      } else if (s.value("x-amazon-apigateway-authtype", Json("")) == "awsSigv4") {
        iam_schemes.insert(name);
      } else if (s.value("type", Json("")) == "apiKey") {
        api_key_schemes.insert(name);
      }
    }
  }
  std::string default_validator;
  if (doc.contains("x-amazon-apigateway-request-validators")) {
    const Json& vs = doc["x-amazon-apigateway-request-validators"];
    if (vs.is_object()) {
      for (const auto& [name, v] : vs.items()) {
        out.validators[name] =
            Json{{"validateRequestBody", v.value("validateRequestBody", false)},
                 {"validateRequestParameters", v.value("validateRequestParameters", false)}};
      }
    }
  }
  if (doc.contains("x-amazon-apigateway-request-validator")) {
    default_validator = doc["x-amazon-apigateway-request-validator"].get<std::string>();
  }
  if (doc.contains("x-amazon-apigateway-gateway-responses")) {
    const Json& grs = doc["x-amazon-apigateway-gateway-responses"];
    if (grs.is_object()) {
      for (const auto& [type, g] : grs.items()) {
        Json gr = Json{{"responseType", type}, {"defaultResponse", false}};
        if (g.contains("statusCode")) {
          gr["statusCode"] =
              g["statusCode"].is_string() ? g["statusCode"].get<std::string>() : g["statusCode"].dump();
        }
        gr["responseParameters"] = g.value("responseParameters", Json::object());
        gr["responseTemplates"] = g.value("responseTemplates", Json::object());
        out.gateway_responses[type] = gr;
      }
    }
  }
  const Json& defs = swagger ? doc.value("definitions", Json::object())
                             : doc.value("components", Json::object())
                                   .value("schemas", Json::object());
  if (defs.is_object()) {
    for (const auto& [name, schema] : defs.items()) {
      out.models[name] = Json{{"name", name}, {"schema", schema.dump()},
                              {"contentType", "application/json"}};
    }
  }
  Json top_security = doc.value("security", Json::array());
  const Json& paths = doc.value("paths", Json::object());
  if (!paths.is_object()) return InvalidDocument("'paths' must be an object");
  static const std::set<std::string, std::less<>> kVerbs = {"get",  "post", "put",    "delete",
                                                            "patch", "head", "options"};
  for (const auto& [path, item] : paths.items()) {
    if (path.empty() || path[0] != '/') {
      return InvalidDocument("path '" + path + "' must begin with '/'");
    }
    if (path.find("//") != std::string::npos ||
        (path.size() > 1 && path.back() == '/')) {
      return InvalidDocument("path '" + path + "' has an empty path segment");
    }
    if (!item.is_object()) return InvalidDocument("path item '" + path + "' must be an object");
    Json methods = Json::object();
    Json path_params = Json::object();
    AddParameters(path_params, item.value("parameters", Json::array()), doc);
    for (const auto& [verb_raw, op] : item.items()) {
      std::string verb;
      if (verb_raw == "x-amazon-apigateway-any-method") {
        verb = "ANY";
      } else if (kVerbs.count(verb_raw)) {
        verb = ToUpper(verb_raw);
      } else {
        continue;
      }
      if (!op.is_object()) return InvalidDocument(verb + " " + path + " must be an object");
      Json m = Json{{"httpMethod", verb}, {"authorizationType", "NONE"}, {"apiKeyRequired", false}};
      if (op.contains("operationId")) m["operationName"] = op["operationId"];
      Json params = path_params;
      AddParameters(params, op.value("parameters", Json::array()), doc);
      if (!params.empty()) m["requestParameters"] = params;
      const Json& security = op.contains("security") ? op["security"] : top_security;
      if (security.is_array()) {
        for (const auto& req : security) {
          if (!req.is_object()) continue;
          for (const auto& [sname, scopes] : req.items()) {
            if (api_key_schemes.count(sname)) {
              m["apiKeyRequired"] = true;
            } else if (iam_schemes.count(sname)) {
              m["authorizationType"] = "AWS_IAM";
            } else if (out.authorizers.contains(sname)) {
              m["authorizerName"] = sname;
              if (scopes.is_array() && !scopes.empty()) m["authorizationScopes"] = scopes;
            } else {
              return BadRequest("Errors found during import:\n\tUnable to find security "
                                "definition " + sname + " for method " + verb + " " + path);
            }
          }
        }
      }
      std::string validator = op.value("x-amazon-apigateway-request-validator",
                                       Json(default_validator)).get<std::string>();
      if (!validator.empty()) m["validatorName"] = validator;
      Json request_models = RequestModels(op, item, doc, swagger);
      if (!request_models.empty()) m["requestModels"] = std::move(request_models);
      if (op.contains("responses") && op["responses"].is_object()) {
        Json mrs = Json::object();
        for (const auto& [code, r] : op["responses"].items()) {
          if (code == "default") continue;
          Json mr = Json{{"statusCode", code}};
          if (r.is_object() && r.contains("headers") && r["headers"].is_object()) {
            Json rp = Json::object();
            for (const auto& [h, unused] : r["headers"].items()) {
              rp["method.response.header." + h] = false;
            }
            mr["responseParameters"] = rp;
          }
          mrs[code] = mr;
        }
        if (!mrs.empty()) m["methodResponses"] = mrs;
      }
      if (op.contains("x-amazon-apigateway-integration")) {
        STRATUS_ASSIGN_OR_RETURN(Json integ, ParseIntegration(op["x-amazon-apigateway-integration"]));
        m["methodIntegration"] = integ;
      } else {
        out.warnings.push_back("No integration defined for method " + verb + " " + path);
      }
      methods[verb] = m;
    }
    out.paths[path] = methods;
  }
  return out;
}

Json ExportOpenApi(const Json& api, const Json& snapshot, const std::string& stage,
                   const std::string& region, bool oas30, bool integrations) {
  Json out = Json::object();
  std::string id = api.value("id", "");
  std::string version = api.value("version", "");
  if (version.empty()) {
    version = std::to_string(static_cast<int64_t>(api.value("createdDate", 0.0)));
  }
  if (oas30) {
    out["openapi"] = "3.0.1";
  } else {
    out["swagger"] = "2.0";
  }
  Json info = Json{{"title", api.value("name", "")}, {"version", version}};
  if (api.contains("description")) info["description"] = api["description"];
  out["info"] = info;
  if (oas30) {
    out["servers"] = Json::array({Json{
        {"url", "https://" + id + ".execute-api." + region + ".amazonaws.com/{basePath}"},
        {"variables", Json{{"basePath", Json{{"default", stage}}}}}}});
  } else {
    out["host"] = id + ".execute-api." + region + ".amazonaws.com";
    out["basePath"] = "/" + stage;
    out["schemes"] = Json::array({"https"});
  }
  Json paths = Json::object();
  bool uses_api_key = false;
  std::map<std::string, std::string> auth_names;
  for (const auto& [aid, a] : Member(snapshot, "authorizers").items()) {
    auth_names[aid] = a.value("name", aid);
  }
  // Request validators by id, and where models live in the exported document.
  std::map<std::string, std::string> validator_names;
  Json validators_x = Json::object();
  for (const auto& [vid, v] : Member(snapshot, "validators").items()) {
    std::string name = v.value("name", vid);
    validator_names[vid] = name;
    validators_x[name] = Json{{"validateRequestBody", v.value("validateRequestBody", false)},
                              {"validateRequestParameters", v.value("validateRequestParameters", false)}};
  }
  const std::string model_ref = oas30 ? "#/components/schemas/" : "#/definitions/";
  std::vector<std::pair<std::string, const Json*>> sorted;
  for (const auto& [rid, r] : snapshot["resources"].items()) sorted.emplace_back(r.value("path", ""), &r);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [path, rp] : sorted) {
    const Json& r = *rp;
    if (!r.contains("resourceMethods") || r["resourceMethods"].empty()) continue;
    Json item = Json::object();
    for (const auto& [verb, m] : r["resourceMethods"].items()) {
      Json op = Json::object();
      if (m.contains("operationName")) op["operationId"] = m["operationName"];
      Json params = Json::array();
      for (const auto& [k, req] : Member(m, "requestParameters").items()) {
        auto parts = Split(k, '.');
        if (parts.size() < 4) continue;
        std::string in = parts[2] == "querystring" ? "query" : parts[2];
        std::string name = k.substr(("method.request." + parts[2] + ".").size());
        Json p = Json{{"name", name}, {"in", in}, {"required", req.is_boolean() && req.get<bool>()}};
        if (oas30) {
          p["schema"] = Json{{"type", "string"}};
        } else {
          p["type"] = "string";
        }
        params.push_back(p);
      }
      Json request_models = Json::object();  // string values only
      for (const auto& [type, model] : Member(m, "requestModels").items()) {
        if (model.is_string()) request_models[type] = model;
      }
      if (!request_models.empty()) {
        if (oas30) {
          Json content = Json::object();
          for (const auto& [type, model] : request_models.items()) {
            content[type] = Json{{"schema", Json{{"$ref", model_ref + model.get<std::string>()}}}};
          }
          op["requestBody"] = Json{{"content", content}, {"required", true}};
        } else {
          Json consumes = Json::array();
          for (const auto& [type, unused] : request_models.items()) consumes.push_back(type);
          std::string model = request_models.begin().value().get<std::string>();
          op["consumes"] = consumes;
          params.push_back(Json{{"in", "body"}, {"name", model}, {"required", true},
                                {"schema", Json{{"$ref", model_ref + model}}}});
        }
      }
      if (!params.empty()) op["parameters"] = params;
      if (m.contains("requestValidatorId") &&
          validator_names.count(m["requestValidatorId"].get<std::string>())) {
        op["x-amazon-apigateway-request-validator"] =
            validator_names[m["requestValidatorId"].get<std::string>()];
      }
      Json responses = Json::object();
      for (const auto& [code, mr] : Member(m, "methodResponses").items()) {
        Json resp = Json{{"description", code + " response"}};
        if (mr.contains("responseParameters")) {
          Json headers = Json::object();
          for (const auto& [h, unused] : mr["responseParameters"].items()) {
            if (StartsWith(h, "method.response.header.")) {
              Json hs = oas30 ? Json{{"schema", Json{{"type", "string"}}}}
                              : Json{{"type", "string"}};
              headers[h.substr(23)] = hs;
            }
          }
          if (!headers.empty()) resp["headers"] = headers;
        }
        responses[code] = resp;
      }
      op["responses"] = responses;
      Json security = Json::array();
      if (m.value("apiKeyRequired", false)) {
        security.push_back(Json{{"api_key", Json::array()}});
        uses_api_key = true;
      }
      if (m.contains("authorizerId") && auth_names.count(m["authorizerId"].get<std::string>())) {
        security.push_back(Json{{auth_names[m["authorizerId"].get<std::string>()],
                                 m.value("authorizationScopes", Json::array())}});
      }
      if (!security.empty()) op["security"] = security;
      if (integrations && m.contains("methodIntegration")) {
        Json integ = m["methodIntegration"];
        integ.erase("cacheNamespace");
        if (integ.contains("integrationResponses")) {
          Json responses_x = Json::object();
          for (const auto& [code, ir] : integ["integrationResponses"].items()) {
            Json x = ir;
            std::string pattern = x.value("selectionPattern", "default");
            x.erase("selectionPattern");
            responses_x[pattern.empty() ? "default" : pattern] = x;
          }
          integ.erase("integrationResponses");
          integ["responses"] = responses_x;
        }
        integ["type"] = ToLower(integ.value("type", ""));
        integ["passthroughBehavior"] = ToLower(integ.value("passthroughBehavior", ""));
        op["x-amazon-apigateway-integration"] = integ;
      }
      item[verb == "ANY" ? "x-amazon-apigateway-any-method" : ToLower(verb)] = op;
    }
    paths[path] = item;
  }
  out["paths"] = paths;
  Json schemes = Json::object();
  if (uses_api_key) {
    schemes["api_key"] = Json{{"type", "apiKey"}, {"name", "x-api-key"}, {"in", "header"}};
  }
  for (const auto& [aid, a] : Member(snapshot, "authorizers").items()) {
    std::string src = a.value("identitySource", "method.request.header.Authorization");
    std::string header = StartsWith(src, "method.request.header.") ? src.substr(22) : "Unused";
    Json x = Json{{"type", ToLower(a.value("type", ""))}};
    for (const char* k : {"authorizerUri", "authorizerCredentials", "identitySource",
                          "identityValidationExpression", "providerARNs",
                          "authorizerResultTtlInSeconds"}) {
      if (a.contains(k)) x[k] = a[k];
    }
    schemes[a.value("name", aid)] =
        Json{{"type", "apiKey"}, {"name", header}, {"in", "header"},
             {"x-amazon-apigateway-authtype", a.value("authType", "custom")},
             {"x-amazon-apigateway-authorizer", x}};
  }
  if (!schemes.empty()) {
    if (oas30) {
      out["components"]["securitySchemes"] = schemes;
    } else {
      out["securityDefinitions"] = schemes;
    }
  }
  if (!snapshot.value("binaryMediaTypes", Json::array()).empty()) {
    out["x-amazon-apigateway-binary-media-types"] = snapshot["binaryMediaTypes"];
  }
  if (!validators_x.empty()) out["x-amazon-apigateway-request-validators"] = validators_x;
  Json schemas = Json::object();
  const std::string model_url = "https://apigateway.amazonaws.com/restapis/" + id + "/models/";
  for (const auto& [name, model] : Member(snapshot, "models").items()) {
    // Model $refs become document-local, as the import expects them.
    Json schema = ParseJsonOrDiscarded(ReplaceAll(model.value("schema", "{}"), model_url, model_ref));
    if (schema.is_object()) schemas[name] = std::move(schema);
  }
  if (!schemas.empty()) {
    if (oas30) {
      out["components"]["schemas"] = std::move(schemas);
    } else {
      out["definitions"] = std::move(schemas);
    }
  }
  return out;
}

}  // namespace stratus::services::apigateway
