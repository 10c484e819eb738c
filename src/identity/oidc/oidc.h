#pragma once
// OIDC identity tokens: parsing a JWT, verifying its RS256/384/512 signature against the
// issuer's JWKS (<issuer>/.well-known/openid-configuration's jwks_uri, falling back to
// <issuer>/.well-known/jwks.json) and its time claims. STS AssumeRoleWithWebIdentity uses it for
// tokens of any OIDC provider registered with CreateOpenIDConnectProvider, stratus's Cognito
// user pools included (their issuer is this server's URL, fetched over loopback).
//
// The issuer, audience and provider checks are the caller's (they depend on IAM's records);
// this module answers "is this token really the issuer's, and current?".
//
// Thread-safe. JwksCache::KeyFor may block on the network (bounded by kFetchTimeoutMs): call it
// from a worker thread, never from an io thread.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"

namespace stratus::identity::oidc {

// Fetches `url` and returns the body of a 2xx answer, or an error.
using FetchFn = std::function<Result<std::string>(const std::string& url, int64_t timeout_ms)>;

std::optional<std::string> Base64UrlDecode(std::string_view s);

// A JWT split and decoded, not yet verified.
struct Jwt {
  Json header, claims;
  std::string signing_input;  // "<header>.<payload>" as sent
  std::string signature;      // raw bytes
};
// Errors: "MalformedToken" with a reason.
Result<Jwt> ParseJwt(std::string_view token);

// Verifies an RS256/384/512 signature of `signing_input` with an RSA JWK.
bool VerifyRsaSignature(const Json& jwk, const std::string& alg, std::string_view signing_input,
                        std::string_view signature);

// JWKS by issuer, shared by STS web identity and API Gateway's JWT authorizers. Keys are cached
// by issuer and kid for kMaxAgeMs; an unknown kid refetches the set, at most once per
// kRefetchIntervalMs per issuer; at most kMaxIssuers issuers are remembered. Thread-safe
// (guarded by mu_); KeyFor blocks on the network on a miss.
class JwksCache {
 public:
  static constexpr int64_t kFetchTimeoutMs = 5000;
  static constexpr int64_t kRefetchIntervalMs = 10'000;
  static constexpr int64_t kMaxAgeMs = 3'600'000;
  static constexpr size_t kMaxIssuers = 1000;

  JwksCache(FetchFn fetch, const Clock& clock) : fetch_(std::move(fetch)), clock_(clock) {}

  // The JWK with `kid` (any key when kid is empty and the set has exactly one) of `issuer`.
  // Shared with the cache, never copied: a refetch replaces the set, not the keys handed out.
  // Errors: "JwksUnavailable", "UnknownKey".
  Result<std::shared_ptr<const Json>> KeyFor(const std::string& issuer, const std::string& kid);

 private:
  using Keys = std::vector<std::shared_ptr<const Json>>;
  struct Entry {
    Keys keys;
    int64_t fetched_ms = 0;
  };
  Result<Keys> Fetch(const std::string& issuer);

  const FetchFn fetch_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

// Verifies `jwt`'s signature with its issuer's key and its exp/nbf against `now_seconds`.
// Errors: "InvalidSignature", "ExpiredToken", "NotYetValid", "UnsupportedAlgorithm", and the
// JwksCache's errors.
Status VerifyJwt(const Jwt& jwt, JwksCache& jwks, int64_t now_seconds);

}  // namespace stratus::identity::oidc
