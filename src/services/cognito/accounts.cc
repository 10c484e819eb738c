// Engine: sign-up, confirmation, passwords, attributes, sign-out and the Admin* user family.
#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/cognito/engine.h"
#include "services/cognito/secrets.h"

namespace stratus::services::cognito {

namespace {

bool LooksLikeEmail(std::string_view s) {
  auto at = s.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < s.size();
}

bool LooksLikePhone(std::string_view s) {
  if (s.size() < 3 || s[0] != '+') return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// Checks attribute names against the pool schema; "custom:" attributes must be declared.
Status CheckAttributes(const Json& pool, const Json& attrs, bool admin) {
  const Json& schema = pool.value("SchemaAttributes", Json::array());
  for (const auto& [name, value] : attrs.items()) {
    const Json* def = nullptr;
    for (const auto& a : schema) {
      if (a.value("Name", "") == name) def = &a;
    }
    if (!def) {
      return InvalidParameter("Attribute does not exist in the schema.\n" + name);
    }
    if (name == "sub") return InvalidParameter("Cannot modify the non-mutable attribute sub");
    if (!admin && def->value("DeveloperOnlyAttribute", false)) {
      return NotAuthorized("A client attempted to write unauthorized attribute");
    }
    if (name == "email" && !LooksLikeEmail(value.get<std::string>())) {
      return InvalidParameter("Invalid email address format.");
    }
    if (name == "phone_number" && !LooksLikePhone(value.get<std::string>())) {
      return InvalidParameter("Invalid phone number format.");
    }
  }
  return Status::Ok();
}

Status CheckRequired(const Json& pool, const Json& attrs) {
  for (const auto& a : pool.value("SchemaAttributes", Json::array())) {
    std::string name = a.value("Name", "");
    if (a.value("Required", false) && name != "sub" && !attrs.contains(name)) {
      return InvalidParameter("Attributes did not conform to the schema: " + name +
                              ": The attribute " + name + " is required");
    }
  }
  return Status::Ok();
}

std::string CodeDefault(const std::string& purpose) {
  if (purpose == "forgot") return "Your password reset code is {####}. ";
  if (purpose == "mfa") return "Your authentication code is {####}. ";
  if (purpose == "invite") return "Your username is {username} and temporary password is {####}. ";
  return "Your verification code is {####}. ";
}

}  // namespace

Json Engine::NewUserRecord(const Json& pool, const std::string& username, const Json& attributes,
                           const std::string& status) {
  double now = clock_.NowSeconds();
  Json attrs = attributes.is_object() ? attributes : Json::object();
  attrs["sub"] = NewUuid();
  return Json{{"Username", username}, {"Attributes", attrs},  {"Enabled", true},
              {"UserStatus", status}, {"UserCreateDate", now}, {"UserLastModifiedDate", now}};
}

Result<std::pair<Json, Json>> Engine::ClientFor(const Json& in) {
  return dir_.ClientById(in.value("ClientId", ""));
}

Status Engine::CheckSecretHash(const Json& client, const std::string& username, const Json& params) {
  if (!client.contains("ClientSecret")) return Status::Ok();
  std::string id = client["ClientId"];
  std::string given = params.is_object() ? params.value("SECRET_HASH", "") : "";
  if (given.empty()) {
    return NotAuthorized("Client " + id + " is configured with secret but SECRET_HASH was not received");
  }
  std::string expected = secrets::SecretHash(client["ClientSecret"].get<std::string>(), username, id);
  if (!ConstantTimeEquals(expected, given)) {
    return NotAuthorized("Unable to verify secret hash for client " + id);
  }
  return Status::Ok();
}

Result<Engine::Caller> Engine::FromAccessToken(std::string_view token) {
  Caller c;
  STRATUS_ASSIGN_OR_RETURN(c.token, tokens_.CheckAccess(token));
  const Json& claims = c.token->claims;
  auto username = claims.find("username");
  if (username == claims.end() || !username->is_string()) return NotAuthorized("Invalid Access Token");
  auto jti = claims.find("origin_jti");
  std::string_view origin_jti = jti != claims.end() && jti->is_string()
                                    ? std::string_view(jti->get_ref<const std::string&>())
                                    : std::string_view();
  const std::string& pool_id = c.token->pool_id;
  // Checked in this order, as each answer would be given by itself: revoked, no pool, no user.
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(bool revoked, Tokens::RevokedIn(txn, pool_id, origin_jti));
    if (revoked) return NotAuthorized("Access Token has been revoked");
    STRATUS_ASSIGN_OR_RETURN(c.pool_record, dir_.PoolById(txn, pool_id));
    auto user = users_.Get(txn, *c.pool_record, username->get_ref<const std::string&>());
    if (!user.ok()) {
      return user.error().code == "UserNotFoundException" ? NotAuthorized("User does not exist.")
                                                          : user.error();
    }
    c.user_record = std::move(user).value();
    return Status::Ok();
  }));
  if (!c.user().value("Enabled", true)) return NotAuthorized("User is disabled.");
  return c;
}

