#include "services/apigateway/rest_apis_internal.h"

namespace stratus::services::apigateway {

// ---- API keys and usage plans -----------------------------------------------------------------

namespace {
Json PublicKey(const Json& k, bool include_value) {
  Json out = k;
  if (!include_value) out.erase("value");
  return out;
}
}  // namespace

Result<Json> RestApis::CreateApiKey(const Ctx& c, const Json& in) {
  std::string value = in.value("value", "");
  if (value.empty()) value = NewApiKeyValue();
  if (value.size() < 20 || value.size() > 128) {
    return BadRequest("API Key value should be at least 20 characters");
  }
  Json k = Json{{"id", NewId(10)}, {"value", value}};
  CopyIf(k, in, {"name", "customerId", "description"});
  k["enabled"] = in.value("enabled", false);
  k["createdDate"] = EpochSeconds(c.now_ms);
  k["lastUpdatedDate"] = EpochSeconds(c.now_ms);
  Json stage_keys = Json::array();
  for (const auto& sk : in.value("stageKeys", Json::array())) {
    stage_keys.push_back(sk.value("restApiId", "") + "/" + sk.value("stageName", ""));
  }
  k["stageKeys"] = stage_keys;
  k["tags"] = in.value("tags", Json::object());
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(keys::ApiKeyValue(c.scope, value)));
    if (existing) return Conflict("API Key already exists");
    STRATUS_RETURN_IF_ERROR(SaveJson(txn, keys::ApiKey(c.scope, k["id"].get<std::string>()), k));
    return txn.Put(keys::ApiKeyValue(c.scope, value), k["id"].get<std::string>());
  });
  if (!st.ok()) return std::move(st).error();
  return k;
}

Result<Json> RestApis::GetApiKey(const Ctx& c, const Json& in) {
  std::string id = in.value("apiKey", "");
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(keys::ApiKey(c.scope, id)));
  if (!raw) return NotFound("Invalid API Key identifier specified");
  Json k = ParseJsonOrDiscarded(*raw);
  return PublicKey(k, in.value("includeValue", false));
}

Result<Json> RestApis::GetApiKeys(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto rows,
                           store_.Scan(store::PrefixScan(keys::Base(c.scope) + "key/")));
  Json items = Json::array();
  std::string name_query = in.value("nameQuery", "");
  std::string customer = in.value("customerId", "");
  for (const auto& kv : rows) {
    Json k = ParseJsonOrDiscarded(kv.value);
    if (k.is_discarded()) continue;
    if (!name_query.empty() && !StartsWith(k.value("name", ""), name_query)) continue;
    if (!customer.empty() && k.value("customerId", "") != customer) continue;
    items.push_back(PublicKey(k, in.value("includeValues", false)));
  }
  return Page(std::move(items), in);
}

Result<Json> RestApis::UpdateApiKey(const Ctx& c, const Json& in) {
  std::string id = in.value("apiKey", "");
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, id)));
    if (k.is_null()) return NotFound("Invalid API Key identifier specified");
    Json ops = Json::array();
    for (const auto& op : in.value("patchOperations", Json::array())) {
      // Stage keys arrive as "/stages" add/remove with value "apiId/stage".
      if (op.value("path", "") == "/stages") {
        Json& sk = k["stageKeys"];
        std::string v = op.value("value", "");
        auto it = std::find(sk.begin(), sk.end(), Json(v));
        if (op.value("op", "") == "add" && it == sk.end()) sk.push_back(v);
        if (op.value("op", "") == "remove" && it != sk.end()) sk.erase(it);
        continue;
      }
      ops.push_back(op);
    }
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(k, ops, {"name", "description", "enabled", "customerId"}));
    k["lastUpdatedDate"] = EpochSeconds(c.now_ms);
    out = k;
    return SaveJson(txn, keys::ApiKey(c.scope, id), k);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return PublicKey(out, false);
}

