#include "services/cognito/tokens.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/cognito/common.h"
#include "services/cognito/users.h"

namespace stratus::services::cognito {

namespace {

// Claims Cognito sets in an access token itself: a pre token generation function can neither add,
// change nor suppress them (scopes change through scopesToAdd/scopesToSuppress).
bool ReservedAccessClaim(std::string_view k) {
  static const char* const kReserved[] = {
      "iss", "sub", "aud", "token_use", "exp", "iat", "auth_time", "jti", "origin_jti", "event_id",
      "client_id", "scope", "username", "cognito:username", "nbf", "nonce", "at_hash", "identities",
      "acr", "amr", "azp", "version"};
  for (const char* r : kReserved) {
    if (k == r) return true;
  }
  return false;
}

// Applies a function's accessTokenGeneration to an access token's claims granted `scope`.
void ApplyAccessChanges(const Tokens::AccessChanges& c, const std::string& scope, Json& access) {
  if (!c.scopes_to_add.empty() || !c.scopes_to_suppress.empty()) {
    std::vector<std::string> scopes;
    for (std::string_view rest = scope; !rest.empty();) {
      size_t sp = rest.find(' ');
      std::string_view one = rest.substr(0, sp);
      if (!one.empty()) scopes.emplace_back(one);
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    }
    for (const auto& add : c.scopes_to_add) {
      if (std::find(scopes.begin(), scopes.end(), add) == scopes.end()) scopes.push_back(add);
    }
    std::string joined;
    for (const auto& one : scopes) {
      if (std::find(c.scopes_to_suppress.begin(), c.scopes_to_suppress.end(), one) !=
          c.scopes_to_suppress.end()) {
        continue;
      }
      joined += (joined.empty() ? "" : " ") + one;
    }
    if (joined.empty()) {
      access.erase("scope");
    } else {
      access["scope"] = joined;
    }
  }
  for (const auto& [k, v] : c.add_claims.items()) access[k] = v;
  for (const auto& k : c.suppress_claims) access.erase(k);
}


// The protected header of Cognito's (encrypted) refresh tokens; ours are opaque random bytes
// in the same five-part shape, looked up by their hash.
constexpr std::string_view kRefreshHeader =
    "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ";

std::string UserTokenKey(std::string_view pool, std::string_view user, std::string_view jti) {
  return keys::PoolPrefix(pool) + "ut/" + std::string(user) + "/" + std::string(jti);
}

std::string NewRefreshToken() {
  return std::string(kRefreshHeader) + "." + jwt::Base64UrlEncode(RandomBytes(256)) + "." +
         jwt::Base64UrlEncode(RandomBytes(12)) + "." + jwt::Base64UrlEncode(RandomBytes(384)) +
         "." + jwt::Base64UrlEncode(RandomBytes(16));
}

// Attribute values as the ID token carries them: *_verified become booleans.
Json ClaimValue(const std::string& name, const Json& value) {
  if ((name == "email_verified" || name == "phone_number_verified") && value.is_string()) {
    return value.get<std::string>() == "true";
  }
  return value;
}

bool Readable(const Json& client, const std::string& attr) {
  const Json& read = client.value("ReadAttributes", Json::array());
  if (!read.is_array() || read.empty()) return true;
  for (const auto& a : read) {
    if (a == attr) return true;
  }
  return false;
}

}  // namespace

std::string Tokens::Issuer(std::string_view pool_id) const {
  return (external_url_ ? external_url_() : std::string("http://localhost:4566")) + "/" +
         std::string(pool_id);
}

std::string Tokens::PoolFromIssuer(std::string_view iss) const {
  std::string base = (external_url_ ? external_url_() : std::string("http://localhost:4566")) + "/";
  if (!StartsWith(iss, base)) return {};
  std::string pool(iss.substr(base.size()));
  return pool.find('/') == std::string::npos ? pool : std::string();
}

int64_t Tokens::ValiditySeconds(const Json& client, std::string_view kind) {
  std::string k(kind);
  std::string member = k == "AccessToken" ? "AccessTokenValidity"
                       : k == "IdToken"   ? "IdTokenValidity"
                                          : "RefreshTokenValidity";
  std::string unit = k == "RefreshToken" ? "days" : "hours";
  int64_t value = k == "RefreshToken" ? 30 : 1;
  if (client.contains(member) && client[member].is_number()) {
    value = client[member].get<int64_t>();
    // Without units, access/ID validities are hours and refresh validity days (AWS's default).
    const Json& units = client.value("TokenValidityUnits", Json::object());
    if (units.is_object() && units.contains(k)) unit = units[k].get<std::string>();
  }
  if (unit == "seconds") return value;
  if (unit == "minutes") return value * 60;
  if (unit == "hours") return value * 3600;
  return value * 86400;
}

Result<std::shared_ptr<const Tokens::PoolKeys>> Tokens::KeysFor(std::string_view pool_id,
                                                                bool force_reload) {
  int64_t now = clock_.NowMillis();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(pool_id);
    if (!force_reload && it != cache_.end() && now - it->second->loaded_ms < kKeyCacheMs) {
      return it->second;
    }
  }
  auto keys = std::make_shared<PoolKeys>();
  std::string prefix = keys::PoolPrefix(pool_id) + "k/";
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::PrefixScan(prefix)));
  std::vector<std::pair<int64_t, std::shared_ptr<jwt::SigningKey>>> loaded;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(pool_id);
    for (const auto& kv : rows) {
      Json rec = ParseJsonOrDiscarded(kv.value);
      std::string kid = kv.key.substr(prefix.size());
      std::shared_ptr<jwt::SigningKey> key;
      // Keys never change once written: reuse the parsed ones.
      if (it != cache_.end()) {
        for (const auto& k : it->second->keys) {
          if (k->kid() == kid) key = k;
        }
      }
      if (!key) key = jwt::SigningKey::FromPem(kid, rec.value("pem", ""));
      if (key) loaded.emplace_back(rec.value("created", int64_t{0}), std::move(key));
    }
  }
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [created, key] : loaded) keys->keys.push_back(std::move(key));
  keys->newest_created_ms = loaded.empty() ? 0 : loaded.front().first;
  keys->loaded_ms = now;
  std::lock_guard lock(mu_);
  cache_[std::string(pool_id)] = keys;
  return std::shared_ptr<const PoolKeys>(keys);
}

