#include "identity/oidc/oidc.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <map>
#include <memory>
#include <mutex>

#include "core/strings.h"

namespace stratus::identity::oidc {

std::optional<std::string> Base64UrlDecode(std::string_view s) {
  std::string b64(s);
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4) b64.push_back('=');
  return Base64Decode(b64);
}

Result<Jwt> ParseJwt(std::string_view token) {
  auto bad = [](std::string why) { return Error("MalformedToken", std::move(why)); };
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return bad("the token is not a JWT (three dot-separated parts)");
  }
  auto header = Base64UrlDecode(token.substr(0, a));
  auto claims = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  auto sig = Base64UrlDecode(token.substr(b + 1));
  if (!header || !claims || !sig) return bad("the token is not base64url");
  Jwt jwt;
  jwt.header = ParseJsonOrDiscarded(*header);
  jwt.claims = ParseJsonOrDiscarded(*claims);
  if (!jwt.header.is_object() || !jwt.claims.is_object()) return bad("the token is not JSON");
  jwt.signing_input = std::string(token.substr(0, b));
  jwt.signature = std::move(*sig);
  return jwt;
}

namespace {

// Builds an RSA public key from its big-endian modulus and exponent; null when malformed.
std::shared_ptr<EVP_PKEY> BuildRsaKey(const std::string& n, const std::string& e) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()),
                nullptr),
      BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()),
                nullptr),
      BN_free);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !bld) return nullptr;
  if (!OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
      OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> kctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
  if (!params || !kctx || EVP_PKEY_fromdata_init(kctx.get()) <= 0) return nullptr;
  EVP_PKEY* raw_key = nullptr;
  if (EVP_PKEY_fromdata(kctx.get(), &raw_key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(raw_key, EVP_PKEY_free);
}

// Public keys already built, by their JWK "n" and "e": building an EVP_PKEY from parameters
// costs more than an RS256 verification, and issuers publish a handful of keys. An EVP_PKEY is
// safe to verify with from many threads at once.
class RsaKeyCache {
 public:
  static constexpr size_t kMaxKeys = 256;

  std::shared_ptr<EVP_PKEY> Get(const std::string& n_b64, const std::string& e_b64) {
    std::string id = n_b64 + "." + e_b64;
    {
      std::lock_guard lock(mu_);
      auto it = keys_.find(id);
      if (it != keys_.end()) return it->second;
    }
    auto n = Base64UrlDecode(n_b64);
    auto e = Base64UrlDecode(e_b64);
    if (!n || !e || n->empty() || e->empty()) return nullptr;
    std::shared_ptr<EVP_PKEY> key = BuildRsaKey(*n, *e);
    if (!key) return nullptr;
    std::lock_guard lock(mu_);
    if (keys_.size() >= kMaxKeys) keys_.clear();
    keys_.emplace(std::move(id), key);
    return key;
  }

 private:
  std::mutex mu_;  // guards keys_
  std::map<std::string, std::shared_ptr<EVP_PKEY>> keys_;
};

RsaKeyCache& Keys() {
  static RsaKeyCache cache;
  return cache;
}

}  // namespace

bool VerifyRsaSignature(const Json& jwk, const std::string& alg, std::string_view signing_input,
                        std::string_view signature) {
  if (!jwk.is_object() || jwk.value("kty", "") != "RSA") return false;
  const EVP_MD* md = alg == "RS256"   ? EVP_sha256()
                     : alg == "RS384" ? EVP_sha384()
                     : alg == "RS512" ? EVP_sha512()
                                      : nullptr;
  if (!md) return false;
  std::shared_ptr<EVP_PKEY> key = Keys().Get(jwk.value("n", ""), jwk.value("e", ""));
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> mctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  if (!mctx || EVP_DigestVerifyInit(mctx.get(), nullptr, md, nullptr, key.get()) <= 0) {
    return false;
  }
  return EVP_DigestVerify(mctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

Result<JwksCache::Keys> JwksCache::Fetch(const std::string& issuer) {
  std::string base = issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string jwks_uri = base + "/.well-known/jwks.json";
  auto config = fetch_(base + "/.well-known/openid-configuration", kFetchTimeoutMs);
  if (config.ok()) {
    Json c = ParseJsonOrDiscarded(*config);
    if (c.is_object() && c.contains("jwks_uri") && c["jwks_uri"].is_string()) {
      jwks_uri = c["jwks_uri"].get<std::string>();
    }
  }
  auto body = fetch_(jwks_uri, kFetchTimeoutMs);
  if (!body.ok()) {
    return Error("JwksUnavailable", "cannot fetch the JWKS of " + issuer + " from " + jwks_uri +
                                        ": " + body.error().message);
  }
  Json set = ParseJsonOrDiscarded(*body);
  if (!set.is_object() || !set.contains("keys") || !set["keys"].is_array()) {
    return Error("JwksUnavailable", "the JWKS at " + jwks_uri + " has no keys array");
  }
  Keys keys;
  for (auto& k : set["keys"]) keys.push_back(std::make_shared<const Json>(std::move(k)));
  return keys;
}

Result<std::shared_ptr<const Json>> JwksCache::KeyFor(const std::string& issuer,
                                                      const std::string& kid) {
  int64_t now = clock_.NowMillis();
  auto find = [&](const Keys& keys) -> std::shared_ptr<const Json> {
    if (kid.empty() && keys.size() == 1) return keys[0];
    for (const auto& k : keys) {
      if (k->is_object() && k->value("kid", "") == kid) return k;
    }
    return nullptr;
  };
  auto unknown = [&] { return Error("UnknownKey", "no key with kid '" + kid + "' in the issuer's JWKS"); };
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(issuer);
    if (it != entries_.end()) {
      std::shared_ptr<const Json> k = find(it->second.keys);
      bool fresh = now - it->second.fetched_ms < kMaxAgeMs;
      if (k && fresh) return k;
      // An unknown kid refetches, but at most once per kRefetchIntervalMs per issuer.
      if (fresh && now - it->second.fetched_ms < kRefetchIntervalMs) return unknown();
    }
  }
  STRATUS_ASSIGN_OR_RETURN(Keys keys, Fetch(issuer));
  std::shared_ptr<const Json> k = find(keys);
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxIssuers) entries_.clear();
  entries_[issuer] = Entry{std::move(keys), now};
  if (k) return k;
  return unknown();
}

Status VerifyJwt(const Jwt& jwt, JwksCache& jwks, int64_t now_seconds) {
  std::string alg = jwt.header.value("alg", "");
  if (alg != "RS256" && alg != "RS384" && alg != "RS512") {
    return Error("UnsupportedAlgorithm", "unsupported signing algorithm '" + alg + "'");
  }
  const Json& iss = jwt.claims.contains("iss") ? jwt.claims["iss"] : Json();
  if (!iss.is_string()) return Error("MalformedToken", "the token has no issuer");
  STRATUS_ASSIGN_OR_RETURN(std::shared_ptr<const Json> key,
                           jwks.KeyFor(iss.get<std::string>(), jwt.header.value("kid", "")));
  if (!VerifyRsaSignature(*key, alg, jwt.signing_input, jwt.signature)) {
    return Error("InvalidSignature", "the token's signature does not verify with the issuer's key");
  }
  const Json& exp = jwt.claims.contains("exp") ? jwt.claims["exp"] : Json();
  if (!exp.is_number()) return Error("MalformedToken", "the token has no exp claim");
  if (exp.get<double>() <= static_cast<double>(now_seconds)) {
    return Error("ExpiredToken", "the token has expired");
  }
  if (jwt.claims.contains("nbf") && jwt.claims["nbf"].is_number() &&
      jwt.claims["nbf"].get<double>() > static_cast<double>(now_seconds)) {
    return Error("NotYetValid", "the token is not valid yet");
  }
  return Status::Ok();
}

}  // namespace stratus::identity::oidc
