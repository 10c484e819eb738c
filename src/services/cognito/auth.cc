// Engine: InitiateAuth / RespondToAuthChallenge (password, SRP, refresh, custom auth, the
// choice-based USER_AUTH flow), challenges (NEW_PASSWORD_REQUIRED, MFA) and tokens. TOTP setup
// and MFA preferences are in auth_mfa.cc.
#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/cognito/engine.h"
#include "services/cognito/secrets.h"
#include "services/cognito/srp.h"

namespace stratus::services::cognito {

namespace {

constexpr size_t kSessionBytes = 96;
constexpr int kMaxChallengeAttempts = 3;
constexpr size_t kMaxCustomRounds = 8;

// Whether the client allows an auth flow (ExplicitAuthFlows; AWS's defaults when unset).
bool FlowAllowed(const Json& client, const std::string& flow) {
  const Json& flows = client.value("ExplicitAuthFlows", Json::array());
  bool unset = !flows.is_array() || flows.empty();
  if (flow == "USER_SRP_AUTH") return unset || ListHas(flows, "ALLOW_USER_SRP_AUTH");
  if (flow == "REFRESH_TOKEN_AUTH" || flow == "REFRESH_TOKEN") {
    return unset || ListHas(flows, "ALLOW_REFRESH_TOKEN_AUTH") || !ListHas(flows, "ALLOW_USER_SRP_AUTH") ||
           true;  // AWS always accepts refresh with legacy flow names; ALLOW_ lists normally carry it
  }
  if (flow == "USER_PASSWORD_AUTH") return ListHas(flows, "ALLOW_USER_PASSWORD_AUTH") || ListHas(flows, "USER_PASSWORD_AUTH");
  if (flow == "CUSTOM_AUTH") return unset || ListHas(flows, "ALLOW_CUSTOM_AUTH") || ListHas(flows, "CUSTOM_AUTH_FLOW_ONLY");
  if (flow == "ADMIN_USER_PASSWORD_AUTH" || flow == "ADMIN_NO_SRP_AUTH") {
    return ListHas(flows, "ALLOW_ADMIN_USER_PASSWORD_AUTH") || ListHas(flows, "ADMIN_NO_SRP_AUTH");
  }
  if (flow == "USER_AUTH") return ListHas(flows, "ALLOW_USER_AUTH");
  return false;
}

bool HideExistence(const Json& client) {
  return client.value("PreventUserExistenceErrors", "") == "ENABLED";
}

// A constant-cost stand-in for a password check of a user that does not exist, so that response
// times do not tell whether a user exists.
void DummyPasswordCheck(std::string_view password) {
  static const srp::Verifier dummy = srp::MakeVerifier("dummy", "stratus-dummy-user", "stratus-dummy-password");
  (void)srp::CheckPassword("dummy", "stratus-dummy-user", password, dummy);
}

}  // namespace

// ---------------------------------------------------------------- sessions

Result<Json> Engine::NewSession(const Json& pool, Json state) {
  // "<poolId>.<random>": opaque to clients, and says which pool to look in.
  std::string id = pool["Id"].get<std::string>() + "." + jwt::Base64UrlEncode(RandomBytes(kSessionBytes));
  int64_t minutes = 3;
  state["Expires"] = clock_.NowMillis() + minutes * 60 * 1000;
  if (state.contains("ValidityMinutes")) state["Expires"] = clock_.NowMillis() + state["ValidityMinutes"].get<int64_t>() * 60000;
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::Session(pool["Id"].get<std::string>(), Sha256Hex(id)), DumpJson(state)));
  return Json(id);
}

Result<Json> Engine::TakeSession(const Json& pool, const std::string& session, const std::string& client_id) {
  Error invalid = NotAuthorized("Invalid session for the user, session is expired.");
  if (session.empty() || session.size() > 4096) return invalid;
  std::string key = keys::Session(pool["Id"].get<std::string>(), Sha256Hex(session));
  std::optional<std::string> raw;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(raw, txn.Get(key));
    if (raw) STRATUS_RETURN_IF_ERROR(txn.Delete(key));
    return Status::Ok();
  }));
  if (!raw) return invalid;
  Json state = ParseJsonOrDiscarded(*raw);
  if (state.value("Expires", int64_t{0}) < clock_.NowMillis()) return invalid;
  if (state.value("ClientId", "") != client_id) return invalid;
  state["_Id"] = session;
  return state;
}

Result<std::pair<Json, Json>> Engine::FindSession(const std::string& session) {
  Error invalid = NotAuthorized("Invalid session for the user, session is expired.");
  auto dot = session.find('.');
  if (dot == std::string::npos || session.size() > 4096) return invalid;
  auto pool = dir_.PoolById(session.substr(0, dot));
  if (!pool.ok()) return invalid;
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(keys::Session(session.substr(0, dot), Sha256Hex(session))));
  if (!raw) return invalid;
  Json state = ParseJsonOrDiscarded(*raw);
  if (state.value("Expires", int64_t{0}) < clock_.NowMillis()) return invalid;
  return std::make_pair(std::move(pool).value(), std::move(state));
}

Result<Json> Engine::Challenge(const Json& pool, const std::string& name, Json params, Json state) {
  state["Challenge"] = name;
  std::string given_id = state.value("_Id", "");
  state.erase("_Id");
  Json session;
  if (!given_id.empty()) {
    // Keep the same session string (retries of a code challenge).
    state["Expires"] = clock_.NowMillis() + 3 * 60 * 1000;
    STRATUS_RETURN_IF_ERROR(store_.Put(keys::Session(pool["Id"].get<std::string>(), Sha256Hex(given_id)), DumpJson(state)));
    session = given_id;
  } else {
    STRATUS_ASSIGN_OR_RETURN(session, NewSession(pool, state));
  }
  return Json{{"ChallengeName", name}, {"Session", session}, {"ChallengeParameters", params}};
}

