#include "services/apigateway/jwt.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <map>
#include <memory>
#include <mutex>

#include "core/strings.h"

namespace stratus::services::apigateway {


Result<std::vector<std::shared_ptr<const Json>>> JwksCache::Fetch(const std::string& issuer) {
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
  std::vector<std::shared_ptr<const Json>> keys;
  for (auto& k : set["keys"]) keys.push_back(std::make_shared<const Json>(std::move(k)));
  return keys;
}

Result<std::shared_ptr<const Json>> JwksCache::KeyFor(const std::string& issuer,
                                                      const std::string& kid) {
  int64_t now = clock_.NowMillis();
  auto find = [&](const std::vector<std::shared_ptr<const Json>>& keys)
      -> std::shared_ptr<const Json> {
    if (kid.empty() && keys.size() == 1) return keys[0];
    for (const auto& k : keys) {
      if (k->is_object() && k->value("kid", "") == kid) return k;
    }
    return nullptr;
  };
  bool fetch = true;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(issuer);
    if (it != entries_.end()) {
      std::shared_ptr<const Json> k = find(it->second.keys);
      bool fresh = now - it->second.fetched_ms < kMaxAgeMs;
      if (k && fresh) return k;
      fetch = now - it->second.fetched_ms >= kRefetchIntervalMs || !fresh;
      if (!fetch) return Error("UnknownKey", "no key with kid '" + kid + "' in the issuer's JWKS");
    }
  }
  if (fetch) {
    STRATUS_ASSIGN_OR_RETURN(auto keys, Fetch(issuer));
    std::shared_ptr<const Json> k = find(keys);
    std::lock_guard lock(mu_);
    entries_[issuer] = Entry{std::move(keys), now};
    if (k) return k;
  }
  return Error("UnknownKey", "no key with kid '" + kid + "' in the issuer's JWKS");
}

Result<Json> VerifyJwt(const std::string& token, const JwtRequirements& req, JwksCache& jwks,
                       int64_t now_seconds) {
  auto refuse = [](std::string why) { return Error("Unauthorized", std::move(why), 401); };
  auto parts = Split(token, '.');
  if (parts.size() != 3) return refuse("the token is not a JWT");
  auto header_raw = Base64UrlDecode(parts[0]);
  auto payload_raw = Base64UrlDecode(parts[1]);
  auto sig = Base64UrlDecode(parts[2]);
  if (!header_raw || !payload_raw || !sig) return refuse("the token is not base64url");
  Json header = ParseJsonOrDiscarded(*header_raw);
  Json claims = ParseJsonOrDiscarded(*payload_raw);
  if (!header.is_object() || !claims.is_object()) return refuse("the token is not JSON");
  std::string alg = header.value("alg", "");
  if (alg != "RS256" && alg != "RS384" && alg != "RS512") {
    return refuse("unsupported signing algorithm '" + alg + "'");
  }
  if (claims.value("iss", Json("")) != req.issuer) return refuse("the token's issuer is not " + req.issuer);
  auto key = jwks.KeyFor(req.issuer, header.value("kid", ""));
  if (!key.ok()) return refuse(key.error().message);
  std::string signing_input = parts[0] + "." + parts[1];
  if (!VerifyRsaSignature(**key, alg, signing_input, *sig)) return refuse("invalid signature");
  if (claims.contains("exp") && claims["exp"].is_number() &&
      claims["exp"].get<double>() <= static_cast<double>(now_seconds)) {
    return refuse("the token has expired");
  }
  if (claims.contains("nbf") && claims["nbf"].is_number() &&
      claims["nbf"].get<double>() > static_cast<double>(now_seconds)) {
    return refuse("the token is not valid yet");
  }
  if (!req.audience.empty()) {
    bool ok = false;
    const Json& aud = claims.contains("aud") ? claims["aud"] : claims.value("client_id", Json());
    auto matches = [&](const Json& v) {
      if (!v.is_string()) return false;
      for (const auto& a : req.audience) {
        if (a == v.get<std::string>()) return true;
      }
      return false;
    };
    if (aud.is_array()) {
      for (const auto& a : aud) ok = ok || matches(a);
    } else {
      ok = matches(aud);
    }
    if (!ok) return refuse("the token's audience is not allowed");
  }
  return claims;
}

namespace {

std::string ClaimText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::optional<double> NumericClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

Result<std::shared_ptr<const VerifiedJwt>> VerifiedJwtCache::Verify(std::string_view authorizer,
                                                                    const std::string& token,
                                                                    const JwtRequirements& req,
                                                                    JwksCache& jwks,
                                                                    int64_t now_seconds) {
  // Everything the verdict depends on besides the clock: the asker, its requirements, the token.
  std::string key;
  key.reserve(authorizer.size() + req.issuer.size() + token.size() + 64);
  key.append(authorizer).push_back('\n');
  key.append(req.issuer).push_back('\n');
  for (const auto& a : req.audience) key.append(a).push_back('\t');
  key.push_back('\n');
  key.append(token);
  const double now = static_cast<double>(now_seconds);
  {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      if (now < it->second->cache_until) {
        lru_.splice(lru_.begin(), lru_, it->second);
        std::shared_ptr<const VerifiedJwt> hit = it->second->token;
        // cache_until <= exp, but a clock set back can reach before nbf (or exp, with a manual
        // clock): the checks VerifyJwt makes on time, made again.
        if (hit->exp && *hit->exp <= now) {
          return Error("Unauthorized", "the token has expired", 401);
        }
        if (hit->nbf && *hit->nbf > now) {
          return Error("Unauthorized", "the token is not valid yet", 401);
        }
        return hit;
      }
      lru_.erase(it->second);
      index_.erase(it);
    }
  }
  STRATUS_ASSIGN_OR_RETURN(Json claims, VerifyJwt(token, req, jwks, now_seconds));
  auto v = std::make_shared<VerifiedJwt>();
  v->string_claims = Json::object();
  for (const auto& [k, c] : claims.items()) {
    v->string_claims[k] = c.is_string() ? c : Json(ClaimText(c));
  }
  std::string scope = claims.contains("scope") ? ClaimText(claims["scope"])
                                               : ClaimText(claims.value("scp", Json("")));
  for (auto& g : Split(scope, ' ')) {
    if (!g.empty()) v->scopes.push_back(std::move(g));
  }
  v->exp = NumericClaim(claims, "exp");
  v->nbf = NumericClaim(claims, "nbf");
  v->claims = std::move(claims);
  double until = now + static_cast<double>(kMaxAgeSeconds);
  if (v->exp && *v->exp < until) until = *v->exp;
  std::shared_ptr<const VerifiedJwt> verified = std::move(v);
  std::lock_guard lock(mu_);
  if (index_.find(key) == index_.end()) {
    lru_.push_front(Entry{std::move(key), verified, until});
    index_.emplace(lru_.front().key, lru_.begin());
    if (lru_.size() > kMaxEntries) {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }
  return verified;
}

size_t VerifiedJwtCache::SizeForTest() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace stratus::services::apigateway
