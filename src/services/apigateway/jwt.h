#pragma once
// JWT authorizers: verifies RS256/RS384/RS512-signed JSON Web Tokens against an OIDC issuer's
// JWKS (discovered at <issuer>/.well-known/openid-configuration, falling back to
// <issuer>/.well-known/jwks.json), as HTTP API JWT authorizers and REST COGNITO_USER_POOLS
// authorizers do. Keys are cached by issuer and kid; an unknown kid refetches the set (at most
// once per kRefetchInterval per issuer).
//
// Thread-safe. KeyFor may block on the network (bounded by the fetch timeout): call it from a
// worker thread, never from an io thread.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"

namespace stratus::services::apigateway {

// Fetches `url` with a timeout and returns the body of a 2xx answer, or an error.
using FetchFn = std::function<Result<std::string>(const std::string& url, int64_t timeout_ms)>;

std::optional<std::string> Base64UrlDecode(std::string_view s);

class JwksCache {
 public:
  static constexpr int64_t kFetchTimeoutMs = 5000;
  static constexpr int64_t kRefetchIntervalMs = 10'000;
  static constexpr int64_t kMaxAgeMs = 3'600'000;

  JwksCache(FetchFn fetch, const Clock& clock) : fetch_(std::move(fetch)), clock_(clock) {}

  // The JWK with `kid` (any key when kid is empty and the set has exactly one) of `issuer`.
  Result<Json> KeyFor(const std::string& issuer, const std::string& kid);

 private:
  struct Entry {
    Json keys = Json::array();
    int64_t fetched_ms = 0;
  };
  Result<Json> Fetch(const std::string& issuer);

  const FetchFn fetch_;
  const Clock& clock_;
  std::mutex mu_;  // guards entries_
  std::map<std::string, Entry> entries_;
};

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

// Verifies an RS256/384/512 signature of `signing_input` with an RSA JWK. Exposed for tests.
bool VerifyRsaSignature(const Json& jwk, const std::string& alg, std::string_view signing_input,
                        std::string_view signature);

}  // namespace stratus::services::apigateway
