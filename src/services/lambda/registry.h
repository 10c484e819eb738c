#pragma once
// The Lambda control plane on store::Store: functions, published versions, aliases, reserved
// concurrency, resource policies, tags, layers, function URLs and event invoke configs. Plain
// logic callable without a server; the service's handlers adapt requests to it. Inputs and
// outputs are the API's shapes in canonical JSON (aws/protocol/codec.h).
//
// Keys (names cannot contain NUL, which separates them):
//   lambda/<acct>/<region>/f/<name>                   function: $LATEST config + everything
//                                                     attached to the function (JSON)
//   lambda/<acct>/<region>/v/<name>\0<%010d version>  a published version (JSON)
//   lambda/<acct>/<region>/a/<name>\0<alias>          an alias (JSON)
//   lambda/<acct>/<region>/l/<layer>\0<%010d version> a layer version (JSON)
//   lambda/code/<sha256 hex>                          a code or layer zip (bytes, shared by
//                                                     content)
//   lambda/coderefs/<sha256 hex>                      how many records use that zip
//   lambda/url/<url id>                               function URL → function (JSON)
//
// Thread-safe: every call is one store transaction; resolved invocation targets are cached in
// memory and dropped whenever the function changes (OnChange).
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/lambda/code_cache.h"
#include "services/lambda/function_name.h"
#include "services/lambda/function_spec.h"
#include "store/store.h"

namespace stratus::services::lambda {

struct Scope {
  std::string account;
  std::string region;
};

// Lambda's account-level quotas stratus applies.
inline constexpr int kDefaultAccountConcurrency = 1000;
inline constexpr int kMinUnreservedConcurrency = 100;
inline constexpr size_t kMaxZipUploadBytes = 50 * 1024 * 1024;

// What an invocation resolved to.
struct Target {
  std::shared_ptr<const FunctionSpec> spec;
  std::string executed_version;  // "$LATEST" or the version number
  std::string invoked_arn;       // as named (qualified when a qualifier was given)
};

// Where a function URL leads.
struct UrlTarget {
  Scope scope;
  std::string name;
  std::string qualifier;
  std::string auth_type;
  Json cors;
};

class Registry {
 public:
  // `on_change(function_key, revision)` runs after any committed change to a function
  // (revision "" when deleted), so running instances of old revisions can retire.
  Registry(store::Store& store, const Clock& clock, CodeCache& code,
           std::function<void(const std::string&, const std::string&)> on_change,
           int account_concurrency = kDefaultAccountConcurrency);

  // Functions. `zip` is the decoded package (Code.ZipFile, or fetched from S3 by the caller).
  Result<Json> CreateFunction(const Scope& s, const Json& input, const std::string& zip);
  Result<Json> GetFunction(const Scope& s, const FunctionRef& ref);
  Result<Json> GetFunctionConfiguration(const Scope& s, const FunctionRef& ref);
  Result<Json> ListFunctions(const Scope& s, const Json& input);
  Status DeleteFunction(const Scope& s, const FunctionRef& ref);
  Result<Json> UpdateFunctionCode(const Scope& s, const FunctionRef& ref, const Json& input,
                                  const std::string& zip);
  Result<Json> UpdateFunctionConfiguration(const Scope& s, const FunctionRef& ref,
                                           const Json& input);

  // Versions and aliases.
  Result<Json> PublishVersion(const Scope& s, const FunctionRef& ref, const Json& input);
  Result<Json> ListVersions(const Scope& s, const FunctionRef& ref, const Json& input);
  Result<Json> CreateAlias(const Scope& s, const FunctionRef& ref, const Json& input);
  Result<Json> GetAlias(const Scope& s, const FunctionRef& ref, const std::string& alias);
  Result<Json> UpdateAlias(const Scope& s, const FunctionRef& ref, const std::string& alias,
                           const Json& input);
  Status DeleteAlias(const Scope& s, const FunctionRef& ref, const std::string& alias);
  Result<Json> ListAliases(const Scope& s, const FunctionRef& ref, const Json& input);

  // Concurrency.
  Result<Json> PutConcurrency(const Scope& s, const FunctionRef& ref, int64_t reserved);
  Result<Json> GetConcurrency(const Scope& s, const FunctionRef& ref);
  Status DeleteConcurrency(const Scope& s, const FunctionRef& ref);
  Result<Json> AccountSettings(const Scope& s);

  // Resource policies.
  Result<Json> AddPermission(const Scope& s, const FunctionRef& ref, const Json& input);
  Status RemovePermission(const Scope& s, const FunctionRef& ref, const std::string& sid,
                          const std::string& revision);
  Result<Json> GetPolicy(const Scope& s, const FunctionRef& ref);

  // Tags (by function ARN).
  Status TagResource(const Scope& s, const std::string& arn, const Json& tags);
  Status UntagResource(const Scope& s, const std::string& arn, const Json& keys);
  Result<Json> ListTags(const Scope& s, const std::string& arn);

  // Layers.
  Result<Json> PublishLayerVersion(const Scope& s, const std::string& layer, const Json& input,
                                   const std::string& zip);
  Result<Json> GetLayerVersion(const Scope& s, const std::string& layer, int64_t version);
  Result<Json> GetLayerVersionByArn(const Scope& s, const std::string& arn);
  Result<Json> ListLayerVersions(const Scope& s, const std::string& layer, const Json& input);
  Result<Json> ListLayers(const Scope& s, const Json& input);
  Status DeleteLayerVersion(const Scope& s, const std::string& layer, int64_t version);

  // Function URLs. `base_host` is how the server is reached ("localhost:4566").
  Result<Json> CreateUrlConfig(const Scope& s, const FunctionRef& ref, const Json& input,
                               const std::string& base_host);
  Result<Json> GetUrlConfig(const Scope& s, const FunctionRef& ref, const std::string& base_host);
  Result<Json> UpdateUrlConfig(const Scope& s, const FunctionRef& ref, const Json& input,
                               const std::string& base_host);
  Status DeleteUrlConfig(const Scope& s, const FunctionRef& ref);
  Result<Json> ListUrlConfigs(const Scope& s, const FunctionRef& ref, const std::string& base_host);
  Result<UrlTarget> FindUrl(const std::string& url_id);

  // Event invoke configs (async retries, event age, destinations).
  Result<Json> PutEventInvokeConfig(const Scope& s, const FunctionRef& ref, const Json& input,
                                    bool merge);
  Result<Json> GetEventInvokeConfig(const Scope& s, const FunctionRef& ref);
  Status DeleteEventInvokeConfig(const Scope& s, const FunctionRef& ref);
  Result<Json> ListEventInvokeConfigs(const Scope& s, const FunctionRef& ref);
  // The config that applies to an invocation of `qualifier` (null when none).
  Json EventInvokeConfigFor(const Scope& s, const std::string& name, const std::string& qualifier);
  // The function's DeadLetterConfig target ARN, "" when none.
  std::string DeadLetterTarget(const Scope& s, const std::string& name,
                               const std::string& version);

  // Invocation: resolves a name (alias routing weights included) to what runs. Cached.
  Result<Target> Resolve(const Scope& s, const FunctionRef& ref);

  // Loads a zip by content hash (the code cache's loader).
  Result<std::string> LoadZip(const std::string& sha);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace stratus::services::lambda