// ---------------------------------------------------------------- lockout

Status Engine::CheckLockout(const Json& user) {
  if (user.value("_LockedUntil", int64_t{0}) > clock_.NowMillis()) {
    return NotAuthorized("Password attempts exceeded");
  }
  return Status::Ok();
}

Status Engine::RecordFailure(const Json& pool, const Json& user) {
  int64_t now = clock_.NowMillis();
  auto r = users_.Update(pool, user["Username"].get<std::string>(), [&](Json& u) -> Status {
    int64_t failed = u.value("_Failed", int64_t{0}) + 1;
    u["_Failed"] = failed;
    if (failed >= kFreeFailures) {
      int64_t shift = std::min<int64_t>(failed - kFreeFailures, 20);
      int64_t lock = std::min<int64_t>(int64_t{1000} << shift, kMaxLockoutMs);
      u["_LockedUntil"] = now + lock;
    }
    return Status::Ok();
  });
  return r.ok() ? Status::Ok() : r.error();
}

// ---------------------------------------------------------------- tokens

Result<Json> Engine::PreTokenAndIssue(const Json& pool, const Json& client, const Json& user,
                                      const std::string& source, const std::string& scope,
                                      const std::string& origin_jti, bool refresh,
                                      const Json& metadata, int64_t auth_time,
                                      const std::string& nonce) {
  Tokens::Grant g;
  g.nonce = nonce;
  g.pool = pool;
  g.client = client;
  g.user = user;
  std::string pool_id = pool["Id"];
  STRATUS_ASSIGN_OR_RETURN(g.groups, users_.GroupsOf(pool_id, Users::UsernameKey(pool, user["Username"].get<std::string>())));
  g.scope = scope;
  g.auth_time = auth_time;
  g.origin_jti = origin_jti;
  g.refresh = refresh;
  if (Triggers::Has(pool, "PreTokenGeneration")) {
    Json group_names = Json::array();
    Json roles = Json::array();
    for (const auto& gr : g.groups) {
      group_names.push_back(gr["GroupName"]);
      if (gr.contains("RoleArn")) roles.push_back(gr["RoleArn"]);
    }
    Triggers::Event e{"PreTokenGeneration", source, user["Username"], client["ClientId"],
                      Json{{"userAttributes", user["Attributes"]},
                           {"groupConfiguration", Json{{"groupsToOverride", group_names},
                                                       {"iamRolesToOverride", roles},
                                                       {"preferredRole", roles.empty() ? Json() : roles[0]}}},
                           {"clientMetadata", metadata.is_object() ? metadata : Json::object()}},
                      Json{{"claimsOverrideDetails", nullptr}}};
    const int version = Triggers::PreTokenVersion(pool);
    if (version >= 2) {
      Json scopes = Json::array();
      for (std::string_view rest = g.scope; !rest.empty();) {
        size_t sp = rest.find(' ');
        if (sp != 0) scopes.push_back(std::string(rest.substr(0, sp)));
        rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      }
      e.request["scopes"] = std::move(scopes);
      e.response = Json{{"claimsAndScopeOverrideDetails", nullptr}};
    }
    STRATUS_ASSIGN_OR_RETURN(auto resp, triggers_.Invoke(pool, e));
    if (resp) {
      const Json& details = resp->contains("claimsOverrideDetails") && (*resp)["claimsOverrideDetails"].is_object()
                                ? (*resp)["claimsOverrideDetails"]
                                : resp->value("claimsAndScopeOverrideDetails", Json::object());
      if (details.is_object()) {
        Json add = details.value("claimsToAddOrOverride", Json::object());
        Json suppress = details.value("claimsToSuppress", Json::array());
        if (details.contains("idTokenGeneration") && details["idTokenGeneration"].is_object()) {
          add = details["idTokenGeneration"].value("claimsToAddOrOverride", Json::object());
          suppress = details["idTokenGeneration"].value("claimsToSuppress", Json::array());
        }
        static const char* const kReserved[] = {"iss", "sub", "aud", "token_use", "exp", "iat", "auth_time",
                                                "cognito:username", "origin_jti", "jti", "event_id"};
        for (const auto& [k, v] : add.items()) {
          bool reserved = false;
          for (const char* r : kReserved) reserved = reserved || k == r;
          if (!reserved) g.add_claims[k] = v;
        }
        if (suppress.is_array()) {
          for (const auto& s : suppress) {
            if (s.is_string()) g.suppress_claims.push_back(s.get<std::string>());
          }
        }
        if (details.contains("groupOverrideDetails") && details["groupOverrideDetails"].is_object()) {
          g.group_override = details["groupOverrideDetails"];
        }
        // Version 2+: the access token's claims and scopes (AWS ignores this part of a version 1
        // function's answer).
        if (version >= 2) g.access_changes = Tokens::AccessChanges::Parse(details);
      }
    }
  }
  return tokens_.Issue(g);
}

Result<Json> Engine::IssueClientCredentials(const Json& pool, const Json& client,
                                            const std::string& scope) {
  Tokens::AccessChanges changes;
  if (Triggers::Has(pool, "PreTokenGeneration") && Triggers::PreTokenVersion(pool) >= 3) {
    Json scopes = Json::array();
    for (std::string_view rest = scope; !rest.empty();) {
      size_t sp = rest.find(' ');
      if (sp != 0) scopes.push_back(std::string(rest.substr(0, sp)));
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    }
    // A machine has no user: no attributes and no groups; the client stands in for the user name.
    Triggers::Event e{"PreTokenGeneration", "TokenGeneration_ClientCredentials", client["ClientId"],
                      client["ClientId"],
                      Json{{"userAttributes", Json::object()},
                           {"groupConfiguration", Json{{"groupsToOverride", Json::array()},
                                                       {"iamRolesToOverride", Json::array()},
                                                       {"preferredRole", nullptr}}},
                           {"scopes", std::move(scopes)},
                           {"clientMetadata", Json::object()}},
                      Json{{"claimsAndScopeOverrideDetails", nullptr}}};
    STRATUS_ASSIGN_OR_RETURN(auto resp, triggers_.Invoke(pool, e));
    if (resp) changes = Tokens::AccessChanges::Parse(resp->value("claimsAndScopeOverrideDetails", Json::object()));
  }
  return tokens_.IssueClientCredentials(pool, client, scope, changes);
}

