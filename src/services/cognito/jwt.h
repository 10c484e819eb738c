#pragma once
// JSON Web Tokens as Cognito issues them: RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over
// base64url(header) "." base64url(claims), keys published as a JWKS. Verification accepts RS256
// only: "alg": "none", HS256 and anything else are refused, as are malformed encodings.
//
// Thread-safe: a SigningKey is immutable after construction and may sign from many threads.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace stratus::services::cognito::jwt {

std::string Base64UrlEncode(std::string_view data);
// Strict: only the url-safe alphabet, no padding required (padding tolerated).
std::optional<std::string> Base64UrlDecode(std::string_view text);

class SigningKey {
 public:
  // A fresh 2048-bit RSA key.
  static std::unique_ptr<SigningKey> Generate(std::string kid);
  // A key from its PKCS#8 PEM (as kept in the store); null when the PEM is not an RSA key.
  static std::unique_ptr<SigningKey> FromPem(std::string kid, std::string_view pem);
  // A verify-only key from a JWK (kty RSA, n, e); null when malformed.
  static std::unique_ptr<SigningKey> FromJwk(const Json& jwk);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  const std::string& kid() const { return kid_; }
  std::string PrivatePem() const;
  // The public JWK: {"alg":"RS256","e":..,"kid":..,"kty":"RSA","n":..,"use":"sig"}.
  Json PublicJwk() const;
  // A compact JWT with header {"kid":kid,"alg":"RS256"} (plus `extra_header` members).
  std::string Sign(const Json& claims, const Json& extra_header = Json::object()) const;
  // RSASSA-PKCS1-v1_5 SHA-256 signature (raw bytes) of `data`.
  std::string SignRaw(std::string_view data) const;
  bool Verify(std::string_view signing_input, std::string_view signature) const;

 private:
  SigningKey(std::string kid, EVP_PKEY* key) : kid_(std::move(kid)), key_(key) {}
  std::string kid_;
  EVP_PKEY* key_;  // owned
};

// A token split and decoded, not yet verified.
struct Parsed {
  Json header;
  Json claims;
  std::string signing_input;  // header "." payload, as sent
  std::string signature;      // raw bytes
};

// Splits and decodes a compact JWS. Fails with a message for anything but three base64url parts
// whose first two are JSON objects and whose alg is RS256 with a kid.
Result<Parsed> Parse(std::string_view token);

}  // namespace stratus::services::cognito::jwt
