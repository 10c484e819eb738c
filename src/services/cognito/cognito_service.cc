#include "services/cognito/cognito_service.h"

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "services/cognito/directory.h"
#include "services/cognito/engine.h"
#include "services/cognito/oauth.h"
#include "services/cognito/tokens.h"
#include "services/cognito/triggers.h"
#include "services/cognito/users.h"

namespace stratus::services::cognito {

namespace {

Scope ScopeOf(const aws::CallContext& call) { return Scope{call.caller.account_id, call.region}; }

Json Empty() { return Json::object(); }

class CognitoService final : public aws::Service {
 public:
  explicit CognitoService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "cognito-idp",
                                .model = "cognito-idp-2016-04-18",
                                .protocol = aws::Protocol::kJson,
                                .target_prefix = "AWSCognitoIdentityProviderService",
                                .signing_name = "cognito-idp",
                                .validation_error = "InvalidParameterException"}),
        context_(context),
        directory_(context.store, context.clock),
        users_(context.store, context.clock),
        tokens_(context.store, context.clock, context.external_url),
        triggers_(context.clients),
        engine_(context.store, context.clock, directory_, users_, tokens_, triggers_),
        oauth_(MakeOAuthPlane(context, engine_)) {
    RegisterPools();
    RegisterUsers();
    RegisterAuth();
  }

  bool MatchDataPlane(const HttpRequest& r) const override { return oauth_->Matches(r); }

  void HandleDataPlane(HttpRequest request, Responder responder) override {
    oauth_->Handle(std::move(request), std::move(responder));
  }

 private:
  using Call = aws::CallContext;

  // Registers a handler taking (scope, input).
  void Admin(std::string op, std::function<Result<Json>(const Scope&, const Json&)> fn) {
    On(std::move(op), [fn = std::move(fn)](Call& c, const Json& in) { return fn(ScopeOf(c), in); });
  }
  // Registers a handler that needs only the input (client and token operations).
  // `mode` kInline only for operations that read the store and never write it or call out (no
  // thread hop).
  void Public(std::string op, std::function<Result<Json>(const Json&)> fn,
              aws::Mode mode = aws::Mode::kWorker) {
    On(std::move(op), [fn = std::move(fn)](Call&, const Json& in) { return fn(in); }, mode);
  }
  static Result<Json> Done(Status st) {
    if (!st.ok()) return std::move(st).error();
    return Empty();
  }

