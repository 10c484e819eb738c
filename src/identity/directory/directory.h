#pragma once
// The identity directory: what IAM and STS store about principals and credentials, and how it
// is laid out in store::Store. Shared by the IAM service (the writer of users, groups, roles,
// policies, access keys and providers) and the STS service (which reads roles and providers and
// writes sessions), so that neither depends on the other (STYLE.md rule 10).
//
// Key layout (values are JSON documents):
//   iam/<account>/user/<name>          UserRecord
//   iam/<account>/group/<name>         GroupRecord
//   iam/<account>/role/<name>          RoleRecord
//   iam/<account>/policy/<arn>         ManagedPolicyRecord (all versions)
//   iam/<account>/profile/<name>       InstanceProfileRecord
//   iam/<account>/oidc/<arn>           OidcProviderRecord
//   iam/<account>/saml/<arn>           SamlProviderRecord
//   iam/<account>/alias                account alias
//   iam/keys/<access key id>           AccessKeyRecord (IAM users' long-term keys)
//   iam/sessions/<access key id>       SessionRecord (STS temporary credentials)
// Access key ids are unique across accounts, so keys and sessions are not under an account.
//
// Records are plain values; (de)serialization never throws (a corrupt record reads as absent
// and is logged by the caller). Thread-safe: free functions over a thread-safe Store.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::identity {

using Tags = std::vector<std::pair<std::string, std::string>>;  // in the order given

struct UserRecord {
  std::string name, path = "/", id, arn;
  double created = 0;
  std::string boundary_arn;
  Tags tags;
  std::map<std::string, std::string> inline_policies;  // name → document
  std::vector<std::string> attached;                   // managed policy ARNs
  std::vector<std::string> groups;                     // group names
  std::optional<std::string> login_password;           // LoginProfile (kept, never checked)
  double password_last_used = 0;
};

struct GroupRecord {
  std::string name, path = "/", id, arn;
  double created = 0;
  std::map<std::string, std::string> inline_policies;
  std::vector<std::string> attached;
};

struct RoleRecord {
  std::string name, path = "/", id, arn;
  double created = 0;
  std::string trust_policy;   // AssumeRolePolicyDocument
  std::string description;
  int64_t max_session_seconds = 3600;
  std::string boundary_arn;
  Tags tags;
  std::map<std::string, std::string> inline_policies;
  std::vector<std::string> attached;
  double last_used = 0;
  std::string last_used_region;
};

struct PolicyVersion {
  std::string id;             // "v1"
  std::string document;
  double created = 0;
};

struct ManagedPolicyRecord {
  std::string name, path = "/", id, arn, description;
  double created = 0, updated = 0;
  std::string default_version = "v1";
  int next_version = 2;
  std::vector<PolicyVersion> versions;
  Tags tags;
  const PolicyVersion* Default() const;
};

struct InstanceProfileRecord {
  std::string name, path = "/", id, arn;
  double created = 0;
  std::vector<std::string> roles;
  Tags tags;
};

struct OidcProviderRecord {
  std::string arn, url;       // url without "https://"
  std::vector<std::string> client_ids, thumbprints;
  double created = 0;
  Tags tags;
};

struct SamlProviderRecord {
  std::string arn, name, metadata;
  double created = 0, valid_until = 0;
  Tags tags;
};

struct AccessKeyRecord {
  std::string id, secret, account, user_name;
  bool active = true;
  double created = 0;
  double last_used = 0;
  std::string last_used_service, last_used_region;
};

// What kind of temporary credentials a session holds.
enum class SessionKind { kAssumedRole, kFederatedUser, kSessionToken };

