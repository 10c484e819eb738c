#pragma once
// The IAM policy language: parsing policy documents and evaluating requests against them the way
// AWS documents its evaluation logic ("Policy evaluation logic", IAM User Guide). A library with
// no server dependency: IAM, STS and the front door's enforcement use it, and so do the
// benchmarks, the fuzz target and the iam-simulate cross-check.
//
// Parsing (ParsePolicy) validates a document with AWS's MalformedPolicyDocument messages and
// compiles it once: wildcards become linear-time globs (glob.h), condition keys are lowercased,
// operators resolved. A parsed Policy is immutable and thread-safe to share.
//
// Evaluation (Evaluate) is a pure function over a Request (principal, action, resource, context
// keys) and the policies that apply to it: identity-based, the permissions boundary, session
// policies and the resource's resource-based policy. It follows AWS's order:
//   1. an explicit Deny in any of them denies;
//   2. a resource-based policy that allows the principal in the resource's own account allows
//      (for a role session named by its role ARN, boundary and session policies still apply);
//   3. otherwise an identity-based policy must allow, and the boundary (if any) must allow, and
//      a session policy (if any) must allow; across accounts the resource policy must allow too.
// No allocation happens on the common path (no policy variables, no IfExists on absent keys).
//
// Errors: ParsePolicy returns Error{"MalformedPolicyDocument", AWS's message}; Evaluate cannot
// fail (an operator that cannot read its value does not match, as AWS does).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "identity/policy/context.h"
#include "identity/policy/glob.h"

