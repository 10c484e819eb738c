#pragma once
// IamState: the IAM service's authoritative in-memory view of every account's users, groups,
// roles, managed policies, instance profiles, identity providers and access keys, mirrored to
// store::Store (layout in identity/directory/directory.h) so that it survives restarts.
//
// Reads (handlers answering Get/List, the authorizer on every request) take a shared lock;
// mutations take the exclusive lock, change memory and write the changed records in one durable
// store transaction before the lock is released. If that write fails the state is reloaded from
// the store, so memory never stays ahead of what is durable.
//
// PolicyCache compiles policy documents once (keyed by kind and text) for the authorizer,
// SimulatePrincipalPolicy and STS. Both classes are thread-safe.
#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "identity/directory/directory.h"
#include "identity/policy/policy.h"
#include "store/store.h"

namespace stratus::services::iam {

using identity::AccessKeyRecord;
using identity::GroupRecord;
using identity::InstanceProfileRecord;
using identity::ManagedPolicyRecord;
using identity::OidcProviderRecord;
using identity::RoleRecord;
using identity::SamlProviderRecord;
using identity::UserRecord;

struct AccountState {
  std::map<std::string, UserRecord> users;      // by lowercased name (IAM names are case-insensitive)
  std::map<std::string, GroupRecord> groups;
  std::map<std::string, RoleRecord> roles;
  std::map<std::string, ManagedPolicyRecord> policies;  // customer managed, by ARN
  std::map<std::string, InstanceProfileRecord> profiles;
  std::map<std::string, OidcProviderRecord> oidc;       // by ARN
  std::map<std::string, SamlProviderRecord> saml;       // by ARN
  std::string alias;
};

// The changes a mutation makes, written in one transaction.
class Changes {
 public:
  void Put(std::string key, const Json& value) { puts_.emplace_back(std::move(key), DumpJson(value)); }
  void Delete(std::string key) { deletes_.push_back(std::move(key)); }
  bool empty() const { return puts_.empty() && deletes_.empty(); }

 private:
  friend class IamState;
  std::vector<std::pair<std::string, std::string>> puts_;
  std::vector<std::string> deletes_;
};

class IamState {
 public:
  explicit IamState(store::Store& store) : store_(store) {}

  // Loads every account and access key from the store (at construction and after a failed write).
  Status Load();

  // Runs `fn(const AccountState*)` (null when the account has nothing yet) under the shared lock.
  template <class Fn>
  auto Read(const std::string& account, Fn&& fn) const {
    std::shared_lock lock(mu_);
    auto it = accounts_.find(account);
    return fn(it == accounts_.end() ? static_cast<const AccountState*>(nullptr) : &it->second);
  }

  // Runs `fn(AccountState&, Changes&) -> Result<T>` under the exclusive lock and writes its
  // changes durably. The result is `fn`'s, or the storage error.
  template <class T, class Fn>
  Result<T> Mutate(const std::string& account, Fn&& fn) {
    std::unique_lock lock(mu_);
    Changes changes;
    Result<T> r = fn(accounts_[account], changes);
    if (!r.ok() || changes.empty()) return r;
    generation_.fetch_add(1);
    Status st = Commit(changes);
    if (!st.ok()) {
      // Memory may be ahead of the store: reload it. The write's error is the answer either way.
      (void)LoadLocked();
      return std::move(st).error();
    }
    return r;
  }

  // Access keys (global, by key id).
  std::optional<AccessKeyRecord> FindKey(std::string_view id) const;
  Status PutKey(const AccessKeyRecord& key);
  Status DeleteKey(std::string_view id);
  std::vector<AccessKeyRecord> KeysOf(const std::string& account, const std::string& user) const;
  void NoteKeyUsed(std::string_view id, double when, std::string_view service,
                   std::string_view region);

  // Bumped by every change: caches of derived data (compiled principal policies) compare it.
  uint64_t generation() const { return generation_.load(); }

 private:
  Status Commit(const Changes& changes);
  Status LoadLocked();  // requires mu_ held exclusively

  store::Store& store_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, AccountState> accounts_;     // guarded by mu_
  std::unordered_map<std::string, AccessKeyRecord> keys_;      // guarded by mu_
  std::atomic<uint64_t> generation_{1};
};

// AWS managed policies stratus knows (AdministratorAccess, ReadOnlyAccess, the service
// FullAccess policies, AWSLambdaBasicExecutionRole, ...); null for others.
const ManagedPolicyRecord* AwsManagedPolicy(std::string_view arn);
std::vector<const ManagedPolicyRecord*> AwsManagedPolicies();

class PolicyCache {
 public:
  Result<identity::policy::PolicyPtr> Get(const std::string& document,
                                          identity::policy::PolicyKind kind);

 private:
  static constexpr size_t kMaxEntries = 20000;
  std::mutex mu_;
  std::unordered_map<std::string, identity::policy::PolicyPtr> entries_;  // guarded by mu_
};

// The policies that apply to a user or a role: identity-based (inline, attached, and for users
// their groups'), the permissions boundary, and the principal's tags.
struct PrincipalPolicies {
  bool found = false;
  std::vector<identity::policy::PolicyPtr> identity;
  identity::policy::PolicyPtr boundary;
  identity::Tags tags;
  std::string id;   // AIDA.../AROA...
  std::string arn;
};
PrincipalPolicies UserPolicies(const IamState& state, PolicyCache& cache,
                               const std::string& account, const std::string& user_name);
PrincipalPolicies RolePolicies(const IamState& state, PolicyCache& cache,
                               const std::string& account, const std::string& role_name);

}  // namespace stratus::services::iam