struct SessionRecord {
  std::string access_key_id, secret, token, account;
  SessionKind kind = SessionKind::kAssumedRole;
  std::string arn;            // arn:aws:sts::<acct>:assumed-role/<role>/<session>, federated-user/<n>
  std::string user_id;        // "AROA...:session", "<acct>:<name>", "AIDA..."
  std::string role_arn;       // assumed-role: the role (with path)
  std::string role_name;
  std::string user_name;      // federated / session-token sessions: the IAM user ("" for root)
  std::vector<std::string> session_policies;  // documents (inline Policy and PolicyArns' defaults)
  bool has_session_policies = false;
  Tags tags;                  // session tags (aws:PrincipalTag)
  std::vector<std::string> transitive_tag_keys;
  std::string source_identity;
  std::string web_identity_provider;  // AssumeRoleWithWebIdentity/SAML: the provider
  std::string web_identity_subject;
  double issued = 0, expiration = 0;  // epoch seconds
};

struct Credentials {
  std::string access_key_id, secret_access_key, session_token;
};

// New credentials: a 20-character key id with `prefix` ("AKIA" long-term, "ASIA" temporary),
// a 40-character secret and, for temporary ones, a session token.
Credentials NewCredentials(std::string_view prefix, bool with_token);
// A unique id for a principal: `prefix` ("AIDA", "AROA", "AGPA", "ANPA", "AIPA") + 17 chars.
std::string NewPrincipalId(std::string_view prefix);

// Keys.
std::string AccountPrefix(std::string_view account);  // "iam/<account>/"
std::string UserKey(std::string_view account, std::string_view name);
std::string GroupKey(std::string_view account, std::string_view name);
std::string RoleKey(std::string_view account, std::string_view name);
std::string PolicyKey(std::string_view account, std::string_view arn);
std::string ProfileKey(std::string_view account, std::string_view name);
std::string OidcKey(std::string_view account, std::string_view arn);
std::string SamlKey(std::string_view account, std::string_view arn);
std::string AccessKeyKey(std::string_view id);
std::string SessionKey(std::string_view id);
inline constexpr std::string_view kAccessKeysPrefix = "iam/keys/";
inline constexpr std::string_view kSessionsPrefix = "iam/sessions/";

// JSON forms.
Json ToJson(const UserRecord& r);
Json ToJson(const GroupRecord& r);
Json ToJson(const RoleRecord& r);
Json ToJson(const ManagedPolicyRecord& r);
Json ToJson(const InstanceProfileRecord& r);
Json ToJson(const OidcProviderRecord& r);
Json ToJson(const SamlProviderRecord& r);
Json ToJson(const AccessKeyRecord& r);
Json ToJson(const SessionRecord& r);
std::optional<UserRecord> UserFromJson(const Json& j);
std::optional<GroupRecord> GroupFromJson(const Json& j);
std::optional<RoleRecord> RoleFromJson(const Json& j);
std::optional<ManagedPolicyRecord> PolicyFromJson(const Json& j);
std::optional<InstanceProfileRecord> ProfileFromJson(const Json& j);
std::optional<OidcProviderRecord> OidcFromJson(const Json& j);
std::optional<SamlProviderRecord> SamlFromJson(const Json& j);
std::optional<AccessKeyRecord> AccessKeyFromJson(const Json& j);
std::optional<SessionRecord> SessionFromJson(const Json& j);

// Reads one record (absent, corrupt → nullopt; storage failure → error).
Result<std::optional<RoleRecord>> LoadRole(store::Store& store, std::string_view account,
                                           std::string_view name);
Result<std::optional<ManagedPolicyRecord>> LoadPolicy(store::Store& store,
                                                      std::string_view account,
                                                      std::string_view arn);
Result<std::optional<OidcProviderRecord>> LoadOidc(store::Store& store, std::string_view account,
                                                   std::string_view arn);
Result<std::optional<SamlProviderRecord>> LoadSaml(store::Store& store, std::string_view account,
                                                   std::string_view arn);
Result<std::optional<SessionRecord>> LoadSession(store::Store& store, std::string_view id);
Status SaveSession(store::Store& store, const SessionRecord& session);

// "arn:aws:iam::<account>:role/<path>/<name>" → name; the last path segment of an IAM ARN.
std::string NameFromArn(std::string_view arn);
// The account field of an ARN ("" when it is not one).
std::string AccountFromArn(std::string_view arn);

}  // namespace stratus::identity
