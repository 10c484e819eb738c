#include "services/sts/sessions.h"

#include <algorithm>
#include <cmath>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "identity/directory/directory.h"
#include "identity/policy/policy.h"

namespace stratus::services::sts {

namespace {

namespace pol = identity::policy;
using identity::SessionKind;
using identity::SessionRecord;

constexpr int64_t kDefaultRoleSeconds = 3600;
constexpr int64_t kChainedMaxSeconds = 3600;
constexpr int64_t kDefaultTokenSeconds = 43200;
constexpr int64_t kRootTokenMaxSeconds = 3600;
constexpr size_t kPackedLimit = 2048;  // characters of session policy + tags, as AWS packs them
constexpr size_t kMaxSessionTags = 50;

Error AccessDenied(std::string message) { return Error("AccessDenied", std::move(message), 403); }
Error Validation(std::string message) { return Error("ValidationError", std::move(message), 400); }
Error InvalidIdentityToken(std::string message) {
  return Error("InvalidIdentityToken", std::move(message), 400);
}

double Now(const Sts& sts) { return static_cast<double>(sts.clock.NowMillis()) / 1000.0; }

// The caller's own session, when it signs with temporary credentials.
std::optional<SessionRecord> CallerSession(Sts& sts, const aws::Caller& caller) {
  if (!caller.access_key_id.starts_with("ASIA")) return std::nullopt;
  auto s = identity::LoadSession(sts.store, caller.access_key_id);
  if (!s.ok() || !s->has_value()) return std::nullopt;
  return std::move(**s);
}

// Session policies: the inline Policy and the PolicyArns' default versions, validated and sized.
struct SessionPolicies {
  std::vector<std::string> documents;
  bool given = false;
  size_t packed = 0;
};
Result<SessionPolicies> ReadSessionPolicies(Sts& sts, const std::string& account, const Json& input) {
  SessionPolicies out;
  if (auto it = input.find("Policy"); it != input.end() && it->is_string()) {
    std::string doc = it->get<std::string>();
    auto parsed = pol::ParsePolicy(doc, pol::PolicyKind::kSession);
    if (!parsed.ok()) return Error("MalformedPolicyDocument", parsed.error().message, 400);
    out.packed += std::count_if(doc.begin(), doc.end(), [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
    out.documents.push_back(std::move(doc));
    out.given = true;
  }
  if (auto it = input.find("PolicyArns"); it != input.end() && it->is_array()) {
    for (const auto& p : *it) {
      std::string arn = p.is_object() ? p.value("arn", "") : "";
      if (arn.empty()) continue;
      out.given = true;
      out.packed += arn.size();
      if (!sts.managed_policy) return Error("InvalidParameterValue", "Policy " + arn + " does not exist or is not attachable.", 400);
      auto doc = sts.managed_policy(account, arn);
      if (!doc.ok()) {
        return Error("InvalidParameterValue", "Policy " + arn + " does not exist or is not attachable.", 400);
      }
      out.documents.push_back(std::move(*doc));
    }
  }
  return out;
}

Result<identity::Tags> ReadTags(const Json& input, size_t& packed) {
  identity::Tags tags;
  if (auto it = input.find("Tags"); it != input.end() && it->is_array()) {
    if (it->size() > kMaxSessionTags) {
      return Validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                        "Member must have length less than or equal to 50");
    }
    for (const auto& t : *it) {
      std::string k = t.value("Key", ""), v = t.value("Value", "");
      for (const auto& [ek, ev] : tags) {
        if (ToLower(ek) == ToLower(k)) {
          return Error("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400);
        }
      }
      packed += k.size() + v.size();
      tags.emplace_back(std::move(k), std::move(v));
    }
  }
  return tags;
}

int PackedPercent(size_t packed) {
  return static_cast<int>(std::ceil(100.0 * static_cast<double>(packed) / kPackedLimit));
}

Json CredentialsJson(const SessionRecord& s) {
  return Json{{"AccessKeyId", s.access_key_id}, {"SecretAccessKey", s.secret},
              {"SessionToken", s.token}, {"Expiration", s.expiration}};
}

Result<SessionRecord> NewSession(Sts& sts, SessionKind kind, const std::string& account,
                                 int64_t seconds) {
  SessionRecord s;
  identity::Credentials c = identity::NewCredentials("ASIA", true);
  s.access_key_id = c.access_key_id;
  s.secret = c.secret_access_key;
  s.token = c.session_token;
  s.account = account;
  s.kind = kind;
  s.issued = Now(sts);
  s.expiration = std::floor(s.issued) + static_cast<double>(seconds);
  return s;
}

// The role a RoleArn names. On AWS an unknown role is an AccessDenied of the caller; without
// enforcement stratus issues credentials for it anyway (local-cloud users pass made-up ARNs).
struct RoleRef {
  std::string arn, name, account, id;
  int64_t max_seconds = 43200;
  std::string trust_policy;
  bool exists = false;
};
Result<RoleRef> FindRole(Sts& sts, const std::string& role_arn, const std::string& caller_account) {
  RoleRef r;
  r.arn = role_arn;
  r.name = identity::NameFromArn(role_arn);
  r.account = identity::AccountFromArn(role_arn);
  if (r.account.empty()) r.account = caller_account;
  if (role_arn.find(":role/") == std::string::npos || r.name.empty()) {
    return Validation(role_arn + " is invalid");
  }
  auto loaded = identity::LoadRole(sts.store, r.account, r.name);
  if (!loaded.ok()) return std::move(loaded).error();
  if (loaded->has_value()) {
    const identity::RoleRecord& role = **loaded;
    r.exists = true;
    r.arn = role.arn;
    r.id = role.id;
    r.max_seconds = role.max_session_seconds;
    r.trust_policy = role.trust_policy;
  } else {
    r.id = "AROA" + ToUpper(Sha256Hex(r.arn).substr(0, 17));
  }
  return r;
}

int64_t Duration(const Json& input, int64_t fallback) {
  auto it = input.find("DurationSeconds");
  return it != input.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// Fills the role-session fields shared by AssumeRole and AssumeRoleWithWebIdentity.
Result<Json> IssueRoleSession(Sts& sts, const RoleRef& role, const Json& input, SessionRecord s,
                              const SessionPolicies& policies, size_t packed) {
  std::string session_name = input.value("RoleSessionName", "");
  s.arn = "arn:aws:sts::" + role.account + ":assumed-role/" + role.name + "/" + session_name;
  s.user_id = role.id + ":" + session_name;
  s.role_arn = role.arn;
  s.role_name = role.name;
  s.session_policies = policies.documents;
  s.has_session_policies = policies.given;
  if (input.contains("SourceIdentity")) s.source_identity = input.value("SourceIdentity", "");
  STRATUS_RETURN_IF_ERROR(identity::SaveSession(sts.store, s));
  Json out{{"Credentials", CredentialsJson(s)},
           {"AssumedRoleUser", {{"AssumedRoleId", s.user_id}, {"Arn", s.arn}}},
           {"PackedPolicySize", PackedPercent(packed)}};
  if (!s.source_identity.empty()) out["SourceIdentity"] = s.source_identity;
  return out;
}

}  // namespace

Result<Json> AssumeRole(Sts& sts, const aws::Caller& caller, const Json& input) {
  STRATUS_ASSIGN_OR_RETURN(RoleRef role, FindRole(sts, input.value("RoleArn", ""), caller.account_id));
  if (!role.exists && sts.enforcing) {
    return AccessDenied("User: " + caller.arn + " is not authorized to perform: sts:AssumeRole on resource: " +
                        input.value("RoleArn", ""));
  }
  std::optional<SessionRecord> parent = CallerSession(sts, caller);
  bool chained = parent && parent->kind == SessionKind::kAssumedRole;
  int64_t seconds = Duration(input, kDefaultRoleSeconds);
  if (chained && seconds > kChainedMaxSeconds && input.contains("DurationSeconds")) {
    return Validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
  }
  if (seconds > role.max_seconds) {
    return Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }
  STRATUS_ASSIGN_OR_RETURN(SessionPolicies policies, ReadSessionPolicies(sts, role.account, input));
  size_t packed = policies.packed;
  STRATUS_ASSIGN_OR_RETURN(identity::Tags tags, ReadTags(input, packed));
  std::vector<std::string> transitive;
  for (const auto& k : input.value("TransitiveTagKeys", Json::array())) {
    std::string key = k.is_string() ? k.get<std::string>() : "";
    bool found = std::any_of(tags.begin(), tags.end(), [&](const auto& t) { return ToLower(t.first) == ToLower(key); });
    if (!found) {
      return Error("InvalidParameterValue", "The specified transitive tag key must be included in the requested tags.", 400);
    }
    transitive.push_back(key);
  }
  // Role chaining: the parent's transitive tags pass on and cannot be overridden.
  if (chained) {
    for (const auto& key : parent->transitive_tag_keys) {
      for (const auto& [k, v] : parent->tags) {
        if (ToLower(k) != ToLower(key)) continue;
        bool clash = std::any_of(tags.begin(), tags.end(), [&](const auto& t) { return ToLower(t.first) == ToLower(k); });
        if (clash) {
          return AccessDenied("Cannot override the transitive session tag " + k + " of the calling session");
        }
        tags.emplace_back(k, v);
        transitive.push_back(k);
      }
    }
  }
  if (packed > kPackedLimit) {
    return Error("PackedPolicyTooLarge", "Packed policy consumes " + std::to_string(PackedPercent(packed)) +
                                             "% of allotted space, please use smaller policy.", 400);
  }
  STRATUS_ASSIGN_OR_RETURN(SessionRecord s, NewSession(sts, SessionKind::kAssumedRole, role.account, seconds));
  s.tags = std::move(tags);
  s.transitive_tag_keys = std::move(transitive);
  if (parent && !parent->source_identity.empty()) {
    if (input.contains("SourceIdentity") && input.value("SourceIdentity", "") != parent->source_identity) {
      return AccessDenied("The source identity of a role session cannot be changed by role chaining.");
    }
    s.source_identity = parent->source_identity;
  }
  return IssueRoleSession(sts, role, input, std::move(s), policies, packed);
}

Result<Json> AssumeRoleWithWebIdentity(Sts& sts, const Json& input) {
  auto jwt = identity::oidc::ParseJwt(input.value("WebIdentityToken", ""));
  if (!jwt.ok()) {
    return InvalidIdentityToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)");
  }
  std::string role_arn = input.value("RoleArn", "");
  std::string account = identity::AccountFromArn(role_arn);
  std::string iss = jwt->claims.value("iss", "");
  std::string url = iss;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (url.starts_with(scheme)) url = url.substr(scheme.size());
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string provider_arn = "arn:aws:iam::" + account + ":oidc-provider/" + url;
  auto provider = identity::LoadOidc(sts.store, account, provider_arn);
  if (!provider.ok()) return std::move(provider).error();
  if (iss.empty() || !provider->has_value()) {
    return InvalidIdentityToken("No OpenIDConnect provider found in your account for " + iss);
  }
  const identity::OidcProviderRecord& p = **provider;
  Json aud = jwt->claims.contains("aud") ? jwt->claims["aud"] : jwt->claims.value("client_id", Json());
  std::string audience;
  auto allowed = [&](const Json& a) {
    if (!a.is_string()) return false;
    for (const auto& id : p.client_ids) {
      if (id == a.get<std::string>()) {
        audience = id;
        return true;
      }
    }
    return false;
  };
  bool aud_ok = false;
  if (aud.is_array()) {
    for (const auto& a : aud) aud_ok = aud_ok || allowed(a);
  } else {
    aud_ok = allowed(aud);
  }
  if (!aud_ok) return InvalidIdentityToken("Incorrect token audience");
  if (!sts.jwks) return Error("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider", 400);
  int64_t now_s = sts.clock.NowMillis() / 1000;
  if (Status st = identity::oidc::VerifyJwt(*jwt, *sts.jwks, now_s); !st.ok()) {
    const std::string& code = st.error().code;
    if (code == "ExpiredToken") {
      return Error("ExpiredTokenException", "Token expired: current date/time " + FormatIso8601(static_cast<double>(now_s)) +
                   " must be before the expiration date/time " +
                   FormatIso8601(jwt->claims.value("exp", 0.0)), 400);
    }
    if (code == "JwksUnavailable") {
      return Error("IDPCommunicationError",
                   "Couldn't retrieve verification key from your identity provider, please reference "
                   "AssumeRoleWithWebIdentity documentation for requirements", 400);
    }
    return InvalidIdentityToken("Incorrect token signature or claims: " + st.error().message);
  }
  STRATUS_ASSIGN_OR_RETURN(RoleRef role, FindRole(sts, role_arn, account));
  std::string not_authorized = "Not authorized to perform sts:AssumeRoleWithWebIdentity";
  if (!role.exists) return AccessDenied(not_authorized);
  // The trust policy must allow the provider, with its claims as condition keys.
  auto trust = pol::ParsePolicy(role.trust_policy, pol::PolicyKind::kTrust);
  if (!trust.ok()) return AccessDenied(not_authorized);
  pol::RequestContext context;
  std::string sub = jwt->claims.value("sub", "");
  context.Set(url + ":aud", audience);
  context.Set(url + ":sub", sub);
  if (jwt->claims.contains("azp") && jwt->claims["azp"].is_string()) context.Set(url + ":azp", jwt->claims["azp"].get<std::string>());
  context.Set("aws:FederatedProvider", provider_arn);
  context.Set("aws:CurrentTime", FormatIso8601(Now(sts)));
  context.Set("aws:EpochTime", std::to_string(now_s));
  if (input.contains("RoleSessionName")) context.Set("sts:RoleSessionName", input.value("RoleSessionName", ""));
  pol::Request request;
  request.principal = pol::Principal{pol::PrincipalType::kWebIdentity, provider_arn, "", ""};
  request.action = "sts:AssumeRoleWithWebIdentity";
  request.resource = role.arn;
  request.resource_account = role.account;
  request.context = &context;
  if (!pol::ResourcePolicyAllows(**trust, request)) return AccessDenied(not_authorized);
  int64_t seconds = Duration(input, kDefaultRoleSeconds);
  if (seconds > role.max_seconds) {
    return Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }
  STRATUS_ASSIGN_OR_RETURN(SessionPolicies policies, ReadSessionPolicies(sts, role.account, input));
  if (policies.packed > kPackedLimit) {
    return Error("PackedPolicyTooLarge", "Packed policy consumes " + std::to_string(PackedPercent(policies.packed)) +
                                             "% of allotted space, please use smaller policy.", 400);
  }
  STRATUS_ASSIGN_OR_RETURN(SessionRecord s, NewSession(sts, SessionKind::kAssumedRole, role.account, seconds));
  s.web_identity_provider = provider_arn;
  s.web_identity_subject = sub;
  STRATUS_ASSIGN_OR_RETURN(Json out, IssueRoleSession(sts, role, input, std::move(s), policies, policies.packed));
  out["SubjectFromWebIdentityToken"] = sub;
  out["Provider"] = iss;
  out["Audience"] = audience;
  return out;
}

Result<Json> GetSessionToken(Sts& sts, const aws::Caller& caller, const Json& input) {
  if (CallerSession(sts, caller)) {
    return AccessDenied("Cannot call GetSessionToken with session credentials");
  }
  bool root = caller.arn.ends_with(":root");
  int64_t seconds = Duration(input, root ? kRootTokenMaxSeconds : kDefaultTokenSeconds);
  if (root) seconds = std::min(seconds, kRootTokenMaxSeconds);
  STRATUS_ASSIGN_OR_RETURN(SessionRecord s, NewSession(sts, SessionKind::kSessionToken, caller.account_id, seconds));
  s.arn = caller.arn;
  s.user_id = caller.user_id;
  if (caller.arn.find(":user/") != std::string::npos) s.user_name = identity::NameFromArn(caller.arn);
  STRATUS_RETURN_IF_ERROR(identity::SaveSession(sts.store, s));
  return Json{{"Credentials", CredentialsJson(s)}};
}

Result<Json> GetFederationToken(Sts& sts, const aws::Caller& caller, const Json& input) {
  if (CallerSession(sts, caller)) {
    return AccessDenied("Cannot call GetFederationToken with session credentials");
  }
  bool root = caller.arn.ends_with(":root");
  int64_t seconds = Duration(input, root ? kRootTokenMaxSeconds : kDefaultTokenSeconds);
  if (root) seconds = std::min(seconds, kRootTokenMaxSeconds);
  STRATUS_ASSIGN_OR_RETURN(SessionPolicies policies, ReadSessionPolicies(sts, caller.account_id, input));
  size_t packed = policies.packed;
  STRATUS_ASSIGN_OR_RETURN(identity::Tags tags, ReadTags(input, packed));
  if (packed > kPackedLimit) {
    return Error("PackedPolicyTooLarge", "Packed policy consumes " + std::to_string(PackedPercent(packed)) +
                                             "% of allotted space, please use smaller policy.", 400);
  }
  std::string name = input.value("Name", "");
  STRATUS_ASSIGN_OR_RETURN(SessionRecord s, NewSession(sts, SessionKind::kFederatedUser, caller.account_id, seconds));
  s.arn = "arn:aws:sts::" + caller.account_id + ":federated-user/" + name;
  s.user_id = caller.account_id + ":" + name;
  if (caller.arn.find(":user/") != std::string::npos) s.user_name = identity::NameFromArn(caller.arn);
  s.session_policies = policies.documents;
  // AWS: a federated user session without a session policy has no permissions.
  s.has_session_policies = true;
  s.tags = std::move(tags);
  STRATUS_RETURN_IF_ERROR(identity::SaveSession(sts.store, s));
  return Json{{"Credentials", CredentialsJson(s)},
              {"FederatedUser", {{"FederatedUserId", s.user_id}, {"Arn", s.arn}}},
              {"PackedPolicySize", PackedPercent(packed)}};
}

}  // namespace stratus::services::sts
