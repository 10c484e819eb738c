#include "services/apigateway/rest_apis_internal.h"

namespace stratus::services::apigateway {


std::string ChildPath(const std::string& parent_path, const std::string& path_part) {
  return parent_path == "/" ? "/" + path_part : parent_path + "/" + path_part;
}

Status ValidatePathPart(const std::string& part) {
  auto bad = [] {
    return BadRequest(
        "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the "
        "end and an optional plus sign before the closing brace.");
  };
  if (part.empty()) return bad();
  std::string_view inner = part;
  if (part.front() == '{') {
    if (part.size() < 3 || part.back() != '}') return bad();
    inner = std::string_view(part).substr(1, part.size() - 2);
    if (!inner.empty() && inner.back() == '+') inner.remove_suffix(1);
    if (inner.empty()) return bad();
  }
  for (char ch : inner) {
    bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
              ch == '-' || ch == ':' || ch == '$' || ch == '@' || ch == '~';
    if (!ok) return bad();
  }
  return Status::Ok();
}

std::string LambdaArnFromUri(const std::string& uri) {
  auto start = uri.find("/functions/");
  auto end = uri.rfind("/invocations");
  if (start == std::string::npos || end == std::string::npos || end <= start + 11) return {};
  return uri.substr(start + 11, end - start - 11);
}

Json RestApis::DefaultGatewayResponse(const std::string& type) {
  int status = DefaultGatewayStatus(type);
  Json r = Json{{"responseType", type}};
  if (status) r["statusCode"] = std::to_string(status);
  r["responseParameters"] = Json::object();
  r["responseTemplates"] =
      Json{{"application/json", "{\"message\":$context.error.messageString}"}};
  r["defaultResponse"] = true;
  return r;
}

Result<Json> RestApis::LoadApi(const Scope& s, const std::string& api_id) {
  Json doc;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(doc, LoadJson(txn, keys::RestApi(s, api_id)));
    NormalizeRestDoc(doc);
    return Status::Ok();
  }));
  return doc;
}

Result<Json> RestApis::Mutate(const Ctx& c, const std::string& api_id,
                              const std::function<Result<Json>(Json& doc)>& fn) {
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json doc, LoadJson(txn, keys::RestApi(c.scope, api_id)));
    if (doc.is_null()) return ApiNotFound(c, api_id);
    NormalizeRestDoc(doc);
    STRATUS_ASSIGN_OR_RETURN(out, fn(doc));
    return SaveJson(txn, keys::RestApi(c.scope, api_id), doc);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_(api_id);
  return out;
}

Result<Json> RestApis::View(const Ctx& c, const std::string& api_id,
                            const std::function<Result<Json>(const Json& doc)>& fn) {
  STRATUS_ASSIGN_OR_RETURN(Json doc, LoadApi(c.scope, api_id));
  if (doc.is_null()) return ApiNotFound(c, api_id);
  return fn(doc);
}

// ---- REST APIs --------------------------------------------------------------------------------

Result<Json> RestApis::CreateRestApi(const Ctx& c, const Json& in) {
  std::string name = in.value("name", "");
  if (name.empty()) return BadRequest("Invalid REST API name specified");
  Json api = Json::object();
  std::string id = NewId(10);
  std::string root = NewId(10);
  api["id"] = id;
  api["name"] = name;
  CopyIf(api, in, {"description", "version"});
  api["createdDate"] = EpochSeconds(c.now_ms);
  CopyIf(api, in, {"binaryMediaTypes", "minimumCompressionSize"});
  api["apiKeySource"] = in.value("apiKeySource", "HEADER");
  api["endpointConfiguration"] =
      in.value("endpointConfiguration", Json{{"types", Json::array({"EDGE"})}});
  CopyIf(api, in, {"policy"});
  api["tags"] = in.value("tags", Json::object());
  api["disableExecuteApiEndpoint"] = in.value("disableExecuteApiEndpoint", false);
  api["rootResourceId"] = root;
  Json doc = Json::object();
  doc["resources"] = Json::object();
  if (in.contains("cloneFrom")) {
    STRATUS_ASSIGN_OR_RETURN(Json src, LoadApi(c.scope, in["cloneFrom"].get<std::string>()));
    if (src.is_null()) return ApiNotFound(c, in["cloneFrom"].get<std::string>());
    for (const char* k : {"resources", "authorizers", "validators", "models", "gatewayResponses"}) {
      if (src.contains(k)) doc[k] = src[k];
    }
    api["rootResourceId"] = src["api"]["rootResourceId"];
  } else {
    doc["resources"][root] = Json{{"id", root}, {"path", "/"}};
  }
  doc["api"] = api;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(SaveJson(txn, keys::RestApi(c.scope, id), doc));
    return SaveJson(txn, keys::ApiIndex(id),
                    Json{{"account", c.scope.account}, {"region", c.scope.region},
                         {"kind", "rest"}});
  });
  if (!st.ok()) return std::move(st).error();
  return api;
}