  void RegisterPools() {
    Directory& d = directory_;
    Admin("CreateUserPool", [&d](const Scope& s, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json pool, d.CreatePool(s, in));
      return Json{{"UserPool", pool}};
    });
    Admin("DescribeUserPool", [&d](const Scope& s, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json pool, d.DescribePool(s, in.value("UserPoolId", "")));
      return Json{{"UserPool", pool}};
    });
    Admin("UpdateUserPool", [&d](const Scope& s, const Json& in) { return Done(d.UpdatePool(s, in)); });
    Admin("DeleteUserPool", [&d](const Scope& s, const Json& in) {
      return Done(d.DeletePool(s, in.value("UserPoolId", "")));
    });
    Admin("ListUserPools", [&d](const Scope& s, const Json& in) { return d.ListPools(s, in); });
    Admin("AddCustomAttributes", [&d](const Scope& s, const Json& in) { return Done(d.AddCustomAttributes(s, in)); });
    Admin("GetUserPoolMfaConfig", [&d](const Scope& s, const Json& in) {
      return d.GetMfaConfig(s, in.value("UserPoolId", ""));
    });
    Admin("SetUserPoolMfaConfig", [&d](const Scope& s, const Json& in) { return d.SetMfaConfig(s, in); });
    Admin("CreateUserPoolClient", [&d](const Scope& s, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json c, d.CreateClient(s, in));
      return Json{{"UserPoolClient", c}};
    });
    Admin("DescribeUserPoolClient", [&d](const Scope& s, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json c, d.DescribeClient(s, in.value("UserPoolId", ""), in.value("ClientId", "")));
      return Json{{"UserPoolClient", c}};
    });
    Admin("UpdateUserPoolClient", [&d](const Scope& s, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json c, d.UpdateClient(s, in));
      return Json{{"UserPoolClient", c}};
    });
    Admin("DeleteUserPoolClient", [&d](const Scope& s, const Json& in) {
      return Done(d.DeleteClient(s, in.value("UserPoolId", ""), in.value("ClientId", "")));
    });
    Admin("ListUserPoolClients", [&d](const Scope& s, const Json& in) { return d.ListClients(s, in); });

    Admin("CreateUserPoolDomain", [&d](const Scope& s, const Json& in) { return d.CreateDomain(s, in); });
    Admin("DescribeUserPoolDomain", [&d](const Scope& s, const Json& in) {
      return d.DescribeDomain(s, in.value("Domain", ""));
    });
    Admin("DeleteUserPoolDomain", [&d](const Scope& s, const Json& in) { return Done(d.DeleteDomain(s, in)); });

    Admin("CreateGroup", [&d](const Scope& s, const Json& in) { return d.CreateGroup(s, in); });
    Admin("GetGroup", [&d](const Scope& s, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json g, d.GetGroup(s, in.value("UserPoolId", ""), in.value("GroupName", "")));
      return Json{{"Group", g}};
    });
    Admin("UpdateGroup", [&d](const Scope& s, const Json& in) { return d.UpdateGroup(s, in); });
    Admin("DeleteGroup", [&d](const Scope& s, const Json& in) {
      return Done(d.DeleteGroup(s, in.value("UserPoolId", ""), in.value("GroupName", "")));
    });
    Admin("ListGroups", [&d](const Scope& s, const Json& in) { return d.ListGroups(s, in); });

    Admin("CreateResourceServer", [&d](const Scope& s, const Json& in) { return d.CreateResourceServer(s, in); });
    Admin("DescribeResourceServer", [&d](const Scope& s, const Json& in) {
      return d.DescribeResourceServer(s, in.value("UserPoolId", ""), in.value("Identifier", ""));
    });
    Admin("UpdateResourceServer", [&d](const Scope& s, const Json& in) { return d.UpdateResourceServer(s, in); });
    Admin("DeleteResourceServer", [&d](const Scope& s, const Json& in) {
      return Done(d.DeleteResourceServer(s, in.value("UserPoolId", ""), in.value("Identifier", "")));
    });
    Admin("ListResourceServers", [&d](const Scope& s, const Json& in) { return d.ListResourceServers(s, in); });

    Admin("CreateIdentityProvider", [&d](const Scope& s, const Json& in) { return d.CreateProvider(s, in); });
    Admin("DescribeIdentityProvider", [&d](const Scope& s, const Json& in) {
      return d.DescribeProvider(s, in.value("UserPoolId", ""), in.value("ProviderName", ""));
    });
    Admin("UpdateIdentityProvider", [&d](const Scope& s, const Json& in) { return d.UpdateProvider(s, in); });
    Admin("DeleteIdentityProvider", [&d](const Scope& s, const Json& in) {
      return Done(d.DeleteProvider(s, in.value("UserPoolId", ""), in.value("ProviderName", "")));
    });
    Admin("ListIdentityProviders", [&d](const Scope& s, const Json& in) { return d.ListProviders(s, in); });
    Admin("GetIdentityProviderByIdentifier", [&d](const Scope& s, const Json& in) {
      return d.ProviderByIdentifier(s, in.value("UserPoolId", ""), in.value("IdpIdentifier", ""));
    });

    Admin("TagResource", [&d](const Scope& s, const Json& in) {
      return Done(d.Tag(s, in.value("ResourceArn", ""), in.value("Tags", Json::object())));
    });
    Admin("UntagResource", [&d](const Scope& s, const Json& in) {
      return Done(d.Untag(s, in.value("ResourceArn", ""), in.value("TagKeys", Json::array())));
    });
    Admin("ListTagsForResource", [&d](const Scope& s, const Json& in) {
      return d.ListTags(s, in.value("ResourceArn", ""));
    });
  }

  void RegisterUsers() {
    Engine& e = engine_;
    Public("SignUp", [&e](const Json& in) { return e.SignUp(in); });
    Public("ConfirmSignUp", [&e](const Json& in) { return e.ConfirmSignUp(in); });
    Public("ResendConfirmationCode", [&e](const Json& in) { return e.ResendConfirmationCode(in); });
    Public("ForgotPassword", [&e](const Json& in) { return e.ForgotPassword(in); });
    Public("ConfirmForgotPassword", [&e](const Json& in) { return e.ConfirmForgotPassword(in); });
    Public("GetUser", [&e](const Json& in) { return e.GetUser(in); }, aws::Mode::kInline);
    Public("ChangePassword", [&e](const Json& in) { return e.ChangePassword(in); });
    Public("UpdateUserAttributes", [&e](const Json& in) { return e.UpdateUserAttributes(in); });
    Public("DeleteUserAttributes", [&e](const Json& in) { return e.DeleteUserAttributes(in); });
    Public("GetUserAttributeVerificationCode", [&e](const Json& in) { return e.GetUserAttributeVerificationCode(in); });
    Public("VerifyUserAttribute", [&e](const Json& in) { return e.VerifyUserAttribute(in); });
    Public("DeleteUser", [&e](const Json& in) { return e.DeleteUser(in); });
    Public("GlobalSignOut", [&e](const Json& in) { return e.GlobalSignOut(in); });
    Public("RevokeToken", [&e](const Json& in) { return e.RevokeToken(in); });

    Admin("AdminCreateUser", [&e](const Scope& s, const Json& in) { return e.AdminCreateUser(s, in); });
    Admin("AdminGetUser", [&e](const Scope& s, const Json& in) { return e.AdminGetUser(s, in); });
    Admin("AdminDeleteUser", [&e](const Scope& s, const Json& in) { return e.AdminDeleteUser(s, in); });
    Admin("AdminConfirmSignUp", [&e](const Scope& s, const Json& in) { return e.AdminConfirmSignUp(s, in); });
    Admin("AdminSetUserPassword", [&e](const Scope& s, const Json& in) { return e.AdminSetUserPassword(s, in); });
    Admin("AdminResetUserPassword", [&e](const Scope& s, const Json& in) { return e.AdminResetUserPassword(s, in); });
    Admin("AdminUpdateUserAttributes", [&e](const Scope& s, const Json& in) { return e.AdminUpdateUserAttributes(s, in); });
    Admin("AdminDeleteUserAttributes", [&e](const Scope& s, const Json& in) { return e.AdminDeleteUserAttributes(s, in); });
    Admin("AdminDisableUser", [&e](const Scope& s, const Json& in) { return e.AdminEnableUser(s, in, false); });
    Admin("AdminEnableUser", [&e](const Scope& s, const Json& in) { return e.AdminEnableUser(s, in, true); });
    Admin("AdminUserGlobalSignOut", [&e](const Scope& s, const Json& in) { return e.AdminUserGlobalSignOut(s, in); });
    Admin("AdminAddUserToGroup", [&e](const Scope& s, const Json& in) { return e.AdminAddUserToGroup(s, in); });
    Admin("AdminRemoveUserFromGroup", [&e](const Scope& s, const Json& in) { return e.AdminRemoveUserFromGroup(s, in); });
    Admin("AdminListGroupsForUser", [&e](const Scope& s, const Json& in) { return e.AdminListGroupsForUser(s, in); });
    Admin("ListUsers", [&e](const Scope& s, const Json& in) { return e.ListUsers(s, in); });
    Admin("ListUsersInGroup", [&e](const Scope& s, const Json& in) { return e.ListUsersInGroup(s, in); });
  }

  void RegisterAuth() {
    Engine& e = engine_;
    Public("InitiateAuth", [&e](const Json& in) { return e.InitiateAuth(in); });
    Public("RespondToAuthChallenge", [&e](const Json& in) { return e.RespondToAuthChallenge(in); });
    Admin("AdminInitiateAuth", [&e](const Scope& s, const Json& in) { return e.InitiateAuth(in, &s); });
    Admin("AdminRespondToAuthChallenge", [&e](const Scope& s, const Json& in) {
      return e.RespondToAuthChallenge(in, &s);
    });
    Public("AssociateSoftwareToken", [&e](const Json& in) { return e.AssociateSoftwareToken(in); });
    Public("VerifySoftwareToken", [&e](const Json& in) { return e.VerifySoftwareToken(in); });
    Public("SetUserMFAPreference", [&e](const Json& in) { return e.SetUserMfaPreference(in); });
    Admin("AdminSetUserMFAPreference", [&e](const Scope& s, const Json& in) { return e.AdminSetUserMfaPreference(s, in); });
    Public("GetTokensFromRefreshToken", [&e](const Json& in) { return e.GetTokensFromRefreshToken(in); });
  }

  aws::ServiceContext& context_;
  Directory directory_;
  Users users_;
  Tokens tokens_;
  Triggers triggers_;
  Engine engine_;
  std::unique_ptr<OAuthPlane> oauth_;
};

}  // namespace

std::unique_ptr<aws::Service> MakeCognitoService(aws::ServiceContext& context) {
  return std::make_unique<CognitoService>(context);
}

}  // namespace stratus::services::cognito