Result<Json> Engine::IssueFor(const Json& pool, const Json& client, const Json& user,
                              const std::string& scope, const std::string& nonce,
                              const std::string& trigger_source) {
  // Hosted UI sign-ins go through the same pre-token path; the nonce rides along.
  return PreTokenAndIssue(pool, client, user, trigger_source, scope, "", true, Json::object(),
                          clock_.NowMillis() / 1000, nonce);
}

// ---------------------------------------------------------------- after the first factor

Result<Json> Engine::HostedSignIn(const Json& pool, const Json& client, const std::string& username,
                                  const std::string& password) {
  STRATUS_ASSIGN_OR_RETURN(Json user, PasswordSignIn(pool, client, username, password));
  return AfterFirstFactor(pool, client, std::move(user), Json::object(), "TokenGeneration_HostedAuth", true);
}

Result<Json> Engine::AfterFirstFactor(const Json& pool, const Json& client, Json user,
                                      const Json& metadata, const std::string& source, bool hosted) {
  std::string status = user.value("UserStatus", "");
  if (status == "UNCONFIRMED") return UserNotConfirmed();
  if (status == "RESET_REQUIRED") {
    return CognitoError("PasswordResetRequiredException", "Password reset required for the user");
  }
  Json base_state = Json{{"ClientId", client["ClientId"]}, {"Username", user["Username"]},
                         {"AuthTime", clock_.NowMillis() / 1000}, {"Meta", metadata}};
  if (hosted) base_state["Hosted"] = true;
  if (status == "FORCE_CHANGE_PASSWORD") {
    if (user.value("_TempExpires", INT64_MAX) < clock_.NowMillis() / 1000) {
      return NotAuthorized("Temporary password has expired and must be reset by an administrator.");
    }
    Json attrs = user["Attributes"];
    attrs.erase("sub");
    Json required = Json::array();
    for (const auto& a : pool.value("SchemaAttributes", Json::array())) {
      std::string n = a.value("Name", "");
      if (a.value("Required", false) && n != "sub" && !attrs.contains(n)) required.push_back("userAttributes." + n);
    }
    return Challenge(pool, "NEW_PASSWORD_REQUIRED",
                     Json{{"USER_ID_FOR_SRP", user["Username"]}, {"requiredAttributes", DumpJson(required)},
                          {"userAttributes", DumpJson(attrs)}},
                     base_state);
  }
  std::string mfa_cfg = pool.value("MfaConfiguration", "OFF");
  if (mfa_cfg != "OFF") {
    const Json& mfa = user.value("_Mfa", Json::object());
    const Json& enabled_list = mfa.value("Enabled", Json::array());
    const Json& attrs = user["Attributes"];
    bool totp = user.value("_Totp", Json::object()).value("verified", false);
    Json methods = Json::array();
    if (totp && ListHas(enabled_list, "SOFTWARE_TOKEN_MFA")) methods.push_back("SOFTWARE_TOKEN_MFA");
    if (attrs.contains("phone_number") && ListHas(enabled_list, "SMS_MFA")) methods.push_back("SMS_MFA");
    if (attrs.contains("email") && ListHas(enabled_list, "EMAIL_OTP")) methods.push_back("EMAIL_OTP");
    if (methods.empty() && mfa_cfg == "ON") {
      if (attrs.contains("phone_number") && pool.contains("SmsConfiguration")) {
        methods.push_back("SMS_MFA");
      } else {
        Json setup = Json::array({"SOFTWARE_TOKEN_MFA"});
        return Challenge(pool, "MFA_SETUP", Json{{"MFAS_CAN_SETUP", DumpJson(setup)}}, base_state);
      }
    }
    if (!methods.empty()) {
      std::string method = mfa.value("Preferred", "");
      if (!ListHas(methods, method)) method = methods.size() == 1 ? methods[0].get<std::string>() : "";
      if (method.empty()) {
        return Challenge(pool, "SELECT_MFA_TYPE", Json{{"MFAS_CAN_CHOOSE", DumpJson(methods)}}, base_state);
      }
      if (method == "SOFTWARE_TOKEN_MFA") {
        return Challenge(pool, method, Json{{"USER_ID_FOR_SRP", user["Username"]}}, base_state);
      }
      std::string attr = method == "SMS_MFA" ? "phone_number" : "email";
      std::string code = secrets::NumericCode();
      base_state["Code"] = code;
      base_state["CodeExpires"] = clock_.NowMillis() / 1000 + kMfaCodeSeconds;
      STRATUS_ASSIGN_OR_RETURN(Json details, DeliverCode(pool, user, "mfa", attr, client["ClientId"], metadata, code));
      return Challenge(pool, method,
                       Json{{"CODE_DELIVERY_DELIVERY_MEDIUM", details.value("DeliveryMedium", "")},
                            {"CODE_DELIVERY_DESTINATION", details.value("Destination", "")},
                            {"USER_ID_FOR_SRP", user["Username"]}},
                       base_state);
    }
  }
  // Success: clear failures (only when there are some: a sign-in should cost no extra write),
  // post authentication, tokens.
  if (user.value("_Failed", int64_t{0}) != 0 || user.contains("_LockedUntil")) {
    STRATUS_RETURN_IF_ERROR(users_.Update(pool, user["Username"].get<std::string>(), [&](Json& u) -> Status {
      u["_Failed"] = 0;
      u.erase("_LockedUntil");
      return Status::Ok();
    }));
  }
  if (Triggers::Has(pool, "PostAuthentication")) {
    Triggers::Event e{"PostAuthentication", "PostAuthentication_Authentication", user["Username"], client["ClientId"],
                      Json{{"userAttributes", user["Attributes"]}, {"newDeviceUsed", false},
                           {"clientMetadata", metadata.is_object() ? metadata : Json::object()}}};
    STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
  }
  if (hosted) return Json{{"SignedInUser", user["Username"]}};
  STRATUS_ASSIGN_OR_RETURN(Json result, PreTokenAndIssue(pool, client, user, source, "aws.cognito.signin.user.admin",
                                                         "", true, metadata, clock_.NowMillis() / 1000));
  return Json{{"ChallengeParameters", Json::object()}, {"AuthenticationResult", result}};
}

