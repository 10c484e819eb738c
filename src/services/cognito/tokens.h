#pragma once
// Tokens as Cognito issues them: ID and access tokens (RS256 JWTs signed with the pool's
// current key, `kid` in the header, every standard and Cognito claim) and opaque refresh tokens
// kept in the store. Per pool, signing keys (RSA 2048) live in the store and rotate: the newest
// key signs until it is kRotationMs old, then a new one is made; the last kPublishedKeys stay in
// the JWKS so tokens signed before a rotation still verify.
//
// The issuer of pool P is <external URL>/P, so <issuer>/.well-known/jwks.json and
// <issuer>/.well-known/openid-configuration are served by this service's data plane.
//
// Revocation: RevokeToken and GlobalSignOut mark a token family (origin_jti) revoked; access
// tokens of a revoked family and its refresh token stop working.
//
// Tokens whose signature verified are remembered by their exact text (a bounded set), so a client
// that presents the same access token again costs no RSA check or parse; the claims checks
// (issuer, token_use, exp), the signing key still being one of the pool's and the revocation
// check in the store run on every use.
//
// Thread-safe: parsed keys are cached behind mu_, verified tokens behind verified_mu_;
// everything else is in the store.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/cognito/jwt.h"
#include "store/store.h"

namespace stratus::services::cognito {

class Tokens {
 public:
  static constexpr int64_t kRotationMs = int64_t{30} * 24 * 3600 * 1000;
  static constexpr size_t kPublishedKeys = 3;
  // How long a node trusts its cached view of a pool's keys before re-reading the store.
  static constexpr int64_t kKeyCacheMs = 60'000;
  // How many verified tokens are remembered (the set is emptied when it is full).
  static constexpr size_t kMaxVerifiedTokens = 4096;

  Tokens(store::Store& store, const Clock& clock, std::function<std::string()> external_url)
      : store_(store), clock_(clock), external_url_(std::move(external_url)) {}

  std::string Issuer(std::string_view pool_id) const;
  // The pool id of an issuer this server minted for ("" when it is not one of ours).
  std::string PoolFromIssuer(std::string_view iss) const;

  // {"keys": [...]} — the public keys of the pool (creating the first one if needed).
  Result<Json> Jwks(std::string_view pool_id);
  // Signs `claims` with the pool's active key.
  Result<std::string> Sign(std::string_view pool_id, const Json& claims);
  // Verifies signature (by a key of the pool), iss, exp and token_use; returns the claims.
  // NotAuthorizedException with Cognito's texts ("Invalid Access Token", "Access Token has
  // expired", "Access Token has been revoked") otherwise.
  Result<Json> Verify(std::string_view pool_id, std::string_view token, std::string_view use);
  // A token whose signature a key of its pool verified.
  struct VerifiedToken {
    std::string pool_id;
    std::string kid;
    Json claims;
  };
  // Checks an access token of any local pool (GetUser and friends name no pool): signature,
  // iss, token_use and exp, with the errors of Verify. Revocation is the caller's to check, with
  // RevokedIn in the transaction that reads what else the call needs (one snapshot, not a store
  // read per check). The result is shared with the cache of verified tokens: never copied.
  Result<std::shared_ptr<const VerifiedToken>> CheckAccess(std::string_view token);
  // Whether the token family `origin_jti` of the pool is revoked, read in `txn`.
  static Result<bool> RevokedIn(store::ReadTxn& txn, std::string_view pool_id,
                                std::string_view origin_jti);

  // A pre token generation function's accessTokenGeneration (trigger version 2+; version 3 for
  // client_credentials tokens too): claims to add or override and to suppress (Cognito's own
  // claims already removed from both), scopes to add and to suppress.
  struct AccessChanges {
    Json add_claims = Json::object();
    std::vector<std::string> suppress_claims;
    std::vector<std::string> scopes_to_add;
    std::vector<std::string> scopes_to_suppress;
    // Reads `details.accessTokenGeneration` of a function's answer.
    static AccessChanges Parse(const Json& details);
  };