namespace stratus::identity::policy {

// Where a document is used; it decides which elements are required or forbidden.
enum class PolicyKind {
  kIdentity,  // attached to a user, group or role (no Principal; Resource required)
  kResource,  // on a resource: a queue, topic, function, bucket (Principal required)
  kTrust,     // a role's trust policy (Principal required; no Resource; sts actions only)
  kBoundary,  // a permissions boundary (as kIdentity)
  kSession,   // a session policy passed to AssumeRole/GetFederationToken (as kIdentity)
};

enum class Effect { kAllow, kDeny };

// One condition operator as written, e.g. "ForAnyValue:StringLikeIfExists".
enum class Operator : uint8_t {
  kStringEquals, kStringNotEquals, kStringEqualsIgnoreCase, kStringNotEqualsIgnoreCase,
  kStringLike, kStringNotLike,
  kNumericEquals, kNumericNotEquals, kNumericLessThan, kNumericLessThanEquals,
  kNumericGreaterThan, kNumericGreaterThanEquals,
  kDateEquals, kDateNotEquals, kDateLessThan, kDateLessThanEquals, kDateGreaterThan,
  kDateGreaterThanEquals,
  kBool, kBinaryEquals, kIpAddress, kNotIpAddress,
  kArnEquals, kArnLike, kArnNotEquals, kArnNotLike,
  kNull,
};
enum class SetQualifier : uint8_t { kNone, kForAllValues, kForAnyValue };

// A condition value compiled for its operator.
struct ConditionValue {
  std::string text;        // as written
  bool has_variables = false;
  Glob glob;               // StringLike: the compiled pattern (when no variables)
  ResourcePattern arn;     // Arn*: the compiled pattern (when no variables)
  double number = 0;       // Numeric* / Date* (epoch seconds)
  bool number_ok = false;
  // IpAddress: the network, 16 bytes (IPv4 mapped into ::ffff:0:0/96) and prefix length.
  uint8_t ip[16] = {};
  int prefix_bits = -1;
};

struct Condition {
  Operator op = Operator::kStringEquals;
  SetQualifier qualifier = SetQualifier::kNone;
  bool if_exists = false;
  std::string key;         // lowercased ("aws:sourceip")
  std::string key_as_written;
  std::vector<ConditionValue> values;
};

// A principal in a Principal/NotPrincipal element.
struct PrincipalEntry {
  enum class Type : uint8_t { kAws, kService, kFederated, kCanonicalUser } type = Type::kAws;
  std::string value;       // an ARN, account id, service or provider name; "*" for everyone
};

struct Statement {
  std::string sid;
  Effect effect = Effect::kAllow;
  bool not_action = false;
  std::vector<Glob> actions;       // lowercased, case-insensitive
  bool has_resource = false;       // Resource or NotResource present
  bool not_resource = false;
  std::vector<std::string> resources;  // as written
  std::vector<ResourcePattern> resource_patterns;
  bool has_principal = false;      // Principal or NotPrincipal present
  bool not_principal = false;
  std::vector<PrincipalEntry> principals;
  std::vector<Condition> conditions;
};

struct Policy {
  std::string version;             // "2012-10-17", "2008-10-17" or "" (absent)
  std::string id;
  std::vector<Statement> statements;
  // Version 2012-10-17 turns on policy variables; older documents match "${...}" literally.
  bool variables_enabled() const { return version == "2012-10-17"; }
};

using PolicyPtr = std::shared_ptr<const Policy>;

// Parses and validates a policy document (JSON text). See the header comment for errors.
Result<PolicyPtr> ParsePolicy(std::string_view document, PolicyKind kind);

// Who makes a request.
enum class PrincipalType : uint8_t {
  kRoot, kUser, kAssumedRole, kFederatedUser, kService, kAnonymous,
  kWebIdentity,  // AssumeRoleWithWebIdentity/SAML: `arn` is the provider (a "Federated" principal)
};

struct Principal {
  PrincipalType type = PrincipalType::kRoot;
  std::string_view arn;       // user / root / session ARN ("arn:aws:sts::1:assumed-role/r/s"),
                              // or the service name ("sns.amazonaws.com")
  std::string_view role_arn;  // assumed-role sessions: the role's ARN (aws:PrincipalArn)
  std::string_view account;   // 12 digits ("" for services and anonymous)
};

struct Request {
  Principal principal;
  std::string_view action;    // "sqs:SendMessage" (any case)
  std::string_view resource;  // an ARN, or "*" when the operation names no resource
  std::string_view resource_account;  // the resource's account ("" = the principal's)
  const RequestContext* context = nullptr;  // may be null (no keys)
};

enum class Decision : uint8_t { kAllow, kExplicitDeny, kImplicitDeny };

// Which kind of policy decided a denial, for AWS's message ("because no identity-based policy
// allows ...", "with an explicit deny in a resource-based policy").
enum class PolicyType : uint8_t { kNone, kIdentity, kResource, kBoundary, kSession };

struct Outcome {
  Decision decision = Decision::kImplicitDeny;
  PolicyType by = PolicyType::kIdentity;
  bool allowed() const { return decision == Decision::kAllow; }
};

struct EvaluationInput {
  Request request;
  std::span<const Policy* const> identity;   // identity-based policies of the principal
  const Policy* boundary = nullptr;          // permissions boundary, if set
  std::span<const Policy* const> session;    // session policies (any one allowing suffices)
  bool has_session_policies = false;         // true when the session was given any
  const Policy* resource_policy = nullptr;   // the resource's policy, if it has one
};

Outcome Evaluate(const EvaluationInput& input);

// The statement-level test used by Evaluate, exposed for tests and SimulateCustomPolicy:
// does `statement` apply to `request` (action, resource, principal when `check_principal`,
// conditions)? `kind` selects short-ARN handling (resource policies do not expand).
bool StatementApplies(const Statement& statement, const Request& request, bool variables_enabled,
                      PolicyKind kind);

// True when an Allow statement of a resource-based (or trust) policy applies to the request,
// its Principal included. A role's trust policy must allow AssumeRole whatever identity
// policies say.
bool ResourcePolicyAllows(const Policy& policy, const Request& request);

// AWS's denial message: "User: <arn> is not authorized to perform: <action> on resource:
// <resource> because no identity-based policy allows the <action> action".
std::string DenialMessage(std::string_view principal_arn, std::string_view action,
                          std::string_view resource, const Outcome& outcome);

}  // namespace stratus::identity::policy