// ---------------------------------------------------------------- InitiateAuth

Result<Json> Engine::PasswordSignIn(const Json& pool, const Json& client, const std::string& username,
                                    const std::string& password) {
  auto found = users_.Find(pool, username);
  if (!found.ok()) {
    if (found.error().code != "UserNotFoundException") return found.error();
    DummyPasswordCheck(password);
    if (HideExistence(client)) return NotAuthorized(std::string(kBadCredentials));
    return found.error();
  }
  Json user = std::move(found).value();
  STRATUS_RETURN_IF_ERROR(CheckLockout(user));
  if (!Users::CheckPassword(pool, user, password)) {
    STRATUS_RETURN_IF_ERROR(RecordFailure(pool, user));
    return NotAuthorized(std::string(kBadCredentials));
  }
  if (!user.value("Enabled", true)) return NotAuthorized("User is disabled.");
  return user;
}

Result<Json> Engine::InitiateAuth(const Json& in, const Scope* admin) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  if (admin) {
    if (pool.value("_Account", "") != admin->account || pool["Id"] != in.value("UserPoolId", "")) {
      return ResourceNotFound("User pool " + in.value("UserPoolId", "") + " does not exist.");
    }
  }
  std::string flow = in.value("AuthFlow", "");
  if (!admin && (flow == "ADMIN_NO_SRP_AUTH" || flow == "ADMIN_USER_PASSWORD_AUTH")) {
    return InvalidParameter("Initiate Auth method not supported.");
  }
  if (admin && flow == "USER_PASSWORD_AUTH") return InvalidParameter("Initiate Auth method not supported.");
  if (!FlowAllowed(client, flow)) return InvalidParameter(flow + " flow not enabled for this client");
  const Json& params = in.value("AuthParameters", Json::object());
  const Json& metadata = in.value("ClientMetadata", Json::object());
  std::string username = params.value("USERNAME", "");
  std::string source = "TokenGeneration_Authentication";

  if (flow == "REFRESH_TOKEN_AUTH" || flow == "REFRESH_TOKEN") {
    STRATUS_ASSIGN_OR_RETURN(Json rec, tokens_.LookupRefresh(pool["Id"].get<std::string>(), params.value("REFRESH_TOKEN", "")));
    if (rec.value("ClientId", "") != client["ClientId"]) return NotAuthorized("Invalid Refresh Token");
    auto user = users_.Get(pool, rec.value("Username", ""));
    if (!user.ok()) return NotAuthorized("User does not exist.");
    if (client.contains("ClientSecret")) {
      Status a = CheckSecretHash(client, username.empty() ? user->value("Username", "") : username, params);
      if (!a.ok()) {
        Status b = CheckSecretHash(client, user->value("Attributes", Json::object()).value("sub", ""), params);
        if (!b.ok()) return a.error();
      }
    }
    if (!user->value("Enabled", true)) return NotAuthorized("User is disabled.");
    STRATUS_ASSIGN_OR_RETURN(Json result, PreTokenAndIssue(pool, client, *user, "TokenGeneration_RefreshTokens",
                                                           rec.value("Scope", "aws.cognito.signin.user.admin"),
                                                           rec.value("OriginJti", ""), false, metadata,
                                                           rec.value("AuthTime", int64_t{0})));
    return Json{{"ChallengeParameters", Json::object()}, {"AuthenticationResult", result}};
  }

  if (username.empty()) return InvalidParameter("Missing required parameter USERNAME");
  STRATUS_RETURN_IF_ERROR(CheckSecretHash(client, username, params));

  if (flow == "USER_PASSWORD_AUTH" || flow == "ADMIN_USER_PASSWORD_AUTH" || flow == "ADMIN_NO_SRP_AUTH") {
    std::string password = params.value("PASSWORD", "");
    if (password.empty()) return InvalidParameter("Missing required parameter PASSWORD");
    auto found = users_.Find(pool, username);
    if (!found.ok() && found.error().code == "UserNotFoundException" && Triggers::Has(pool, "UserMigration")) {
      Triggers::Event e{"UserMigration", "UserMigration_Authentication", username, client["ClientId"],
                        Json{{"password", password}, {"validationData", Json::object()}, {"clientMetadata", metadata}},
                        Json{{"userAttributes", nullptr}, {"finalUserStatus", nullptr}, {"messageAction", nullptr}}};
      auto resp = triggers_.Invoke(pool, e);
      if (!resp.ok()) {
        if (resp.error().code == "UserLambdaValidationException") return NotAuthorized(std::string(kBadCredentials));
        return resp.error();
      }
      if (*resp && (**resp).contains("userAttributes") && (**resp)["userAttributes"].is_object()) {
        Json attrs = (**resp)["userAttributes"];
        attrs.erase("sub");
        std::string status = (**resp).value("finalUserStatus", "CONFIRMED") == "RESET_REQUIRED" ? "RESET_REQUIRED" : "CONFIRMED";
        Json migrated = NewUserRecord(pool, username, attrs, status);
        Users::SetPassword(pool, migrated, password);
        STRATUS_RETURN_IF_ERROR(users_.Create(pool, migrated));
        spdlog::info("cognito: migrated user {} into {}", username, pool["Id"].get<std::string>());
      }
    }
    if (Triggers::Has(pool, "PreAuthentication")) {
      auto u = users_.Find(pool, username);
      if (u.ok()) {
        Triggers::Event e{"PreAuthentication", "PreAuthentication_Authentication", u->value("Username", ""), client["ClientId"],
                          Json{{"userAttributes", u->value("Attributes", Json::object())},
                               {"validationData", Json::object()}, {"userNotFound", false}, {"clientMetadata", metadata}}};
        STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
      }
    }
    STRATUS_ASSIGN_OR_RETURN(Json user, PasswordSignIn(pool, client, username, password));
    return AfterFirstFactor(pool, client, std::move(user), metadata, source);
  }

  if (flow == "USER_SRP_AUTH") {
    auto found = users_.Find(pool, username);
    if (!found.ok()) {
      if (found.error().code != "UserNotFoundException") return found.error();
      if (!HideExistence(client)) return found.error();
      return InitiateSrp(pool, client, params, Json(), Json{{"Fake", true}});
    }
    STRATUS_RETURN_IF_ERROR(CheckLockout(*found));
    if (!found->value("Enabled", true)) return NotAuthorized("User is disabled.");
    return InitiateSrp(pool, client, params, *found, Json{{"Meta", metadata}});
  }

  if (flow == "CUSTOM_AUTH") {
    auto found = users_.Find(pool, username);
    if (!found.ok()) {
      if (found.error().code == "UserNotFoundException" && HideExistence(client)) return NotAuthorized(std::string(kBadCredentials));
      return found.error();
    }
    if (!found->value("Enabled", true)) return NotAuthorized("User is disabled.");
    if (!Triggers::Has(pool, "DefineAuthChallenge")) {
      return InvalidParameter("Custom auth lambda trigger is not configured for the user pool.");
    }
    Json session = Json{{"ClientId", client["ClientId"]}, {"Username", found->value("Username", "")},
                        {"Flow", "CUSTOM_AUTH"}, {"Custom", Json::array()}, {"AuthTime", clock_.NowMillis() / 1000}};
    return RunCustomAuth(pool, client, *found, std::move(session), metadata);
  }

  if (flow == "USER_AUTH") {
    auto found = users_.Find(pool, username);
    if (!found.ok() && !(found.error().code == "UserNotFoundException" && HideExistence(client))) return found.error();
    std::string preferred = params.value("PREFERRED_CHALLENGE", "");
    if (preferred == "PASSWORD") {
      STRATUS_ASSIGN_OR_RETURN(Json user, PasswordSignIn(pool, client, username, params.value("PASSWORD", "")));
      return AfterFirstFactor(pool, client, std::move(user), metadata, source);
    }
    if (preferred == "PASSWORD_SRP" && params.contains("SRP_A")) {
      if (!found.ok()) return InitiateSrp(pool, client, params, Json(), Json{{"Fake", true}});
      return InitiateSrp(pool, client, params, *found, Json{{"Meta", metadata}});
    }
    Json available = Json::array({"PASSWORD", "PASSWORD_SRP"});
    const Json& factors = pool["Policies"].value("SignInPolicy", Json::object()).value("AllowedFirstAuthFactors", Json::array());
    if (ListHas(factors, "EMAIL_OTP")) available.push_back("EMAIL_OTP");
    Json state = Json{{"ClientId", client["ClientId"]}, {"Username", found.ok() ? found->value("Username", "") : username},
                      {"Fake", !found.ok()}, {"Meta", metadata}};
    STRATUS_ASSIGN_OR_RETURN(Json out, Challenge(pool, "SELECT_CHALLENGE", Json::object(), state));
    out["AvailableChallenges"] = available;
    out.erase("ChallengeParameters");
    return out;
  }
  return InvalidParameter("Initiate Auth method not supported.");
}

