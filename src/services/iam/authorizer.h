#pragma once
// IamAuthorizer: IAM's implementation of the front door's identity hook
// (aws/framework/authorizer.h).
//
// Authenticate maps an access key to its principal — the configured root key, an IAM user's
// key, or STS temporary credentials (read through from the store, where STS writes them) — and,
// under --enforce-iam, verifies the SigV4 signature with that key's secret.
// Authorize evaluates `<prefix>:<Action>` on the operation's resources (resources.h) against the
// principal's identity policies, permissions boundary, session policies and the resource's
// resource-based policy (read through the owning service's Get*Policy operation on a worker
// thread), with the request's global condition keys. Soft mode logs denials and allows.
//
// Service principals ("sns.amazonaws.com") calling in-process are allowed unless a resource
// policy explicitly denies them (AWS would also require a grant; stratus's services name a
// service principal in places where AWS uses a role), except for sts:AssumeRole, where the trust
// policy must allow them as on AWS.
//
// Thread-safe. Caches principals' compiled policies by IamState generation and STS sessions
// by access key id (sessions never change once issued).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "aws/framework/authorizer.h"
#include "services/iam/iam_state.h"

namespace stratus::services::iam {

class IamAuthorizer final : public aws::Authorizer {
 public:
  IamAuthorizer(aws::ServiceContext& context, IamState& state, PolicyCache& cache);

  Status Authenticate(const HttpRequest& request, const aws::SigV4Claim* claim,
                      aws::SigV4Dialect dialect, int64_t now_ms, aws::Caller& caller) override;
  bool Enforcing() const override { return enforcing_; }
  void Authorize(aws::AuthorizationRequest request, std::function<void(Status)> done) override;

  // Test hook: turns enforcement on or off at run time.
  void SetEnforcingForTest(bool on) { enforcing_ = on; }

  struct Session {
    identity::SessionRecord record;
    std::vector<identity::policy::PolicyPtr> policies;
  };
  // The STS session of an access key id, from the cache or the store; null when unknown.
  std::shared_ptr<const Session> FindSession(const std::string& access_key_id);

 private:
  struct Principal;
  Principal Resolve(const aws::CallContext& call, bool internal);
  Status Decide(const aws::AuthorizationRequest& request, const Principal& principal,
                const std::vector<std::string>& resources, const std::string& action,
                const std::vector<identity::policy::PolicyPtr>& resource_policies,
                const identity::policy::RequestContext& context);
  PrincipalPolicies Policies(const std::string& account, bool role, const std::string& name);

  aws::ServiceContext& context_;
  IamState& state_;
  PolicyCache& cache_;
  std::atomic<bool> enforcing_;
  const bool soft_;
  aws::SigningKeyCache signing_keys_;

  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Session>> sessions_;  // guarded by mu_
  struct CachedPolicies {
    uint64_t generation = 0;
    std::shared_ptr<const PrincipalPolicies> policies;
  };
  std::unordered_map<std::string, CachedPolicies> principals_;  // guarded by mu_
};

}  // namespace stratus::services::iam