Result<Json> Engine::DeliverCode(const Json& pool, const Json& user, const std::string& purpose,
                                 const std::string& attr, const std::string& client_id,
                                 const Json& metadata, const std::string& code) {
  const Json& attrs = user.value("Attributes", Json::object());
  if (!attrs.contains(attr)) return Json();
  std::string destination = attrs[attr].get<std::string>();
  bool email = attr == "email";
  std::string subject = email ? pool.value("EmailVerificationSubject", "Your verification code") : "";
  std::string message = email ? pool.value("EmailVerificationMessage", CodeDefault(purpose))
                              : pool.value("SmsVerificationMessage", CodeDefault(purpose));
  if (purpose == "mfa") message = pool.value("SmsAuthenticationMessage", CodeDefault(purpose));
  if (purpose == "forgot" || purpose == "invite") message = CodeDefault(purpose);
  std::string username = user["Username"];
  if (Triggers::Has(pool, "CustomMessage")) {
    static const std::map<std::string, std::string> kSources = {
        {"signup", "CustomMessage_SignUp"},        {"resend", "CustomMessage_ResendCode"},
        {"forgot", "CustomMessage_ForgotPassword"}, {"verify", "CustomMessage_VerifyUserAttribute"},
        {"update", "CustomMessage_UpdateUserAttribute"}, {"mfa", "CustomMessage_Authentication"},
        {"invite", "CustomMessage_AdminCreateUser"}};
    auto it = kSources.find(purpose);
    Triggers::Event e{"CustomMessage", it == kSources.end() ? "CustomMessage_SignUp" : it->second,
                      username, client_id,
                      Json{{"userAttributes", attrs}, {"codeParameter", "{####}"},
                           {"usernameParameter", "{username}"}, {"linkParameter", "{##Click Here##}"},
                           {"clientMetadata", metadata.is_object() ? metadata : Json::object()}},
                      Json{{"smsMessage", nullptr}, {"emailMessage", nullptr}, {"emailSubject", nullptr}}};
    STRATUS_ASSIGN_OR_RETURN(auto resp, triggers_.Invoke(pool, e));
    if (resp) {
      std::string key = email ? "emailMessage" : "smsMessage";
      if ((*resp).contains(key) && (*resp)[key].is_string()) message = (*resp)[key].get<std::string>();
      if (email && (*resp).contains("emailSubject") && (*resp)["emailSubject"].is_string()) {
        subject = (*resp)["emailSubject"].get<std::string>();
      }
    }
  }
  message = ReplaceAll(ReplaceAll(message, "{####}", code), "{username}", username);
  Json m = Json{{"Username", username}, {"Purpose", purpose}, {"DeliveryMedium", email ? "EMAIL" : "SMS"},
                {"AttributeName", attr}, {"Destination", destination}, {"Code", code},
                {"Subject", subject}, {"Message", message}};
  STRATUS_RETURN_IF_ERROR(users_.Deliver(pool.value("Id", ""), std::move(m)));
  spdlog::info("cognito: {} code for {} in {} delivered to the outbox ({})", purpose, username,
               pool.value("Id", ""), email ? "EMAIL" : "SMS");
  return Json{{"Destination", MaskDestination(attr, destination)},
              {"DeliveryMedium", email ? "EMAIL" : "SMS"},
              {"AttributeName", attr}};
}

// The attribute a pool verifies on sign-up ("email" before "phone_number"), or "".
static std::string VerifiedAttribute(const Json& pool, const Json& attrs) {
  const Json& auto_verified = pool.value("AutoVerifiedAttributes", Json::array());
  if (ListHas(auto_verified, "email") && attrs.contains("email")) return "email";
  if (ListHas(auto_verified, "phone_number") && attrs.contains("phone_number")) return "phone_number";
  return {};
}