Result<Json> Engine::InitiateSrp(const Json& pool, const Json& client, const Json& params,
                                 const Json& user, Json state) {
  std::string A = params.value("SRP_A", "");
  if (A.empty()) return InvalidParameter("Missing required parameter SRP_A");
  std::string pool_short = PoolShortName(pool["Id"].get<std::string>());
  std::string user_id = user.is_null() ? params.value("USERNAME", "") : user["Username"].get<std::string>();
  srp::Verifier v;
  if (user.is_null() || !user.contains("_Srp")) {
    // Unknown user (existence hidden) or a user without a password: a throwaway verifier.
    v = srp::MakeVerifier(pool_short, user_id, Base64Encode(RandomBytes(16)));
    state["Fake"] = true;
  } else {
    v = srp::Verifier{user["_Srp"]["salt"], user["_Srp"]["v"]};
  }
  auto eph = srp::MakeServerEphemeral(v.verifier_hex);
  if (!eph) return InternalError("SRP setup failed.");
  state["ClientId"] = client["ClientId"];
  state["Username"] = user_id;
  state["Srp"] = Json{{"A", A}, {"B", eph->B_hex}, {"b", eph->b_hex}, {"v", v.verifier_hex}};
  state["AuthTime"] = clock_.NowMillis() / 1000;
  STRATUS_ASSIGN_OR_RETURN(Json out, Challenge(pool, "PASSWORD_VERIFIER", Json::object(), state));
  // SECRET_BLOCK carries the session too, so clients that do not echo Session still find it.
  out["ChallengeParameters"] = Json{{"SALT", v.salt_hex}, {"SECRET_BLOCK", Base64Encode(out["Session"].get<std::string>())},
                                    {"SRP_B", eph->B_hex}, {"USERNAME", user_id},
                                    {"USER_ID_FOR_SRP", user_id}};
  return out;
}