Result<Json> RestApis::GetRestApi(const Ctx& c, const Json& in) {
  return View(c, in.value("restApiId", ""), [](const Json& doc) -> Result<Json> {
    return doc["api"];
  });
}

Result<Json> RestApis::GetRestApis(const Ctx& c, const Json& in) {
  std::string prefix = keys::Base(c.scope) + "rest/";
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::PrefixScan(prefix)));
  Json items = Json::array();
  for (const auto& kv : rows) {
    Json doc = ParseJsonOrDiscarded(kv.value);
    if (doc.is_discarded()) continue;
    items.push_back(doc["api"]);
  }
  std::sort(items.begin(), items.end(), [](const Json& a, const Json& b) {
    return a.value("createdDate", 0.0) < b.value("createdDate", 0.0);
  });
  return Page(std::move(items), in);
}

Result<Json> RestApis::UpdateRestApi(const Ctx& c, const Json& in) {
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    STRATUS_RETURN_IF_ERROR(ApplyPatch(doc["api"], in.value("patchOperations", Json::array()),
                                       {"name", "description", "version", "binaryMediaTypes",
                                        "minimumCompressionSize", "apiKeySource", "policy",
                                        "endpointConfiguration", "disableExecuteApiEndpoint"}));
    return doc["api"];
  });
}

Status RestApis::DeleteRestApi(const Ctx& c, const Json& in) {
  std::string id = in.value("restApiId", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::RestApi(c.scope, id)));
    if (!raw) return ApiNotFound(c, id);
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::RestApi(c.scope, id)));
    return txn.Delete(keys::ApiIndex(id));
  });
  if (st.ok() && on_change_) on_change_(id);
  return st;
}

Result<Json> RestApis::ImportRestApi(const Ctx& c, const Json& in, const std::string& body) {
  STRATUS_ASSIGN_OR_RETURN(ImportedApi imported, ParseOpenApi(body, c.scope.region));
  bool fail_on_warnings = in.value("failOnWarnings", false);
  if (fail_on_warnings && !imported.warnings.empty()) {
    return BadRequest("Warnings found during import:\n\t" + Join(imported.warnings, "\n\t"));
  }
  Json create = Json{{"name", imported.name.empty() ? "imported" : imported.name}};
  if (!imported.description.empty()) create["description"] = imported.description;
  if (!imported.version.empty()) create["version"] = imported.version;
  if (!imported.binary_media_types.empty()) create["binaryMediaTypes"] = imported.binary_media_types;
  if (!imported.api_key_source.empty()) create["apiKeySource"] = imported.api_key_source;
  const Json& params = in.value("parameters", Json::object());
  if (params.contains("endpointConfigurationTypes")) {
    create["endpointConfiguration"] =
        Json{{"types", Json::array({params["endpointConfigurationTypes"]})}};
  }
  STRATUS_ASSIGN_OR_RETURN(Json api, CreateRestApi(c, create));
  Json put = Json{{"restApiId", api["id"]}, {"mode", "overwrite"}};
  auto r = PutRestApi(c, put, body);
  if (!r.ok()) {
    (void)DeleteRestApi(c, Json{{"restApiId", api["id"]}});
    return r;
  }
  return r;
}