Result<Json> Engine::SignUp(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  std::string given = in.value("Username", "");
  std::string password = in.value("Password", "");
  STRATUS_RETURN_IF_ERROR(CheckSecretHash(client, given, in));
  if (pool["AdminCreateUserConfig"].value("AllowAdminCreateUserOnly", false)) {
    return NotAuthorized("SignUp is not permitted for this user pool");
  }
  Json attrs = AttributeMap(in.value("UserAttributes", Json::array()));
  STRATUS_RETURN_IF_ERROR(CheckAttributes(pool, attrs, false));
  std::string username = given;
  const Json& username_attrs = pool.value("UsernameAttributes", Json::array());
  if (!username_attrs.empty()) {
    bool email_ok = ListHas(username_attrs, "email") && LooksLikeEmail(given);
    bool phone_ok = ListHas(username_attrs, "phone_number") && LooksLikePhone(given);
    if (!email_ok && !phone_ok) {
      return InvalidParameter(ListHas(username_attrs, "email") ? "Username should be an email."
                                                               : "Username should be a phone number.");
    }
    attrs[email_ok ? "email" : "phone_number"] = given;
    username = NewUuid();
  } else if (LooksLikeEmail(given) && ListHas(pool.value("AliasAttributes", Json::array()), "email")) {
    return InvalidParameter("Username cannot be of email format, since user pool is configured for email alias.");
  }
  STRATUS_RETURN_IF_ERROR(CheckRequired(pool, attrs));
  if (password.empty()) return InvalidParameter("Password is required.");
  if (auto why = secrets::PolicyViolation(pool["Policies"].value("PasswordPolicy", Json::object()), password)) {
    return InvalidPassword(*why);
  }
  Json user = NewUserRecord(pool, username, attrs, "UNCONFIRMED");
  if (!username_attrs.empty()) user["Attributes"]["sub"] = username;
  bool auto_confirm = false;
  if (Triggers::Has(pool, "PreSignUp")) {
    Triggers::Event e{"PreSignUp", "PreSignUp_SignUp", username, client["ClientId"],
                      Json{{"userAttributes", user["Attributes"]},
                           {"validationData", AttributeMap(in.value("ValidationData", Json::array()))},
                           {"clientMetadata", in.value("ClientMetadata", Json::object())}},
                      Json{{"autoConfirmUser", false}, {"autoVerifyEmail", false}, {"autoVerifyPhone", false}}};
    STRATUS_ASSIGN_OR_RETURN(auto resp, triggers_.Invoke(pool, e));
    if (resp) {
      auto_confirm = resp->value("autoConfirmUser", false);
      if (resp->value("autoVerifyEmail", false)) user["Attributes"]["email_verified"] = "true";
      if (resp->value("autoVerifyPhone", false)) user["Attributes"]["phone_number_verified"] = "true";
    }
  }
  Users::SetPassword(pool, user, password);
  std::string verify_attr = VerifiedAttribute(pool, user["Attributes"]);
  std::string code;
  if (auto_confirm) {
    user["UserStatus"] = "CONFIRMED";
  } else if (!verify_attr.empty()) {
    code = secrets::NumericCode();
    user["_Codes"]["signup"] = Json{{"code", code}, {"expires", clock_.NowMillis() / 1000 + kSignUpCodeSeconds}};
  }
  STRATUS_RETURN_IF_ERROR(users_.Create(pool, user));
  Json out = Json{{"UserConfirmed", auto_confirm}, {"UserSub", user["Attributes"]["sub"]}};
  if (!code.empty()) {
    STRATUS_ASSIGN_OR_RETURN(Json details, DeliverCode(pool, user, "signup", verify_attr, client["ClientId"],
                                                       in.value("ClientMetadata", Json::object()), code));
    if (!details.is_null()) out["CodeDeliveryDetails"] = details;
  }
  if (auto_confirm && Triggers::Has(pool, "PostConfirmation")) {
    Triggers::Event e{"PostConfirmation", "PostConfirmation_ConfirmSignUp", username, client["ClientId"],
                      Json{{"userAttributes", user["Attributes"]}, {"clientMetadata", in.value("ClientMetadata", Json::object())}}};
    STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
  }
  return out;
}

Result<Json> Engine::ConfirmSignUp(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  std::string name = in.value("Username", "");
  STRATUS_RETURN_IF_ERROR(CheckSecretHash(client, name, in));
  auto found = users_.Find(pool, name);
  if (!found.ok()) {
    if (client.value("PreventUserExistenceErrors", "") == "ENABLED") return CodeMismatch();
    return found.error();
  }
  std::string code = in.value("ConfirmationCode", "");
  int64_t now = clock_.NowMillis() / 1000;
  bool was_unconfirmed = false;
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Update(pool, found->value("Username", ""), [&](Json& u) -> Status {
    if (u.value("UserStatus", "") != "UNCONFIRMED") {
      if (in.value("ForceAliasCreation", false)) return Status::Ok();
      return NotAuthorized("User cannot be confirmed. Current status is " + u.value("UserStatus", "") + "");
    }
    const Json& c = u.value("_Codes", Json::object()).value("signup", Json::object());
    if (!c.contains("code")) return ExpiredCode();
    if (!ConstantTimeEquals(c["code"].get<std::string>(), code)) return CodeMismatch();
    if (c.value("expires", int64_t{0}) < now) return ExpiredCode();
    u["_Codes"].erase("signup");
    u["UserStatus"] = "CONFIRMED";
    std::string attr = VerifiedAttribute(pool, u["Attributes"]);
    if (!attr.empty()) u["Attributes"][attr + "_verified"] = "true";
    u["UserLastModifiedDate"] = clock_.NowSeconds();
    was_unconfirmed = true;
    return Status::Ok();
  }));
  if (was_unconfirmed && Triggers::Has(pool, "PostConfirmation")) {
    Triggers::Event e{"PostConfirmation", "PostConfirmation_ConfirmSignUp", user["Username"], client["ClientId"],
                      Json{{"userAttributes", user["Attributes"]}, {"clientMetadata", in.value("ClientMetadata", Json::object())}}};
    STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
  }
  return Json::object();
}

