#pragma once
// Internal to the cognito service: its error codes (named as Cognito names them), store key
// layout, and small helpers shared by the directory, users, tokens and auth modules.
//
// Store keys ("\0" never appears in names; ids and names are validated by the model first):
//   cognito/idx/<acct>/<region>/<poolId>        pool listing index
//   cognito/p/<poolId>                          pool record (UserPoolType + "_" internals)
//   cognito/p/<poolId>/c/<clientId>             app client record
//   cognito/client/<clientId>                   → poolId (auth calls name only the client)
//   cognito/domain/<domain>                     → poolId
//   cognito/p/<poolId>/u/<username>             user record
//   cognito/p/<poolId>/a/<attr>/<value>         → username (sub, email, phone, preferred name)
//   cognito/p/<poolId>/g/<group>                group record
//   cognito/p/<poolId>/gm/<group>/<username>    membership
//   cognito/p/<poolId>/ug/<username>/<group>    membership, by user
//   cognito/p/<poolId>/rs/<identifier>          resource server
//   cognito/p/<poolId>/idp/<name>               identity provider
//   cognito/p/<poolId>/k/<kid>                  signing key (PEM, created)
//   cognito/p/<poolId>/s/<session>              an auth session (challenges, SRP state)
//   cognito/p/<poolId>/rt/<sha256 of token>     refresh token
//   cognito/p/<poolId>/rj/<origin_jti>          a revoked token family
//   cognito/p/<poolId>/oc/<code>                OAuth2 authorization code
//   cognito/p/<poolId>/o/<ms><seq>              outbox message (codes "delivered")
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::cognito {

// Which account and region a control-plane call acts in.
struct Scope {
  std::string account;
  std::string region;
};

// ---- errors (all 400 but internal ones, as Cognito answers) ----
inline Error CognitoError(std::string code, std::string message) {
  return Error(std::move(code), std::move(message), 400);
}
inline Error NotAuthorized(std::string m) { return CognitoError("NotAuthorizedException", std::move(m)); }
inline Error ResourceNotFound(std::string m) { return CognitoError("ResourceNotFoundException", std::move(m)); }
inline Error InvalidParameter(std::string m) { return CognitoError("InvalidParameterException", std::move(m)); }
inline Error UserNotFound() { return CognitoError("UserNotFoundException", "User does not exist."); }
inline Error InvalidPassword(std::string m) {
  return CognitoError("InvalidPasswordException", "Password did not conform with policy: " + std::move(m));
}
inline Error CodeMismatch() {
  return CognitoError("CodeMismatchException", "Invalid verification code provided, please try again.");
}
inline Error ExpiredCode() {
  return CognitoError("ExpiredCodeException", "Invalid code provided, please request a code again.");
}
inline Error UserNotConfirmed() { return CognitoError("UserNotConfirmedException", "User is not confirmed."); }
inline Error UnexpectedLambda(std::string m) { return CognitoError("UnexpectedLambdaException", std::move(m)); }
inline Error UserLambdaValidation(std::string m) {
  return CognitoError("UserLambdaValidationException", std::move(m));
}
inline Error InvalidLambdaResponse(std::string m) {
  return CognitoError("InvalidLambdaResponseException", std::move(m));
}
inline Error InternalError(std::string m) {
  return Error("InternalErrorException", std::move(m), 500, false);
}
// The message Cognito gives for a wrong password (and, when existence errors are hidden, for an
// unknown user).
inline constexpr std::string_view kBadCredentials = "Incorrect username or password.";

// ---- keys ----
namespace keys {
inline std::string Index(const Scope& s) { return "cognito/idx/" + s.account + "/" + s.region + "/"; }
inline std::string Pool(std::string_view pool) { return "cognito/p/" + std::string(pool); }
inline std::string PoolPrefix(std::string_view pool) { return Pool(pool) + "/"; }
inline std::string Client(std::string_view pool, std::string_view id) {
  return Pool(pool) + "/c/" + std::string(id);
}
inline std::string ClientIndex(std::string_view id) { return "cognito/client/" + std::string(id); }
inline std::string Domain(std::string_view d) { return "cognito/domain/" + std::string(d); }
inline std::string User(std::string_view pool, std::string_view u) {
  return Pool(pool) + "/u/" + std::string(u);
}
inline std::string Alias(std::string_view pool, std::string_view attr, std::string_view value) {
  return Pool(pool) + "/a/" + std::string(attr) + "/" + std::string(value);
}
inline std::string Group(std::string_view pool, std::string_view g) {
  return Pool(pool) + "/g/" + std::string(g);
}
inline std::string Member(std::string_view pool, std::string_view g, std::string_view u) {
  return Pool(pool) + "/gm/" + std::string(g) + "/" + std::string(u);
}
inline std::string UserGroup(std::string_view pool, std::string_view u, std::string_view g) {
  return Pool(pool) + "/ug/" + std::string(u) + "/" + std::string(g);
}
inline std::string ResourceServer(std::string_view pool, std::string_view id) {
  return Pool(pool) + "/rs/" + std::string(id);
}
inline std::string Provider(std::string_view pool, std::string_view name) {
  return Pool(pool) + "/idp/" + std::string(name);
}
inline std::string SigningKey(std::string_view pool, std::string_view kid) {
  return Pool(pool) + "/k/" + std::string(kid);
}
inline std::string Session(std::string_view pool, std::string_view id) {
  return Pool(pool) + "/s/" + std::string(id);
}
inline std::string RefreshToken(std::string_view pool, std::string_view hash_hex) {
  return Pool(pool) + "/rt/" + std::string(hash_hex);
}
inline std::string Revoked(std::string_view pool, std::string_view origin_jti) {
  return Pool(pool) + "/rj/" + std::string(origin_jti);
}
inline std::string AuthCode(std::string_view pool, std::string_view code) {
  return Pool(pool) + "/oc/" + std::string(code);
}
inline std::string Outbox(std::string_view pool) { return Pool(pool) + "/o/"; }
}  // namespace keys

// ---- helpers ----
// {"email":"a@b"} ⇄ [{"Name":"email","Value":"a@b"}]
Json AttributeList(const Json& map);
Json AttributeMap(const Json& list);
// The pool id's part after "_" (SRP's "pool name").
std::string PoolShortName(std::string_view pool_id);
// The region of a pool id ("us-east-1_AbC" → "us-east-1").
std::string PoolRegion(std::string_view pool_id);
// Masks a destination as Cognito does ("a***@e***", "+*******1234").
std::string MaskDestination(std::string_view attr, std::string_view value);
// Strips internal ("_"-prefixed) members of a stored record.
Json Public(const Json& record);
// Whether a JSON array holds the string `v` (false for anything but an array).
bool ListHas(const Json& list, std::string_view v);

// Parsed store records by key, reused while their stored bytes are unchanged. Callers read the
// record's bytes from the store every time (so an answer is never stale, whichever node wrote
// it) and hand them here: parsing happens only when the bytes differ from the last ones seen.
// Pool records carry the schema (~8 KB of JSON) and user records the SRP verifier; sign-ins and
// every access-token call read both. The parsed value is shared, never copied: holders keep it
// alive after the cache forgets it. Bounded: emptied when it holds `capacity` records.
// Thread-safe (guarded by mu_).
class ParsedRecords {
 public:
  explicit ParsedRecords(size_t capacity) : capacity_(capacity) {}
  // The parse of `raw`, the bytes now stored at `key` (a discarded value when they are not JSON).
  std::shared_ptr<const Json> Parse(std::string_view key, std::string raw);

 private:
  struct Record {
    std::string raw;
    Json json;
  };
  // Looks keys up by view (no copy of the key to find it).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const size_t capacity_;
  std::mutex mu_;  // guards records_
  std::unordered_map<std::string, std::shared_ptr<const Record>, Hash, std::equal_to<>> records_;
};

}  // namespace stratus::services::cognito
