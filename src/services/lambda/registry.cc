#include "services/lambda/registry.h"

#include <cstdio>
#include <map>
#include <random>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/lambda/errors.h"
#include "services/lambda/runtimes.h"
#include "services/lambda/zip_archive.h"

namespace stratus::services::lambda {

namespace {

constexpr char kSep = '\0';
constexpr int64_t kMaxVersions = 9'999'999;
constexpr size_t kMaxEnvironmentBytes = 4096;
constexpr size_t kMaxPolicyBytes = 20 * 1024;
constexpr size_t kMaxTags = 50;

// Reserved environment variables a function may not set (AWS's list).
constexpr std::string_view kReservedEnv[] = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};

const char* const kRevisionMismatch =
    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
    "API to retrieve the latest Revision Id";

bool Has(const Json& j, std::string_view k) {
  auto it = j.find(std::string(k));
  return it != j.end() && !it->is_null();
}

std::string Base(const Scope& s) { return "lambda/" + s.account + "/" + s.region + "/"; }
std::string FnKey(const Scope& s, std::string_view n) { return Base(s) + "f/" + std::string(n); }
std::string FnPrefix(const Scope& s) { return Base(s) + "f/"; }
std::string Padded(int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%010lld", static_cast<long long>(v));
  return buf;
}
std::string VerPrefix(const Scope& s, std::string_view n) {
  return Base(s) + "v/" + std::string(n) + kSep;
}
std::string VerKey(const Scope& s, std::string_view n, int64_t v) {
  return VerPrefix(s, n) + Padded(v);
}
std::string AliasPrefix(const Scope& s, std::string_view n) {
  return Base(s) + "a/" + std::string(n) + kSep;
}
std::string AliasKey(const Scope& s, std::string_view n, std::string_view a) {
  return AliasPrefix(s, n) + std::string(a);
}
std::string LayerPrefix(const Scope& s, std::string_view n) {
  return Base(s) + "l/" + std::string(n) + kSep;
}
std::string LayerKey(const Scope& s, std::string_view n, int64_t v) {
  return LayerPrefix(s, n) + Padded(v);
}
std::string LayerCounterKey(const Scope& s, std::string_view n) {
  return Base(s) + "lv/" + std::string(n);
}
std::string CodeKey(std::string_view sha) { return "lambda/code/" + std::string(sha); }
std::string CodeRefKey(std::string_view sha) { return "lambda/coderefs/" + std::string(sha); }
std::string UrlKey(std::string_view id) { return "lambda/url/" + std::string(id); }

// Lambda's timestamp format: 2024-01-31T12:34:56.789+0000.
std::string LambdaTime(int64_t ms) {
  std::string iso = FormatIso8601(static_cast<double>(ms) / 1000.0, true);
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
  return iso + "+0000";
}

Error FunctionNotFound(const Scope& s, std::string_view name, std::string_view q = {}) {
  return ResourceNotFound("Function not found: " + FunctionArn(s.region, s.account, name, q));
}

Result<Json> ParseRecord(const std::optional<std::string>& v) {
  Json j = ParseJsonOrDiscarded(*v);
  if (!j.is_object()) return InternalFailure("corrupt lambda record");
  return j;
}

Status CheckRevision(const Json& in, const Json& current) {
  std::string want = in.value("RevisionId", "");
  if (!want.empty() && want != current.value("RevisionId", "")) {
    return PreconditionFailed(kRevisionMismatch);
  }
  return Status::Ok();
}

// Adjusts the reference count of a zip; the zip goes when nothing uses it.
Status Touch(store::WriteTxn& txn, std::string_view sha, int delta) {
  if (sha.empty()) return Status::Ok();
  STRATUS_ASSIGN_OR_RETURN(auto cur, txn.Get(CodeRefKey(sha)));
  int64_t n = cur ? ParseInt64(*cur).value_or(0) : 0;
  n += delta;
  if (n <= 0) {
    STRATUS_RETURN_IF_ERROR(txn.Delete(CodeRefKey(sha)));
    return txn.Delete(CodeKey(sha));
  }
  return txn.Put(CodeRefKey(sha), std::to_string(n));
}

// Stores `zip` (if new) and takes a reference on it.
Status PutCode(store::WriteTxn& txn, const std::string& sha, const std::string& zip) {
  STRATUS_ASSIGN_OR_RETURN(auto cur, txn.Get(CodeKey(sha)));
  if (!cur) STRATUS_RETURN_IF_ERROR(txn.Put(CodeKey(sha), zip));
  return Touch(txn, sha, +1);
}

Status CheckEnvironment(const Json& input) {
  if (!Has(input, "Environment")) return Status::Ok();
  const Json vars = input["Environment"].value("Variables", Json::object());
  std::vector<std::string> reserved;
  size_t bytes = 0;
  for (auto it = vars.begin(); it != vars.end(); ++it) {
    for (auto r : kReservedEnv) {
      if (it.key() == r) reserved.push_back(it.key());
    }
    bytes += it.key().size() + (it.value().is_string() ? it.value().get<std::string>().size() : 0);
  }
  if (!reserved.empty()) {
    return InvalidParameterValue(
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported for "
        "modification. Reserved keys used in this request: " + Join(reserved, ", "));
  }
  if (bytes > kMaxEnvironmentBytes) {
    return InvalidParameterValue(
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided exceeded the 4KB limit. String measured: " + DumpJson(vars));
  }
  return Status::Ok();
}

Status CheckRuntime(const std::string& runtime) {
  if (FindRuntime(runtime)) return Status::Ok();
  if (IsDeprecatedRuntime(runtime)) {
    return InvalidParameterValue(
        "The runtime parameter of " + runtime +
        " is no longer supported for creating or updating AWS Lambda functions. We recommend you "
        "use a supported runtime while creating or updating functions.");
  }
  std::vector<std::string> ids;
  for (auto r : SupportedRuntimes()) ids.emplace_back(r);
  return InvalidParameterValue("The runtime parameter of " + runtime +
                               " is not supported by stratus; supported runtimes: " +
                               Join(ids, ", ") + " (see docs/lambda.md).");
}

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

struct Registry::Impl {
  store::Store& store;
  const Clock& clock;
  CodeCache& code;
  std::function<void(const std::string&, const std::string&)> on_change;
  int account_concurrency;

  std::mutex cache_mu;  // guards cache and alias_cache
  std::unordered_map<std::string, std::shared_ptr<const FunctionSpec>> cache;  // acct/region/name/version
  std::unordered_map<std::string, Json> alias_cache;  // acct/region/name/alias:<alias>
  std::unordered_map<std::string, UrlTarget> url_cache;  // by URL id

  Impl(store::Store& st, const Clock& c, CodeCache& cc,
       std::function<void(const std::string&, const std::string&)> oc, int ac)
      : store(st), clock(c), code(cc), on_change(std::move(oc)), account_concurrency(ac) {}

  // Drops cached targets of the function; with `retire`, its running instances end too (their
  // configuration or code is no longer current).
  void Changed(const Scope& s, const std::string& name, bool retire) {
    std::string prefix = s.account + "/" + s.region + "/" + name + "/";
    {
      std::lock_guard lock(cache_mu);
      for (auto it = cache.begin(); it != cache.end();) {
        it = StartsWith(it->first, prefix) ? cache.erase(it) : std::next(it);
      }
      for (auto it = alias_cache.begin(); it != alias_cache.end();) {
        it = StartsWith(it->first, prefix) ? alias_cache.erase(it) : std::next(it);
      }
      for (auto it = url_cache.begin(); it != url_cache.end();) {
        const UrlTarget& t = it->second;
        bool match = t.scope.account == s.account && t.scope.region == s.region && t.name == name;
        it = match ? url_cache.erase(it) : std::next(it);
      }
    }
    if (retire && on_change) on_change(s.account + "/" + s.region + "/" + name, "");
  }

  Result<Json> LoadFunction(store::ReadTxn& txn, const Scope& s, const std::string& name) {
    STRATUS_ASSIGN_OR_RETURN(auto v, txn.Get(FnKey(s, name)));
    if (!v) return FunctionNotFound(s, name);
    return ParseRecord(v);
  }

  Result<Json> ReadFunction(const Scope& s, const std::string& name) {
    STRATUS_ASSIGN_OR_RETURN(auto v, store.Get(FnKey(s, name)));
    if (!v) return FunctionNotFound(s, name);
    return ParseRecord(v);
  }

  // The record of `q`: $LATEST (the function record), a version, or an alias' version.
  Result<Json> ReadVersion(const Scope& s, const std::string& name, const std::string& q) {
    STRATUS_ASSIGN_OR_RETURN(Json fn, ReadFunction(s, name));
    if (q.empty() || q == "$LATEST") return fn;
    std::string version = q;
    if (!IsVersionNumber(q)) {
      STRATUS_ASSIGN_OR_RETURN(auto a, store.Get(AliasKey(s, name, q)));
      if (!a) return FunctionNotFound(s, name, q);
      STRATUS_ASSIGN_OR_RETURN(Json alias, ParseRecord(a));
      version = alias.value("FunctionVersion", "$LATEST");
      if (version == "$LATEST") return fn;
    }
    STRATUS_ASSIGN_OR_RETURN(auto v, store.Get(VerKey(s, name, ParseInt64(version).value_or(0))));
    if (!v) return FunctionNotFound(s, name, q);
    return ParseRecord(v);
  }

  // Qualifier must name an existing version or alias ($LATEST and "" always exist).
  Status CheckQualifier(store::ReadTxn& txn, const Scope& s, const FunctionRef& ref) {
    if (ref.qualifier.empty() || ref.qualifier == "$LATEST") return Status::Ok();
    std::optional<std::string> v;
    if (IsVersionNumber(ref.qualifier)) {
      STRATUS_ASSIGN_OR_RETURN(v, txn.Get(VerKey(s, ref.name, *ParseInt64(ref.qualifier))));
    } else {
      STRATUS_ASSIGN_OR_RETURN(v, txn.Get(AliasKey(s, ref.name, ref.qualifier)));
    }
    if (!v) return FunctionNotFound(s, ref.name, ref.qualifier);
    return Status::Ok();
  }

  // Resolves layer version ARNs to their zips' hashes and the Layers output.
  Status ResolveLayers(const Json& layers, std::vector<std::string>& shas, Json& out) {
    out = Json::array();
    if (!layers.is_array()) return Status::Ok();
    if (layers.size() > 5) return InvalidParameterValue("Cannot reference more than 5 layers.");
    for (const auto& l : layers) {
      std::string arn = l.is_string() ? l.get<std::string>() : "";
      auto parts = Split(arn, ':');
      if (parts.size() != 8 || parts[5] != "layer" || !IsVersionNumber(parts[7])) {
        return InvalidParameterValue("Layer version " + arn + " does not exist.");
      }
      STRATUS_ASSIGN_OR_RETURN(
          auto v, store.Get(LayerKey(Scope{parts[4], parts[3]}, parts[6], *ParseInt64(parts[7]))));
      if (!v) return InvalidParameterValue("Layer version " + arn + " does not exist.");
      STRATUS_ASSIGN_OR_RETURN(Json rec, ParseRecord(v));
      shas.push_back(rec.value("sha", ""));
      out.push_back(Json{{"Arn", arn}, {"CodeSize", rec["out"]["Content"].value("CodeSize", int64_t{0})}});
    }
    return Status::Ok();
  }

  // Applies the configuration members of `in` to a function record (create and update).
  Status ApplyConfig(Json& rec, const Json& in) {
    Json& c = rec["config"];
    if (Has(in, "Runtime")) STRATUS_RETURN_IF_ERROR(CheckRuntime(in["Runtime"].get<std::string>()));
    for (const char* k : {"Role", "Handler", "Description", "Runtime", "KMSKeyArn", "Timeout",
                          "MemorySize", "Architectures"}) {
      if (Has(in, k)) c[k] = in[k];
    }
    if (Has(in, "Environment")) {
      STRATUS_RETURN_IF_ERROR(CheckEnvironment(in));
      c["Environment"] = Json{{"Variables", in["Environment"].value("Variables", Json::object())}};
    }
    if (Has(in, "TracingConfig")) {
      c["TracingConfig"] = Json{{"Mode", in["TracingConfig"].value("Mode", "PassThrough")}};
    }
    if (Has(in, "DeadLetterConfig")) {
      std::string target = in["DeadLetterConfig"].value("TargetArn", "");
      if (target.empty()) {
        c.erase("DeadLetterConfig");
      } else {
        if (target.find(":sqs:") == std::string::npos && target.find(":sns:") == std::string::npos) {
          return InvalidParameterValue("The provided target ARN " + target +
                                       " is not a valid SQS queue or SNS topic ARN.");
        }
        c["DeadLetterConfig"] = Json{{"TargetArn", target}};
      }
    }
    if (Has(in, "EphemeralStorage")) {
      c["EphemeralStorage"] = Json{{"Size", in["EphemeralStorage"].value("Size", 512)}};
    }
    if (Has(in, "Layers")) {
      std::vector<std::string> shas;
      Json out;
      STRATUS_RETURN_IF_ERROR(ResolveLayers(in["Layers"], shas, out));
      rec["layer_shas"] = shas;
      if (out.empty()) {
        c.erase("Layers");
      } else {
        c["Layers"] = out;
      }
    }
    if (Has(in, "LoggingConfig")) {
      Json lc = c.value("LoggingConfig", Json::object());
      for (auto it = in["LoggingConfig"].begin(); it != in["LoggingConfig"].end(); ++it) {
        lc[it.key()] = it.value();
      }
      if (lc.value("LogFormat", "Text") != "Text") return NotSupported("LoggingConfig LogFormat JSON");
      c["LoggingConfig"] = lc;
    }
    return Status::Ok();
  }

  std::shared_ptr<FunctionSpec> SpecFrom(const Scope& s, const Json& fn, const Json& rec,
                                         const std::string& version) {
    const Json& c = rec["config"];
    auto spec = std::make_shared<FunctionSpec>();
    spec->account = s.account;
    spec->region = s.region;
    spec->name = c.value("FunctionName", "");
    spec->version = version;
    spec->function_arn = FunctionArn(s.region, s.account, spec->name);
    spec->runtime = c.value("Runtime", "");
    spec->handler = c.value("Handler", "");
    spec->role = c.value("Role", "");
    spec->timeout_s = c.value("Timeout", 3);
    spec->memory_mb = c.value("MemorySize", 128);
    spec->ephemeral_mb = Has(c, "EphemeralStorage") ? c["EphemeralStorage"].value("Size", 512) : 512;
    if (Has(c, "Environment")) {
      const Json vars = c["Environment"].value("Variables", Json::object());
      for (auto& [k, v] : vars.items()) {
        spec->env.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    spec->code_sha = rec.value("code_sha", "");
    spec->layer_shas = rec.value("layer_shas", std::vector<std::string>{});
    spec->log_group = Has(c, "LoggingConfig")
                          ? c["LoggingConfig"].value("LogGroup", "/aws/lambda/" + spec->name)
                          : "/aws/lambda/" + spec->name;
    if (Has(fn, "reserved")) spec->reserved_concurrency = fn["reserved"].get<int>();
    spec->revision = c.value("RevisionId", "") + "/" + (Has(fn, "reserved") ? fn["reserved"].dump() : "");
    return spec;
  }

  Json PolicyOf(const Json& fn, const std::string& q) {
    if (!Has(fn, "policies")) return Json();
    auto it = fn["policies"].find(q);
    return it == fn["policies"].end() ? Json() : *it;
  }

  std::string UrlFor(const std::string& id, const std::string& region, const std::string& base) {
    std::string port;
    if (auto colon = base.rfind(':'); colon != std::string::npos) port = base.substr(colon);
    return "http://" + id + ".lambda-url." + region + ".localhost" + port + "/";
  }

  // A published version record made from the function's current $LATEST.
  Json NewVersion(const Scope& s, const Json& fn, int64_t v) {
    Json vr{{"config", fn["config"]}, {"code_sha", fn["code_sha"]}, {"layer_shas", fn["layer_shas"]}};
    vr["config"]["Version"] = std::to_string(v);
    vr["config"]["FunctionArn"] =
        FunctionArn(s.region, s.account, fn["config"].value("FunctionName", ""), std::to_string(v));
    vr["config"]["RevisionId"] = NewUuid();
    return vr;
  }
};

Registry::Registry(store::Store& store, const Clock& clock, CodeCache& code,
                   std::function<void(const std::string&, const std::string&)> on_change,
                   int account_concurrency)
    : impl_(std::make_shared<Impl>(store, clock, code, std::move(on_change), account_concurrency)) {}

Result<std::string> Registry::LoadZip(const std::string& sha) {
  STRATUS_ASSIGN_OR_RETURN(auto v, impl_->store.Get(CodeKey(sha)));
  if (!v) return InternalFailure("the code package " + sha + " is missing from the store");
  return std::move(*v);
}

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

// ---- policies ------------------------------------------------------------------------------------

Result<Json> Registry::AddPermission(const Scope& s, const FunctionRef& ref, const Json& in) {
  Impl& d = *impl_;
  std::string sid = in.value("StatementId", "");
  std::string principal = in.value("Principal", "");
  Json statement{{"Sid", sid}, {"Effect", "Allow"}};
  if (principal == "*") {
    statement["Principal"] = "*";
  } else if (principal.find(".amazonaws.com") != std::string::npos) {
    statement["Principal"] = Json{{"Service", principal}};
  } else {
    std::string p = principal;
    if (IsVersionNumber(p) && p.size() == 12) p = "arn:aws:iam::" + p + ":root";
    statement["Principal"] = Json{{"AWS", p}};
  }
  statement["Action"] = in.value("Action", "");
  statement["Resource"] = FunctionArn(s.region, s.account, ref.name, ref.qualifier);
  Json condition = Json::object();
  if (Has(in, "SourceArn")) condition["ArnLike"] = Json{{"AWS:SourceArn", in["SourceArn"]}};
  if (Has(in, "SourceAccount")) condition["StringEquals"]["AWS:SourceAccount"] = in["SourceAccount"];
  if (Has(in, "PrincipalOrgID")) condition["StringEquals"]["aws:PrincipalOrgID"] = in["PrincipalOrgID"];
  if (Has(in, "EventSourceToken")) {
    condition["StringEquals"]["lambda:EventSourceToken"] = in["EventSourceToken"];
  }
  if (Has(in, "FunctionUrlAuthType")) {
    condition["StringEquals"]["lambda:FunctionUrlAuthType"] = in["FunctionUrlAuthType"];
  }
  if (!condition.empty()) statement["Condition"] = condition;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(d.CheckQualifier(txn, s, ref));
    STRATUS_RETURN_IF_ERROR(CheckRevision(in, fn["config"]));
    Json& list = fn["policies"][ref.qualifier];
    if (!list.is_array()) list = Json::array();
    for (const auto& st : list) {
      if (st.value("Sid", "") == sid) {
        return ResourceConflict("The statement id (" + sid +
                                ") provided already exists. Please provide a new statement id, or "
                                "remove the existing statement.");
      }
    }
    list.push_back(statement);
    if (DumpJson(list).size() > kMaxPolicyBytes) {
      return Error("PolicyLengthExceededException", "The final policy size is bigger than the limit.", 400);
    }
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  return Json{{"Statement", DumpJson(statement)}};
}

Status Registry::RemovePermission(const Scope& s, const FunctionRef& ref, const std::string& sid,
                                  const std::string& revision) {
  Impl& d = *impl_;
  return d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(CheckRevision(Json{{"RevisionId", revision}}, fn["config"]));
    Json list = d.PolicyOf(fn, ref.qualifier);
    if (!list.is_array() || list.empty()) {
      return ResourceNotFound("No policy is associated with the given resource.");
    }
    Json kept = Json::array();
    bool removed = false;
    for (auto& st : list) {
      if (st.value("Sid", "") == sid) {
        removed = true;
      } else {
        kept.push_back(st);
      }
    }
    if (!removed) return ResourceNotFound("Statement " + sid + " is not found in resource policy.");
    if (kept.empty()) {
      fn["policies"].erase(ref.qualifier);
    } else {
      fn["policies"][ref.qualifier] = kept;
    }
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  });
}

Result<Json> Registry::GetPolicy(const Scope& s, const FunctionRef& ref) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  Json list = impl_->PolicyOf(fn, ref.qualifier);
  if (!list.is_array() || list.empty()) {
    return ResourceNotFound("The resource you requested does not exist.");
  }
  Json policy{{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", list}};
  return Json{{"Policy", DumpJson(policy)}, {"RevisionId", fn["config"].value("RevisionId", "")}};
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
    out = Json{{"FunctionUrl", d.UrlFor(id, s.region, base_host)},
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
  Json out{{"FunctionUrl", impl_->UrlFor(cfg.value("id", ""), s.region, base_host)},
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
  {
    std::lock_guard lock(impl_->cache_mu);
    auto it = impl_->url_cache.find(url_id);
    if (it != impl_->url_cache.end()) return it->second;
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
  impl_->url_cache[url_id] = t;
  return t;
}

// ---- event invoke configs ------------------------------------------------------------------------

Result<Json> Registry::PutEventInvokeConfig(const Scope& s, const FunctionRef& ref, const Json& in,
                                            bool merge) {
  Impl& d = *impl_;
  std::string q = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  if (Has(in, "DestinationConfig")) {
    for (const char* k : {"OnSuccess", "OnFailure"}) {
      std::string dest = Has(in["DestinationConfig"], k)
                             ? in["DestinationConfig"][k].value("Destination", "")
                             : "";
      if (dest.empty()) continue;
      auto parts = Split(dest, ':');
      std::string service = parts.size() > 2 ? parts[2] : "";
      if (parts.size() < 6 || parts[0] != "arn" ||
          (service != "sqs" && service != "sns" && service != "lambda" && service != "events" &&
           service != "s3")) {
        return InvalidParameterValue("The destination ARN " + dest + " is invalid.");
      }
      if (service == "events" || service == "s3") {
        return NotSupported("Destinations of type " + service);
      }
    }
  }
  Json out;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(d.CheckQualifier(txn, s, ref));
    Json& all = fn["eic"];
    if (!all.is_object()) all = Json::object();
    if (merge && !all.contains(q)) {
      return ResourceNotFound("The function " + FunctionArn(s.region, s.account, ref.name, q) +
                              " doesn't have an EventInvokeConfig");
    }
    Json cfg = merge ? all[q] : Json::object();
    for (const char* k : {"MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"}) {
      if (Has(in, k)) cfg[k] = in[k];
    }
    if (!Has(cfg, "DestinationConfig")) {
      cfg["DestinationConfig"] = Json{{"OnSuccess", Json::object()}, {"OnFailure", Json::object()}};
    }
    cfg["LastModified"] = static_cast<double>(d.clock.NowMillis()) / 1000.0;
    cfg["FunctionArn"] = FunctionArn(s.region, s.account, ref.name, q);
    all[q] = cfg;
    out = cfg;
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  return out;
}

Result<Json> Registry::GetEventInvokeConfig(const Scope& s, const FunctionRef& ref) {
  std::string q = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  auto all = fn.value("eic", Json::object());
  if (!all.contains(q)) {
    return ResourceNotFound("The function " + FunctionArn(s.region, s.account, ref.name, q) +
                            " doesn't have an EventInvokeConfig");
  }
  return all[q];
}

Status Registry::DeleteEventInvokeConfig(const Scope& s, const FunctionRef& ref) {
  std::string q = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  return impl_->store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->LoadFunction(txn, s, ref.name));
    if (!Has(fn, "eic") || !fn["eic"].contains(q)) {
      return ResourceNotFound("The function " + FunctionArn(s.region, s.account, ref.name, q) +
                              " doesn't have an EventInvokeConfig");
    }
    fn["eic"].erase(q);
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  });
}

Result<Json> Registry::ListEventInvokeConfigs(const Scope& s, const FunctionRef& ref) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  Json list = Json::array();
  const Json configs = fn.value("eic", Json::object());
  for (auto& [q, cfg] : configs.items()) list.push_back(cfg);
  return Json{{"FunctionEventInvokeConfigs", std::move(list)}};
}

Json Registry::EventInvokeConfigFor(const Scope& s, const std::string& name,
                                    const std::string& qualifier) {
  auto fn = impl_->ReadFunction(s, name);
  if (!fn.ok()) return Json();
  auto all = fn->value("eic", Json::object());
  std::string q = qualifier.empty() ? "$LATEST" : qualifier;
  return all.contains(q) ? all[q] : Json();
}

std::string Registry::DeadLetterTarget(const Scope& s, const std::string& name,
                                       const std::string& version) {
  auto rec = impl_->ReadVersion(s, name, version);
  if (!rec.ok()) return {};
  const Json& c = (*rec)["config"];
  return Has(c, "DeadLetterConfig") ? c["DeadLetterConfig"].value("TargetArn", "") : "";
}

// ---- invocation ----------------------------------------------------------------------------------

Result<Target> Registry::Resolve(const Scope& s, const FunctionRef& ref) {
  Impl& d = *impl_;
  std::string qualifier = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  Target t;
  t.invoked_arn = FunctionArn(s.region, s.account, ref.name, ref.qualifier);
  std::string version = qualifier;
  std::string base = s.account + "/" + s.region + "/" + ref.name + "/";
  if (qualifier != "$LATEST" && !IsVersionNumber(qualifier)) {
    Json alias;
    {
      std::lock_guard lock(d.cache_mu);
      auto it = d.alias_cache.find(base + "alias:" + qualifier);
      if (it != d.alias_cache.end()) alias = it->second;
    }
    if (alias.is_null()) {
      STRATUS_ASSIGN_OR_RETURN(auto a, d.store.Get(AliasKey(s, ref.name, qualifier)));
      if (!a) return FunctionNotFound(s, ref.name, qualifier);
      alias = ParseJsonOrDiscarded(*a);
      std::lock_guard lock(d.cache_mu);
      d.alias_cache[base + "alias:" + qualifier] = alias;
    }
    version = alias.value("FunctionVersion", "$LATEST");
    // Routing weights apply per invocation.
    if (Has(alias, "RoutingConfig")) {
      thread_local std::mt19937_64 rng{std::random_device{}()};
      double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      const Json weights = alias["RoutingConfig"].value("AdditionalVersionWeights", Json::object());
      for (auto& [v, w] : weights.items()) {
        if (!w.is_number()) continue;
        if (r < w.get<double>()) {
          version = v;
          break;
        }
        r -= w.get<double>();
      }
    }
  }
  {
    std::lock_guard lock(d.cache_mu);
    auto it = d.cache.find(base + version);
    if (it != d.cache.end()) {
      t.spec = it->second;
      t.executed_version = version;
      return t;
    }
  }
  STRATUS_ASSIGN_OR_RETURN(Json fn, d.ReadFunction(s, ref.name));
  Json rec = fn;
  if (version != "$LATEST") {
    STRATUS_ASSIGN_OR_RETURN(auto v, d.store.Get(VerKey(s, ref.name, ParseInt64(version).value_or(-1))));
    if (!v) return FunctionNotFound(s, ref.name, qualifier);
    STRATUS_ASSIGN_OR_RETURN(rec, ParseRecord(v));
  }
  auto spec = d.SpecFrom(s, fn, rec, version);
  {
    std::lock_guard lock(d.cache_mu);
    d.cache[base + version] = spec;
  }
  t.spec = std::move(spec);
  t.executed_version = version;
  return t;
}

}  // namespace stratus::services::lambda