Result<Json> Engine::ResendConfirmationCode(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  std::string name = in.value("Username", "");
  STRATUS_RETURN_IF_ERROR(CheckSecretHash(client, name, in));
  auto found = users_.Find(pool, name);
  bool hide = client.value("PreventUserExistenceErrors", "") == "ENABLED";
  if (!found.ok()) {
    if (hide) return Json{{"CodeDeliveryDetails", Json{{"Destination", "***"}, {"DeliveryMedium", "EMAIL"}, {"AttributeName", "email"}}}};
    return found.error();
  }
  std::string attr = VerifiedAttribute(pool, found->value("Attributes", Json::object()));
  if (attr.empty()) return InvalidParameter("Auto verification not turned on.");
  if (found->value("UserStatus", "") != "UNCONFIRMED") return InvalidParameter("User is already confirmed.");
  std::string code = secrets::NumericCode();
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Update(pool, found->value("Username", ""), [&](Json& u) -> Status {
    u["_Codes"]["signup"] = Json{{"code", code}, {"expires", clock_.NowMillis() / 1000 + kSignUpCodeSeconds}};
    return Status::Ok();
  }));
  STRATUS_ASSIGN_OR_RETURN(Json details, DeliverCode(pool, user, "resend", attr, client["ClientId"],
                                                     in.value("ClientMetadata", Json::object()), code));
  return Json{{"CodeDeliveryDetails", details}};
}

Result<Json> Engine::ForgotPassword(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  std::string name = in.value("Username", "");
  STRATUS_RETURN_IF_ERROR(CheckSecretHash(client, name, in));
  bool hide = client.value("PreventUserExistenceErrors", "") == "ENABLED";
  auto found = users_.Find(pool, name);
  Json fake = Json{{"CodeDeliveryDetails", Json{{"Destination", "***"}, {"DeliveryMedium", "EMAIL"}, {"AttributeName", "email"}}}};
  if (!found.ok()) {
    if (hide) return fake;
    return found.error();
  }
  if (!found->value("Enabled", true)) return NotAuthorized("User is disabled.");
  const Json& attrs = found->value("Attributes", Json::object());
  std::string attr;
  if (attrs.value("email_verified", "") == "true") attr = "email";
  else if (attrs.value("phone_number_verified", "") == "true") attr = "phone_number";
  if (attr.empty()) {
    if (hide) return fake;
    return CognitoError("InvalidParameterException",
                        "Cannot reset password for the user as there is no registered/verified email or phone_number");
  }
  std::string code = secrets::NumericCode();
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Update(pool, found->value("Username", ""), [&](Json& u) -> Status {
    u["_Codes"]["forgot"] = Json{{"code", code}, {"expires", clock_.NowMillis() / 1000 + kResetCodeSeconds}};
    return Status::Ok();
  }));
  STRATUS_ASSIGN_OR_RETURN(Json details, DeliverCode(pool, user, "forgot", attr, client["ClientId"],
                                                     in.value("ClientMetadata", Json::object()), code));
  return Json{{"CodeDeliveryDetails", details}};
}