  // What a sign-in grants.
  struct Grant {
    Json pool;                      // pool record
    Json client;                    // client record
    Json user;                      // user record (null for client_credentials)
    std::vector<Json> groups;       // the user's groups by precedence
    std::string scope = "aws.cognito.signin.user.admin";
    int64_t auth_time = 0;          // seconds
    std::string origin_jti;         // reuse (refresh); empty = new family
    bool refresh = true;            // issue a refresh token
    std::string nonce;              // OIDC nonce for the ID token
    bool id_token = true;
    // Pre token generation results.
    Json add_claims = Json::object();
    std::vector<std::string> suppress_claims;
    Json group_override;            // null = none
    AccessChanges access_changes;   // version 2+ only
  };
  // The AuthenticationResult ({AccessToken, ExpiresIn, TokenType, IdToken, RefreshToken}).
  Result<Json> Issue(const Grant& grant);
  // An access token for client_credentials.
  Result<Json> IssueClientCredentials(const Json& pool, const Json& client, const std::string& scope,
                                      const AccessChanges& changes);

  // The refresh token's record (Username, ClientId, OriginJti, AuthTime, Scope, Expires), or
  // NotAuthorizedException "Invalid Refresh Token" / "Refresh Token has expired" / revoked.
  Result<Json> LookupRefresh(std::string_view pool_id, std::string_view token);
  // Revokes the family of a refresh token (RevokeToken). Unknown tokens are accepted silently.
  Status RevokeRefresh(std::string_view pool_id, std::string_view token, std::string_view client_id);
  // Revokes every family of a user (GlobalSignOut).
  Status RevokeAllFor(std::string_view pool_id, std::string_view username_key);
  bool IsRevoked(std::string_view pool_id, std::string_view origin_jti);

  // Forces a new active key now (tests, and operators who want to rotate at once).
  Status RotateForTest(std::string_view pool_id);

  // Token validity of a client in seconds, per token kind ("AccessToken", "IdToken",
  // "RefreshToken").
  static int64_t ValiditySeconds(const Json& client, std::string_view kind);

 private:
  struct PoolKeys {
    std::vector<std::shared_ptr<jwt::SigningKey>> keys;  // newest first
    int64_t newest_created_ms = 0;
    int64_t loaded_ms = 0;
  };
  Result<std::shared_ptr<const PoolKeys>> KeysFor(std::string_view pool_id, bool force_reload);
  // The remembered verification of `token` if its key is still one of the pool's, else null.
  std::shared_ptr<const VerifiedToken> Remembered(std::string_view token);
  // Verifies `token`'s signature with a key of `pool_id` (remembered, or checked and remembered);
  // null when it does not verify.
  Result<std::shared_ptr<const VerifiedToken>> SignatureOf(std::string_view pool_id,
                                                           std::string_view token);
  // The checks every use makes of a verified token's claims (iss, token_use, exp, revocation);
  // "Invalid <kind> Token" when `verified` is null.
  Result<Json> CheckClaims(std::string_view pool_id, const VerifiedToken* verified,
                           std::string_view use);
  // CheckClaims without the revocation check (which reads the store).
  Status CheckUnexpired(std::string_view pool_id, const VerifiedToken* verified,
                        std::string_view use) const;
  // Looks strings up by view (no copy of a token to find it).
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Status AddKey(std::string_view pool_id);
  Json IdClaims(const Grant& g, const std::string& origin_jti, const std::string& event_id,
                int64_t now) const;

  store::Store& store_;
  const Clock& clock_;
  const std::function<std::string()> external_url_;
  std::mutex mu_;  // guards cache_
  std::map<std::string, std::shared_ptr<const PoolKeys>, std::less<>> cache_;
  std::mutex verified_mu_;  // guards verified_
  std::unordered_map<std::string, std::shared_ptr<const VerifiedToken>, StringHash, std::equal_to<>>
      verified_;
};

}  // namespace stratus::services::cognito