Status RestApis::DeleteApiKey(const Ctx& c, const Json& in) {
  std::string id = in.value("apiKey", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, id)));
    if (k.is_null()) return NotFound("Invalid API Key identifier specified");
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::ApiKey(c.scope, id)));
    return txn.Delete(keys::ApiKeyValue(c.scope, k.value("value", "")));
  });
  if (st.ok() && on_change_) on_change_("");
  return st;
}

namespace {
Status CheckApiStages(store::ReadTxn& txn, const Ctx& c, const Json& stages) {
  for (const auto& s : stages) {
    std::string api = s.value("apiId", "");
    STRATUS_ASSIGN_OR_RETURN(Json doc, LoadJson(txn, keys::RestApi(c.scope, api)));
    if (doc.is_null()) {
      return NotFound("Invalid API identifier specified " + c.scope.account + ":" + api);
    }
    if (!doc.contains("stages") || !doc["stages"].contains(s.value("stage", ""))) {
      return BadRequest("Invalid stage identifier specified");
    }
  }
  return Status::Ok();
}
Json PublicPlan(const Json& p) {
  Json out = p;
  out.erase("keys");
  return out;
}
}  // namespace

Result<Json> RestApis::CreateUsagePlan(const Ctx& c, const Json& in) {
  std::string name = in.value("name", "");
  if (name.empty()) return BadRequest("Invalid usage plan name specified");
  Json p = Json{{"id", NewId(6)}, {"name", name}};
  CopyIf(p, in, {"description"});
  p["apiStages"] = in.value("apiStages", Json::array());
  CopyIf(p, in, {"throttle", "quota"});
  p["tags"] = in.value("tags", Json::object());
  p["keys"] = Json::array();
  if (p.contains("quota")) {
    static const std::set<std::string, std::less<>> kPeriods = {"DAY", "WEEK", "MONTH"};
    if (!kPeriods.count(p["quota"].value("period", ""))) {
      return BadRequest("Invalid quota period specified");
    }
  }
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(CheckApiStages(txn, c, p["apiStages"]));
    return SaveJson(txn, keys::UsagePlan(c.scope, p["id"].get<std::string>()), p);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return PublicPlan(p);
}

Result<Json> RestApis::GetUsagePlan(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto raw,
                           store_.Get(keys::UsagePlan(c.scope, in.value("usagePlanId", ""))));
  if (!raw) return NotFound("Invalid Usage Plan ID specified");
  return PublicPlan(ParseJsonOrDiscarded(*raw));
}

Result<Json> RestApis::GetUsagePlans(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto rows,
                           store_.Scan(store::PrefixScan(keys::Base(c.scope) + "plan/")));
  Json items = Json::array();
  std::string key_id = in.value("keyId", "");
  for (const auto& kv : rows) {
    Json p = ParseJsonOrDiscarded(kv.value);
    if (p.is_discarded()) continue;
    if (!key_id.empty()) {
      const Json& ks = p["keys"];
      if (std::find(ks.begin(), ks.end(), Json(key_id)) == ks.end()) continue;
    }
    items.push_back(PublicPlan(p));
  }
  return Page(std::move(items), in);
}

Result<Json> RestApis::UpdateUsagePlan(const Ctx& c, const Json& in) {
  std::string id = in.value("usagePlanId", "");
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    Json ops = Json::array();
    for (const auto& op : in.value("patchOperations", Json::array())) {
      std::string path = op.value("path", "");
      if (path == "/apiStages") {
        auto parts = Split(op.value("value", ""), ':');
        if (parts.size() != 2) return BadRequest("Invalid API stage specified: " + op.value("value", ""));
        Json stage = Json{{"apiId", parts[0]}, {"stage", parts[1]}};
        Json& list = p["apiStages"];
        auto it = std::find_if(list.begin(), list.end(), [&](const Json& s) {
          return s.value("apiId", "") == parts[0] && s.value("stage", "") == parts[1];
        });
        if (op.value("op", "") == "add") {
          STRATUS_RETURN_IF_ERROR(CheckApiStages(txn, c, Json::array({stage})));
          if (it == list.end()) list.push_back(stage);
        } else if (op.value("op", "") == "remove" && it != list.end()) {
          list.erase(it);
        }
        continue;
      }
      ops.push_back(op);
    }
    STRATUS_RETURN_IF_ERROR(
        ApplyPatch(p, ops, {"name", "description", "throttle", "quota", "productCode"}));
    out = p;
    return SaveJson(txn, keys::UsagePlan(c.scope, id), p);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return PublicPlan(out);
}

