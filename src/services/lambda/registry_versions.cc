// Published versions and aliases (alias routing weights are applied by Registry::Resolve).
#include "services/lambda/registry_internal.h"

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

constexpr int64_t kMaxVersions = 9'999'999;

Status CheckRouting(const Json& in, const std::string& primary) {
  if (!Has(in, "RoutingConfig")) return Status::Ok();
  const Json weights = in["RoutingConfig"].value("AdditionalVersionWeights", Json::object());
  if (weights.size() > 1) {
    return InvalidParameterValue("Number of items in AdditionalVersionWeights cannot be greater than 1");
  }
  for (auto& [v, w] : weights.items()) {
    if (!IsVersionNumber(v)) return InvalidParameterValue("Invalid version " + v);
    if (v == primary) {
      return InvalidParameterValue("Invalid function version " + v + ". Function version " + v +
                                   " is already included in routing configuration.");
    }
    if (!w.is_number() || w.get<double>() < 0 || w.get<double>() > 1) {
      return InvalidParameterValue("Invalid weight for version " + v);
    }
  }
  if (primary == "$LATEST" && !weights.empty()) {
    return InvalidParameterValue("$LATEST is not supported for an alias pointing to more than 1 version");
  }
  return Status::Ok();
}

}  // namespace

// ---- versions and aliases ------------------------------------------------------------------------

Result<Json> Registry::PublishVersion(const Scope& s, const FunctionRef& ref, const Json& in) {
  Impl& d = *impl_;
  Json config;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    const Json& c = fn["config"];
    std::string want_sha = in.value("CodeSha256", "");
    if (!want_sha.empty() && want_sha != c.value("CodeSha256", "")) {
      return InvalidParameterValue("CodeSHA256 (" + want_sha +
                                   ") is different from current CodeSHA256 in $LATEST (" +
                                   c.value("CodeSha256", "") + "). Please try again.");
    }
    STRATUS_RETURN_IF_ERROR(CheckRevision(in, c));
    // Publishing again without changes returns the last version.
    int64_t next = fn.value("next_version", int64_t{1});
    if (next > 1 && fn.value("published_revision", "") == c.value("RevisionId", "")) {
      STRATUS_ASSIGN_OR_RETURN(auto last, txn.Get(VerKey(s, ref.name, next - 1)));
      if (last) {
        STRATUS_ASSIGN_OR_RETURN(Json lr, ParseRecord(last));
        config = lr["config"];
        return Status::Ok();
      }
    }
    if (next > kMaxVersions) {
      return Error("CodeStorageExceededException", "Code storage limit exceeded.", 400);
    }
    Json vr = d.NewVersion(s, fn, next);
    if (Has(in, "Description")) vr["config"]["Description"] = in["Description"];
    fn["next_version"] = next + 1;
    fn["published_revision"] = c.value("RevisionId", "");
    STRATUS_RETURN_IF_ERROR(Touch(txn, fn.value("code_sha", ""), +1));
    STRATUS_RETURN_IF_ERROR(txn.Put(VerKey(s, ref.name, next), DumpJson(vr)));
    config = vr["config"];
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  d.Changed(s, ref.name, false);
  return config;
}

Result<Json> Registry::ListVersions(const Scope& s, const FunctionRef& ref, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  Json versions = Json::array({fn["config"]});
  STRATUS_ASSIGN_OR_RETURN(auto rows, impl_->store.Scan(store::PrefixScan(VerPrefix(s, ref.name))));
  for (const auto& r : rows) {
    Json v = ParseJsonOrDiscarded(r.value);
    if (v.is_object()) versions.push_back(v["config"]);
  }
  return Json{{"Versions", std::move(versions)}};
}