Result<Json> Engine::ConfirmForgotPassword(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  std::string name = in.value("Username", "");
  STRATUS_RETURN_IF_ERROR(CheckSecretHash(client, name, in));
  auto found = users_.Find(pool, name);
  if (!found.ok()) {
    if (client.value("PreventUserExistenceErrors", "") == "ENABLED") return CodeMismatch();
    return found.error();
  }
  std::string password = in.value("Password", "");
  if (auto why = secrets::PolicyViolation(pool["Policies"].value("PasswordPolicy", Json::object()), password)) {
    return InvalidPassword(*why);
  }
  Json hashed = *found;
  Users::SetPassword(pool, hashed, password);
  std::string code = in.value("ConfirmationCode", "");
  int64_t now = clock_.NowMillis() / 1000;
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Update(pool, found->value("Username", ""), [&](Json& u) -> Status {
    const Json& c = u.value("_Codes", Json::object()).value("forgot", Json::object());
    if (!c.contains("code")) return ExpiredCode();
    if (!ConstantTimeEquals(c["code"].get<std::string>(), code)) return CodeMismatch();
    if (c.value("expires", int64_t{0}) < now) return ExpiredCode();
    u["_Codes"].erase("forgot");
    u.erase("_Password");  // records before verifier-only passwords had a hash too
    u["_Srp"] = hashed["_Srp"];
    u["_Failed"] = 0;
    u.erase("_LockedUntil");
    if (u.value("UserStatus", "") == "RESET_REQUIRED" || u.value("UserStatus", "") == "FORCE_CHANGE_PASSWORD") {
      u["UserStatus"] = "CONFIRMED";
    }
    u["UserLastModifiedDate"] = clock_.NowSeconds();
    return Status::Ok();
  }));
  if (Triggers::Has(pool, "PostConfirmation")) {
    Triggers::Event e{"PostConfirmation", "PostConfirmation_ConfirmForgotPassword", user["Username"], client["ClientId"],
                      Json{{"userAttributes", user["Attributes"]}, {"clientMetadata", in.value("ClientMetadata", Json::object())}}};
    STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
  }
  return Json::object();
}

Result<Json> Engine::GetUser(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  return Users::GetUser(c.user());
}

Result<Json> Engine::ChangePassword(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  STRATUS_RETURN_IF_ERROR(CheckLockout(c.user()));
  std::string previous = in.value("PreviousPassword", "");
  if (!Users::CheckPassword(c.pool(), c.user(), previous)) {
    STRATUS_RETURN_IF_ERROR(RecordFailure(c.pool(), c.user()));
    return NotAuthorized(std::string(kBadCredentials));
  }
  std::string proposed = in.value("ProposedPassword", "");
  if (auto why = secrets::PolicyViolation(c.pool().value("Policies", Json::object()).value("PasswordPolicy", Json::object()), proposed)) {
    return InvalidPassword(*why);
  }
  Json hashed = c.user();
  Users::SetPassword(c.pool(), hashed, proposed);
  STRATUS_RETURN_IF_ERROR(users_.Update(c.pool(), c.user()["Username"].get<std::string>(), [&](Json& u) -> Status {
    u.erase("_Password");  // records before verifier-only passwords had a hash too
    u["_Srp"] = hashed["_Srp"];
    u["_Failed"] = 0;
    u["UserLastModifiedDate"] = clock_.NowSeconds();
    return Status::Ok();
  }));
  return Json::object();
}

Result<Json> Engine::ApplyAttributeUpdate(const Json& pool, const Json& user, const Json& attrs,
                                          bool admin, const std::string& client_id,
                                          const Json& metadata) {
  STRATUS_RETURN_IF_ERROR(CheckAttributes(pool, attrs, admin));
  const Json& auto_verified = pool.value("AutoVerifiedAttributes", Json::array());
  std::vector<std::string> to_verify;
  STRATUS_ASSIGN_OR_RETURN(Json updated, users_.Update(pool, user["Username"].get<std::string>(), [&](Json& u) -> Status {
    for (const auto& [k, v] : attrs.items()) {
      bool changed = u["Attributes"].value(k, Json()) != v;
      u["Attributes"][k] = v;
      if ((k == "email" || k == "phone_number") && changed && !attrs.contains(k + "_verified")) {
        u["Attributes"][k + "_verified"] = "false";
        if (ListHas(auto_verified, k)) to_verify.push_back(k);
      }
    }
    u["UserLastModifiedDate"] = clock_.NowSeconds();
    return Status::Ok();
  }));
  Json details = Json::array();
  if (admin) return details;
  for (const auto& attr : to_verify) {
    std::string code = secrets::NumericCode();
    STRATUS_ASSIGN_OR_RETURN(updated, users_.Update(pool, user["Username"].get<std::string>(), [&](Json& u) -> Status {
      u["_Codes"]["verify:" + attr] = Json{{"code", code}, {"expires", clock_.NowMillis() / 1000 + kSignUpCodeSeconds}};
      return Status::Ok();
    }));
    STRATUS_ASSIGN_OR_RETURN(Json d, DeliverCode(pool, updated, "update", attr, client_id, metadata, code));
    if (!d.is_null()) details.push_back(d);
  }
  return details;
}

Result<Json> Engine::UpdateUserAttributes(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  Json attrs = AttributeMap(in.value("UserAttributes", Json::array()));
  STRATUS_ASSIGN_OR_RETURN(Json details, ApplyAttributeUpdate(c.pool(), c.user(), attrs, false,
                                                              c.claims().value("client_id", ""),
                                                              in.value("ClientMetadata", Json::object())));
  Json out = Json::object();
  if (!details.empty()) out["CodeDeliveryDetailsList"] = details;
  return out;
}

