#pragma once
// Federation with external identity providers, for the hosted UI.
//
// OIDC (ProviderType "OIDC", ProviderDetails client_id, client_secret, authorize_scopes,
// oidc_issuer and optionally authorize_url/token_url/jwks_uri/attributes_request_method): the
// user is sent to the IdP's authorization endpoint; its code comes back to
// /oauth2/idpresponse, is exchanged at its token endpoint, and the ID token is verified against
// the IdP's JWKS (RS256 only, iss, aud, exp, nonce).
//
// SAML 2.0 (ProviderType "SAML", ProviderDetails MetadataFile or MetadataURL): an AuthnRequest
// goes out over the HTTP-Redirect binding; the IdP POSTs its Response to /saml2/idpresponse,
// where the XML signature (Response or Assertion) is verified by xmlsec1 with the certificate
// from the metadata, and the conditions (audience, time window, destination) are checked.
//
// Blocking (network fetches): call from worker threads. Thread-safe.
#include <string>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/result.h"

namespace stratus::services::cognito {

// What an IdP said about the user.
struct ExternalIdentity {
  std::string subject;  // sub / NameID
  Json claims = Json::object();  // raw claims (OIDC) or attributes (SAML, first values)
};

class Federation {
 public:
  Federation(HttpClient& http, const Clock& clock) : http_(http), clock_(clock) {}

  // OIDC: where to send the browser.
  Result<std::string> OidcAuthorizeUrl(const Json& provider, const std::string& redirect_uri,
                                       const std::string& state, const std::string& nonce);
  // OIDC: the code from /oauth2/idpresponse → the verified identity.
  Result<ExternalIdentity> OidcExchange(const Json& provider, const std::string& code,
                                        const std::string& redirect_uri, const std::string& nonce);

  // SAML: the IdP URL carrying a deflated, encoded AuthnRequest.
  Result<std::string> SamlRedirectUrl(const Json& provider, const std::string& acs_url,
                                      const std::string& sp_entity_id, const std::string& relay_state);
  // SAML: a base64 SAMLResponse → the verified identity.
  Result<ExternalIdentity> SamlConsume(const Json& provider, const std::string& saml_response,
                                       const std::string& sp_entity_id);

 private:
  Result<Json> Discovery(const Json& provider);
  Result<std::string> Metadata(const Json& provider);
  HttpClient& http_;
  const Clock& clock_;
};

// SAML response checks, exposed for tests: verifies the XML signature with the IdP metadata's
// signing certificate and returns the NameID and attributes.
Result<ExternalIdentity> VerifySamlResponse(const std::string& xml, const std::string& metadata_xml,
                                            const std::string& audience, int64_t now_seconds);

}  // namespace stratus::services::cognito