Status Tokens::AddKey(std::string_view pool_id) {
  auto key = jwt::SigningKey::Generate(Base64Encode(RandomBytes(32)));
  if (!key) return InternalError("Could not generate a signing key.");
  int64_t now = clock_.NowMillis();
  std::string prefix = keys::PoolPrefix(pool_id) + "k/";
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto rows, txn.Scan(store::PrefixScan(prefix)));
    // Another caller may have rotated meanwhile: only add when the newest key is still due.
    std::vector<std::pair<int64_t, std::string>> existing;
    for (const auto& kv : rows) {
      existing.emplace_back(ParseJsonOrDiscarded(kv.value).value("created", int64_t{0}), kv.key);
    }
    std::sort(existing.begin(), existing.end(), std::greater<>());
    if (!existing.empty() && now - existing.front().first < kRotationMs && now >= existing.front().first) {
      return Status::Ok();
    }
    Json rec = Json{{"pem", key->PrivatePem()}, {"created", now}};
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::SigningKey(pool_id, key->kid()), DumpJson(rec)));
    // Keep the newest kPublishedKeys (the new one plus the previous ones).
    for (size_t i = kPublishedKeys - 1; i < existing.size(); ++i) {
      STRATUS_RETURN_IF_ERROR(txn.Delete(existing[i].second));
    }
    return Status::Ok();
  });
}

Status Tokens::RotateForTest(std::string_view pool_id) {
  // Backdate the current keys' creation so that the next AddKey is due.
  std::string prefix = keys::PoolPrefix(pool_id) + "k/";
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto rows, txn.Scan(store::PrefixScan(prefix)));
    for (const auto& kv : rows) {
      Json rec = ParseJsonOrDiscarded(kv.value);
      rec["created"] = rec.value("created", int64_t{0}) - kRotationMs;
      STRATUS_RETURN_IF_ERROR(txn.Put(kv.key, DumpJson(rec)));
    }
    return Status::Ok();
  }));
  STRATUS_RETURN_IF_ERROR(AddKey(pool_id));
  return KeysFor(pool_id, true).ok() ? Status::Ok() : InternalError("key reload failed");
}

