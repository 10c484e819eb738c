#include "services/apigateway/jwt.h"

#include <map>
#include <memory>
#include <mutex>

#include "core/strings.h"

namespace stratus::services::apigateway {

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
