// Functions, reserved concurrency and tags: the Registry operations on the function record itself.
#include "services/lambda/registry_internal.h"

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/errors.h"
#include "services/lambda/zip_archive.h"

namespace stratus::services::lambda {

namespace {

constexpr size_t kMaxTags = 50;

// Features stratus does not implement fail loudly (docs/lambda.md lists them).
Status CheckUnsupported(const Json& in) {
  if (in.value("PackageType", "Zip") == "Image" || Has(in, "ImageConfig") ||
      (Has(in, "Code") && Has(in["Code"], "ImageUri")) || Has(in, "ImageUri")) {
    return NotSupported("PackageType Image (container images)");
  }
  if (Has(in, "VpcConfig") &&
      (!in["VpcConfig"].value("SubnetIds", Json::array()).empty() ||
       !in["VpcConfig"].value("SecurityGroupIds", Json::array()).empty())) {
    return NotSupported("VpcConfig");
  }
  if (Has(in, "FileSystemConfigs") && !in["FileSystemConfigs"].empty()) {
    return NotSupported("FileSystemConfigs (EFS)");
  }
  if (Has(in, "CodeSigningConfigArn")) return NotSupported("CodeSigningConfigArn");
  if (Has(in, "SnapStart") && in["SnapStart"].value("ApplyOn", "None") != "None") {
    return NotSupported("SnapStart");
  }
  if (Has(in, "CapacityProviderConfig")) return NotSupported("CapacityProviderConfig");
  if (Has(in, "DurableConfig")) return NotSupported("DurableConfig");
  return Status::Ok();
}

Result<std::string> FunctionFromArn(const std::string& arn) {
  auto parts = Split(arn, ':');
  if (parts.size() < 7 || parts[0] != "arn" || parts[2] != "lambda") {
    return InvalidParameterValue("Invalid resource ARN: " + arn);
  }
  if (parts[5] != "function") return NotSupported("Tagging " + parts[5] + " resources");
  if (parts.size() == 8) {
    return InvalidParameterValue("Tags are not supported for resource " + arn +
                                 ": tags apply to the unqualified function ARN.");
  }
  return parts[6];
}

}  // namespace

// ---- functions ---------------------------------------------------------------------------------

Result<Json> Registry::CreateFunction(const Scope& s, const Json& in, const std::string& zip) {
  Impl& d = *impl_;
  STRATUS_ASSIGN_OR_RETURN(FunctionRef ref, ParseFunctionRef(in.value("FunctionName", "")));
  if (!ref.qualifier.empty()) {
    return InvalidParameterValue("Function name " + in.value("FunctionName", "") +
                                 " cannot contain a qualifier.");
  }
  const std::string name = ref.name;
  STRATUS_RETURN_IF_ERROR(CheckUnsupported(in));
  if (!Has(in, "Runtime") || !Has(in, "Handler")) {
    return InvalidParameterValue(
        "Runtime and Handler are mandatory parameters for functions created with deployment "
        "packages.");
  }
  if (zip.size() > kMaxZipUploadBytes) {
    return RequestTooLarge("Request must be smaller than 70167211 bytes for the CreateFunction operation");
  }
  if (Has(in, "Tags") && in["Tags"].size() > kMaxTags) {
    return InvalidParameterValue("Number of tags exceeds resource tag limit.");
  }
  STRATUS_ASSIGN_OR_RETURN(ZipSummary summary, InspectZip(zip));
  (void)summary;
  std::string sha = Sha256Hex(zip);

  int64_t now = d.clock.NowMillis();
  Json rec = Json::object();
  rec["config"] = Json{{"FunctionName", name},
                       {"FunctionArn", FunctionArn(s.region, s.account, name)},
                       {"Runtime", ""},
                       {"Role", ""},
                       {"Handler", ""},
                       {"CodeSize", static_cast<int64_t>(zip.size())},
                       {"Description", ""},
                       {"Timeout", 3},
                       {"MemorySize", 128},
                       {"LastModified", LambdaTime(now)},
                       {"CodeSha256", Base64Encode(Sha256(zip))},
                       {"Version", "$LATEST"},
                       {"TracingConfig", Json{{"Mode", "PassThrough"}}},
                       {"RevisionId", NewUuid()},
                       {"State", "Active"},
                       {"LastUpdateStatus", "Successful"},
                       {"PackageType", "Zip"},
                       {"Architectures", Json::array({"x86_64"})},
                       {"EphemeralStorage", Json{{"Size", 512}}},
                       {"SnapStart", Json{{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}}},
                       {"LoggingConfig",
                        Json{{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + name}}}};
  rec["code_sha"] = sha;
  rec["layer_shas"] = Json::array();
  rec["tags"] = in.value("Tags", Json::object());
  rec["next_version"] = 1;
  STRATUS_RETURN_IF_ERROR(d.ApplyConfig(rec, in));
  // Extract now: a package that cannot be extracted fails the create, as on AWS.
  STRATUS_RETURN_IF_ERROR(d.code.Prime(sha, zip));
  bool publish = in.value("Publish", false);
  Json version_rec;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(FnKey(s, name)));
    if (existing) return ResourceConflict("Function already exist: " + name);
    STRATUS_RETURN_IF_ERROR(PutCode(txn, sha, zip));
    if (publish) {
      version_rec = d.NewVersion(s, rec, 1);
      rec["next_version"] = 2;
      rec["published_revision"] = rec["config"]["RevisionId"];
      STRATUS_RETURN_IF_ERROR(Touch(txn, sha, +1));
      STRATUS_RETURN_IF_ERROR(txn.Put(VerKey(s, name, 1), DumpJson(version_rec)));
    }
    return txn.Put(FnKey(s, name), DumpJson(rec));
  }));
  d.Changed(s, name, true);
  Json out = publish ? version_rec["config"] : rec["config"];
  // AWS reports a new function as Pending; here it is usable as soon as this returns, and the
  // next read says Active (SDK waiters poll for that).
  out["State"] = "Pending";
  out["StateReason"] = "The function is being created.";
  out["StateReasonCode"] = "Creating";
  return out;
}

