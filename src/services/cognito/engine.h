#pragma once
// The user-facing logic of Cognito user pools: sign-up and confirmation, passwords, attributes,
// the auth flows and their challenges (SRP, passwords, custom auth, MFA, new-password), tokens,
// sign-out and revocation, and the Admin* family. Inputs and outputs are the API's canonical
// JSON; handlers in cognito_service.cc only adapt. Split over accounts.cc (users, codes,
// attributes) and auth.cc (InitiateAuth, challenges, MFA, tokens).
//
// Blocking (store writes, password hashing, Lambda triggers): call from worker threads.
// Thread-safe: all state lives in the store.
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/cognito/common.h"
#include "services/cognito/directory.h"
#include "services/cognito/tokens.h"
#include "services/cognito/triggers.h"
#include "services/cognito/users.h"
#include "store/store.h"

namespace stratus::services::cognito {

class Engine {
 public:
  // Failed sign-ins before a user is locked out; the lockout then doubles from 1 s to 15 min.
  static constexpr int kFreeFailures = 5;
  static constexpr int64_t kMaxLockoutMs = 15 * 60 * 1000;
  static constexpr int64_t kSignUpCodeSeconds = 24 * 3600;
  static constexpr int64_t kResetCodeSeconds = 3600;
  static constexpr int64_t kMfaCodeSeconds = 180;

  Engine(store::Store& store, const Clock& clock, Directory& directory, Users& users,
         Tokens& tokens, Triggers& triggers)
      : store_(store), clock_(clock), dir_(directory), users_(users), tokens_(tokens),
        triggers_(triggers) {}

  // ---- accounts.cc: unsigned (client) operations ----
  Result<Json> SignUp(const Json& in);
  Result<Json> ConfirmSignUp(const Json& in);
  Result<Json> ResendConfirmationCode(const Json& in);
  Result<Json> ForgotPassword(const Json& in);
  Result<Json> ConfirmForgotPassword(const Json& in);
  // ---- accounts.cc: access-token operations ----
  Result<Json> GetUser(const Json& in);
  Result<Json> ChangePassword(const Json& in);
  Result<Json> UpdateUserAttributes(const Json& in);
  Result<Json> DeleteUserAttributes(const Json& in);
  Result<Json> GetUserAttributeVerificationCode(const Json& in);
  Result<Json> VerifyUserAttribute(const Json& in);
  Result<Json> DeleteUser(const Json& in);
  Result<Json> GlobalSignOut(const Json& in);
  Result<Json> RevokeToken(const Json& in);
  // ---- accounts.cc: Admin* ----
  Result<Json> AdminCreateUser(const Scope& s, const Json& in);
  Result<Json> AdminGetUser(const Scope& s, const Json& in);
  Result<Json> AdminDeleteUser(const Scope& s, const Json& in);
  Result<Json> AdminConfirmSignUp(const Scope& s, const Json& in);
  Result<Json> AdminSetUserPassword(const Scope& s, const Json& in);
  Result<Json> AdminResetUserPassword(const Scope& s, const Json& in);
  Result<Json> AdminUpdateUserAttributes(const Scope& s, const Json& in);
  Result<Json> AdminDeleteUserAttributes(const Scope& s, const Json& in);
  Result<Json> AdminEnableUser(const Scope& s, const Json& in, bool enabled);
  Result<Json> AdminUserGlobalSignOut(const Scope& s, const Json& in);
  Result<Json> AdminAddUserToGroup(const Scope& s, const Json& in);
  Result<Json> AdminRemoveUserFromGroup(const Scope& s, const Json& in);
  Result<Json> AdminListGroupsForUser(const Scope& s, const Json& in);
  Result<Json> ListUsers(const Scope& s, const Json& in);
  Result<Json> ListUsersInGroup(const Scope& s, const Json& in);

  // ---- auth.cc ----
  // `admin` scope is set for AdminInitiateAuth / AdminRespondToAuthChallenge.
  Result<Json> InitiateAuth(const Json& in, const Scope* admin = nullptr);
  Result<Json> RespondToAuthChallenge(const Json& in, const Scope* admin = nullptr);
  Result<Json> AssociateSoftwareToken(const Json& in);
  Result<Json> VerifySoftwareToken(const Json& in);
  Result<Json> SetUserMfaPreference(const Json& in);
  Result<Json> AdminSetUserMfaPreference(const Scope& s, const Json& in);
  Result<Json> GetTokensFromRefreshToken(const Json& in);

