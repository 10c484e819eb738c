// Engine: software-token MFA setup (AssociateSoftwareToken, VerifySoftwareToken) and MFA
// preferences (SetUserMFAPreference, AdminSetUserMFAPreference).
#include "core/crypto.h"
#include "core/strings.h"
#include "services/cognito/engine.h"
#include "services/cognito/secrets.h"

namespace stratus::services::cognito {

Result<Json> Engine::AssociateSoftwareToken(const Json& in) {
  std::string secret = secrets::Base32Encode(RandomBytes(20));
  if (in.contains("AccessToken")) {
    STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in["AccessToken"].get<std::string>()));
    STRATUS_RETURN_IF_ERROR(users_.Update(c.pool(), c.user()["Username"].get<std::string>(), [&](Json& u) -> Status {
      u["_PendingTotp"] = secret;
      return Status::Ok();
    }));
    return Json{{"SecretCode", secret}};
  }
  if (!in.contains("Session")) return InvalidParameter("Either AccessToken or Session must be given.");
  std::string session_id = in["Session"].get<std::string>();
  STRATUS_ASSIGN_OR_RETURN(auto found, FindSession(session_id));
  auto& [pool, state] = found;
  if (state.value("Challenge", "") != "MFA_SETUP") return NotAuthorized("Invalid session for the user, session is expired.");
  STRATUS_RETURN_IF_ERROR(users_.Update(pool, state.value("Username", ""), [&](Json& u) -> Status {
    u["_PendingTotp"] = secret;
    return Status::Ok();
  }));
  return Json{{"SecretCode", secret}, {"Session", session_id}};
  return NotAuthorized("Invalid session for the user, session is expired.");
}

Result<Json> Engine::VerifySoftwareToken(const Json& in) {
  std::string code = in.value("UserCode", "");
  auto verify_pending = [&](const Json& pool, const std::string& username) -> Status {
    return users_.Update(pool, username, [&](Json& u) -> Status {
      auto secret = secrets::Base32Decode(u.value("_PendingTotp", ""));
      if (!secret || secret->empty()) {
        return CognitoError("EnableSoftwareTokenMFAException", "Software token has not been associated.");
      }
      int64_t step = 0;
      if (!secrets::VerifyTotp(*secret, code, clock_.NowMillis() / 1000, &step)) {
        return CognitoError("EnableSoftwareTokenMFAException", "Code mismatch");
      }
      u["_Totp"] = Json{{"secret", u["_PendingTotp"]}, {"verified", true}, {"step", step},
                        {"name", in.value("FriendlyDeviceName", "")}};
      u.erase("_PendingTotp");
      return Status::Ok();
    }).ok() ? Status::Ok() : Status(CognitoError("EnableSoftwareTokenMFAException", "Code mismatch"));
  };
  if (in.contains("AccessToken")) {
    STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in["AccessToken"].get<std::string>()));
    STRATUS_RETURN_IF_ERROR(verify_pending(c.pool(), c.user()["Username"].get<std::string>()));
    return Json{{"Status", "SUCCESS"}};
  }
  std::string session_id = in.value("Session", "");
  STRATUS_ASSIGN_OR_RETURN(auto found, FindSession(session_id));
  auto& [pool, state] = found;
  if (state.value("Challenge", "") != "MFA_SETUP") return NotAuthorized("Invalid session for the user, session is expired.");
  std::string username = state.value("Username", "");
  STRATUS_RETURN_IF_ERROR(verify_pending(pool, username));
  STRATUS_RETURN_IF_ERROR(users_.Update(pool, username, [&](Json& u) -> Status {
    Json enabled = u.value("_Mfa", Json::object()).value("Enabled", Json::array());
    if (!ListHas(enabled, "SOFTWARE_TOKEN_MFA")) enabled.push_back("SOFTWARE_TOKEN_MFA");
    u["_Mfa"]["Enabled"] = enabled;
    u["_Mfa"]["Preferred"] = "SOFTWARE_TOKEN_MFA";
    return Status::Ok();
  }));
  state["TotpVerified"] = true;
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::Session(pool["Id"].get<std::string>(), Sha256Hex(session_id)), DumpJson(state)));
  return Json{{"Status", "SUCCESS"}, {"Session", session_id}};
  return NotAuthorized("Invalid session for the user, session is expired.");
}

static Status ApplyMfaPreference(Json& u, const Json& in) {
  Json enabled = u.value("_Mfa", Json::object()).value("Enabled", Json::array());
  std::string preferred = u.value("_Mfa", Json::object()).value("Preferred", "");
  auto apply = [&](const char* member, const char* method) -> Status {
    if (!in.contains(member)) return Status::Ok();
    const Json& s = in[member];
    bool on = s.value("Enabled", false);
    if (std::string_view(method) == "SOFTWARE_TOKEN_MFA" && on && !u.value("_Totp", Json::object()).value("verified", false)) {
      return InvalidParameter("User has not verified software token mfa");
    }
    Json next = Json::array();
    for (const auto& m : enabled) {
      if (m != method) next.push_back(m);
    }
    if (on) next.push_back(method);
    enabled = next;
    if (s.value("PreferredMfa", false)) preferred = method;
    if (!on && preferred == method) preferred.clear();
    return Status::Ok();
  };
  STRATUS_RETURN_IF_ERROR(apply("SMSMfaSettings", "SMS_MFA"));
  STRATUS_RETURN_IF_ERROR(apply("SoftwareTokenMfaSettings", "SOFTWARE_TOKEN_MFA"));
  STRATUS_RETURN_IF_ERROR(apply("EmailMfaSettings", "EMAIL_OTP"));
  u["_Mfa"] = Json{{"Enabled", enabled}};
  if (!preferred.empty()) u["_Mfa"]["Preferred"] = preferred;
  return Status::Ok();
}

Result<Json> Engine::SetUserMfaPreference(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  STRATUS_RETURN_IF_ERROR(users_.Update(c.pool(), c.user()["Username"].get<std::string>(),
                                        [&](Json& u) { return ApplyMfaPreference(u, in); }));
  return Json::object();
}

Result<Json> Engine::AdminSetUserMfaPreference(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  STRATUS_RETURN_IF_ERROR(users_.Update(pool, found["Username"].get<std::string>(),
                                        [&](Json& u) { return ApplyMfaPreference(u, in); }));
  return Json::object();
}

}  // namespace stratus::services::cognito
