#pragma once
// AWS_IAM authorization of execute-api requests (REST methods with authorizationType AWS_IAM,
// HTTP API routes with AuthorizationType AWS_IAM): the pieces that need no server, so tests call
// them directly. The data plane (data_plane_auth.cc) strings them together:
//   1. the request's SigV4 claim (service execute-api, header or presigned query) is parsed and
//      handed to the core Authorizer (aws/framework/authorizer.h), which names the caller and,
//      under --enforce-iam, verifies the signature with the key's real secret;
//   2. under enforcement, `execute-api:Invoke` on the method's ARN is decided by IAM's policy
//      engine through the core OperationCaller (iam:SimulatePrincipalPolicy with the caller's
//      principal, the REST API's resource policy and the request's condition keys);
//   3. the caller's identity is written into the proxy event (v1 requestContext.identity, v2
//      requestContext.authorizer.iam).
// Pure functions; thread-safe.
#include <mutex>
#include <string>
#include <unordered_map>

#include "aws/framework/service.h"
#include "core/json.h"
#include "core/result.h"
#include "identity/policy/policy.h"

namespace stratus::services::apigateway {

// The signing name of execute-api requests.
inline constexpr const char* kExecuteApiSigningName = "execute-api";
// The action IAM authorizes an execute-api request as.
inline constexpr const char* kExecuteApiInvoke = "execute-api:Invoke";

// "arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>": `path` is the
// request's path after the stage ("/items/7"; "" or "/" for the root, which gives ".../GET/").
std::string ExecuteApiArn(const std::string& region, const std::string& account,
                          const std::string& api_id, const std::string& stage,
                          const std::string& method, const std::string& path);

// A REST API's resource policy ready for IAM: AWS stores resources written "execute-api:/..."
// as the API's full ARN prefix ("arn:aws:execute-api:<region>:<account>:<apiId>/..."); the
// same expansion is applied here. Returns "" for an empty or absent policy.
std::string ExpandResourcePolicy(const std::string& policy, const std::string& region,
                                 const std::string& account, const std::string& api_id);

// The IAM principal ARN whose identity policies apply to `caller`: a user's ARN as is, an
// assumed-role session ("arn:aws:sts::<acct>:assumed-role/<role>/<session>") as its role
// ("arn:aws:iam::<acct>:role/<role>"); "" for the account root (always allowed, as on AWS
// absent SCPs) and for anonymous callers.
std::string PolicySourceArn(const aws::Caller& caller);

// The iam:SimulatePrincipalPolicy input that decides `execute-api:Invoke` on `resource_arn`
// for `source_arn`, with the API's resource policy (ExpandResourcePolicy's output, may be "")
// owned by `api_account`, and the request's aws:SourceIp / aws:PrincipalArn condition keys.
Json InvokeSimulation(const std::string& source_arn, const std::string& caller_arn,
                      const std::string& resource_arn, const std::string& resource_policy,
                      const std::string& api_account, const std::string& source_ip);

enum class InvokeDecision { kAllowed, kImplicitDeny, kExplicitDeny };

// The decision in a SimulatePrincipalPolicy output; an error when the output has none.
Result<InvokeDecision> DecisionFrom(const Json& simulation_output);

// AWS's denial text: "User: <caller arn> is not authorized to perform: execute-api:Invoke on
// resource: <arn>", with " with an explicit deny" for an explicit deny.
std::string DenialMessage(const std::string& caller_arn, const std::string& resource_arn,
                          InvokeDecision decision);

// Parsed REST API resource policies (ExpandResourcePolicy applied), cached by the stored text
// and the API they belong to. Thread-safe. The cache is dropped whole past 1000 entries.
class ResourcePolicyCache {
 public:
  // The parsed policy; null for an empty or absent one; IAM's parse error for a malformed one.
  Result<identity::policy::PolicyPtr> Get(const std::string& policy, const std::string& region,
                                          const std::string& account, const std::string& api_id);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, identity::policy::PolicyPtr> parsed_;  // guarded by mu_
};

// `execute-api:Invoke` on `resource_arn` decided by the API's resource policy alone, for a
// caller IAM does not evaluate: anonymous (NONE, CUSTOM and COGNITO_USER_POOLS methods, where
// AWS evaluates the policy with the caller unauthenticated, so only `Principal: "*"` statements
// apply) or the account root of an AWS_IAM method (allowed unless explicitly denied). The
// context carries aws:SourceIp (the connection's peer address, when known), aws:CurrentTime,
// aws:EpochTime and aws:SecureTransport ("false": stratus serves plain HTTP).
InvokeDecision PolicyOnlyDecision(const identity::policy::Policy& policy,
                                  const aws::Caller* root_caller, const std::string& resource_arn,
                                  const std::string& api_account, const std::string& source_ip,
                                  int64_t now_ms);

// requestContext.identity members of a v1 event (REST, HTTP payload 1.0) for an IAM caller:
// accessKey, accountId, caller, user, userArn (cognito* and principalOrgId stay null).
Json V1Identity(const aws::Caller& caller);

// requestContext.authorizer of a v2 event: {"iam": {accessKey, accountId, callerId,
// cognitoIdentity, principalOrgId, userArn, userId}}.
Json V2IamAuthorizer(const aws::Caller& caller);

}  // namespace stratus::services::apigateway