Status RestApis::DeleteUsagePlan(const Ctx& c, const Json& in) {
  std::string id = in.value("usagePlanId", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::UsagePlan(c.scope, id)));
    if (!raw) return NotFound("Invalid Usage Plan ID specified");
    return txn.Delete(keys::UsagePlan(c.scope, id));
  });
  if (st.ok() && on_change_) on_change_("");
  return st;
}

Result<Json> RestApis::CreateUsagePlanKey(const Ctx& c, const Json& in) {
  std::string plan_id = in.value("usagePlanId", "");
  std::string key_id = in.value("keyId", "");
  if (in.value("keyType", "") != "API_KEY") return BadRequest("Invalid key type specified");
  Json out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, plan_id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, key_id)));
    if (k.is_null()) return NotFound("Invalid API Key identifier specified");
    Json& ks = p["keys"];
    if (std::find(ks.begin(), ks.end(), Json(key_id)) != ks.end()) {
      return Conflict("Usage Plan " + plan_id + " already contains API key " + key_id);
    }
    ks.push_back(key_id);
    out = Json{{"id", key_id}, {"type", "API_KEY"}, {"value", k.value("value", "")}};
    if (k.contains("name")) out["name"] = k["name"];
    return SaveJson(txn, keys::UsagePlan(c.scope, plan_id), p);
  });
  if (!st.ok()) return std::move(st).error();
  if (on_change_) on_change_("");
  return out;
}

Result<Json> RestApis::GetUsagePlanKey(const Ctx& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json keys_page, GetUsagePlanKeys(c, Json{{"usagePlanId", in.value("usagePlanId", "")}, {"limit", kMaxLimit}}));
  for (const auto& k : keys_page["items"]) {
    if (k.value("id", "") == in.value("keyId", "")) return k;
  }
  return NotFound("Invalid Usage Plan Key identifier specified");
}

Result<Json> RestApis::GetUsagePlanKeys(const Ctx& c, const Json& in) {
  std::string plan_id = in.value("usagePlanId", "");
  Json items = Json::array();
  Status st = store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, plan_id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    for (const auto& kid : p["keys"]) {
      STRATUS_ASSIGN_OR_RETURN(Json k, LoadJson(txn, keys::ApiKey(c.scope, kid.get<std::string>())));
      if (k.is_null()) continue;
      if (in.contains("nameQuery") && !StartsWith(k.value("name", ""), in["nameQuery"].get<std::string>())) continue;
      Json item = Json{{"id", kid}, {"type", "API_KEY"}, {"value", k.value("value", "")}};
      if (k.contains("name")) item["name"] = k["name"];
      items.push_back(item);
    }
    return Status::Ok();
  });
  if (!st.ok()) return std::move(st).error();
  return Page(std::move(items), in);
}

Status RestApis::DeleteUsagePlanKey(const Ctx& c, const Json& in) {
  std::string plan_id = in.value("usagePlanId", "");
  std::string key_id = in.value("keyId", "");
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json p, LoadJson(txn, keys::UsagePlan(c.scope, plan_id)));
    if (p.is_null()) return NotFound("Invalid Usage Plan ID specified");
    Json& ks = p["keys"];
    auto it = std::find(ks.begin(), ks.end(), Json(key_id));
    if (it == ks.end()) return NotFound("Invalid Usage Plan Key identifier specified");
    ks.erase(it);
    return SaveJson(txn, keys::UsagePlan(c.scope, plan_id), p);
  });
  if (st.ok() && on_change_) on_change_("");
  return st;
}

}  // namespace stratus::services::apigateway