Result<Json> Engine::RespondPasswordVerifier(const Json& pool, const Json& client, const Json& in, Json session) {
  const Json& r = in.value("ChallengeResponses", Json::object());
  std::string user_id = session.value("Username", "");
  const Json& s = session["Srp"];
  Error bad = NotAuthorized(std::string(kBadCredentials));
  std::string block = r.value("PASSWORD_CLAIM_SECRET_BLOCK", "");
  auto block_bytes = Base64Decode(block);
  if (!block_bytes) return bad;
  auto key = srp::ServerKey(s.value("A", ""), s.value("B", ""), s.value("b", ""), s.value("v", ""));
  if (!key) return bad;
  std::string expected = srp::ClaimSignature(*key, PoolShortName(pool["Id"].get<std::string>()), user_id,
                                             *block_bytes, r.value("TIMESTAMP", ""));
  bool ok = ConstantTimeEquals(expected, r.value("PASSWORD_CLAIM_SIGNATURE", ""));
  if (session.value("Fake", false)) return bad;
  auto found = users_.Get(pool, user_id);
  if (!found.ok()) return bad;
  // The user as now, not as at InitiateAuth: disabled since, or a password set since (the
  // session's verifier is then no longer the user's, and the proof is of a password they no
  // longer have).
  if (!found->value("Enabled", true)) return NotAuthorized("User is disabled.");
  STRATUS_RETURN_IF_ERROR(CheckLockout(*found));
  ok = ok && found->value("_Srp", Json::object()).value("v", "") == s.value("v", "");
  if (!ok) {
    STRATUS_RETURN_IF_ERROR(RecordFailure(pool, *found));
    return bad;
  }
  if (session.value("Flow", "") == "CUSTOM_AUTH") {
    session["Custom"].push_back(Json{{"challengeName", "PASSWORD_VERIFIER"}, {"challengeResult", true}, {"challengeMetadata", nullptr}});
    session.erase("Srp");
    session.erase("_Id");
    return RunCustomAuth(pool, client, *found, std::move(session), in.value("ClientMetadata", Json::object()));
  }
  if (Triggers::Has(pool, "PreAuthentication")) {
    Triggers::Event e{"PreAuthentication", "PreAuthentication_Authentication", user_id, client["ClientId"],
                      Json{{"userAttributes", found->value("Attributes", Json::object())}, {"validationData", Json::object()},
                           {"userNotFound", false}, {"clientMetadata", in.value("ClientMetadata", Json::object())}}};
    STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
  }
  return AfterFirstFactor(pool, client, *found, in.value("ClientMetadata", Json::object()), "TokenGeneration_Authentication");
}

Result<Json> Engine::RunCustomAuth(const Json& pool, const Json& client, const Json& user, Json session,
                                   const Json& metadata) {
  std::string username = user["Username"];
  if (session["Custom"].size() > kMaxCustomRounds) return NotAuthorized(std::string(kBadCredentials));
  Triggers::Event define{"DefineAuthChallenge", "DefineAuthChallenge_Authentication", username, client["ClientId"],
                         Json{{"userAttributes", user["Attributes"]}, {"session", session["Custom"]},
                              {"clientMetadata", metadata}, {"userNotFound", false}},
                         Json{{"challengeName", nullptr}, {"issueTokens", false}, {"failAuthentication", false}}};
  STRATUS_ASSIGN_OR_RETURN(auto decision, triggers_.Invoke(pool, define));
  if (!decision) return InvalidParameter("Custom auth lambda trigger is not configured for the user pool.");
  if (decision->value("failAuthentication", false)) return NotAuthorized(std::string(kBadCredentials));
  if (decision->value("issueTokens", false)) {
    return AfterFirstFactor(pool, client, user, metadata, "TokenGeneration_Authentication");
  }
  std::string next = (*decision)["challengeName"].is_string() ? (*decision)["challengeName"].get<std::string>() : "";
  if (next != "CUSTOM_CHALLENGE") {
    return InvalidLambdaResponse("Unsupported challenge " + next + " returned by DefineAuthChallenge (stratus runs CUSTOM_CHALLENGE rounds).");
  }
  Triggers::Event create{"CreateAuthChallenge", "CreateAuthChallenge_Authentication", username, client["ClientId"],
                         Json{{"userAttributes", user["Attributes"]}, {"challengeName", next},
                              {"session", session["Custom"]}, {"clientMetadata", metadata}, {"userNotFound", false}},
                         Json{{"publicChallengeParameters", nullptr}, {"privateChallengeParameters", nullptr},
                              {"challengeMetadata", nullptr}}};
  STRATUS_ASSIGN_OR_RETURN(auto created, triggers_.Invoke(pool, create));
  if (!created) return InvalidParameter("CreateAuthChallenge lambda trigger is not configured for the user pool.");
  Json pub = created->value("publicChallengeParameters", Json::object());
  if (!pub.is_object()) pub = Json::object();
  pub["USERNAME"] = username;
  session["Private"] = created->value("privateChallengeParameters", Json::object());
  session["ChallengeMetadata"] = created->value("challengeMetadata", Json());
  session["Meta"] = metadata;
  session.erase("_Id");
  return Challenge(pool, "CUSTOM_CHALLENGE", pub, std::move(session));
}

// ---------------------------------------------------------------- RespondToAuthChallenge

