#pragma once
// For tests only: an RSA-2048 key that issues RS256 JWTs and publishes itself as a JWK, so tests
// of JWT verification (STS web identity, API Gateway authorizers) sign real tokens. Keys are
// independent; Sign is const and may be called from several threads.
#include <memory>
#include <string>
#include <string_view>

#include "core/json.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace stratus::identity::oidc {

// Base64url without padding (RFC 7515 §2).
std::string Base64UrlEncodeForTest(std::string_view raw);

class TestRsaKey {
 public:
  TestRsaKey();  // generates a fresh key
  // The public key as a JWK: kty, kid, alg RS256, n, e.
  Json Jwk(const std::string& kid) const;
  // "<b64url(header)>.<b64url(claims)>.<b64url(RS256 signature)>".
  std::string Sign(const Json& header, const Json& claims) const;

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const;
  };
  std::unique_ptr<EVP_PKEY, Free> key_;
};

}  // namespace stratus::identity::oidc
