// Function URLs: the config lives in the function record, and lambda/url/<id> leads back to it.
#include "services/lambda/registry_internal.h"

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

std::string UrlFor(const std::string& id, const std::string& region, const std::string& base) {
  std::string port;
  if (auto colon = base.rfind(':'); colon != std::string::npos) port = base.substr(colon);
  return "http://" + id + ".lambda-url." + region + ".localhost" + port + "/";
}

}  // namespace

// ---- function URLs -------------------------------------------------------------------------------

Result<Json> Registry::CreateUrlConfig(const Scope& s, const FunctionRef& ref, const Json& in,
                                       const std::string& base_host) {
  Impl& d = *impl_;
  if (in.value("InvokeMode", "BUFFERED") != "BUFFERED") {
    return NotSupported("InvokeMode " + in.value("InvokeMode", ""));
  }
  if (IsVersionNumber(ref.qualifier)) {
    return InvalidParameterValue("Function URLs cannot be created for a published version; use an alias.");
  }
  std::string id = RandomAlnum(32, "abcdefghijklmnopqrstuvwxyz0123456789");
  Json out;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(d.CheckQualifier(txn, s, ref));
    Json& urls = fn["urls"];
    if (!urls.is_object()) urls = Json::object();
    if (urls.contains(ref.qualifier)) {
      return ResourceConflict("Failed to create function url config for [functionArn = " +
                              FunctionArn(s.region, s.account, ref.name, ref.qualifier) +
                              "]. Error message:  FunctionUrlConfig exists for this Lambda function");
    }
    std::string now = LambdaTime(d.clock.NowMillis());
    Json cfg{{"id", id},
             {"AuthType", in.value("AuthType", "NONE")},
             {"InvokeMode", "BUFFERED"},
             {"CreationTime", now},
             {"LastModifiedTime", now}};
    if (Has(in, "Cors")) cfg["Cors"] = in["Cors"];
    urls[ref.qualifier] = cfg;
    STRATUS_RETURN_IF_ERROR(txn.Put(UrlKey(id), DumpJson(Json{{"account", s.account},
                                                              {"region", s.region},
                                                              {"name", ref.name},
                                                              {"qualifier", ref.qualifier}})));
    out = Json{{"FunctionUrl", UrlFor(id, s.region, base_host)},
               {"FunctionArn", FunctionArn(s.region, s.account, ref.name, ref.qualifier)},
               {"AuthType", cfg["AuthType"]},
               {"CreationTime", cfg["CreationTime"]},
               {"InvokeMode", cfg["InvokeMode"]}};
    if (Has(cfg, "Cors")) out["Cors"] = cfg["Cors"];
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  return out;
}

Result<Json> Registry::GetUrlConfig(const Scope& s, const FunctionRef& ref,
                                    const std::string& base_host) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  auto urls = fn.value("urls", Json::object());
  if (!urls.contains(ref.qualifier)) {
    return ResourceNotFound("The resource you requested does not exist.");
  }
  const Json& cfg = urls[ref.qualifier];
  Json out{{"FunctionUrl", UrlFor(cfg.value("id", ""), s.region, base_host)},
           {"FunctionArn", FunctionArn(s.region, s.account, ref.name, ref.qualifier)},
           {"AuthType", cfg["AuthType"]},
           {"CreationTime", cfg["CreationTime"]},
           {"LastModifiedTime", cfg["LastModifiedTime"]},
           {"InvokeMode", cfg["InvokeMode"]}};
  if (Has(cfg, "Cors")) out["Cors"] = cfg["Cors"];
  return out;
}

Result<Json> Registry::UpdateUrlConfig(const Scope& s, const FunctionRef& ref, const Json& in,
                                       const std::string& base_host) {
  Impl& d = *impl_;
  if (in.value("InvokeMode", "BUFFERED") != "BUFFERED") {
    return NotSupported("InvokeMode " + in.value("InvokeMode", ""));
  }
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    if (!Has(fn, "urls") || !fn["urls"].contains(ref.qualifier)) {
      return ResourceNotFound("The resource you requested does not exist.");
    }
    Json& cfg = fn["urls"][ref.qualifier];
    if (Has(in, "AuthType")) cfg["AuthType"] = in["AuthType"];
    if (Has(in, "Cors")) cfg["Cors"] = in["Cors"];
    cfg["LastModifiedTime"] = LambdaTime(d.clock.NowMillis());
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  d.Changed(s, ref.name, false);
  return GetUrlConfig(s, ref, base_host);
}

Status Registry::DeleteUrlConfig(const Scope& s, const FunctionRef& ref) {
  Impl& d = *impl_;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    if (!Has(fn, "urls") || !fn["urls"].contains(ref.qualifier)) {
      return ResourceNotFound("The resource you requested does not exist.");
    }
    STRATUS_RETURN_IF_ERROR(txn.Delete(UrlKey(fn["urls"][ref.qualifier].value("id", ""))));
    fn["urls"].erase(ref.qualifier);
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  d.Changed(s, ref.name, false);
  return Status::Ok();
}

Result<Json> Registry::ListUrlConfigs(const Scope& s, const FunctionRef& ref,
                                      const std::string& base_host) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  Json list = Json::array();
  const Json urls = fn.value("urls", Json::object());
  for (auto& [q, cfg] : urls.items()) {
    FunctionRef r = ref;
    r.qualifier = q;
    auto one = GetUrlConfig(s, r, base_host);
    if (one.ok()) list.push_back(*one);
  }
  return Json{{"FunctionUrlConfigs", std::move(list)}};
}

Result<UrlTarget> Registry::FindUrl(const std::string& url_id) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(impl_->cache_mu);
    auto it = impl_->url_cache.find(url_id);
    if (it != impl_->url_cache.end()) return it->second;
    generation = impl_->cache_generation;
  }
  STRATUS_ASSIGN_OR_RETURN(auto v, impl_->store.Get(UrlKey(url_id)));
  if (!v) return ResourceNotFound("No function URL " + url_id);
  STRATUS_ASSIGN_OR_RETURN(Json idx, ParseRecord(v));
  UrlTarget t;
  t.scope = Scope{idx.value("account", ""), idx.value("region", "")};
  t.name = idx.value("name", "");
  t.qualifier = idx.value("qualifier", "");
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(t.scope, t.name));
  auto urls = fn.value("urls", Json::object());
  if (!urls.contains(t.qualifier)) return ResourceNotFound("No function URL " + url_id);
  t.auth_type = urls[t.qualifier].value("AuthType", "NONE");
  t.cors = urls[t.qualifier].value("Cors", Json());
  std::lock_guard lock(impl_->cache_mu);
  if (impl_->cache_generation == generation) impl_->url_cache[url_id] = t;  // else this request only
  return t;
}

}  // namespace stratus::services::lambda