Result<Json> RestApis::PutRestApi(const Ctx& c, const Json& in, const std::string& body) {
  STRATUS_ASSIGN_OR_RETURN(ImportedApi imported, ParseOpenApi(body, c.scope.region));
  if (in.value("failOnWarnings", false) && !imported.warnings.empty()) {
    return BadRequest("Warnings found during import:\n\t" + Join(imported.warnings, "\n\t"));
  }
  bool merge = in.value("mode", "merge") == "merge";
  return Mutate(c, in.value("restApiId", ""), [&](Json& doc) -> Result<Json> {
    std::string root = doc["api"]["rootResourceId"].get<std::string>();
    if (!merge) {
      Json root_res = Json{{"id", root}, {"path", "/"}};
      doc["resources"] = Json::object();
      doc["resources"][root] = root_res;
      doc["authorizers"] = Json::object();
      doc["models"] = Json::object();
      doc["validators"] = Json::object();
      doc["gatewayResponses"] = Json::object();
      if (!imported.name.empty()) doc["api"]["name"] = imported.name;
      if (!imported.description.empty()) doc["api"]["description"] = imported.description;
    }
    if (!imported.binary_media_types.empty()) {
      doc["api"]["binaryMediaTypes"] = imported.binary_media_types;
    }
    if (!imported.api_key_source.empty()) doc["api"]["apiKeySource"] = imported.api_key_source;
    if (!imported.policy.empty()) doc["api"]["policy"] = imported.policy;
    // Authorizers, validators, models by name.
    std::map<std::string, std::string> auth_ids;
    for (auto& [id, a] : doc["authorizers"].items()) auth_ids[a.value("name", "")] = id;
    for (const auto& [name, a] : imported.authorizers.items()) {
      std::string id = auth_ids.count(name) ? auth_ids[name] : NewId(6);
      Json rec = a;
      rec["id"] = id;
      rec["name"] = name;
      doc["authorizers"][id] = rec;
      auth_ids[name] = id;
    }
    std::map<std::string, std::string> validator_ids;
    for (auto& [id, v] : doc["validators"].items()) validator_ids[v.value("name", "")] = id;
    for (const auto& [name, v] : imported.validators.items()) {
      std::string id = validator_ids.count(name) ? validator_ids[name] : NewId(6);
      Json rec = v;
      rec["id"] = id;
      rec["name"] = name;
      doc["validators"][id] = rec;
      validator_ids[name] = id;
    }
    for (const auto& [name, m] : imported.models.items()) {
      Json rec = m;
      if (!rec.contains("id")) rec["id"] = NewId(6);
      doc["models"][name] = rec;
    }
    for (const auto& [type, gr] : imported.gateway_responses.items()) {
      doc["gatewayResponses"][type] = gr;
    }
    // Resources: create the path chain for each imported path.
    std::map<std::string, std::string> by_path;
    for (auto& [id, r] : doc["resources"].items()) by_path[r.value("path", "")] = id;
    for (const auto& [path, methods] : imported.paths.items()) {
      std::string parent = root;
      std::string cur = "/";
      if (path != "/") {
        for (const auto& part : Split(std::string_view(path).substr(1), '/')) {
          STRATUS_RETURN_IF_ERROR(ValidatePathPart(part));
          std::string next = ChildPath(cur, part);
          if (!by_path.count(next)) {
            STRATUS_RETURN_IF_ERROR(CheckSiblings(doc, parent, part, ""));
            std::string id = NewId(6);
            doc["resources"][id] =
                Json{{"id", id}, {"parentId", parent}, {"pathPart", part}, {"path", next}};
            by_path[next] = id;
          }
          parent = by_path[next];
          cur = next;
        }
      }
      Json& res = doc["resources"][by_path[cur]];
      for (const auto& [verb, method] : methods.items()) {
        Json m = method;
        if (m.contains("authorizerName")) {
          std::string an = m["authorizerName"].get<std::string>();
          m.erase("authorizerName");
          if (!auth_ids.count(an)) {
            return BadRequest("Errors found during import:\n\tUnable to find authorizer " + an +
                              " for method " + verb + " " + path);
          }
          m["authorizerId"] = auth_ids[an];
          const Json& a = doc["authorizers"][auth_ids[an]];
          m["authorizationType"] =
              a.value("type", "") == "COGNITO_USER_POOLS" ? "COGNITO_USER_POOLS" : "CUSTOM";
        }
        if (m.contains("validatorName")) {
          std::string vn = m["validatorName"].get<std::string>();
          m.erase("validatorName");
          if (validator_ids.count(vn)) m["requestValidatorId"] = validator_ids[vn];
        }
        if (m.contains("methodIntegration")) {
          m["methodIntegration"]["cacheNamespace"] = res["id"];
        }
        res["resourceMethods"][verb] = m;
      }
    }
    Json api = doc["api"];
    if (!imported.warnings.empty()) api["warnings"] = imported.warnings;
    return api;
  });
}

Result<std::string> RestApis::GetExport(const Ctx& c, const Json& in) {
  std::string stage_name = in.value("stageName", "");
  std::string type = in.value("exportType", "");
  if (type != "swagger" && type != "oas30") {
    return BadRequest("No API exporter for type '" + type + "'");
  }
  std::string accepts = in.value("accepts", "application/json");
  if (accepts.find("yaml") != std::string::npos) {
    return BadRequest("Only application/json exports are supported by stratus");
  }
  STRATUS_ASSIGN_OR_RETURN(Json doc, LoadApi(c.scope, in.value("restApiId", "")));
  if (doc.is_null()) return ApiNotFound(c, in.value("restApiId", ""));
  if (!doc["stages"].contains(stage_name)) return StageNotFound();
  std::string dep = doc["stages"][stage_name].value("deploymentId", "");
  const Json& snapshot = doc["deployments"][dep]["snapshot"];
  Json params = in.value("parameters", Json::object());
  std::string ext = params.value("extensions", "");
  bool integrations = ext.find("integrations") != std::string::npos ||
                      ext.find("apigateway") != std::string::npos;
  Json out = ExportOpenApi(doc["api"], snapshot, stage_name, c.scope.region, type == "oas30",
                           integrations);
  return out.dump(2);
}

