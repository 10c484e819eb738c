#pragma once
// Shared by the Registry's source files, and by nothing else: the store key layout (see
// registry.h), record helpers, and Registry::Impl. registry.cc holds these and the
// construction, caching and invocation resolution; registry_functions.cc: functions,
// concurrency, tags; registry_versions.cc: versions and aliases; registry_policies.cc:
// resource policies; registry_layers.cc: layers; registry_urls.cc: function URLs;
// registry_event_invoke.cc: event invoke configs and dead-letter targets.
#include "services/lambda/registry.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::lambda {

// Separates a function or layer name from the rest of a key (names cannot contain NUL).
inline constexpr char kSep = '\0';

// True when `j` has member `k` (present, not null).
inline bool Has(const Json& j, std::string_view k) {
  auto it = j.find(std::string(k));
  return it != j.end() && !it->is_null();
}

// Store keys (registry.h lists the layout).
std::string Base(const Scope& s);
std::string FnKey(const Scope& s, std::string_view n);
std::string FnPrefix(const Scope& s);
std::string VerPrefix(const Scope& s, std::string_view n);
std::string VerKey(const Scope& s, std::string_view n, int64_t v);
std::string AliasPrefix(const Scope& s, std::string_view n);
std::string AliasKey(const Scope& s, std::string_view n, std::string_view a);
std::string LayerPrefix(const Scope& s, std::string_view n);
std::string LayerKey(const Scope& s, std::string_view n, int64_t v);
std::string LayerCounterKey(const Scope& s, std::string_view n);
std::string CodeKey(std::string_view sha);
std::string CodeRefKey(std::string_view sha);
std::string UrlKey(std::string_view id);

// Lambda's timestamp format: 2024-01-31T12:34:56.789+0000.
std::string LambdaTime(int64_t ms);

Error FunctionNotFound(const Scope& s, std::string_view name, std::string_view q = {});

// A stored record (`v` must hold a value); InternalFailure when it is not a JSON object.
Result<Json> ParseRecord(const std::optional<std::string>& v);

// PreconditionFailed when `in` names a RevisionId other than `current`'s.
Status CheckRevision(const Json& in, const Json& current);

// Adjusts the reference count of a zip; the zip goes when nothing uses it.
Status Touch(store::WriteTxn& txn, std::string_view sha, int delta);

// Stores `zip` (if new) and takes a reference on it.
Status PutCode(store::WriteTxn& txn, const std::string& sha, const std::string& zip);

struct Registry::Impl {
  store::Store& store;
  const Clock& clock;
  CodeCache& code;
  std::function<void(const std::string&, const std::string&)> on_change;
  int account_concurrency;

  std::mutex cache_mu;  // guards cache, alias_cache, url_cache and cache_generation
  // Bumped by every Changed. A record read from the store is cached only when no Changed ran
  // since before the read: a change committed after the read would otherwise stay hidden by the
  // copy read before (invocations kept the old code or configuration), with no expiry.
  uint64_t cache_generation = 0;
  std::unordered_map<std::string, std::shared_ptr<const FunctionSpec>> cache;  // acct/region/name/version
  std::unordered_map<std::string, Json> alias_cache;  // acct/region/name/alias:<alias>
  std::unordered_map<std::string, UrlTarget> url_cache;  // by URL id

  Impl(store::Store& st, const Clock& c, CodeCache& cc,
       std::function<void(const std::string&, const std::string&)> oc, int ac)
      : store(st), clock(c), code(cc), on_change(std::move(oc)), account_concurrency(ac) {}

  // Drops cached targets of the function; with `retire`, its running instances end too (their
  // configuration or code is no longer current).
  void Changed(const Scope& s, const std::string& name, bool retire);

  // The function record ($LATEST config and everything attached); FunctionNotFound if absent.
  Result<Json> LoadFunction(store::ReadTxn& txn, const Scope& s, const std::string& name);
  Result<Json> ReadFunction(const Scope& s, const std::string& name);

  // The record of `q`: $LATEST (the function record), a version, or an alias' version.
  Result<Json> ReadVersion(const Scope& s, const std::string& name, const std::string& q);

  // Qualifier must name an existing version or alias ($LATEST and "" always exist).
  Status CheckQualifier(store::ReadTxn& txn, const Scope& s, const FunctionRef& ref);

  // Resolves layer version ARNs to their zips' hashes and the Layers output.
  Status ResolveLayers(const Json& layers, std::vector<std::string>& shas, Json& out);

  // Applies the configuration members of `in` to a function record (create and update).
  Status ApplyConfig(Json& rec, const Json& in);

  // What runs for `rec` (the function record or one of its versions) of function `fn`.
  std::shared_ptr<FunctionSpec> SpecFrom(const Scope& s, const Json& fn, const Json& rec,
                                         const std::string& version);

  // A published version record made from the function's current $LATEST.
  Json NewVersion(const Scope& s, const Json& fn, int64_t v);
};

}  // namespace stratus::services::lambda