Result<Json> Tokens::Jwks(std::string_view pool_id) {
  STRATUS_ASSIGN_OR_RETURN(auto keys, KeysFor(pool_id, false));
  if (keys->keys.empty()) {
    STRATUS_RETURN_IF_ERROR(AddKey(pool_id));
    STRATUS_ASSIGN_OR_RETURN(keys, KeysFor(pool_id, true));
  }
  Json out = Json{{"keys", Json::array()}};
  for (const auto& k : keys->keys) out["keys"].push_back(k->PublicJwk());
  return out;
}

Result<std::string> Tokens::Sign(std::string_view pool_id, const Json& claims) {
  STRATUS_ASSIGN_OR_RETURN(auto keys, KeysFor(pool_id, false));
  int64_t now = clock_.NowMillis();
  if (keys->keys.empty() || now - keys->newest_created_ms >= kRotationMs) {
    STRATUS_RETURN_IF_ERROR(AddKey(pool_id));
    STRATUS_ASSIGN_OR_RETURN(keys, KeysFor(pool_id, true));
    if (keys->keys.empty()) return InternalError("The user pool has no signing key.");
  }
  return keys->keys.front()->Sign(claims);
}

std::shared_ptr<const Tokens::VerifiedToken> Tokens::Remembered(std::string_view token) {
  std::shared_ptr<const VerifiedToken> v;
  {
    std::lock_guard lock(verified_mu_);
    auto it = verified_.find(token);
    if (it == verified_.end()) return nullptr;
    v = it->second;
  }
  // A key the pool no longer publishes (rotated out) stops vouching for its tokens.
  auto keys = KeysFor(v->pool_id, false);
  if (!keys.ok()) return nullptr;
  for (const auto& k : (*keys)->keys) {
    if (k->kid() == v->kid) return v;
  }
  return nullptr;
}

Result<std::shared_ptr<const Tokens::VerifiedToken>> Tokens::SignatureOf(std::string_view pool_id,
                                                                         std::string_view token) {
  if (auto v = Remembered(token); v && v->pool_id == pool_id) return v;
  auto parsed = jwt::Parse(token);
  if (!parsed.ok()) return std::shared_ptr<const VerifiedToken>();
  STRATUS_ASSIGN_OR_RETURN(auto keys, KeysFor(pool_id, false));
  std::string kid = parsed->header["kid"].get<std::string>();
  const jwt::SigningKey* key = nullptr;
  for (const auto& k : keys->keys) {
    if (k->kid() == kid) key = k.get();
  }
  if (!key) {
    STRATUS_ASSIGN_OR_RETURN(keys, KeysFor(pool_id, true));
    for (const auto& k : keys->keys) {
      if (k->kid() == kid) key = k.get();
    }
  }
  if (!key || !key->Verify(parsed->signing_input, parsed->signature)) {
    return std::shared_ptr<const VerifiedToken>();
  }
  auto v = std::make_shared<const VerifiedToken>(
      VerifiedToken{std::string(pool_id), kid, std::move(parsed->claims)});
  std::lock_guard lock(verified_mu_);
  if (verified_.size() >= kMaxVerifiedTokens) verified_.clear();
  verified_[std::string(token)] = v;
  return v;
}

Result<Json> Tokens::Verify(std::string_view pool_id, std::string_view token, std::string_view use) {
  STRATUS_ASSIGN_OR_RETURN(auto verified, SignatureOf(pool_id, token));
  return CheckClaims(pool_id, verified.get(), use);
}

