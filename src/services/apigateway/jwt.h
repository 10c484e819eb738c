#pragma once
// JWT authorizers: verifies RS256/RS384/RS512-signed JSON Web Tokens against an OIDC issuer's
// JWKS (identity::oidc::JwksCache: discovered at <issuer>/.well-known/openid-configuration,
// falling back to <issuer>/.well-known/jwks.json), as HTTP API JWT authorizers and REST
// COGNITO_USER_POOLS authorizers do. Tokens that verified are cached by their exact text
// (VerifiedJwtCache), so a client that sends the same token again costs a lookup.
//
// Thread-safe. KeyFor may block on the network (bounded by the fetch timeout): call it from a
// worker thread, never from an io thread.
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "identity/oidc/oidc.h"

namespace stratus::services::apigateway {

// JWT primitives and the JWKS cache shared with STS web identity (src/identity/oidc): base64url,
// RS256/384/512 verification against an RSA JWK (public keys built once and cached), keys by
// issuer and kid.
using identity::oidc::Base64UrlDecode;
using identity::oidc::FetchFn;
using identity::oidc::JwksCache;
using identity::oidc::VerifyRsaSignature;

struct JwtRequirements {
  std::string issuer;
  std::vector<std::string> audience;  // empty: not checked
};

// Why a token was refused; `insufficient_scope` means 403 rather than 401.
struct JwtFailure {
  std::string reason;
};

// Verifies `token` (without "Bearer "); returns its claims, or an Error whose message says why.
Result<Json> VerifyJwt(const std::string& token, const JwtRequirements& req, JwksCache& jwks,
                       int64_t now_seconds);

// A token VerifyJwt accepted, with what authorizers hand to integrations worked out once.
struct VerifiedJwt {
  Json claims;                      // the payload as sent
  Json string_claims;               // every claim, non-strings as their JSON text (requestContext)
  std::vector<std::string> scopes;  // "scope" (else "scp") split on spaces, empty parts dropped
  std::optional<double> exp;        // seconds since the epoch, when the token has a numeric one
  std::optional<double> nbf;
};

// Tokens that verified, by the exact token text, the authorizer and its requirements; a bounded
// LRU. Only acceptances are stored, so a token that differs from a verified one in any byte
// (tampered, re-signed, other alg) takes the full check. A hit re-checks exp and nbf against
// `now_seconds`; an entry lives until the token's exp, at most kMaxAgeSeconds (as long as
// JwksCache trusts a fetched key set), so a withdrawn key stops being trusted as late as there.
//
// Thread-safe (guarded by mu_); Verify may block like JwksCache::KeyFor on a miss.
class VerifiedJwtCache {
 public:
  static constexpr size_t kMaxEntries = 4096;
  static constexpr int64_t kMaxAgeSeconds = JwksCache::kMaxAgeMs / 1000;

  // VerifyJwt through the cache. `authorizer` names the authorizer asking (e.g. "apiId/authId").
  Result<std::shared_ptr<const VerifiedJwt>> Verify(std::string_view authorizer,
                                                    const std::string& token,
                                                    const JwtRequirements& req, JwksCache& jwks,
                                                    int64_t now_seconds);

  size_t SizeForTest() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const VerifiedJwt> token;
    double cache_until = 0;  // seconds
  };
  mutable std::mutex mu_;    // guards lru_ and index_
  std::list<Entry> lru_;     // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views of Entry::key
};

}  // namespace stratus::services::apigateway
