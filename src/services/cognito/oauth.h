#pragma once
// The cognito data plane: traffic that is not a cognito-idp API call.
//
//   /<poolId>/.well-known/openid-configuration   OIDC discovery of the pool's issuer
//   /<poolId>/.well-known/jwks.json              the pool's public signing keys
//   /_stratus/cognito/outbox[?userPoolId=&username=&destination=]
//                                                GET: codes and messages "delivered" (JSON);
//                                                DELETE ?userPoolId=: clears a pool's outbox
//   a pool domain's OAuth2 endpoints and hosted UI, reached either by Host
//   ("<domain>.auth.<region>.amazoncognito.com", "<domain>.auth.localhost:4566") at the root, or
//   path-style on any host under /_cognito/<domain>/:
//       /oauth2/authorize  /oauth2/token  /oauth2/userInfo  /oauth2/revoke  /logout  /login
//       /signup  /confirm  /oauth2/idpresponse  /saml2/idpresponse
//
// Requests arrive on io threads; every handler runs on the worker pool. Thread-safe.
#include <memory>

#include "aws/framework/service.h"
#include "core/http.h"

namespace stratus::services::cognito {

class Engine;

class OAuthPlane {
 public:
  virtual ~OAuthPlane() = default;
  virtual bool Matches(const HttpRequest& request) const = 0;
  virtual void Handle(HttpRequest request, Responder responder) = 0;
};

std::unique_ptr<OAuthPlane> MakeOAuthPlane(aws::ServiceContext& context, Engine& engine);

}  // namespace stratus::services::cognito