Status Tokens::CheckUnexpired(std::string_view pool_id, const VerifiedToken* verified,
                              std::string_view use) const {
  std::string_view kind = use == "id" ? "Id" : use == "access" ? "Access" : "Refresh";
  auto invalid = [&] { return NotAuthorized("Invalid " + std::string(kind) + " Token"); };
  if (!verified) return invalid();
  const Json& c = verified->claims;
  auto iss = c.find("iss");
  auto token_use = c.find("token_use");
  auto exp = c.find("exp");
  if (iss == c.end() || !iss->is_string() || token_use == c.end() || !token_use->is_string() ||
      exp == c.end() || !exp->is_number()) {
    return invalid();
  }
  if (iss->get_ref<const std::string&>() != Issuer(pool_id) ||
      token_use->get_ref<const std::string&>() != use) {
    return invalid();
  }
  if (exp->get<int64_t>() <= clock_.NowMillis() / 1000) {
    return NotAuthorized(std::string(kind) + " Token has expired");
  }
  return Status::Ok();
}

Result<Json> Tokens::CheckClaims(std::string_view pool_id, const VerifiedToken* verified,
                                 std::string_view use) {
  STRATUS_RETURN_IF_ERROR(CheckUnexpired(pool_id, verified, use));
  const Json& c = verified->claims;
  if (c.contains("origin_jti") && IsRevoked(pool_id, c["origin_jti"].get<std::string>())) {
    std::string kind = use == "id" ? "Id" : use == "access" ? "Access" : "Refresh";
    return NotAuthorized(kind + " Token has been revoked");
  }
  return c;
}

Result<std::shared_ptr<const Tokens::VerifiedToken>> Tokens::CheckAccess(std::string_view token) {
  auto v = Remembered(token);
  if (!v) {
    auto parsed = jwt::Parse(token);
    if (!parsed.ok()) return NotAuthorized("Invalid Access Token");
    std::string pool = PoolFromIssuer(parsed->claims.value("iss", ""));
    if (pool.empty()) return NotAuthorized("Invalid Access Token");
    STRATUS_ASSIGN_OR_RETURN(v, SignatureOf(pool, token));
  }
  STRATUS_RETURN_IF_ERROR(CheckUnexpired(v ? v->pool_id : std::string_view(), v.get(), "access"));
  return v;
}

Result<bool> Tokens::RevokedIn(store::ReadTxn& txn, std::string_view pool_id,
                               std::string_view origin_jti) {
  if (origin_jti.empty()) return false;
  STRATUS_ASSIGN_OR_RETURN(auto mark, txn.Get(keys::Revoked(pool_id, origin_jti)));
  return mark.has_value();
}

Json Tokens::IdClaims(const Grant& g, const std::string& origin_jti, const std::string& event_id,
                      int64_t now) const {
  const Json& attrs = g.user.value("Attributes", Json::object());
  std::string pool_id = g.pool.value("Id", "");
  Json c = Json::object();
  c["sub"] = attrs.value("sub", "");
  if (!g.groups.empty()) {
    Json names = Json::array();
    for (const auto& gr : g.groups) names.push_back(gr["GroupName"]);
    c["cognito:groups"] = names;
    Json roles = Json::array();
    for (const auto& gr : g.groups) {
      if (gr.contains("RoleArn")) roles.push_back(gr["RoleArn"]);
    }
    if (!roles.empty()) {
      c["cognito:preferred_role"] = roles[0];
      c["cognito:roles"] = roles;
    }
  }
  for (const auto& [k, v] : attrs.items()) {
    if (k == "sub" || !Readable(g.client, k)) continue;
    c[k] = ClaimValue(k, v);
  }
  c["iss"] = Issuer(pool_id);
  c["cognito:username"] = g.user["Username"];
  if (!g.nonce.empty()) c["nonce"] = g.nonce;
  c["origin_jti"] = origin_jti;
  c["aud"] = g.client["ClientId"];
  c["event_id"] = event_id;
  c["token_use"] = "id";
  c["auth_time"] = g.auth_time;
  if (g.user.contains("_Identities")) c["identities"] = g.user["_Identities"];
  c["exp"] = now + ValiditySeconds(g.client, "IdToken");
  c["iat"] = now;
  c["jti"] = NewUuid();
  return c;
}