Result<Json> Registry::CreateAlias(const Scope& s, const FunctionRef& ref, const Json& in) {
  Impl& d = *impl_;
  std::string name = in.value("Name", "");
  std::string version = in.value("FunctionVersion", "");
  if (IsVersionNumber(name) || name == "$LATEST") {
    return InvalidParameterValue("Alias name cannot be a version number or $LATEST.");
  }
  STRATUS_RETURN_IF_ERROR(CheckRouting(in, version));
  Json alias{{"AliasArn", FunctionArn(s.region, s.account, ref.name, name)},
             {"Name", name},
             {"FunctionVersion", version},
             {"Description", in.value("Description", "")},
             {"RevisionId", NewUuid()}};
  if (Has(in, "RoutingConfig")) alias["RoutingConfig"] = in["RoutingConfig"];
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    (void)fn;
    if (version != "$LATEST") {
      STRATUS_ASSIGN_OR_RETURN(auto v, txn.Get(VerKey(s, ref.name, ParseInt64(version).value_or(-1))));
      if (!v) return FunctionNotFound(s, ref.name, version);
    }
    if (Has(in, "RoutingConfig")) {
      const Json weights = in["RoutingConfig"].value("AdditionalVersionWeights", Json::object());
      for (auto& [v, w] : weights.items()) {
        STRATUS_ASSIGN_OR_RETURN(auto vv, txn.Get(VerKey(s, ref.name, *ParseInt64(v))));
        if (!vv) return FunctionNotFound(s, ref.name, v);
      }
    }
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(AliasKey(s, ref.name, name)));
    if (existing) {
      return ResourceConflict("Alias already exists: " + FunctionArn(s.region, s.account, ref.name, name));
    }
    return txn.Put(AliasKey(s, ref.name, name), DumpJson(alias));
  }));
  d.Changed(s, ref.name, false);
  return alias;
}

Result<Json> Registry::GetAlias(const Scope& s, const FunctionRef& ref, const std::string& name) {
  STRATUS_ASSIGN_OR_RETURN(auto v, impl_->store.Get(AliasKey(s, ref.name, name)));
  if (!v) {
    return ResourceNotFound("Alias not found: " + FunctionArn(s.region, s.account, ref.name, name));
  }
  return ParseRecord(v);
}

Result<Json> Registry::UpdateAlias(const Scope& s, const FunctionRef& ref, const std::string& name,
                                   const Json& in) {
  Impl& d = *impl_;
  Json alias;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto cur, txn.Get(AliasKey(s, ref.name, name)));
    if (!cur) {
      return ResourceNotFound("Alias not found: " + FunctionArn(s.region, s.account, ref.name, name));
    }
    STRATUS_ASSIGN_OR_RETURN(alias, ParseRecord(cur));
    STRATUS_RETURN_IF_ERROR(CheckRevision(in, alias));
    if (Has(in, "FunctionVersion")) {
      std::string version = in["FunctionVersion"].get<std::string>();
      if (version != "$LATEST") {
        STRATUS_ASSIGN_OR_RETURN(auto v, txn.Get(VerKey(s, ref.name, ParseInt64(version).value_or(-1))));
        if (!v) return FunctionNotFound(s, ref.name, version);
      }
      alias["FunctionVersion"] = version;
    }
    if (Has(in, "Description")) alias["Description"] = in["Description"];
    if (Has(in, "RoutingConfig")) {
      STRATUS_RETURN_IF_ERROR(CheckRouting(in, alias.value("FunctionVersion", "")));
      alias["RoutingConfig"] = in["RoutingConfig"];
    }
    alias["RevisionId"] = NewUuid();
    return txn.Put(AliasKey(s, ref.name, name), DumpJson(alias));
  }));
  d.Changed(s, ref.name, false);
  return alias;
}

Status Registry::DeleteAlias(const Scope& s, const FunctionRef& ref, const std::string& name) {
  STRATUS_RETURN_IF_ERROR(impl_->store.Delete(AliasKey(s, ref.name, name)));
  impl_->Changed(s, ref.name, false);
  return Status::Ok();
}

Result<Json> Registry::ListAliases(const Scope& s, const FunctionRef& ref, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  (void)fn;
  std::string version = in.value("FunctionVersion", "");
  STRATUS_ASSIGN_OR_RETURN(auto rows, impl_->store.Scan(store::PrefixScan(AliasPrefix(s, ref.name))));
  Json aliases = Json::array();
  for (const auto& r : rows) {
    Json a = ParseJsonOrDiscarded(r.value);
    if (!a.is_object()) continue;
    if (!version.empty() && a.value("FunctionVersion", "") != version) continue;
    aliases.push_back(std::move(a));
  }
  return Json{{"Aliases", std::move(aliases)}};
}

}  // namespace stratus::services::lambda
