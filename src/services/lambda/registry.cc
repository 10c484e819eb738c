// Registry core: the shared record helpers, Registry::Impl, construction, and resolving an
// invocation to what runs. The operations live in registry_*.cc (registry_internal.h lists them).
#include "services/lambda/registry_internal.h"

#include <cstdio>
#include <random>

#include "core/crypto.h"
#include "core/random.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/lambda/errors.h"
#include "services/lambda/runtimes.h"

namespace stratus::services::lambda {

namespace {

constexpr size_t kMaxEnvironmentBytes = 4096;

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

std::string Padded(int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%010lld", static_cast<long long>(v));
  return buf;
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

}  // namespace

std::string Base(const Scope& s) { return "lambda/" + s.account + "/" + s.region + "/"; }
std::string FnKey(const Scope& s, std::string_view n) { return Base(s) + "f/" + std::string(n); }
std::string FnPrefix(const Scope& s) { return Base(s) + "f/"; }
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

std::string LambdaTime(int64_t ms) {
  std::string iso = FormatIso8601(static_cast<double>(ms) / 1000.0, true);
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
  return iso + "+0000";
}

Error FunctionNotFound(const Scope& s, std::string_view name, std::string_view q) {
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

Status PutCode(store::WriteTxn& txn, const std::string& sha, const std::string& zip) {
  STRATUS_ASSIGN_OR_RETURN(auto cur, txn.Get(CodeKey(sha)));
  if (!cur) STRATUS_RETURN_IF_ERROR(txn.Put(CodeKey(sha), zip));
  return Touch(txn, sha, +1);
}

// ---- Registry::Impl ------------------------------------------------------------------------------

void Registry::Impl::Changed(const Scope& s, const std::string& name, bool retire) {
  std::string prefix = s.account + "/" + s.region + "/" + name + "/";
  {
    std::lock_guard lock(cache_mu);
    ++cache_generation;
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

Result<Json> Registry::Impl::LoadFunction(store::ReadTxn& txn, const Scope& s,
                                          const std::string& name) {
  STRATUS_ASSIGN_OR_RETURN(auto v, txn.Get(FnKey(s, name)));
  if (!v) return FunctionNotFound(s, name);
  return ParseRecord(v);
}

Result<Json> Registry::Impl::ReadFunction(const Scope& s, const std::string& name) {
  STRATUS_ASSIGN_OR_RETURN(auto v, store.Get(FnKey(s, name)));
  if (!v) return FunctionNotFound(s, name);
  return ParseRecord(v);
}

Result<Json> Registry::Impl::ReadVersion(const Scope& s, const std::string& name,
                                         const std::string& q) {
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

Status Registry::Impl::CheckQualifier(store::ReadTxn& txn, const Scope& s,
                                      const FunctionRef& ref) {
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

Status Registry::Impl::ResolveLayers(const Json& layers, std::vector<std::string>& shas,
                                     Json& out) {
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

Status Registry::Impl::ApplyConfig(Json& rec, const Json& in) {
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

std::shared_ptr<FunctionSpec> Registry::Impl::SpecFrom(const Scope& s, const Json& fn,
                                                       const Json& rec,
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

Json Registry::Impl::NewVersion(const Scope& s, const Json& fn, int64_t v) {
  Json vr{{"config", fn["config"]}, {"code_sha", fn["code_sha"]}, {"layer_shas", fn["layer_shas"]}};
  vr["config"]["Version"] = std::to_string(v);
  vr["config"]["FunctionArn"] =
      FunctionArn(s.region, s.account, fn["config"].value("FunctionName", ""), std::to_string(v));
  vr["config"]["RevisionId"] = NewUuid();
  return vr;
}

Registry::Registry(store::Store& store, const Clock& clock, CodeCache& code,
                   std::function<void(const std::string&, const std::string&)> on_change,
                   int account_concurrency)
    : impl_(std::make_shared<Impl>(store, clock, code, std::move(on_change), account_concurrency)) {}

Result<std::string> Registry::LoadZip(const std::string& sha) {
  STRATUS_ASSIGN_OR_RETURN(auto v, impl_->store.Get(CodeKey(sha)));
  if (!v) return InternalFailure("the code package " + sha + " is missing from the store");
  return std::move(*v);
}

// ---- invocation ----------------------------------------------------------------------------------

Result<Target> Registry::Resolve(const Scope& s, const FunctionRef& ref) {
  Impl& d = *impl_;
  std::string qualifier = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  Target t;
  t.invoked_arn = FunctionArn(s.region, s.account, ref.name, ref.qualifier);
  std::string version = qualifier;
  std::string base;  // one buffer, with room for the version appended below
  base.reserve(s.account.size() + s.region.size() + ref.name.size() + 3 + 16);
  base.append(s.account).append("/").append(s.region).append("/").append(ref.name).append("/");
  if (qualifier != "$LATEST" && !IsVersionNumber(qualifier)) {
    Json alias;
    uint64_t generation = 0;
    {
      std::lock_guard lock(d.cache_mu);
      auto it = d.alias_cache.find(base + "alias:" + qualifier);
      if (it != d.alias_cache.end()) alias = it->second;
      generation = d.cache_generation;
    }
    if (alias.is_null()) {
      STRATUS_ASSIGN_OR_RETURN(auto a, d.store.Get(AliasKey(s, ref.name, qualifier)));
      if (!a) return FunctionNotFound(s, ref.name, qualifier);
      alias = ParseJsonOrDiscarded(*a);
      std::lock_guard lock(d.cache_mu);
      if (d.cache_generation == generation) d.alias_cache[base + "alias:" + qualifier] = alias;
    }
    version = alias.value("FunctionVersion", "$LATEST");
    // Routing weights apply per invocation.
    if (Has(alias, "RoutingConfig")) {
      std::mt19937_64& rng = ThreadRng();
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
  uint64_t generation = 0;
  {
    size_t base_size = base.size();
    base.append(version);  // the cache key: acct/region/name/version
    std::lock_guard lock(d.cache_mu);
    generation = d.cache_generation;
    auto it = d.cache.find(base);
    base.resize(base_size);
    if (it != d.cache.end()) {
      t.spec = it->second;
      t.executed_version = std::move(version);
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
    if (d.cache_generation == generation) d.cache[base + version] = spec;  // else this invocation only
  }
  t.spec = std::move(spec);
  t.executed_version = version;
  return t;
}

}  // namespace stratus::services::lambda