  // Used by the OAuth2 data plane (oauth.cc) and federation.
  // Signs a user in with a password for the hosted UI: returns the user record, or the error
  // InitiateAuth would give (wrong password, lockout, unconfirmed...).
  Result<Json> PasswordSignIn(const Json& pool, const Json& client, const std::string& username,
                              const std::string& password);
  // The hosted UI's sign-in: password check then what InitiateAuth would answer — a challenge
  // ({ChallengeName, Session, ChallengeParameters}) or {"SignedInUser": username}. Challenges
  // are answered through RespondToAuthChallenge, which answers the same way for such sessions.
  Result<Json> HostedSignIn(const Json& pool, const Json& client, const std::string& username,
                            const std::string& password);
  // Issues tokens for a signed-in user (pre token generation included).
  Result<Json> IssueFor(const Json& pool, const Json& client, const Json& user,
                        const std::string& scope, const std::string& nonce,
                        const std::string& trigger_source);
  // A client_credentials access token for `scope`; a version 3 pre token generation function
  // (TokenGeneration_ClientCredentials) may change it. Blocking when the trigger runs.
  Result<Json> IssueClientCredentials(const Json& pool, const Json& client, const std::string& scope);
  // Finds or creates the pool user linked to an external identity (federation).
  Result<Json> LinkFederatedUser(const Json& pool, const Json& provider,
                                 const std::string& subject, const Json& claims);

  Users& users() { return users_; }
  Directory& directory() { return dir_; }
  Tokens& tokens() { return tokens_; }

 private:
  // Who presented an access token: records shared with the caches that hold them (a pool
  // record is ~8 KB of JSON; copying it per call cost more than the rest of GetUser).
  struct Caller {
    std::shared_ptr<const Json> pool_record;
    std::shared_ptr<const Json> user_record;
    std::shared_ptr<const Tokens::VerifiedToken> token;
    const Json& pool() const { return *pool_record; }
    const Json& user() const { return *user_record; }
    const Json& claims() const { return token->claims; }
  };
  // The pool and user an access token belongs to (GetUser and friends): the token's checks,
  // then the revocation mark, the pool and the user read in one snapshot.
  Result<Caller> FromAccessToken(std::string_view token);
  Result<std::pair<Json, Json>> ClientFor(const Json& in);
  Status CheckSecretHash(const Json& client, const std::string& username, const Json& params);
  // Sends a code (outbox) to the attribute best suited for `purpose`; returns the
  // CodeDeliveryDetails (null when nothing could be delivered).
  Result<Json> DeliverCode(const Json& pool, const Json& user, const std::string& purpose,
                           const std::string& attr, const std::string& client_id,
                           const Json& client_metadata, const std::string& code);
  // What Cognito does once the first factor passed: status checks, MFA challenges, tokens.
  // With `hosted` (the hosted UI), success returns {"SignedInUser": username} instead of tokens,
  // and challenge sessions remember that.
  Result<Json> AfterFirstFactor(const Json& pool, const Json& client, Json user,
                                const Json& metadata, const std::string& source,
                                bool hosted = false);
  Result<Json> NewSession(const Json& pool, Json state);
  Result<Json> TakeSession(const Json& pool, const std::string& session, const std::string& client_id);
  // The pool and state of a session string, without consuming it (TOTP setup).
  Result<std::pair<Json, Json>> FindSession(const std::string& session);
  Result<Json> Challenge(const Json& pool, const std::string& name, Json params, Json state);
  Status RecordFailure(const Json& pool, const Json& user);
  Status CheckLockout(const Json& user);
  Result<Json> PreTokenAndIssue(const Json& pool, const Json& client, const Json& user,
                                const std::string& source, const std::string& scope,
                                const std::string& origin_jti, bool refresh,
                                const Json& metadata, int64_t auth_time,
                                const std::string& nonce = "");
  Json NewUserRecord(const Json& pool, const std::string& username, const Json& attributes,
                     const std::string& status);
  Result<Json> ApplyAttributeUpdate(const Json& pool, const Json& user, const Json& attrs,
                                    bool admin, const std::string& client_id, const Json& metadata);
  Result<Json> InitiateSrp(const Json& pool, const Json& client, const Json& params,
                           const Json& user_or_null, Json session_extra);
  Result<Json> RespondPasswordVerifier(const Json& pool, const Json& client, const Json& in, Json session);
  Result<Json> RunCustomAuth(const Json& pool, const Json& client, const Json& user, Json session,
                             const Json& metadata);

  store::Store& store_;
  const Clock& clock_;
  Directory& dir_;
  Users& users_;
  Tokens& tokens_;
  Triggers& triggers_;
};

}  // namespace stratus::services::cognito
