#include "services/cognito/federation.h"

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/cognito/common.h"
#include "services/cognito/engine.h"
#include "services/cognito/jwt.h"

namespace stratus::services::cognito {

namespace {

constexpr int64_t kFetchTimeoutMs = 5000;
constexpr int64_t kClockSkewSeconds = 300;

std::string Detail(const Json& provider, const char* name) {
  return provider.value("ProviderDetails", Json::object()).value(name, "");
}

}  // namespace

Result<Json> Federation::Discovery(const Json& provider) {
  Json out = Json{{"authorization_endpoint", Detail(provider, "authorize_url")},
                  {"token_endpoint", Detail(provider, "token_url")},
                  {"jwks_uri", Detail(provider, "jwks_uri")}};
  if (!out["authorization_endpoint"].get<std::string>().empty() && !out["token_endpoint"].get<std::string>().empty() &&
      !out["jwks_uri"].get<std::string>().empty()) {
    return out;
  }
  std::string issuer = Detail(provider, "oidc_issuer");
  while (EndsWith(issuer, "/")) issuer.pop_back();
  ClientRequest req;
  req.url = issuer + "/.well-known/openid-configuration";
  req.timeout_ms = kFetchTimeoutMs;
  auto resp = http_.FetchAndWait(std::move(req));
  if (!resp.ok()) return Error("invalid_request", "discovery failed: " + resp.error().message);
  if (resp->status != 200) return Error("invalid_request", "discovery answered HTTP " + std::to_string(resp->status));
  Json doc = ParseJsonOrDiscarded(resp->body);
  if (!doc.is_object()) return Error("invalid_request", "discovery document is not JSON");
  for (const char* k : {"authorization_endpoint", "token_endpoint", "jwks_uri"}) {
    if (out[k].get<std::string>().empty()) out[k] = doc.value(k, "");
  }
  return out;
}

Result<std::string> Federation::OidcAuthorizeUrl(const Json& provider, const std::string& redirect_uri,
                                                 const std::string& state, const std::string& nonce) {
  STRATUS_ASSIGN_OR_RETURN(Json d, Discovery(provider));
  std::string url = d["authorization_endpoint"];
  if (url.empty()) return Error("invalid_request", "the provider has no authorization endpoint");
  url += url.find('?') == std::string::npos ? "?" : "&";
  url += "client_id=" + UrlEncode(Detail(provider, "client_id")) + "&redirect_uri=" + UrlEncode(redirect_uri) +
         "&response_type=code&scope=" + UrlEncode(Detail(provider, "authorize_scopes")) +
         "&state=" + UrlEncode(state) + "&nonce=" + UrlEncode(nonce);
  return url;
}

Result<ExternalIdentity> Federation::OidcExchange(const Json& provider, const std::string& code,
                                                  const std::string& redirect_uri, const std::string& nonce) {
  STRATUS_ASSIGN_OR_RETURN(Json d, Discovery(provider));
  ClientRequest req;
  req.method = "POST";
  req.url = d["token_endpoint"];
  req.timeout_ms = kFetchTimeoutMs;
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  std::string id = Detail(provider, "client_id");
  std::string secret = Detail(provider, "client_secret");
  req.body = "grant_type=authorization_code&code=" + UrlEncode(code) + "&redirect_uri=" + UrlEncode(redirect_uri) +
             "&client_id=" + UrlEncode(id);
  if (!secret.empty()) req.headers.Set("Authorization", "Basic " + Base64Encode(UrlEncode(id) + ":" + UrlEncode(secret)));
  auto resp = http_.FetchAndWait(std::move(req));
  if (!resp.ok()) return Error("invalid_request", "token exchange failed: " + resp.error().message);
  Json tokens = ParseJsonOrDiscarded(resp->body);
  if (resp->status != 200 || !tokens.is_object() || !tokens.contains("id_token")) {
    return Error("invalid_request", "the identity provider refused the code (HTTP " + std::to_string(resp->status) + ")");
  }
  std::string id_token = tokens["id_token"];
  auto parsed = jwt::Parse(id_token);
  if (!parsed.ok()) return Error("invalid_request", "the identity provider's ID token is malformed or not RS256");
  ClientRequest jr;
  jr.url = d["jwks_uri"];
  jr.timeout_ms = kFetchTimeoutMs;
  auto jwks_resp = http_.FetchAndWait(std::move(jr));
  if (!jwks_resp.ok() || jwks_resp->status != 200) return Error("invalid_request", "could not fetch the provider's JWKS");
  Json jwks = ParseJsonOrDiscarded(jwks_resp->body);
  std::string kid = parsed->header["kid"];
  bool verified = false;
  for (const auto& k : jwks.value("keys", Json::array())) {
    if (k.value("kid", "") != kid) continue;
    auto key = jwt::SigningKey::FromJwk(k);
    verified = key && key->Verify(parsed->signing_input, parsed->signature);
  }
  if (!verified) return Error("invalid_request", "the provider's ID token signature does not verify");
  const Json& c = parsed->claims;
  std::string issuer = Detail(provider, "oidc_issuer");
  int64_t now = clock_.NowMillis() / 1000;
  bool aud_ok = c.value("aud", "") == id;
  if (c.contains("aud") && c["aud"].is_array()) {
    for (const auto& a : c["aud"]) aud_ok = aud_ok || a == id;
  }
  if (c.value("iss", "") != issuer || !aud_ok) return Error("invalid_request", "the ID token's issuer or audience is wrong");
  if (c.value("exp", int64_t{0}) + kClockSkewSeconds < now) return Error("invalid_request", "the ID token has expired");
  if (!nonce.empty() && c.value("nonce", "") != nonce) return Error("invalid_request", "the ID token's nonce does not match");
  if (!c.contains("sub") || !c["sub"].is_string()) return Error("invalid_request", "the ID token has no subject");
  return ExternalIdentity{c["sub"].get<std::string>(), c};
}

Result<std::string> Federation::Metadata(const Json& provider) {
  std::string file = Detail(provider, "MetadataFile");
  if (!file.empty()) return file;
  ClientRequest req;
  req.url = Detail(provider, "MetadataURL");
  req.timeout_ms = kFetchTimeoutMs;
  auto resp = http_.FetchAndWait(std::move(req));
  if (!resp.ok() || resp->status != 200) return Error("invalid_request", "could not fetch the SAML metadata");
  return resp->body;
}

Result<ExternalIdentity> Federation::SamlConsume(const Json& provider, const std::string& saml_response,
                                                 const std::string& sp_entity_id) {
  auto xml = Base64Decode(saml_response);
  if (!xml) return Error("invalid_request", "SAMLResponse is not base64");
  STRATUS_ASSIGN_OR_RETURN(std::string metadata, Metadata(provider));
  return VerifySamlResponse(*xml, metadata, sp_entity_id, clock_.NowMillis() / 1000);
}

// ---------------------------------------------------------------- linking (Engine)

Result<Json> Engine::LinkFederatedUser(const Json& pool, const Json& provider, const std::string& subject,
                                       const Json& claims) {
  std::string name = provider.value("ProviderName", "");
  std::string username = name + "_" + subject;
  Json attrs = Json::object();
  const Json mapping = provider.value("AttributeMapping", Json::object());
  for (const auto& [pool_attr, idp_attr] : mapping.items()) {
    if (!idp_attr.is_string()) continue;
    std::string src = idp_attr.get<std::string>();
    if (claims.contains(src)) {
      const Json& v = claims[src];
      attrs[pool_attr] = v.is_string() ? v.get<std::string>() : v.is_boolean() ? (v.get<bool>() ? "true" : "false") : v.dump();
    }
  }
  attrs.erase("sub");
  Json identity = Json{{"userId", subject}, {"providerName", name}, {"providerType", provider.value("ProviderType", "")},
                       {"issuer", nullptr}, {"primary", "true"}, {"dateCreated", std::to_string(clock_.NowMillis())}};
  auto existing = users_.Get(pool, username);
  if (existing.ok()) {
    return users_.Update(pool, username, [&](Json& u) -> Status {
      for (const auto& [k, v] : attrs.items()) u["Attributes"][k] = v;
      u["UserLastModifiedDate"] = clock_.NowSeconds();
      return Status::Ok();
    });
  }
  Json user = NewUserRecord(pool, username, attrs, "EXTERNAL_PROVIDER");
  user["Attributes"]["identities"] = DumpJson(Json::array({identity}));
  user["_Identities"] = Json::array({identity});
  STRATUS_RETURN_IF_ERROR(users_.Create(pool, user));
  spdlog::info("cognito: linked {} user {} into {}", name, username, pool.value("Id", ""));
  return user;
}

}  // namespace stratus::services::cognito
