#pragma once
// Amazon Cognito user pools (cognito-idp, json 1.1): pools, clients, users, groups, auth flows
// (passwords, SRP, refresh, custom auth, MFA), tokens, and — as a data plane — the per-pool
// OIDC issuer (<external URL>/<poolId>/.well-known/{openid-configuration,jwks.json}), the OAuth2
// endpoints and hosted UI of pool domains, and the outbox at /_stratus/cognito/outbox where
// codes are "delivered". See docs/cognito.md.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::cognito {

std::unique_ptr<aws::Service> MakeCognitoService(aws::ServiceContext& context);

}  // namespace stratus::services::cognito