Result<Json> Engine::RespondToAuthChallenge(const Json& in, const Scope* admin) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  if (admin && (pool.value("_Account", "") != admin->account || pool["Id"] != in.value("UserPoolId", ""))) {
    return ResourceNotFound("User pool " + in.value("UserPoolId", "") + " does not exist.");
  }
  std::string name = in.value("ChallengeName", "");
  const Json& r = in.value("ChallengeResponses", Json::object());
  std::string session_id = in.value("Session", "");
  if (session_id.empty() && name == "PASSWORD_VERIFIER") {
    session_id = Base64Decode(r.value("PASSWORD_CLAIM_SECRET_BLOCK", "")).value_or("");
  }
  STRATUS_ASSIGN_OR_RETURN(Json session, TakeSession(pool, session_id, client["ClientId"].get<std::string>()));
  if (session.value("Challenge", "") != name) {
    return InvalidParameter("Incorrect challenge name: expected " + session.value("Challenge", "") + ".");
  }
  std::string username = session.value("Username", "");
  STRATUS_RETURN_IF_ERROR(CheckSecretHash(client, r.value("USERNAME", username), r));
  const Json& metadata = in.value("ClientMetadata", session.value("Meta", Json::object()));
  if (name == "PASSWORD_VERIFIER") return RespondPasswordVerifier(pool, client, in, std::move(session));

  if (name == "SELECT_CHALLENGE") {
    std::string answer = r.value("ANSWER", "");
    if (session.value("Fake", false) && answer != "PASSWORD_SRP") return NotAuthorized(std::string(kBadCredentials));
    if (answer == "PASSWORD") {
      STRATUS_ASSIGN_OR_RETURN(Json user, PasswordSignIn(pool, client, username, r.value("PASSWORD", "")));
      return AfterFirstFactor(pool, client, std::move(user), metadata, "TokenGeneration_Authentication");
    }
    if (answer == "PASSWORD_SRP") {
      auto found = users_.Get(pool, username);
      Json params = Json{{"SRP_A", r.value("SRP_A", "")}, {"USERNAME", username}};
      if (!found.ok()) return InitiateSrp(pool, client, params, Json(), Json{{"Fake", true}});
      return InitiateSrp(pool, client, params, *found, Json{{"Meta", metadata}});
    }
    if (answer == "EMAIL_OTP") {
      STRATUS_ASSIGN_OR_RETURN(Json user, users_.Get(pool, username));
      std::string code = secrets::NumericCode(8);
      Json state = Json{{"ClientId", client["ClientId"]}, {"Username", username}, {"Code", code},
                        {"CodeExpires", clock_.NowMillis() / 1000 + kMfaCodeSeconds}, {"FirstFactor", true}};
      STRATUS_ASSIGN_OR_RETURN(Json d, DeliverCode(pool, user, "mfa", "email", client["ClientId"], metadata, code));
      return Challenge(pool, "EMAIL_OTP", Json{{"CODE_DELIVERY_DELIVERY_MEDIUM", "EMAIL"},
                                               {"CODE_DELIVERY_DESTINATION", d.value("Destination", "")}}, state);
    }
    return InvalidParameter("The challenge " + answer + " is not available for this user.");
  }

  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Get(pool, username));
  if (!user.value("Enabled", true)) return NotAuthorized("User is disabled.");

  if (name == "NEW_PASSWORD_REQUIRED") {
    std::string password = r.value("NEW_PASSWORD", "");
    if (password.empty()) return InvalidParameter("Missing required parameter NEW_PASSWORD");
    if (auto why = secrets::PolicyViolation(pool["Policies"].value("PasswordPolicy", Json::object()), password)) {
      return InvalidPassword(*why);
    }
    Json attrs = Json::object();
    for (const auto& [k, v] : r.items()) {
      if (StartsWith(k, "userAttributes.")) attrs[k.substr(15)] = v;
    }
    Json hashed = user;
    Users::SetPassword(pool, hashed, password);
    STRATUS_ASSIGN_OR_RETURN(user, users_.Update(pool, username, [&](Json& u) -> Status {
      for (const auto& [k, v] : attrs.items()) u["Attributes"][k] = v;
      u.erase("_Password");  // records before verifier-only passwords had a hash too
      u["_Srp"] = hashed["_Srp"];
      u["UserStatus"] = "CONFIRMED";
      u.erase("_TempExpires");
      u["UserLastModifiedDate"] = clock_.NowSeconds();
      return Status::Ok();
    }));
    return AfterFirstFactor(pool, client, std::move(user), metadata, "TokenGeneration_NewPasswordChallenge",
                            session.value("Hosted", false));
  }

  auto finish = [&]() -> Result<Json> {
    if (user.value("_Failed", int64_t{0}) != 0 || user.contains("_LockedUntil")) {
      STRATUS_RETURN_IF_ERROR(users_.Update(pool, username, [&](Json& u) -> Status {
        u["_Failed"] = 0;
        u.erase("_LockedUntil");
        return Status::Ok();
      }));
    }
    if (Triggers::Has(pool, "PostAuthentication")) {
      Triggers::Event e{"PostAuthentication", "PostAuthentication_Authentication", username, client["ClientId"],
                        Json{{"userAttributes", user["Attributes"]}, {"newDeviceUsed", false}, {"clientMetadata", metadata}}};
      STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
    }
    if (session.value("Hosted", false)) return Json{{"SignedInUser", user["Username"]}};
    STRATUS_ASSIGN_OR_RETURN(Json result, PreTokenAndIssue(pool, client, user, "TokenGeneration_Authentication",
                                                           "aws.cognito.signin.user.admin", "", true, metadata,
                                                           session.value("AuthTime", clock_.NowMillis() / 1000)));
    return Json{{"ChallengeParameters", Json::object()}, {"AuthenticationResult", result}};
  };
  // A wrong code keeps the session for another try, up to kMaxChallengeAttempts.
  auto retry = [&](Error e) -> Result<Json> {
    int attempts = session.value("Attempts", 0) + 1;
    if (attempts >= kMaxChallengeAttempts) return NotAuthorized("Invalid session for the user, session is expired.");
    session["Attempts"] = attempts;
    std::string id = session["_Id"];
    session.erase("_Id");
    STRATUS_RETURN_IF_ERROR(store_.Put(keys::Session(pool["Id"].get<std::string>(), Sha256Hex(id)), DumpJson(session)));
    return e;
  };

  if (name == "SOFTWARE_TOKEN_MFA") {
    const Json& totp = user.value("_Totp", Json::object());
    auto secret = secrets::Base32Decode(totp.value("secret", ""));
    int64_t step = 0;
    if (!secret || !secrets::VerifyTotp(*secret, r.value("SOFTWARE_TOKEN_MFA_CODE", ""), clock_.NowMillis() / 1000, &step) ||
        step <= totp.value("step", int64_t{-1})) {
      return retry(CodeMismatch());
    }
    STRATUS_RETURN_IF_ERROR(users_.Update(pool, username, [&](Json& u) -> Status {
      u["_Totp"]["step"] = step;
      return Status::Ok();
    }));
    return finish();
  }
  if (name == "SMS_MFA" || name == "EMAIL_OTP" || name == "SMS_OTP") {
    std::string field = name == "SMS_MFA" ? "SMS_MFA_CODE" : name == "EMAIL_OTP" ? "EMAIL_OTP_CODE" : "SMS_OTP_CODE";
    if (session.value("CodeExpires", int64_t{0}) < clock_.NowMillis() / 1000) return ExpiredCode();
    if (!ConstantTimeEquals(session.value("Code", ""), r.value(field, ""))) return retry(CodeMismatch());
    return finish();
  }
  if (name == "SELECT_MFA_TYPE") {
    std::string answer = r.value("ANSWER", "");
    session.erase("_Id");
    if (answer == "SOFTWARE_TOKEN_MFA") return Challenge(pool, answer, Json{{"USER_ID_FOR_SRP", username}}, session);
    if (answer == "SMS_MFA" || answer == "EMAIL_OTP") {
      std::string code = secrets::NumericCode();
      session["Code"] = code;
      session["CodeExpires"] = clock_.NowMillis() / 1000 + kMfaCodeSeconds;
      STRATUS_ASSIGN_OR_RETURN(Json d, DeliverCode(pool, user, "mfa", answer == "SMS_MFA" ? "phone_number" : "email",
                                                   client["ClientId"], metadata, code));
      return Challenge(pool, answer, Json{{"CODE_DELIVERY_DELIVERY_MEDIUM", d.value("DeliveryMedium", "")},
                                          {"CODE_DELIVERY_DESTINATION", d.value("Destination", "")}}, session);
    }
    return InvalidParameter("Invalid MFA type " + answer);
  }
  if (name == "MFA_SETUP") {
    if (!session.value("TotpVerified", false)) {
      return InvalidParameter("Software token MFA has not been set up: call AssociateSoftwareToken and VerifySoftwareToken with the session first.");
    }
    return finish();
  }
  if (name == "CUSTOM_CHALLENGE") {
    Triggers::Event verify{"VerifyAuthChallengeResponse", "VerifyAuthChallengeResponse_Authentication", username,
                           client["ClientId"],
                           Json{{"userAttributes", user["Attributes"]}, {"privateChallengeParameters", session.value("Private", Json::object())},
                                {"challengeAnswer", r.value("ANSWER", "")}, {"clientMetadata", metadata}, {"userNotFound", false}},
                           Json{{"answerCorrect", false}}};
    STRATUS_ASSIGN_OR_RETURN(auto verdict, triggers_.Invoke(pool, verify));
    bool correct = verdict && verdict->value("answerCorrect", false);
    session["Custom"].push_back(Json{{"challengeName", "CUSTOM_CHALLENGE"}, {"challengeResult", correct},
                                     {"challengeMetadata", session.value("ChallengeMetadata", Json())}});
    session.erase("_Id");
    return RunCustomAuth(pool, client, user, std::move(session), metadata);
  }
  return InvalidParameter("Challenge " + name + " is not supported by stratus.");
}

