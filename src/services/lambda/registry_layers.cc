// Layer versions: numbered per layer, their zips shared by content like function code.
#include "services/lambda/registry_internal.h"

#include <map>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/errors.h"
#include "services/lambda/zip_archive.h"

namespace stratus::services::lambda {

// ---- layers --------------------------------------------------------------------------------------

Result<Json> Registry::PublishLayerVersion(const Scope& s, const std::string& layer, const Json& in,
                                           const std::string& zip) {
  Impl& d = *impl_;
  if (zip.size() > kMaxZipUploadBytes) {
    return RequestTooLarge("Request must be smaller than 70167211 bytes for the PublishLayerVersion operation");
  }
  STRATUS_ASSIGN_OR_RETURN(ZipSummary summary, InspectZip(zip));
  (void)summary;
  std::string sha = Sha256Hex(zip);
  STRATUS_RETURN_IF_ERROR(d.code.Prime(sha, zip));
  Json out;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    // Versions are never reused, even after deletion.
    STRATUS_ASSIGN_OR_RETURN(auto counter, txn.Get(LayerCounterKey(s, layer)));
    int64_t version = (counter ? ParseInt64(*counter).value_or(0) : 0) + 1;
    out = Json{{"Content", Json{{"CodeSha256", Base64Encode(Sha256(zip))},
                                {"CodeSize", static_cast<int64_t>(zip.size())}}},
               {"LayerArn", LayerArn(s.region, s.account, layer)},
               {"LayerVersionArn", LayerArn(s.region, s.account, layer, version)},
               {"Description", in.value("Description", "")},
               {"CreatedDate", LambdaTime(d.clock.NowMillis())},
               {"Version", version}};
    for (const char* k : {"CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"}) {
      if (Has(in, k)) out[k] = in[k];
    }
    STRATUS_RETURN_IF_ERROR(PutCode(txn, sha, zip));
    STRATUS_RETURN_IF_ERROR(txn.Put(LayerCounterKey(s, layer), std::to_string(version)));
    return txn.Put(LayerKey(s, layer, version), DumpJson(Json{{"out", out}, {"sha", sha}}));
  }));
  return out;
}

Result<Json> Registry::GetLayerVersion(const Scope& s, const std::string& layer, int64_t version) {
  STRATUS_ASSIGN_OR_RETURN(auto v, impl_->store.Get(LayerKey(s, layer, version)));
  if (!v) return ResourceNotFound("The resource you requested does not exist.");
  STRATUS_ASSIGN_OR_RETURN(Json rec, ParseRecord(v));
  return rec["out"];
}

Result<Json> Registry::GetLayerVersionByArn(const Scope& s, const std::string& arn) {
  auto parts = Split(arn, ':');
  if (parts.size() != 8 || parts[5] != "layer" || !IsVersionNumber(parts[7])) {
    return InvalidParameterValue("Invalid layer version ARN: " + arn);
  }
  return GetLayerVersion(Scope{parts[4], parts[3]}, parts[6], *ParseInt64(parts[7]));
}

Result<Json> Registry::ListLayerVersions(const Scope& s, const std::string& layer, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto rows,
                           impl_->store.Scan(store::PrefixScan(LayerPrefix(s, layer), 0, true)));
  std::string runtime = in.value("CompatibleRuntime", "");
  Json versions = Json::array();
  for (const auto& r : rows) {
    Json rec = ParseJsonOrDiscarded(r.value);
    if (!rec.is_object()) continue;
    Json o = rec["out"];
    if (!runtime.empty()) {
      bool ok = false;
      for (const auto& rt : o.value("CompatibleRuntimes", Json::array())) ok = ok || rt == runtime;
      if (!ok) continue;
    }
    o.erase("Content");
    o.erase("LayerArn");
    versions.push_back(std::move(o));
  }
  return Json{{"LayerVersions", std::move(versions)}};
}

Result<Json> Registry::ListLayers(const Scope& s, const Json& in) {
  std::string prefix = Base(s) + "l/";
  STRATUS_ASSIGN_OR_RETURN(auto rows, impl_->store.Scan(store::PrefixScan(prefix)));
  std::map<std::string, Json> latest;
  for (const auto& r : rows) {
    Json rec = ParseJsonOrDiscarded(r.value);
    if (!rec.is_object()) continue;
    std::string name = r.key.substr(prefix.size());
    name = name.substr(0, name.find(kSep));
    latest[name] = rec["out"];  // ascending scan: the newest version wins
  }
  Json layers = Json::array();
  for (auto& [name, o] : latest) {
    Json v = o;
    v.erase("Content");
    v.erase("LayerArn");
    layers.push_back(Json{{"LayerName", name},
                          {"LayerArn", LayerArn(s.region, s.account, name)},
                          {"LatestMatchingVersion", v}});
  }
  return Json{{"Layers", std::move(layers)}};
}

Status Registry::DeleteLayerVersion(const Scope& s, const std::string& layer, int64_t version) {
  return impl_->store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto v, txn.Get(LayerKey(s, layer, version)));
    if (!v) return Status::Ok();  // idempotent, as on AWS
    // The zip stays: functions that use this version keep working, as on AWS (functions hold
    // no reference count on layer zips).
    return txn.Delete(LayerKey(s, layer, version));
  });
}

}  // namespace stratus::services::lambda