Result<Json> Engine::DeleteUserAttributes(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  STRATUS_RETURN_IF_ERROR(users_.Update(c.pool(), c.user()["Username"].get<std::string>(), [&](Json& u) -> Status {
    for (const auto& name : in.value("UserAttributeNames", Json::array())) {
      if (name == "sub") return InvalidParameter("Cannot delete the required attribute sub");
      u["Attributes"].erase(name.get<std::string>());
    }
    return Status::Ok();
  }));
  return Json::object();
}

Result<Json> Engine::GetUserAttributeVerificationCode(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  std::string attr = in.value("AttributeName", "");
  if (attr != "email" && attr != "phone_number") return InvalidParameter("Invalid attribute name: " + attr);
  if (!c.user().value("Attributes", Json::object()).contains(attr)) return InvalidParameter("User does not have the attribute " + attr);
  std::string code = secrets::NumericCode();
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Update(c.pool(), c.user()["Username"].get<std::string>(), [&](Json& u) -> Status {
    u["_Codes"]["verify:" + attr] = Json{{"code", code}, {"expires", clock_.NowMillis() / 1000 + kSignUpCodeSeconds}};
    return Status::Ok();
  }));
  STRATUS_ASSIGN_OR_RETURN(Json details, DeliverCode(c.pool(), user, "verify", attr, c.claims().value("client_id", ""),
                                                     in.value("ClientMetadata", Json::object()), code));
  return Json{{"CodeDeliveryDetails", details}};
}

Result<Json> Engine::VerifyUserAttribute(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  std::string attr = in.value("AttributeName", "");
  std::string code = in.value("Code", "");
  int64_t now = clock_.NowMillis() / 1000;
  STRATUS_RETURN_IF_ERROR(users_.Update(c.pool(), c.user()["Username"].get<std::string>(), [&](Json& u) -> Status {
    const Json& rec = u.value("_Codes", Json::object()).value("verify:" + attr, Json::object());
    if (!rec.contains("code")) return ExpiredCode();
    if (!ConstantTimeEquals(rec["code"].get<std::string>(), code)) return CodeMismatch();
    if (rec.value("expires", int64_t{0}) < now) return ExpiredCode();
    u["_Codes"].erase("verify:" + attr);
    u["Attributes"][attr + "_verified"] = "true";
    return Status::Ok();
  }));
  return Json::object();
}

Result<Json> Engine::DeleteUser(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  STRATUS_RETURN_IF_ERROR(tokens_.RevokeAllFor(c.pool()["Id"].get<std::string>(),
                                               Users::UsernameKey(c.pool(), c.user()["Username"].get<std::string>())));
  STRATUS_RETURN_IF_ERROR(users_.Delete(c.pool(), c.user()["Username"].get<std::string>()));
  return Json::object();
}

Result<Json> Engine::GlobalSignOut(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Caller c, FromAccessToken(in.value("AccessToken", "")));
  STRATUS_RETURN_IF_ERROR(tokens_.RevokeAllFor(c.pool()["Id"].get<std::string>(),
                                               Users::UsernameKey(c.pool(), c.user()["Username"].get<std::string>())));
  return Json::object();
}

Result<Json> Engine::RevokeToken(const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(auto pc, ClientFor(in));
  auto& [pool, client] = pc;
  if (client.contains("ClientSecret")) {
    if (!ConstantTimeEquals(client["ClientSecret"].get<std::string>(), in.value("ClientSecret", ""))) {
      return NotAuthorized("Client authentication failed.");
    }
  }
  if (!client.value("EnableTokenRevocation", true)) {
    return CognitoError("UnsupportedOperationException", "Token revocation is not enabled for this app client.");
  }
  std::string token = in.value("Token", "");
  if (jwt::Parse(token).ok()) {
    return CognitoError("UnsupportedTokenTypeException", "Only refresh tokens can be revoked.");
  }
  STRATUS_RETURN_IF_ERROR(tokens_.RevokeRefresh(pool["Id"].get<std::string>(), token, client["ClientId"].get<std::string>()));
  return Json::object();
}

// ---------------------------------------------------------------- Admin*