Result<Json> Engine::GetTokensFromRefreshToken(const Json& in) {
  Json params = Json{{"REFRESH_TOKEN", in.value("RefreshToken", "")}};
  if (in.contains("ClientSecret")) {
    // GetTokensFromRefreshToken authenticates with the secret itself.
    STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
    if (!ConstantTimeEquals(pc.second.value("ClientSecret", ""), in["ClientSecret"].get<std::string>())) {
      return NotAuthorized("Unable to verify secret hash for client " + in.value("ClientId", ""));
    }
  }
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  STRATUS_ASSIGN_OR_RETURN(Json rec, tokens_.LookupRefresh(pc.first["Id"].get<std::string>(), params["REFRESH_TOKEN"].get<std::string>()));
  if (rec.value("ClientId", "") != pc.second["ClientId"]) return NotAuthorized("Invalid Refresh Token");
  auto user = users_.Get(pc.first, rec.value("Username", ""));
  if (!user.ok() || !user->value("Enabled", true)) return NotAuthorized("User is disabled.");
  STRATUS_ASSIGN_OR_RETURN(Json result, PreTokenAndIssue(pc.first, pc.second, *user, "TokenGeneration_RefreshTokens",
                                                         rec.value("Scope", "aws.cognito.signin.user.admin"),
                                                         rec.value("OriginJti", ""), false,
                                                         in.value("ClientMetadata", Json::object()),
                                                         rec.value("AuthTime", int64_t{0})));
  return Json{{"AuthenticationResult", result}};
}

}  // namespace stratus::services::cognito