Result<Json> Registry::GetFunctionConfiguration(const Scope& s, const FunctionRef& ref) {
  STRATUS_ASSIGN_OR_RETURN(Json rec, impl_->ReadVersion(s, ref.name, ref.qualifier));
  return rec["config"];
}

Result<Json> Registry::GetFunction(const Scope& s, const FunctionRef& ref) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  STRATUS_ASSIGN_OR_RETURN(Json rec, impl_->ReadVersion(s, ref.name, ref.qualifier));
  Json out = Json{{"Configuration", rec["config"]}, {"Code", Json{{"RepositoryType", "S3"}}}};
  if (!fn.value("tags", Json::object()).empty()) out["Tags"] = fn["tags"];
  if (Has(fn, "reserved")) out["Concurrency"] = Json{{"ReservedConcurrentExecutions", fn["reserved"]}};
  return out;
}

Result<Json> Registry::ListFunctions(const Scope& s, const Json& in) {
  size_t max = static_cast<size_t>(in.value("MaxItems", 50));
  std::string marker = in.value("Marker", "");
  store::ScanOptions opts = store::PrefixScan(FnPrefix(s));
  if (!marker.empty()) opts.start = FnKey(s, marker);
  opts.limit = max + 1;
  STRATUS_ASSIGN_OR_RETURN(auto rows, impl_->store.Scan(opts));
  Json fns = Json::array();
  Json out = Json::object();
  bool all_versions = in.value("FunctionVersion", "") == "ALL";
  for (size_t i = 0; i < rows.size(); ++i) {
    Json rec = ParseJsonOrDiscarded(rows[i].value);
    if (!rec.is_object()) continue;
    std::string name = rec["config"].value("FunctionName", "");
    if (i == max) {
      out["NextMarker"] = name;
      break;
    }
    fns.push_back(rec["config"]);
    if (all_versions) {
      STRATUS_ASSIGN_OR_RETURN(auto vs, impl_->store.Scan(store::PrefixScan(VerPrefix(s, name))));
      for (const auto& v : vs) {
        Json vr = ParseJsonOrDiscarded(v.value);
        if (vr.is_object()) fns.push_back(vr["config"]);
      }
    }
  }
  out["Functions"] = std::move(fns);
  return out;
}

