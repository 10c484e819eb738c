#pragma once
// The configuration side of user pools on store::Store: pools, app clients, domains, groups,
// resource servers, identity providers, MFA configuration and tags. Inputs and outputs are the
// API's canonical JSON (member names as in cognito-idp-2016-04-18). Plain logic callable without
// a server; thread-safe (all state is in the store, each call is one transaction; the cache of
// parsed records is behind a mutex and never answers without reading the store).
//
// A pool record is UserPoolType plus internal members starting with "_" (_Account, _Region,
// _Tags are not echoed); a client record is UserPoolClientType plus internals.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/cognito/common.h"
#include "store/store.h"

namespace stratus::services::cognito {

// The standard OAuth scopes every pool knows.
bool IsStandardScope(std::string_view scope);

class Directory {
 public:
  Directory(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Pools.
  Result<Json> CreatePool(const Scope& s, const Json& in);  // the UserPool (public shape)
  // The stored record of a pool in the caller's account and region.
  Result<Json> Pool(const Scope& s, std::string_view pool_id);
  // The stored record of any pool (data plane and auth calls, which name no account).
  Result<Json> PoolById(std::string_view pool_id);
  // The same record read in the caller's transaction, shared rather than copied (access-token
  // calls read it with the user and the revocation mark in one snapshot).
  Result<std::shared_ptr<const Json>> PoolById(store::ReadTxn& txn, std::string_view pool_id);
  Result<Json> DescribePool(const Scope& s, std::string_view pool_id);
  Status UpdatePool(const Scope& s, const Json& in);
  Status DeletePool(const Scope& s, std::string_view pool_id);
  Result<Json> ListPools(const Scope& s, const Json& in);
  Status AddCustomAttributes(const Scope& s, const Json& in);
  Result<Json> GetMfaConfig(const Scope& s, std::string_view pool_id);
  Result<Json> SetMfaConfig(const Scope& s, const Json& in);

  // App clients.
  Result<Json> CreateClient(const Scope& s, const Json& in);  // UserPoolClient
  Result<Json> DescribeClient(const Scope& s, std::string_view pool_id, std::string_view id);
  Result<Json> UpdateClient(const Scope& s, const Json& in);
  Status DeleteClient(const Scope& s, std::string_view pool_id, std::string_view id);
  Result<Json> ListClients(const Scope& s, const Json& in);
  // The pool and client records of a client id (auth flows, OAuth2). ResourceNotFound /
  // "User pool client <id> does not exist." when unknown.
  Result<std::pair<Json, Json>> ClientById(std::string_view client_id);

  // Domains ("my-app" prefix domains; custom domains are stored as given).
  Result<Json> CreateDomain(const Scope& s, const Json& in);
  Result<Json> DescribeDomain(const Scope& s, std::string_view domain);
  Status DeleteDomain(const Scope& s, const Json& in);
  Result<std::string> PoolForDomain(std::string_view domain);

  // Groups.
  Result<Json> CreateGroup(const Scope& s, const Json& in);
  Result<Json> GetGroup(const Scope& s, std::string_view pool_id, std::string_view name);
  Result<Json> UpdateGroup(const Scope& s, const Json& in);
  Status DeleteGroup(const Scope& s, std::string_view pool_id, std::string_view name);
  Result<Json> ListGroups(const Scope& s, const Json& in);

  // Resource servers.
  Result<Json> CreateResourceServer(const Scope& s, const Json& in);
  Result<Json> DescribeResourceServer(const Scope& s, std::string_view pool_id, std::string_view id);
  Result<Json> UpdateResourceServer(const Scope& s, const Json& in);
  Status DeleteResourceServer(const Scope& s, std::string_view pool_id, std::string_view id);
  Result<Json> ListResourceServers(const Scope& s, const Json& in);
  // True when `scope` is standard or "<resource server>/<scope>" of the pool.
  bool ScopeExists(std::string_view pool_id, std::string_view scope);

  // Identity providers.
  Result<Json> CreateProvider(const Scope& s, const Json& in);
  Result<Json> DescribeProvider(const Scope& s, std::string_view pool_id, std::string_view name);
  Result<Json> ProviderById(std::string_view pool_id, std::string_view name);
  Result<Json> UpdateProvider(const Scope& s, const Json& in);
  Status DeleteProvider(const Scope& s, std::string_view pool_id, std::string_view name);
  Result<Json> ListProviders(const Scope& s, const Json& in);
  Result<Json> ProviderByIdentifier(const Scope& s, std::string_view pool_id, std::string_view idp_id);

  // Tags on a pool ARN.
  Status Tag(const Scope& s, std::string_view arn, const Json& tags);
  Status Untag(const Scope& s, std::string_view arn, const Json& keys);
  Result<Json> ListTags(const Scope& s, std::string_view arn);

 private:
  Result<Json> ValidateClient(std::string_view pool_id, Json client);
  Result<Json> ReadChild(std::string_view key, Error missing);
  Result<Json> ListChildren(std::string_view prefix, const Json& in, std::string_view limit_name,
                            std::string_view token_name, std::string_view out_name,
                            const std::function<Json(const Json&)>& shape);
  Result<std::string> PoolFromArn(const Scope& s, std::string_view arn);
  // The record at `key`, parsed (nullopt when absent), through parsed_.
  Result<std::optional<Json>> ReadParsed(const std::string& key);

  // Pool and client records, parsed only when their bytes changed.
  static constexpr size_t kMaxParsedRecords = 4096;

  store::Store& store_;
  const Clock& clock_;
  ParsedRecords parsed_{kMaxParsedRecords};
};

}  // namespace stratus::services::cognito