Result<Json> Engine::AdminCreateUser(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  std::string given = in.value("Username", "");
  Json attrs = AttributeMap(in.value("UserAttributes", Json::array()));
  STRATUS_RETURN_IF_ERROR(CheckAttributes(pool, attrs, true));
  std::string action = in.value("MessageAction", "");
  if (action == "RESEND") {
    STRATUS_ASSIGN_OR_RETURN(Json existing, users_.Find(pool, given));
    if (existing.value("UserStatus", "") != "FORCE_CHANGE_PASSWORD") {
      return CognitoError("UnsupportedUserStateException", "Resend not possible. " + given + " status is not FORCE_CHANGE_PASSWORD.");
    }
    std::string temp = secrets::TemporaryPassword();
    Json hashed = existing;
    Users::SetPassword(pool, hashed, temp);
    STRATUS_ASSIGN_OR_RETURN(Json u, users_.Update(pool, existing["Username"].get<std::string>(), [&](Json& rec) -> Status {
      rec.erase("_Password");
      rec["_Srp"] = hashed["_Srp"];
      return Status::Ok();
    }));
    std::string attr = u["Attributes"].contains("email") ? "email" : "phone_number";
    STRATUS_RETURN_IF_ERROR(DeliverCode(pool, u, "invite", attr, "", in.value("ClientMetadata", Json::object()), temp));
    return Json{{"User", Users::UserType(u)}};
  }
  std::string username = given;
  const Json& username_attrs = pool.value("UsernameAttributes", Json::array());
  if (!username_attrs.empty()) {
    bool email_ok = ListHas(username_attrs, "email") && LooksLikeEmail(given);
    bool phone_ok = ListHas(username_attrs, "phone_number") && LooksLikePhone(given);
    if (!email_ok && !phone_ok) {
      return InvalidParameter(ListHas(username_attrs, "email") ? "Username should be an email." : "Username should be a phone number.");
    }
    attrs[email_ok ? "email" : "phone_number"] = given;
    username = NewUuid();
  }
  std::string temp = in.value("TemporaryPassword", "");
  if (temp.empty()) temp = secrets::TemporaryPassword();
  else if (auto why = secrets::PolicyViolation(pool["Policies"].value("PasswordPolicy", Json::object()), temp)) {
    return InvalidPassword(*why);
  }
  Json user = NewUserRecord(pool, username, attrs, "FORCE_CHANGE_PASSWORD");
  if (!username_attrs.empty()) user["Attributes"]["sub"] = username;
  if (Triggers::Has(pool, "PreSignUp")) {
    Triggers::Event e{"PreSignUp", "PreSignUp_AdminCreateUser", username, "",
                      Json{{"userAttributes", user["Attributes"]},
                           {"validationData", AttributeMap(in.value("ValidationData", Json::array()))},
                           {"clientMetadata", in.value("ClientMetadata", Json::object())}},
                      Json{{"autoConfirmUser", false}, {"autoVerifyEmail", false}, {"autoVerifyPhone", false}}};
    STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
  }
  int64_t validity_days = pool["Policies"].value("PasswordPolicy", Json::object()).value("TemporaryPasswordValidityDays", int64_t{7});
  user["_TempExpires"] = clock_.NowMillis() / 1000 + validity_days * 86400;
  Users::SetPassword(pool, user, temp);
  STRATUS_RETURN_IF_ERROR(users_.Create(pool, user));
  if (action != "SUPPRESS") {
    Json mediums = in.value("DesiredDeliveryMediums", Json::array({"SMS"}));
    for (const auto& m : mediums) {
      std::string attr = m == "EMAIL" ? "email" : "phone_number";
      STRATUS_RETURN_IF_ERROR(DeliverCode(pool, user, "invite", attr, "", in.value("ClientMetadata", Json::object()), temp));
    }
  }
  return Json{{"User", Users::UserType(user)}};
}

Result<Json> Engine::AdminGetUser(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Find(pool, in.value("Username", "")));
  return Users::AdminGetUser(user);
}

Result<Json> Engine::AdminDeleteUser(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Find(pool, in.value("Username", "")));
  std::string name = user["Username"];
  STRATUS_RETURN_IF_ERROR(tokens_.RevokeAllFor(pool["Id"].get<std::string>(), Users::UsernameKey(pool, name)));
  STRATUS_RETURN_IF_ERROR(users_.Delete(pool, name));
  return Json::object();
}

Result<Json> Engine::AdminConfirmSignUp(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Update(pool, found["Username"].get<std::string>(), [&](Json& u) -> Status {
    if (u.value("UserStatus", "") != "UNCONFIRMED") {
      return NotAuthorized("User cannot be confirmed. Current status is " + u.value("UserStatus", ""));
    }
    u["UserStatus"] = "CONFIRMED";
    u["UserLastModifiedDate"] = clock_.NowSeconds();
    return Status::Ok();
  }));
  if (Triggers::Has(pool, "PostConfirmation")) {
    Triggers::Event e{"PostConfirmation", "PostConfirmation_ConfirmSignUp", user["Username"], "",
                      Json{{"userAttributes", user["Attributes"]}, {"clientMetadata", in.value("ClientMetadata", Json::object())}}};
    STRATUS_RETURN_IF_ERROR(triggers_.Invoke(pool, e));
  }
  return Json::object();
}