// ---- Tags and account -------------------------------------------------------------------------

namespace {
// Runs `fn` on the tags object of the resource an ARN names, inside a write transaction.
Status WithTags(store::Store& store, const Ctx& c, const std::string& arn, bool write,
                const std::function<Status(Json& tags)>& fn, const RestApis::ChangeFn& changed) {
  STRATUS_ASSIGN_OR_RETURN(std::string path, ArnPath(arn));
  auto parts = Split(std::string_view(path).substr(1), '/');
  std::string api_changed;
  Status st = store.Write([&](store::WriteTxn& txn) -> Status {
    std::string key;
    std::vector<std::string> inner;  // JSON path to the tags owner inside the record
    if (parts.size() == 2 && parts[0] == "restapis") {
      key = keys::RestApi(c.scope, parts[1]);
      inner = {"api"};
      api_changed = parts[1];
    } else if (parts.size() == 4 && parts[0] == "restapis" && parts[2] == "stages") {
      key = keys::RestApi(c.scope, parts[1]);
      inner = {"stages", parts[3]};
      api_changed = parts[1];
    } else if (parts.size() == 2 && parts[0] == "apikeys") {
      key = keys::ApiKey(c.scope, parts[1]);
    } else if (parts.size() == 2 && parts[0] == "usageplans") {
      key = keys::UsagePlan(c.scope, parts[1]);
    } else {
      return BadRequest("Invalid ARN specified in the request");
    }
    STRATUS_ASSIGN_OR_RETURN(Json doc, LoadJson(txn, key));
    if (doc.is_null()) return NotFound("Invalid resource identifier specified");
    Json* owner = &doc;
    for (const auto& s : inner) {
      if (!owner->contains(s)) return NotFound("Invalid resource identifier specified");
      owner = &(*owner)[s];
    }
    Json& tags = (*owner)["tags"];
    if (tags.is_null()) tags = Json::object();
    STRATUS_RETURN_IF_ERROR(fn(tags));
    if (!write) return Status::Ok();
    return SaveJson(txn, key, doc);
  });
  if (st.ok() && write && !api_changed.empty() && changed) changed(api_changed);
  return st;
}
}  // namespace

Result<Json> RestApis::GetTags(const Ctx& c, const Json& in) {
  Json out;
  STRATUS_RETURN_IF_ERROR(WithTags(store_, c, in.value("resourceArn", ""), false,
                                   [&](Json& tags) -> Status {
                                     out = tags;
                                     return Status::Ok();
                                   },
                                   on_change_));
  return Json{{"tags", out}};
}

Status RestApis::TagResource(const Ctx& c, const Json& in) {
  return WithTags(store_, c, in.value("resourceArn", ""), true,
                  [&](Json& tags) -> Status {
                    for (const auto& [k, v] : Member(in, "tags").items()) tags[k] = v;
                    if (tags.size() > 50) {
                      return BadRequest("Too many tags: a resource can have at most 50");
                    }
                    return Status::Ok();
                  },
                  on_change_);
}

Status RestApis::UntagResource(const Ctx& c, const Json& in) {
  return WithTags(store_, c, in.value("resourceArn", ""), true,
                  [&](Json& tags) -> Status {
                    for (const auto& k : in.value("tagKeys", Json::array())) {
                      tags.erase(k.get<std::string>());
                    }
                    return Status::Ok();
                  },
                  on_change_);
}

Result<Json> RestApis::GetAccount(const Ctx& c) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(keys::Account(c.scope)));
  Json a = raw ? ParseJsonOrDiscarded(*raw) : Json::object();
  if (a.is_discarded()) a = Json::object();
  if (!a.contains("throttleSettings")) {
    a["throttleSettings"] = Json{{"burstLimit", 5000}, {"rateLimit", 10000.0}};
  }
  if (!a.contains("features")) a["features"] = Json::array({"UsagePlans"});
  if (!a.contains("apiKeyVersion")) a["apiKeyVersion"] = "4";
  return a;
}

Result<Json> RestApis::UpdateAccount(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json a, GetAccount(c));
  STRATUS_RETURN_IF_ERROR(
      ApplyPatch(a, in.value("patchOperations", Json::array()), {"cloudwatchRoleArn", "features"}));
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::Account(c.scope), DumpJson(a)));
  return a;
}

}  // namespace stratus::services::apigateway