Status Registry::DeleteFunction(const Scope& s, const FunctionRef& ref) {
  Impl& d = *impl_;
  if (!ref.qualifier.empty() && ref.qualifier != "$LATEST") {
    if (!IsVersionNumber(ref.qualifier)) {
      return InvalidParameterValue("Deletion of aliases is not supported by DeleteFunction; use DeleteAlias.");
    }
    int64_t v = *ParseInt64(ref.qualifier);
    STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
      STRATUS_ASSIGN_OR_RETURN(auto cur, txn.Get(VerKey(s, ref.name, v)));
      if (!cur) return FunctionNotFound(s, ref.name, ref.qualifier);
      STRATUS_ASSIGN_OR_RETURN(auto aliases, txn.Scan(store::PrefixScan(AliasPrefix(s, ref.name))));
      for (const auto& a : aliases) {
        Json alias = ParseJsonOrDiscarded(a.value);
        if (alias.is_object() && alias.value("FunctionVersion", "") == ref.qualifier) {
          return ResourceConflict("Unable to delete version because the following aliases reference it: [" +
                                  alias.value("Name", "") + "]");
        }
      }
      STRATUS_ASSIGN_OR_RETURN(Json rec, ParseRecord(cur));
      STRATUS_RETURN_IF_ERROR(Touch(txn, rec.value("code_sha", ""), -1));
      return txn.Delete(VerKey(s, ref.name, v));
    }));
    d.Changed(s, ref.name, true);
    return Status::Ok();
  }
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(Touch(txn, fn.value("code_sha", ""), -1));
    STRATUS_ASSIGN_OR_RETURN(auto versions, txn.Scan(store::PrefixScan(VerPrefix(s, ref.name))));
    for (const auto& v : versions) {
      Json rec = ParseJsonOrDiscarded(v.value);
      if (rec.is_object()) STRATUS_RETURN_IF_ERROR(Touch(txn, rec.value("code_sha", ""), -1));
    }
    const Json urls = fn.value("urls", Json::object());
    for (auto& [q, url] : urls.items()) {
      STRATUS_RETURN_IF_ERROR(txn.Delete(UrlKey(url.value("id", ""))));
    }
    for (const std::string& prefix : {VerPrefix(s, ref.name), AliasPrefix(s, ref.name)}) {
      auto n = txn.DeleteRange(prefix, store::PrefixEnd(prefix));
      if (!n.ok()) return n.error();
    }
    return txn.Delete(FnKey(s, ref.name));
  }));
  d.Changed(s, ref.name, true);
  return Status::Ok();
}

Result<Json> Registry::UpdateFunctionCode(const Scope& s, const FunctionRef& ref, const Json& in,
                                          const std::string& zip) {
  Impl& d = *impl_;
  if (Has(in, "ImageUri")) return NotSupported("ImageUri (container images)");
  if (zip.size() > kMaxZipUploadBytes) {
    return RequestTooLarge("Request must be smaller than 70167211 bytes for the UpdateFunctionCode operation");
  }
  STRATUS_ASSIGN_OR_RETURN(ZipSummary summary, InspectZip(zip));
  (void)summary;
  std::string sha = Sha256Hex(zip);
  STRATUS_RETURN_IF_ERROR(d.code.Prime(sha, zip));
  Json config;
  bool publish = in.value("Publish", false);
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(CheckRevision(in, fn["config"]));
    std::string old = fn.value("code_sha", "");
    STRATUS_RETURN_IF_ERROR(PutCode(txn, sha, zip));
    STRATUS_RETURN_IF_ERROR(Touch(txn, old, -1));
    fn["code_sha"] = sha;
    Json& c = fn["config"];
    c["CodeSha256"] = Base64Encode(Sha256(zip));
    c["CodeSize"] = static_cast<int64_t>(zip.size());
    c["LastModified"] = LambdaTime(d.clock.NowMillis());
    c["RevisionId"] = NewUuid();
    if (Has(in, "Architectures")) c["Architectures"] = in["Architectures"];
    config = c;
    if (publish) {
      int64_t v = fn.value("next_version", int64_t{1});
      Json vr = d.NewVersion(s, fn, v);
      fn["next_version"] = v + 1;
      fn["published_revision"] = c["RevisionId"];
      STRATUS_RETURN_IF_ERROR(Touch(txn, sha, +1));
      STRATUS_RETURN_IF_ERROR(txn.Put(VerKey(s, ref.name, v), DumpJson(vr)));
      config = vr["config"];
    }
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  d.Changed(s, ref.name, true);
  config["LastUpdateStatus"] = "InProgress";
  config["LastUpdateStatusReason"] = "The function is being created.";
  config["LastUpdateStatusReasonCode"] = "Creating";
  return config;
}

Result<Json> Registry::UpdateFunctionConfiguration(const Scope& s, const FunctionRef& ref,
                                                   const Json& in) {
  Impl& d = *impl_;
  STRATUS_RETURN_IF_ERROR(CheckUnsupported(in));
  Json config;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(CheckRevision(in, fn["config"]));
    STRATUS_RETURN_IF_ERROR(d.ApplyConfig(fn, in));
    fn["config"]["LastModified"] = LambdaTime(d.clock.NowMillis());
    fn["config"]["RevisionId"] = NewUuid();
    config = fn["config"];
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  d.Changed(s, ref.name, true);
  config["LastUpdateStatus"] = "InProgress";
  config["LastUpdateStatusReason"] = "The function is being updated.";
  config["LastUpdateStatusReasonCode"] = "InProgress";
  return config;
}