Result<Json> Tokens::Issue(const Grant& g) {
  int64_t now = clock_.NowMillis() / 1000;
  std::string pool_id = g.pool.value("Id", "");
  std::string origin_jti = g.origin_jti.empty() ? NewUuid() : g.origin_jti;
  std::string event_id = NewUuid();
  const Json& attrs = g.user.value("Attributes", Json::object());

  Json access = Json::object();
  access["sub"] = attrs.value("sub", "");
  std::vector<Json> groups = g.groups;
  Json group_names = Json::array();
  for (const auto& gr : groups) group_names.push_back(gr["GroupName"]);
  if (g.group_override.is_object() && g.group_override.contains("groupsToOverride")) {
    group_names = g.group_override["groupsToOverride"];
  }
  if (!group_names.empty()) access["cognito:groups"] = group_names;
  access["iss"] = Issuer(pool_id);
  access["client_id"] = g.client["ClientId"];
  access["origin_jti"] = origin_jti;
  access["event_id"] = event_id;
  access["token_use"] = "access";
  access["scope"] = g.scope;
  access["auth_time"] = g.auth_time;
  access["exp"] = now + ValiditySeconds(g.client, "AccessToken");
  access["iat"] = now;
  access["jti"] = NewUuid();
  access["username"] = g.user["Username"];
  ApplyAccessChanges(g.access_changes, g.scope, access);

  Json out = Json::object();
  STRATUS_ASSIGN_OR_RETURN(std::string access_token, Sign(pool_id, access));
  out["AccessToken"] = access_token;
  out["ExpiresIn"] = ValiditySeconds(g.client, "AccessToken");
  out["TokenType"] = "Bearer";
  if (g.refresh) {
    std::string refresh = NewRefreshToken();
    std::string user_key = Users::UsernameKey(g.pool, g.user["Username"].get<std::string>());
    Json rec = Json{{"Username", user_key},
                    {"ClientId", g.client["ClientId"]},
                    {"OriginJti", origin_jti},
                    {"AuthTime", g.auth_time},
                    {"Scope", g.scope},
                    {"Nonce", g.nonce},
                    {"Expires", now + ValiditySeconds(g.client, "RefreshToken")}};
    std::string hash = Sha256Hex(refresh);
    STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
      STRATUS_RETURN_IF_ERROR(txn.Put(keys::RefreshToken(pool_id, hash), DumpJson(rec)));
      return txn.Put(UserTokenKey(pool_id, user_key, origin_jti), hash);
    }));
    out["RefreshToken"] = refresh;
  }
  if (g.id_token) {
    Json id = IdClaims(g, origin_jti, event_id, now);
    if (g.group_override.is_object()) {
      if (g.group_override.contains("groupsToOverride")) {
        if (group_names.empty()) {
          id.erase("cognito:groups");
        } else {
          id["cognito:groups"] = group_names;
        }
      }
      if (g.group_override.contains("iamRolesToOverride")) id["cognito:roles"] = g.group_override["iamRolesToOverride"];
      if (g.group_override.contains("preferredRole")) id["cognito:preferred_role"] = g.group_override["preferredRole"];
    }
    for (const auto& [k, v] : g.add_claims.items()) id[k] = v;
    for (const auto& k : g.suppress_claims) id.erase(k);
    STRATUS_ASSIGN_OR_RETURN(std::string id_token, Sign(pool_id, id));
    out["IdToken"] = id_token;
  }
  return out;
}

Tokens::AccessChanges Tokens::AccessChanges::Parse(const Json& details) {
  AccessChanges c;
  if (!details.is_object() || !details.contains("accessTokenGeneration") ||
      !details["accessTokenGeneration"].is_object()) {
    return c;
  }
  const Json& at = details["accessTokenGeneration"];
  Json add = at.value("claimsToAddOrOverride", Json::object());
  if (add.is_object()) {
    for (const auto& [k, v] : add.items()) {
      if (!ReservedAccessClaim(k)) c.add_claims[k] = v;
    }
  }
  auto strings = [&at](const char* member, std::vector<std::string>& out, bool skip_reserved) {
    Json list = at.value(member, Json::array());
    if (!list.is_array()) return;
    for (const auto& item : list) {
      if (!item.is_string()) continue;
      if (skip_reserved && ReservedAccessClaim(item.get_ref<const std::string&>())) continue;
      out.push_back(item.get<std::string>());
    }
  };
  strings("claimsToSuppress", c.suppress_claims, true);
  strings("scopesToAdd", c.scopes_to_add, false);
  strings("scopesToSuppress", c.scopes_to_suppress, false);
  return c;
}

