#pragma once
// Internal to the IAM service: what every handler file shares — its errors (named and worded as
// IAM's), the JSON shapes of its entities, pagination and tags.
#include <functional>
#include <string>
#include <vector>

#include "aws/framework/service.h"
#include "core/clock.h"
#include "core/config.h"
#include "services/iam/iam_state.h"

namespace stratus::services::iam {

// What handlers share: the state, the policy cache, the clock and the configuration.
struct Iam {
  IamState& state;
  PolicyCache& cache;
  const Clock& clock;
  const Config& config;
  double Now() const { return static_cast<double>(clock.NowMillis()) / 1000.0; }
};

using Handler = std::function<Result<Json>(aws::CallContext&, const Json&)>;
using Registrar = std::function<void(std::string, Handler)>;

void RegisterUserHandlers(Iam& iam, const Registrar& on);     // users, groups, keys, logins
void RegisterRoleHandlers(Iam& iam, const Registrar& on);     // roles, profiles, providers
void RegisterPolicyHandlers(Iam& iam, const Registrar& on);   // managed/inline, attach, simulate

// Errors (IAM's codes and HTTP statuses; messages as IAM words them).
Error NoSuchEntity(std::string message);
Error EntityAlreadyExists(std::string message);
Error DeleteConflict(std::string message);
Error InvalidInput(std::string message);
Error LimitExceeded(std::string message);
Error Malformed(std::string message);

// IAM policy documents travel URL-encoded in responses (botocore decodes them).
std::string UrlEncodeDocument(std::string_view document);

// Validates a path ("/", "/division/team/") → InvalidInput/ValidationError on violations.
Status CheckPath(const std::string& path);
// The inline/managed policy size limits (characters, whitespace not counted).
inline constexpr size_t kUserInlineLimit = 2048;
inline constexpr size_t kRoleInlineLimit = 10240;
inline constexpr size_t kGroupInlineLimit = 5120;
inline constexpr size_t kManagedLimit = 6144;
inline constexpr size_t kTrustLimit = 2048;
// Parses and validates a document of `kind` within `limit` (quota name for the message).
Status CheckDocument(Iam& iam, const std::string& document, identity::policy::PolicyKind kind,
                     size_t limit, std::string_view quota);

// Entities as their output shapes.
Json UserJson(const UserRecord& u, bool with_tags = true);
Json GroupJson(const GroupRecord& g);
Json RoleJson(const RoleRecord& r, bool with_details = true);
Json PolicyJson(const ManagedPolicyRecord& p, int attachments, bool with_tags = true);
Json ProfileJson(const InstanceProfileRecord& p, const AccountState& a);
Json TagsJson(const identity::Tags& tags);
identity::Tags TagsFromInput(const Json& input, std::string_view member = "Tags");
// Merges `add` into `tags` (same key replaced); fails past 50 tags.
Status MergeTags(identity::Tags& tags, const identity::Tags& add);
void RemoveTags(identity::Tags& tags, const Json& keys);

// Pagination: Marker (an index into the sorted list) and MaxItems (default 100).
struct Page {
  size_t begin = 0, end = 0;
  bool truncated = false;
  std::string next_marker;
};
Page Paginate(size_t total, const Json& input);
// Adds IsTruncated/Marker to `out`.
void AddPage(Json& out, const Page& page);

// ARNs.
std::string UserArn(const std::string& account, const std::string& path, const std::string& name);
std::string IamArn(const std::string& account, std::string_view kind, const std::string& path,
                   const std::string& name);

// How many users, groups and roles attach the policy (and use it as a boundary).
int AttachmentCount(const AccountState& a, const std::string& arn);
int BoundaryCount(const AccountState& a, const std::string& arn);

}  // namespace stratus::services::iam
