#pragma once
// STS's temporary credentials: AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken and
// GetFederationToken as plain functions over the identity directory (identity/directory), so
// that STS needs nothing from the IAM service but what IAM stores (STYLE.md rule 10).
//
// Every function issues a SessionRecord (an "ASIA" key id, a secret, a session token and an
// expiration), writes it durably before answering, and returns the operation's output shape.
// The front door's authorizer (IAM's) finds the session by its key id on later requests: it
// rejects it once expired (ExpiredToken) and evaluates its role's policies, boundary and session
// policies.
//
// What is checked here, whatever --enforce-iam says: input limits (durations against the role's
// MaxSessionDuration and role chaining, session policy syntax and packed size, tags), and for
// web identity the token itself (signature against the provider's JWKS, expiry, issuer registered
// with CreateOpenIDConnectProvider, audience among its client ids) and the role's trust policy,
// since that operation is unsigned. Whether the caller may call sts:AssumeRole on the role (its
// trust policy, sts:ExternalId conditions) is the authorizer's, under enforcement.
//
// Thread-safe; functions may block on the store and, for web identity, on the network (a worker
// thread's work).
#include <functional>
#include <memory>
#include <string>

#include "aws/framework/service.h"
#include "core/clock.h"
#include "identity/oidc/oidc.h"
#include "store/store.h"

namespace stratus::services::sts {

struct Sts {
  store::Store& store;
  const Clock& clock;
  bool enforcing = false;
  // Reads a managed policy's default document (PolicyArns) through IAM; may be null in tests,
  // where PolicyArns then fail with NoSuchEntity-like InvalidParameterValue.
  std::function<Result<std::string>(const std::string& account, const std::string& arn)> managed_policy;
  identity::oidc::JwksCache* jwks = nullptr;
};

Result<Json> AssumeRole(Sts& sts, const aws::Caller& caller, const Json& input);
Result<Json> AssumeRoleWithWebIdentity(Sts& sts, const Json& input);
Result<Json> GetSessionToken(Sts& sts, const aws::Caller& caller, const Json& input);
Result<Json> GetFederationToken(Sts& sts, const aws::Caller& caller, const Json& input);

}  // namespace stratus::services::sts