// ---- concurrency ---------------------------------------------------------------------------------

Result<Json> Registry::PutConcurrency(const Scope& s, const FunctionRef& ref, int64_t reserved) {
  Impl& d = *impl_;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    // The account keeps at least kMinUnreservedConcurrency unreserved.
    int64_t others = 0;
    STRATUS_ASSIGN_OR_RETURN(auto rows, txn.Scan(store::PrefixScan(FnPrefix(s))));
    for (const auto& r : rows) {
      Json f = ParseJsonOrDiscarded(r.value);
      if (!f.is_object() || f["config"].value("FunctionName", "") == ref.name) continue;
      if (Has(f, "reserved")) others += f["reserved"].get<int64_t>();
    }
    if (d.account_concurrency - others - reserved < kMinUnreservedConcurrency) {
      return InvalidParameterValue(
          "Specified ReservedConcurrentExecutions for function decreases account's "
          "UnreservedConcurrentExecution below its minimum value of [" +
          std::to_string(kMinUnreservedConcurrency) + "].");
    }
    fn["reserved"] = reserved;
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  d.Changed(s, ref.name, false);
  return Json{{"ReservedConcurrentExecutions", reserved}};
}

Result<Json> Registry::GetConcurrency(const Scope& s, const FunctionRef& ref) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  if (Has(fn, "reserved")) return Json{{"ReservedConcurrentExecutions", fn["reserved"]}};
  return Json::object();
}

Status Registry::DeleteConcurrency(const Scope& s, const FunctionRef& ref) {
  Impl& d = *impl_;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    fn.erase("reserved");
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  d.Changed(s, ref.name, false);
  return Status::Ok();
}

Result<Json> Registry::AccountSettings(const Scope& s) {
  STRATUS_ASSIGN_OR_RETURN(auto rows, impl_->store.Scan(store::PrefixScan(FnPrefix(s))));
  int64_t reserved = 0, code = 0;
  for (const auto& r : rows) {
    Json f = ParseJsonOrDiscarded(r.value);
    if (!f.is_object()) continue;
    if (Has(f, "reserved")) reserved += f["reserved"].get<int64_t>();
    code += f["config"].value("CodeSize", int64_t{0});
  }
  return Json{
      {"AccountLimit", Json{{"TotalCodeSize", int64_t{80530636800}},
                            {"CodeSizeUnzipped", static_cast<int64_t>(kMaxUnzippedBytes)},
                            {"CodeSizeZipped", static_cast<int64_t>(kMaxZipUploadBytes)},
                            {"ConcurrentExecutions", impl_->account_concurrency},
                            {"UnreservedConcurrentExecutions", impl_->account_concurrency - reserved}}},
      {"AccountUsage", Json{{"TotalCodeSize", code}, {"FunctionCount", static_cast<int64_t>(rows.size())}}}};
}

// ---- tags ----------------------------------------------------------------------------------------

Status Registry::TagResource(const Scope& s, const std::string& arn, const Json& tags) {
  STRATUS_ASSIGN_OR_RETURN(std::string name, FunctionFromArn(arn));
  return impl_->store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->LoadFunction(txn, s, name));
    Json& t = fn["tags"];
    if (!t.is_object()) t = Json::object();
    for (auto& [k, v] : tags.items()) t[k] = v;
    if (t.size() > kMaxTags) return InvalidParameterValue("Number of tags exceeds resource tag limit.");
    return txn.Put(FnKey(s, name), DumpJson(fn));
  });
}

Status Registry::UntagResource(const Scope& s, const std::string& arn, const Json& keys) {
  STRATUS_ASSIGN_OR_RETURN(std::string name, FunctionFromArn(arn));
  return impl_->store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->LoadFunction(txn, s, name));
    for (const auto& k : keys) {
      if (k.is_string() && fn["tags"].is_object()) fn["tags"].erase(k.get<std::string>());
    }
    return txn.Put(FnKey(s, name), DumpJson(fn));
  });
}

Result<Json> Registry::ListTags(const Scope& s, const std::string& arn) {
  STRATUS_ASSIGN_OR_RETURN(std::string name, FunctionFromArn(arn));
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, name));
  return Json{{"Tags", fn.value("tags", Json::object())}};
}

}  // namespace stratus::services::lambda