Result<Json> Tokens::IssueClientCredentials(const Json& pool, const Json& client,
                                            const std::string& scope,
                                            const AccessChanges& changes) {
  int64_t now = clock_.NowMillis() / 1000;
  std::string pool_id = pool.value("Id", "");
  Json access = Json{{"sub", client["ClientId"]},
                     {"token_use", "access"},
                     {"scope", scope},
                     {"auth_time", now},
                     {"iss", Issuer(pool_id)},
                     {"exp", now + ValiditySeconds(client, "AccessToken")},
                     {"iat", now},
                     {"version", 2},
                     {"jti", NewUuid()},
                     {"client_id", client["ClientId"]}};
  ApplyAccessChanges(changes, scope, access);
  STRATUS_ASSIGN_OR_RETURN(std::string token, Sign(pool_id, access));
  return Json{{"access_token", token},
              {"expires_in", ValiditySeconds(client, "AccessToken")},
              {"token_type", "Bearer"}};
}

Result<Json> Tokens::LookupRefresh(std::string_view pool_id, std::string_view token) {
  Error invalid = NotAuthorized("Invalid Refresh Token");
  if (token.empty() || token.size() > 8192) return invalid;
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(keys::RefreshToken(pool_id, Sha256Hex(token))));
  if (!raw) return invalid;
  Json rec = ParseJsonOrDiscarded(*raw);
  if (rec.value("Expires", int64_t{0}) <= clock_.NowMillis() / 1000) {
    return NotAuthorized("Refresh Token has expired");
  }
  if (IsRevoked(pool_id, rec.value("OriginJti", ""))) return NotAuthorized("Refresh Token has been revoked");
  return rec;
}

Status Tokens::RevokeRefresh(std::string_view pool_id, std::string_view token,
                             std::string_view client_id) {
  std::string hash = Sha256Hex(token);
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::RefreshToken(pool_id, hash)));
    if (!raw) return Status::Ok();
    Json rec = ParseJsonOrDiscarded(*raw);
    if (rec.value("ClientId", "") != client_id) {
      return CognitoError("UnauthorizedException", "The token was not issued to this client.");
    }
    std::string jti = rec.value("OriginJti", "");
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Revoked(pool_id, jti), std::to_string(rec.value("Expires", int64_t{0}))));
    STRATUS_RETURN_IF_ERROR(txn.Delete(UserTokenKey(pool_id, rec.value("Username", ""), jti)));
    return txn.Delete(keys::RefreshToken(pool_id, hash));
  });
}

Status Tokens::RevokeAllFor(std::string_view pool_id, std::string_view username_key) {
  std::string prefix = UserTokenKey(pool_id, username_key, "");
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto rows, txn.Scan(store::PrefixScan(prefix)));
    for (const auto& kv : rows) {
      std::string jti = kv.key.substr(prefix.size());
      STRATUS_RETURN_IF_ERROR(txn.Put(keys::Revoked(pool_id, jti), "1"));
      STRATUS_RETURN_IF_ERROR(txn.Delete(keys::RefreshToken(pool_id, kv.value)));
    }
    return txn.DeleteRange(prefix, store::PrefixEnd(prefix)).ok() ? Status::Ok()
                                                                  : InternalError("revoke failed");
  });
}

bool Tokens::IsRevoked(std::string_view pool_id, std::string_view origin_jti) {
  if (origin_jti.empty()) return false;
  auto r = store_.Get(keys::Revoked(pool_id, origin_jti));
  return r.ok() && r->has_value();
}

}  // namespace stratus::services::cognito