Result<Json> Engine::AdminSetUserPassword(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  std::string password = in.value("Password", "");
  if (auto why = secrets::PolicyViolation(pool["Policies"].value("PasswordPolicy", Json::object()), password)) {
    return InvalidPassword(*why);
  }
  bool permanent = in.value("Permanent", false);
  Json hashed = found;
  Users::SetPassword(pool, hashed, password);
  STRATUS_RETURN_IF_ERROR(users_.Update(pool, found["Username"].get<std::string>(), [&](Json& u) -> Status {
    u.erase("_Password");  // records before verifier-only passwords had a hash too
    u["_Srp"] = hashed["_Srp"];
    u["_Failed"] = 0;
    u.erase("_LockedUntil");
    if (permanent) {
      u["UserStatus"] = "CONFIRMED";
      u.erase("_TempExpires");
    } else {
      u["UserStatus"] = "FORCE_CHANGE_PASSWORD";
      int64_t days = pool["Policies"].value("PasswordPolicy", Json::object()).value("TemporaryPasswordValidityDays", int64_t{7});
      u["_TempExpires"] = clock_.NowMillis() / 1000 + days * 86400;
    }
    u["UserLastModifiedDate"] = clock_.NowSeconds();
    return Status::Ok();
  }));
  return Json::object();
}

Result<Json> Engine::AdminResetUserPassword(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  std::string code = secrets::NumericCode();
  STRATUS_ASSIGN_OR_RETURN(Json user, users_.Update(pool, found["Username"].get<std::string>(), [&](Json& u) -> Status {
    u["UserStatus"] = "RESET_REQUIRED";
    u["_Codes"]["forgot"] = Json{{"code", code}, {"expires", clock_.NowMillis() / 1000 + kResetCodeSeconds}};
    return Status::Ok();
  }));
  const Json& attrs = user["Attributes"];
  std::string attr = attrs.value("email_verified", "") == "true" ? "email"
                     : attrs.value("phone_number_verified", "") == "true" ? "phone_number" : "";
  if (!attr.empty()) {
    STRATUS_RETURN_IF_ERROR(DeliverCode(pool, user, "forgot", attr, "", in.value("ClientMetadata", Json::object()), code));
  }
  return Json::object();
}

Result<Json> Engine::AdminUpdateUserAttributes(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  Json attrs = AttributeMap(in.value("UserAttributes", Json::array()));
  STRATUS_RETURN_IF_ERROR(ApplyAttributeUpdate(pool, found, attrs, true, "", in.value("ClientMetadata", Json::object())));
  return Json::object();
}

Result<Json> Engine::AdminDeleteUserAttributes(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  STRATUS_RETURN_IF_ERROR(users_.Update(pool, found["Username"].get<std::string>(), [&](Json& u) -> Status {
    for (const auto& name : in.value("UserAttributeNames", Json::array())) {
      if (name == "sub") return InvalidParameter("Cannot delete the required attribute sub");
      u["Attributes"].erase(name.get<std::string>());
    }
    return Status::Ok();
  }));
  return Json::object();
}

Result<Json> Engine::AdminEnableUser(const Scope& s, const Json& in, bool enabled) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  std::string name = found["Username"];
  STRATUS_RETURN_IF_ERROR(users_.Update(pool, name, [&](Json& u) -> Status {
    u["Enabled"] = enabled;
    u["UserLastModifiedDate"] = clock_.NowSeconds();
    return Status::Ok();
  }));
  if (!enabled) STRATUS_RETURN_IF_ERROR(tokens_.RevokeAllFor(pool["Id"].get<std::string>(), Users::UsernameKey(pool, name)));
  return Json::object();
}

Result<Json> Engine::AdminUserGlobalSignOut(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  STRATUS_RETURN_IF_ERROR(tokens_.RevokeAllFor(pool["Id"].get<std::string>(),
                                               Users::UsernameKey(pool, found["Username"].get<std::string>())));
  return Json::object();
}

Result<Json> Engine::AdminAddUserToGroup(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  STRATUS_RETURN_IF_ERROR(users_.AddToGroup(pool, found["Username"].get<std::string>(), in.value("GroupName", "")));
  return Json::object();
}

Result<Json> Engine::AdminRemoveUserFromGroup(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  STRATUS_ASSIGN_OR_RETURN(Json found, users_.Find(pool, in.value("Username", "")));
  STRATUS_RETURN_IF_ERROR(users_.RemoveFromGroup(pool, found["Username"].get<std::string>(), in.value("GroupName", "")));
  return Json::object();
}

Result<Json> Engine::AdminListGroupsForUser(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  return users_.ListGroupsForUser(pool, in);
}

Result<Json> Engine::ListUsers(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  return users_.List(pool, in);
}

Result<Json> Engine::ListUsersInGroup(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, dir_.Pool(s, in.value("UserPoolId", "")));
  return users_.ListUsersInGroup(pool, in);
}

}  // namespace stratus::services::cognito
